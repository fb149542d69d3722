/* -integrator euler: explicit Euler x_{k+1} = x_k + dt f(x_k) with the fixed step -euler_dt, the
   baseline of peers. Also the fixed-step loop that em (Euler–Maruyama, em.c) runs with its own update. */
#include "integrateimpl.h"

PetscErrorCode RmIntegratorSolveFixedStep_Private(RmIntegrator integ, PetscErrorCode (*update)(RmIntegrator, PetscReal), PetscBool stochastic, PetscReal t0,
                                                  PetscInt64 step0, RmIntegratorStats *st)
{
  PetscReal t = t0, dt = integ->euler_dt, res; /* t0, step0: where an interrupted solve stopped (0, 0 for a new one) */
  PetscBool stop;

  PetscFunctionBeginUser;
  if (!integ->f) PetscCall(VecDuplicate(integ->y, &integ->f)); /* an in-place method's y is the caller's vector: f only now */
  for (;;) {
    PetscCall(RmModelRHS(integ->model, integ->y, integ->f));
    st->rhs_evals++;
    PetscCall(RmModelFixedPointResidual(integ->model, integ->f, &res)); /* ‖τ⊙f(x_k)‖∞ comes for free */
    PetscCheck(!PetscIsInfOrNanReal(res), integ->comm, PETSC_ERR_FP, "%s integrator diverged (non-finite rate of change) at t = %g; reduce -euler_dt",
               integ->type_name, (double)t);
    st->residual = res;
    if (!stochastic && res < integ->converge_tol) {
      st->converged = PETSC_TRUE;
      break;
    }
    if (t >= integ->t_final - 1e-12 * integ->t_final) break;
    PetscCall(RmIntegratorCheckStepBudget_Private(integ, step0 + st->steps, t));
    PetscReal h = PetscMin(dt, integ->t_final - t);
    PetscCall(update(integ, h));
    t += h;
    st->steps++;
    PetscCall(RmIntegratorStepBoundary_Private(integ, t, step0 + st->steps, integ->y, PETSC_FALSE, &stop));
    if (stop) {
      st->stopped = PETSC_TRUE;
      break;
    }
  }
  st->t_end = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode EulerUpdate(RmIntegrator integ, PetscReal h)
{
  PetscFunctionBeginUser;
  PetscCall(VecAXPY(integ->y, h, integ->f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The fused loop: each RmModelEulerStep is one pass over the weights that measures ‖τ⊙f(x_k)‖∞ and
   makes x_{k+1} together, so a run that converges ends at the state after the step whose rate met
   -converge_tol (one step further than the unfused loop, within dt·converge_tol/τ of its state), and
   at t_final a step of h = 0 measures the final residual. No n-sized vector besides x itself. */
static PetscErrorCode SolveEulerFused(RmIntegrator integ, PetscReal t0, PetscInt64 step0, RmIntegratorStats *st)
{
  PetscReal t = t0, res;
  PetscBool stop;

  PetscFunctionBeginUser;
  for (;;) {
    const PetscBool at_end = (PetscBool)(t >= integ->t_final - 1e-12 * integ->t_final);
    const PetscReal h      = at_end ? 0.0 : PetscMin(integ->euler_dt, integ->t_final - t);
    if (!at_end) PetscCall(RmIntegratorCheckStepBudget_Private(integ, step0 + st->steps, t));
    PetscCall(RmModelEulerStep(integ->model, h, integ->y, &res));
    st->rhs_evals++;
    PetscCheck(!PetscIsInfOrNanReal(res), integ->comm, PETSC_ERR_FP, "%s integrator diverged (non-finite rate of change) at t = %g; reduce -euler_dt",
               integ->type_name, (double)t);
    st->residual = res;
    if (at_end) break;
    t += h;
    st->steps++;
    if (res < integ->converge_tol) {
      st->converged = PETSC_TRUE;
      break;
    }
    PetscCall(RmIntegratorStepBoundary_Private(integ, t, step0 + st->steps, integ->y, PETSC_FALSE, &stop));
    if (stop) {
      st->stopped = PETSC_TRUE;
      break;
    }
  }
  st->t_end = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SolveEuler(RmIntegrator integ, PetscReal t0, PetscInt64 step0, RmIntegratorStats *st)
{
  PetscBool fused;

  PetscFunctionBeginUser;
  PetscCall(RmModelHasFusedEulerStep(integ->model, &fused));
  if (fused && integ->euler_fuse) PetscCall(SolveEulerFused(integ, t0, step0, st));
  else PetscCall(RmIntegratorSolveFixedStep_Private(integ, EulerUpdate, PETSC_FALSE, t0, step0, st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Besides x itself: f, unless the step is fused (known once the model has its weights) */
static PetscErrorCode StateVectorsEuler(RmIntegrator integ, PetscInt *count)
{
  PetscBool fused = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (integ->euler_fuse && integ->model) PetscCall(RmModelHasFusedEulerStep(integ->model, &fused));
  *count = fused ? 0 : 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetFromOptionsEuler(PetscOptionItems *PetscOptionsObject, RmIntegrator integ)
{
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsBool("-euler_fuse", "euler: fuse each step into one pass over the weights where the model and storage allow (rate model, lowrank); false: RHS, then update",
                             "RmIntegratorSetFromOptions", integ->euler_fuse, &integ->euler_fuse, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ViewEuler(RmIntegrator integ, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscBool fused = PETSC_FALSE;

  if (integ->euler_fuse && integ->setup_called) PetscCall(RmModelHasFusedEulerStep(integ->model, &fused));
  PetscCall(PetscViewerASCIIPrintf(viewer, ", dt %g%s", (double)integ->euler_dt, fused ? ", fused step" : ""));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmIntegratorCreate_Euler(RmIntegrator integ)
{
  PetscFunctionBeginUser;
  integ->fixed_step       = PETSC_TRUE;
  integ->inplace          = PETSC_TRUE;
  integ->ops.setfromoptions = SetFromOptionsEuler;
  integ->ops.solve        = SolveEuler;
  integ->ops.view         = ViewEuler;
  integ->ops.statevectors = StateVectorsEuler;
  PetscFunctionReturn(PETSC_SUCCESS);
}
