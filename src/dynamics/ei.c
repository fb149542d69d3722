/* The E/I network of docs/model.md §5. Every negative term of the §2 design is carried by P+1
   inhibitory pools with non-negative weights (Dale's law):
     τ_I ż_0 = −z_0 + (1/N) 1ᵀx,   τ_I ż_μ = −z_μ + (1/N) ξ^μᵀx,
     τ_E ẋ   = −x + φ( α/N Σ_μ ξ^μ (ξ^μᵀx) + c1/N 1(1ᵀx) − αβ Σ_μ ξ^μ z_0 − αβ 1 Σ_μ z_μ + u ),
   with c1 = αβ²P + γ; when c1 < 0 that constant term is inhibitory too and goes through pool 0
   (c1 z_0 instead of c1/N 1ᵀx). As τ_I/τ_E → 0 the pools follow their inputs and this is exactly
   §3 with §2's W. E→E weights α/N ξ_iξ_j (+ c1/N if c1 >= 0) are >= 0; inhibition has weights αβ,
   αβ ξ_iμ and |c1| (>= 0). Pools may be populations of pool_size identical units; the excitatory
   neurons read each pool's mean.
   The memories enter through the factors of -storage lowrank (bit-packed ξ, RmSynapsesMatGetFactors; α/N, β, γ/N):
   one MPI_Allreduce of 2P+2 numbers per column per RHS or J·v, no n x n storage.
   Each column of the state is [x (nloc excitatory neurons), z (mloc local pool units)]. */
#include "dynamicsimpl.h"

struct _n_RmEI {
  RmFactors  fac;               /* borrowed from W */
  PetscInt   P, npools, n, L;    /* memories, pools, neurons, column stride nloc + mloc */
  PetscReal  a_over_n, ab, c1;  /* α/N, αβ, c1 = αβ²P + γ */
  PetscReal *count;             /* a_i = Σ_μ ξ_iμ for local neurons */
  PetscReal *loc, *red;         /* per column: t_μ (P), S, pool sums (P+1) */
  PetscReal *coef;              /* P */
};

#define RED(ei) (2 * (ei)->P + 2)

PetscErrorCode RmModelSetUp_EI(RmModel model)
{
  RmEI         *ei;
  RmFactors     fac;
  RmLowRankForm form;
  PetscInt      units;

  PetscFunctionBeginUser;
  PetscCall(RmSynapsesMatGetFactors(model->W, &fac, &form));
  PetscCheck(fac, model->comm, PETSC_ERR_ARG_INCOMP, "-network ei needs -storage lowrank (it uses the memories' factors, not an assembled W)");
  PetscCheck(form.design == RM_DESIGN_PAPER, model->comm, PETSC_ERR_ARG_INCOMP, "-network ei needs the paper design");
  PetscCall(PetscNew(&ei));
  model->ei = ei;
  ei->fac   = fac;
  PetscCall(MatGetSize(model->W, &ei->n, NULL));
  PetscCall(RmFactorsGetSizes(fac, NULL, &ei->P));
  ei->npools   = ei->P + 1;
  ei->a_over_n = form.s;                                    /* α/N */
  ei->ab       = form.s * ei->n * form.betap;               /* αβ */
  ei->c1       = ei->ab * form.betap * ei->P + form.g * ei->n; /* αβ²P + γ */
  units        = ei->npools * model->pool_size;
  model->mloc  = PETSC_DECIDE;
  PetscCall(PetscSplitOwnership(model->comm, &model->mloc, &units));
  PetscCallMPI(MPI_Scan(&model->mloc, &model->ustart, 1, MPIU_INT, MPI_SUM, model->comm));
  model->ustart -= model->mloc;
  ei->L = model->nloc + model->mloc;
  PetscCall(PetscMalloc4(model->nloc, &ei->count, RED(ei) * model->batch, &ei->loc, RED(ei) * model->batch, &ei->red, ei->P, &ei->coef));
  PetscCall(RmFactorsGetCounts(fac, ei->count));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelDestroy_EI(RmModel model)
{
  PetscFunctionBeginUser;
  if (!model->ei) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree4(model->ei->count, model->ei->loc, model->ei->red, model->ei->coef));
  PetscCall(PetscFree(model->ei));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reduced sums of every column of a state (or direction) s: t_μ = ξ^μᵀx, S = 1ᵀx, and the pool
   sums Z_p of the units; one MPI_Allreduce for all columns. */
static PetscErrorCode Reduce(RmModel model, const PetscScalar *sa)
{
  RmEI *ei = model->ei;

  PetscFunctionBeginUser;
  for (PetscInt b = 0; b < model->batch; b++) {
    const PetscScalar *x = sa + b * ei->L, *z = x + model->nloc;
    PetscReal         *r = ei->loc + b * RED(ei);
    PetscCall(RmFactorsMaskedSums(ei->fac, x, r)); /* t_μ and r[P] = S */
    for (PetscInt p = 0; p < ei->npools; p++) r[ei->P + 1 + p] = 0;
    for (PetscInt k = 0; k < model->mloc; k++) r[ei->P + 1 + (model->ustart + k) / model->pool_size] += z[k];
  }
  PetscCallMPI(MPI_Allreduce(ei->loc, ei->red, (PetscMPIInt)(RED(ei) * model->batch), MPIU_REAL, MPI_SUM, model->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Input current of the excitatory neurons of column b (without u), from the reduced sums:
   h = α/N Σ_μ ξ^μ t_μ − αβ a_i zbar_0 − αβ Σ_μ zbar_μ + (c1 >= 0 ? c1 S/N : c1 zbar_0). */
static PetscErrorCode Field(RmModel model, PetscInt b, const PetscScalar *x, PetscScalar *h)
{
  RmEI            *ei = model->ei;
  const PetscReal *r  = ei->red + b * RED(ei), S = r[ei->P];
  const PetscReal *zbar_sum = r + ei->P + 1, inv = 1.0 / model->pool_size;
  PetscReal        shift = 0, z0 = zbar_sum[0] * inv;

  PetscFunctionBeginUser;
  for (PetscInt mu = 0; mu < ei->P; mu++) {
    ei->coef[mu] = ei->a_over_n * r[mu];
    shift -= ei->ab * zbar_sum[1 + mu] * inv;
  }
  shift += ei->c1 >= 0 ? ei->c1 * S / ei->n : ei->c1 * z0;
  PetscCall(RmFactorsExpand(ei->fac, ei->coef, 1.0, shift, 0.0, x, h)); /* d = 0: x is not read */
  for (PetscInt i = 0; i < model->nloc; i++) h[i] -= ei->ab * ei->count[i] * z0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Input of pool unit k's pool: (1/N) 1ᵀx for pool 0, (1/N) ξ^μᵀx for pool μ. */
static inline PetscReal PoolInput(RmModel model, PetscInt b, PetscInt k)
{
  RmEI           *ei = model->ei;
  const PetscReal *r = ei->red + b * RED(ei);
  PetscInt         p = (model->ustart + k) / model->pool_size;
  return (p == 0 ? r[ei->P] : r[p - 1]) / ei->n;
}

PetscErrorCode RmModelRHS_EI(RmModel model, Vec x, Vec f)
{
  RmEI              *ei = model->ei;
  const PetscScalar *xa;
  PetscScalar       *fa, *ha;
  const PetscReal    itau = 1.0 / model->tau, itau_i = 1.0 / model->tau_i;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(Reduce(model, xa));
  PetscCall(VecGetArrayWrite(f, &fa));
  PetscCall(VecGetArrayWrite(model->h, &ha));
  for (PetscInt b = 0; b < model->batch; b++) {
    const PetscScalar *xb = xa + b * ei->L;
    PetscScalar       *fb = fa + b * ei->L, *hb = ha + b * model->nloc;
    PetscCall(Field(model, b, xb, hb));
    for (PetscInt i = 0; i < model->nloc; i++) fb[i] = itau * (-xb[i] + RmActivationEval(&model->act, hb[i] + model->input));
    for (PetscInt k = 0; k < model->mloc; k++) fb[model->nloc + k] = itau_i * (-xb[model->nloc + k] + PoolInput(model, b, k));
  }
  PetscCall(VecRestoreArrayWrite(model->h, &ha));
  PetscCall(VecRestoreArrayWrite(f, &fa));
  PetscCall(VecRestoreArrayRead(x, &xa));
  model->products++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* φ'(h) at x (from f when given: φ(h + u) = τ f + x), and diag(J) for the preconditioner:
   excitatory (−1 + φ'_i (α a_i + max(c1, 0))/N)/τ_E, pool units −1/τ_I. */
PetscErrorCode RmModelJacobianSetUp_EI(RmModel model, Vec x, Vec f)
{
  RmEI              *ei = model->ei;
  const PetscScalar *xa, *fa = NULL;
  PetscScalar       *d, *g, *ha;
  PetscReal          dp;
  PetscBool          from_value = (PetscBool)(f && RmActivationDerivativeFromValue(&model->act, 0.5, &dp));

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.jac_setup, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(x, &xa));
  if (from_value) PetscCall(VecGetArrayRead(f, &fa));
  else {
    PetscCall(Reduce(model, xa));
    model->products++;
  }
  PetscCall(VecGetArrayWrite(model->dphi, &d));
  PetscCall(VecGetArrayWrite(model->h, &ha));
  PetscCall(VecGetArrayWrite(model->diag, &g));
  for (PetscInt b = 0; b < model->batch; b++) {
    const PetscScalar *xb = xa + b * ei->L;
    PetscScalar       *db = d + b * model->nloc, *gb = g + b * ei->L, *hb = ha + b * model->nloc;
    if (from_value) {
      RmDerivativeFromRHS_Private(&model->act, model->tau, model->nloc, fa + b * ei->L, xb, db);
    } else {
      PetscCall(Field(model, b, xb, hb));
      RmActivationDerivativeArray(&model->act, model->nloc, hb, model->input, db);
    }
    for (PetscInt i = 0; i < model->nloc; i++) gb[i] = (-1.0 + db[i] * (ei->a_over_n * ei->count[i] + PetscMax(ei->c1, 0.0) / ei->n)) / model->tau;
    for (PetscInt k = 0; k < model->mloc; k++) gb[model->nloc + k] = -1.0 / model->tau_i;
  }
  PetscCall(VecRestoreArrayWrite(model->diag, &g));
  PetscCall(VecRestoreArrayWrite(model->h, &ha));
  PetscCall(VecRestoreArrayWrite(model->dphi, &d));
  if (from_value) PetscCall(VecRestoreArrayRead(f, &fa));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(PetscLogEventEnd(RM_EVENTS.jac_setup, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* J v: the same structure as the RHS with φ linearised: (Jv)_x = (−v_x + φ' ⊙ δh(v))/τ_E,
   (Jv)_z = (−v_z + pool input(v_x))/τ_I. */
PetscErrorCode RmModelJacobianMult_EI(RmModel model, Vec v, Vec Jv)
{
  RmEI              *ei = model->ei;
  const PetscScalar *va, *d;
  PetscScalar       *ja, *ha;
  const PetscReal    itau = 1.0 / model->tau, itau_i = 1.0 / model->tau_i;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(v, &va));
  PetscCall(Reduce(model, va));
  PetscCall(VecGetArrayRead(model->dphi, &d));
  PetscCall(VecGetArrayWrite(model->h, &ha));
  PetscCall(VecGetArrayWrite(Jv, &ja));
  for (PetscInt b = 0; b < model->batch; b++) {
    const PetscScalar *vb = va + b * ei->L, *db = d + b * model->nloc;
    PetscScalar       *jb = ja + b * ei->L, *hb = ha + b * model->nloc;
    PetscCall(Field(model, b, vb, hb));
    for (PetscInt i = 0; i < model->nloc; i++) jb[i] = itau * (-vb[i] + db[i] * hb[i]);
    for (PetscInt k = 0; k < model->mloc; k++) jb[model->nloc + k] = itau_i * (-vb[model->nloc + k] + PoolInput(model, b, k));
  }
  PetscCall(VecRestoreArrayWrite(Jv, &ja));
  PetscCall(VecRestoreArrayWrite(model->h, &ha));
  PetscCall(VecRestoreArrayRead(model->dphi, &d));
  PetscCall(VecRestoreArrayRead(v, &va));
  model->products++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Start from neuron rates with the pools at the steady state of their inputs. */
PetscErrorCode RmModelStateFromNeurons_EI(RmModel model, Vec xn, Vec x)
{
  RmEI              *ei = model->ei;
  const PetscScalar *na;
  PetscScalar       *xa;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(xn, &na));
  PetscCall(VecGetArrayWrite(x, &xa));
  for (PetscInt b = 0; b < model->batch; b++) {
    PetscCall(PetscArraycpy(xa + b * ei->L, na + b * model->nloc, model->nloc));
    for (PetscInt k = 0; k < model->mloc; k++) xa[b * ei->L + model->nloc + k] = 0;
  }
  PetscCall(Reduce(model, xa));
  for (PetscInt b = 0; b < model->batch; b++)
    for (PetscInt k = 0; k < model->mloc; k++) xa[b * ei->L + model->nloc + k] = PoolInput(model, b, k);
  PetscCall(VecRestoreArrayWrite(x, &xa));
  PetscCall(VecRestoreArrayRead(xn, &na));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelNeuronsFromState_EI(RmModel model, Vec x, Vec xn)
{
  RmEI              *ei = model->ei;
  const PetscScalar *xa;
  PetscScalar       *na;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayWrite(xn, &na));
  for (PetscInt b = 0; b < model->batch; b++) PetscCall(PetscArraycpy(na + b * model->nloc, xa + b * ei->L, model->nloc));
  PetscCall(VecRestoreArrayWrite(xn, &na));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}
