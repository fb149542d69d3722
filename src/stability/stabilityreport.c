/* The reports of `ratemem stability` (include/ratemem/stability.h): every memory's equilibrium and
   spectrum, the equilibria reached from cues, as a table on stdout and as members of the JSON summary.
   They live with the analysis so that a driver only sequences it. */
#include <math.h>
#include <ratemem/stability.h>

PetscErrorCode RmStabilityAnalyseMemories(RmStability stab, PetscInt P, Vec x, RmMemoryStability res[], double *t_equilibria, double *t_spectra)
{
  RmProgress progress;

  PetscFunctionBeginUser;
  PetscCall(RmProgressBegin(PetscObjectComm((PetscObject)x), "stability of the memories", "memories", P, &progress));
  for (PetscInt mu = 0; mu < P; mu++) {
    RmMemoryStability *m = &res[mu];
    const PetscReal   *re;
    double             t0 = RmWallTime();

    PetscCall(RmStabilityComputeMemoryEquilibrium(stab, mu, x, &m->eq));
    *t_equilibria += RmWallTime() - t0;
    t0 = RmWallTime();
    PetscCall(RmStabilityComputeSpectrum(stab, x, &m->sp));
    *t_spectra += RmWallTime() - t0;
    PetscCall(RmStabilityGetEigenvalues(stab, &m->neig, &re, NULL));
    m->neig = PetscMin(m->neig, RM_STABILITY_MAX_EIG);
    PetscCall(PetscArraycpy(m->eig, re, m->neig));
    PetscCall(RmProgressUpdate(&progress, mu + 1));
  }
  PetscCall(RmProgressEnd(&progress));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A condition's agreement with the spectrum: "-" where it does not hold, so nothing is predicted. */
static const char *Agree(PetscBool holds, PetscBool agrees)
{
  return holds ? (agrees ? "yes" : "NO") : "-";
}

static PetscErrorCode ConditionsOfMemoryJSON(RmJSON *j, const RmStabilityConditions *c, const RmSpectrum *sp)
{
  PetscFunctionBeginUser;
  PetscCall(RmJSONBeginObject(j, "conditions"));
  PetscCall(RmJSONBool(j, "applicable", c->applicable));
  if (c->applicable) {
    PetscCall(RmJSONReal(j, "stability_value", c->stability));
    PetscCall(RmJSONBool(j, "stability_holds", c->stability_holds));
    if (c->stability_holds) PetscCall(RmJSONBool(j, "stability_agrees", (PetscBool)(sp->abscissa < 0)));
    else PetscCall(RmJSONReal(j, "stability_agrees", (PetscReal)NAN)); /* null: nothing to agree with */
    PetscCall(RmJSONReal(j, "instability_1_value", c->instability[0]));
    PetscCall(RmJSONBool(j, "instability_1_holds", c->instability_holds[0]));
    PetscCall(RmJSONReal(j, "instability_2_value", c->instability[1]));
    PetscCall(RmJSONBool(j, "instability_2_holds", c->instability_holds[1]));
    if (c->any_instability_holds) PetscCall(RmJSONBool(j, "instability_agrees", (PetscBool)(sp->abscissa > 0)));
    else PetscCall(RmJSONReal(j, "instability_agrees", (PetscReal)NAN));
  }
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode EquilibriumJSON(RmJSON *j, const RmEquilibriumInfo *eq)
{
  PetscFunctionBeginUser;
  PetscCall(RmJSONBeginObject(j, "equilibrium"));
  PetscCall(RmJSONReal(j, "residual_initial", eq->residual_initial));
  PetscCall(RmJSONReal(j, "residual", eq->residual));
  PetscCall(RmJSONReal(j, "drift", eq->drift));
  PetscCall(RmJSONReal(j, "overlap", eq->overlap));
  PetscCall(RmJSONInt(j, "nearest_memory", eq->nearest));
  PetscCall(RmJSONBool(j, "converged", eq->converged));
  PetscCall(RmJSONBool(j, "at_memory", eq->at_memory));
  PetscCall(RmJSONInt(j, "steps", eq->steps));
  PetscCall(RmJSONInt(j, "newton_its", eq->newton_its));
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityMemoriesJSON(RmJSON *j, PetscInt P, const RmMemoryStability res[], const RmStabilityConditions *c)
{
  PetscInt  nstable = 0, disagree = 0;
  PetscReal amax = PETSC_MIN_REAL;

  PetscFunctionBeginUser;
  PetscCall(RmStabilityConditionsJSON(j, "conditions", c));
  PetscCall(RmJSONBeginArray(j, "memories"));
  for (PetscInt mu = 0; mu < P; mu++) {
    const RmMemoryStability *m = &res[mu];
    PetscCall(RmJSONBeginObject(j, NULL));
    PetscCall(RmJSONInt(j, "memory", mu));
    PetscCall(RmSpectrumJSON(j, &m->sp));
    PetscCall(RmJSONBeginArray(j, "eigenvalues"));
    for (PetscInt k = 0; k < m->neig; k++) PetscCall(RmJSONReal(j, NULL, m->eig[k]));
    PetscCall(RmJSONEndArray(j));
    PetscCall(EquilibriumJSON(j, &m->eq));
    PetscCall(ConditionsOfMemoryJSON(j, c, &m->sp));
    PetscCall(RmJSONEndObject(j));
    nstable += m->sp.stable;
    amax = PetscMax(amax, m->sp.abscissa);
    disagree += (c->stability_holds && !(m->sp.abscissa < 0)) || (c->any_instability_holds && !(m->sp.abscissa > 0));
  }
  PetscCall(RmJSONEndArray(j));
  PetscCall(RmJSONReal(j, "max_abscissa", amax));
  PetscCall(RmJSONInt(j, "stable_memories", nstable));
  PetscCall(RmJSONInt(j, "condition_disagreements", disagree));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityCuesJSON(RmJSON *j, PetscInt cues, const RmCueStability res[], const char *cue_kind, PetscReal flip)
{
  PetscInt analysed = 0, stable = 0;

  PetscFunctionBeginUser;
  for (PetscInt t = 0; t < cues; t++) {
    analysed += res[t].analysed;
    stable += res[t].analysed && res[t].sp.stable;
  }
  PetscCall(RmJSONBeginObject(j, "non_memory_equilibria"));
  PetscCall(RmJSONInt(j, "cues", cues));
  PetscCall(RmJSONString(j, "cue_kind", cue_kind));
  PetscCall(RmJSONReal(j, "flip", flip));
  PetscCall(RmJSONInt(j, "count", analysed));
  PetscCall(RmJSONInt(j, "stable", stable));
  PetscCall(RmJSONBeginArray(j, "trials"));
  for (PetscInt t = 0; t < cues; t++) {
    const RmCueStability *c = &res[t];
    PetscCall(RmJSONBeginObject(j, NULL));
    PetscCall(RmJSONInt(j, "trial", t));
    PetscCall(RmJSONInt(j, "cue_memory", c->cue_memory));
    PetscCall(RmJSONString(j, "label", RmLabels[c->label]));
    PetscCall(RmJSONInt(j, "nearest_memory", c->nearest));
    PetscCall(RmJSONReal(j, "overlap", c->overlap));
    PetscCall(RmJSONBool(j, "converged", c->stats.converged));
    PetscCall(RmJSONReal(j, "residual_integrated", c->residual_integrated));
    PetscCall(RmJSONBool(j, "analysed", c->analysed));
    if (c->analysed) {
      PetscCall(RmJSONReal(j, "residual", c->residual));
      PetscCall(RmJSONInt(j, "newton_its", c->newton_its));
      PetscCall(RmSpectrumJSON(j, &c->sp));
    }
    PetscCall(RmJSONEndObject(j));
  }
  PetscCall(RmJSONEndArray(j));
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityPrintHeader(RmStability stab, RmMemories mem, RmSynapses syn, RmModel model, PetscBool with_gain)
{
  MPI_Comm            comm;
  PetscMPIInt         size;
  PetscInt            n, P, nev;
  RmDesignType        design;
  RmStorageType       storage;
  RmPatternKind       pkind;
  RmActivation        act;
  RmStabilityOperator op;
  RmStabilityRefine   refine;
  PetscReal           tol, eq_tol;
  const char         *eps_type;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetComm(mem, &comm));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetKind(mem, &pkind));
  PetscCall(RmSynapsesGetDesignType(syn, &design));
  PetscCall(RmSynapsesGetType(syn, &storage));
  PetscCall(RmModelGetActivation(model, &act));
  PetscCall(RmStabilityGetOperatorType(stab, &op));
  PetscCall(RmStabilityGetRefineType(stab, &refine));
  PetscCall(RmStabilityGetSettings(stab, &nev, &tol, &eq_tol));
  PetscCall(RmStabilityGetSolverType(stab, &eps_type));
  PetscCall(PetscPrintf(comm, "ratemem stability: n = %" PetscInt_FMT ", P = %" PetscInt_FMT " (%s), design %s, storage %s, activation %s", n, P,
                        RmPatternKinds[pkind], RmDesignTypes[design], storage, act.fn->name));
  if (with_gain) PetscCall(PetscPrintf(comm, " (gain %g, threshold %g)", (double)act.gain, (double)act.threshold));
  PetscCall(PetscPrintf(comm, ", %d rank%s\n", size, size > 1 ? "s" : ""));
  PetscCall(PetscPrintf(comm, "eigensolver: SLEPc %s, operator %s (%s), %" PetscInt_FMT " rightmost, tol %g; equilibria: %s (tol %g)\n\n", eps_type,
                        RmStabilityOperators[op], op == RM_STABILITY_OPERATOR_JACOBIAN ? "EPS_NHEP" : "EPS_HEP", nev, (double)tol,
                        RmStabilityRefines[refine], (double)eq_tol));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PrintConditions(MPI_Comm comm, const RmStabilityConditions *c)
{
  PetscFunctionBeginUser;
  if (c->applicable) {
    PetscCall(PetscPrintf(comm, "docs/model.md §6 conditions (design-wide): phi'(a) = %.6g, phi'(b) = %.6g, eta = %.6g, alpha' = %.6g, gamma = %.6g\n",
                          (double)c->dphi_a, (double)c->dphi_b, (double)c->eta, (double)c->alpha_basic, (double)c->gamma));
    PetscCall(PetscPrintf(comm, "  stability      eta max(alpha',gamma)                      = %-12.6g < 1 ? %s\n", (double)c->stability,
                          c->stability_holds ? "holds" : "does not hold"));
    PetscCall(PetscPrintf(comm, "  instability 1  q(gamma-alpha')(phi'b-phi'a)-(1-phi'b alpha')(1-phi'a gamma) = %-12.6g > 0 ? %s\n",
                          (double)c->instability[0], c->instability_holds[0] ? "holds" : "does not hold"));
    PetscCall(PetscPrintf(comm, "  instability 2  q phi'b((1-q)alpha' + q gamma) - 1         = %-12.6g > 0 ? %s\n", (double)c->instability[1],
                          c->instability_holds[1] ? "holds" : "does not hold"));
  } else PetscCall(PetscPrintf(comm, "docs/model.md §6 conditions: not applicable (they are stated for the paper design and the rate model)\n"));
  PetscCall(PetscPrintf(comm, "  global asymptotic stability condition of [FR]: not implemented (see docs/stability.md)\n\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityPrintMemories(MPI_Comm comm, PetscInt P, const RmMemoryStability res[], const RmStabilityConditions *c)
{
  PetscFunctionBeginUser;
  PetscCall(PrintConditions(comm, c));
  PetscCall(PetscPrintf(comm, "%6s %14s %6s %10s %10s %8s %6s %12s %6s %8s %10s\n", "memory", "abscissa", "stable", "residual", "drift", "overlap",
                        "at_mem", "lowrank_diff", "its", "matvecs", "conds_agree"));
  for (PetscInt mu = 0; mu < P; mu++) {
    const RmMemoryStability *m = &res[mu];
    char                     agree[32];
    PetscCall(PetscSNPrintf(agree, sizeof(agree), "%s/%s", Agree(c->stability_holds, (PetscBool)(m->sp.abscissa < 0)),
                            Agree(c->any_instability_holds, (PetscBool)(m->sp.abscissa > 0))));
    PetscCall(PetscPrintf(comm, "%6" PetscInt_FMT " %14.8g %6s %10.2e %10.2e %8.4f %6s %12.2e %6" PetscInt_FMT " %8" PetscInt64_FMT " %10s\n", mu,
                          (double)m->sp.abscissa, m->sp.stable ? "yes" : "NO", (double)m->eq.residual, (double)m->eq.drift, (double)m->eq.overlap,
                          m->eq.at_memory ? "yes" : "NO", (double)PetscAbsReal(m->sp.lowrank_abscissa - m->sp.abscissa), m->sp.its, m->sp.matvecs, agree));
  }
  PetscCall(PetscPrintf(comm, "(conds_agree: stability/instability condition; '-' where it does not hold, so nothing is predicted)\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityPrintCues(MPI_Comm comm, PetscInt cues, const RmCueStability res[], const char *cue_kind, PetscReal flip)
{
  PetscInt analysed = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(comm, "\nequilibria reached from %" PetscInt_FMT " cues (%s, flip %g) that are not the cued memory:\n", cues, cue_kind, (double)flip));
  for (PetscInt t = 0; t < cues; t++) {
    const RmCueStability *cr = &res[t];
    if (!cr->analysed) continue;
    if (!analysed++)
      PetscCall(PetscPrintf(comm, "%6s %4s %-10s %7s %8s %10s %14s %6s\n", "trial", "cue", "label", "nearest", "overlap", "residual", "abscissa", "stable"));
    PetscCall(PetscPrintf(comm, "%6" PetscInt_FMT " %4" PetscInt_FMT " %-10s %7" PetscInt_FMT " %8.4f %10.2e %14.8g %6s\n", t, cr->cue_memory,
                          RmLabels[cr->label], cr->nearest, (double)cr->overlap, (double)cr->residual, (double)cr->sp.abscissa, cr->sp.stable ? "yes" : "NO"));
  }
  if (!analysed) PetscCall(PetscPrintf(comm, "  none: every cue ended at its memory or did not converge\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}
