/* Dynamics (docs/model.md §3): the generic RmModel, its registry of model kinds, the options common to
   every kind and the dispatch to the kind's ops. The kinds are rate.c, hopfield.c, ei.c and inputrate.c,
   registered in modelregi.c. */
#include "dynamicsimpl.h"

const char *const RmInputModes[]    = {"additive", "multiplicative", "RmInputMode", "RM_INPUT_", NULL};
const char *const RmJacobianForms[] = {"DW", "WD", "pools", "opaque", "RmJacobianForm", "RM_JACOBIAN_", NULL};

static PetscFunctionList RmModelList = NULL;

PetscErrorCode RmModelRegister(const char name[], PetscErrorCode (*create)(RmModel))
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListAdd(&RmModelList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelListDestroy_Private(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListDestroy(&RmModelList));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmDesignTypeGetModel(RmDesignType type, RmModelType *model, RmEncoding *enc)
{
  PetscFunctionBeginUser;
  if (model) *model = type == RM_DESIGN_HEBBIAN ? RMMODELVOLTAGE : RMMODELRATE; /* paper, projection: the rate model */
  if (enc) PetscCall(RmDesignTypeGetEncoding(type, enc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelCreate(MPI_Comm comm, RmModel *model)
{
  PetscFunctionBeginUser;
  PetscCall(RmModelRegisterAll());
  PetscCall(PetscNew(model));
  (*model)->comm  = comm;
  (*model)->tau   = 1.0;
  (*model)->batch = 1;
  PetscCall(RmModelSetType(*model, RMMODELRATE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The kind's default activation (the authors', docs/model.md §3: sigmoid ρ = 4.8, x* = 0.2; Hopfield δ = 10). */
static PetscErrorCode DefaultActivation(RmModel model)
{
  PetscFunctionBeginUser;
  model->threshold_set = PETSC_FALSE;
  PetscCall(RmActivationFind(model->comm, model->default_activation, &model->act.fn));
  model->act.gain      = model->default_gain;
  model->act.threshold = model->act.fn->default_threshold;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetType(RmModel model, RmModelType type)
{
  PetscErrorCode (*create)(RmModel) = NULL;
  PetscBool same = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (model->type_name) PetscCall(PetscStrcmp(model->type_name, type, &same));
  if (same) {
    PetscCall(DefaultActivation(model)); /* as a new kind: the caller asked for the kind's defaults */
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(!model->setup_called, model->comm, PETSC_ERR_ORDER, "set the model type before RmModelSetUp()");
  PetscCall(PetscFunctionListFind(RmModelList, type, &create));
  if (!create) {
    char list[256];
    PetscCall(RmFunctionListNames(RmModelList, ", ", list, sizeof(list)));
    SETERRQ(model->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown model type '%s' (known: %s)", type, list);
  }
  if (model->ops.destroy) PetscCall(model->ops.destroy(model));
  PetscCall(PetscMemzero(&model->ops, sizeof(model->ops)));
  model->data               = NULL;
  model->jacobian_form      = RM_JACOBIAN_OPAQUE;
  model->encoding           = RM_ENCODING_BINARY;
  model->rate_activation    = PETSC_TRUE;
  model->default_activation = RMACTIVATIONSIGMOID;
  model->default_gain       = 4.8;
  model->vector_input       = PETSC_FALSE;
  model->multiplicative     = PETSC_FALSE;
  model->products_through_W = PETSC_TRUE;
  model->product            = RmModelWeightProduct_Private;
  PetscCall(PetscFree(model->type_name));
  PetscCall(PetscStrallocpy(type, &model->type_name));
  PetscCall(create(model));
  PetscCheck(model->ops.rhs && model->ops.jacobiansetup && model->ops.jacobianmult, model->comm, PETSC_ERR_PLIB,
             "model type %s has no right-hand side, Jacobian set-up or J v in its ops", type);
  PetscCall(DefaultActivation(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetType(RmModel model, RmModelType *type)
{
  PetscFunctionBeginUser;
  *type = model->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetJacobianForm(RmModel model, RmJacobianForm *form)
{
  PetscFunctionBeginUser;
  *form = model->jacobian_form;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetOptionsPrefix(RmModel model, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(model->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &model->prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The activation fn for this model kind: the rate kinds take the rate activations, the Hopfield form tanh. */
static PetscErrorCode CheckActivation(RmModel model, const RmActivationFunction *fn)
{
  PetscFunctionBeginUser;
  PetscCheck(model->rate_activation || !fn->rate, model->comm, PETSC_ERR_ARG_INCOMP,
             "activation %s needs the rate model (-design paper); the hebbian design uses tanh", fn->name);
  PetscCheck(!model->rate_activation || fn->rate, model->comm, PETSC_ERR_ARG_INCOMP,
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

/* Which kind the options ask for, starting from the current one (which the design picked,
   RmDesignTypeGetModel): -model_type NAME, or the older switches -network ei and -input_variant rate
   (variants of the rate model). *target is NULL when the combination is refused (*why says why). */
static PetscErrorCode ChooseType(RmModel model, PetscBool set_type, const char *given, PetscBool set_net, PetscInt net, PetscBool set_var, PetscInt variant,
                                 char *target, size_t len, char *why, size_t wlen, PetscErrorCode *code)
{
  PetscBool is_rate, is_inputrate, is_ei;

  PetscFunctionBeginUser;
  why[0] = 0;
  *code  = PETSC_ERR_ARG_INCOMP;
  PetscCall(PetscStrncpy(target, model->type_name, len));
  PetscCall(PetscStrcmp(model->type_name, RMMODELRATE, &is_rate));
  PetscCall(PetscStrcmp(model->type_name, RMMODELINPUTRATE, &is_inputrate));
  PetscCall(PetscStrcmp(model->type_name, RMMODELEI, &is_ei));
  if (set_type) {
    PetscErrorCode (*create)(RmModel) = NULL;
    PetscBool same;
    PetscCall(PetscFunctionListFind(RmModelList, given, &create));
    if (!create) {
      char list[256];
      PetscCall(RmFunctionListNames(RmModelList, ", ", list, sizeof(list)));
      PetscCall(PetscSNPrintf(why, wlen, "Unknown option %s for -model_type. Available options: %s", given, list));
      *code = PETSC_ERR_ARG_UNKNOWN_TYPE;
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    PetscCall(PetscStrcmp(given, RMMODELEI, &same));
    if (set_net && (net == 1) != same) {
      PetscCall(PetscSNPrintf(why, wlen, "-model_type %s and -network %s disagree (-network ei is -model_type ei)", given, net ? "ei" : "single"));
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    PetscCall(PetscStrcmp(given, RMMODELINPUTRATE, &same));
    if (set_var && (variant == 1) != same) {
      PetscCall(PetscSNPrintf(why, wlen, "-model_type %s and -input_variant %s disagree (-input_variant rate is -model_type inputrate)", given,
                              variant ? "rate" : "hopfield"));
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    PetscCall(PetscStrncpy(target, given, len));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (set_var && variant == 1) {
    if (!is_rate && !is_inputrate) PetscCall(PetscSNPrintf(why, wlen, "-input_variant rate needs {0,1} memories (-design paper)"));
    else if (set_net && net == 1) PetscCall(PetscSNPrintf(why, wlen, "-input_variant rate needs -network single"));
    else PetscCall(PetscStrncpy(target, RMMODELINPUTRATE, len));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (set_var && variant == 0 && is_inputrate) PetscCall(PetscStrncpy(target, RMMODELRATE, len));
  if (set_net && net == 1) {
    PetscCall(PetscStrcmp(target, RMMODELRATE, &is_rate));
    if (!is_rate && !is_ei) PetscCall(PetscSNPrintf(why, wlen, "-network ei needs the rate model (-design paper)"));
    else PetscCall(PetscStrncpy(target, RMMODELEI, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Type selection first (the kind's own options are read in the same block, after the generic ones), then
   the generic options, then the kind's. Refusals are raised after the block (an error inside it would
   leak the block). */
PetscErrorCode RmModelSetFromOptions(RmModel model)
{
  PetscBool          set_act = PETSC_FALSE, set_thr = PETSC_FALSE, set_gain = PETSC_FALSE, set_net, set_var, set_type;
  const char *const  variants[] = {"hopfield", "rate", "RmInputVariant", "RM_INPUT_VARIANT_", NULL};
  const char *const  networks[] = {"single", "ei", "RmNetwork", "RM_NETWORK_", NULL};
  PetscInt           variant, net;
  char               actname[64], given[64] = "", target[64], why[256] = "";
  const RmActivationFunction *fn = NULL;
  PetscBool          is;
  PetscErrorCode     code;

  PetscFunctionBeginUser;
  PetscCall(RmModelRegisterAll());
  PetscCall(PetscStrcmp(model->type_name, RMMODELINPUTRATE, &is));
  variant = is ? 1 : 0;
  PetscCall(PetscStrcmp(model->type_name, RMMODELEI, &is));
  net = is ? 1 : 0;
  PetscOptionsBegin(model->comm, model->prefix, "Dynamics (docs/model.md §3)", "RmModel");
  PetscCall(PetscOptionsFList("-model_type",
                              "Model kind: rate (docs/model.md §3), voltage (Hopfield voltage form, -design hebbian), ei (E/I network of §5, "
                              "= -network ei), inputrate (firing-rate variant of §7, = -input_variant rate); default: the design's",
                              "RmModelSetType", RmModelList, model->type_name, given, sizeof(given), &set_type));
  PetscCall(PetscOptionsEList("-network", "single population (docs/model.md §3) or ei: excitatory neurons + P+1 inhibitory pools with Dale's law (§5)",
                              "RmModelSetType", networks, 2, networks[net], &net, &set_net));
  PetscCall(PetscOptionsEList("-input_variant",
                              "Input-driven model of §7: hopfield (voltage form, -design hebbian) or rate: firing-rate variant with {0,1} memories, "
                              "tau x' = -x + Phi(W(u) x), Phi(s) = 1/(1+exp(delta(1-2s))), delta = -gain (10) (-design paper; docs/input.md)",
                              "RmModelSetType", variants, 2, variants[variant], &variant, &set_var));
  PetscCall(ChooseType(model, set_type, given, set_net, net, set_var, variant, target, sizeof(target), why, sizeof(why), &code));
  if (!why[0]) {
    PetscBool same;
    PetscCall(PetscStrcmp(target, model->type_name, &same));
    if (!same) {
      const RmActivation act = model->act;
      const PetscBool    thr = model->threshold_set, rate_act = model->rate_activation;
      const RmEncoding   enc = model->encoding;
      PetscCall(RmModelSetType(model, target));
      if (model->encoding != enc) { /* the design fixed the memories (and the kind it drives): a kind must work on them */
        PetscCall(PetscSNPrintf(why, sizeof(why), "-model_type %s works on %s memories, but the design's are %s (-design hebbian drives voltage; paper and projection drive rate, ei, inputrate)",
                                target, RmEncodings[model->encoding], RmEncodings[enc]));
      } else if (model->rate_activation == rate_act) { /* a variant of the same family: keep what the setters gave */
        model->act           = act;
        model->threshold_set = thr;
      }
    }
  }
  PetscCall(PetscStrncpy(actname, model->act.fn->name, sizeof(actname)));
  PetscCall(PetscOptionsString("-activation", "Activation of the rate model: sigmoid or rectanh (rectified tanh); the hebbian design uses tanh",
                               "RmModelSetActivation", actname, actname, sizeof(actname), &set_act));
  PetscCall(PetscOptionsReal("-gain", "Activation gain rho (rate model) or delta in tanh(delta y) (hebbian)", "RmModelSetFromOptions", model->act.gain,
                             &model->act.gain, &set_gain));
  PetscCall(PetscOptionsReal("-threshold", "Activation threshold x* (default 0.2 sigmoid, 0.75 rectanh)", "RmModelSetFromOptions",
                             model->act.threshold, &model->act.threshold, &set_thr));
  PetscCall(PetscOptionsReal("-tau", "Time constant tau > 0", "RmModelSetFromOptions", model->tau, &model->tau, NULL));
  PetscCall(PetscOptionsReal("-input", "Constant external input u on every neuron", "RmModelSetFromOptions", model->input, &model->input, NULL));
  PetscCall(PetscOptionsEnum("-input_mode", "How the input enters the Hopfield model (docs/model.md §7): additive (+u) or multiplicative (input-driven synapses W(u))",
                             "RmModelSetFromOptions", RmInputModes, (PetscEnum)model->input_mode, (PetscEnum *)&model->input_mode, NULL));
  if (!why[0] && model->ops.setfromoptions) PetscCall(model->ops.setfromoptions(PetscOptionsObject, model));
  PetscOptionsEnd();
  PetscCheck(!why[0], model->comm, code, "%s", why);
  model->opt_activation = set_act;
  model->opt_threshold  = set_thr;
  model->opt_gain       = set_gain;
  if (set_act) { /* PETSc's wording of the former enum option */
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
    PetscCall(RmActivationFind(model->comm, actname, &fn));
    PetscCall(CheckActivation(model, fn));
    if (fn != model->act.fn && !set_thr && !model->threshold_set) model->act.threshold = fn->default_threshold; /* e.g. the authors' 0.75 for rectified tanh */
    model->act.fn = fn;
  }
  if (set_thr) model->threshold_set = PETSC_TRUE;
  if (model->ops.check) PetscCall(model->ops.check(model)); /* e.g. the §7 rate variant's own activation from -gain */
  PetscCall(RmCheckFinite(model->comm, "gain", model->act.gain));
  PetscCall(RmCheckFinite(model->comm, "threshold", model->act.threshold));
  PetscCall(RmCheckFinite(model->comm, "tau", model->tau));
  PetscCall(RmCheckFinite(model->comm, "input", model->input));
  PetscCheck(model->tau > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "tau must be > 0, got %g", (double)model->tau);
  PetscCheck(model->act.gain > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "gain must be > 0, got %g", (double)model->act.gain);
  PetscCheck(model->input_mode == RM_INPUT_ADDITIVE || model->multiplicative, model->comm, PETSC_ERR_ARG_INCOMP,
             "-input_mode multiplicative needs the Hopfield voltage model (-design hebbian -storage lowrank) or -input_variant rate");
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

PetscErrorCode RmModelEffectiveInput_Private(RmModel model, Vec *u)
{
  PetscFunctionBeginUser;
  PetscCall(MatCreateVecs(model->W, u, NULL));
  if (model->uvec) PetscCall(VecCopy(model->uvec, *u));
  else PetscCall(VecSet(*u, 0.0));
  PetscCall(VecShift(*u, model->input));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetInputVector(RmModel model, Vec u)
{
  PetscFunctionBeginUser;
  PetscCheck(model->W, model->comm, PETSC_ERR_ORDER, "call RmModelSetWeights() before RmModelSetInputVector()");
  PetscCheck(model->vector_input, model->comm, PETSC_ERR_ARG_INCOMP,
             "vector inputs need the Hopfield voltage model (-design hebbian) or -input_variant rate (model %s takes none)", model->type_name);
  PetscCheck(model->batch == 1, model->comm, PETSC_ERR_ARG_INCOMP, "vector inputs need batch 1");
  if (u) {
    if (!model->uvec) PetscCall(MatCreateVecs(model->W, &model->uvec, NULL));
    PetscCall(VecCopy(u, model->uvec));
  } else PetscCall(VecDestroy(&model->uvec));
  if (model->setup_called && model->ops.applyinput) PetscCall(model->ops.applyinput(model, PETSC_FALSE));
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

PetscErrorCode RmModelSetInputMemories(RmModel model, RmMemories mem)
{
  PetscFunctionBeginUser;
  if (model->ops.setinputmemories) PetscCall(model->ops.setinputmemories(model, mem)); /* only the §7 rate variant builds its W(u) from them */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelAcceptsInputs(RmModel model, PetscBool *accepts)
{
  PetscFunctionBeginUser;
  *accepts = model->vector_input;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetInputVariant(RmModel model, PetscBool *rate)
{
  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(model->type_name, RMMODELINPUTRATE, rate));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* diag(W) into model->wdiag: 0 where W has no diagonal or the kind's product is not W's (the §7 rate
   variant's W(u)); the preconditioner then uses the −I/τ part only. */
PetscErrorCode RmModelWeightDiagonal_Private(RmModel model)
{
  PetscBool has;

  PetscFunctionBeginUser;
  if (!model->wdiag) PetscFunctionReturn(PETSC_SUCCESS); /* made, and filled, when first needed */
  PetscCall(MatHasOperation(model->W, MATOP_GET_DIAGONAL, &has));
  if (has && model->product == RmModelWeightProduct_Private) PetscCall(MatGetDiagonal(model->W, model->wdiag));
  else PetscCall(VecSet(model->wdiag, 0.0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The work vectors, made at their first use: an explicit integrator with a fused step never needs
   them, and at 10⁹ neurons each is 8 GB. h and work for the RHS; the Jacobian's for the implicit methods. */
PetscErrorCode RmModelWorkVectors_Private(RmModel model, PetscBool jacobian)
{
  PetscFunctionBeginUser;
  if (!model->h) {
    PetscCall(RmModelCreateNeuronVec(model, &model->h));
    PetscCall(VecDuplicate(model->h, &model->work));
  }
  if (!jacobian || model->dphi) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecDuplicate(model->h, &model->dphi));
  PetscCall(RmModelCreateState(model, &model->diag));
  PetscCall(MatCreateVecs(model->W, &model->wdiag, NULL));
  PetscCall(RmModelWeightDiagonal_Private(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetUp(RmModel model)
{
  PetscFunctionBeginUser;
  if (model->setup_called) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(model->W, model->comm, PETSC_ERR_ORDER, "call RmModelSetWeights() before RmModelSetUp()");
  PetscCall(MatGetLocalSize(model->W, &model->nloc, NULL));
  model->mloc = 0;
  if (model->ops.setup) PetscCall(model->ops.setup(model)); /* E/I: sets mloc */
  model->sized        = PETSC_TRUE; /* the work vectors are made when first needed (RmModelWorkVectors_Private) */
  model->setup_called = PETSC_TRUE;
  if (model->ops.applyinput) PetscCall(model->ops.applyinput(model, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelView(RmModel model, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "Model: %s, activation %s (gain %g, threshold %g), tau %g, input %g\n", model->type_name, model->act.fn->name,
                                   (double)model->act.gain, (double)model->act.threshold, (double)model->tau, (double)model->input));
  if (model->ops.view) PetscCall(model->ops.view(model, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelDestroy(RmModel *model)
{
  PetscFunctionBeginUser;
  if (!*model) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*model)->ops.destroy) PetscCall((*model)->ops.destroy(*model));
  PetscCall(PetscFree((*model)->type_name));
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
  PetscCall(PetscFree(*model));
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
  PetscCheck(model->ops.getinhibition, model->comm, PETSC_ERR_ARG_INCOMP, "model %s has no inhibitory pools (-network ei has)", model->type_name);
  PetscCall(model->ops.getinhibition(model, tau_i, pool_size));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelCreateState(RmModel model, Vec *x)
{
  PetscInt nloc, n;

  PetscFunctionBeginUser;
  PetscCheck(model->W, model->comm, PETSC_ERR_ORDER, "call RmModelSetWeights() first");
  PetscCall(MatGetLocalSize(model->W, &nloc, NULL));
  PetscCall(MatGetSize(model->W, &n, NULL));
  if (model->ops.statefromneurons) {
    /* the extra units are known once the kind's set-up ran */
    PetscCheck(model->setup_called || model->sized, model->comm, PETSC_ERR_ORDER, "call RmModelSetUp() before creating a state of model %s", model->type_name);
    PetscCall(VecCreateMPI(model->comm, (nloc + model->mloc) * model->batch, PETSC_DECIDE, x));
  } else PetscCall(VecCreateMPI(model->comm, nloc * model->batch, n * model->batch, x));
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

PetscErrorCode RmModelGetStateLayout(RmModel model, PetscBool *state_is_neurons, PetscBool *readout_is_neurons)
{
  PetscFunctionBeginUser;
  *state_is_neurons   = (PetscBool)(!model->ops.statefromneurons && !model->ops.neuronsfromstate);
  *readout_is_neurons = (PetscBool)!model->ops.readout;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelStateFromNeurons(RmModel model, Vec xn, Vec x)
{
  PetscFunctionBeginUser;
  if (model->ops.statefromneurons) PetscCall(model->ops.statefromneurons(model, xn, x));
  else PetscCall(VecCopy(xn, x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelNeuronsFromState(RmModel model, Vec x, Vec xn)
{
  PetscFunctionBeginUser;
  if (model->ops.neuronsfromstate) PetscCall(model->ops.neuronsfromstate(model, x, xn));
  else PetscCall(VecCopy(x, xn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Batched states: W is applied to all B columns at once, so the weights are read once per
   block product (MatMatMult for MATDENSE and MATAIJ); other storages loop over columns. */
PetscErrorCode RmModelSetUpBatch_Private(RmModel model)
{
  PetscInt  nloc, n;
  MatType   type;
  PetscBool shell;

  PetscFunctionBeginUser;
  if (model->batch == 1) PetscFunctionReturn(PETSC_SUCCESS);
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

PetscErrorCode RmModelWeightProduct_Private(RmModel model, Vec x, Vec y)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.syn_mult, 0, 0, 0, 0));
  model->products++;
  if (model->batch == 1) PetscCall(MatMult(model->W, x, y));
  else PetscCall(BlockProduct(model, x, y));
  PetscCall(PetscLogEventEnd(RM_EVENTS.syn_mult, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelRHS(RmModel model, Vec x, Vec f)
{
  PetscFunctionBeginUser;
  PetscCheck(model->setup_called, model->comm, PETSC_ERR_ORDER, "call RmModelSetUp() before RmModelRHS()");
  PetscCall(RmModelWorkVectors_Private(model, PETSC_FALSE));
  PetscCall(PetscLogEventBegin(RM_EVENTS.rhs, 0, 0, 0, 0));
  PetscCall(model->ops.rhs(model, x, f));
  PetscCall(PetscLogEventEnd(RM_EVENTS.rhs, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelCanFuseEulerStep(RmModel model, PetscBool factored, PetscBool *fused)
{
  PetscFunctionBeginUser;
  *fused = (PetscBool)(factored && model->ops.eulerstep && model->batch == 1 && model->product == RmModelWeightProduct_Private);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelGetWorkVectorCount(RmModel model, PetscBool implicit, PetscBool fused_euler, PetscInt *count)
{
  PetscFunctionBeginUser;
  *count = fused_euler ? 0 : 2 + (implicit ? 3 : 0); /* h, work; dphi, diag, wdiag (RmModelWorkVectors_Private) */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelHasFusedEulerStep(RmModel model, PetscBool *fused)
{
  PetscBool has;

  PetscFunctionBeginUser;
  PetscCheck(model->W, model->comm, PETSC_ERR_ORDER, "call RmModelSetWeights() first");
  PetscCall(RmSynapsesMatHasMultUpdate(model->W, &has));
  PetscCall(RmModelCanFuseEulerStep(model, has, fused));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelEulerStep(RmModel model, PetscReal h, Vec y, PetscReal *residual)
{
  PetscBool fused;
  PetscReal local;

  PetscFunctionBeginUser;
  PetscCheck(model->setup_called, model->comm, PETSC_ERR_ORDER, "call RmModelSetUp() before RmModelEulerStep()");
  PetscCall(RmModelHasFusedEulerStep(model, &fused));
  PetscCheck(fused, model->comm, PETSC_ERR_SUP, "model %s has no fused Euler step with this storage or batch (RmModelHasFusedEulerStep): step through RmModelRHS", model->type_name);
  PetscCall(PetscLogEventBegin(RM_EVENTS.rhs, 0, 0, 0, 0));
  PetscCall(model->ops.eulerstep(model, h, y, &local));
  PetscCallMPI(MPI_Allreduce(&local, residual, 1, MPIU_REAL, MPIU_MAX, model->comm));
  PetscCall(PetscLogEventEnd(RM_EVENTS.rhs, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSingleDiagonal_Private(RmModel model)
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
  if (W) *W = model->products_through_W ? model->W : NULL;
  if (dphi) PetscCall(RmModelWorkVectors_Private(model, PETSC_TRUE));
  if (dphi) *dphi = model->dphi;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelJacobianDiagonal(RmModel model, Vec diag)
{
  PetscFunctionBeginUser;
  PetscCall(RmModelWorkVectors_Private(model, PETSC_TRUE));
  PetscCall(VecCopy(model->diag, diag));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelJacobianSetUp(RmModel model, Vec x)
{
  PetscFunctionBeginUser;
  PetscCall(RmModelJacobianSetUpWithRHS(model, x, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelJacobianSetUpWithRHS(RmModel model, Vec x, Vec f)
{
  PetscFunctionBeginUser;
  PetscCheck(model->setup_called, model->comm, PETSC_ERR_ORDER, "call RmModelSetUp() before the Jacobian set-up");
  PetscCall(RmModelWorkVectors_Private(model, PETSC_TRUE));
  PetscCall(PetscLogEventBegin(RM_EVENTS.jac_setup, 0, 0, 0, 0));
  PetscCall(model->ops.jacobiansetup(model, x, f));
  PetscCall(PetscLogEventEnd(RM_EVENTS.jac_setup, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelJacobianMult(RmModel model, Vec v, Vec Jv)
{
  PetscFunctionBeginUser;
  PetscCall(RmModelWorkVectors_Private(model, PETSC_TRUE));
  PetscCall(PetscLogEventBegin(RM_EVENTS.jac_vec, 0, 0, 0, 0));
  PetscCall(model->ops.jacobianmult(model, v, Jv));
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

/* ‖τ ⊙ f‖∞: each unit's distance from its fixed-point equation, i.e. ‖f‖∞ scaled by each unit's own
   time constant (a kind with units of other time constants gives its own, ei.c). */
PetscErrorCode RmModelFixedPointResidual(RmModel model, Vec f, PetscReal *norm)
{
  PetscFunctionBeginUser;
  if (model->ops.residual) PetscCall(model->ops.residual(model, f, norm));
  else {
    PetscCall(VecNorm(f, NORM_INFINITY, norm));
    *norm *= model->tau;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelReadoutActivation_Private(RmModel model, Vec x, Vec r)
{
  const PetscScalar *xa;
  PetscScalar       *ra;
  PetscInt           nloc;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(x, &nloc));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayWrite(r, &ra));
  RmActivationEvalArray(&model->act, nloc, xa, 0.0, ra);
  PetscCall(VecRestoreArrayWrite(r, &ra));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelReadout(RmModel model, Vec x, Vec r)
{
  PetscFunctionBeginUser;
  if (model->ops.readout) PetscCall(model->ops.readout(model, x, r));
  else PetscCall(RmModelNeuronsFromState(model, x, r));
  PetscFunctionReturn(PETSC_SUCCESS);
}
