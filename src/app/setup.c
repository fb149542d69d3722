/* Set-up of the retrieval pipeline shared by `ratemem retrieve` and `ratemem sweep` (design.md). */
#include "appimpl.h"

PetscErrorCode RmAppCreateObjects_Private(MPI_Comm comm, RmMemories *mem, RmSynapses *syn, RmModel *model, RmIntegrator *integ, RmClassifier *cl)
{
  RmDesignType design;
  RmModelKind  kind;
  RmEncoding   enc;

  PetscFunctionBeginUser;
  PetscCall(RmMemoryLimitSetFromOptions(comm)); /* -memory_limit (src/sys/memory.c) */
  PetscCall(RmSynapsesCreate(comm, syn));
  PetscCall(RmSynapsesSetFromOptions(*syn));
  PetscCall(RmSynapsesGetDesignType(*syn, &design));
  PetscCall(RmDesignTypeGetModel(design, &kind, &enc)); /* paper: rate model, {0,1}; hebbian: voltage form, ±1 */
  PetscCall(RmMemoriesCreate(comm, mem));
  PetscCall(RmMemoriesSetEncoding(*mem, enc));
  PetscCall(RmMemoriesSetFromOptions(*mem));
  PetscCall(RmModelCreate(comm, model));
  PetscCall(RmModelSetKind(*model, kind));
  PetscCall(RmModelSetFromOptions(*model));
  PetscCall(RmIntegratorCreate(comm, integ));
  PetscCall(RmIntegratorSetFromOptions(*integ));
  PetscCall(RmClassifierCreate(*mem, cl));
  PetscCall(RmClassifierSetFromOptions(*cl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscInt64 plan_trials = 0, plan_bytes_per_trial = 0, plan_local_bytes_per_trial = 0;
static PetscReal  plan_estimate = 0;

PetscErrorCode RmAppSetTrialMemory_Private(PetscInt64 trials, PetscInt64 bytes_per_trial, PetscInt64 local_bytes_per_trial)
{
  PetscFunctionBeginUser;
  plan_trials                = trials;
  plan_bytes_per_trial       = bytes_per_trial;
  plan_local_bytes_per_trial = local_bytes_per_trial;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmAppGetMemoryEstimate_Private(PetscReal *bytes)
{
  PetscFunctionBeginUser;
  *bytes = plan_estimate;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Once the memories exist (n and P are known, also from a file) and before anything large is
   allocated: the estimate per rank, refused when it cannot fit (src/sys/memory.c). */
static PetscErrorCode CheckMemory(RmMemories mem, RmSynapses syn, RmModel model, RmIntegrator integ, PetscInt batch)
{
  RmMemoryPlan     plan = {0};
  PetscInt         n, P, K, krylov = 0;
  RmStorageType    storage;
  RmModelKind      kind;
  RmIntegratorType method;
  MPI_Comm         comm;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetComm(mem, &comm));
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmSynapsesGetStorageType(syn, &storage));
  PetscCall(RmSynapsesGetIndegree(syn, &K));
  PetscCall(RmModelGetKind(model, &kind));
  PetscCall(RmIntegratorGetType(integ, &method));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-cvode_krylov_dim", &krylov, NULL));
  plan.n = n, plan.P = P, plan.K = K, plan.batch = batch, plan.krylov_dim = PetscMin(krylov, n); /* (a larger one is refused by the integrator's set-up, by name) */
  plan.storage    = RmStorageTypes[storage];
  plan.integrator = method;
  if (kind == RM_MODEL_EI) {
    PetscInt pool_size;
    PetscCall(RmModelGetInhibition(model, NULL, &pool_size));
    plan.extra_units = (PetscInt64)(P + 1) * pool_size;
  }
  plan.trials = plan_trials, plan.bytes_per_trial = plan_bytes_per_trial, plan.local_bytes_per_trial = plan_local_bytes_per_trial;
  PetscCall(RmMemoryEstimate(comm, &plan, &plan_estimate));
  PetscCall(RmMemoryCheck(comm, plan_estimate));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmAppSetUpObjects_Private(RmMemories mem, RmSynapses syn, RmModel model, RmIntegrator integ, RmClassifier cl, PetscInt batch,
                                         double *t_generate, double *t_assemble)
{
  RmActivation act;
  RmDesign     design;
  Mat          W;
  double       t0;

  PetscFunctionBeginUser;
  t0 = RmWallTime();
  PetscCall(PetscLogStagePush(RM_EVENTS.stage_generate));
  PetscCall(RmMemoriesSetUp(mem));
  PetscCall(PetscLogStagePop());
  PetscCall(CheckMemory(mem, syn, model, integ, batch));
  if (t_generate) *t_generate = RmWallTime() - t0;
  t0 = RmWallTime();
  PetscCall(PetscLogStagePush(RM_EVENTS.stage_assemble));
  PetscCall(RmModelGetActivation(model, &act));
  PetscCall(RmSynapsesSetUp(syn, mem, &act)); /* §2 coefficients depend on φ */
  PetscCall(RmSynapsesGetMat(syn, &W));
  PetscCall(RmModelSetWeights(model, W));
  PetscCall(RmSynapsesRestoreMat(syn, &W));
  PetscCall(RmModelSetBatch(model, batch));
  PetscCall(RmModelSetUp(model));
  PetscCall(PetscLogStagePop());
  if (t_assemble) *t_assemble = RmWallTime() - t0;
  PetscCall(RmIntegratorSetModel(integ, model));
  PetscCall(RmIntegratorSetUp(integ));
  PetscCall(RmSynapsesGetDesign(syn, &design));
  PetscCall(RmClassifierSetRateScale(cl, design.phi_a, design.phi_b));
  PetscCall(RmClassifierSetUp(cl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmAppDestroyObjects_Private(RmMemories *mem, RmSynapses *syn, RmModel *model, RmIntegrator *integ, RmClassifier *cl)
{
  PetscFunctionBeginUser;
  PetscCall(RmClassifierDestroy(cl));
  PetscCall(RmIntegratorDestroy(integ));
  PetscCall(RmModelDestroy(model));
  PetscCall(RmSynapsesDestroy(syn));
  PetscCall(RmMemoriesDestroy(mem));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmAppColumnView_Private(Vec col, Vec block, PetscInt b, PetscBool place)
{
  PetscScalar *a;
  PetscInt     nloc;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(col, &nloc));
  if (place) {
    PetscCall(VecGetArray(block, &a));
    PetscCall(VecPlaceArray(col, a + b * nloc));
    PetscCall(VecRestoreArray(block, &a));
  } else PetscCall(VecResetArray(col));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- JSON summary sections
   The "model" and "network" objects of the retrieve and stability summaries: one schema for both. */
PetscErrorCode RmAppJSONModel_Private(RmJSON *j, RmModel model, RmSynapses syn, PetscBool per_point)
{
  RmActivation act;
  RmDesign     d;
  RmModelKind  kind;
  PetscReal    tau;

  PetscFunctionBeginUser;
  PetscCall(RmModelGetActivation(model, &act));
  PetscCall(RmModelGetKind(model, &kind));
  PetscCall(RmModelGetTau(model, &tau));
  PetscCall(RmSynapsesGetDesign(syn, &d));
  PetscCall(RmJSONBeginObject(j, "model"));
  PetscCall(RmJSONString(j, "kind", RmModelKinds[kind]));
  PetscCall(RmJSONString(j, "activation", RmActivationTypes[act.type]));
  if (!per_point) {
    PetscCall(RmJSONReal(j, "gain", act.gain));
    PetscCall(RmJSONReal(j, "threshold", act.threshold));
  }
  PetscCall(RmJSONReal(j, "a", d.a));
  PetscCall(RmJSONReal(j, "b", d.b));
  PetscCall(RmJSONReal(j, "coding", d.coding));
  PetscCall(RmJSONReal(j, "balance", d.balance));
  PetscCall(RmJSONReal(j, "tau", tau));
  if (kind == RM_MODEL_EI) {
    PetscReal tau_i;
    PetscInt  pool_size;
    PetscCall(RmModelGetInhibition(model, &tau_i, &pool_size));
    PetscCall(RmJSONReal(j, "tau_i", tau_i));
    PetscCall(RmJSONReal(j, "stiffness", tau / tau_i));
    PetscCall(RmJSONInt(j, "pool_size", pool_size));
  }
  if (!per_point) { /* the design coefficients depend on the activation */
    PetscCall(RmJSONReal(j, "alpha", d.alpha));
    PetscCall(RmJSONReal(j, "alpha_basic", d.alpha_basic));
    PetscCall(RmJSONReal(j, "beta", d.beta));
    PetscCall(RmJSONReal(j, "gamma", d.gamma));
    PetscCall(RmJSONReal(j, "phi_a", d.phi_a));
    PetscCall(RmJSONReal(j, "phi_b", d.phi_b));
  }
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmAppJSONNetwork_Private(RmJSON *j, RmMemories mem, RmSynapses syn)
{
  PetscInt      n, P, K;
  PetscInt64    seed;
  RmDesignType  design;
  RmStorageType storage;
  RmPatternKind pkind;
  const char   *kernel;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetSeed(mem, &seed));
  PetscCall(RmMemoriesGetKind(mem, &pkind));
  PetscCall(RmSynapsesGetDesignType(syn, &design));
  PetscCall(RmSynapsesGetStorageType(syn, &storage));
  PetscCall(RmSynapsesGetIndegree(syn, &K));
  PetscCall(RmSynapsesGetKernelName(syn, &kernel));
  PetscCall(RmJSONBeginObject(j, "network"));
  PetscCall(RmJSONInt(j, "n", n));
  PetscCall(RmJSONInt(j, "memories", P));
  PetscCall(RmJSONString(j, "design", RmDesignTypes[design]));
  PetscCall(RmJSONString(j, "storage", RmStorageTypes[storage]));
  PetscCall(RmJSONInt(j, "indegree", K));
  PetscCall(RmJSONString(j, "kernel", kernel));
  PetscCall(RmJSONInt(j, "seed", seed));
  PetscCall(RmJSONString(j, "patterns", RmPatternKinds[pkind]));
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}
