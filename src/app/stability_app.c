/* `ratemem stability` (docs/model.md §6): for every stored memory, its equilibrium, the rightmost
   eigenvalues of the Jacobian there (SLEPc, distributed), the spectral abscissa, and the paper's
   sufficient conditions for stability and instability with whether the spectrum agrees; with
   -stability_cues T, the equilibria reached from T cues that are not the cued memory, and their
   stability. With -phase_gain lo,hi,N -phase_threshold lo,hi,N: the phase diagram of §6 (largest
   abscissa over all memories and the two conditions on a gain x threshold grid) as CSV. */
#include <math.h>
#include "appimpl.h"
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
  PetscReal             gain, threshold, phi_a, phi_b;
  PetscBool             valid, stable, at_memory;
  RmStabilityConditions cond;
  PetscReal             max_abscissa, lowrank_abscissa, max_residual;
  PetscInt              worst_memory;
  PetscInt64            matvecs;
} PhasePoint;

typedef struct {
  MPI_Comm              comm;
  PetscMPIInt           size;
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
  PhasePoint           *grid;
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

/* The run's files, checked before anything is computed (src/io/atomic.c). */
static PetscErrorCode CheckFiles(App *app)
{
  RmFileSet   fs;
  char        patterns[PETSC_MAX_PATH_LEN];
  const char *yaml;
  PetscBool   has_patterns;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-patterns", patterns, sizeof(patterns), &has_patterns));
  PetscCall(RmGetOptionsYAMLFile(&yaml));
  PetscCall(RmFileSetCreate(app->comm, &fs));
  PetscCall(RmFileSetAddInput(fs, "-options_file_yaml", yaml));
  PetscCall(RmFileSetAddInput(fs, "-patterns", has_patterns ? patterns : NULL));
  PetscCall(RmFileSetAddOutput(fs, "-summary", app->has_summary ? app->summary : NULL));
  PetscCall(RmFileSetAddOutput(fs, "-phase_csv", app->has_phase_csv ? app->phase_csv : NULL));
  PetscErrorCode ierr = RmFileSetCheck(fs);
  PetscCall(RmFileSetDestroy(&fs));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppSetFromOptions(App *app)
{
  RmDesignType design;
  PetscBool    has_gain = PETSC_FALSE, has_thr = PETSC_FALSE;
  PetscInt     ngain_read = 3, nthr_read = 3;

  PetscFunctionBeginUser;
  app->cue = (RmCueOptions){RM_CUE_FLIP, 0.1, 3, 0.6};
  PetscCall(PetscOptionsHasHelp(NULL, &app->help));
  PetscCall(RmAppCreateObjects_Private(app->comm, &app->mem, &app->syn, &app->model, &app->integ, &app->cl)); /* setup.c */
  PetscCall(RmSynapsesGetDesignType(app->syn, &design));
  PetscCall(RmCueOptionsSetFromOptions(app->comm, &app->cue));
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
  if (!app->help) PetscCall(CheckFiles(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Network set-up as in retrieve (setup.c, batch 1), then the stability solver on it. */
static PetscErrorCode SetUpNetwork(MPI_Comm comm, RmMemories mem, RmSynapses syn, RmModel model, RmIntegrator integ, RmClassifier cl, RmStability stab)
{
  PetscFunctionBeginUser;
  PetscCall(RmAppSetUpObjects_Private(mem, syn, model, integ, cl, 1, NULL, NULL));
  PetscCall(RmStabilitySetNetwork(stab, mem, syn, model));
  PetscCall(RmStabilitySetIntegrator(stab, integ));
  PetscCall(RmStabilitySetClassifier(stab, cl));
  PetscCall(RmStabilitySetUp(stab));
  PetscFunctionReturn(PETSC_SUCCESS);
}

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

static PetscErrorCode AnalyseCues(App *app)
{
  RmOverlaps ov;
  double     t0 = RmWallTime();

  PetscFunctionBeginUser;
  if (!app->cues) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscCalloc1(app->cues, &app->cres));
  for (PetscInt t = 0; t < app->cues; t++) {
    CueResult *c = &app->cres[t];
    PetscCall(RmMemoriesCreateCue(app->mem, &app->cue, t, app->xn, &c->cue_memory));
    PetscCall(RmModelStateFromNeurons(app->model, app->xn, app->x));
    PetscCall(RmIntegratorSolve(app->integ, app->x, &c->stats));
    PetscCall(RmModelReadout(app->model, app->x, app->r));
    PetscCall(RmClassifierComputeOverlaps(app->cl, app->r, &ov));
    PetscCall(RmClassifierLabel(app->cl, &ov, c->cue_memory, c->stats.converged, &c->label, &c->nearest));
    c->overlap             = ov.normalised[c->nearest];
    c->residual_integrated = c->stats.residual;
    c->residual            = c->stats.residual;
    c->sp.abscissa = c->sp.lowrank_abscissa = (PetscReal)NAN;
    if (c->label != RM_LABEL_RETRIEVED && c->label != RM_LABEL_UNCONVERGED) { /* every equilibrium that is not the cued memory */
      PetscCall(RmStabilityPolishEquilibrium(app->stab, app->x, &c->residual, &c->newton_its));
      PetscCall(RmStabilityComputeSpectrum(app->stab, app->x, &c->sp));
      c->analysed = PETSC_TRUE;
    }
  }
  app->t_cues = RmWallTime() - t0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- phase diagram */

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

static PetscErrorCode SetRealOption(const char *name, PetscReal value)
{
  char buf[64];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%.17g", (double)value));
  PetscCall(PetscOptionsSetValue(NULL, name, buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PhasePointRun(App *app, const RmActivation *act, PhasePoint *pt)
{
  RmSynapses   syn   = NULL;
  RmModel      model = NULL;
  RmIntegrator integ = NULL;
  RmActivation got;
  RmDesignType dtype;
  RmModelKind  kind;
  PetscInt     P;
  Vec          x = NULL;

  PetscFunctionBeginUser;
  PetscCall(SetRealOption("-gain", act->gain));
  PetscCall(SetRealOption("-threshold", act->threshold));
  PetscCall(RmSynapsesCreate(app->comm, &syn));
  PetscCall(RmSynapsesSetFromOptions(syn));
  PetscCall(RmSynapsesGetDesignType(syn, &dtype));
  PetscCall(RmDesignTypeGetModel(dtype, &kind, NULL));
  PetscCall(RmModelCreate(app->comm, &model));
  PetscCall(RmModelSetKind(model, kind));
  PetscCall(RmModelSetFromOptions(model));
  PetscCall(RmModelGetActivation(model, &got));
  PetscCheck(got.type == act->type && got.gain == act->gain && got.threshold == act->threshold, app->comm, PETSC_ERR_PLIB,
             "phase point: the model did not take gain %g, threshold %g", (double)act->gain, (double)act->threshold);
  PetscCall(RmIntegratorCreate(app->comm, &integ));
  PetscCall(RmIntegratorSetFromOptions(integ));
  PetscCall(SetUpNetwork(app->comm, app->mem, syn, model, integ, app->cl, app->stab));
  PetscCall(RmStabilityComputeConditions(app->stab, &pt->cond));
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  PetscCall(RmModelCreateState(model, &x));
  pt->max_abscissa     = PETSC_MIN_REAL;
  pt->lowrank_abscissa = PETSC_MIN_REAL;
  pt->at_memory        = PETSC_TRUE;
  for (PetscInt mu = 0; mu < P; mu++) {
    RmEquilibriumInfo eq;
    RmSpectrum        sp;
    PetscCall(RmStabilityComputeMemoryEquilibrium(app->stab, mu, x, &eq));
    PetscCall(RmStabilityComputeSpectrum(app->stab, x, &sp));
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
  PetscCall(RmStabilitySetNetwork(app->stab, NULL, NULL, NULL));
  PetscCall(RmIntegratorDestroy(&integ));
  PetscCall(RmModelDestroy(&model));
  PetscCall(RmSynapsesDestroy(&syn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunPhase(App *app)
{
  RmActivation base;
  RmDesign     d;
  PetscReal    q;
  char         old_gain[64] = "", old_thr[64] = "";
  PetscBool    had_gain, had_thr;
  double       t0 = RmWallTime();

  PetscFunctionBeginUser;
  PetscCall(RmModelGetActivation(app->model, &base));
  PetscCall(RmSynapsesGetDesign(app->syn, &d)); /* a, b as set by the options */
  PetscCall(RmMemoriesGetCoding(app->mem, &q));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-gain", old_gain, sizeof(old_gain), &had_gain));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-threshold", old_thr, sizeof(old_thr), &had_thr));
  PetscCall(PetscCalloc1(app->ngain * app->nthreshold, &app->grid));
  for (PetscInt i = 0; i < app->ngain; i++) {
    for (PetscInt j = 0; j < app->nthreshold; j++) {
      PhasePoint  *pt  = &app->grid[i * app->nthreshold + j];
      RmActivation act = base;
      act.gain         = Linspace(app->phase_gain, app->ngain, i);
      act.threshold    = Linspace(app->phase_threshold, app->nthreshold, j);
      pt->gain         = act.gain;
      pt->threshold    = act.threshold;
      pt->valid        = DesignValid(&d, q, &act, &pt->phi_a, &pt->phi_b);
      if (pt->valid) PetscCall(PhasePointRun(app, &act, pt));
    }
    if (app->phase_progress)
      PetscCall(PetscFPrintf(app->comm, stderr, "[phase] gain %" PetscInt_FMT "/%" PetscInt_FMT " (%.4g) done, %.1f s\n", i + 1, app->ngain,
                             (double)Linspace(app->phase_gain, app->ngain, i), RmWallTime() - t0));
  }
  /* put the options back as the user gave them */
  if (had_gain) PetscCall(PetscOptionsSetValue(NULL, "-gain", old_gain));
  else PetscCall(PetscOptionsClearValue(NULL, "-gain"));
  if (had_thr) PetscCall(PetscOptionsSetValue(NULL, "-threshold", old_thr));
  else PetscCall(PetscOptionsClearValue(NULL, "-threshold"));
  app->t_phase = RmWallTime() - t0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- output */

static const char *Agree(PetscBool holds, PetscBool agrees)
{
  return holds ? (agrees ? "yes" : "NO") : "-";
}

typedef struct {
  App *app;
  PetscErrorCode (*writer)(App *, FILE *);
} WriterCtx;

static PetscErrorCode CallWriter(void *ctx, FILE *fp)
{
  WriterCtx *w = (WriterCtx *)ctx;

  PetscFunctionBeginUser;
  PetscCall(w->writer(w->app, fp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteAtomic(App *app, const char *path, PetscErrorCode (*writer)(App *, FILE *))
{
  WriterCtx w = {app, writer};

  PetscFunctionBeginUser;
  PetscCall(RmWriteFileAtomic(app->comm, path, CallWriter, &w)); /* src/io/atomic.c */
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void CSVReal(FILE *fp, PetscReal v, PetscBool last)
{
  if (PetscIsInfOrNanReal(v)) fputs("nan", fp);
  else fprintf(fp, "%.17g", (double)v);
  fputc(last ? '\n' : ',', fp);
}

static PetscErrorCode WritePhaseCSV(App *app, FILE *fp)
{
  RmActivation act;
  RmDesign     d;
  PetscInt     n, P;
  PetscReal    q;

  PetscFunctionBeginUser;
  PetscCall(RmModelGetActivation(app->model, &act));
  PetscCall(RmSynapsesGetDesign(app->syn, &d));
  PetscCall(RmMemoriesGetSizes(app->mem, &n, &P));
  PetscCall(RmMemoriesGetCoding(app->mem, &q));
  fprintf(fp, "# ratemem stability phase diagram (docs/model.md §6): activation %s, n %d, P %d, q %g, a %g, b %g; max_abscissa from SLEPc over all memories\n",
          RmActivationTypes[act.type], (int)n, (int)P, (double)q, (double)d.a, (double)d.b);
  fprintf(fp, "gain,threshold,valid,phi_a,phi_b,dphi_a,dphi_b,alpha_basic,gamma,stability_value,stability_holds,instability_value_1,"
              "instability_value_2,instability_holds,max_abscissa,numerically_stable,worst_memory,lowrank_abscissa,equilibrium_residual,"
              "at_memory,agrees_stability,agrees_instability,matvecs\n");
  for (PetscInt k = 0; k < app->ngain * app->nthreshold; k++) {
    const PhasePoint            *pt = &app->grid[k];
    const RmStabilityConditions *c  = &pt->cond;
    fprintf(fp, "%.17g,%.17g,%d,", (double)pt->gain, (double)pt->threshold, (int)pt->valid);
    if (!pt->valid) {
      CSVReal(fp, pt->phi_a, PETSC_FALSE);
      CSVReal(fp, pt->phi_b, PETSC_FALSE);
      fputs("nan,nan,nan,nan,nan,,nan,nan,,nan,,,nan,nan,,,,\n", fp);
      continue;
    }
    CSVReal(fp, pt->phi_a, PETSC_FALSE);
    CSVReal(fp, pt->phi_b, PETSC_FALSE);
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
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Counts over the grid, for the table and the summary. */
typedef struct {
  PetscInt  valid, stable, stab_holds, inst_holds, stab_disagree, inst_disagree, not_at_memory;
  PetscReal lowrank_diff;
} PhaseCounts;

static void CountPhase(App *app, PhaseCounts *pc)
{
  PetscMemzero(pc, sizeof(*pc));
  for (PetscInt k = 0; k < app->ngain * app->nthreshold; k++) {
    const PhasePoint *pt = &app->grid[k];
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
}

/* The settings of the analysis: model, network, eigensolver. */
static PetscErrorCode WriteJSONSettings(App *app, RmJSON *j)
{
  PetscInt            nev;
  RmStabilityOperator op;
  RmStabilityRefine   refine;
  PetscReal           tol, eq_tol;
  const char         *eps_type;

  PetscFunctionBeginUser;
  PetscCall(RmAppJSONModel_Private(j, app->model, app->syn, app->phase));
  PetscCall(RmAppJSONNetwork_Private(j, app->mem, app->syn));
  PetscCall(RmStabilityGetOperatorType(app->stab, &op));
  PetscCall(RmStabilityGetRefineType(app->stab, &refine));
  PetscCall(RmStabilityGetSettings(app->stab, &nev, &tol, &eq_tol));
  PetscCall(RmStabilityGetSolverType(app->stab, &eps_type));
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

static PetscErrorCode WriteJSONConditions(RmJSON *j, const char *key, const RmStabilityConditions *c)
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

static PetscErrorCode WriteJSONSpectrum(RmJSON *j, const RmSpectrum *sp)
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
    PetscCall(WriteJSONSpectrum(j, &m->sp));
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
      PetscCall(WriteJSONSpectrum(j, &c->sp));
    }
    PetscCall(RmJSONEndObject(j));
  }
  PetscCall(RmJSONEndArray(j));
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteSummaryJSON(App *app, FILE *fp)
{
  RmJSON j;

  PetscFunctionBeginUser;
  PetscCall(RmJSONBegin(&j, fp));
  PetscCall(RmJSONString(&j, "ratemem_version", RATEMEM_VERSION));
  PetscCall(RmJSONString(&j, "command", "stability"));
  PetscCall(RmJSONString(&j, "mode", app->phase ? "phase" : "memories"));
  PetscCall(RmJSONInt(&j, "ranks", app->size));
  PetscCall(WriteJSONSettings(app, &j));
  if (app->phase) {
    PhaseCounts pc;
    CountPhase(app, &pc);
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
    PetscCall(WriteJSONConditions(&j, "conditions", &app->cond));
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
  PetscCall(RmSynapsesGetStorageType(app->syn, &storage));
  PetscCall(RmModelGetActivation(app->model, &act));
  PetscCall(RmStabilityGetOperatorType(app->stab, &op));
  PetscCall(RmStabilityGetRefineType(app->stab, &refine));
  PetscCall(RmStabilityGetSettings(app->stab, &nev, &tol, &eq_tol));
  PetscCall(RmStabilityGetSolverType(app->stab, &eps_type));
  PetscCall(PetscPrintf(app->comm, "ratemem stability: n = %" PetscInt_FMT ", P = %" PetscInt_FMT " (%s), design %s, storage %s, activation %s", n, P,
                        RmPatternKinds[pkind], RmDesignTypes[design], RmStorageTypes[storage], RmActivationTypes[act.type]));
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
  PhaseCounts pc;

  PetscFunctionBeginUser;
  if (app->quiet) PetscFunctionReturn(PETSC_SUCCESS);
  CountPhase(app, &pc);
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
    PetscCall(WriteAtomic(app, app->phase_csv, WritePhaseCSV));
  } else {
    PetscCall(SetUpNetwork(app->comm, app->mem, app->syn, app->model, app->integ, app->cl, app->stab));
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
  if (app->has_summary) PetscCall(WriteAtomic(app, app->summary, WriteSummaryJSON));
  if (app->phase) PetscCall(PrintPhase(app));
  else PetscCall(PrintTable(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppDestroy(App *app)
{
  PetscFunctionBeginUser;
  PetscCall(RmStabilityDestroy(&app->stab));
  PetscCall(RmClassifierDestroy(&app->cl));
  PetscCall(RmIntegratorDestroy(&app->integ));
  PetscCall(RmModelDestroy(&app->model));
  PetscCall(RmSynapsesDestroy(&app->syn));
  PetscCall(RmMemoriesDestroy(&app->mem));
  PetscCall(VecDestroy(&app->x));
  PetscCall(VecDestroy(&app->r));
  PetscCall(VecDestroy(&app->xn));
  PetscCall(PetscFree(app->mres));
  PetscCall(PetscFree(app->cres));
  PetscCall(PetscFree(app->grid));
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
