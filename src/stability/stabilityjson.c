/* The stability analysis set up on a network in one call, and in a JSON summary (include/ratemem/stability.h):
   the eigensolver settings, the §6 conditions and a spectrum, one schema for every summary that reports them. */
#include <ratemem/stability.h>

PetscErrorCode RmStabilitySetUpNetwork(RmStability stab, RmMemories mem, RmSynapses syn, RmModel model, RmIntegrator integ, RmClassifier cl)
{
  PetscFunctionBeginUser;
  PetscCall(RmStabilitySetNetwork(stab, mem, syn, model));
  PetscCall(RmStabilitySetIntegrator(stab, integ));
  PetscCall(RmStabilitySetClassifier(stab, cl));
  PetscCall(RmStabilitySetUp(stab));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilitySettingsJSON(RmStability stab, RmJSON *j)
{
  PetscInt            nev;
  RmStabilityOperator op;
  RmStabilityRefine   refine;
  PetscReal           tol, eq_tol;
  const char         *eps_type;

  PetscFunctionBeginUser;
  PetscCall(RmStabilityGetOperatorType(stab, &op));
  PetscCall(RmStabilityGetRefineType(stab, &refine));
  PetscCall(RmStabilityGetSettings(stab, &nev, &tol, &eq_tol));
  PetscCall(RmStabilityGetSolverType(stab, &eps_type));
  PetscCall(RmJSONBeginObject(j, "eigensolver"));
  PetscCall(RmJSONString(j, "library", "SLEPc"));
  PetscCall(RmJSONString(j, "type", eps_type));
  PetscCall(RmJSONString(j, "operator", RmStabilityOperators[op]));
  PetscCall(RmJSONString(j, "problem", op == RM_STABILITY_OPERATOR_JACOBIAN ? "NHEP" : "HEP"));
  PetscCall(RmJSONString(j, "which", "largest_real"));
  PetscCall(RmJSONInt(j, "nev", nev));
  PetscCall(RmJSONReal(j, "tol", tol));
  PetscCall(RmJSONString(j, "equilibrium_refine", RmStabilityRefines[refine]));
  PetscCall(RmJSONReal(j, "equilibrium_tol", eq_tol));
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityConditionsJSON(RmJSON *j, const char *key, const RmStabilityConditions *c)
{
  PetscFunctionBeginUser;
  PetscCall(RmJSONBeginObject(j, key));
  PetscCall(RmJSONBool(j, "applicable", c->applicable));
  if (c->applicable) {
    PetscCall(RmJSONReal(j, "dphi_a", c->dphi_a));
    PetscCall(RmJSONReal(j, "dphi_b", c->dphi_b));
    PetscCall(RmJSONReal(j, "eta", c->eta));
    PetscCall(RmJSONReal(j, "alpha_basic", c->alpha_basic));
    PetscCall(RmJSONReal(j, "gamma", c->gamma));
    PetscCall(RmJSONBeginObject(j, "stability"));
    PetscCall(RmJSONString(j, "formula", "eta*max(alpha',gamma) < 1"));
    PetscCall(RmJSONReal(j, "value", c->stability));
    PetscCall(RmJSONBool(j, "holds", c->stability_holds));
    PetscCall(RmJSONEndObject(j));
    PetscCall(RmJSONBeginObject(j, "instability_1"));
    PetscCall(RmJSONString(j, "formula", "q(gamma-alpha')(phi'(b)-phi'(a)) - (1-phi'(b)alpha')(1-phi'(a)gamma) > 0"));
    PetscCall(RmJSONReal(j, "value", c->instability[0]));
    PetscCall(RmJSONBool(j, "holds", c->instability_holds[0]));
    PetscCall(RmJSONEndObject(j));
    PetscCall(RmJSONBeginObject(j, "instability_2"));
    PetscCall(RmJSONString(j, "formula", "q phi'(b)((1-q)alpha' + q gamma) - 1 > 0"));
    PetscCall(RmJSONReal(j, "value", c->instability[1]));
    PetscCall(RmJSONBool(j, "holds", c->instability_holds[1]));
    PetscCall(RmJSONEndObject(j));
  }
  PetscCall(RmJSONBeginObject(j, "global"));
  PetscCall(RmJSONBool(j, "available", PETSC_FALSE));
  PetscCall(RmJSONString(j, "note", "the paper's global asymptotic stability condition is not implemented: its text could not be consulted (docs/stability.md)"));
  PetscCall(RmJSONEndObject(j));
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSpectrumJSON(RmJSON *j, const RmSpectrum *sp)
{
  PetscFunctionBeginUser;
  PetscCall(RmJSONReal(j, "abscissa", sp->abscissa));
  PetscCall(RmJSONBool(j, "stable", sp->stable));
  PetscCall(RmJSONReal(j, "max_imag", sp->max_imag));
  PetscCall(RmJSONReal(j, "lowrank_abscissa", sp->lowrank_abscissa));
  PetscCall(RmJSONInt(j, "converged_eigenpairs", sp->nconv));
  PetscCall(RmJSONInt(j, "eps_iterations", sp->its));
  PetscCall(RmJSONInt(j, "matvecs", sp->matvecs));
  PetscCall(RmJSONString(j, "eigensolver_fallback", sp->fallback == 1 ? "dense-lapack" : sp->fallback == 2 ? "krylovschur-restart" : "none"));
  PetscFunctionReturn(PETSC_SUCCESS);
}
