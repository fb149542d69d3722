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
  RmMemoryStability    *mres;
  RmCueStability       *cres;
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

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  PetscCall(PetscCalloc1(P, &app->mres));
  PetscCall(RmStabilityAnalyseMemories(app->stab, P, app->x, app->mres, &app->t_equilibria, &app->t_spectra));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A cue's end state (the runner's trial callback): every equilibrium that is not the cued memory is
   polished by Newton and its spectrum computed. */
static PetscErrorCode CueDone(void *ctx, PetscInt t, const RmTrialResult *res, Vec initial, Vec final, const RmOverlaps *ov)
{
  App       *app = (App *)ctx;
  RmCueStability *c = &app->cres[t];
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

/* The settings of the analysis: model, network, eigensolver. */
static PetscErrorCode WriteJSONSettings(App *app, RmJSON *j)
{
  PetscFunctionBeginUser;
  PetscCall(RmRunJSONModel(j, app->model, app->syn, app->phase));
  PetscCall(RmRunJSONNetwork(j, app->mem, app->syn));
  PetscCall(RmStabilitySettingsJSON(app->stab, j));
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
  if (app->phase) PetscCall(RmPhaseDiagramJSON(app->pd, &j, app->phase_csv));
  else {
    PetscInt P;
    PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
    PetscCall(RmStabilityMemoriesJSON(&j, P, app->mres, &app->cond));
    if (app->cues) PetscCall(RmStabilityCuesJSON(&j, app->cues, app->cres, RmCueKinds[app->cue.kind], app->cue.flip));
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

static PetscErrorCode PrintTable(App *app)
{
  PetscInt P;

  PetscFunctionBeginUser;
  if (app->quiet) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmStabilityPrintHeader(app->stab, app->mem, app->syn, app->model, PETSC_TRUE));
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  PetscCall(RmStabilityPrintMemories(app->comm, P, app->mres, &app->cond));
  if (app->cues) PetscCall(RmStabilityPrintCues(app->comm, app->cues, app->cres, RmCueKinds[app->cue.kind], app->cue.flip));
  PetscCall(PetscPrintf(app->comm, "\nwall time (s): setup %.3f, equilibria %.3f, spectra %.3f, cues %.3f, total %.3f\n", app->t_setup, app->t_equilibria,
                        app->t_spectra, app->t_cues, app->t_total));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PrintPhase(App *app)
{
  PetscFunctionBeginUser;
  if (app->quiet) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmStabilityPrintHeader(app->stab, app->mem, app->syn, app->model, PETSC_FALSE));
  PetscCall(RmPhaseDiagramPrint(app->pd, app->phase_csv));
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
