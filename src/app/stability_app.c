/* `ratemem stability` (docs/model.md §6): for every stored memory, its equilibrium, the rightmost
   eigenvalues of the Jacobian there (SLEPc, distributed), the spectral abscissa, and the paper's
   sufficient conditions for stability and instability with whether the spectrum agrees; with
   -stability_cues T, the equilibria reached from T cues that are not the cued memory, and their
   stability. With -phase_gain lo,hi,N -phase_threshold lo,hi,N: the phase diagram of §6 (largest
   abscissa over all memories and the two conditions on a gain x threshold grid) as CSV. */
#include <math.h>
#include <ratemem/ratemem.h>
#include "ratemem_version.h"
#include <ratemem/run.h>
#include <ratemem/stability.h>
#include <stdio.h>

#define MAX_EIG 16

typedef struct {
  RmEquilibriumInfo eq;
  RmSpectrum        sp;
  PetscInt          neig;
  PetscReal         eig[MAX_EIG];
} MemoryResult;

typedef struct {
  PetscInt          cue_memory, nearest, newton_its;
  RmLabel           label;
  PetscReal         overlap, residual_integrated, residual;
  PetscBool         analysed;
  RmIntegratorStats stats;
  RmSpectrum        sp;
} CueResult;

typedef struct {
  MPI_Comm              comm;
  PetscMPIInt           size;
  RmRun                 run; /* owns the five objects below */
  RmMemories            mem;
  RmSynapses            syn;
  RmModel               model;
  RmIntegrator          integ;
  RmClassifier          cl;
  RmStability           stab;
  RmCueOptions          cue;
  RmStabilityConditions cond;
  PetscInt              cues;
  char                  summary[PETSC_MAX_PATH_LEN], phase_csv[PETSC_MAX_PATH_LEN];
  PetscBool             has_summary, has_phase_csv, quiet, help, phase, phase_progress;
  PetscReal             phase_gain[3], phase_threshold[3];
  PetscInt              ngain, nthreshold;
  MemoryResult         *mres;
  CueResult            *cres;
  RmPhaseDiagram        pd;
  double                t_setup, t_equilibria, t_spectra, t_cues, t_phase, t_total;
  PetscReal             peak_max_rank, peak_total;
  Vec                   x;     /* a model state */
  Vec                   xn, r; /* neuron vectors: a cue, a readout */
} App;

/* -phase_gain lo,hi,N: two reals and a count (nread values were given). */
static PetscErrorCode CheckRange(App *app, const char *name, PetscInt nread, const PetscReal range[3], PetscInt *count)
{
  PetscFunctionBeginUser;
  PetscCheck(nread == 3, app->comm, PETSC_ERR_ARG_WRONG, "%s needs lo,hi,N (three values), got %" PetscInt_FMT, name, nread);
  for (int k = 0; k < 3; k++) PetscCall(RmCheckFinite(app->comm, name, range[k]));
  *count = (PetscInt)range[2];
  PetscCheck((PetscReal)*count == range[2] && *count >= 1, app->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: N must be an integer >= 1, got %g", name,
             (double)range[2]);
  PetscCheck(range[0] <= range[1], app->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: lo must not exceed hi (got %g, %g)", name, (double)range[0],
             (double)range[1]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppSetFromOptions(App *app)
{
  RmDesignType design;
  PetscBool    has_gain = PETSC_FALSE, has_thr = PETSC_FALSE;
  PetscInt     ngain_read = 3, nthr_read = 3;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsHasHelp(NULL, &app->help));
  PetscCall(RmRunCreate(app->comm, &app->run));
  PetscCall(RmRunSetFromOptions(app->run));
  PetscCall(RmRunGetObjects(app->run, &app->mem, &app->syn, &app->model, &app->integ, &app->cl));
  PetscCall(RmRunGetCue(app->run, &app->cue));
  PetscCall(RmSynapsesGetDesignType(app->syn, &design));
  PetscCall(RmStabilityCreate(app->comm, &app->stab));
  PetscCall(RmStabilitySetFromOptions(app->stab));
  PetscOptionsBegin(app->comm, NULL, "Stability analysis (docs/model.md §6)", "ratemem stability");
  PetscCall(PetscOptionsInt("-stability_cues", "Integrate this many cues (trial t cues memory t mod P) and analyse the equilibria that are not the cued memory",
                            "ratemem stability", app->cues, &app->cues, NULL));
  PetscCall(PetscOptionsString("-summary", "JSON summary file (written atomically by rank 0)", "ratemem stability", app->summary, app->summary,
                               sizeof(app->summary), &app->has_summary));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the results table", "ratemem stability", app->quiet, &app->quiet, NULL));
  PetscCall(PetscOptionsRealArray("-phase_gain", "Phase diagram: gains rho lo,hi,N (with -phase_threshold and -phase_csv)", "ratemem stability",
                                   app->phase_gain, &ngain_read, &has_gain));
  PetscCall(PetscOptionsRealArray("-phase_threshold", "Phase diagram: thresholds x* lo,hi,N", "ratemem stability", app->phase_threshold, &nthr_read,
                                   &has_thr));
  PetscCall(PetscOptionsString("-phase_csv", "Phase diagram CSV file (written atomically by rank 0)", "ratemem stability", app->phase_csv, app->phase_csv,
                               sizeof(app->phase_csv), &app->has_phase_csv));
  PetscCall(PetscOptionsBool("-phase_progress", "Print a line per gain of the phase diagram to stderr", "ratemem stability", app->phase_progress,
                             &app->phase_progress, NULL));
  PetscOptionsEnd();
  PetscCheck(app->cues >= 0, app->comm, PETSC_ERR_ARG_OUTOFRANGE, "stability_cues must be >= 0, got %" PetscInt_FMT, app->cues);
  PetscCheck(!app->has_summary || app->summary[0], app->comm, PETSC_ERR_ARG_WRONG, "-summary needs a file name");
  PetscCheck(has_gain == has_thr, app->comm, PETSC_ERR_ARG_WRONG, "the phase diagram needs both -phase_gain and -phase_threshold");
  app->phase = has_gain;
  if (has_gain) PetscCall(CheckRange(app, "-phase_gain", ngain_read, app->phase_gain, &app->ngain));
  if (has_thr) PetscCall(CheckRange(app, "-phase_threshold", nthr_read, app->phase_threshold, &app->nthreshold));
  PetscCheck(!app->phase || (app->has_phase_csv && app->phase_csv[0]), app->comm, PETSC_ERR_ARG_WRONG, "the phase diagram needs -phase_csv FILE");
  PetscCheck(app->phase || !app->has_phase_csv, app->comm, PETSC_ERR_ARG_WRONG, "-phase_csv needs -phase_gain and -phase_threshold");
  PetscCheck(!app->phase || design == RM_DESIGN_PAPER, app->comm, PETSC_ERR_ARG_INCOMP, "the phase diagram needs -design paper (gain and threshold of the rate model)");
  PetscCheck(!app->phase || app->cues == 0, app->comm, PETSC_ERR_ARG_INCOMP, "-stability_cues is not available with the phase diagram");
  if (!app->help) PetscCall(RmCheckOptionsAllUsed(app->comm));
  if (!app->help) {
    const RmFileArg files[] = {
      {"-summary",   app->has_summary ? app->summary : NULL,     RM_FILE_OUTPUT},
      {"-phase_csv", app->has_phase_csv ? app->phase_csv : NULL, RM_FILE_OUTPUT},
      {NULL,         NULL,                                       RM_FILE_INPUT }
    };
    PetscCall(RmCheckRunFiles(app->comm, files));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stability solver on a network set up as a trial runner's (batch 1). */

/* ---------------------------------------------------------------- memories and cues */

static PetscErrorCode AnalyseMemories(App *app)
{
  PetscInt P;
  double   t0;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  PetscCall(PetscCalloc1(P, &app->mres));
  for (PetscInt mu = 0; mu < P; mu++) {
    MemoryResult    *m = &app->mres[mu];
    const PetscReal *re;
    t0 = RmWallTime();
    PetscCall(RmStabilityComputeMemoryEquilibrium(app->stab, mu, app->x, &m->eq));
    app->t_equilibria += RmWallTime() - t0;
    t0 = RmWallTime();
    PetscCall(RmStabilityComputeSpectrum(app->stab, app->x, &m->sp));
    app->t_spectra += RmWallTime() - t0;
    PetscCall(RmStabilityGetEigenvalues(app->stab, &m->neig, &re, NULL));
    m->neig = PetscMin(m->neig, MAX_EIG);
    PetscCall(PetscArraycpy(m->eig, re, m->neig));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A cue's end state (the runner's trial callback): every equilibrium that is not the cued memory is
   polished by Newton and its spectrum computed. */
static PetscErrorCode CueDone(void *ctx, PetscInt t, const RmTrialResult *res, Vec initial, Vec final, const RmOverlaps *ov)
{
  App       *app = (App *)ctx;
  CueResult *c   = &app->cres[t];
  Vec        x;

  PetscFunctionBeginUser;
  c->cue_memory          = res->cue_memory;
  c->nearest             = res->nearest;
  c->label               = res->label;
  c->overlap             = res->overlap;
  c->stats               = res->stats;
  c->residual_integrated = c->stats.residual;
  c->residual            = c->stats.residual;
  c->sp.abscissa = c->sp.lowrank_abscissa = (PetscReal)NAN;
  if (c->label == RM_LABEL_RETRIEVED || c->label == RM_LABEL_UNCONVERGED) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmRunGetState(app->run, &x)); /* batch 1: the trial's model state */
  PetscCall(RmStabilityPolishEquilibrium(app->stab, x, &c->residual, &c->newton_its));
  PetscCall(RmStabilityComputeSpectrum(app->stab, x, &c->sp));
  c->analysed = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AnalyseCues(App *app)
{
  double t0 = RmWallTime();

  PetscFunctionBeginUser;
  if (!app->cues) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscCalloc1(app->cues, &app->cres));
  PetscCall(RmRunSetTrialCallback(app->run, CueDone, app));
  PetscCall(RmRunSetQuiet(app->run, PETSC_TRUE)); /* the cues' equilibria are in the stability table */
  PetscCall(RmRunSolve(app->run, NULL));
  app->t_cues = RmWallTime() - t0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- phase diagram */

static PetscErrorCode RunPhase(App *app)
{
  RmActivation act;
  RmDesign     d;
  PetscInt     n, P;
  PetscReal    q;
  char         comment[512];
  double       t0 = RmWallTime();

  PetscFunctionBeginUser;
  PetscCall(RmModelGetActivation(app->model, &act));
  PetscCall(RmSynapsesGetDesign(app->syn, &d)); /* a, b as set by the options */
  PetscCall(RmMemoriesGetSizes(app->mem, &n, &P));
  PetscCall(RmMemoriesGetCoding(app->mem, &q));
  PetscCall(RmPhaseDiagramCreate(app->comm, &app->pd));
  PetscCall(RmPhaseDiagramSetRanges(app->pd, app->phase_gain, app->phase_threshold));
  PetscCall(RmPhaseDiagramSetProgress(app->pd, app->phase_progress));
  PetscCall(RmPhaseDiagramCompute(app->pd, app->mem, app->cl, app->stab, &act, &d));
  app->t_phase = RmWallTime() - t0;
  PetscCall(PetscSNPrintf(comment, sizeof(comment),
                          "ratemem stability phase diagram (docs/model.md §6): activation %s, n %d, P %d, q %g, a %g, b %g; max_abscissa from SLEPc over all memories",
                          act.fn->name, (int)n, (int)P, (double)q, (double)d.a, (double)d.b));
  PetscCall(RmPhaseDiagramWriteCSV(app->pd, app->phase_csv, comment));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- output */

static const char *Agree(PetscBool holds, PetscBool agrees)
{
  return holds ? (agrees ? "yes" : "NO") : "-";
}

/* The settings of the analysis: model, network, eigensolver. */
static PetscErrorCode WriteJSONSettings(App *app, RmJSON *j)
{
  PetscFunctionBeginUser;
  PetscCall(RmRunJSONModel(j, app->model, app->syn, app->phase));
  PetscCall(RmRunJSONNetwork(j, app->mem, app->syn));
  PetscCall(RmStabilitySettingsJSON(app->stab, j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteJSONMemories(App *app, RmJSON *j)
{
  PetscInt                     P;
  const RmStabilityConditions *c = &app->cond;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  PetscCall(RmJSONBeginArray(j, "memories"));
  for (PetscInt mu = 0; mu < P; mu++) {
    const MemoryResult *m = &app->mres[mu];
    PetscCall(RmJSONBeginObject(j, NULL));
    PetscCall(RmJSONInt(j, "memory", mu));
    PetscCall(RmSpectrumJSON(j, &m->sp));
    PetscCall(RmJSONBeginArray(j, "eigenvalues"));
    for (PetscInt k = 0; k < m->neig; k++) PetscCall(RmJSONReal(j, NULL, m->eig[k]));
    PetscCall(RmJSONEndArray(j));
    PetscCall(RmJSONBeginObject(j, "equilibrium"));
    PetscCall(RmJSONReal(j, "residual_initial", m->eq.residual_initial));
    PetscCall(RmJSONReal(j, "residual", m->eq.residual));
    PetscCall(RmJSONReal(j, "drift", m->eq.drift));
    PetscCall(RmJSONReal(j, "overlap", m->eq.overlap));
    PetscCall(RmJSONInt(j, "nearest_memory", m->eq.nearest));
    PetscCall(RmJSONBool(j, "converged", m->eq.converged));
    PetscCall(RmJSONBool(j, "at_memory", m->eq.at_memory));
    PetscCall(RmJSONInt(j, "steps", m->eq.steps));
    PetscCall(RmJSONInt(j, "newton_its", m->eq.newton_its));
    PetscCall(RmJSONEndObject(j));
    PetscCall(RmJSONBeginObject(j, "conditions"));
    PetscCall(RmJSONBool(j, "applicable", c->applicable));
    if (c->applicable) {
      PetscCall(RmJSONReal(j, "stability_value", c->stability));
      PetscCall(RmJSONBool(j, "stability_holds", c->stability_holds));
      if (c->stability_holds) PetscCall(RmJSONBool(j, "stability_agrees", (PetscBool)(m->sp.abscissa < 0)));
      else PetscCall(RmJSONReal(j, "stability_agrees", (PetscReal)NAN)); /* null: nothing to agree with */
      PetscCall(RmJSONReal(j, "instability_1_value", c->instability[0]));
      PetscCall(RmJSONBool(j, "instability_1_holds", c->instability_holds[0]));
      PetscCall(RmJSONReal(j, "instability_2_value", c->instability[1]));
      PetscCall(RmJSONBool(j, "instability_2_holds", c->instability_holds[1]));
      if (c->any_instability_holds) PetscCall(RmJSONBool(j, "instability_agrees", (PetscBool)(m->sp.abscissa > 0)));
      else PetscCall(RmJSONReal(j, "instability_agrees", (PetscReal)NAN));
    }
    PetscCall(RmJSONEndObject(j));
    PetscCall(RmJSONEndObject(j));
  }
  PetscCall(RmJSONEndArray(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteJSONCues(App *app, RmJSON *j)
{
  PetscInt analysed = 0, stable = 0;

  PetscFunctionBeginUser;
  for (PetscInt t = 0; t < app->cues; t++) {
    analysed += app->cres[t].analysed;
    stable += app->cres[t].analysed && app->cres[t].sp.stable;
  }
  PetscCall(RmJSONBeginObject(j, "non_memory_equilibria"));
  PetscCall(RmJSONInt(j, "cues", app->cues));
  PetscCall(RmJSONString(j, "cue_kind", RmCueKinds[app->cue.kind]));
  PetscCall(RmJSONReal(j, "flip", app->cue.flip));
  PetscCall(RmJSONInt(j, "count", analysed));
  PetscCall(RmJSONInt(j, "stable", stable));
  PetscCall(RmJSONBeginArray(j, "trials"));
  for (PetscInt t = 0; t < app->cues; t++) {
    const CueResult *c = &app->cres[t];
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

static PetscErrorCode WriteSummaryJSON(void *ctx, FILE *fp)
{
  App   *app = (App *)ctx;
  RmJSON j;

  PetscFunctionBeginUser;
  PetscCall(RmJSONBegin(&j, fp));
  PetscCall(RmJSONString(&j, "ratemem_version", RATEMEM_VERSION));
  PetscCall(RmJSONString(&j, "ratemem_commit", RATEMEM_COMMIT));
  PetscCall(RmJSONString(&j, "command", "stability"));
  PetscCall(RmJSONString(&j, "mode", app->phase ? "phase" : "memories"));
  PetscCall(RmJSONInt(&j, "ranks", app->size));
  PetscCall(WriteJSONSettings(app, &j));
  if (app->phase) {
    RmPhaseCounts pc;
    PetscCall(RmPhaseDiagramGetCounts(app->pd, &pc));
    PetscCall(RmJSONBeginObject(&j, "phase"));
    PetscCall(RmJSONString(&j, "csv", app->phase_csv));
    PetscCall(RmJSONBeginArray(&j, "gain_range"));
    for (int k = 0; k < 3; k++) PetscCall(RmJSONReal(&j, NULL, app->phase_gain[k]));
    PetscCall(RmJSONEndArray(&j));
    PetscCall(RmJSONBeginArray(&j, "threshold_range"));
    for (int k = 0; k < 3; k++) PetscCall(RmJSONReal(&j, NULL, app->phase_threshold[k]));
    PetscCall(RmJSONEndArray(&j));
    PetscCall(RmJSONInt(&j, "gains", app->ngain));
    PetscCall(RmJSONInt(&j, "thresholds", app->nthreshold));
    PetscCall(RmJSONInt(&j, "valid_points", pc.valid));
    PetscCall(RmJSONInt(&j, "numerically_stable", pc.stable));
    PetscCall(RmJSONInt(&j, "stability_condition_holds", pc.stab_holds));
    PetscCall(RmJSONInt(&j, "instability_condition_holds", pc.inst_holds));
    PetscCall(RmJSONInt(&j, "stability_condition_disagrees", pc.stab_disagree));
    PetscCall(RmJSONInt(&j, "instability_condition_disagrees", pc.inst_disagree));
    PetscCall(RmJSONInt(&j, "equilibria_not_at_memory", pc.not_at_memory));
    PetscCall(RmJSONReal(&j, "max_lowrank_difference", pc.lowrank_diff));
    PetscCall(RmJSONEndObject(&j));
  } else {
    PetscInt  P, nstable = 0, disagree = 0;
    PetscReal amax = PETSC_MIN_REAL;
    PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
    for (PetscInt mu = 0; mu < P; mu++) {
      const RmSpectrum *sp = &app->mres[mu].sp;
      nstable += sp->stable;
      amax = PetscMax(amax, sp->abscissa);
      disagree += (app->cond.stability_holds && !(sp->abscissa < 0)) || (app->cond.any_instability_holds && !(sp->abscissa > 0));
    }
    PetscCall(RmStabilityConditionsJSON(&j, "conditions", &app->cond));
    PetscCall(WriteJSONMemories(app, &j));
    PetscCall(RmJSONReal(&j, "max_abscissa", amax));
    PetscCall(RmJSONInt(&j, "stable_memories", nstable));
    PetscCall(RmJSONInt(&j, "condition_disagreements", disagree));
    if (app->cues) PetscCall(WriteJSONCues(app, &j));
  }
  PetscCall(RmJSONBeginObject(&j, "memory"));
  PetscCall(RmJSONReal(&j, "peak_rss_max_rank", app->peak_max_rank));
  PetscCall(RmJSONReal(&j, "peak_rss_total", app->peak_total));
  PetscCall(RmJSONEndObject(&j));
  PetscCall(RmJSONBeginObject(&j, "timings"));
  PetscCall(RmJSONReal(&j, "setup", app->t_setup));
  PetscCall(RmJSONReal(&j, "equilibria", app->t_equilibria));
  PetscCall(RmJSONReal(&j, "spectra", app->t_spectra));
  PetscCall(RmJSONReal(&j, "cues", app->t_cues));
  PetscCall(RmJSONReal(&j, "phase", app->t_phase));
  PetscCall(RmJSONReal(&j, "total", app->t_total));
  PetscCall(RmJSONEndObject(&j));
  PetscCall(RmJSONEnd(&j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PrintHeader(App *app)
{
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
  PetscCall(RmMemoriesGetSizes(app->mem, &n, &P));
  PetscCall(RmMemoriesGetKind(app->mem, &pkind));
  PetscCall(RmSynapsesGetDesignType(app->syn, &design));
  PetscCall(RmSynapsesGetType(app->syn, &storage));
  PetscCall(RmModelGetActivation(app->model, &act));
  PetscCall(RmStabilityGetOperatorType(app->stab, &op));
  PetscCall(RmStabilityGetRefineType(app->stab, &refine));
  PetscCall(RmStabilityGetSettings(app->stab, &nev, &tol, &eq_tol));
  PetscCall(RmStabilityGetSolverType(app->stab, &eps_type));
  PetscCall(PetscPrintf(app->comm, "ratemem stability: n = %" PetscInt_FMT ", P = %" PetscInt_FMT " (%s), design %s, storage %s, activation %s", n, P,
                        RmPatternKinds[pkind], RmDesignTypes[design], storage, act.fn->name));
  if (!app->phase) PetscCall(PetscPrintf(app->comm, " (gain %g, threshold %g)", (double)act.gain, (double)act.threshold));
  PetscCall(PetscPrintf(app->comm, ", %d rank%s\n", app->size, app->size > 1 ? "s" : ""));
  PetscCall(PetscPrintf(app->comm, "eigensolver: SLEPc %s, operator %s (%s), %" PetscInt_FMT " rightmost, tol %g; equilibria: %s (tol %g)\n\n", eps_type,
                        RmStabilityOperators[op], op == RM_STABILITY_OPERATOR_JACOBIAN ? "EPS_NHEP" : "EPS_HEP", nev, (double)tol,
                        RmStabilityRefines[refine], (double)eq_tol));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PrintTable(App *app)
{
  PetscInt                     P;
  const RmStabilityConditions *c = &app->cond;

  PetscFunctionBeginUser;
  if (app->quiet) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PrintHeader(app));
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  if (c->applicable) {
    PetscCall(PetscPrintf(app->comm, "docs/model.md §6 conditions (design-wide): phi'(a) = %.6g, phi'(b) = %.6g, eta = %.6g, alpha' = %.6g, gamma = %.6g\n",
                          (double)c->dphi_a, (double)c->dphi_b, (double)c->eta, (double)c->alpha_basic, (double)c->gamma));
    PetscCall(PetscPrintf(app->comm, "  stability      eta max(alpha',gamma)                      = %-12.6g < 1 ? %s\n", (double)c->stability,
                          c->stability_holds ? "holds" : "does not hold"));
    PetscCall(PetscPrintf(app->comm, "  instability 1  q(gamma-alpha')(phi'b-phi'a)-(1-phi'b alpha')(1-phi'a gamma) = %-12.6g > 0 ? %s\n",
                          (double)c->instability[0], c->instability_holds[0] ? "holds" : "does not hold"));
    PetscCall(PetscPrintf(app->comm, "  instability 2  q phi'b((1-q)alpha' + q gamma) - 1         = %-12.6g > 0 ? %s\n", (double)c->instability[1],
                          c->instability_holds[1] ? "holds" : "does not hold"));
  } else PetscCall(PetscPrintf(app->comm, "docs/model.md §6 conditions: not applicable (they are stated for the paper design and the rate model)\n"));
  PetscCall(PetscPrintf(app->comm, "  global asymptotic stability condition of [FR]: not implemented (see docs/stability.md)\n\n"));
  PetscCall(PetscPrintf(app->comm, "%6s %14s %6s %10s %10s %8s %6s %12s %6s %8s %10s\n", "memory", "abscissa", "stable", "residual", "drift", "overlap",
                        "at_mem", "lowrank_diff", "its", "matvecs", "conds_agree"));
  for (PetscInt mu = 0; mu < P; mu++) {
    const MemoryResult *m = &app->mres[mu];
    char                agree[32];
    PetscCall(PetscSNPrintf(agree, sizeof(agree), "%s/%s", Agree(c->stability_holds, (PetscBool)(m->sp.abscissa < 0)),
                            Agree(c->any_instability_holds, (PetscBool)(m->sp.abscissa > 0))));
    PetscCall(PetscPrintf(app->comm, "%6" PetscInt_FMT " %14.8g %6s %10.2e %10.2e %8.4f %6s %12.2e %6" PetscInt_FMT " %8" PetscInt64_FMT " %10s\n", mu,
                          (double)m->sp.abscissa, m->sp.stable ? "yes" : "NO", (double)m->eq.residual, (double)m->eq.drift, (double)m->eq.overlap,
                          m->eq.at_memory ? "yes" : "NO", (double)PetscAbsReal(m->sp.lowrank_abscissa - m->sp.abscissa), m->sp.its, m->sp.matvecs, agree));
  }
  PetscCall(PetscPrintf(app->comm, "(conds_agree: stability/instability condition; '-' where it does not hold, so nothing is predicted)\n"));
  if (app->cues) {
    PetscInt analysed = 0;
    PetscCall(PetscPrintf(app->comm, "\nequilibria reached from %" PetscInt_FMT " cues (%s, flip %g) that are not the cued memory:\n", app->cues,
                          RmCueKinds[app->cue.kind], (double)app->cue.flip));
    for (PetscInt t = 0; t < app->cues; t++) {
      const CueResult *cr = &app->cres[t];
      if (!cr->analysed) continue;
      if (!analysed++)
        PetscCall(PetscPrintf(app->comm, "%6s %4s %-10s %7s %8s %10s %14s %6s\n", "trial", "cue", "label", "nearest", "overlap", "residual", "abscissa",
                              "stable"));
      PetscCall(PetscPrintf(app->comm, "%6" PetscInt_FMT " %4" PetscInt_FMT " %-10s %7" PetscInt_FMT " %8.4f %10.2e %14.8g %6s\n", t, cr->cue_memory,
                            RmLabels[cr->label], cr->nearest, (double)cr->overlap, (double)cr->residual, (double)cr->sp.abscissa,
                            cr->sp.stable ? "yes" : "NO"));
    }
    if (!analysed) PetscCall(PetscPrintf(app->comm, "  none: every cue ended at its memory or did not converge\n"));
  }
  PetscCall(PetscPrintf(app->comm, "\nwall time (s): setup %.3f, equilibria %.3f, spectra %.3f, cues %.3f, total %.3f\n", app->t_setup, app->t_equilibria,
                        app->t_spectra, app->t_cues, app->t_total));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PrintPhase(App *app)
{
  RmPhaseCounts pc;

  PetscFunctionBeginUser;
  if (app->quiet) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmPhaseDiagramGetCounts(app->pd, &pc));
  PetscCall(PrintHeader(app));
  PetscCall(PetscPrintf(app->comm, "phase diagram: gain %g..%g (%" PetscInt_FMT ") x threshold %g..%g (%" PetscInt_FMT "), written to %s\n",
                        (double)app->phase_gain[0], (double)app->phase_gain[1], app->ngain, (double)app->phase_threshold[0],
                        (double)app->phase_threshold[1], app->nthreshold, app->phase_csv));
  PetscCall(PetscPrintf(app->comm, "  valid points %" PetscInt_FMT "/%" PetscInt_FMT ", numerically stable %" PetscInt_FMT "\n", pc.valid,
                        app->ngain * app->nthreshold, pc.stable));
  PetscCall(PetscPrintf(app->comm, "  stability condition holds at %" PetscInt_FMT " (spectrum disagrees at %" PetscInt_FMT ")\n", pc.stab_holds, pc.stab_disagree));
  PetscCall(PetscPrintf(app->comm, "  an instability condition holds at %" PetscInt_FMT " (spectrum disagrees at %" PetscInt_FMT ")\n", pc.inst_holds,
                        pc.inst_disagree));
  PetscCall(PetscPrintf(app->comm, "  largest |SLEPc - low-rank (P+1)x(P+1)| abscissa difference: %.3g\n", (double)pc.lowrank_diff));
  PetscCall(PetscPrintf(app->comm, "wall time (s): phase diagram %.3f, total %.3f\n", app->t_phase, app->t_total));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- driver */

static PetscErrorCode AppRun(App *app)
{
  double t0 = RmWallTime(), t1;

  PetscFunctionBeginUser;
  PetscCall(AppSetFromOptions(app));
  if (app->help) PetscFunctionReturn(PETSC_SUCCESS);
  t1 = RmWallTime();
  PetscCall(RmMemoriesSetUp(app->mem));
  if (app->phase) {
    PetscCall(RmClassifierSetUp(app->cl));
    app->t_setup = RmWallTime() - t1;
    PetscCall(RunPhase(app));
  } else {
    PetscCall(RmRunSetTrials(app->run, PetscMax(app->cues, 1)));
    PetscCall(RmRunSetUp(app->run));
    PetscCall(RmStabilitySetUpNetwork(app->stab, app->mem, app->syn, app->model, app->integ, app->cl));
    PetscCall(RmModelCreateState(app->model, &app->x));
    PetscCall(RmModelCreateNeuronVec(app->model, &app->xn));
    PetscCall(VecDuplicate(app->xn, &app->r));
    PetscCall(RmStabilityComputeConditions(app->stab, &app->cond));
    app->t_setup = RmWallTime() - t1;
    PetscCall(AnalyseMemories(app));
    PetscCall(AnalyseCues(app));
  }
  app->t_total = RmWallTime() - t0;
  PetscCall(RmPeakMemory(app->comm, &app->peak_max_rank, &app->peak_total));
  if (app->has_summary) PetscCall(RmWriteFileAtomic(app->comm, app->summary, WriteSummaryJSON, app));
  if (app->phase) PetscCall(PrintPhase(app));
  else PetscCall(PrintTable(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppDestroy(App *app)
{
  PetscFunctionBeginUser;
  PetscCall(RmStabilityDestroy(&app->stab));
  PetscCall(RmRunDestroy(&app->run));
  PetscCall(VecDestroy(&app->x));
  PetscCall(VecDestroy(&app->r));
  PetscCall(VecDestroy(&app->xn));
  PetscCall(PetscFree(app->mres));
  PetscCall(PetscFree(app->cres));
  PetscCall(RmPhaseDiagramDestroy(&app->pd));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityMain(MPI_Comm comm)
{
  App            app = {0};
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  app.comm = comm;
  PetscCallMPI(MPI_Comm_size(comm, &app.size));
  ierr = AppRun(&app);
  PetscCall(AppDestroy(&app));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}
