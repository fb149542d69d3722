/* The built-in weight storages: one declaration and one registration line per storage. */
#include "synapsesimpl.h"

PETSC_INTERN PetscErrorCode RmSynapsesCreate_Dense(RmSynapses);
PETSC_INTERN PetscErrorCode RmSynapsesCreate_AIJ(RmSynapses);
PETSC_INTERN PetscErrorCode RmSynapsesCreate_LowRank(RmSynapses);
PETSC_INTERN PetscErrorCode RmSynapsesCreate_Compressed(RmSynapses);
PETSC_INTERN PetscErrorCode RmSynapsesCreate_Spatial(RmSynapses);

static PetscBool RmSynapsesRegisterAllCalled = PETSC_FALSE;

static PetscErrorCode RmSynapsesFinalizePackage(void)
{
  PetscFunctionBeginUser;
  PetscCall(RmSynapsesListDestroy_Private());
  RmSynapsesRegisterAllCalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Not collective; idempotent (RmSynapsesCreate calls it). */
PetscErrorCode RmSynapsesRegisterAll(void)
{
  PetscFunctionBeginUser;
  if (RmSynapsesRegisterAllCalled) PetscFunctionReturn(PETSC_SUCCESS);
  RmSynapsesRegisterAllCalled = PETSC_TRUE;
  PetscCall(PetscRegisterFinalize(RmSynapsesFinalizePackage));
  PetscCall(RmSynapsesRegister(RMSTORAGEDENSE, RmSynapsesCreate_Dense));
  PetscCall(RmSynapsesRegister(RMSTORAGEAIJ, RmSynapsesCreate_AIJ));
  PetscCall(RmSynapsesRegister(RMSTORAGELOWRANK, RmSynapsesCreate_LowRank));
  PetscCall(RmSynapsesRegister(RMSTORAGECOMPRESSED, RmSynapsesCreate_Compressed));
  PetscCall(RmSynapsesRegister("spatial", RmSynapsesCreate_Spatial));
  PetscFunctionReturn(PETSC_SUCCESS);
}
