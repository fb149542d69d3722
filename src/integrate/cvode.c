/* -integrator bdf and adams: CVODE (SUNDIALS), BDF with Newton-Krylov (SPGMR, analytic J·v, Jacobi
   preconditioner) or Adams with fixed-point iteration. CVODE runs step by step (CV_ONE_STEP) so that
   convergence, ‖τ⊙f(x)‖∞ < tol, is tested after every step: first on CVODE's interpolated derivative
   (free), then confirmed with one true RHS evaluation. */
#include "integrateimpl.h"
#include <cvode/cvode.h>
#include <sunlinsol/sunlinsol_spgmr.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>
#include <ratemem/woodbury.h>

typedef struct {
  int                lmm; /* CV_BDF or CV_ADAMS */
  PetscInt           krylov_dim, max_order;
  PetscBool          stab_lim_det;
  PetscInt           pc;                                   /* 0 none, 1 jacobi, 2 woodbury */
  PetscInt           ls_type;                              /* -cvode_ls: 0 auto, 1 spgmr, 2 woodbury (BDF) */
  PetscBool          woodbury;                             /* the linear solver in use is the low-rank Newton solver */
  PetscInt           wb_msbj;                              /* -cvode_jac_eval_frequency (0: CVODE's) */
  RmWoodbury         wbpc;                                 /* -cvode_pc woodbury, or the one of -cvode_ls woodbury */
  PetscReal          init_step, nonlin_conv_coef, eps_lin; /* -cvode_init_step, -cvode_nonlin_conv_coef, -cvode_eps_lin (0: CVODE's choice) */
  PetscReal          tail_rtol, tail_atol, tail_switch;    /* -cvode_tail_*: tolerances once the residual is below tail_switch (0: off) */
  PetscInt           tail_stall_steps;                     /* -cvode_tail_stall_steps: tighten 10x after this many steps without halving */
  PetscReal          cur_rtol, cur_atol;                   /* the tolerances of the error weights now (EwtCallback) */
  Vec                pinv;                                 /* 1/(1 − γ diag J) */
  RmModel            model;                                /* for the callbacks */
  SUNContext         sunctx;
  void              *cvode;
  SUNLinearSolver    ls;
  SUNNonlinearSolver nls;
  N_Vector           y_nv, f_nv;
  RmCallbackError    cb;                 /* a PETSc error raised inside a CVODE callback */
  char               cvode_message[512]; /* CVODE's own diagnostic */
  char               ewt_message[160];   /* why EwtCallback failed ("" if it did not) */
} RmIntegrator_CVODE;

/* The CVODE-only options (-cvode_*), inside RmIntegratorSetFromOptions' options block. */
static PetscErrorCode SetFromOptionsCVODE(PetscOptionItems *PetscOptionsObject, RmIntegrator integ)
{
  RmIntegrator_CVODE *cv        = (RmIntegrator_CVODE *)integ->data;
  const PetscInt      max_order = cv->lmm == CV_ADAMS ? 12 : 5;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsInt("-cvode_krylov_dim", "Maximum Krylov subspace dimension of SPGMR (0: SUNDIALS default)", "RmIntegratorSetFromOptions",
                            cv->krylov_dim, &cv->krylov_dim, NULL));
  PetscCall(PetscOptionsInt("-cvode_max_order", "Maximum order of the BDF (<= 5) or Adams (<= 12) method (0: CVODE default)", "RmIntegratorSetFromOptions",
                            cv->max_order, &cv->max_order, NULL));
  PetscCall(PetscOptionsBool("-cvode_stab_lim_det", "CVODE BDF stability-limit detection (CVodeSetStabLimDet)", "RmIntegratorSetFromOptions", cv->stab_lim_det,
                             &cv->stab_lim_det, NULL));
  PetscCall(PetscOptionsReal("-cvode_init_step", "First step of CVODE (CVodeSetInitStep; 0: CVODE's estimate)", "RmIntegratorSetFromOptions", cv->init_step,
                             &cv->init_step, NULL));
  PetscCall(PetscOptionsReal("-cvode_nonlin_conv_coef", "Newton convergence test coefficient (CVodeSetNonlinConvCoef; 0: CVODE default 0.1)",
                             "RmIntegratorSetFromOptions", cv->nonlin_conv_coef, &cv->nonlin_conv_coef, NULL));
  PetscCall(PetscOptionsReal("-cvode_eps_lin", "Krylov tolerance factor of the Newton solve (CVodeSetEpsLin; 0: CVODE default 0.05)",
                             "RmIntegratorSetFromOptions", cv->eps_lin, &cv->eps_lin, NULL));
  /* A loose tolerance only has to keep the transient on its way to the attractor; near the
     equilibrium it stalls (the Newton corrections stop at the tolerance, not at the residual),
     so the tail is integrated at the tail tolerance (docs/stiff.md, "Tail tolerance"). */
  PetscCall(PetscOptionsReal("-cvode_tail_rtol", "CVODE relative tolerance once ||f||_inf < -cvode_tail_switch (0: keep -rtol)", "RmIntegratorSetFromOptions",
                             cv->tail_rtol, &cv->tail_rtol, NULL));
  PetscCall(PetscOptionsReal("-cvode_tail_atol", "CVODE absolute tolerance once ||f||_inf < -cvode_tail_switch (0: keep -atol)", "RmIntegratorSetFromOptions",
                             cv->tail_atol, &cv->tail_atol, NULL));
  PetscCall(PetscOptionsReal("-cvode_tail_switch", "Residual ||f||_inf below which the tail tolerances apply", "RmIntegratorSetFromOptions", cv->tail_switch,
                             &cv->tail_switch, NULL));
  PetscCall(PetscOptionsInt("-cvode_tail_stall_steps", "In the tail, divide the tolerances by 10 after this many steps without halving ||f||_inf (0: never)",
                            "RmIntegratorSetFromOptions", cv->tail_stall_steps, &cv->tail_stall_steps, NULL));
  PetscCheck(cv->tail_stall_steps >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "-cvode_tail_stall_steps must be >= 0, got %" PetscInt_FMT,
             cv->tail_stall_steps);
  PetscCall(RmCheckFinite(integ->comm, "cvode_tail_rtol", cv->tail_rtol));
  PetscCall(RmCheckFinite(integ->comm, "cvode_tail_atol", cv->tail_atol));
  PetscCall(RmCheckFinite(integ->comm, "cvode_tail_switch", cv->tail_switch));
  PetscCheck(cv->tail_rtol >= 0 && cv->tail_atol >= 0 && cv->tail_switch > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-cvode_tail_rtol and -cvode_tail_atol must be >= 0 and -cvode_tail_switch > 0, got %g, %g and %g", (double)cv->tail_rtol, (double)cv->tail_atol,
             (double)cv->tail_switch);
  PetscCall(RmCheckFinite(integ->comm, "cvode_init_step", cv->init_step));
  PetscCall(RmCheckFinite(integ->comm, "cvode_nonlin_conv_coef", cv->nonlin_conv_coef));
  PetscCall(RmCheckFinite(integ->comm, "cvode_eps_lin", cv->eps_lin));
  PetscCall(RmOptionsCheckIntRange(integ->comm, "-cvode_krylov_dim", 0, PETSC_MAX_INT));
  PetscCheck(cv->init_step >= 0 && cv->nonlin_conv_coef >= 0 && cv->eps_lin >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-cvode_init_step, -cvode_nonlin_conv_coef and -cvode_eps_lin must be >= 0, got %g, %g and %g", (double)cv->init_step, (double)cv->nonlin_conv_coef,
             (double)cv->eps_lin);
  {
    const char *const pcs[] = {"none", "jacobi", "woodbury", "RmPC", "RM_PC_", NULL};
    const char *const lss[] = {"auto", "spgmr", "woodbury", "RmLS", "RM_LS_", NULL};
    PetscCall(PetscOptionsEList("-cvode_pc",
                                "Preconditioner of the Newton-Krylov solve (BDF, -cvode_ls spgmr): none, jacobi (diagonal of I - gamma J) or woodbury (the exact "
                                "low-rank inverse at the last set-up; -storage lowrank)",
                                "RmIntegratorSetFromOptions", pcs, 3, pcs[cv->pc], &cv->pc, NULL));
    PetscCall(PetscOptionsEList("-cvode_ls",
                                "Newton linear solver (BDF): spgmr (matrix-free Krylov), woodbury (exact low-rank solve, -storage lowrank, also -network ei) or "
                                "auto (woodbury for one population on lowrank weights, else spgmr)",
                                "RmIntegratorSetFromOptions", lss, 3, lss[cv->ls_type], &cv->ls_type, NULL));
    PetscCall(PetscOptionsInt("-cvode_jac_eval_frequency",
                              "Steps after which a Newton set-up re-evaluates the linearisation (D = phi') rather than keep it (CVodeSetJacEvalFrequency; 0: CVODE's 51)",
                              "RmIntegratorSetFromOptions", cv->wb_msbj, &cv->wb_msbj, NULL));
    PetscCheck(cv->wb_msbj >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "-cvode_jac_eval_frequency must be >= 0, got %" PetscInt_FMT, cv->wb_msbj);
  }
  PetscCheck(cv->krylov_dim >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "cvode_krylov_dim must be >= 0");
  PetscCheck(cv->max_order >= 0 && cv->max_order <= max_order, integ->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "cvode_max_order must be in [0, %" PetscInt_FMT "] for %s, got %" PetscInt_FMT, max_order, integ->type_name, cv->max_order);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- CVODE callbacks
   They never return a PETSc code to CVODE: the code is kept and CVODE is told to stop (-1). */
/* CVODE's scalar-tolerance error weights, w = 1/(rtol |y| + atol), computed as cvEwtSetSS does,
   from tolerances that may change between steps (the tail tolerance). Not CVodeSStolerances:
   called after the first step it leaves CVODE's weight function without its data (SUNDIALS 6.4
   sets e_data only in the set-up of the first step) and the next step crashes. */
/* CVODE's Nordsieck history (order + 1), about 10 work and error-weight vectors, and the linear solver:
   SPGMR's Krylov basis (dimension + 2) or the Woodbury solver's 2; -cvode_ls auto may still pick
   SPGMR at set-up, so it counts as SPGMR. */
static PetscErrorCode StateVectorsCVODE(RmIntegrator integ, PetscInt *count)
{
  RmIntegrator_CVODE *cv    = (RmIntegrator_CVODE *)integ->data;
  const PetscInt      order = cv->max_order ? cv->max_order : (cv->lmm == CV_ADAMS ? 12 : 5);

  PetscFunctionBeginUser;
  *count = order + 1 + 10;
  if (cv->lmm == CV_BDF) *count += cv->ls_type == 2 ? 2 : (cv->krylov_dim > 0 ? cv->krylov_dim : 5) + 2;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The rank P+1 of the factored weights the Woodbury solver would invert. */
#define RM_WOODBURY_AUTO_MAX_RANK 64
static PetscErrorCode WoodburyRank(RmModel model, PetscInt *rank)
{
  Mat       W;
  RmFactors fac = NULL;
  PetscInt  P   = 0;

  PetscFunctionBeginUser;
  PetscCall(RmModelGetJacobianFactors(model, &W, NULL));
  if (W) PetscCall(RmSynapsesMatGetFactors(W, &fac, NULL));
  if (fac) PetscCall(RmFactorsGetSizes(fac, NULL, &P));
  *rank = P + 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int EwtCallback(N_Vector y, N_Vector ewt, void *ctx)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)ctx;
  const PetscScalar  *ya;
  PetscScalar        *wa;
  PetscInt            nloc;
  PetscReal           wmin = PETSC_MAX_REAL, gmin;

  /* One pass, rounding for rounding the N_VAbs, N_VScale, N_VAddConst, N_VMin, N_VInv sequence of
     cvEwtSetSS (5 passes and a copy over the state otherwise; the weights are written before the
     minimum is known, and CVODE stops at the error if it is not positive); logged as the
     integrator's vector work. */
  RmNVLogBegin_Private();
  VecGetLocalSize(RmNVectorGetVec_Private(y), &nloc);
  VecGetArrayRead(RmNVectorGetVec_Private(y), &ya);
  VecGetArrayWrite(RmNVectorGetVec_Private(ewt), &wa);
  { /* one loop, 8 partial minima (vectorised); 1/w only where w > 0 (-fp_trap), the error below otherwise */
    PetscReal      m8[8] = {wmin, wmin, wmin, wmin, wmin, wmin, wmin, wmin};
    const PetscInt n8    = nloc - nloc % 8;
    for (PetscInt b = 0; b < n8; b += 8)
      for (int l = 0; l < 8; l++) {
        PetscReal w = cv->cur_rtol * PetscAbsScalar(ya[b + l]);
        w           = w + cv->cur_atol;
        m8[l]       = w < m8[l] ? w : m8[l];
        wa[b + l]   = w > 0 ? 1.0 / w : 0.0;
      }
    for (PetscInt i = n8; i < nloc; i++) {
      PetscReal w = cv->cur_rtol * PetscAbsScalar(ya[i]);
      w           = w + cv->cur_atol;
      wmin        = PetscMin(wmin, w);
      wa[i]       = w > 0 ? 1.0 / w : 0.0;
    }
    for (int l = 0; l < 8; l++) wmin = PetscMin(wmin, m8[l]);
  }
  MPI_Allreduce(&wmin, &gmin, 1, MPIU_REAL, MPI_MIN, PetscObjectComm((PetscObject)RmNVectorGetVec_Private(y)));
  VecRestoreArrayWrite(RmNVectorGetVec_Private(ewt), &wa);
  VecRestoreArrayRead(RmNVectorGetVec_Private(y), &ya);
  RmNVLogEnd_Private(RM_NVOP_EWT, 2);
  if (gmin <= 0) {
    RmIntegratorCallbackStore_Private(&cv->cb,
                                      PetscSNPrintf(cv->ewt_message, sizeof(cv->ewt_message),
                                                    " (an error weight 1/(rtol |y_i| + atol) is infinite: atol %g with a zero state entry; use -atol > 0)",
                                                    (double)cv->cur_atol),
                                      "error weight set-up", NAN);
    return -1;
  }
  return 0;
}

static int RHSCallback(realtype t, N_Vector y, N_Vector ydot, void *ctx)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)ctx;
  return RmIntegratorCallbackStore_Private(&cv->cb, RmModelRHS(cv->model, RmNVectorGetVec_Private(y), RmNVectorGetVec_Private(ydot)), "RHS evaluation", t);
}

static int JacTimesSetupCallback(realtype t, N_Vector y, N_Vector fy, void *ctx)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)ctx;
  return RmIntegratorCallbackStore_Private(&cv->cb, RmModelJacobianSetUpWithRHS(cv->model, RmNVectorGetVec_Private(y), RmNVectorGetVec_Private(fy)),
                                           "Jacobian set-up", t);
}

static int JacTimesCallback(N_Vector v, N_Vector Jv, realtype t, N_Vector y, N_Vector fy, void *ctx, N_Vector tmp)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)ctx;
  return RmIntegratorCallbackStore_Private(&cv->cb, RmModelJacobianMult(cv->model, RmNVectorGetVec_Private(v), RmNVectorGetVec_Private(Jv)), "J·v product", t);
}

/* Jacobi preconditioner of M = I − γJ: diag(J) comes with the Jacobian data (RmModelJacobianDiagonal). */
static PetscErrorCode PCSetUp(RmIntegrator_CVODE *cv, N_Vector y, N_Vector fy, booleantype jok, booleantype *jcur, realtype gamma)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.pc_setup, 0, 0, 0, 0));
  if (!jok) PetscCall(RmModelJacobianSetUpWithRHS(cv->model, RmNVectorGetVec_Private(y), RmNVectorGetVec_Private(fy)));
  *jcur = jok ? SUNFALSE : SUNTRUE;
  if (cv->wbpc) { /* as SPGMR's preconditioner, D follows the J·v set-ups: always a full set-up */
    if (jok && cv->woodbury) PetscCall(RmWoodburySetGamma(cv->wbpc, gamma));
    else PetscCall(RmWoodburySetUp(cv->wbpc, gamma));
    PetscCall(PetscLogEventEnd(RM_EVENTS.pc_setup, 0, 0, 0, 0));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(RmModelJacobianDiagonal(cv->model, cv->pinv));
  PetscCall(VecScale(cv->pinv, -gamma));
  PetscCall(VecShift(cv->pinv, 1.0));
  PetscCall(VecReciprocal(cv->pinv));
  PetscCall(PetscLogEventEnd(RM_EVENTS.pc_setup, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int PrecSetupCallback(realtype t, N_Vector y, N_Vector fy, booleantype jok, booleantype *jcur, realtype gamma, void *ctx)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)ctx;
  return RmIntegratorCallbackStore_Private(&cv->cb, PCSetUp(cv, y, fy, jok, jcur, gamma), "preconditioner set-up", t);
}

static PetscErrorCode PCApply(RmIntegrator_CVODE *cv, N_Vector r, N_Vector z)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.prec, 0, 0, 0, 0));
  if (cv->wbpc) PetscCall(RmWoodburySolve(cv->wbpc, RmNVectorGetVec_Private(r), RmNVectorGetVec_Private(z)));
  else PetscCall(VecPointwiseMult(RmNVectorGetVec_Private(z), cv->pinv, RmNVectorGetVec_Private(r)));
  PetscCall(PetscLogEventEnd(RM_EVENTS.prec, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int PrecSolveCallback(realtype t, N_Vector y, N_Vector fy, N_Vector r, N_Vector z, realtype gamma, realtype delta, int lr, void *ctx)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)ctx;
  return RmIntegratorCallbackStore_Private(&cv->cb, PCApply(cv, r, z), "preconditioner application", t);
}

/* CVODE's own diagnostic goes into our error message instead of bare stderr. */
static void ErrHandlerCallback(int code, const char *module, const char *function, char *msg, void *ctx)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)ctx;
  if (code < 0) snprintf(cv->cvode_message, sizeof(cv->cvode_message), "%s: %s", function, msg);
}

static PetscErrorCode SetUpCVODE(RmIntegrator integ)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)integ->data;

  PetscFunctionBeginUser;
  cv->model = integ->model;
  PetscCheck(!SUNContext_Create((void *)&integ->comm, &cv->sunctx), integ->comm, PETSC_ERR_LIB, "SUNContext_Create failed");
  /* -integrator_nvector, -integrator_fused_ops; every vector operation in the event RmIntegVec (nvlog.c, nvector.c) */
  PetscCall(RmIntegratorNVectorCreate_Private(integ, integ->y, cv->sunctx, &cv->y_nv));
  PetscCall(RmIntegratorNVectorCreate_Private(integ, integ->f, cv->sunctx, &cv->f_nv));
  cv->cvode = CVodeCreate(cv->lmm, cv->sunctx);
  PetscCheck(cv->cvode, integ->comm, PETSC_ERR_MEM, "CVodeCreate failed");
  RmCallCVODE(CVodeSetErrHandlerFn(cv->cvode, ErrHandlerCallback, cv));
  RmCallCVODE(CVodeInit(cv->cvode, RHSCallback, 0.0, cv->y_nv));
  RmNVectorFlush_Private(); /* the native vector's deferred operations, before we read integ->y, integ->f */
  RmCallCVODE(CVodeSetUserData(cv->cvode, cv));
  cv->cur_rtol = integ->rtol;
  cv->cur_atol = integ->atol;
  RmCallCVODE(CVodeWFtolerances(cv->cvode, EwtCallback));
  RmCallCVODE(CVodeSetMaxNumSteps(cv->cvode, integ->max_steps));
  if (cv->max_order) RmCallCVODE(CVodeSetMaxOrd(cv->cvode, (int)cv->max_order));
  if (cv->init_step > 0) RmCallCVODE(CVodeSetInitStep(cv->cvode, cv->init_step));
  if (cv->nonlin_conv_coef > 0) RmCallCVODE(CVodeSetNonlinConvCoef(cv->cvode, cv->nonlin_conv_coef));
  if (cv->lmm == CV_BDF) {
    PetscInt N;
    PetscCall(VecGetSize(integ->y, &N)); /* a Krylov space larger than the system only costs memory (n vectors of n) */
    PetscCheck(cv->krylov_dim <= N, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "-cvode_krylov_dim %" PetscInt_FMT " exceeds the system size %" PetscInt_FMT, cv->krylov_dim, N);
    PetscBool   applicable;
    const char *why;
    PetscCall(RmWoodburyApplicable(integ->model, &applicable, &why));
    PetscCheck(cv->ls_type != 2 || applicable, integ->comm, PETSC_ERR_ARG_INCOMP, "-cvode_ls woodbury needs -storage lowrank and additive input, not %s", why);
    PetscCheck(cv->pc != 2 || applicable, integ->comm, PETSC_ERR_ARG_INCOMP, "-cvode_pc woodbury needs -storage lowrank and additive input, not %s", why);
    {
      RmJacobianForm form;
      PetscInt       rank = 0;
      PetscCall(RmModelGetJacobianForm(integ->model, &form)); /* auto: one population only for now (the E/I network keeps SPGMR unless asked) */
      if (applicable) PetscCall(WoodburyRank(integ->model, &rank));
      /* auto also needs a small rank: the set-up's Gram pass costs n (P+1)² and its factorisation (P+1)³, so
         at P = 100 (n = 2000) woodbury took 2x SPGMR's time and at P = 240 (Hebbian) 20x (docs/benchmark.md) */
      cv->woodbury = (PetscBool)(cv->ls_type == 2 || (cv->ls_type == 0 && applicable && form != RM_JACOBIAN_POOLS && cv->pc != 2 && rank <= RM_WOODBURY_AUTO_MAX_RANK));
    }
    if (cv->woodbury) {
      PetscCall(RmWoodburyLinSolCreate_Private(integ->model, cv->cvode, &cv->cb, cv->sunctx, &cv->ls, &cv->wbpc));
      RmCallCVODE(CVodeSetLinearSolver(cv->cvode, cv->ls, NULL));
      RmCallCVODE(CVodeSetPreconditioner(cv->cvode, PrecSetupCallback, NULL)); /* its set-up: D and C (PCSetUp) */
    } else {
      cv->ls = SUNLinSol_SPGMR(cv->y_nv, cv->pc ? SUN_PREC_LEFT : SUN_PREC_NONE, (int)cv->krylov_dim, cv->sunctx);
      PetscCheck(cv->ls, integ->comm, PETSC_ERR_MEM, "SUNLinSol_SPGMR failed");
      RmCallCVODE(CVodeSetLinearSolver(cv->cvode, cv->ls, NULL));
      RmCallCVODE(CVodeSetJacTimes(cv->cvode, JacTimesSetupCallback, JacTimesCallback));
      if (cv->pc == 2) PetscCall(RmWoodburyCreate(integ->model, &cv->wbpc));
      if (cv->pc) {
        PetscCall(VecDuplicate(integ->y, &cv->pinv));
        RmCallCVODE(CVodeSetPreconditioner(cv->cvode, PrecSetupCallback, PrecSolveCallback));
      }
    }
    if (cv->wb_msbj) RmCallCVODE(CVodeSetJacEvalFrequency(cv->cvode, (long)cv->wb_msbj));
    if (cv->stab_lim_det) RmCallCVODE(CVodeSetStabLimDet(cv->cvode, SUNTRUE));
    if (cv->eps_lin > 0) RmCallCVODE(CVodeSetEpsLin(cv->cvode, cv->eps_lin));
  } else {
    cv->nls = SUNNonlinSol_FixedPoint(cv->y_nv, 0, cv->sunctx);
    PetscCheck(cv->nls, integ->comm, PETSC_ERR_MEM, "SUNNonlinSol_FixedPoint failed");
    RmCallCVODE(CVodeSetNonlinearSolver(cv->cvode, cv->nls));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CVODEFailure(RmIntegrator integ, int flag, PetscReal t)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)integ->data;
  char                name[64];

  PetscFunctionBeginUser;
  PetscCall(RmIntegratorCallbackRaise_Private(integ, &cv->cb, t)); /* a PETSc error from inside a callback */
  PetscCall(RmCVODEFlagName_Private(flag, name, sizeof(name)));
  SETERRQ(integ->comm, PETSC_ERR_LIB, "CVODE (%s) failed at t = %g: %s (%d)%s%s%s", integ->type_name, (double)t, name, flag, cv->cvode_message[0] ? ": " : "",
          cv->cvode_message, cv->ewt_message);
}

/* CVODE's counts; st->rhs_evals gets them added to our convergence checks. */
static PetscErrorCode GatherCVODEStats(RmIntegrator integ, RmIntegratorStats *st)
{
  RmIntegrator_CVODE *cv  = (RmIntegrator_CVODE *)integ->data;
  long                nst = 0, nfe = 0, netf = 0, nni = 0, nncf = 0, nli = 0, nlcf = 0, njv = 0, nfeLS = 0, njts = 0, npe = 0, nps = 0;

  PetscFunctionBeginUser;
  RmCallCVODE(CVodeGetNumSteps(cv->cvode, &nst));
  RmCallCVODE(CVodeGetNumRhsEvals(cv->cvode, &nfe));
  RmCallCVODE(CVodeGetNumErrTestFails(cv->cvode, &netf));
  RmCallCVODE(CVodeGetNumNonlinSolvIters(cv->cvode, &nni));
  RmCallCVODE(CVodeGetNumNonlinSolvConvFails(cv->cvode, &nncf));
  if (cv->lmm == CV_BDF) {
    RmCallCVODE(CVodeGetNumLinIters(cv->cvode, &nli));
    RmCallCVODE(CVodeGetNumLinConvFails(cv->cvode, &nlcf));
    RmCallCVODE(CVodeGetNumJtimesEvals(cv->cvode, &njv));
    RmCallCVODE(CVodeGetNumLinRhsEvals(cv->cvode, &nfeLS));
    RmCallCVODE(CVodeGetNumJTSetupEvals(cv->cvode, &njts));
    RmCallCVODE(CVodeGetNumPrecEvals(cv->cvode, &npe));
    RmCallCVODE(CVodeGetNumPrecSolves(cv->cvode, &nps));
  }
  st->prec_setups       = npe;
  st->prec_solves       = nps;
  st->steps             = nst;
  st->rhs_evals += nfe + nfeLS; /* plus our convergence checks, counted in Solve */
  st->err_test_fails    = netf;
  st->nonlin_iters      = nni;
  st->nonlin_conv_fails = nncf;
  st->lin_iters         = nli;
  st->lin_conv_fails    = nlcf;
  st->jtimes_evals      = njv;
  st->jac_setups        = njts;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The tail tolerance (docs/stiff.md "Tail tolerance"). Once the residual is below tail_switch the
   error weights use the tail tolerances. A tolerance that is still too loose for the stopping rule
   shows as a residual that stops falling (the Newton corrections end at the tolerance): after
   tail_stall_steps steps without halving it, both tolerances are divided by 10, at most twice: a
   residual that still does not fall is a slow equilibrium (seen: a cue drifting to a spurious state
   at tau_E = tau_I, gain 2), not a tolerance stall, and tightening further only ends in
   CV_TOO_MUCH_ACC. */
#define RM_TAIL_MAX_TIGHTENINGS 2
typedef struct {
  PetscBool on;
  PetscReal ref;       /* residual at the last halving or tightening */
  PetscInt  stalled;   /* steps since then */
  PetscInt  tightened; /* tightenings so far */
} RmTail;

static PetscErrorCode TailUpdate(RmIntegrator_CVODE *cv, RmTail *tail, PetscReal residual)
{
  PetscFunctionBeginUser;
  if (cv->tail_rtol <= 0 && cv->tail_atol <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  if (!tail->on) {
    if (!(residual < cv->tail_switch)) PetscFunctionReturn(PETSC_SUCCESS);
    if (cv->tail_rtol > 0) cv->cur_rtol = cv->tail_rtol;
    if (cv->tail_atol > 0) cv->cur_atol = cv->tail_atol;
    tail->on = PETSC_TRUE, tail->ref = residual, tail->stalled = 0;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (residual < 0.5 * tail->ref) {
    tail->ref = residual, tail->stalled = 0;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (cv->tail_stall_steps > 0 && tail->tightened < RM_TAIL_MAX_TIGHTENINGS && ++tail->stalled >= cv->tail_stall_steps) {
    cv->cur_rtol /= 10, cv->cur_atol /= 10;
    tail->ref = residual, tail->stalled = 0, tail->tightened++;
    PetscCall(PetscInfo(NULL, "tail stalled at residual %g: tolerances now rtol %g, atol %g\n", (double)residual, (double)cv->cur_rtol, (double)cv->cur_atol));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One CV_ONE_STEP call; the callbacks' errors are recorded while it runs and raised after it. */
static PetscErrorCode CVodeStep(RmIntegrator integ, realtype *t, int *flag)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)integ->data;

  PetscFunctionBeginUser;
  PetscCall(RmIntegratorCallbackBegin_Private(&cv->cb));
  *flag = CVode(cv->cvode, integ->t_final, cv->y_nv, t, CV_ONE_STEP);
  RmNVectorFlush_Private(); /* the native vector's deferred operations, before we read integ->y, integ->f */
  PetscCall(RmIntegratorCallbackEnd_Private(&cv->cb));
  if (*flag < 0 || cv->cb.code) PetscCall(CVODEFailure(integ, *flag, *t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SolveCVODE(RmIntegrator integ, PetscReal t0, PetscInt64 step0, RmIntegratorStats *st)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)integ->data;
  realtype            t  = t0; /* t0, step0: where an interrupted solve stopped (0, 0 for a new one) */
  long                nst;
  PetscBool           stop;
  RmTail              tail = {PETSC_FALSE, 0, 0, 0};

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&cv->cb, sizeof(cv->cb)));
  cv->cvode_message[0] = 0;
  cv->ewt_message[0]   = 0;
  RmCallCVODE(CVodeReInit(cv->cvode, t0, cv->y_nv));
  RmNVectorFlush_Private(); /* the native vector's deferred operations, before we read integ->y, integ->f */
  RmCallCVODE(CVodeSetStopTime(cv->cvode, integ->t_final));
  cv->cur_rtol = integ->rtol; /* the previous trial may have ended in its tail */
  cv->cur_atol = integ->atol;
  for (;;) {
    int flag = 0;
    PetscCall(CVodeStep(integ, &t, &flag));
    RmCallCVODE(CVodeGetNumSteps(cv->cvode, &nst));
    /* Cheap test on the interpolated derivative, confirmed by a true RHS evaluation. */
    RmCallCVODE(CVodeGetDky(cv->cvode, t, 1, cv->f_nv));
    RmNVectorFlush_Private(); /* the native vector's deferred operations, before we read integ->y, integ->f */
    PetscCall(RmModelFixedPointResidual(integ->model, integ->f, &st->residual));
    PetscCall(TailUpdate(cv, &tail, st->residual));
    if (st->residual < integ->converge_tol) {
      PetscCall(RmModelResidualNorm(integ->model, integ->y, &st->residual));
      st->rhs_evals++;
      if (st->residual < integ->converge_tol) {
        st->converged = PETSC_TRUE;
        break;
      }
    }
    if (flag == CV_TSTOP_RETURN || t >= integ->t_final) {
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
  PetscCall(GatherCVODEStats(integ, st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ViewCVODE(RmIntegrator integ, PetscViewer viewer)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)integ->data;

  PetscFunctionBeginUser;
  if (cv->lmm == CV_BDF && cv->woodbury) PetscCall(PetscViewerASCIIPrintf(viewer, ", linear solver woodbury%s", cv->ls_type == 0 ? " (auto)" : ""));
  else if (cv->lmm == CV_BDF) PetscCall(PetscViewerASCIIPrintf(viewer, ", preconditioner %s", cv->pc == 2 ? "woodbury" : cv->pc ? "jacobi" : "none"));
  if (cv->tail_rtol > 0 || cv->tail_atol > 0)
    PetscCall(PetscViewerASCIIPrintf(viewer, ", tail rtol %g atol %g below %g", (double)cv->tail_rtol, (double)cv->tail_atol, (double)cv->tail_switch));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DestroyCVODE(RmIntegrator integ)
{
  RmIntegrator_CVODE *cv = (RmIntegrator_CVODE *)integ->data;

  PetscFunctionBeginUser;
  if (cv->cvode) CVodeFree(&cv->cvode);
  if (cv->ls) SUNLinSolFree(cv->ls);
  if (cv->nls) SUNNonlinSolFree(cv->nls);
  if (cv->y_nv) N_VDestroy(cv->y_nv);
  if (cv->f_nv) N_VDestroy(cv->f_nv);
  if (cv->sunctx) SUNContext_Free(&cv->sunctx);
  PetscCall(VecDestroy(&cv->pinv));
  if (!cv->woodbury) PetscCall(RmWoodburyDestroy(&cv->wbpc)); /* else the linear solver's */
  PetscCall(PetscFree(integ->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CreateCVODE(RmIntegrator integ, int lmm)
{
  RmIntegrator_CVODE *cv;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&cv));
  cv->lmm                   = lmm;
  cv->tail_switch           = 1e-3;
  cv->tail_stall_steps      = 10;
  cv->pc                    = 1;
  integ->data               = cv;
  integ->ops.setfromoptions = SetFromOptionsCVODE;
  integ->ops.setup          = SetUpCVODE;
  integ->ops.solve          = SolveCVODE;
  integ->ops.getprogress    = GatherCVODEStats;
  integ->ops.statevectors   = StateVectorsCVODE;
  integ->ops.view           = ViewCVODE;
  integ->ops.destroy        = DestroyCVODE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmIntegratorCreate_BDF(RmIntegrator integ)
{
  PetscFunctionBeginUser;
  PetscCall(CreateCVODE(integ, CV_BDF));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmIntegratorCreate_Adams(RmIntegrator integ)
{
  PetscFunctionBeginUser;
  PetscCall(CreateCVODE(integ, CV_ADAMS));
  PetscFunctionReturn(PETSC_SUCCESS);
}
