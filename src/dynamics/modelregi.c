/* The built-in model kinds: one declaration and one registration line per kind. */
#include "dynamicsimpl.h"

PETSC_INTERN PetscErrorCode RmModelCreate_Rate(RmModel);
PETSC_INTERN PetscErrorCode RmModelCreate_Voltage(RmModel);
PETSC_INTERN PetscErrorCode RmModelCreate_EI(RmModel);
PETSC_INTERN PetscErrorCode RmModelCreate_InputRate(RmModel);

static PetscBool RmModelRegisterAllCalled = PETSC_FALSE;

static PetscErrorCode RmModelFinalizePackage(void)
{
  PetscFunctionBeginUser;
  PetscCall(RmModelListDestroy_Private());
  RmModelRegisterAllCalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Not collective; idempotent (RmModelCreate calls it). */
PetscErrorCode RmModelRegisterAll(void)
{
  PetscFunctionBeginUser;
  if (RmModelRegisterAllCalled) PetscFunctionReturn(PETSC_SUCCESS);
  RmModelRegisterAllCalled = PETSC_TRUE;
  PetscCall(PetscRegisterFinalize(RmModelFinalizePackage));
  PetscCall(RmModelRegister(RMMODELRATE, RmModelCreate_Rate));
  PetscCall(RmModelRegister(RMMODELVOLTAGE, RmModelCreate_Voltage));
  PetscCall(RmModelRegister(RMMODELEI, RmModelCreate_EI));
  PetscCall(RmModelRegister(RMMODELINPUTRATE, RmModelCreate_InputRate));
  PetscFunctionReturn(PETSC_SUCCESS);
}
