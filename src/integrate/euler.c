/* -integrator euler: explicit Euler x_{k+1} = x_k + dt f(x_k) with the fixed step -euler_dt, the
   baseline of peers. Also the fixed-step loop that em (Euler–Maruyama, em.c) runs with its own update. */
#include "integrateimpl.h"

PetscErrorCode RmIntegratorSolveFixedStep_Private(RmIntegrator integ, PetscErrorCode (*update)(RmIntegrator, PetscReal), PetscBool stochastic, PetscReal t0,
                                                  PetscInt64 step0, RmIntegratorStats *st)
{
  PetscReal t = t0, dt = integ->euler_dt, res; /* t0, step0: where an interrupted solve stopped (0, 0 for a new one) */
  PetscBool stop;

  PetscFunctionBeginUser;
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

static PetscErrorCode SolveEuler(RmIntegrator integ, PetscReal t0, PetscInt64 step0, RmIntegratorStats *st)
{
  PetscFunctionBeginUser;
  PetscCall(RmIntegratorSolveFixedStep_Private(integ, EulerUpdate, PETSC_FALSE, t0, step0, st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ViewEuler(RmIntegrator integ, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, ", dt %g", (double)integ->euler_dt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmIntegratorCreate_Euler(RmIntegrator integ)
{
  PetscFunctionBeginUser;
  integ->fixed_step = PETSC_TRUE;
  integ->ops.solve  = SolveEuler;
  integ->ops.view   = ViewEuler;
  PetscFunctionReturn(PETSC_SUCCESS);
}
