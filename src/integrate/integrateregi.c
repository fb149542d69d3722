/* The built-in integrators: one declaration and one registration line per method. */
#include "integrateimpl.h"

PETSC_INTERN PetscErrorCode RmIntegratorCreate_BDF(RmIntegrator);
PETSC_INTERN PetscErrorCode RmIntegratorCreate_Adams(RmIntegrator);
PETSC_INTERN PetscErrorCode RmIntegratorCreate_Euler(RmIntegrator);
PETSC_INTERN PetscErrorCode RmIntegratorCreate_EM(RmIntegrator);
PETSC_INTERN PetscErrorCode RmIntegratorCreate_ERK(RmIntegrator);
PETSC_INTERN PetscErrorCode RmIntegratorCreate_Auto(RmIntegrator);

static PetscBool RmIntegratorRegisterAllCalled = PETSC_FALSE;

static PetscErrorCode RmIntegratorFinalizePackage(void)
{
  PetscFunctionBeginUser;
  PetscCall(RmIntegratorListDestroy_Private());
  RmIntegratorRegisterAllCalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Not collective; idempotent (RmIntegratorCreate calls it). */
PetscErrorCode RmIntegratorRegisterAll(void)
{
  PetscFunctionBeginUser;
  if (RmIntegratorRegisterAllCalled) PetscFunctionReturn(PETSC_SUCCESS);
  RmIntegratorRegisterAllCalled = PETSC_TRUE;
  PetscCall(PetscRegisterFinalize(RmIntegratorFinalizePackage));
  PetscCall(RmIntegratorRegister(RMINTEGRATORBDF, RmIntegratorCreate_BDF));
  PetscCall(RmIntegratorRegister(RMINTEGRATORADAMS, RmIntegratorCreate_Adams));
  PetscCall(RmIntegratorRegister(RMINTEGRATOREULER, RmIntegratorCreate_Euler));
  PetscCall(RmIntegratorRegister(RMINTEGRATOREM, RmIntegratorCreate_EM));
  PetscCall(RmIntegratorRegister(RMINTEGRATORERK, RmIntegratorCreate_ERK));
  PetscCall(RmIntegratorRegister(RMINTEGRATORAUTO, RmIntegratorCreate_Auto));
  PetscFunctionReturn(PETSC_SUCCESS);
}
