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

typedef struct {
  PetscReal  tau_i;             /* -tau_i (or τ/-stiffness) */
  PetscInt   pool_size;         /* -pool_size: units per pool */
  PetscBool  set_taui, set_stiff;
  PetscReal  stiffness;
  PetscInt   ustart;            /* first local pool unit */
  RmFactors  fac;               /* borrowed from W */
  PetscInt   P, npools, n, L;    /* memories, pools, neurons, column stride nloc + mloc */
  PetscReal  a_over_n, ab, c1;  /* α/N, αβ, c1 = αβ²P + γ */
  PetscReal *count;             /* a_i = Σ_μ ξ_iμ for local neurons */
  PetscReal *loc, *red;         /* per column: t_μ (P), S, pool sums (P+1) */
  PetscReal *coef;              /* P */
} RmEI;

#define RED(ei) (2 * (ei)->P + 2)

static PetscErrorCode SetUp_EI(RmModel model)
{
  RmEI         *ei = (RmEI *)model->data;
  RmFactors     fac;
  RmLowRankForm form;
  PetscInt      units;

  PetscFunctionBeginUser;
  PetscCall(RmSynapsesMatGetFactors(model->W, &fac, &form));
  PetscCheck(fac, model->comm, PETSC_ERR_ARG_INCOMP, "-network ei needs -storage lowrank (it uses the memories' factors, not an assembled W)");
  PetscCheck(form.design == RM_DESIGN_PAPER, model->comm, PETSC_ERR_ARG_INCOMP, "-network ei needs the paper design");
  ei->fac = fac;
  PetscCall(MatGetSize(model->W, &ei->n, NULL));
  PetscCall(RmFactorsGetSizes(fac, NULL, &ei->P));
  ei->npools   = ei->P + 1;
  ei->a_over_n = form.s;                                    /* α/N */
  ei->ab       = form.s * ei->n * form.betap;               /* αβ */
  ei->c1       = ei->ab * form.betap * ei->P + form.g * ei->n; /* αβ²P + γ */
  units        = ei->npools * ei->pool_size;
  model->mloc  = PETSC_DECIDE;
  PetscCall(PetscSplitOwnership(model->comm, &model->mloc, &units));
  PetscCallMPI(MPI_Scan(&model->mloc, &ei->ustart, 1, MPIU_INT, MPI_SUM, model->comm));
  ei->ustart -= model->mloc;
  ei->L = model->nloc + model->mloc;
  PetscCall(PetscMalloc4(model->nloc, &ei->count, RED(ei) * model->batch, &ei->loc, RED(ei) * model->batch, &ei->red, ei->P, &ei->coef));
  PetscCall(RmFactorsGetCounts(fac, ei->count));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Destroy_EI(RmModel model)
{
  RmEI *ei = (RmEI *)model->data;

  PetscFunctionBeginUser;
  PetscCall(PetscFree4(ei->count, ei->loc, ei->red, ei->coef));
  PetscCall(PetscFree(model->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reduced sums of every column of a state (or direction) s: t_μ = ξ^μᵀx, S = 1ᵀx, and the pool
   sums Z_p of the units; one MPI_Allreduce for all columns. */
static PetscErrorCode Reduce(RmModel model, const PetscScalar *sa)
{
  RmEI *ei = (RmEI *)model->data;

  PetscFunctionBeginUser;
  for (PetscInt b = 0; b < model->batch; b++) {
    const PetscScalar *x = sa + b * ei->L, *z = x + model->nloc;
    PetscReal         *r = ei->loc + b * RED(ei);
    PetscCall(RmFactorsMaskedSums(ei->fac, x, r)); /* t_μ and r[P] = S */
    for (PetscInt p = 0; p < ei->npools; p++) r[ei->P + 1 + p] = 0;
    for (PetscInt k = 0; k < model->mloc; k++) r[ei->P + 1 + (ei->ustart + k) / ei->pool_size] += z[k];
  }
  PetscCallMPI(MPI_Allreduce(ei->loc, ei->red, (PetscMPIInt)(RED(ei) * model->batch), MPIU_REAL, MPI_SUM, model->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Input current of the excitatory neurons of column b (without u), from the reduced sums:
   h = α/N Σ_μ ξ^μ t_μ − αβ a_i zbar_0 − αβ Σ_μ zbar_μ + (c1 >= 0 ? c1 S/N : c1 zbar_0). */
static PetscErrorCode Field(RmModel model, PetscInt b, const PetscScalar *x, PetscScalar *h)
{
  RmEI            *ei = (RmEI *)model->data;
  const PetscReal *r  = ei->red + b * RED(ei), S = r[ei->P];
  const PetscReal *zbar_sum = r + ei->P + 1, inv = 1.0 / ei->pool_size;
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
  RmEI           *ei = (RmEI *)model->data;
  const PetscReal *r = ei->red + b * RED(ei);
  PetscInt         p = (ei->ustart + k) / ei->pool_size;
  return (p == 0 ? r[ei->P] : r[p - 1]) / ei->n;
}

static PetscErrorCode RHS_EI(RmModel model, Vec x, Vec f)
{
  RmEI              *ei = (RmEI *)model->data;
  const PetscScalar *xa;
  PetscScalar       *fa, *ha;
  const PetscReal    itau = 1.0 / model->tau, itau_i = 1.0 / ei->tau_i;

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
static PetscErrorCode JacobianSetUp_EI(RmModel model, Vec x, Vec f)
{
  RmEI              *ei = (RmEI *)model->data;
  const PetscScalar *xa, *fa = NULL;
  PetscScalar       *d, *g, *ha;
  PetscReal          dp;
  PetscBool          from_value = (PetscBool)(f && RmActivationDerivativeFromValue(&model->act, 0.5, &dp));

  PetscFunctionBeginUser;
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
    for (PetscInt k = 0; k < model->mloc; k++) gb[model->nloc + k] = -1.0 / ei->tau_i;
  }
  PetscCall(VecRestoreArrayWrite(model->diag, &g));
  PetscCall(VecRestoreArrayWrite(model->h, &ha));
  PetscCall(VecRestoreArrayWrite(model->dphi, &d));
  if (from_value) PetscCall(VecRestoreArrayRead(f, &fa));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* J v: the same structure as the RHS with φ linearised: (Jv)_x = (−v_x + φ' ⊙ δh(v))/τ_E,
   (Jv)_z = (−v_z + pool input(v_x))/τ_I. */
static PetscErrorCode JacobianMult_EI(RmModel model, Vec v, Vec Jv)
{
  RmEI              *ei = (RmEI *)model->data;
  const PetscScalar *va, *d;
  PetscScalar       *ja, *ha;
  const PetscReal    itau = 1.0 / model->tau, itau_i = 1.0 / ei->tau_i;

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
static PetscErrorCode StateFromNeurons_EI(RmModel model, Vec xn, Vec x)
{
  RmEI              *ei = (RmEI *)model->data;
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

static PetscErrorCode NeuronsFromState_EI(RmModel model, Vec x, Vec xn)
{
  RmEI              *ei = (RmEI *)model->data;
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

/* ‖τ ⊙ f‖∞ with each unit's own time constant: τ_E for the neurons, τ_I for the pool units. */
static PetscErrorCode Residual_EI(RmModel model, Vec f, PetscReal *norm)
{
  RmEI              *ei = (RmEI *)model->data;
  const PetscScalar *fa;
  PetscReal          loc = 0;
  PetscInt           len, L;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(f, &len));
  L = model->nloc + model->mloc;
  PetscCall(VecGetArrayRead(f, &fa));
  for (PetscInt k = 0; k < len; k++) {
    PetscReal v = PetscAbsScalar(fa[k]) * (k % L < model->nloc ? model->tau : ei->tau_i);
    loc         = v > loc || PetscIsNanReal(v) ? v : loc;
  }
  PetscCall(VecRestoreArrayRead(f, &fa));
  PetscCallMPI(MPI_Allreduce(&loc, norm, 1, MPIU_REAL, MPIU_MAX, model->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetFromOptions_EI(PetscOptionItems *PetscOptionsObject, RmModel model)
{
  RmEI *ei = (RmEI *)model->data;

  PetscFunctionBeginUser;
  ei->stiffness = model->tau / ei->tau_i;
  PetscOptionsHeadBegin(PetscOptionsObject, "E/I network (docs/model.md §5)");
  PetscCall(PetscOptionsReal("-tau_i", "Time constant of the inhibitory pools (E/I network)", "RmModelSetFromOptions", ei->tau_i, &ei->tau_i, &ei->set_taui));
  PetscCall(PetscOptionsReal("-stiffness", "Stiffness ratio tau/tau_i of the E/I network (alternative to -tau_i)", "RmModelSetFromOptions", ei->stiffness,
                             &ei->stiffness, &ei->set_stiff));
  PetscCall(PetscOptionsInt("-pool_size", "Units per inhibitory pool (E/I network)", "RmModelSetFromOptions", ei->pool_size, &ei->pool_size, NULL));
  PetscOptionsHeadEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Check_EI(RmModel model)
{
  RmEI *ei = (RmEI *)model->data;

  PetscFunctionBeginUser;
  PetscCheck(!(ei->set_stiff && ei->set_taui), model->comm, PETSC_ERR_ARG_INCOMP, "give -tau_i or -stiffness, not both");
  PetscCall(RmCheckFinite(model->comm, "stiffness", ei->stiffness));
  PetscCheck(ei->stiffness > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "stiffness must be > 0, got %g", (double)ei->stiffness);
  PetscCall(RmCheckFinite(model->comm, "tau", model->tau)); /* before τ/stiffness */
  PetscCheck(model->tau > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "tau must be > 0, got %g", (double)model->tau);
  if (ei->set_stiff) ei->tau_i = model->tau / ei->stiffness;
  PetscCall(RmCheckFinite(model->comm, "tau_i", ei->tau_i));
  PetscCheck(ei->tau_i > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "tau_i must be > 0, got %g", (double)ei->tau_i);
  PetscCall(RmOptionsCheckIntRange(model->comm, "-pool_size", 1, PETSC_MAX_INT));
  PetscCheck(ei->pool_size >= 1, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "pool_size must be >= 1, got %" PetscInt_FMT, ei->pool_size);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GetInhibition_EI(RmModel model, PetscReal *tau_i, PetscInt *pool_size)
{
  RmEI *ei = (RmEI *)model->data;

  PetscFunctionBeginUser;
  if (tau_i) *tau_i = ei->tau_i;
  if (pool_size) *pool_size = ei->pool_size;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode View_EI(RmModel model, PetscViewer viewer)
{
  RmEI *ei = (RmEI *)model->data;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "  E/I network of docs/model.md §5: tau_i %g, %" PetscInt_FMT " unit(s) per pool\n", (double)ei->tau_i, ei->pool_size));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmModelCreate_EI(RmModel model)
{
  RmEI *ei;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&ei));
  ei->tau_i                 = 0.01;
  ei->pool_size             = 1;
  model->data               = ei;
  model->jacobian_form      = RM_JACOBIAN_POOLS;
  model->encoding           = RM_ENCODING_BINARY;
  model->rate_activation    = PETSC_TRUE;
  model->default_activation = RMACTIVATIONSIGMOID;
  model->default_gain       = 4.8;
  model->ops.setfromoptions = SetFromOptions_EI;
  model->ops.check          = Check_EI;
  model->ops.setup          = SetUp_EI;
  model->ops.rhs            = RHS_EI;
  model->ops.jacobiansetup  = JacobianSetUp_EI;
  model->ops.jacobianmult   = JacobianMult_EI;
  model->ops.statefromneurons = StateFromNeurons_EI;
  model->ops.neuronsfromstate = NeuronsFromState_EI;
  model->ops.residual       = Residual_EI;
  model->ops.getinhibition  = GetInhibition_EI;
  model->ops.view           = View_EI;
  model->ops.destroy        = Destroy_EI;
  PetscFunctionReturn(PETSC_SUCCESS);
}
