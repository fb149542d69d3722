/* The firing-rate input-driven variant of docs/model.md §7 (-input_variant rate, -model_type inputrate):
   the rate model (rate.c) with the products through its own W(u), {0,1} memories, readout Φ(x).
   W(u) = s (Ξ − p) diag(α) (Ξ − p)ᵀ + g 11ᵀ − diag(D), D_i = s Σ_μ α_μ (ξ_iμ − p)² + g (zero diagonal);
   multiplicative: s = 1.25/(N p(1−p)), g = −1/(N p), α_μ = (ξ^μ − p)ᵀu/(N p);
   additive (classic): s = 1/(N p(1−p)), g = 0, α = 1.
   W(u) x = Σ_μ c_μ ξ^μ − p Σ_μ c_μ 1 + g (1ᵀx) 1 − D ⊙ x with c_μ = s α_μ (ξ^μᵀx − p 1ᵀx): the masked
   sums of the low-rank kernels on the memories' own packed bits, one MPI_Allreduce of P+1 numbers. */
#include "dynamicsimpl.h"

typedef struct {
  RmFactors    fac;   /* the factor operator on the memories (masked-sum kernels) */
  PetscInt     n, nloc, P;
  PetscReal    p, s, g;
  PetscReal   *alpha; /* P */
  PetscScalar *D;     /* local diagonal to remove */
  PetscReal   *t, *tsum, *coef;
} RmInputRate;

static PetscErrorCode DestroyOperator(RmModel model);
static PetscErrorCode ApplyInput_InputRate(RmModel model, PetscBool at_setup);

static PetscErrorCode SetInputMemories_InputRate(RmModel model, RmMemories mem)
{
  RmInputRate *ir;
  PetscInt     n, P, rstart, rend, nloc;
  RmEncoding   enc;

  PetscFunctionBeginUser;
  PetscCheck(model->batch == 1, model->comm, PETSC_ERR_ARG_INCOMP, "-input_variant rate needs batch 1");
  PetscCall(RmMemoriesGetEncoding(mem, &enc));
  PetscCheck(enc == RM_ENCODING_BINARY, model->comm, PETSC_ERR_ARG_INCOMP, "-input_variant rate needs {0,1} memories (-design paper)");
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  nloc = rend - rstart;
  if (model->W) {
    PetscInt wl;
    PetscCall(MatGetLocalSize(model->W, &wl, NULL));
    PetscCheck(wl == nloc, model->comm, PETSC_ERR_ARG_SIZ, "memories and weights have different layouts (%" PetscInt_FMT " vs %" PetscInt_FMT " local neurons)", nloc, wl);
  }
  PetscCall(DestroyOperator(model));
  PetscCall(PetscNew(&ir));
  PetscCall(RmMemoriesGetCoding(mem, &ir->p));
  PetscCheck(ir->p > 0 && ir->p < 1, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "-input_variant rate needs a coding level in (0,1), got %g", (double)ir->p);
  ir->n    = n;
  ir->nloc = nloc;
  ir->P    = P;
  PetscCall(RmFactorsCreate(mem, &ir->fac));
  PetscCall(PetscCalloc1(P, &ir->alpha));
  PetscCall(PetscCalloc1(nloc + 1, &ir->D));
  PetscCall(PetscMalloc3(P + 1, &ir->t, P + 1, &ir->tsum, P, &ir->coef));
  model->data = ir;
  if (model->setup_called) PetscCall(ApplyInput_InputRate(model, PETSC_FALSE)); /* α of the current input, zero diagonal */
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetInput(RmModel model, Vec u)
{
  RmInputRate       *ir = (RmInputRate *)model->data;
  const PetscInt     P  = ir->P, nloc = ir->nloc;
  const PetscReal    p  = ir->p, N = (PetscReal)ir->n;
  const PetscScalar *ua;
  const uint64_t    *bits;
  PetscInt           words;

  PetscFunctionBeginUser;
  if (model->input_mode == RM_INPUT_MULTIPLICATIVE) {
    PetscCall(VecGetArrayRead(u, &ua));
    PetscCall(RmFactorsMaskedSums(ir->fac, ua, ir->t));
    PetscCall(VecRestoreArrayRead(u, &ua));
    PetscCall(RmFactorsReduce(ir->fac, ir->t, ir->tsum));
    for (PetscInt mu = 0; mu < P; mu++) ir->alpha[mu] = (ir->tsum[mu] - p * ir->tsum[P]) / (N * p); /* α_μ = (ξ^μ − p)ᵀu/(N p) */
    ir->s = 1.25 / (N * p * (1 - p));
    ir->g = -1.0 / (N * p);
  } else {
    for (PetscInt mu = 0; mu < P; mu++) ir->alpha[mu] = 1.0;
    ir->s = 1.0 / (N * p * (1 - p));
    ir->g = 0.0;
  }
  PetscCall(RmFactorsGetLocalPacked(ir->fac, &bits, &words));
  for (PetscInt i = 0; i < nloc; i++) { /* the diagonal of the unzeroed W(u) */
    PetscReal sum = 0;
    for (PetscInt mu = 0; mu < P; mu++) {
      PetscReal c = (PetscReal)RmPackedBit(bits, words, mu, i) - p;
      sum += ir->alpha[mu] * c * c;
    }
    ir->D[i] = ir->s * sum + ir->g;
  }
  model->alpha = ir->alpha;
  model->P     = P;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* W(u) x, never formed (the model's weight product: counted and logged as one) */
static PetscErrorCode Product_InputRate(RmModel model, Vec x, Vec y)
{
  RmInputRate       *ir = (RmInputRate *)model->data;
  const PetscScalar *xa;
  PetscScalar       *ya;
  PetscReal          S, sum_c = 0;

  PetscFunctionBeginUser;
  PetscCheck(ir, model->comm, PETSC_ERR_ORDER, "-input_variant rate: call RmModelSetInputMemories() first");
  const PetscInt P = ir->P, nloc = ir->nloc;
  PetscCall(PetscLogEventBegin(RM_EVENTS.syn_mult, 0, 0, 0, 0));
  model->products++;
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(RmFactorsMaskedSums(ir->fac, xa, ir->t));
  PetscCall(RmFactorsReduce(ir->fac, ir->t, ir->tsum));
  S = ir->tsum[P];
  for (PetscInt mu = 0; mu < P; mu++) {
    ir->coef[mu] = ir->s * ir->alpha[mu] * (ir->tsum[mu] - ir->p * S);
    sum_c += ir->coef[mu];
  }
  PetscCall(VecGetArrayWrite(y, &ya));
  PetscCall(RmFactorsExpand(ir->fac, ir->coef, 1.0, ir->g * S - ir->p * sum_c, 0.0, xa, ya));
  for (PetscInt i = 0; i < nloc; i++) ya[i] -= ir->D[i] * xa[i];
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(PetscLogFlops(4.0 * P * nloc));
  PetscCall(PetscLogEventEnd(RM_EVENTS.syn_mult, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DestroyOperator(RmModel model)
{
  RmInputRate *ir = (RmInputRate *)model->data;

  PetscFunctionBeginUser;
  if (!ir) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree(ir->alpha));
  PetscCall(PetscFree(ir->D));
  PetscCall(PetscFree3(ir->t, ir->tsum, ir->coef));
  PetscCall(RmFactorsDestroy(&ir->fac));
  PetscCall(PetscFree(model->data));
  model->alpha = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* α(u) of the effective input (multiplicative) or α = 1 (additive), zero diagonal. At set-up without the
   memories yet it waits for RmModelSetInputMemories. */
static PetscErrorCode ApplyInput_InputRate(RmModel model, PetscBool at_setup)
{
  Vec u;

  PetscFunctionBeginUser;
  if (at_setup && !model->data) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(model->data, model->comm, PETSC_ERR_ORDER, "-input_variant rate: call RmModelSetInputMemories() before integrating");
  PetscCall(RmModelEffectiveInput_Private(model, &u));
  PetscCall(SetInput(model, u));
  PetscCall(VecDestroy(&u));
  PetscCall(RmModelWeightDiagonal_Private(model)); /* 0: the product is W(u)'s, not W's */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Φ(s) = 1/(1+exp(δ(1−2s))) is the sigmoid with ρ = δ/2, x* = 1/2 − 1/δ (docs/model.md §7); δ is -gain (10). */
static PetscErrorCode Check_InputRate(RmModel model)
{
  PetscReal delta = model->opt_gain ? model->act.gain : 10.0;

  PetscFunctionBeginUser;
  PetscCheck(!model->opt_activation && !model->opt_threshold, model->comm, PETSC_ERR_ARG_INCOMP,
             "-input_variant rate has its own activation Phi(s) = 1/(1+exp(delta(1-2s))): give delta as -gain, not -activation/-threshold");
  PetscCall(RmCheckFinite(model->comm, "gain", delta));
  PetscCheck(delta > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "gain (delta) must be > 0, got %g", (double)delta);
  PetscCall(RmActivationFind(model->comm, RMACTIVATIONSIGMOID, &model->act.fn));
  model->act.gain      = delta / 2;
  model->act.threshold = 0.5 - 1.0 / delta;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode View_InputRate(RmModel model, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "  firing-rate input variant of docs/model.md §7 (-input_variant rate)\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmModelCreate_InputRate(RmModel model)
{
  PetscFunctionBeginUser;
  PetscCall(RmModelCreate_Rate(model)); /* the rate model's equations, D W Jacobian and defaults */
  model->vector_input         = PETSC_TRUE;
  model->multiplicative       = PETSC_TRUE;
  model->products_through_W   = PETSC_FALSE;
  model->product              = Product_InputRate;
  model->ops.check            = Check_InputRate;
  model->ops.readout          = RmModelReadoutActivation_Private; /* Φ(x), the authors' readout for overlaps */
  model->ops.applyinput       = ApplyInput_InputRate;
  model->ops.setinputmemories = SetInputMemories_InputRate;
  model->ops.view             = View_InputRate;
  model->ops.destroy          = DestroyOperator;
  PetscFunctionReturn(PETSC_SUCCESS);
}
