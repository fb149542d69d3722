/* Dynamics (model.md §3): the rate model τ ẋ = -x + φ(W x + u) and the Hopfield voltage form
   τ ẏ = -y + W tanh(δ y) + u, their right-hand side and analytic Jacobian-vector product. */
#include <ratemem/dynamics.h>

const char *const RmActivationTypes[] = {"sigmoid", "rectanh", "tanh", "RmActivationType", "RM_ACTIVATION_", NULL};
const char *const RmModelKinds[]      = {"rate", "voltage", "RmModelKind", "RM_MODEL_", NULL};

struct _p_RmModel {
  MPI_Comm     comm;
  PetscBool    setup_called;
  RmModelKind  kind;
  RmActivation act;
  PetscReal    tau, input;
  Mat          W;
  PetscInt     batch;  /* B states integrated together: local block nloc x B, column-major */
  Mat          Xb, Yb; /* dense n x B wrappers for the block product W X (B > 1) */
  Vec          colx, coly; /* column views for storages without a block product */
  PetscBool    block_product;
  PetscInt64   products;   /* weight products (passes over W) so far */
  Vec          h;      /* work: W x + u, or φ(y) */
  Vec          dphi;   /* φ' at the linearisation point */
  Vec          work;   /* work for J v */
};

PetscErrorCode RmModelCreate(MPI_Comm comm, RmModel *model)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(model));
  (*model)->comm = comm;
  (*model)->tau  = 1.0;
  (*model)->batch = 1;
  PetscCall(RmModelSetKind(*model, RM_MODEL_RATE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Defaults are the authors' (model.md §3): sigmoid ρ = 4.8, x* = 0.2; Hopfield δ = 10. */
PetscErrorCode RmModelSetKind(RmModel model, RmModelKind kind)
{
  PetscFunctionBeginUser;
  model->kind = kind;
  if (kind == RM_MODEL_RATE) {
    model->act.type      = RM_ACTIVATION_SIGMOID;
    model->act.gain      = 4.8;
    model->act.threshold = 0.2;
  } else {
    model->act.type      = RM_ACTIVATION_TANH;
    model->act.gain      = 10.0;
    model->act.threshold = 0.0;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelSetFromOptions(RmModel model)
{
  PetscBool        set_type = PETSC_FALSE, set_thr = PETSC_FALSE;
  RmActivationType type     = model->act.type;

  PetscFunctionBeginUser;
  PetscOptionsBegin(model->comm, NULL, "Dynamics (model.md §3)", "RmModel");
  PetscCall(PetscOptionsEnum("-activation", "Activation of the rate model: sigmoid or rectanh (rectified tanh); the hebbian design uses tanh",
                             "RmModelSetFromOptions", RmActivationTypes, (PetscEnum)type, (PetscEnum *)&type, &set_type));
  PetscCall(PetscOptionsReal("-gain", "Activation gain rho (rate model) or delta in tanh(delta y) (hebbian)", "RmModelSetFromOptions", model->act.gain,
                             &model->act.gain, NULL));
  PetscCall(PetscOptionsReal("-threshold", "Activation threshold x* (default 0.2 sigmoid, 0.75 rectanh)", "RmModelSetFromOptions",
                             model->act.threshold, &model->act.threshold, &set_thr));
  PetscCall(PetscOptionsReal("-tau", "Time constant tau > 0", "RmModelSetFromOptions", model->tau, &model->tau, NULL));
  PetscCall(PetscOptionsReal("-input", "Constant external input u on every neuron", "RmModelSetFromOptions", model->input, &model->input, NULL));
  PetscOptionsEnd();
  if (set_type) {
    PetscCheck(model->kind == RM_MODEL_RATE || type == RM_ACTIVATION_TANH, model->comm, PETSC_ERR_ARG_INCOMP,
               "activation %s needs the rate model (-design paper); the hebbian design uses tanh", RmActivationTypes[type]);
    PetscCheck(model->kind == RM_MODEL_VOLTAGE || type != RM_ACTIVATION_TANH, model->comm, PETSC_ERR_ARG_INCOMP,
               "activation tanh is the hebbian design's; the rate model takes sigmoid or rectanh");
    model->act.type = type;
    if (type == RM_ACTIVATION_RECTANH && !set_thr) model->act.threshold = 0.75; /* the authors' value for rectified tanh */
  }
  PetscCall(RmCheckFinite(model->comm, "gain", model->act.gain));
  PetscCall(RmCheckFinite(model->comm, "threshold", model->act.threshold));
  PetscCall(RmCheckFinite(model->comm, "tau", model->tau));
  PetscCall(RmCheckFinite(model->comm, "input", model->input));
  PetscCheck(model->tau > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "tau must be > 0, got %g", (double)model->tau);
  PetscCheck(model->act.gain > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "gain must be > 0, got %g", (double)model->act.gain);
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

PetscErrorCode RmModelSetUp(RmModel model)
{
  PetscFunctionBeginUser;
  if (model->setup_called) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(model->W, model->comm, PETSC_ERR_ORDER, "call RmModelSetWeights() before RmModelSetUp()");
  if (model->batch > 1) PetscCall(SetUpBatch(model));
  PetscCall(RmModelCreateState(model, &model->h));
  PetscCall(VecDuplicate(model->h, &model->dphi));
  PetscCall(VecDuplicate(model->h, &model->work));
  model->setup_called = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelView(RmModel model, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "Model: %s, activation %s (gain %g, threshold %g), tau %g, input %g\n", RmModelKinds[model->kind],
                                   RmActivationTypes[model->act.type], (double)model->act.gain, (double)model->act.threshold, (double)model->tau,
                                   (double)model->input));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelDestroy(RmModel *model)
{
  PetscFunctionBeginUser;
  if (!*model) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(MatDestroy(&(*model)->W));
  PetscCall(MatDestroy(&(*model)->Xb));
  PetscCall(MatDestroy(&(*model)->Yb));
  PetscCall(VecDestroy(&(*model)->colx));
  PetscCall(VecDestroy(&(*model)->coly));
  PetscCall(VecDestroy(&(*model)->h));
  PetscCall(VecDestroy(&(*model)->dphi));
  PetscCall(VecDestroy(&(*model)->work));
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

PetscErrorCode RmModelCreateState(RmModel model, Vec *x)
{
  PetscInt nloc, n;

  PetscFunctionBeginUser;
  PetscCheck(model->W, model->comm, PETSC_ERR_ORDER, "call RmModelSetWeights() first");
  PetscCall(MatGetLocalSize(model->W, &nloc, NULL));
  PetscCall(MatGetSize(model->W, &n, NULL));
  PetscCall(VecCreateMPI(model->comm, nloc * model->batch, n * model->batch, x));
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
  if (model->batch == 1) PetscCall(MatMult(model->W, x, y));
  else PetscCall(BlockProduct(model, x, y));
  PetscCall(PetscLogEventEnd(RM_EVENTS.syn_mult, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelRHS(RmModel model, Vec x, Vec f)
{
  const PetscScalar *xa, *ha;
  PetscScalar       *fa;
  PetscInt           nloc;
  const PetscReal    itau = 1.0 / model->tau, u = model->input;
  const RmActivation act  = model->act;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.rhs, 0, 0, 0, 0));
  PetscCall(VecGetLocalSize(x, &nloc));
  if (model->kind == RM_MODEL_RATE) {
    PetscCall(WeightProduct(model, x, model->h));
    PetscCall(VecGetArrayRead(x, &xa));
    PetscCall(VecGetArrayRead(model->h, &ha));
    PetscCall(VecGetArrayWrite(f, &fa));
    for (PetscInt i = 0; i < nloc; i++) fa[i] = itau * (-xa[i] + RmActivationEval(&act, ha[i] + u));
  } else {
    PetscScalar *pa;
    PetscCall(VecGetArrayRead(x, &xa));
    PetscCall(VecGetArrayWrite(model->work, &pa));
    for (PetscInt i = 0; i < nloc; i++) pa[i] = RmActivationEval(&act, xa[i]);
    PetscCall(VecRestoreArrayWrite(model->work, &pa));
    PetscCall(WeightProduct(model, model->work, model->h));
    PetscCall(VecGetArrayRead(model->h, &ha));
    PetscCall(VecGetArrayWrite(f, &fa));
    for (PetscInt i = 0; i < nloc; i++) fa[i] = itau * (-xa[i] + ha[i] + u);
  }
  PetscCall(VecRestoreArrayWrite(f, &fa));
  PetscCall(VecRestoreArrayRead(model->h, &ha));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(PetscLogEventEnd(RM_EVENTS.rhs, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelJacobianSetUp(RmModel model, Vec x)
{
  const PetscScalar *src;
  PetscScalar       *d;
  PetscInt           nloc;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.jac_setup, 0, 0, 0, 0));
  PetscCall(VecGetLocalSize(x, &nloc));
  if (model->kind == RM_MODEL_RATE) PetscCall(WeightProduct(model, x, model->h)); /* φ'(W x + u) */
  PetscCall(VecGetArrayRead(model->kind == RM_MODEL_RATE ? model->h : x, &src));
  PetscCall(VecGetArrayWrite(model->dphi, &d));
  const PetscReal shift = model->kind == RM_MODEL_RATE ? model->input : 0.0;
  for (PetscInt i = 0; i < nloc; i++) d[i] = RmActivationDerivative(&model->act, src[i] + shift);
  PetscCall(VecRestoreArrayWrite(model->dphi, &d));
  PetscCall(VecRestoreArrayRead(model->kind == RM_MODEL_RATE ? model->h : x, &src));
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
  if (model->kind != RM_MODEL_RATE || !RmActivationDerivativeFromValue(&model->act, 0.5, &dp)) {
    PetscCall(RmModelJacobianSetUp(model, x));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscLogEventBegin(RM_EVENTS.jac_setup, 0, 0, 0, 0));
  PetscCall(VecGetLocalSize(x, &nloc));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayRead(f, &fa));
  PetscCall(VecGetArrayWrite(model->dphi, &d));
  for (PetscInt i = 0; i < nloc; i++) {
    PetscReal p = model->tau * fa[i] + xa[i]; /* φ(W x + u), §3: τ f = −x + φ */
    RmActivationDerivativeFromValue(&model->act, PetscMin(PetscMax(p, 0.0), 1.0), &d[i]);
  }
  PetscCall(VecRestoreArrayWrite(model->dphi, &d));
  PetscCall(VecRestoreArrayRead(f, &fa));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(PetscLogEventEnd(RM_EVENTS.jac_setup, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelJacobianMult(RmModel model, Vec v, Vec Jv)
{
  const PetscReal itau = 1.0 / model->tau;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.jac_vec, 0, 0, 0, 0));
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
  PetscCall(VecNorm(f, NORM_INFINITY, norm));
  PetscCall(VecDestroy(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmModelReadout(RmModel model, Vec x, Vec r)
{
  const PetscScalar *xa;
  PetscScalar       *ra;
  PetscInt           nloc;

  PetscFunctionBeginUser;
  if (model->kind == RM_MODEL_RATE) {
    PetscCall(VecCopy(x, r));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecGetLocalSize(x, &nloc));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayWrite(r, &ra));
  for (PetscInt i = 0; i < nloc; i++) ra[i] = RmActivationEval(&model->act, xa[i]);
  PetscCall(VecRestoreArrayWrite(r, &ra));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}
