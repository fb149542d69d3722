/* -integrator auto: erk (adaptive explicit Runge–Kutta) when the model is not stiff, else bdf. The
   choice is made once, in RmIntegratorSetUp, when the model is known (docs/design.md "-integrator
   auto"):

     erk  iff  single population (not -network ei), τ = 1, no input-driven synapses, the weight
               scale ‖W‖ is known (RmIntegratorSetWeightScale), and the bound on the spectral
               radius of the Jacobian
                   ρ(J) ≤ (1 + L ‖W‖)/τ,   J = (−I + D W)/τ (rate) or (−I + W D)/τ (voltage),
                   0 ≤ D ≤ L = the activation's largest slope (the gain: ρ, or δ for tanh)
               is at most RM_AUTO_MAX_RADIUS;
     bdf  otherwise.

   RM_AUTO_MAX_RADIUS = 25: Dormand–Prince's stability interval on the negative real axis is about
   3.3, so an explicit step is then stable up to h ≈ 0.13, above the steps its accuracy asks for at the
   default tolerances (≈ 0.06 at rtol 1e-6 over t ≈ 14), and stability does not bound the step. At the
   paper's defaults the bound is 1 + 4.8 · 1.25 = 7, for the Hebbian baseline 1 + 10 · 1 = 11; the E/I
   network's pools (τ_I = τ_E/R) are stiff by construction.

   While the type is still "auto" (SetFromOptions) the options of both candidates are read, so
   -erk_table and -cvode_* are accepted and listed by -help; the chosen method reads its own again
   at the resolution. */
#include "integrateimpl.h"
#include <ratemem/input.h>
#include <stdarg.h>
#include <stdio.h>

#define RM_AUTO_MAX_RADIUS 25.0

/* C's %g (PetscSNPrintf writes 25 as "25.") */
static PetscErrorCode Why(char *why, size_t len, const char *fmt, ...)
{
  va_list ap;

  PetscFunctionBeginUser;
  va_start(ap, fmt);
  vsnprintf(why, len, fmt, ap);
  va_end(ap);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char *const Candidates[] = {RMINTEGRATORBDF, RMINTEGRATORERK};

static PetscErrorCode SetFromOptionsAuto(PetscOptionItems *PetscOptionsObject, RmIntegrator integ)
{
  PetscFunctionBeginUser;
  for (size_t k = 0; k < sizeof(Candidates) / sizeof(Candidates[0]); k++) {
    RmIntegrator tmp;
    PetscCall(RmIntegratorCreate(integ->comm, &tmp));
    PetscCall(RmIntegratorSetType(tmp, Candidates[k]));
    if (tmp->ops.setfromoptions) PetscCall(tmp->ops.setfromoptions(PetscOptionsObject, tmp));
    PetscCall(RmIntegratorDestroy(&tmp));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmIntegratorCreate_Auto(RmIntegrator integ)
{
  PetscFunctionBeginUser;
  integ->ops.setfromoptions = SetFromOptionsAuto; /* no solve: RmIntegratorSetUp replaces the type */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The choice for this model, and why (for -info and the unit test). */
PetscErrorCode RmIntegratorAutoChoose_Private(RmIntegrator integ, RmIntegratorType *choice, PetscReal *radius, char *why, size_t len)
{
  RmJacobianForm form;
  RmActivation act;
  RmInputMode  mode;
  PetscReal    tau;
  Mat            W;

  PetscFunctionBeginUser;
  PetscCall(RmModelGetJacobianForm(integ->model, &form));
  PetscCall(RmModelGetTau(integ->model, &tau));
  PetscCall(RmModelGetActivation(integ->model, &act));
  PetscCall(RmModelGetInputMode(integ->model, &mode));
  PetscCall(RmModelGetJacobianFactors(integ->model, &W, NULL)); /* NULL: the products go through the model's own W(u) */
  *radius = integ->weight_scale > 0 ? (1 + act.gain * integ->weight_scale) / tau : PETSC_INFINITY;
  *choice = RMINTEGRATORBDF;
  if (form == RM_JACOBIAN_POOLS) PetscCall(Why(why, len, "E/I network: the pools are stiff"));
  else if (tau != 1) PetscCall(Why(why, len, "tau = %g, not 1", (double)tau));
  else if (form == RM_JACOBIAN_OPAQUE) PetscCall(Why(why, len, "a model whose Jacobian is not of the D W or W D form: no bound on its spectral radius"));
  else if (mode == RM_INPUT_MULTIPLICATIVE || !W) PetscCall(Why(why, len, "input-driven synapses: W(u) is not bounded by the design"));
  else if (!(integ->weight_scale > 0)) PetscCall(Why(why, len, "the weight scale is not known"));
  else if (*radius > RM_AUTO_MAX_RADIUS)
    PetscCall(Why(why, len, "spectral radius bound (1 + gain ||W||)/tau = %g > %g", (double)*radius, RM_AUTO_MAX_RADIUS));
  else {
    *choice = RMINTEGRATORERK;
    PetscCall(Why(why, len, "spectral radius bound (1 + gain ||W||)/tau = %g <= %g", (double)*radius, RM_AUTO_MAX_RADIUS));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Collective (the chosen method's options block). Called by RmIntegratorSetUp before the set-up proper. */
PetscErrorCode RmIntegratorAutoResolve_Private(RmIntegrator integ)
{
  RmIntegratorType choice;
  PetscReal        radius;
  char             why[160];

  PetscFunctionBeginUser;
  PetscCall(RmIntegratorAutoChoose_Private(integ, &choice, &radius, why, sizeof(why)));
  PetscCall(PetscInfo(NULL, "-integrator auto -> %s: %s\n", choice, why));
  PetscCall(RmIntegratorSetType(integ, choice));
  integ->auto_chosen = PETSC_TRUE;
  PetscCall(PetscStrncpy(integ->auto_reason, why, sizeof(integ->auto_reason)));
  /* the chosen method's own options (-erk_table, -cvode_*), already accepted while the type was auto */
  PetscOptionsBegin(integ->comm, NULL, "Integration (docs/model.md §3)", "RmIntegrator");
  if (integ->ops.setfromoptions) PetscCall(integ->ops.setfromoptions(PetscOptionsObject, integ));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}
