/* The phase diagram of docs/model.md §6 (include/ratemem/run.h): on a grid of gains x thresholds of the
   rate model's activation, the §6 conditions and the largest spectral abscissa over all memories'
   equilibria, each point a network of its own (the memories and the classifier are shared). */
#include <ratemem/run.h>
#include <ratemem/stability.h>

struct _p_RmPhaseDiagram {
  MPI_Comm      comm;
  PetscReal     gain[3], threshold[3]; /* lo, hi, N */
  PetscInt      ngain, nthreshold;
  PetscBool     progress;
  RmPhasePoint *grid;
};

PetscErrorCode RmPhaseDiagramCreate(MPI_Comm comm, RmPhaseDiagram *pd)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(pd));
  (*pd)->comm = comm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmPhaseDiagramSetRanges(RmPhaseDiagram pd, const PetscReal gain[3], const PetscReal threshold[3])
{
  PetscFunctionBeginUser;
  for (int k = 0; k < 3; k++) pd->gain[k] = gain[k], pd->threshold[k] = threshold[k];
  pd->ngain      = (PetscInt)gain[2];
  pd->nthreshold = (PetscInt)threshold[2];
  PetscCheck(pd->ngain >= 1 && pd->nthreshold >= 1, pd->comm, PETSC_ERR_ARG_OUTOFRANGE, "the phase diagram needs at least one gain and one threshold");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmPhaseDiagramSetProgress(RmPhaseDiagram pd, PetscBool progress)
{
  PetscFunctionBeginUser;
  pd->progress = progress;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal Linspace(const PetscReal r[3], PetscInt N, PetscInt k)
{
  return N > 1 ? r[0] + (r[1] - r[0]) * (PetscReal)k / (PetscReal)(N - 1) : r[0];
}

/* The design exists at this activation (the checks of RmDesignCompute, made here so that an
   invalid grid point is marked in the CSV rather than raising an error). */
static PetscBool DesignValid(const RmDesign *d, PetscReal q, const RmActivation *act, PetscReal *phi_a, PetscReal *phi_b)
{
  *phi_a = RmActivationEval(act, d->a);
  *phi_b = RmActivationEval(act, d->b);
  return (PetscBool)(*phi_b - *phi_a > 1e-12 && (1 - q) * *phi_a + q * *phi_b > 0);
}

/* Every memory's equilibrium and spectrum on the network set up in stab. */
static PetscErrorCode AnalyseMemories(RmStability stab, RmModel model, PetscInt P, RmPhasePoint *pt)
{
  Vec x;

  PetscFunctionBeginUser;
  PetscCall(RmModelCreateState(model, &x));
  pt->max_abscissa     = PETSC_MIN_REAL;
  pt->lowrank_abscissa = PETSC_MIN_REAL;
  pt->at_memory        = PETSC_TRUE;
  for (PetscInt mu = 0; mu < P; mu++) {
    RmEquilibriumInfo eq;
    RmSpectrum        sp;
    PetscCall(RmStabilityComputeMemoryEquilibrium(stab, mu, x, &eq));
    PetscCall(RmStabilityComputeSpectrum(stab, x, &sp));
    if (sp.abscissa > pt->max_abscissa) {
      pt->max_abscissa = sp.abscissa;
      pt->worst_memory = mu;
    }
    pt->lowrank_abscissa = PetscMax(pt->lowrank_abscissa, sp.lowrank_abscissa);
    pt->max_residual     = PetscMax(pt->max_residual, eq.residual);
    pt->at_memory        = (PetscBool)(pt->at_memory && eq.at_memory);
    pt->matvecs += sp.matvecs;
  }
  pt->stable = (PetscBool)(pt->max_abscissa < 0);
  PetscCall(VecDestroy(&x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One grid point: synapses, model and integrator from the options, the point's gain and threshold
   through the model's setters, then the §6 conditions and the memories' spectra. */
static PetscErrorCode PointRun(RmPhaseDiagram pd, RmMemories mem, RmClassifier cl, RmStability stab, const RmActivation *act, RmPhasePoint *pt)
{
  RmSynapses   syn   = NULL;
  RmModel      model = NULL;
  RmIntegrator integ = NULL;
  RmDesignType dtype;
  RmModelType  mtype;
  PetscInt     P;

  PetscFunctionBeginUser;
  PetscCall(RmSynapsesCreate(pd->comm, &syn));
  PetscCall(RmSynapsesSetFromOptions(syn));
  PetscCall(RmSynapsesGetDesignType(syn, &dtype));
  PetscCall(RmDesignTypeGetModel(dtype, &mtype, NULL));
  PetscCall(RmModelCreate(pd->comm, &model));
  PetscCall(RmModelSetType(model, mtype));
  PetscCall(RmModelSetFromOptions(model));
  PetscCall(RmModelSetGain(model, act->gain));
  PetscCall(RmModelSetThreshold(model, act->threshold));
  PetscCall(RmIntegratorCreate(pd->comm, &integ));
  PetscCall(RmIntegratorSetFromOptions(integ));
  PetscCall(RmRunSetUpNetwork(mem, syn, model, integ, cl, 1, NULL, NULL));
  PetscCall(RmStabilitySetUpNetwork(stab, mem, syn, model, integ, cl));
  PetscCall(RmStabilityComputeConditions(stab, &pt->cond));
  PetscCall(RmMemoriesGetSizes(mem, NULL, &P));
  PetscCall(AnalyseMemories(stab, model, P, pt));
  PetscCall(RmStabilitySetNetwork(stab, NULL, NULL, NULL));
  PetscCall(RmIntegratorDestroy(&integ));
  PetscCall(RmModelDestroy(&model));
  PetscCall(RmSynapsesDestroy(&syn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmPhaseDiagramCompute(RmPhaseDiagram pd, RmMemories mem, RmClassifier cl, RmStability stab, const RmActivation *base, const RmDesign *d)
{
  PetscReal q;
  double    t0 = RmWallTime();

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetCoding(mem, &q));
  PetscCall(PetscFree(pd->grid));
  PetscCall(PetscCalloc1(pd->ngain * pd->nthreshold, &pd->grid));
  for (PetscInt i = 0; i < pd->ngain; i++) {
    for (PetscInt j = 0; j < pd->nthreshold; j++) {
      RmPhasePoint *pt  = &pd->grid[i * pd->nthreshold + j];
      RmActivation  act = *base;
      act.gain          = Linspace(pd->gain, pd->ngain, i);
      act.threshold     = Linspace(pd->threshold, pd->nthreshold, j);
      pt->gain          = act.gain;
      pt->threshold     = act.threshold;
      pt->valid         = DesignValid(d, q, &act, &pt->phi_a, &pt->phi_b);
      if (pt->valid) PetscCall(PointRun(pd, mem, cl, stab, &act, pt));
    }
    if (pd->progress)
      PetscCall(PetscFPrintf(pd->comm, stderr, "[phase] gain %" PetscInt_FMT "/%" PetscInt_FMT " (%.4g) done, %.1f s\n", i + 1, pd->ngain,
                             (double)Linspace(pd->gain, pd->ngain, i), RmWallTime() - t0));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmPhaseDiagramGetPoints(RmPhaseDiagram pd, PetscInt *count, const RmPhasePoint **points)
{
  PetscFunctionBeginUser;
  if (count) *count = pd->ngain * pd->nthreshold;
  if (points) *points = pd->grid;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmPhaseDiagramGetCounts(RmPhaseDiagram pd, RmPhaseCounts *pc)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(pc, sizeof(*pc)));
  for (PetscInt k = 0; k < pd->ngain * pd->nthreshold; k++) {
    const RmPhasePoint *pt = &pd->grid[k];
    if (!pt->valid) continue;
    pc->valid++;
    pc->stable += pt->stable;
    pc->stab_holds += pt->cond.stability_holds;
    pc->inst_holds += pt->cond.any_instability_holds;
    pc->stab_disagree += pt->cond.stability_holds && !(pt->max_abscissa < 0);
    pc->inst_disagree += pt->cond.any_instability_holds && !(pt->max_abscissa > 0);
    pc->not_at_memory += !pt->at_memory;
    if (!PetscIsInfOrNanReal(pt->lowrank_abscissa)) pc->lowrank_diff = PetscMax(pc->lowrank_diff, PetscAbsReal(pt->lowrank_abscissa - pt->max_abscissa));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void CSVReal(FILE *fp, PetscReal v, PetscBool last)
{
  if (PetscIsInfOrNanReal(v)) fputs("nan", fp);
  else fprintf(fp, "%.17g", (double)v);
  fputc(last ? '\n' : ',', fp);
}

static void WritePoint(FILE *fp, const RmPhasePoint *pt)
{
  const RmStabilityConditions *c = &pt->cond;

  fprintf(fp, "%.17g,%.17g,%d,", (double)pt->gain, (double)pt->threshold, (int)pt->valid);
  CSVReal(fp, pt->phi_a, PETSC_FALSE);
  CSVReal(fp, pt->phi_b, PETSC_FALSE);
  if (!pt->valid) {
    fputs("nan,nan,nan,nan,nan,,nan,nan,,nan,,,nan,nan,,,,\n", fp);
    return;
  }
  CSVReal(fp, c->dphi_a, PETSC_FALSE);
  CSVReal(fp, c->dphi_b, PETSC_FALSE);
  CSVReal(fp, c->alpha_basic, PETSC_FALSE);
  CSVReal(fp, c->gamma, PETSC_FALSE);
  CSVReal(fp, c->stability, PETSC_FALSE);
  fprintf(fp, "%d,", (int)c->stability_holds);
  CSVReal(fp, c->instability[0], PETSC_FALSE);
  CSVReal(fp, c->instability[1], PETSC_FALSE);
  fprintf(fp, "%d,", (int)c->any_instability_holds);
  CSVReal(fp, pt->max_abscissa, PETSC_FALSE);
  fprintf(fp, "%d,%d,", (int)pt->stable, (int)pt->worst_memory);
  CSVReal(fp, pt->lowrank_abscissa, PETSC_FALSE);
  CSVReal(fp, pt->max_residual, PETSC_FALSE);
  fprintf(fp, "%d,", (int)pt->at_memory);
  if (c->stability_holds) fprintf(fp, "%d,", (int)(pt->max_abscissa < 0));
  else fputc(',', fp);
  if (c->any_instability_holds) fprintf(fp, "%d,", (int)(pt->max_abscissa > 0));
  else fputc(',', fp);
  fprintf(fp, "%lld\n", (long long)pt->matvecs);
}

typedef struct {
  RmPhaseDiagram pd;
  const char    *comment;
} CSVCtx;

static PetscErrorCode CSVWriter(void *ctx, FILE *fp)
{
  CSVCtx *c = (CSVCtx *)ctx;

  PetscFunctionBeginUser;
  fprintf(fp, "# %s\n", c->comment);
  fprintf(fp, "gain,threshold,valid,phi_a,phi_b,dphi_a,dphi_b,alpha_basic,gamma,stability_value,stability_holds,instability_value_1,"
              "instability_value_2,instability_holds,max_abscissa,numerically_stable,worst_memory,lowrank_abscissa,equilibrium_residual,"
              "at_memory,agrees_stability,agrees_instability,matvecs\n");
  for (PetscInt k = 0; k < c->pd->ngain * c->pd->nthreshold; k++) WritePoint(fp, &c->pd->grid[k]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmPhaseDiagramWriteCSV(RmPhaseDiagram pd, const char *path, const char *comment)
{
  CSVCtx c = {pd, comment};

  PetscFunctionBeginUser;
  PetscCall(RmWriteFileAtomic(pd->comm, path, CSVWriter, &c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmPhaseDiagramDestroy(RmPhaseDiagram *pd)
{
  PetscFunctionBeginUser;
  if (!*pd) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree((*pd)->grid));
  PetscCall(PetscFree(*pd));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmPhaseDiagramJSON(RmPhaseDiagram pd, RmJSON *j, const char *csv)
{
  RmPhaseCounts pc;

  PetscFunctionBeginUser;
  PetscCall(RmPhaseDiagramGetCounts(pd, &pc));
  PetscCall(RmJSONBeginObject(j, "phase"));
  PetscCall(RmJSONString(j, "csv", csv));
  PetscCall(RmJSONBeginArray(j, "gain_range"));
  for (int k = 0; k < 3; k++) PetscCall(RmJSONReal(j, NULL, pd->gain[k]));
  PetscCall(RmJSONEndArray(j));
  PetscCall(RmJSONBeginArray(j, "threshold_range"));
  for (int k = 0; k < 3; k++) PetscCall(RmJSONReal(j, NULL, pd->threshold[k]));
  PetscCall(RmJSONEndArray(j));
  PetscCall(RmJSONInt(j, "gains", pd->ngain));
  PetscCall(RmJSONInt(j, "thresholds", pd->nthreshold));
  PetscCall(RmJSONInt(j, "valid_points", pc.valid));
  PetscCall(RmJSONInt(j, "numerically_stable", pc.stable));
  PetscCall(RmJSONInt(j, "stability_condition_holds", pc.stab_holds));
  PetscCall(RmJSONInt(j, "instability_condition_holds", pc.inst_holds));
  PetscCall(RmJSONInt(j, "stability_condition_disagrees", pc.stab_disagree));
  PetscCall(RmJSONInt(j, "instability_condition_disagrees", pc.inst_disagree));
  PetscCall(RmJSONInt(j, "equilibria_not_at_memory", pc.not_at_memory));
  PetscCall(RmJSONReal(j, "max_lowrank_difference", pc.lowrank_diff));
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmPhaseDiagramPrint(RmPhaseDiagram pd, const char *csv)
{
  RmPhaseCounts pc;

  PetscFunctionBeginUser;
  PetscCall(RmPhaseDiagramGetCounts(pd, &pc));
  PetscCall(PetscPrintf(pd->comm, "phase diagram: gain %g..%g (%" PetscInt_FMT ") x threshold %g..%g (%" PetscInt_FMT "), written to %s\n", (double)pd->gain[0],
                        (double)pd->gain[1], pd->ngain, (double)pd->threshold[0], (double)pd->threshold[1], pd->nthreshold, csv));
  PetscCall(PetscPrintf(pd->comm, "  valid points %" PetscInt_FMT "/%" PetscInt_FMT ", numerically stable %" PetscInt_FMT "\n", pc.valid,
                        pd->ngain * pd->nthreshold, pc.stable));
  PetscCall(PetscPrintf(pd->comm, "  stability condition holds at %" PetscInt_FMT " (spectrum disagrees at %" PetscInt_FMT ")\n", pc.stab_holds, pc.stab_disagree));
  PetscCall(PetscPrintf(pd->comm, "  an instability condition holds at %" PetscInt_FMT " (spectrum disagrees at %" PetscInt_FMT ")\n", pc.inst_holds,
                        pc.inst_disagree));
  PetscCall(PetscPrintf(pd->comm, "  largest |SLEPc - low-rank (P+1)x(P+1)| abscissa difference: %.3g\n", (double)pc.lowrank_diff));
  PetscFunctionReturn(PETSC_SUCCESS);
}
