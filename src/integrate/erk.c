/* -integrator erk: adaptive explicit Runge–Kutta through SUNDIALS ARKODE (ARKStep with an explicit
   Butcher table only, -erk_table), with -rtol/-atol. Like CVODE it runs step by step (ARK_ONE_STEP):
   after each step the derivative of ARKODE's cubic Hermite interpolant at the step's end (= f(x_n),
   which the FSAL tables have anyway) is tested against -converge_tol and confirmed by a true RHS
   evaluation. A resumed solve re-initialises ARKODE at t (a fresh step-size history). No Jacobian:
   for stiff problems (E/I with a large -stiffness) the step is bound by stability, use bdf there. */
#include "integrateimpl.h"
#include <arkode/arkode_arkstep.h>
#include <stdlib.h>

/* ARKODE return flags become PETSc errors that name the failure (flags > 0 pass). */
#define RmCallARK(call) \
  do { \
    int rm_flag_ = (call); \
    if (PetscUnlikely(rm_flag_ < 0)) { \
      char rm_name_[64]; \
      PetscCall(ARKFlagName(rm_flag_, rm_name_, sizeof(rm_name_))); \
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "ARKODE call %s failed: %s (%d)", #call, rm_name_, rm_flag_); \
    } \
  } while (0)

static const char *const ErkTableNames[] = {"heun-euler", "bogacki-shampine", "fehlberg", "cash-karp", "dormand-prince", "verner", NULL};
static const char *const ErkTableOrders[] = {"2(1)", "3(2)", "5(4)", "5(4)", "5(4)", "6(5)"};
static const ARKODE_ERKTableID ErkTableIds[] = {ARKODE_HEUN_EULER_2_1_2, ARKODE_BOGACKI_SHAMPINE_4_2_3, ARKODE_FEHLBERG_6_4_5,
                                                ARKODE_CASH_KARP_6_4_5,  ARKODE_DORMAND_PRINCE_7_4_5,   ARKODE_VERNER_8_5_6};

typedef struct {
  PetscInt        table; /* index into ErkTableNames */
  RmModel         model; /* for the RHS callback */
  SUNContext      sunctx;
  void           *ark;
  N_Vector        y_nv, f_nv;
  RmCallbackError cb;                 /* a PETSc error raised inside the RHS callback */
  char            ark_message[512];   /* ARKODE's own diagnostic */
} RmIntegrator_ERK;

/* ARKStepGetReturnFlagName returns malloc'ed memory: copy and free it. */
static PetscErrorCode ARKFlagName(int flag, char *name, size_t len)
{
  char *s;

  PetscFunctionBeginUser;
  s = ARKStepGetReturnFlagName((long)flag);
  PetscCall(PetscStrncpy(name, s ? s : "UNKNOWN", len));
  free(s);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetFromOptionsERK(PetscOptionItems *PetscOptionsObject, RmIntegrator integ)
{
  RmIntegrator_ERK *erk = (RmIntegrator_ERK *)integ->data;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsEList("-erk_table",
                              "Butcher table of -integrator erk, order(embedded order): heun-euler 2(1), bogacki-shampine 3(2), fehlberg 5(4), cash-karp "
                              "5(4), dormand-prince 5(4), verner 6(5)",
                              "RmIntegratorSetFromOptions", ErkTableNames, (PetscInt)(sizeof(ErkTableIds) / sizeof(ErkTableIds[0])), ErkTableNames[erk->table],
                              &erk->table, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int RHSCallback(realtype t, N_Vector y, N_Vector ydot, void *ctx)
{
  RmIntegrator_ERK *erk = (RmIntegrator_ERK *)ctx;
  return RmIntegratorCallbackStore_Private(&erk->cb, RmModelRHS(erk->model, RmNVectorGetVec_Private(y), RmNVectorGetVec_Private(ydot)), "RHS evaluation", t);
}

static void ErrHandlerCallback(int code, const char *module, const char *function, char *msg, void *ctx)
{
  RmIntegrator_ERK *erk = (RmIntegrator_ERK *)ctx;
  if (code < 0) snprintf(erk->ark_message, sizeof(erk->ark_message), "%s: %s", function, msg);
}

static PetscErrorCode SetUpERK(RmIntegrator integ)
{
  RmIntegrator_ERK *erk = (RmIntegrator_ERK *)integ->data;

  PetscFunctionBeginUser;
  erk->model = integ->model;
  PetscCheck(!SUNContext_Create((void *)&integ->comm, &erk->sunctx), integ->comm, PETSC_ERR_LIB, "SUNContext_Create failed");
  /* -integrator_nvector, -integrator_fused_ops; every vector operation in the event RmIntegVec (nvlog.c, nvector.c) */
  PetscCall(RmIntegratorNVectorCreate_Private(integ, integ->y, erk->sunctx, &erk->y_nv));
  PetscCall(RmIntegratorNVectorCreate_Private(integ, integ->f, erk->sunctx, &erk->f_nv));
  erk->ark = ARKStepCreate(RHSCallback, NULL, 0.0, erk->y_nv, erk->sunctx);
  RmNVectorFlush_Private(); /* the native vector's deferred operations, before we read integ->y, integ->f */
  PetscCheck(erk->ark, integ->comm, PETSC_ERR_MEM, "ARKStepCreate failed");
  RmCallARK(ARKStepSetErrHandlerFn(erk->ark, ErrHandlerCallback, erk));
  RmCallARK(ARKStepSetUserData(erk->ark, erk));
  RmCallARK(ARKStepSetTableNum(erk->ark, ARKODE_DIRK_NONE, ErkTableIds[erk->table]));
  RmCallARK(ARKStepSStolerances(erk->ark, integ->rtol, integ->atol));
  RmCallARK(ARKStepSetMaxNumSteps(erk->ark, integ->max_steps));
  /* cubic Hermite: its derivative at the step's end is f(x_n), and it needs no extra RHS evaluation */
  RmCallARK(ARKStepSetInterpolantDegree(erk->ark, 3));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ARKFailure(RmIntegrator integ, int flag, PetscReal t)
{
  RmIntegrator_ERK *erk = (RmIntegrator_ERK *)integ->data;
  char              name[64];

  PetscFunctionBeginUser;
  PetscCall(RmIntegratorCallbackRaise_Private(integ, &erk->cb, t)); /* a PETSc error from inside the RHS */
  PetscCall(ARKFlagName(flag, name, sizeof(name)));
  SETERRQ(integ->comm, PETSC_ERR_LIB, "ARKODE (erk, %s) failed at t = %g: %s (%d)%s%s", ErkTableNames[erk->table], (double)t, name, flag,
          erk->ark_message[0] ? ": " : "", erk->ark_message);
}

/* ARKODE's counts; st->rhs_evals gets them added to our convergence checks. */
static PetscErrorCode GatherARKStats(RmIntegrator integ, RmIntegratorStats *st)
{
  RmIntegrator_ERK *erk = (RmIntegrator_ERK *)integ->data;
  long              nst = 0, nfe = 0, nfi = 0, netf = 0;

  PetscFunctionBeginUser;
  RmCallARK(ARKStepGetNumSteps(erk->ark, &nst));
  RmCallARK(ARKStepGetNumRhsEvals(erk->ark, &nfe, &nfi));
  RmCallARK(ARKStepGetNumErrTestFails(erk->ark, &netf));
  st->steps          = nst;
  st->rhs_evals     += nfe + nfi;
  st->err_test_fails = netf;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One ARK_ONE_STEP call; the RHS's errors are recorded while it runs and raised after it. */
static PetscErrorCode ARKStep1(RmIntegrator integ, realtype *t, int *flag)
{
  RmIntegrator_ERK *erk = (RmIntegrator_ERK *)integ->data;

  PetscFunctionBeginUser;
  PetscCall(RmIntegratorCallbackBegin_Private(&erk->cb));
  *flag = ARKStepEvolve(erk->ark, integ->t_final, erk->y_nv, t, ARK_ONE_STEP);
  RmNVectorFlush_Private(); /* the native vector's deferred operations, before we read integ->y, integ->f */
  PetscCall(RmIntegratorCallbackEnd_Private(&erk->cb));
  if (*flag < 0 || erk->cb.code) PetscCall(ARKFailure(integ, *flag, *t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SolveERK(RmIntegrator integ, PetscReal t0, PetscInt64 step0, RmIntegratorStats *st)
{
  RmIntegrator_ERK *erk = (RmIntegrator_ERK *)integ->data;
  realtype          t   = t0; /* t0, step0: where an interrupted solve stopped (0, 0 for a new one) */
  long              nst;
  PetscBool         stop, converged;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&erk->cb, sizeof(erk->cb)));
  erk->ark_message[0] = 0;
  RmCallARK(ARKStepReInit(erk->ark, RHSCallback, NULL, t0, erk->y_nv)); /* also zeroes ARKODE's counts */
  RmNVectorFlush_Private(); /* the native vector's deferred operations, before we read integ->y, integ->f */
  RmCallARK(ARKStepSetStopTime(erk->ark, integ->t_final));
  for (;;) {
    int flag = 0;
    PetscCall(ARKStep1(integ, &t, &flag));
    RmCallARK(ARKStepGetNumSteps(erk->ark, &nst));
    RmCallARK(ARKStepGetDky(erk->ark, t, 1, erk->f_nv));
    RmNVectorFlush_Private(); /* the native vector's deferred operations, before we read integ->y, integ->f */
    PetscCall(RmIntegratorTestConvergence_Private(integ, integ->f, st, &converged));
    if (converged) {
      st->converged = PETSC_TRUE;
      break;
    }
    if (flag == ARK_TSTOP_RETURN || t >= integ->t_final) {
      PetscCall(RmIntegratorFinalResidual_Private(integ, st));
      break;
    }
    PetscCall(RmIntegratorCheckStepBudget_Private(integ, step0 + nst, t));
    PetscCall(RmIntegratorStepBoundary_Private(integ, t, step0 + nst, integ->y, PETSC_FALSE, &stop));
    if (stop) {
      st->stopped = PETSC_TRUE;
      break;
    }
  }
  st->t_end = t;
  PetscCall(GatherARKStats(integ, st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ViewERK(RmIntegrator integ, PetscViewer viewer)
{
  RmIntegrator_ERK *erk = (RmIntegrator_ERK *)integ->data;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, ", table %s %s", ErkTableNames[erk->table], ErkTableOrders[erk->table]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DestroyERK(RmIntegrator integ)
{
  RmIntegrator_ERK *erk = (RmIntegrator_ERK *)integ->data;

  PetscFunctionBeginUser;
  if (erk->ark) ARKStepFree(&erk->ark);
  if (erk->y_nv) N_VDestroy(erk->y_nv);
  if (erk->f_nv) N_VDestroy(erk->f_nv);
  if (erk->sunctx) SUNContext_Free(&erk->sunctx);
  PetscCall(PetscFree(integ->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ARKStep's stages (at most 7 for the tables offered) and about 9 work vectors. */
static PetscErrorCode StateVectorsERK(RmIntegrator integ, PetscInt *count)
{
  PetscFunctionBeginUser;
  (void)integ;
  *count = 16;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmIntegratorCreate_ERK(RmIntegrator integ)
{
  RmIntegrator_ERK *erk;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&erk));
  erk->table                = 4; /* dormand-prince 5(4) */
  integ->data               = erk;
  integ->ops.setfromoptions = SetFromOptionsERK;
  integ->ops.setup          = SetUpERK;
  integ->ops.solve          = SolveERK;
  integ->ops.getprogress    = GatherARKStats;
  integ->ops.statevectors   = StateVectorsERK;
  integ->ops.view           = ViewERK;
  integ->ops.destroy        = DestroyERK;
  PetscFunctionReturn(PETSC_SUCCESS);
}
