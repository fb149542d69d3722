/* The rate model of docs/model.md §3: τ ẋ = −x + φ(W x + u), {0,1} memories, J = (−I + D W)/τ with
   D = diag(φ'(W x + u)). Its RHS, Jacobian set-up and J v go through model->product (the storage's
   W, or the §7 rate variant's own W(u): inputrate.c reuses them). */
#include "dynamicsimpl.h"

static PetscErrorCode SetUp_Rate(RmModel model)
{
  PetscFunctionBeginUser;
  PetscCall(RmModelSetUpBatch_Private(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* f = (−x + φ(W x + u))/τ; an additive vector input (the §7 rate variant, classic form) adds to W x,
   a multiplicative one acts through W(u) only, so the constant input is then not added either. */
PetscErrorCode RmModelRHS_Rate(RmModel model, Vec x, Vec f)
{
  const PetscScalar *xa, *ha;
  PetscScalar       *fa;
  PetscInt           nloc;
  const PetscReal    itau  = 1.0 / model->tau;
  const PetscBool    mult  = (PetscBool)(model->input_mode == RM_INPUT_MULTIPLICATIVE);
  const PetscReal    shift = mult ? 0.0 : model->input;
  const RmActivation act   = model->act;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(x, &nloc));
  PetscCall(model->product(model, x, model->h));
  if (!mult && model->uvec) PetscCall(VecAXPY(model->h, 1.0, model->uvec));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayRead(model->h, &ha));
  PetscCall(VecGetArrayWrite(f, &fa));
  RmActivationEvalArray(&act, nloc, ha, shift, fa);
  for (PetscInt i = 0; i < nloc; i++) fa[i] = itau * (-xa[i] + fa[i]);
  PetscCall(VecRestoreArrayWrite(f, &fa));
  PetscCall(VecRestoreArrayRead(model->h, &ha));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* D = φ'(W x + u): from f when given and the activation writes φ' through φ (φ(W x + u) = τ f + x: no
   weight product), else from one product. */
PetscErrorCode RmModelJacobianSetUp_Rate(RmModel model, Vec x, Vec f)
{
  const PetscScalar *src, *uv = NULL;
  PetscScalar       *d;
  PetscInt           nloc;
  PetscReal          dp;
  const PetscBool    mult  = (PetscBool)(model->input_mode == RM_INPUT_MULTIPLICATIVE);
  const PetscReal    shift = mult ? 0.0 : model->input;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(x, &nloc));
  if (f && RmActivationDerivativeFromValue(&model->act, 0.5, &dp)) {
    const PetscScalar *xa, *fa;
    PetscCall(VecGetArrayRead(x, &xa));
    PetscCall(VecGetArrayRead(f, &fa));
    PetscCall(VecGetArrayWrite(model->dphi, &d));
    RmDerivativeFromRHS_Private(&model->act, model->tau, nloc, fa, xa, d);
    PetscCall(VecRestoreArrayRead(f, &fa));
    PetscCall(VecRestoreArrayRead(x, &xa));
  } else {
    PetscCall(model->product(model, x, model->h));
    PetscCall(VecGetArrayWrite(model->dphi, &d));
    PetscCall(VecGetArrayRead(model->h, &src));
    if (!mult && model->uvec) PetscCall(VecGetArrayRead(model->uvec, &uv));
    if (uv) {
      for (PetscInt i = 0; i < nloc; i++) d[i] = src[i] + shift + uv[i];
      RmActivationDerivativeArray(&model->act, nloc, d, 0.0, d);
      PetscCall(VecRestoreArrayRead(model->uvec, &uv));
    } else RmActivationDerivativeArray(&model->act, nloc, src, shift, d);
    PetscCall(VecRestoreArrayRead(model->h, &src));
  }
  PetscCall(VecRestoreArrayWrite(model->dphi, &d));
  PetscCall(RmModelSingleDiagonal_Private(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* J v = (−v + φ'(h) ⊙ (W v))/τ */
PetscErrorCode RmModelJacobianMult_Rate(RmModel model, Vec v, Vec Jv)
{
  const PetscReal itau = 1.0 / model->tau;

  PetscFunctionBeginUser;
  PetscCall(model->product(model, v, model->work));
  PetscCall(VecPointwiseMult(Jv, model->dphi, model->work));
  PetscCall(VecAXPBY(Jv, -itau, itau, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  RmActivation       act;
  PetscReal          itau, h, shift, res; /* res: max_i |φ_i − y_i| = τ |f_i| so far */
  const PetscScalar *u;                   /* the vector input's local array, or NULL */
} RateEulerBlock;

/* One block of the fused step: φ of the block's W y (+ u), then y <- y + h (−y + φ)/τ. Locals, not
   the context, carry the running maximum so that the update loop vectorises. */
static void RateEulerUpdate(void *ctx, PetscInt i0, PetscInt len, const PetscScalar wy[], PetscScalar y[])
{
  RateEulerBlock *e = (RateEulerBlock *)ctx;
  PetscScalar     phi[1024];
  const PetscReal step = e->h * e->itau;
  PetscReal       res  = e->res;

  for (PetscInt b0 = 0; b0 < len; b0 += 1024) {
    const PetscInt     m  = PetscMin(1024, len - b0);
    const PetscScalar *u  = e->u ? e->u + i0 + b0 : NULL;
    PetscScalar *restrict yb = y + b0;
    if (u)
      for (PetscInt i = 0; i < m; i++) phi[i] = wy[b0 + i] + u[i];
    else
      for (PetscInt i = 0; i < m; i++) phi[i] = wy[b0 + i];
    RmActivationEvalArray(&e->act, m, phi, e->shift, phi);
    for (PetscInt i = 0; i < m; i++) {
      const PetscReal tf = phi[i] - yb[i]; /* τ f_i */
      res                = PetscMax(res, PetscAbsReal(tf));
      yb[i] += step * tf;
    }
  }
  e->res = res;
}

/* f is never formed: the storage streams W y block by block (RmSynapsesMatMultUpdate) and the update
   follows in the same pass, so a step reads the weights' factors and y once. */
PetscErrorCode RmModelEulerStep_Rate(RmModel model, PetscReal h, Vec y, PetscReal *local_residual)
{
  const PetscBool mult = (PetscBool)(model->input_mode == RM_INPUT_MULTIPLICATIVE);
  RateEulerBlock  e;

  PetscFunctionBeginUser;
  e.act   = model->act;
  e.itau  = 1.0 / model->tau;
  e.h     = h;
  e.shift = mult ? 0.0 : model->input;
  e.res   = 0;
  e.u     = NULL;
  if (!mult && model->uvec) PetscCall(VecGetArrayRead(model->uvec, &e.u));
  PetscCall(PetscLogEventBegin(RM_EVENTS.syn_mult, 0, 0, 0, 0));
  model->products++;
  PetscCall(RmSynapsesMatMultUpdate(model->W, y, RateEulerUpdate, &e));
  PetscCall(PetscLogEventEnd(RM_EVENTS.syn_mult, 0, 0, 0, 0));
  if (e.u) PetscCall(VecRestoreArrayRead(model->uvec, &e.u));
  *local_residual = e.res;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelCreate_Rate(RmModel model)
{
  PetscFunctionBeginUser;
  model->jacobian_form      = RM_JACOBIAN_DW;
  model->encoding           = RM_ENCODING_BINARY;
  model->rate_activation    = PETSC_TRUE;
  model->default_activation = RMACTIVATIONSIGMOID;
  model->default_gain       = 4.8;
  model->ops.setup          = SetUp_Rate;
  model->ops.rhs            = RmModelRHS_Rate;
  model->ops.jacobiansetup  = RmModelJacobianSetUp_Rate;
  model->ops.jacobianmult   = RmModelJacobianMult_Rate;
  model->ops.eulerstep      = RmModelEulerStep_Rate;
  PetscFunctionReturn(PETSC_SUCCESS);
}
