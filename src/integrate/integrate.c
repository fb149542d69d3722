/* Integration to an equilibrium (docs/model.md §3): the generic RmIntegrator -- its registry of methods,
   options, the convergence test, step boundaries (monitors, step hooks), statistics and resume.
   The methods are in cvode.c (bdf, adams), euler.c, em.c and erk.c, registered in integrateregi.c. */
#include "integrateimpl.h"

static PetscFunctionList RmIntegratorList = NULL;

PetscErrorCode RmIntegratorRegister(const char name[], PetscErrorCode (*create)(RmIntegrator))
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListAdd(&RmIntegratorList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorListDestroy_Private(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListDestroy(&RmIntegratorList));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorCreate(MPI_Comm comm, RmIntegrator *integ)
{
  PetscFunctionBeginUser;
  PetscCall(RmIntegratorRegisterAll());
  PetscCall(PetscNew(integ));
  (*integ)->comm          = comm;
  (*integ)->rtol          = 1e-6;
  (*integ)->atol          = 1e-8;
  (*integ)->t_final       = 100.0;
  (*integ)->converge_tol  = 1e-6;
  (*integ)->euler_dt      = 0.01;
  (*integ)->euler_fuse    = PETSC_TRUE;
  (*integ)->max_steps     = 100000;
  (*integ)->monitor_every = 1;
  (*integ)->noise_seed    = 1;
  (*integ)->nvector       = 0;          /* native: docs/benchmark.md "Integrator vector work" */
  (*integ)->fused_ops     = PETSC_TRUE; /* the native vector's one-pass fused operations (NVECTOR_PETSC's were measured slower: off for it) */
  PetscCall(RmIntegratorSetType(*integ, RMINTEGRATORBDF));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetType(RmIntegrator integ, RmIntegratorType type)
{
  PetscErrorCode (*create)(RmIntegrator) = NULL;
  PetscBool same = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (integ->type_name) PetscCall(PetscStrcmp(integ->type_name, type, &same));
  if (same) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(!integ->setup_called, integ->comm, PETSC_ERR_ORDER, "set the integrator type before RmIntegratorSetUp()");
  PetscCall(PetscFunctionListFind(RmIntegratorList, type, &create));
  if (!create) { /* name the registered methods */
    char list[256];
    PetscCall(RmFunctionListNames(RmIntegratorList, ", ", list, sizeof(list)));
    SETERRQ(integ->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown integrator '%s' (known: %s)", type, list);
  }
  if (integ->ops.destroy) PetscCall(integ->ops.destroy(integ));
  PetscCall(PetscMemzero(&integ->ops, sizeof(integ->ops)));
  integ->data       = NULL;
  integ->fixed_step = PETSC_FALSE;
  PetscCall(PetscFree(integ->type_name));
  PetscCall(PetscStrallocpy(type, &integ->type_name));
  PetscCall(create(integ));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetOptionsPrefix(RmIntegrator integ, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(integ->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &integ->prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetFromOptions(RmIntegrator integ)
{
  char      type[64];
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(RmIntegratorRegisterAll());
  PetscOptionsBegin(integ->comm, integ->prefix, "Integration (docs/model.md §3)", "RmIntegrator");
  PetscCall(PetscOptionsFList("-integrator",
                              "bdf (CVODE BDF, Newton-Krylov with analytic J·v), adams (CVODE Adams, fixed point), euler (explicit, fixed step), em "
                              "(Euler–Maruyama with -noise), erk (adaptive explicit Runge–Kutta, ARKODE), auto (erk if the model is not stiff, else bdf)",
                              "RmIntegratorSetType", RmIntegratorList, integ->type_name, type, sizeof(type), &set));
  if (set) PetscCall(RmIntegratorSetType(integ, type));
  PetscCall(PetscOptionsReal("-rtol", "Relative tolerance (CVODE, ARKODE)", "RmIntegratorSetFromOptions", integ->rtol, &integ->rtol, NULL));
  PetscCall(PetscOptionsReal("-atol", "Absolute tolerance (CVODE, ARKODE)", "RmIntegratorSetFromOptions", integ->atol, &integ->atol, NULL));
  PetscCall(PetscOptionsReal("-t_final", "Final time if the state has not converged before", "RmIntegratorSetFromOptions", integ->t_final,
                             &integ->t_final, NULL));
  PetscCall(PetscOptionsReal("-converge_tol", "Converged when the max-norm of dx/dt falls below this", "RmIntegratorSetFromOptions",
                             integ->converge_tol, &integ->converge_tol, NULL));
  PetscCall(PetscOptionsReal("-euler_dt", "Step of the explicit Euler baseline", "RmIntegratorSetFromOptions", integ->euler_dt, &integ->euler_dt, NULL));
  PetscCall(PetscOptionsInt("-cvode_max_steps", "Maximum number of steps per trial (every integrator)", "RmIntegratorSetFromOptions", integ->max_steps,
                            &integ->max_steps, NULL));
  PetscCall(PetscOptionsBool("-monitor", "Print progress (time, steps, best overlap) to stderr", "RmIntegratorSetFromOptions", integ->monitor,
                             &integ->monitor, NULL));
  PetscCall(PetscOptionsInt("-monitor_every", "Print progress every this many steps", "RmIntegratorSetFromOptions", integ->monitor_every,
                            &integ->monitor_every, NULL));
  {
    const char *const kinds[] = {"native", "petsc", "RmNVector", "RM_NVECTOR_", NULL};
    PetscBool         fused;
    PetscCall(PetscOptionsEList("-integrator_nvector",
                                "CVODE and ARKODE's N_Vector: native (ratemem's own over the local array, one pass per operation, fused operations native) or "
                                "petsc (SUNDIALS' NVECTOR_PETSC)",
                                "RmIntegratorSetFromOptions", kinds, 2, kinds[integ->nvector], &integ->nvector, NULL));
    fused = integ->fused_set ? integ->fused_ops : (PetscBool)(integ->nvector == 0);
    PetscCall(PetscOptionsBool("-integrator_fused_ops",
                               "CVODE and ARKODE: the N_Vector's fused and vector-array operations (default: on for native, off for petsc, where they "
                               "were measured slower; docs/benchmark.md)",
                               "RmIntegratorSetFromOptions", fused, &fused, &set));
    if (set) integ->fused_set = PETSC_TRUE;
    integ->fused_ops = integ->fused_set ? fused : (PetscBool)(integ->nvector == 0);
    PetscCall(PetscViewerDestroy(&integ->vec_viewer));
    PetscCall(PetscOptionsViewer("-integrator_vec_view",
                                 "CVODE and ARKODE: print the integrator's vector operations (calls per kind, operands, time) when the integrator is destroyed",
                                 "RmIntegratorSetFromOptions", &integ->vec_viewer, &integ->vec_format, NULL));
  }
  if (integ->ops.setfromoptions) PetscCall(integ->ops.setfromoptions(PetscOptionsObject, integ));
  PetscOptionsEnd();
  { /* -noise belongs to em: for any other method a clear error, not "unknown option" (-noise 0 is harmless) */
    PetscReal sigma = 0;
    PetscBool em;
    PetscCall(PetscStrcmp(integ->type_name, RMINTEGRATOREM, &em));
    if (!em) {
      PetscCall(PetscOptionsGetReal(NULL, integ->prefix, "-noise", &sigma, &set));
      PetscCheck(!set || sigma == 0, integ->comm, PETSC_ERR_ARG_INCOMP,
                 "-noise %g needs -integrator em (Euler–Maruyama); deterministic runs use bdf, adams, euler or erk", (double)sigma);
    }
  }
  PetscCall(RmCheckFinite(integ->comm, "rtol", integ->rtol));
  PetscCall(RmCheckFinite(integ->comm, "atol", integ->atol));
  PetscCall(RmCheckFinite(integ->comm, "t_final", integ->t_final));
  PetscCall(RmCheckFinite(integ->comm, "converge_tol", integ->converge_tol));
  PetscCall(RmCheckFinite(integ->comm, "euler_dt", integ->euler_dt));
  PetscCheck(integ->rtol >= 0 && integ->atol >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "rtol and atol must be >= 0, got %g and %g",
             (double)integ->rtol, (double)integ->atol);
  PetscCheck(integ->t_final > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "t_final must be > 0, got %g", (double)integ->t_final);
  PetscCheck(integ->converge_tol > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "converge_tol must be > 0, got %g", (double)integ->converge_tol);
  PetscCheck(integ->euler_dt > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "euler_dt must be > 0, got %g", (double)integ->euler_dt);
  PetscCheck(integ->max_steps > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "cvode_max_steps must be > 0");
  PetscCheck(integ->monitor_every > 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "monitor_every must be > 0");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetModel(RmIntegrator integ, RmModel model)
{
  PetscFunctionBeginUser;
  integ->model = model;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetMonitor(RmIntegrator integ, RmIntegratorMonitorFn fn, void *ctx)
{
  PetscFunctionBeginUser;
  integ->monitor_fn  = fn;
  integ->monitor_ctx = ctx;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetUp(RmIntegrator integ)
{
  PetscFunctionBeginUser;
  if (integ->setup_called) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(integ->model, integ->comm, PETSC_ERR_ORDER, "call RmIntegratorSetModel() first");
  PetscCall(RmModelSetUp(integ->model));
  {
    PetscBool isauto;
    PetscCall(PetscStrcmp(integ->type_name, RMINTEGRATORAUTO, &isauto));
    if (isauto) PetscCall(RmIntegratorAutoResolve_Private(integ)); /* now that the model is known */
  }
  integ->setup_called = PETSC_TRUE; /* before the method's set-up: Destroy frees what a failed set-up left */
  if (integ->vec_viewer) RmNVLogTimingPush_Private(); /* popped by Destroy */
  if (!integ->inplace) {
    PetscCall(RmModelCreateState(integ->model, &integ->y));
    PetscCall(VecDuplicate(integ->y, &integ->f));
  }
  if (integ->ops.setup) PetscCall(integ->ops.setup(integ));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorStepBoundary_Private(RmIntegrator integ, PetscReal t, PetscInt64 steps, Vec x, PetscBool last, PetscBool *stop)
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

PetscErrorCode RmIntegratorCheckStepBudget_Private(RmIntegrator integ, PetscInt64 steps, PetscReal t)
{
  PetscFunctionBeginUser;
  PetscCheck(steps < integ->max_steps, integ->comm, PETSC_ERR_NOT_CONVERGED,
             "%s integrator failed: too much work, %" PetscInt_FMT " steps reached at t = %g before convergence or t_final (raise -cvode_max_steps)",
             integ->type_name, integ->max_steps, (double)t);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorTestConvergence_Private(RmIntegrator integ, Vec dky, RmIntegratorStats *st, PetscBool *converged)
{
  PetscFunctionBeginUser;
  *converged = PETSC_FALSE;
  PetscCall(RmModelFixedPointResidual(integ->model, dky, &st->residual));
  if (st->residual < integ->converge_tol) {
    PetscCall(RmModelResidualNorm(integ->model, integ->y, &st->residual));
    st->rhs_evals++;
    *converged = (PetscBool)(st->residual < integ->converge_tol);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorFinalResidual_Private(RmIntegrator integ, RmIntegratorStats *st)
{
  PetscFunctionBeginUser;
  PetscCall(RmModelResidualNorm(integ->model, integ->y, &st->residual));
  st->rhs_evals++;
  st->converged = (PetscBool)(st->residual < integ->converge_tol);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The error handler while a solver runs: keeps the first message of a callback's error. */
static PetscErrorCode CallbackErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess,
                                           void *ctx)
{
  RmCallbackError *cb     = (RmCallbackError *)ctx;
  PetscMPIInt      result = MPI_UNEQUAL;

  if (p != PETSC_ERROR_INITIAL || cb->message[0]) return n;
  if (comm != MPI_COMM_NULL) MPI_Comm_compare(comm, PETSC_COMM_SELF, &result);
  cb->local = (PetscBool)(result == MPI_IDENT || result == MPI_CONGRUENT);
  if (mess && mess[0]) snprintf(cb->message, sizeof(cb->message), "%s", mess);
  else {
    const char *text = NULL;
    PetscErrorMessage(n, &text, NULL);
    snprintf(cb->message, sizeof(cb->message), "%s", text ? text : "unknown error");
  }
  return n;
}

PetscErrorCode RmIntegratorCallbackBegin_Private(RmCallbackError *cb)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(CallbackErrorHandler, cb));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorCallbackEnd_Private(RmCallbackError *cb)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPopErrorHandler());
  PetscFunctionReturn(PETSC_SUCCESS);
}

int RmIntegratorCallbackStore_Private(RmCallbackError *cb, PetscErrorCode ierr, const char *what, PetscReal t)
{
  if (!ierr) return 0;
  if (!cb->code) {
    cb->code = ierr;
    cb->what = what;
    cb->t    = t;
  }
  return -1;
}

PetscErrorCode RmIntegratorCallbackRaise_Private(RmIntegrator integ, RmCallbackError *cb, PetscReal t_solver)
{
  PetscFunctionBeginUser;
  if (!cb->code) PetscFunctionReturn(PETSC_SUCCESS);
  SETERRQ(cb->local ? PETSC_COMM_SELF : integ->comm, cb->code, "%s failed at t = %g (integrator %s): %s", cb->what,
          (double)(PetscIsNanReal(cb->t) ? t_solver : cb->t), integ->type_name,
          cb->message[0] ? cb->message : "unknown error");
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
  if (integ->inplace) integ->y = x; /* borrowed for the solve (no reference: reset below) */
  else PetscCall(VecCopy(x, integ->y));
  integ->prior     = prior;
  integ->current   = &st;
  integ->wall0     = t0;
  integ->products0 = products0;
  integ->t_now     = t_start;
  ierr             = integ->ops.solve(integ, t_start, prior.steps, &st);
  RmNVectorFlush_Private(); /* (the methods flush after each SUNDIALS call already) */
  if (integ->inplace) integ->y = NULL;
  else if (!ierr) ierr = VecCopy(integ->y, x);
  if (!ierr) ierr = RmIntegratorStepBoundary_Private(integ, st.t_end, prior.steps + st.steps, x, PETSC_TRUE, NULL); /* the last monitor line may ask for progress */
  integ->current = NULL;
  PetscCall(ierr);
  PetscCall(PetscLogEventEnd(RM_EVENTS.integrate, 0, 0, 0, 0));
  st.wall_time = RmWallTime() - t0;
  integ->vec_steps += st.steps; /* this solve's own, for -integrator_vec_view */
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
  st = *integ->current; /* euler: its counts; CVODE, ARKODE: our convergence checks so far, the library's own counts follow */
  if (integ->ops.getprogress) PetscCall(integ->ops.getprogress(integ, &st));
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
  integ->resume        = PETSC_TRUE;
  integ->t_start       = t;
  integ->prior         = *prior;
  integ->prior.stopped = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorView(RmIntegrator integ, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "Integrator: %s%s, rtol %g, atol %g, t_final %g, converge_tol %g", integ->auto_chosen ? "auto -> " : "", integ->type_name, (double)integ->rtol,
                                   (double)integ->atol, (double)integ->t_final, (double)integ->converge_tol));
  if (integ->ops.view) PetscCall(integ->ops.view(integ, viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorDestroy(RmIntegrator *integ)
{
  RmIntegrator it;

  PetscFunctionBeginUser;
  if (!*integ) PetscFunctionReturn(PETSC_SUCCESS);
  it = *integ;
  if (it->vec_viewer) {
    if (it->setup_called) {
      PetscCall(PetscViewerPushFormat(it->vec_viewer, it->vec_format));
      PetscCall(RmIntegratorVecView_Private(it, it->vec_viewer));
      PetscCall(PetscViewerPopFormat(it->vec_viewer));
      RmNVLogTimingPop_Private();
    }
    PetscCall(PetscViewerDestroy(&it->vec_viewer));
  }
  if (it->ops.destroy) PetscCall(it->ops.destroy(it));
  PetscCall(VecDestroy(&it->y));
  PetscCall(VecDestroy(&it->f));
  PetscCall(PetscFree(it->type_name));
  PetscCall(PetscFree(it->prefix));
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

PetscErrorCode RmIntegratorGetStateVectorCount(RmIntegrator integ, PetscInt *count)
{
  PetscFunctionBeginUser;
  *count = 4;
  if (integ->ops.statevectors) PetscCall(integ->ops.statevectors(integ, count));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorUsesEulerStep(RmIntegrator integ, PetscBool *fuse)
{
  PetscBool euler;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(integ->type_name, RMINTEGRATOREULER, &euler));
  *fuse = (PetscBool)(euler && integ->euler_fuse);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorGetType(RmIntegrator integ, RmIntegratorType *type)
{
  PetscFunctionBeginUser;
  *type = integ->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorSetWeightScale(RmIntegrator integ, PetscReal scale)
{
  PetscFunctionBeginUser;
  PetscCheck(scale >= 0 && !PetscIsInfOrNanReal(scale), integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "weight scale must be finite and >= 0, got %g", (double)scale);
  integ->weight_scale = scale;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorGetAuto(RmIntegrator integ, PetscBool *chosen, const char **reason)
{
  PetscFunctionBeginUser;
  if (chosen) *chosen = integ->auto_chosen;
  if (reason) *reason = integ->auto_chosen ? integ->auto_reason : NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmIntegratorIsFixedStep(RmIntegrator integ, PetscBool *fixed)
{
  PetscFunctionBeginUser;
  *fixed = integ->fixed_step;
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
