/* -integrator em: Euler–Maruyama for dy = f(y) dt + σ dW (docs/model.md §7; -noise σ, -noise_seed), the
   fixed-step loop of euler with a noise increment. With σ > 0 it never stops at "convergence" (the path
   is stochastic) and runs to t_final; with σ = 0 it is euler, step for step. */
#include "integrateimpl.h"

typedef struct {
  /* global unit numbering of the state (batch columns of [neurons | extra units such as E/I pools]),
     so that each unit's increment is keyed by its global index whatever the partition */
  PetscInt batch, n, nloc, rstart, m, mloc, ustart;
} RmIntegrator_EM;

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
  RmIntegrator_EM   *em = (RmIntegrator_EM *)integ->data;
  PetscScalar       *ya;
  const PetscScalar *fa;
  const PetscInt     L = em->nloc + em->mloc, N = em->n + em->m;

  PetscFunctionBeginUser;
  if (integ->sigma == 0) { /* the euler update, the same call: σ = 0 reproduces it bit for bit */
    PetscCall(VecAXPY(integ->y, h, integ->f));
    integ->noise_step++;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecGetArray(integ->y, &ya));
  PetscCall(VecGetArrayRead(integ->f, &fa));
  for (PetscInt b = 0; b < em->batch; b++) {
    RmEulerMaruyamaStep(em->nloc, b * N + em->rstart, ya + b * L, fa + b * L, h, integ->sigma, (uint64_t)integ->noise_seed, (uint64_t)integ->noise_step);
    if (em->mloc)
      RmEulerMaruyamaStep(em->mloc, b * N + em->n + em->ustart, ya + b * L + em->nloc, fa + b * L + em->nloc, h, integ->sigma, (uint64_t)integ->noise_seed,
                          (uint64_t)integ->noise_step);
  }
  PetscCall(VecRestoreArrayRead(integ->f, &fa));
  PetscCall(VecRestoreArray(integ->y, &ya));
  integ->noise_step++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetFromOptionsEM(PetscOptionItems *PetscOptionsObject, RmIntegrator integ)
{
  PetscInt seed = (PetscInt)integ->noise_seed;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsReal("-noise", "sigma of the additive white noise dy = f dt + sigma dW (integrator em)", "RmIntegratorSetFromOptions", integ->sigma,
                             &integ->sigma, NULL));
  PetscCall(PetscOptionsInt("-noise_seed", "Seed of the noise increments (integrator em)", "RmIntegratorSetFromOptions", seed, &seed, NULL));
  PetscCall(RmOptionsCheckIntRange(integ->comm, "-noise_seed", 0, PETSC_MAX_INT));
  PetscCheck(seed >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "noise_seed must be >= 0, got %" PetscInt_FMT, seed);
  integ->noise_seed = seed;
  PetscCall(RmCheckFinite(integ->comm, "noise", integ->sigma));
  PetscCheck(integ->sigma >= 0, integ->comm, PETSC_ERR_ARG_OUTOFRANGE, "noise must be >= 0, got %g", (double)integ->sigma);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The state's global unit numbering (see StepEM). */
static PetscErrorCode SetUpEM(RmIntegrator integ)
{
  RmIntegrator_EM *em = (RmIntegrator_EM *)integ->data;
  Vec              xn;
  PetscInt         nb, nlocb, start, yloc;
  PetscMPIInt      mloc, ustart, m;

  PetscFunctionBeginUser;
  PetscCall(RmModelGetBatch(integ->model, &em->batch));
  PetscCall(RmModelCreateNeuronVec(integ->model, &xn));
  PetscCall(VecGetSize(xn, &nb));
  PetscCall(VecGetLocalSize(xn, &nlocb));
  PetscCall(VecGetOwnershipRange(xn, &start, NULL));
  PetscCall(VecDestroy(&xn));
  PetscCall(VecGetLocalSize(integ->y, &yloc));
  em->n      = nb / em->batch;
  em->nloc   = nlocb / em->batch;
  em->rstart = start / em->batch;
  mloc       = (PetscMPIInt)(yloc / em->batch - em->nloc);
  PetscCallMPI(MPI_Scan(&mloc, &ustart, 1, MPI_INT, MPI_SUM, integ->comm));
  PetscCallMPI(MPI_Allreduce(&mloc, &m, 1, MPI_INT, MPI_SUM, integ->comm));
  em->mloc   = mloc;
  em->ustart = ustart - mloc;
  em->m      = m;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SolveEM(RmIntegrator integ, PetscReal t0, PetscInt64 step0, RmIntegratorStats *st)
{
  PetscFunctionBeginUser;
  PetscCall(RmIntegratorSolveFixedStep_Private(integ, StepEM, (PetscBool)(integ->sigma > 0), t0, step0, st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ViewEM(RmIntegrator integ, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, ", dt %g, noise %g (seed %" PetscInt64_FMT ")", (double)integ->euler_dt, (double)integ->sigma, integ->noise_seed));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DestroyEM(RmIntegrator integ)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(integ->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmIntegratorCreate_EM(RmIntegrator integ)
{
  RmIntegrator_EM *em;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&em));
  integ->data               = em;
  integ->fixed_step         = PETSC_TRUE;
  integ->ops.setfromoptions = SetFromOptionsEM;
  integ->ops.setup          = SetUpEM;
  integ->ops.solve          = SolveEM;
  integ->ops.view           = ViewEM;
  integ->ops.destroy        = DestroyEM;
  PetscFunctionReturn(PETSC_SUCCESS);
}
