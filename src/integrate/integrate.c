/* Integration to an equilibrium (model.md §3). CVODE runs step by step (CV_ONE_STEP) so that
   convergence, ‖f(x)‖∞ < tol, is tested after every step: first on CVODE's interpolated
   derivative (free), then confirmed with one true RHS evaluation. */
#include <cvode/cvode.h>
#include <nvector/nvector_petsc.h>
#include <ratemem/integrate.h>
#include <sunlinsol/sunlinsol_spgmr.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>

const char *const RmIntegratorTypes[] = {"bdf", "adams", "euler", "em", "RmIntegratorType", "RM_INTEGRATOR_", NULL};

struct _p_RmIntegrator {
  MPI_Comm              comm;
  PetscBool             setup_called;
  RmIntegratorType      type;
  RmModel               model;
  PetscReal             rtol, atol, t_final, converge_tol, euler_dt;
  PetscInt              max_steps, krylov_dim, monitor_every, max_order;
  PetscBool             stab_lim_det;
  PetscInt              pc; /* 0 none, 1 jacobi */
  PetscReal             init_step, nonlin_conv_coef, eps_lin; /* -cvode_init_step, -cvode_nonlin_conv_coef, -cvode_eps_lin (0: CVODE's choice) */
  PetscReal             tail_rtol, tail_atol, tail_switch;    /* -cvode_tail_*: tolerances once the residual is below tail_switch (0: off) */
  PetscInt              tail_stall_steps;                     /* -cvode_tail_stall_steps: tighten 10x after this many steps without halving */
  PetscReal             cur_rtol, cur_atol;                   /* the tolerances of the error weights now (EwtCallback) */
  Vec                   pinv; /* 1/(1 − γ diag J) */
  PetscBool             monitor;
  RmIntegratorMonitorFn monitor_fn;
  void                 *monitor_ctx;
  RmIntegratorMonitorFn step_fn;
  void                 *step_ctx;
  PetscReal             sigma;      /* noise of the em integrator */
  PetscInt64            noise_seed, noise_step; /* the increments' key: global step counter across solves */
  /* em: global unit numbering of the state (batch columns of [neurons | extra units such as E/I pools]),
     so that each unit's increment is keyed by its global index whatever the partition */
  PetscInt              em_batch, em_n, em_nloc, em_rstart, em_m, em_mloc, em_ustart;
  /* Checkpoint and restart (RmIntegratorSetStepHook, RmIntegratorSetResume) */
  RmIntegratorStepHookFn step_hook;
  void                  *step_hook_ctx;
  PetscBool              resume;      /* the next solve continues an interrupted one */
  PetscReal              t_start;     /* its start time */
  RmIntegratorStats      prior;       /* counts of the interrupted solve, added to the new ones */
  RmIntegratorStats     *current;     /* the running solve's own counts (NULL outside a solve) */
  PetscReal              t_now;       /* time of the last step boundary */
  double                 wall0;       /* wall clock at the start of the running solve */
  PetscInt64             products0;   /* weight products at the start of the running solve */
  /* CVODE state */
  SUNContext            sunctx;
  void                 *cvode;
  SUNLinearSolver       ls;
  SUNNonlinearSolver    nls;
  Vec                   y, f;
  N_Vector              y_nv, f_nv;
  PetscErrorCode        callback_error; /* a PETSc error raised inside a CVODE callback */
  char                  cvode_message[512];
  char                  ewt_message[160]; /* why EwtCallback failed ("" if it did not) */
};

PetscErrorCode RmIntegratorCreate(MPI_Comm comm, RmIntegrator *integ)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(integ));
  (*integ)->comm          = comm;
  (*integ)->type          = RM_INTEGRATOR_BDF;
  (*integ)->rtol          = 1e-6;
  (*integ)->atol          = 1e-8;
  (*integ)->t_final       = 100.0;
  (*integ)->converge_tol  = 1e-6;
  (*integ)->tail_switch   = 1e-3;
  (*integ)->tail_stall_steps = 10;
  (*integ)->euler_dt      = 0.01;
  (*integ)->max_steps     = 100000;
  (*integ)->krylov_dim    = 0; /* SUNDIALS default (5) */
  (*integ)->monitor_every = 1;
  (*integ)->pc            = 1;
  (*integ)->noise_seed    = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The CVODE-only options (-cvode_*), inside RmIntegratorSetFromOptions' options block. */
static PetscErrorCode CVODESetFromOptions(PetscOptionItems *PetscOptionsObject, RmIntegrator integ)
{
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsInt("-cvode_krylov_dim", "Maximum Krylov subspace dimension of SPGMR (0: SUNDIALS default)", "RmIntegratorSetFromOptions",
                            integ->krylov_dim, &integ->krylov_dim, NULL));
  PetscCall(PetscOptionsInt("-cvode_max_order", "Maximum order of the BDF (<= 5) or Adams (<= 12) method (0: CVODE default)", "RmIntegratorSetFromOptions",
                            integ->max_order, &integ->max_order, NULL));
  PetscCall(PetscOptionsBool("-cvode_stab_lim_det", "CVODE BDF stability-limit detection (CVodeSetStabLimDet)", "RmIntegratorSetFromOptions",
                             integ->stab_lim_det, &integ->stab_lim_det, NULL));
  PetscCall(PetscOptionsReal("-cvode_init_step", "First step of CVODE (CVodeSetInitStep; 0: CVODE's estimate)", "RmIntegratorSetFromOptions",
                             integ->init_step, &integ->init_step, NULL));
  PetscCall(PetscOptionsReal("-cvode_nonlin_conv_coef", "Newton convergence test coefficient (CVodeSetNonlinConvCoef; 0: CVODE default 0.1)",
                             "RmIntegratorSetFromOptions", integ->nonlin_conv_coef, &integ->nonlin_conv_coef, NULL));
  PetscCall(PetscOptionsReal("-cvode_eps_lin", "Krylov tolerance factor of the Newton solve (CVodeSetEpsLin; 0: CVODE default 0.05)",
                             "RmIntegratorSetFromOptions", integ->eps_lin, &integ->eps_lin, NULL));
  /* A loose tolerance only has to keep the transient on its way to the attractor; near the
     equilibrium it stalls (the Newton corrections stop at the tolerance, not at the residual),
     so the tail is integrated at the tail tolerance (docs/stiff.md, "Tail tolerance"). */
  PetscCall(PetscOptionsReal("-cvode_tail_rtol", "CVODE relative tolerance once ||f||_inf < -cvode_tail_switch (0: keep -rtol)", "RmIntegratorSetFromOptions",
                             integ->tail_rtol, &integ->tail_rtol, NULL));
  PetscCall(PetscOptionsReal("-cvode_tail_atol", "CVODE absolute tolerance once ||f||_inf < -cvode_tail_switch (0: keep -atol)", "RmIntegratorSetFromOptions",
                             integ->tail_atol, &integ->tail_atol, NULL));
  PetscCall(PetscOptionsReal("-cvode_tail_switch", "Residual ||f||_inf below which the tail tolerances apply", "RmIntegratorSetFromOptions",
                             integ->tail_switch, &integ->tail_switch, NULL));
  PetscCall(PetscOptionsInt("-cvode_tail_stall_steps", "In the tail, divide the tolerances by 10 after this many steps without halving ||f||_inf (0: never)",
                            "RmIntegratorSetFromOptions", integ->tail_stall_steps, &integ->tail_stall_steps, NULL));
  PetscCheck(integ->tail_stall_steps >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "-cvode_tail_stall_steps must be >= 0, got %" PetscInt_FMT,
             integ->tail_stall_steps);
  PetscCall(RmCheckFinite(integ->comm, "cvode_tail_rtol", integ->tail_rtol));
  PetscCall(RmCheckFinite(integ->comm, "cvode_tail_atol", integ->tail_atol));
  PetscCall(RmCheckFinite(integ->comm, "cvode_tail_switch", integ->tail_switch));
  PetscCheck(integ->tail_rtol >= 0 && integ->tail_atol >= 0 && integ->tail_switch > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-cvode_tail_rtol and -cvode_tail_atol must be >= 0 and -cvode_tail_switch > 0, got %g, %g and %g", (double)integ->tail_rtol,
             (double)integ->tail_atol, (double)integ->tail_switch);
  PetscCheck(integ->init_step >= 0 && integ->nonlin_conv_coef >= 0 && integ->eps_lin >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-cvode_init_step, -cvode_nonlin_conv_coef and -cvode_eps_lin must be >= 0, got %g, %g and %g", (double)integ->init_step,
             (double)integ->nonlin_conv_coef, (double)integ->eps_lin);
  {
    const char *const pcs[] = {"none", "jacobi", "RmPC", "RM_PC_", NULL};
    PetscCall(PetscOptionsEList("-cvode_pc", "Preconditioner of the Newton-Krylov solve (BDF): none or jacobi (diagonal of I - gamma J)",
                                "RmIntegratorSetFromOptions", pcs, 2, pcs[integ->pc], &integ->pc, NULL));
  }
  PetscCheck(integ->krylov_dim >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "cvode_krylov_dim must be >= 0");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetFromOptions(RmIntegrator integ)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(integ->comm, NULL, "Integration (model.md §3)", "RmIntegrator");
  PetscCall(PetscOptionsEnum("-integrator", "bdf (CVODE BDF, Newton-Krylov with analytic J·v), adams (CVODE Adams, fixed point), euler (explicit, fixed step), em (Euler–Maruyama with -noise)",
                             "RmIntegratorSetFromOptions", RmIntegratorTypes, (PetscEnum)integ->type, (PetscEnum *)&integ->type, NULL));
  PetscCall(PetscOptionsReal("-rtol", "CVODE relative tolerance", "RmIntegratorSetFromOptions", integ->rtol, &integ->rtol, NULL));
  PetscCall(PetscOptionsReal("-atol", "CVODE absolute tolerance", "RmIntegratorSetFromOptions", integ->atol, &integ->atol, NULL));
  PetscCall(PetscOptionsReal("-t_final", "Final time if the state has not converged before", "RmIntegratorSetFromOptions", integ->t_final,
                             &integ->t_final, NULL));
  PetscCall(PetscOptionsReal("-converge_tol", "Converged when the max-norm of dx/dt falls below this", "RmIntegratorSetFromOptions",
                             integ->converge_tol, &integ->converge_tol, NULL));
  PetscCall(PetscOptionsReal("-euler_dt", "Step of the explicit Euler baseline", "RmIntegratorSetFromOptions", integ->euler_dt, &integ->euler_dt, NULL));
  PetscCall(PetscOptionsReal("-noise", "sigma of the additive white noise dy = f dt + sigma dW (integrator em)", "RmIntegratorSetFromOptions", integ->sigma,
                             &integ->sigma, NULL));
  {
    PetscInt seed = (PetscInt)integ->noise_seed;
    PetscCall(PetscOptionsInt("-noise_seed", "Seed of the noise increments (integrator em)", "RmIntegratorSetFromOptions", seed, &seed, NULL));
    integ->noise_seed = seed;
  }
  PetscCall(PetscOptionsInt("-cvode_max_steps", "Maximum number of steps per trial (CVODE and Euler)", "RmIntegratorSetFromOptions", integ->max_steps,
                            &integ->max_steps, NULL));
  PetscCall(CVODESetFromOptions(PetscOptionsObject, integ));
  PetscCall(PetscOptionsBool("-monitor", "Print progress (time, steps, best overlap) to stderr", "RmIntegratorSetFromOptions", integ->monitor,
                             &integ->monitor, NULL));
  PetscCall(PetscOptionsInt("-monitor_every", "Print progress every this many steps", "RmIntegratorSetFromOptions", integ->monitor_every,
                            &integ->monitor_every, NULL));
  PetscOptionsEnd();
  PetscCall(RmCheckFinite(integ->comm, "rtol", integ->rtol));
  PetscCall(RmCheckFinite(integ->comm, "atol", integ->atol));
  PetscCall(RmCheckFinite(integ->comm, "t_final", integ->t_final));
  PetscCall(RmCheckFinite(integ->comm, "converge_tol", integ->converge_tol));
  PetscCall(RmCheckFinite(integ->comm, "euler_dt", integ->euler_dt));
  PetscCall(RmCheckFinite(integ->comm, "noise", integ->sigma));
  PetscCheck(integ->sigma >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "noise must be >= 0, got %g", (double)integ->sigma);
  PetscCheck(integ->sigma == 0 || integ->type == RM_INTEGRATOR_EM, integ->comm, PETSC_ERR_ARG_INCOMP,
             "-noise %g needs -integrator em (Euler–Maruyama); deterministic runs use bdf, adams or euler", (double)integ->sigma);
  PetscCheck(integ->rtol >= 0 && integ->atol >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "rtol and atol must be >= 0, got %g and %g",
             (double)integ->rtol, (double)integ->atol);
  PetscCheck(integ->t_final > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "t_final must be > 0, got %g", (double)integ->t_final);
  PetscCheck(integ->converge_tol > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "converge_tol must be > 0, got %g", (double)integ->converge_tol);
  PetscCheck(integ->euler_dt > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "euler_dt must be > 0, got %g", (double)integ->euler_dt);
  PetscCheck(integ->max_steps > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "cvode_max_steps must be > 0");
  PetscCheck(integ->monitor_every > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "monitor_every must be > 0");
  PetscCheck(integ->max_order >= 0 && integ->max_order <= (integ->type == RM_INTEGRATOR_ADAMS ? 12 : 5), integ->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "cvode_max_order must be in [0, %d] for %s, got %" PetscInt_FMT, integ->type == RM_INTEGRATOR_ADAMS ? 12 : 5, RmIntegratorTypes[integ->type],
             integ->max_order);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetModel(RmIntegrator integ, RmModel model)
{
  PetscFunctionBeginUser;
  integ->model = model;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetType(RmIntegrator integ, RmIntegratorType type)
{
  PetscFunctionBeginUser;
  PetscCheck(!integ->setup_called, integ->comm, PETSC_ERR_ORDER, "set the integrator type before RmIntegratorSetUp()");
  integ->type = type;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetMonitor(RmIntegrator integ, RmIntegratorMonitorFn fn, void *ctx)
{
  PetscFunctionBeginUser;
  integ->monitor_fn  = fn;
  integ->monitor_ctx = ctx;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- CVODE callbacks
   They never return a PETSc code to CVODE: the code is kept and CVODE is told to stop (-1). */
/* CVODE's scalar-tolerance error weights, w = 1/(rtol |y| + atol), computed as cvEwtSetSS does,
   from tolerances that may change between steps (the tail tolerance). Not CVodeSStolerances:
   called after the first step it leaves CVODE's weight function without its data (SUNDIALS 6.4
   sets e_data only in the set-up of the first step) and the next step crashes. */
static int EwtCallback(N_Vector y, N_Vector ewt, void *ctx)
{
  RmIntegrator integ = (RmIntegrator)ctx;

  N_VAbs(y, ewt);
  N_VScale(integ->cur_rtol, ewt, ewt);
  N_VAddConst(ewt, integ->cur_atol, ewt);
  if (N_VMin(ewt) <= 0) {
    PetscCallAbort(PETSC_COMM_SELF, PetscSNPrintf(integ->ewt_message, sizeof(integ->ewt_message),
                                                  " (an error weight 1/(rtol |y_i| + atol) is infinite: atol %g with a zero state entry; use -atol > 0)",
                                                  (double)integ->cur_atol));
    return -1;
  }
  N_VInv(ewt, ewt);
  return 0;
}

static int RHSCallback(realtype t, N_Vector y, N_Vector ydot, void *ctx)
{
  RmIntegrator integ = (RmIntegrator)ctx;
  integ->callback_error = RmModelRHS(integ->model, N_VGetVector_Petsc(y), N_VGetVector_Petsc(ydot));
  return integ->callback_error ? -1 : 0;
}

static int JacTimesSetupCallback(realtype t, N_Vector y, N_Vector fy, void *ctx)
{
  RmIntegrator integ = (RmIntegrator)ctx;
  integ->callback_error = RmModelJacobianSetUpWithRHS(integ->model, N_VGetVector_Petsc(y), N_VGetVector_Petsc(fy));
  return integ->callback_error ? -1 : 0;
}

static int JacTimesCallback(N_Vector v, N_Vector Jv, realtype t, N_Vector y, N_Vector fy, void *ctx, N_Vector tmp)
{
  RmIntegrator integ = (RmIntegrator)ctx;
  integ->callback_error = RmModelJacobianMult(integ->model, N_VGetVector_Petsc(v), N_VGetVector_Petsc(Jv));
  return integ->callback_error ? -1 : 0;
}

/* Jacobi preconditioner of M = I − γJ: diag(J) comes with the Jacobian data (RmModelJacobianDiagonal). */
static int PrecSetupCallback(realtype t, N_Vector y, N_Vector fy, booleantype jok, booleantype *jcur, realtype gamma, void *ctx)
{
  RmIntegrator   integ = (RmIntegrator)ctx;
  PetscErrorCode ierr  = 0;

  if (PetscLogEventBegin(RM_EVENTS.prec, 0, 0, 0, 0)) return -1;
  if (!jok) ierr = RmModelJacobianSetUpWithRHS(integ->model, N_VGetVector_Petsc(y), N_VGetVector_Petsc(fy));
  *jcur = jok ? SUNFALSE : SUNTRUE;
  if (!ierr) ierr = RmModelJacobianDiagonal(integ->model, integ->pinv);
  if (!ierr) ierr = VecScale(integ->pinv, -gamma);
  if (!ierr) ierr = VecShift(integ->pinv, 1.0);
  if (!ierr) ierr = VecReciprocal(integ->pinv);
  if (!ierr) ierr = PetscLogEventEnd(RM_EVENTS.prec, 0, 0, 0, 0);
  integ->callback_error = ierr;
  return ierr ? -1 : 0;
}

static int PrecSolveCallback(realtype t, N_Vector y, N_Vector fy, N_Vector r, N_Vector z, realtype gamma, realtype delta, int lr, void *ctx)
{
  RmIntegrator integ = (RmIntegrator)ctx;
  integ->callback_error = VecPointwiseMult(N_VGetVector_Petsc(z), integ->pinv, N_VGetVector_Petsc(r));
  return integ->callback_error ? -1 : 0;
}

/* CVODE's own diagnostic goes into our error message instead of bare stderr. */
static void ErrHandlerCallback(int code, const char *module, const char *function, char *msg, void *ctx)
{
  RmIntegrator integ = (RmIntegrator)ctx;
  if (code < 0) snprintf(integ->cvode_message, sizeof(integ->cvode_message), "%s: %s", function, msg);
}

static PetscErrorCode SetUpCVODE(RmIntegrator integ)
{
  PetscFunctionBeginUser;
  PetscCheck(!SUNContext_Create((void *)&integ->comm, &integ->sunctx), integ->comm, PETSC_ERR_LIB, "SUNContext_Create failed");
  integ->y_nv = N_VMake_Petsc(integ->y, integ->sunctx);
  integ->f_nv = N_VMake_Petsc(integ->f, integ->sunctx);
  PetscCheck(integ->y_nv && integ->f_nv, integ->comm, PETSC_ERR_MEM, "N_VMake_Petsc failed");
  integ->cvode = CVodeCreate(integ->type == RM_INTEGRATOR_ADAMS ? CV_ADAMS : CV_BDF, integ->sunctx);
  PetscCheck(integ->cvode, integ->comm, PETSC_ERR_MEM, "CVodeCreate failed");
  RmCallCVODE(CVodeSetErrHandlerFn(integ->cvode, ErrHandlerCallback, integ));
  RmCallCVODE(CVodeInit(integ->cvode, RHSCallback, 0.0, integ->y_nv));
  RmCallCVODE(CVodeSetUserData(integ->cvode, integ));
  integ->cur_rtol = integ->rtol;
  integ->cur_atol = integ->atol;
  RmCallCVODE(CVodeWFtolerances(integ->cvode, EwtCallback));
  RmCallCVODE(CVodeSetMaxNumSteps(integ->cvode, integ->max_steps));
  if (integ->max_order) RmCallCVODE(CVodeSetMaxOrd(integ->cvode, (int)integ->max_order));
  if (integ->init_step > 0) RmCallCVODE(CVodeSetInitStep(integ->cvode, integ->init_step));
  if (integ->nonlin_conv_coef > 0) RmCallCVODE(CVodeSetNonlinConvCoef(integ->cvode, integ->nonlin_conv_coef));
  if (integ->type == RM_INTEGRATOR_BDF) {
    integ->ls = SUNLinSol_SPGMR(integ->y_nv, integ->pc ? SUN_PREC_LEFT : SUN_PREC_NONE, (int)integ->krylov_dim, integ->sunctx);
    PetscCheck(integ->ls, integ->comm, PETSC_ERR_MEM, "SUNLinSol_SPGMR failed");
    RmCallCVODE(CVodeSetLinearSolver(integ->cvode, integ->ls, NULL));
    RmCallCVODE(CVodeSetJacTimes(integ->cvode, JacTimesSetupCallback, JacTimesCallback));
    if (integ->pc) {
      PetscCall(VecDuplicate(integ->y, &integ->pinv));
      RmCallCVODE(CVodeSetPreconditioner(integ->cvode, PrecSetupCallback, PrecSolveCallback));
    }
    if (integ->stab_lim_det) RmCallCVODE(CVodeSetStabLimDet(integ->cvode, SUNTRUE));
    if (integ->eps_lin > 0) RmCallCVODE(CVodeSetEpsLin(integ->cvode, integ->eps_lin));
  } else {
    integ->nls = SUNNonlinSol_FixedPoint(integ->y_nv, 0, integ->sunctx);
    PetscCheck(integ->nls, integ->comm, PETSC_ERR_MEM, "SUNNonlinSol_FixedPoint failed");
    RmCallCVODE(CVodeSetNonlinearSolver(integ->cvode, integ->nls));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetUp(RmIntegrator integ)
{
  PetscFunctionBeginUser;
  if (integ->setup_called) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(integ->model, integ->comm, PETSC_ERR_ORDER, "call RmIntegratorSetModel() first");
  PetscCall(RmModelSetUp(integ->model));
  integ->setup_called = PETSC_TRUE; /* before SetUpCVODE: Destroy frees what a failed set-up left */
  PetscCall(RmModelCreateState(integ->model, &integ->y));
  PetscCall(VecDuplicate(integ->y, &integ->f));
  if (integ->type != RM_INTEGRATOR_EULER && integ->type != RM_INTEGRATOR_EM) PetscCall(SetUpCVODE(integ));
  if (integ->type == RM_INTEGRATOR_EM) { /* the state's global unit numbering (see StepEM) */
    Vec         xn;
    PetscInt    nb, nlocb, start, yloc;
    PetscMPIInt mloc, ustart, m;
    PetscCall(RmModelGetBatch(integ->model, &integ->em_batch));
    PetscCall(RmModelCreateNeuronVec(integ->model, &xn));
    PetscCall(VecGetSize(xn, &nb));
    PetscCall(VecGetLocalSize(xn, &nlocb));
    PetscCall(VecGetOwnershipRange(xn, &start, NULL));
    PetscCall(VecDestroy(&xn));
    PetscCall(VecGetLocalSize(integ->y, &yloc));
    integ->em_n      = nb / integ->em_batch;
    integ->em_nloc   = nlocb / integ->em_batch;
    integ->em_rstart = start / integ->em_batch;
    mloc             = (PetscMPIInt)(yloc / integ->em_batch - integ->em_nloc);
    PetscCallMPI(MPI_Scan(&mloc, &ustart, 1, MPI_INT, MPI_SUM, integ->comm));
    PetscCallMPI(MPI_Allreduce(&mloc, &m, 1, MPI_INT, MPI_SUM, integ->comm));
    integ->em_mloc   = mloc;
    integ->em_ustart = ustart - mloc;
    integ->em_m      = m;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After every step (last: at the end of a solve). steps counts those of an interrupted solve too.
   The step hook (checkpointing) runs at step boundaries only, and may ask to stop there. */
static PetscErrorCode Monitor(RmIntegrator integ, PetscReal t, PetscInt64 steps, Vec x, PetscBool last, PetscBool *stop)
{
  PetscFunctionBeginUser;
  if (stop) *stop = PETSC_FALSE;
  integ->t_now = t;
  if (integ->step_fn) PetscCall(integ->step_fn(integ->step_ctx, t, steps, x));
  if (integ->monitor && integ->monitor_fn && (last || steps % integ->monitor_every == 0))
    PetscCall(integ->monitor_fn(integ->monitor_ctx, t, steps, x));
  if (!last && stop && integ->step_hook) PetscCall(integ->step_hook(integ->step_hook_ctx, t, steps, x, stop));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckStepBudget(RmIntegrator integ, PetscInt64 steps, PetscReal t)
{
  PetscFunctionBeginUser;
  PetscCheck(steps < integ->max_steps, integ->comm, PETSC_ERR_NOT_CONVERGED,
             "%s integrator failed: too much work, %" PetscInt_FMT " steps reached at t = %g before convergence or t_final (raise -cvode_max_steps)",
             RmIntegratorTypes[integ->type], integ->max_steps, (double)t);
  PetscFunctionReturn(PETSC_SUCCESS);
}

void RmEulerMaruyamaStep(PetscInt nloc, PetscInt rstart, PetscScalar *y, const PetscScalar *f, PetscReal h, PetscReal sigma, uint64_t seed, uint64_t step)
{
  if (sigma == 0) {
    for (PetscInt i = 0; i < nloc; i++) y[i] += h * f[i];
    return;
  }
  const PetscReal sh = sigma * PetscSqrtReal(h);
  for (PetscInt i = 0; i < nloc; i++) y[i] += h * f[i] + sh * RmRandomNormal(seed, RM_STREAM_NOISE, step, (uint64_t)(rstart + i));
}

/* y += h f + σ √h z, z keyed by the global step and the global unit index: in column b of a batch,
   neuron i is b(n + m) + i and extra unit k (E/I pools) b(n + m) + n + k, independent of the partition
   (for one column of neurons this is the neuron's own index). */
static PetscErrorCode StepEM(RmIntegrator integ, PetscReal h)
{
  PetscScalar       *ya;
  const PetscScalar *fa;
  const PetscInt     L = integ->em_nloc + integ->em_mloc, N = integ->em_n + integ->em_m;

  PetscFunctionBeginUser;
  if (integ->sigma == 0) { /* the euler update, the same call: σ = 0 reproduces it bit for bit */
    PetscCall(VecAXPY(integ->y, h, integ->f));
    integ->noise_step++;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecGetArray(integ->y, &ya));
  PetscCall(VecGetArrayRead(integ->f, &fa));
  for (PetscInt b = 0; b < integ->em_batch; b++) {
    RmEulerMaruyamaStep(integ->em_nloc, b * N + integ->em_rstart, ya + b * L, fa + b * L, h, integ->sigma, (uint64_t)integ->noise_seed,
                        (uint64_t)integ->noise_step);
    if (integ->em_mloc)
      RmEulerMaruyamaStep(integ->em_mloc, b * N + integ->em_n + integ->em_ustart, ya + b * L + integ->em_nloc, fa + b * L + integ->em_nloc, h, integ->sigma,
                          (uint64_t)integ->noise_seed, (uint64_t)integ->noise_step);
  }
  PetscCall(VecRestoreArrayRead(integ->f, &fa));
  PetscCall(VecRestoreArray(integ->y, &ya));
  integ->noise_step++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Explicit Euler x_{k+1} = x_k + dt f(x_k): the baseline of peers. ‖f(x_k)‖∞ comes for free.
   Euler–Maruyama (em) runs the same loop with the noise increment; with σ > 0 it never stops at
   "convergence" (the path is stochastic) and runs to t_final. */
static PetscErrorCode SolveEuler(RmIntegrator integ, PetscReal t0, PetscInt64 step0, RmIntegratorStats *st)
{
  PetscReal       t = t0, dt = integ->euler_dt, res; /* t0, step0: where an interrupted solve stopped (0, 0 for a new one) */
  const PetscBool em = (PetscBool)(integ->type == RM_INTEGRATOR_EM), stochastic = (PetscBool)(em && integ->sigma > 0);
  PetscBool       stop;

  PetscFunctionBeginUser;
  for (;;) {
    PetscCall(RmModelRHS(integ->model, integ->y, integ->f));
    st->rhs_evals++;
    PetscCall(RmModelFixedPointResidual(integ->model, integ->f, &res));
    PetscCheck(!PetscIsInfOrNanReal(res), integ->comm, PETSC_ERR_FP, "euler integrator diverged (non-finite rate of change) at t = %g; reduce -euler_dt",
               (double)t);
    st->residual = res;
    if (!stochastic && res < integ->converge_tol) {
      st->converged = PETSC_TRUE;
      break;
    }
    if (t >= integ->t_final - 1e-12 * integ->t_final) break;
    PetscCall(CheckStepBudget(integ, step0 + st->steps, t));
    PetscReal h = PetscMin(dt, integ->t_final - t);
    if (em) PetscCall(StepEM(integ, h));
    else PetscCall(VecAXPY(integ->y, h, integ->f));
    t += h;
    st->steps++;
    PetscCall(Monitor(integ, t, step0 + st->steps, integ->y, PETSC_FALSE, &stop));
    if (stop) {
      st->stopped = PETSC_TRUE;
      break;
    }
  }
  st->t_end = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CVODEFailure(RmIntegrator integ, int flag, PetscReal t)
{
  char name[64];

  PetscFunctionBeginUser;
  if (integ->callback_error) PetscCall(integ->callback_error); /* re-raise the PETSc error from inside the callback */
  PetscCall(RmCVODEFlagName_Private(flag, name, sizeof(name)));
  SETERRQ(integ->comm, PETSC_ERR_LIB, "CVODE (%s) failed at t = %g: %s (%d)%s%s%s", RmIntegratorTypes[integ->type], (double)t, name, flag,
          integ->cvode_message[0] ? ": " : "", integ->cvode_message, integ->ewt_message);
}

static PetscErrorCode GatherCVODEStats(RmIntegrator integ, RmIntegratorStats *st)
{
  long nst = 0, nfe = 0, netf = 0, nni = 0, nncf = 0, nli = 0, nlcf = 0, njv = 0, nfeLS = 0, njts = 0, npe = 0, nps = 0;

  PetscFunctionBeginUser;
  RmCallCVODE(CVodeGetNumSteps(integ->cvode, &nst));
  RmCallCVODE(CVodeGetNumRhsEvals(integ->cvode, &nfe));
  RmCallCVODE(CVodeGetNumErrTestFails(integ->cvode, &netf));
  RmCallCVODE(CVodeGetNumNonlinSolvIters(integ->cvode, &nni));
  RmCallCVODE(CVodeGetNumNonlinSolvConvFails(integ->cvode, &nncf));
  if (integ->type == RM_INTEGRATOR_BDF) {
    RmCallCVODE(CVodeGetNumLinIters(integ->cvode, &nli));
    RmCallCVODE(CVodeGetNumLinConvFails(integ->cvode, &nlcf));
    RmCallCVODE(CVodeGetNumJtimesEvals(integ->cvode, &njv));
    RmCallCVODE(CVodeGetNumLinRhsEvals(integ->cvode, &nfeLS));
    RmCallCVODE(CVodeGetNumJTSetupEvals(integ->cvode, &njts));
    RmCallCVODE(CVodeGetNumPrecEvals(integ->cvode, &npe));
    RmCallCVODE(CVodeGetNumPrecSolves(integ->cvode, &nps));
  }
  st->prec_setups = npe;
  st->prec_solves = nps;
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

static void TailUpdate(RmIntegrator integ, RmTail *tail, PetscReal residual)
{
  if (integ->tail_rtol <= 0 && integ->tail_atol <= 0) return;
  if (!tail->on) {
    if (!(residual < integ->tail_switch)) return;
    if (integ->tail_rtol > 0) integ->cur_rtol = integ->tail_rtol;
    if (integ->tail_atol > 0) integ->cur_atol = integ->tail_atol;
    tail->on = PETSC_TRUE, tail->ref = residual, tail->stalled = 0;
    return;
  }
  if (residual < 0.5 * tail->ref) {
    tail->ref = residual, tail->stalled = 0;
    return;
  }
  if (integ->tail_stall_steps > 0 && tail->tightened < RM_TAIL_MAX_TIGHTENINGS && ++tail->stalled >= integ->tail_stall_steps) {
    integ->cur_rtol /= 10, integ->cur_atol /= 10;
    tail->ref = residual, tail->stalled = 0, tail->tightened++;
    PetscCallAbort(PETSC_COMM_SELF, PetscInfo(NULL, "tail stalled at residual %g: tolerances now rtol %g, atol %g\n", (double)residual,
                                              (double)integ->cur_rtol, (double)integ->cur_atol));
  }
}

static PetscErrorCode SolveCVODE(RmIntegrator integ, PetscReal t0, PetscInt64 step0, RmIntegratorStats *st)
{
  realtype  t = t0; /* t0, step0: where an interrupted solve stopped (0, 0 for a new one) */
  long      nst;
  PetscBool stop;
  RmTail    tail = {PETSC_FALSE, 0, 0, 0};

  PetscFunctionBeginUser;
  integ->callback_error   = 0;
  integ->cvode_message[0] = 0;
  integ->ewt_message[0]   = 0;
  RmCallCVODE(CVodeReInit(integ->cvode, t0, integ->y_nv));
  RmCallCVODE(CVodeSetStopTime(integ->cvode, integ->t_final));
  integ->cur_rtol = integ->rtol; /* the previous trial may have ended in its tail */
  integ->cur_atol = integ->atol;
  for (;;) {
    int flag = CVode(integ->cvode, integ->t_final, integ->y_nv, &t, CV_ONE_STEP);
    if (flag < 0) PetscCall(CVODEFailure(integ, flag, t));
    RmCallCVODE(CVodeGetNumSteps(integ->cvode, &nst));
    /* Cheap test on the interpolated derivative, confirmed by a true RHS evaluation. */
    RmCallCVODE(CVodeGetDky(integ->cvode, t, 1, integ->f_nv));
    PetscCall(RmModelFixedPointResidual(integ->model, integ->f, &st->residual));
    TailUpdate(integ, &tail, st->residual);
    if (st->residual < integ->converge_tol) {
      PetscCall(RmModelResidualNorm(integ->model, integ->y, &st->residual));
      st->rhs_evals++;
      if (st->residual < integ->converge_tol) {
        st->converged = PETSC_TRUE;
        break;
      }
    }
    if (flag == CV_TSTOP_RETURN || t >= integ->t_final) {
      PetscCall(RmModelResidualNorm(integ->model, integ->y, &st->residual));
      st->rhs_evals++;
      st->converged = (PetscBool)(st->residual < integ->converge_tol);
      break;
    }
    PetscCall(CheckStepBudget(integ, step0 + nst, t));
    PetscCall(Monitor(integ, t, step0 + nst, integ->y, PETSC_FALSE, &stop));
    if (stop) {
      st->stopped = PETSC_TRUE;
      break;
    }
  }
  st->t_end = t;
  PetscCall(GatherCVODEStats(integ, st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* dst += the counts (not the times, residual or flags) of src. */
static void AddCounts(RmIntegratorStats *dst, const RmIntegratorStats *src)
{
  dst->weight_products += src->weight_products;
  dst->prec_setups += src->prec_setups;
  dst->prec_solves += src->prec_solves;
  dst->steps += src->steps;
  dst->rhs_evals += src->rhs_evals;
  dst->jtimes_evals += src->jtimes_evals;
  dst->jac_setups += src->jac_setups;
  dst->nonlin_iters += src->nonlin_iters;
  dst->lin_iters += src->lin_iters;
  dst->err_test_fails += src->err_test_fails;
  dst->nonlin_conv_fails += src->nonlin_conv_fails;
  dst->lin_conv_fails += src->lin_conv_fails;
  dst->wall_time += src->wall_time;
}

PetscErrorCode RmIntegratorSolve(RmIntegrator integ, Vec x, RmIntegratorStats *stats)
{
  RmIntegratorStats st = {0}, prior = {0};
  double            t0 = RmWallTime();
  PetscInt64        products0, products1;
  PetscReal         t_start = 0;
  PetscErrorCode    ierr;

  PetscFunctionBeginUser;
  if (integ->resume) { /* continue an interrupted solve (checkpoint restart) */
    prior   = integ->prior;
    t_start = integ->t_start;
  }
  integ->resume = PETSC_FALSE;
  PetscCall(RmModelGetProductCount(integ->model, &products0));
  PetscCall(RmIntegratorSetUp(integ));
  PetscCall(PetscLogEventBegin(RM_EVENTS.integrate, 0, 0, 0, 0));
  PetscCall(VecCopy(x, integ->y));
  integ->prior     = prior;
  integ->current   = &st;
  integ->wall0     = t0;
  integ->products0 = products0;
  integ->t_now     = t_start;
  if (integ->type == RM_INTEGRATOR_EULER || integ->type == RM_INTEGRATOR_EM) ierr = SolveEuler(integ, t_start, prior.steps, &st);
  else ierr = SolveCVODE(integ, t_start, prior.steps, &st);
  integ->current = NULL;
  PetscCall(ierr);
  PetscCall(VecCopy(integ->y, x));
  PetscCall(Monitor(integ, st.t_end, prior.steps + st.steps, x, PETSC_TRUE, NULL));
  PetscCall(PetscLogEventEnd(RM_EVENTS.integrate, 0, 0, 0, 0));
  st.wall_time = RmWallTime() - t0;
  PetscCall(RmModelGetProductCount(integ->model, &products1));
  st.weight_products = products1 - products0;
  AddCounts(&st, &prior);
  *stats = st;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetStepHook(RmIntegrator integ, RmIntegratorStepHookFn fn, void *ctx)
{
  PetscFunctionBeginUser;
  integ->step_hook     = fn;
  integ->step_hook_ctx = ctx;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorGetProgress(RmIntegrator integ, RmIntegratorStats *stats)
{
  RmIntegratorStats st;
  PetscInt64        products;

  PetscFunctionBeginUser;
  PetscCheck(integ->current, PETSC_COMM_SELF, PETSC_ERR_ORDER, "RmIntegratorGetProgress() is only available inside a step hook");
  st = *integ->current; /* euler: its counts; CVODE: our convergence checks so far, CVODE's own counts follow */
  if (integ->type != RM_INTEGRATOR_EULER && integ->type != RM_INTEGRATOR_EM) PetscCall(GatherCVODEStats(integ, &st));
  st.t_end     = integ->t_now;
  st.wall_time = RmWallTime() - integ->wall0;
  PetscCall(RmModelGetProductCount(integ->model, &products));
  st.weight_products = products - integ->products0;
  AddCounts(&st, &integ->prior);
  *stats = st;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetResume(RmIntegrator integ, PetscReal t, const RmIntegratorStats *prior)
{
  PetscFunctionBeginUser;
  PetscCheck(t >= 0 && t <= integ->t_final, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "cannot resume at t = %g: outside [0, t_final = %g]", (double)t,
             (double)integ->t_final);
  integ->resume  = PETSC_TRUE;
  integ->t_start = t;
  integ->prior   = *prior;
  integ->prior.stopped = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorView(RmIntegrator integ, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "Integrator: %s, rtol %g, atol %g, t_final %g, converge_tol %g", RmIntegratorTypes[integ->type],
                                   (double)integ->rtol, (double)integ->atol, (double)integ->t_final, (double)integ->converge_tol));
  if (integ->type == RM_INTEGRATOR_EULER || integ->type == RM_INTEGRATOR_EM) PetscCall(PetscViewerASCIIPrintf(viewer, ", dt %g", (double)integ->euler_dt));
  if (integ->type == RM_INTEGRATOR_EM) PetscCall(PetscViewerASCIIPrintf(viewer, ", noise %g (seed %" PetscInt64_FMT ")", (double)integ->sigma, integ->noise_seed));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorDestroy(RmIntegrator *integ)
{
  RmIntegrator it;

  PetscFunctionBeginUser;
  if (!*integ) PetscFunctionReturn(PETSC_SUCCESS);
  it = *integ;
  if (it->cvode) CVodeFree(&it->cvode);
  if (it->ls) SUNLinSolFree(it->ls);
  if (it->nls) SUNNonlinSolFree(it->nls);
  if (it->y_nv) N_VDestroy(it->y_nv);
  if (it->f_nv) N_VDestroy(it->f_nv);
  if (it->sunctx) SUNContext_Free(&it->sunctx);
  PetscCall(VecDestroy(&it->y));
  PetscCall(VecDestroy(&it->f));
  PetscCall(VecDestroy(&it->pinv));
  PetscCall(PetscFree(*integ));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetFinalTime(RmIntegrator integ, PetscReal t_final)
{
  PetscFunctionBeginUser;
  PetscCheck(t_final > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "t_final must be > 0, got %g", (double)t_final);
  integ->t_final = t_final;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetNoise(RmIntegrator integ, PetscReal sigma, PetscInt64 seed)
{
  PetscFunctionBeginUser;
  PetscCheck(sigma >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "noise must be >= 0, got %g", (double)sigma);
  integ->sigma      = sigma;
  integ->noise_seed = seed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorGetNoise(RmIntegrator integ, PetscReal *sigma, PetscInt64 *seed)
{
  PetscFunctionBeginUser;
  if (sigma) *sigma = integ->sigma;
  if (seed) *seed = integ->noise_seed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetNoiseStep(RmIntegrator integ, PetscInt64 step)
{
  PetscFunctionBeginUser;
  integ->noise_step = step;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorGetNoiseStep(RmIntegrator integ, PetscInt64 *step)
{
  PetscFunctionBeginUser;
  *step = integ->noise_step;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetStepCallback(RmIntegrator integ, RmIntegratorMonitorFn fn, void *ctx)
{
  PetscFunctionBeginUser;
  integ->step_fn  = fn;
  integ->step_ctx = ctx;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorGetType(RmIntegrator integ, RmIntegratorType *type)
{
  PetscFunctionBeginUser;
  *type = integ->type;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorGetTolerances(RmIntegrator integ, PetscReal *rtol, PetscReal *atol)
{
  PetscFunctionBeginUser;
  if (rtol) *rtol = integ->rtol;
  if (atol) *atol = integ->atol;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorGetSettings(RmIntegrator integ, PetscReal *t_final, PetscReal *converge_tol, PetscReal *euler_dt)
{
  PetscFunctionBeginUser;
  if (t_final) *t_final = integ->t_final;
  if (converge_tol) *converge_tol = integ->converge_tol;
  if (euler_dt) *euler_dt = integ->euler_dt;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorGetMonitor(RmIntegrator integ, PetscBool *monitor)
{
  PetscFunctionBeginUser;
  *monitor = integ->monitor;
  PetscFunctionReturn(PETSC_SUCCESS);
}
