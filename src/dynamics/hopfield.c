/* The Hopfield voltage form of docs/model.md §3: τ ẏ = −y + W tanh(δ y) + u, ±1 memories (-design
   hebbian), J = (−I + W D)/τ with D = diag(φ'(y)), readout tanh(δ y). Takes vector inputs, additive or
   multiplicative (input-driven synapses W(u) of §7, pushed into the low-rank storage). */
#include "dynamicsimpl.h"

static PetscErrorCode SetUp_Voltage(RmModel model)
{
  PetscFunctionBeginUser;
  PetscCall(RmModelSetUpBatch_Private(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RHS_Voltage(RmModel model, Vec x, Vec f)
{
  const PetscScalar *xa, *ha, *uv = NULL;
  PetscScalar       *fa, *pa;
  PetscInt           nloc;
  const PetscReal    itau = 1.0 / model->tau, u = model->input;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(x, &nloc));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayWrite(model->work, &pa));
  RmActivationEvalArray(&model->act, nloc, xa, 0.0, pa);
  PetscCall(VecRestoreArrayWrite(model->work, &pa));
  PetscCall(model->product(model, model->work, model->h));
  if (model->uvec) PetscCall(VecGetArrayRead(model->uvec, &uv));
  PetscCall(VecGetArrayRead(model->h, &ha));
  PetscCall(VecGetArrayWrite(f, &fa));
  if (model->input_mode == RM_INPUT_MULTIPLICATIVE) /* the input acts through W(u) only */
    for (PetscInt i = 0; i < nloc; i++) fa[i] = itau * (-xa[i] + ha[i]);
  else
    for (PetscInt i = 0; i < nloc; i++) fa[i] = itau * (-xa[i] + ha[i] + u + (uv ? uv[i] : 0.0));
  PetscCall(VecRestoreArrayWrite(f, &fa));
  PetscCall(VecRestoreArrayRead(model->h, &ha));
  if (model->uvec) PetscCall(VecRestoreArrayRead(model->uvec, &uv));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* D = φ'(y): no weight product (f is not needed). */
static PetscErrorCode JacobianSetUp_Voltage(RmModel model, Vec x, Vec f)
{
  const PetscScalar *xa;
  PetscScalar       *d;
  PetscInt           nloc;

  PetscFunctionBeginUser;
  (void)f;
  PetscCall(VecGetLocalSize(x, &nloc));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayWrite(model->dphi, &d));
  RmActivationDerivativeArray(&model->act, nloc, xa, 0.0, d);
  PetscCall(VecRestoreArrayWrite(model->dphi, &d));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(RmModelSingleDiagonal_Private(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* J v = (−v + W (φ'(y) ⊙ v))/τ */
static PetscErrorCode JacobianMult_Voltage(RmModel model, Vec v, Vec Jv)
{
  const PetscReal itau = 1.0 / model->tau;

  PetscFunctionBeginUser;
  PetscCall(VecPointwiseMult(model->work, model->dphi, v));
  PetscCall(model->product(model, model->work, Jv));
  PetscCall(VecAXPBY(Jv, -itau, itau, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Multiplicative mode: α(u) of the effective input u + input·1, pushed into the low-rank W. */
static PetscErrorCode ApplyInput_Voltage(RmModel model, PetscBool at_setup)
{
  RmFactors     fac;
  RmLowRankForm form;
  Vec           u;

  PetscFunctionBeginUser;
  (void)at_setup;
  if (model->input_mode != RM_INPUT_MULTIPLICATIVE) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmSynapsesMatGetFactors(model->W, &fac, &form));
  PetscCheck(fac && form.design == RM_DESIGN_HEBBIAN, model->comm, PETSC_ERR_ARG_INCOMP, "-input_mode multiplicative needs -design hebbian -storage lowrank");
  PetscCheck(model->batch == 1, model->comm, PETSC_ERR_ARG_INCOMP, "-input_mode multiplicative needs batch 1");
  PetscCall(RmModelEffectiveInput_Private(model, &u));
  PetscCall(RmSynapsesMatSetInput(model->W, u, &model->P, &model->alpha));
  PetscCall(VecDestroy(&u));
  PetscCall(RmModelWeightDiagonal_Private(model)); /* zero: keeps the preconditioner consistent */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmModelCreate_Voltage(RmModel model)
{
  PetscFunctionBeginUser;
  model->jacobian_form      = RM_JACOBIAN_WD;
  model->encoding           = RM_ENCODING_SPIN;
  model->rate_activation    = PETSC_FALSE;
  model->default_activation = RMACTIVATIONTANH;
  model->default_gain       = 10.0;
  model->vector_input       = PETSC_TRUE;
  model->multiplicative     = PETSC_TRUE;
  model->ops.setup          = SetUp_Voltage;
  model->ops.rhs            = RHS_Voltage;
  model->ops.jacobiansetup  = JacobianSetUp_Voltage;
  model->ops.jacobianmult   = JacobianMult_Voltage;
  model->ops.readout        = RmModelReadoutActivation_Private;
  model->ops.applyinput     = ApplyInput_Voltage;
  PetscFunctionReturn(PETSC_SUCCESS);
}
