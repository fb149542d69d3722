/* Dynamics (docs/model.md §3): the rate model τ ẋ = -x + φ(W x + u) and the Hopfield voltage form
   τ ẏ = -y + W tanh(δ y) + u, their right-hand side and analytic Jacobian-vector product. */
#include "dynamicsimpl.h"

const char *const RmModelKinds[]      = {"rate", "voltage", "ei", "RmModelKind", "RM_MODEL_", NULL};
const char *const RmInputModes[]      = {"additive", "multiplicative", "RmInputMode", "RM_INPUT_", NULL};


PetscErrorCode RmDesignTypeGetModel(RmDesignType type, RmModelKind *kind, RmEncoding *enc)
{
  PetscFunctionBeginUser;
  if (kind) *kind = type == RM_DESIGN_HEBBIAN ? RM_MODEL_VOLTAGE : RM_MODEL_RATE; /* paper, projection: the rate model */
  if (enc) PetscCall(RmDesignTypeGetEncoding(type, enc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelCreate(MPI_Comm comm, RmModel *model)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(model));
  (*model)->comm = comm;
  (*model)->tau  = 1.0;
  (*model)->batch = 1;
  (*model)->tau_i = 0.01;
  (*model)->pool_size = 1;
  PetscCall(RmModelSetKind(*model, RM_MODEL_RATE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Defaults are the authors' (docs/model.md §3): sigmoid ρ = 4.8, x* = 0.2; Hopfield δ = 10. */
PetscErrorCode RmModelSetKind(RmModel model, RmModelKind kind)
{
  PetscFunctionBeginUser;
  model->kind          = kind;
  model->threshold_set = PETSC_FALSE;
  if (kind != RM_MODEL_VOLTAGE) {
    PetscCall(RmActivationFind(model->comm, RMACTIVATIONSIGMOID, &model->act.fn));
    model->act.gain      = 4.8;
    model->act.threshold = model->act.fn->default_threshold;
  } else {
    PetscCall(RmActivationFind(model->comm, RMACTIVATIONTANH, &model->act.fn));
    model->act.gain      = 10.0;
    model->act.threshold = model->act.fn->default_threshold;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetOptionsPrefix(RmModel model, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(model->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &model->prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The activation fn for this model kind: the rate model takes the rate activations, the Hopfield form tanh. */
static PetscErrorCode CheckActivation(RmModel model, const RmActivationFunction *fn)
{
  PetscFunctionBeginUser;
  PetscCheck(model->kind != RM_MODEL_VOLTAGE || !fn->rate, model->comm, PETSC_ERR_ARG_INCOMP,
             "activation %s needs the rate model (-design paper); the hebbian design uses tanh", fn->name);
  PetscCheck(model->kind == RM_MODEL_VOLTAGE || fn->rate, model->comm, PETSC_ERR_ARG_INCOMP,
             "activation %s is the hebbian design's; the rate model takes sigmoid or rectanh", fn->name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetActivation(RmModel model, const char name[])
{
  const RmActivationFunction *fn;

  PetscFunctionBeginUser;
  PetscCheck(!model->setup_called, model->comm, PETSC_ERR_ORDER, "set the activation before RmModelSetUp()");
  PetscCall(RmActivationFind(model->comm, name, &fn));
  PetscCall(CheckActivation(model, fn));
  if (fn != model->act.fn && !model->threshold_set) model->act.threshold = fn->default_threshold; /* e.g. the authors' 0.75 for rectified tanh */
  model->act.fn = fn;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetGain(RmModel model, PetscReal gain)
{
  PetscFunctionBeginUser;
  PetscCheck(!model->setup_called, model->comm, PETSC_ERR_ORDER, "set the gain before RmModelSetUp()");
  PetscCall(RmCheckFinite(model->comm, "gain", gain));
  PetscCheck(gain > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "gain must be > 0, got %g", (double)gain);
  model->act.gain = gain;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetThreshold(RmModel model, PetscReal threshold)
{
  PetscFunctionBeginUser;
  PetscCheck(!model->setup_called, model->comm, PETSC_ERR_ORDER, "set the threshold before RmModelSetUp()");
  PetscCall(RmCheckFinite(model->comm, "threshold", threshold));
  model->act.threshold = threshold;
  model->threshold_set = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetFromOptions(RmModel model)
{
  PetscBool          set_type = PETSC_FALSE, set_thr = PETSC_FALSE, set_net, set_stiff, set_taui, set_gain = PETSC_FALSE;
  const char *const  variants[] = {"hopfield", "rate", "RmInputVariant", "RM_INPUT_VARIANT_", NULL};
  PetscInt           variant    = model->input_rate ? 1 : 0;
  char               actname[64];
  const RmActivationFunction *type = model->act.fn;
  const char *const  networks[] = {"single", "ei", "RmNetwork", "RM_NETWORK_", NULL};
  PetscInt           net        = model->kind == RM_MODEL_EI ? 1 : 0;
  PetscReal          stiffness  = model->tau / model->tau_i;

  PetscFunctionBeginUser;
  PetscOptionsBegin(model->comm, model->prefix, "Dynamics (docs/model.md §3)", "RmModel");
  PetscCall(PetscStrncpy(actname, model->act.fn->name, sizeof(actname)));
  PetscCall(PetscOptionsString("-activation", "Activation of the rate model: sigmoid or rectanh (rectified tanh); the hebbian design uses tanh",
                               "RmModelSetActivation", actname, actname, sizeof(actname), &set_type));
  PetscCall(PetscOptionsReal("-gain", "Activation gain rho (rate model) or delta in tanh(delta y) (hebbian)", "RmModelSetFromOptions", model->act.gain,
                             &model->act.gain, &set_gain));
  PetscCall(PetscOptionsReal("-threshold", "Activation threshold x* (default 0.2 sigmoid, 0.75 rectanh)", "RmModelSetFromOptions",
                             model->act.threshold, &model->act.threshold, &set_thr));
  PetscCall(PetscOptionsReal("-tau", "Time constant tau > 0", "RmModelSetFromOptions", model->tau, &model->tau, NULL));
  PetscCall(PetscOptionsReal("-input", "Constant external input u on every neuron", "RmModelSetFromOptions", model->input, &model->input, NULL));
  PetscCall(PetscOptionsEnum("-input_mode", "How the input enters the Hopfield model (docs/model.md §7): additive (+u) or multiplicative (input-driven synapses W(u))",
                             "RmModelSetFromOptions", RmInputModes, (PetscEnum)model->input_mode, (PetscEnum *)&model->input_mode, NULL));
  PetscCall(PetscOptionsEList("-input_variant",
                              "Input-driven model of §7: hopfield (voltage form, -design hebbian) or rate: firing-rate variant with {0,1} memories, "
                              "tau x' = -x + Phi(W(u) x), Phi(s) = 1/(1+exp(delta(1-2s))), delta = -gain (10) (-design paper; docs/input.md)",
                              "RmModelSetFromOptions", variants, 2, variants[variant], &variant, NULL));
  PetscCall(PetscOptionsEList("-network", "single population (docs/model.md §3) or ei: excitatory neurons + P+1 inhibitory pools with Dale's law (§5)",
                              "RmModelSetFromOptions", networks, 2, networks[net], &net, &set_net));
  PetscCall(PetscOptionsReal("-tau_i", "Time constant of the inhibitory pools (E/I network)", "RmModelSetFromOptions", model->tau_i, &model->tau_i,
                             &set_taui));
  PetscCall(PetscOptionsReal("-stiffness", "Stiffness ratio tau/tau_i of the E/I network (alternative to -tau_i)", "RmModelSetFromOptions", stiffness,
                             &stiffness, &set_stiff));
  PetscCall(PetscOptionsInt("-pool_size", "Units per inhibitory pool (E/I network)", "RmModelSetFromOptions", model->pool_size, &model->pool_size,
                            NULL));
  PetscOptionsEnd();
  if (set_type) { /* after the options block (an error inside it would leak the block); PETSc's wording of the former enum option */
    PetscBool known = PETSC_FALSE;
    char      list[256] = "";
    for (const RmActivationFunction *f = RmActivationFunctions; f->name; f++) {
      PetscBool same;
      PetscCall(PetscStrcasecmp(f->name, actname, &same));
      known = (PetscBool)(known || same);
      PetscCall(PetscStrlcat(list, list[0] ? " " : "", sizeof(list)));
      PetscCall(PetscStrlcat(list, f->name, sizeof(list)));
    }
    PetscCheck(known, model->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown option %s for -activation. Available options: %s", actname, list);
    PetscCall(RmActivationFind(model->comm, actname, &type));
    PetscCall(CheckActivation(model, type));
    if (type != model->act.fn && !set_thr && !model->threshold_set) model->act.threshold = type->default_threshold; /* e.g. the authors' 0.75 for rectified tanh */
    model->act.fn = type;
  }
  if (set_thr) model->threshold_set = PETSC_TRUE;
  model->input_rate = (PetscBool)(variant == 1);
  if (model->input_rate) { /* docs/model.md §7 firing-rate variant: Φ(s) = 1/(1+exp(δ(1−2s))) is the sigmoid with ρ = δ/2, x* = 1/2 − 1/δ */
    PetscReal delta = set_gain ? model->act.gain : 10.0;
    PetscCheck(model->kind == RM_MODEL_RATE, model->comm, PETSC_ERR_ARG_INCOMP, "-input_variant rate needs {0,1} memories (-design paper)");
    PetscCheck(!set_type && !set_thr, model->comm, PETSC_ERR_ARG_INCOMP,
               "-input_variant rate has its own activation Phi(s) = 1/(1+exp(delta(1-2s))): give delta as -gain, not -activation/-threshold");
    PetscCheck(!(set_net && net == 1), model->comm, PETSC_ERR_ARG_INCOMP, "-input_variant rate needs -network single");
    PetscCall(RmCheckFinite(model->comm, "gain", delta));
    PetscCheck(delta > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "gain (delta) must be > 0, got %g", (double)delta);
    PetscCall(RmActivationFind(model->comm, RMACTIVATIONSIGMOID, &model->act.fn));
    model->act.gain      = delta / 2;
    model->act.threshold = 0.5 - 1.0 / delta;
  }
  PetscCall(RmCheckFinite(model->comm, "gain", model->act.gain));
  PetscCall(RmCheckFinite(model->comm, "threshold", model->act.threshold));
  PetscCall(RmCheckFinite(model->comm, "tau", model->tau));
  PetscCall(RmCheckFinite(model->comm, "input", model->input));
  PetscCheck(model->tau > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "tau must be > 0, got %g", (double)model->tau);
  PetscCheck(model->act.gain > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "gain must be > 0, got %g", (double)model->act.gain);
  if (set_net && net == 1) {
    PetscCheck(model->kind == RM_MODEL_RATE, model->comm, PETSC_ERR_ARG_INCOMP, "-network ei needs the rate model (-design paper)");
    model->kind = RM_MODEL_EI;
  }
  PetscCheck(model->input_mode == RM_INPUT_ADDITIVE || model->kind == RM_MODEL_VOLTAGE || model->input_rate, model->comm, PETSC_ERR_ARG_INCOMP,
             "-input_mode multiplicative needs the Hopfield voltage model (-design hebbian -storage lowrank) or -input_variant rate");
  PetscCheck(!(set_stiff && set_taui), model->comm, PETSC_ERR_ARG_INCOMP, "give -tau_i or -stiffness, not both");
  PetscCall(RmCheckFinite(model->comm, "stiffness", stiffness));
  PetscCheck(stiffness > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "stiffness must be > 0, got %g", (double)stiffness);
  if (set_stiff) model->tau_i = model->tau / stiffness;
  PetscCall(RmCheckFinite(model->comm, "tau_i", model->tau_i));
  PetscCheck(model->tau_i > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "tau_i must be > 0, got %g", (double)model->tau_i);
  PetscCall(RmOptionsCheckIntRange(model->comm, "-pool_size", 1, PETSC_MAX_INT));
  PetscCheck(model->pool_size >= 1, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "pool_size must be >= 1, got %" PetscInt_FMT, model->pool_size);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetWeights(RmModel model, Mat W)
{
  PetscFunctionBeginUser;
  PetscCall(PetscObjectReference((PetscObject)W));
  PetscCall(MatDestroy(&model->W));
  model->W = W;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetBatch(RmModel model, PetscInt batch)
{
  PetscFunctionBeginUser;
  PetscCheck(!model->setup_called, model->comm, PETSC_ERR_ORDER, "set the batch size before RmModelSetUp()");
  PetscCheck(batch >= 1, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "batch must be >= 1, got %" PetscInt_FMT, batch);
  model->batch = batch;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetProductCount(RmModel model, PetscInt64 *count)
{
  PetscFunctionBeginUser;
  *count = model->products;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetBatch(RmModel model, PetscInt *batch)
{
  PetscFunctionBeginUser;
  *batch = model->batch;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Batched states: W is applied to all B columns at once, so the weights are read once per
   block product (MatMatMult for MATDENSE and MATAIJ); other storages loop over columns. */
static PetscErrorCode SetUpBatch(RmModel model)
{
  PetscInt  nloc, n;
  MatType   type;
  PetscBool shell;

  PetscFunctionBeginUser;
  PetscCall(MatGetLocalSize(model->W, &nloc, NULL));
  PetscCall(MatGetSize(model->W, &n, NULL));
  PetscCall(MatGetType(model->W, &type));
  PetscCall(PetscStrcmp(type, MATSHELL, &shell));
  model->block_product = (PetscBool)!shell;
  if (model->block_product) {
    PetscCall(MatCreateDense(model->comm, nloc, PETSC_DECIDE, n, model->batch, NULL, &model->Xb));
    PetscCall(MatMatMult(model->W, model->Xb, MAT_INITIAL_MATRIX, PETSC_DEFAULT, &model->Yb));
  }
  PetscCall(VecCreateMPIWithArray(model->comm, 1, nloc, n, NULL, &model->colx));
  PetscCall(VecCreateMPIWithArray(model->comm, 1, nloc, n, NULL, &model->coly));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Multiplicative mode: α(u) of the effective input u + input·1, pushed into the low-rank W
   (or, for the §7 rate variant, into its own operator: input.c). */
PetscErrorCode RmModelApplyInput_Private(RmModel model)
{
  RmFactors     fac;
  RmLowRankForm form;
  Vec           u;

  PetscFunctionBeginUser;
  if (model->input_rate) { /* §7 rate variant: α(u) (multiplicative) or α = 1 (additive), zero diagonal */
    PetscCheck(model->irate, model->comm, PETSC_ERR_ORDER, "-input_variant rate: call RmModelSetInputMemories() before integrating");
    PetscCall(MatCreateVecs(model->W, &u, NULL));
    if (model->uvec) PetscCall(VecCopy(model->uvec, u));
    else PetscCall(VecSet(u, 0.0));
    PetscCall(VecShift(u, model->input));
    PetscCall(RmInputRateSetInput_Private(model, u));
    PetscCall(VecDestroy(&u));
    PetscCall(VecSet(model->wdiag, 0.0));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (model->input_mode != RM_INPUT_MULTIPLICATIVE) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmSynapsesMatGetFactors(model->W, &fac, &form));
  PetscCheck(fac && form.design == RM_DESIGN_HEBBIAN, model->comm, PETSC_ERR_ARG_INCOMP, "-input_mode multiplicative needs -design hebbian -storage lowrank");
  PetscCheck(model->batch == 1, model->comm, PETSC_ERR_ARG_INCOMP, "-input_mode multiplicative needs batch 1");
  PetscCall(MatCreateVecs(model->W, &u, NULL));
  if (model->uvec) PetscCall(VecCopy(model->uvec, u));
  else PetscCall(VecSet(u, 0.0));
  PetscCall(VecShift(u, model->input));
  PetscCall(RmSynapsesMatSetInput(model->W, u, &model->P, &model->alpha));
  PetscCall(VecDestroy(&u));
  PetscCall(MatGetDiagonal(model->W, model->wdiag)); /* zero: keeps the preconditioner consistent */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetInputVector(RmModel model, Vec u)
{
  PetscFunctionBeginUser;
  PetscCheck(model->W, model->comm, PETSC_ERR_ORDER, "call RmModelSetWeights() before RmModelSetInputVector()");
  PetscCheck(model->kind == RM_MODEL_VOLTAGE || model->input_rate, model->comm, PETSC_ERR_ARG_INCOMP,
             "vector inputs need the Hopfield voltage model (-design hebbian) or -input_variant rate");
  PetscCheck(model->batch == 1, model->comm, PETSC_ERR_ARG_INCOMP, "vector inputs need batch 1");
  if (u) {
    if (!model->uvec) PetscCall(MatCreateVecs(model->W, &model->uvec, NULL));
    PetscCall(VecCopy(u, model->uvec));
  } else PetscCall(VecDestroy(&model->uvec));
  if (model->setup_called) PetscCall(RmModelApplyInput_Private(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetInputMode(RmModel model, RmInputMode *mode)
{
  PetscFunctionBeginUser;
  *mode = model->input_mode;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetInputWeights(RmModel model, const PetscReal **alpha, PetscInt *P)
{
  PetscFunctionBeginUser;
  if (alpha) *alpha = model->alpha;
  if (P) *P = model->alpha ? model->P : 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetUp(RmModel model)
{
  PetscFunctionBeginUser;
  if (model->setup_called) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(model->W, model->comm, PETSC_ERR_ORDER, "call RmModelSetWeights() before RmModelSetUp()");
  PetscCall(MatGetLocalSize(model->W, &model->nloc, NULL));
  if (model->kind == RM_MODEL_EI) PetscCall(RmModelSetUp_EI(model)); /* sets mloc, ustart */
  else if (model->batch > 1) PetscCall(SetUpBatch(model));
  PetscCall(RmModelCreateNeuronVec(model, &model->h));
  PetscCall(VecDuplicate(model->h, &model->dphi));
  PetscCall(VecDuplicate(model->h, &model->work));
  PetscCall(RmModelCreateState(model, &model->diag));
  PetscCall(MatCreateVecs(model->W, &model->wdiag, NULL));
  {
    PetscBool has;
    PetscCall(MatHasOperation(model->W, MATOP_GET_DIAGONAL, &has));
    if (has) PetscCall(MatGetDiagonal(model->W, model->wdiag)); /* else 0: the preconditioner then uses the −I/τ part only */
    else PetscCall(VecSet(model->wdiag, 0.0));
  }
  model->setup_called = PETSC_TRUE;
  if ((model->input_mode == RM_INPUT_MULTIPLICATIVE && !model->input_rate) || model->irate) PetscCall(RmModelApplyInput_Private(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelView(RmModel model, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "Model: %s, activation %s (gain %g, threshold %g), tau %g, input %g\n", RmModelKinds[model->kind],
                                   model->act.fn->name, (double)model->act.gain, (double)model->act.threshold, (double)model->tau,
                                   (double)model->input));
  if (model->input_rate) PetscCall(PetscViewerASCIIPrintf(viewer, "  firing-rate input variant of docs/model.md §7 (-input_variant rate)\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelDestroy(RmModel *model)
{
  PetscFunctionBeginUser;
  if (!*model) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree((*model)->prefix));
  PetscCall(MatDestroy(&(*model)->W));
  PetscCall(MatDestroy(&(*model)->Xb));
  PetscCall(MatDestroy(&(*model)->Yb));
  PetscCall(VecDestroy(&(*model)->colx));
  PetscCall(VecDestroy(&(*model)->coly));
  PetscCall(VecDestroy(&(*model)->h));
  PetscCall(VecDestroy(&(*model)->dphi));
  PetscCall(VecDestroy(&(*model)->work));
  PetscCall(VecDestroy(&(*model)->diag));
  PetscCall(VecDestroy(&(*model)->wdiag));
  PetscCall(VecDestroy(&(*model)->uvec));
  PetscCall(RmModelDestroy_EI(*model));
  PetscCall(RmInputRateDestroy_Private(*model));
  PetscCall(PetscFree(*model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetKind(RmModel model, RmModelKind *kind)
{
  PetscFunctionBeginUser;
  *kind = model->kind;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetActivation(RmModel model, RmActivation *act)
{
  PetscFunctionBeginUser;
  *act = model->act;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetTau(RmModel model, PetscReal *tau)
{
  PetscFunctionBeginUser;
  *tau = model->tau;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetInhibition(RmModel model, PetscReal *tau_i, PetscInt *pool_size)
{
  PetscFunctionBeginUser;
  if (tau_i) *tau_i = model->tau_i;
  if (pool_size) *pool_size = model->pool_size;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelCreateState(RmModel model, Vec *x)
{
  PetscInt nloc, n;

  PetscFunctionBeginUser;
  PetscCheck(model->W, model->comm, PETSC_ERR_ORDER, "call RmModelSetWeights() first");
  PetscCall(MatGetLocalSize(model->W, &nloc, NULL));
  PetscCall(MatGetSize(model->W, &n, NULL));
  if (model->kind == RM_MODEL_EI) PetscCall(VecCreateMPI(model->comm, (nloc + model->mloc) * model->batch, PETSC_DECIDE, x));
  else PetscCall(VecCreateMPI(model->comm, nloc * model->batch, n * model->batch, x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelCreateNeuronVec(RmModel model, Vec *xn)
{
  PetscInt nloc, n;

  PetscFunctionBeginUser;
  PetscCheck(model->W, model->comm, PETSC_ERR_ORDER, "call RmModelSetWeights() first");
  PetscCall(MatGetLocalSize(model->W, &nloc, NULL));
  PetscCall(MatGetSize(model->W, &n, NULL));
  PetscCall(VecCreateMPI(model->comm, nloc * model->batch, n * model->batch, xn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelStateFromNeurons(RmModel model, Vec xn, Vec x)
{
  PetscFunctionBeginUser;
  if (model->kind == RM_MODEL_EI) PetscCall(RmModelStateFromNeurons_EI(model, xn, x));
  else PetscCall(VecCopy(xn, x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelNeuronsFromState(RmModel model, Vec x, Vec xn)
{
  PetscFunctionBeginUser;
  if (model->kind == RM_MODEL_EI) PetscCall(RmModelNeuronsFromState_EI(model, x, xn));
  else PetscCall(VecCopy(x, xn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode BlockProduct(RmModel model, Vec x, Vec y)
{
  const PetscScalar *xa, *ya_src;
  PetscScalar       *ya;
  PetscInt           nloc, lda;

  PetscFunctionBeginUser;
  PetscCall(MatGetLocalSize(model->W, &nloc, NULL));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayWrite(y, &ya));
  if (model->block_product) {
    PetscCall(MatDensePlaceArray(model->Xb, (PetscScalar *)xa));
    PetscCall(MatMatMult(model->W, model->Xb, MAT_REUSE_MATRIX, PETSC_DEFAULT, &model->Yb));
    PetscCall(MatDenseResetArray(model->Xb));
    PetscCall(MatDenseGetLDA(model->Yb, &lda));
    PetscCall(MatDenseGetArrayRead(model->Yb, &ya_src));
    for (PetscInt b = 0; b < model->batch; b++) PetscCall(PetscArraycpy(ya + b * nloc, ya_src + b * lda, nloc));
    PetscCall(MatDenseRestoreArrayRead(model->Yb, &ya_src));
  } else {
    for (PetscInt b = 0; b < model->batch; b++) {
      PetscCall(VecPlaceArray(model->colx, xa + b * nloc));
      PetscCall(VecPlaceArray(model->coly, ya + b * nloc));
      PetscCall(MatMult(model->W, model->colx, model->coly));
      PetscCall(VecResetArray(model->colx));
      PetscCall(VecResetArray(model->coly));
    }
  }
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WeightProduct(RmModel model, Vec x, Vec y)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.syn_mult, 0, 0, 0, 0));
  model->products++;
  if (model->irate) PetscCall(RmInputRateMult_Private(model, x, y)); /* §7 rate variant: W(u), never formed */
  else if (model->batch == 1) PetscCall(MatMult(model->W, x, y));
  else PetscCall(BlockProduct(model, x, y));
  PetscCall(PetscLogEventEnd(RM_EVENTS.syn_mult, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelRHS(RmModel model, Vec x, Vec f)
{
  const PetscScalar *xa, *ha, *uv = NULL;
  PetscScalar       *fa;
  PetscInt           nloc;
  const PetscReal    itau = 1.0 / model->tau, u = model->input;
  const RmActivation act  = model->act;

  PetscFunctionBeginUser;
  if (model->kind == RM_MODEL_EI) {
    PetscCall(PetscLogEventBegin(RM_EVENTS.rhs, 0, 0, 0, 0));
    PetscCall(RmModelRHS_EI(model, x, f));
    PetscCall(PetscLogEventEnd(RM_EVENTS.rhs, 0, 0, 0, 0));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(!model->input_rate || model->irate, model->comm, PETSC_ERR_ORDER, "-input_variant rate: call RmModelSetInputMemories() first");
  PetscCall(PetscLogEventBegin(RM_EVENTS.rhs, 0, 0, 0, 0));
  PetscCall(VecGetLocalSize(x, &nloc));
  if (model->uvec) PetscCall(VecGetArrayRead(model->uvec, &uv));
  if (model->kind == RM_MODEL_RATE) {
    PetscCall(WeightProduct(model, x, model->h));
    if (model->input_rate && model->input_mode == RM_INPUT_ADDITIVE && model->uvec) PetscCall(VecAXPY(model->h, 1.0, model->uvec)); /* §7 rate variant, classic: Φ(W₀x + u) */
    PetscCall(VecGetArrayRead(x, &xa));
    PetscCall(VecGetArrayRead(model->h, &ha));
    PetscCall(VecGetArrayWrite(f, &fa));
    /* fa = φ(W x + u), then the leak; the multiplicative §7 rate variant has its input in W(u) only */
    RmActivationEvalArray(&act, nloc, ha, model->input_rate && model->input_mode == RM_INPUT_MULTIPLICATIVE ? 0.0 : u, fa);
    for (PetscInt i = 0; i < nloc; i++) fa[i] = itau * (-xa[i] + fa[i]);
  } else {
    PetscScalar *pa;
    PetscCall(VecGetArrayRead(x, &xa));
    PetscCall(VecGetArrayWrite(model->work, &pa));
    RmActivationEvalArray(&act, nloc, xa, 0.0, pa);
    PetscCall(VecRestoreArrayWrite(model->work, &pa));
    PetscCall(WeightProduct(model, model->work, model->h));
    PetscCall(VecGetArrayRead(model->h, &ha));
    PetscCall(VecGetArrayWrite(f, &fa));
    if (model->input_mode == RM_INPUT_MULTIPLICATIVE) /* the input acts through W(u) only */
      for (PetscInt i = 0; i < nloc; i++) fa[i] = itau * (-xa[i] + ha[i]);
    else
      for (PetscInt i = 0; i < nloc; i++) fa[i] = itau * (-xa[i] + ha[i] + u + (uv ? uv[i] : 0.0));
  }
  if (model->uvec) PetscCall(VecRestoreArrayRead(model->uvec, &uv));
  PetscCall(VecRestoreArrayWrite(f, &fa));
  PetscCall(VecRestoreArrayRead(model->h, &ha));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(PetscLogEventEnd(RM_EVENTS.rhs, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* diag(J) of the single-population models, from φ' and diag(W) (both per column). */
static PetscErrorCode SingleDiagonal(RmModel model)
{
  const PetscScalar *d, *w;
  PetscScalar       *g;
  PetscInt           nloc = model->nloc;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(model->dphi, &d));
  PetscCall(VecGetArrayRead(model->wdiag, &w));
  PetscCall(VecGetArrayWrite(model->diag, &g));
  for (PetscInt b = 0; b < model->batch; b++)
    for (PetscInt i = 0; i < nloc; i++) g[b * nloc + i] = (-1.0 + d[b * nloc + i] * w[i]) / model->tau;
  PetscCall(VecRestoreArrayWrite(model->diag, &g));
  PetscCall(VecRestoreArrayRead(model->wdiag, &w));
  PetscCall(VecRestoreArrayRead(model->dphi, &d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetJacobianFactors(RmModel model, Mat *W, Vec *dphi)
{
  PetscFunctionBeginUser;
  if (W) *W = model->irate || model->input_rate ? NULL : model->W;
  if (dphi) *dphi = model->dphi;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelJacobianDiagonal(RmModel model, Vec diag)
{
  PetscFunctionBeginUser;
  PetscCall(VecCopy(model->diag, diag));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelJacobianSetUp(RmModel model, Vec x)
{
  const PetscScalar *src;
  PetscScalar       *d;
  PetscInt           nloc;

  PetscFunctionBeginUser;
  if (model->kind == RM_MODEL_EI) {
    PetscCall(RmModelJacobianSetUp_EI(model, x, NULL));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscLogEventBegin(RM_EVENTS.jac_setup, 0, 0, 0, 0));
  PetscCall(VecGetLocalSize(x, &nloc));
  if (model->kind == RM_MODEL_RATE) PetscCall(WeightProduct(model, x, model->h)); /* φ'(W x + u) */
  PetscCall(VecGetArrayRead(model->kind == RM_MODEL_RATE ? model->h : x, &src));
  PetscCall(VecGetArrayWrite(model->dphi, &d));
  const PetscBool    mult_rate = (PetscBool)(model->input_rate && model->input_mode == RM_INPUT_MULTIPLICATIVE);
  const PetscReal    shift     = model->kind == RM_MODEL_RATE && !mult_rate ? model->input : 0.0;
  const PetscScalar *uv        = NULL; /* §7 rate variant, classic form: φ'(W₀x + u) */
  if (model->kind == RM_MODEL_RATE && model->input_rate && !mult_rate && model->uvec) PetscCall(VecGetArrayRead(model->uvec, &uv));
  if (uv) {
    for (PetscInt i = 0; i < nloc; i++) d[i] = src[i] + shift + uv[i];
    RmActivationDerivativeArray(&model->act, nloc, d, 0.0, d);
  } else RmActivationDerivativeArray(&model->act, nloc, src, shift, d);
  if (uv) PetscCall(VecRestoreArrayRead(model->uvec, &uv));
  PetscCall(VecRestoreArrayWrite(model->dphi, &d));
  PetscCall(VecRestoreArrayRead(model->kind == RM_MODEL_RATE ? model->h : x, &src));
  PetscCall(SingleDiagonal(model));
  PetscCall(PetscLogEventEnd(RM_EVENTS.jac_setup, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelJacobianSetUpWithRHS(RmModel model, Vec x, Vec f)
{
  const PetscScalar *xa, *fa;
  PetscScalar       *d;
  PetscInt           nloc;
  PetscReal          dp;

  PetscFunctionBeginUser;
  if (model->kind == RM_MODEL_EI) {
    PetscCall(RmModelJacobianSetUp_EI(model, x, f));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (model->kind != RM_MODEL_RATE || !RmActivationDerivativeFromValue(&model->act, 0.5, &dp)) {
    PetscCall(RmModelJacobianSetUp(model, x));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscLogEventBegin(RM_EVENTS.jac_setup, 0, 0, 0, 0));
  PetscCall(VecGetLocalSize(x, &nloc));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayRead(f, &fa));
  PetscCall(VecGetArrayWrite(model->dphi, &d));
  RmDerivativeFromRHS_Private(&model->act, model->tau, nloc, fa, xa, d); /* from φ(W x + u) = τ f + x */
  PetscCall(VecRestoreArrayWrite(model->dphi, &d));
  PetscCall(VecRestoreArrayRead(f, &fa));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(SingleDiagonal(model));
  PetscCall(PetscLogEventEnd(RM_EVENTS.jac_setup, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelJacobianMult(RmModel model, Vec v, Vec Jv)
{
  const PetscReal itau = 1.0 / model->tau;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.jac_vec, 0, 0, 0, 0));
  if (model->kind == RM_MODEL_EI) {
    PetscCall(RmModelJacobianMult_EI(model, v, Jv));
    PetscCall(PetscLogEventEnd(RM_EVENTS.jac_vec, 0, 0, 0, 0));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (model->kind == RM_MODEL_RATE) { /* J v = (−v + φ'(h) ⊙ (W v))/τ */
    PetscCall(WeightProduct(model, v, model->work));
    PetscCall(VecPointwiseMult(Jv, model->dphi, model->work));
  } else { /* J v = (−v + W (φ'(y) ⊙ v))/τ */
    PetscCall(VecPointwiseMult(model->work, model->dphi, v));
    PetscCall(WeightProduct(model, model->work, Jv));
  }
  PetscCall(VecAXPBY(Jv, -itau, itau, v));
  PetscCall(PetscLogEventEnd(RM_EVENTS.jac_vec, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelResidualNorm(RmModel model, Vec x, PetscReal *norm)
{
  Vec f;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(x, &f));
  PetscCall(RmModelRHS(model, x, f));
  PetscCall(RmModelFixedPointResidual(model, f, norm));
  PetscCall(VecDestroy(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ‖τ ⊙ f‖∞: each unit's distance from its fixed-point equation (x = φ(h) for a rate unit,
   z = input for a pool unit), i.e. ‖f‖∞ scaled by each unit's own time constant. */
PetscErrorCode RmModelFixedPointResidual(RmModel model, Vec f, PetscReal *norm)
{
  const PetscScalar *fa;
  PetscReal          loc = 0;
  PetscInt           len, L;

  PetscFunctionBeginUser;
  if (model->kind != RM_MODEL_EI) {
    PetscCall(VecNorm(f, NORM_INFINITY, norm));
    *norm *= model->tau;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecGetLocalSize(f, &len));
  L = model->nloc + model->mloc;
  PetscCall(VecGetArrayRead(f, &fa));
  for (PetscInt k = 0; k < len; k++) {
    PetscReal v = PetscAbsScalar(fa[k]) * (k % L < model->nloc ? model->tau : model->tau_i);
    loc         = v > loc || PetscIsNanReal(v) ? v : loc;
  }
  PetscCall(VecRestoreArrayRead(f, &fa));
  PetscCallMPI(MPI_Allreduce(&loc, norm, 1, MPIU_REAL, MPIU_MAX, model->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelReadout(RmModel model, Vec x, Vec r)
{
  const PetscScalar *xa;
  PetscScalar       *ra;
  PetscInt           nloc;

  PetscFunctionBeginUser;
  if (model->kind == RM_MODEL_EI) {
    PetscCall(RmModelNeuronsFromState_EI(model, x, r));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (model->kind == RM_MODEL_RATE && !model->input_rate) {
    PetscCall(VecCopy(x, r));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  /* voltage form: tanh(δ y); §7 rate variant: Φ(x), the authors' readout for overlaps */
  PetscCall(VecGetLocalSize(x, &nloc));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayWrite(r, &ra));
  RmActivationEvalArray(&model->act, nloc, xa, 0.0, ra);
  PetscCall(VecRestoreArrayWrite(r, &ra));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}
