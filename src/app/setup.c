/* Set-up of the retrieval pipeline shared by `ratemem retrieve` and `ratemem sweep` (design.md). */
#include "appimpl.h"

PetscErrorCode RmAppCreateObjects_Private(MPI_Comm comm, RmMemories *mem, RmSynapses *syn, RmModel *model, RmIntegrator *integ, RmClassifier *cl)
{
  RmDesignType design;
  RmModelKind  kind;
  RmEncoding   enc;

  PetscFunctionBeginUser;
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
