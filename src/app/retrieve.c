/* `ratemem retrieve`: the end-to-end pipeline of one run (design.md): memories -> synapses ->
   dynamics -> integration from each cue -> gather-and-classify -> reports. */
#include <ratemem/app.h>
#include <ratemem/input.h>
#include <stdlib.h>

typedef struct {
  PetscInt          cue_memory, nearest;
  RmLabel           label;
  PetscReal         overlap, overlap_cue, overlap_raw, overlap_uncentred, amplitude;
  RmIntegratorStats stats;
} TrialResult;

typedef struct {
  MPI_Comm     comm;
  PetscMPIInt  size;
  RmMemories   mem;
  RmSynapses   syn;
  RmModel      model;
  RmIntegrator integ;
  RmClassifier cl;
  RmOutput     out;
  RmCueOptions cue;
  PetscInt     trials, batch, current_trial;
  Vec          col0, col1; /* column views of neuron blocks */
  Vec          x0n, xn;    /* initial and final neuron blocks */
  char         summary[PETSC_MAX_PATH_LEN], output[PETSC_MAX_PATH_LEN];
  PetscBool    has_summary, has_output, quiet, help;
  TrialResult *results;
  double       t_generate, t_assemble, t_integrate, t_classify, t_output, t_total;
  PetscReal    peak_max_rank, peak_total; /* bytes */
  Vec          r; /* readout work vector */
  /* Input schedule (model.md §7, -input_schedule): presentations instead of trials */
  char         schedule_spec[4096], history[PETSC_MAX_PATH_LEN];
  PetscBool    has_schedule, has_history;
  PetscReal    weights[1024];
  PetscInt     nweights, overlap_every, presentation;
  RmSchedule   schedule;
  PetscReal    t_offset, *m;   /* time at the start of the presentation; overlaps work (P) */
  PetscReal   *hist;           /* rank 0: rows (t, presentation, m_0..m_{P-1}) */
  PetscInt     hist_rows, hist_cap;
} App;

static PetscErrorCode AppSetFromOptions(App *app)
{
  RmDesignType design;
  RmModelKind  kind;
  RmEncoding   enc;

  PetscFunctionBeginUser;
  app->trials = 10;
  app->batch  = 1;
  app->cue    = (RmCueOptions){RM_CUE_FLIP, 0.1, 3};
  PetscCall(PetscOptionsHasHelp(NULL, &app->help));
  PetscCall(RmSynapsesCreate(app->comm, &app->syn));
  PetscCall(RmSynapsesSetFromOptions(app->syn));
  PetscCall(RmSynapsesGetDesignType(app->syn, &design));
  PetscCall(RmDesignTypeGetModel(design, &kind, &enc));
  PetscCall(RmMemoriesCreate(app->comm, &app->mem));
  PetscCall(RmMemoriesSetEncoding(app->mem, enc));
  PetscCall(RmMemoriesSetFromOptions(app->mem));
  PetscCall(RmModelCreate(app->comm, &app->model));
  PetscCall(RmModelSetKind(app->model, kind));
  PetscCall(RmModelSetFromOptions(app->model));
  PetscCall(RmCueOptionsSetFromOptions(app->comm, &app->cue));
  PetscCall(RmIntegratorCreate(app->comm, &app->integ));
  PetscCall(RmIntegratorSetFromOptions(app->integ));
  PetscCall(RmClassifierCreate(app->mem, &app->cl));
  PetscCall(RmClassifierSetFromOptions(app->cl));
  PetscOptionsBegin(app->comm, NULL, "Retrieval run", "ratemem retrieve");
  PetscCall(PetscOptionsInt("-trials", "Number of retrieval trials (trial t cues memory t mod P)", "ratemem retrieve", app->trials, &app->trials, NULL));
  PetscCall(PetscOptionsString("-summary", "JSON summary file (written atomically by rank 0)", "ratemem retrieve", app->summary, app->summary,
                               sizeof(app->summary), &app->has_summary));
  PetscCall(PetscOptionsString("-output", "HDF5 file with patterns, initial and final states, overlaps (parallel write)", "ratemem retrieve",
                               app->output, app->output, sizeof(app->output), &app->has_output));
  PetscCall(PetscOptionsInt("-batch", "Integrate this many trials together (each weight product serves all of them)", "ratemem retrieve",
                            app->batch, &app->batch, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the results table", "ratemem retrieve", app->quiet, &app->quiet, NULL));
  PetscCall(PetscOptionsString("-input_schedule", "Inputs presented in sequence, ITEM:DURATION,... with ITEM dominantJ, weights or off (docs/input.md)",
                               "ratemem retrieve", app->schedule_spec, app->schedule_spec, sizeof(app->schedule_spec), &app->has_schedule));
  app->nweights = (PetscInt)(sizeof(app->weights) / sizeof(app->weights[0]));
  PetscCall(PetscOptionsRealArray("-input_weights", "Weights c_0,...,c_{P-1} of the 'weights' input u = sum_mu c_mu xi^mu", "ratemem retrieve",
                                  app->weights, &app->nweights, NULL));
  PetscCall(PetscOptionsString("-overlap_history", "CSV of t, presentation, m_1..m_P during an input schedule (rank 0, atomic)", "ratemem retrieve",
                               app->history, app->history, sizeof(app->history), &app->has_history));
  app->overlap_every = 1;
  PetscCall(PetscOptionsInt("-overlap_every", "Record the overlap history every this many steps", "ratemem retrieve", app->overlap_every,
                            &app->overlap_every, NULL));
  PetscOptionsEnd();
  PetscCheck(app->overlap_every > 0, app->comm, PETSC_ERR_ARG_OUTOFRANGE, "overlap_every must be > 0, got %" PetscInt_FMT, app->overlap_every);
  PetscCheck(!app->has_history || app->has_schedule, app->comm, PETSC_ERR_ARG_INCOMP, "-overlap_history needs -input_schedule");
  PetscCheck(!app->has_history || app->history[0], app->comm, PETSC_ERR_ARG_WRONG, "-overlap_history needs a file name");
  if (app->has_schedule) {
    PetscCheck(kind == RM_MODEL_VOLTAGE, app->comm, PETSC_ERR_ARG_INCOMP, "-input_schedule needs the Hopfield model (-design hebbian)");
    PetscCheck(app->batch == 1, app->comm, PETSC_ERR_ARG_INCOMP, "-input_schedule needs -batch 1");
    PetscCheck(!app->has_summary && !app->has_output, app->comm, PETSC_ERR_ARG_INCOMP,
               "-summary and -output are not written for an input schedule; use -overlap_history");
  }
  PetscCheck(app->trials > 0, app->comm, PETSC_ERR_ARG_OUTOFRANGE, "trials must be > 0, got %" PetscInt_FMT, app->trials);
  PetscCheck(app->batch > 0, app->comm, PETSC_ERR_ARG_OUTOFRANGE, "batch must be > 0, got %" PetscInt_FMT, app->batch);
  app->batch = PetscMin(app->batch, app->trials);
  PetscCheck(!app->has_summary || app->summary[0], app->comm, PETSC_ERR_ARG_WRONG, "-summary needs a file name");
  PetscCheck(!app->has_output || app->output[0], app->comm, PETSC_ERR_ARG_WRONG, "-output needs a file name");
  if (!app->help) PetscCall(RmCheckOptionsAllUsed(app->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Column b of a block state as a Vec of the neuron layout (no copy). */
static PetscErrorCode ColumnView(App *app, Vec col, Vec block, PetscInt b, PetscBool place)
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

/* -monitor: time reached, steps, best overlap so far, on stderr. */
static PetscErrorCode MonitorProgress(void *ctx, PetscReal t, PetscInt64 steps, Vec x)
{
  App       *app = (App *)ctx;
  RmOverlaps ov;
  PetscInt   P, best = 0;

  PetscFunctionBeginUser;
  PetscCall(RmModelReadout(app->model, x, app->r));
  PetscCall(ColumnView(app, app->col0, app->r, 0, PETSC_TRUE)); /* the batch's first trial */
  PetscCall(RmClassifierComputeOverlaps(app->cl, app->col0, &ov));
  PetscCall(ColumnView(app, app->col0, app->r, 0, PETSC_FALSE));
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  for (PetscInt mu = 1; mu < P; mu++)
    if (ov.normalised[mu] > ov.normalised[best]) best = mu;
  PetscCall(PetscFPrintf(app->comm, stderr, "[monitor] trial %" PetscInt_FMT ": t = %-10.4g steps = %-6" PetscInt64_FMT " best overlap %.4f (memory %" PetscInt_FMT ")\n",
                         app->current_trial, (double)t, steps, (double)ov.normalised[best], best));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppSetUp(App *app)
{
  RmActivation act;
  RmDesign     design;
  Mat          W;
  double       t0;

  PetscFunctionBeginUser;
  t0 = RmWallTime();
  PetscCall(PetscLogStagePush(RM_EVENTS.stage_generate));
  PetscCall(RmMemoriesSetUp(app->mem));
  PetscCall(PetscLogStagePop());
  app->t_generate = RmWallTime() - t0;
  t0              = RmWallTime();
  PetscCall(PetscLogStagePush(RM_EVENTS.stage_assemble));
  PetscCall(RmModelGetActivation(app->model, &act));
  PetscCall(RmSynapsesSetUp(app->syn, app->mem, &act));
  PetscCall(RmSynapsesGetMat(app->syn, &W));
  PetscCall(RmModelSetWeights(app->model, W));
  PetscCall(RmSynapsesRestoreMat(app->syn, &W));
  PetscCall(RmModelSetBatch(app->model, app->batch));
  PetscCall(RmModelSetUp(app->model));
  PetscCall(PetscLogStagePop());
  app->t_assemble = RmWallTime() - t0;
  PetscCall(RmIntegratorSetModel(app->integ, app->model));
  PetscCall(RmIntegratorSetMonitor(app->integ, MonitorProgress, app));
  PetscCall(RmIntegratorSetUp(app->integ));
  PetscCall(RmSynapsesGetDesign(app->syn, &design));
  PetscCall(RmClassifierSetRateScale(app->cl, design.phi_a, design.phi_b));
  PetscCall(RmClassifierSetUp(app->cl));
  PetscCall(RmModelCreateNeuronVec(app->model, &app->r));
  PetscCall(RmModelCreateNeuronVec(app->model, &app->x0n));
  PetscCall(RmModelCreateNeuronVec(app->model, &app->xn));
  {
    PetscInt n, rstart, rend;
    PetscCall(RmMemoriesGetSizes(app->mem, &n, NULL));
    PetscCall(RmMemoriesGetOwnershipRange(app->mem, &rstart, &rend));
    PetscCall(VecCreateMPIWithArray(app->comm, 1, rend - rstart, n, NULL, &app->col0));
    PetscCall(VecCreateMPIWithArray(app->comm, 1, rend - rstart, n, NULL, &app->col1));
  }
  PetscCall(PetscCalloc1(app->trials, &app->results));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Trials t0 .. t0+count-1 integrated together as one block of B columns; columns beyond count
   repeat the last cue (their results are discarded). */
static PetscErrorCode RunBatch(App *app, PetscInt t0, PetscInt count, Vec x0, Vec x)
{
  Vec x0n = app->x0n, xn = app->xn; /* neuron views of the initial and final states */
  RmIntegratorStats stats;
  RmOverlaps        ov;
  double            tw;

  PetscFunctionBeginUser;
  app->current_trial = t0;
  for (PetscInt b = 0; b < app->batch; b++) {
    PetscInt cue_memory;
    PetscCall(ColumnView(app, app->col0, x0n, b, PETSC_TRUE));
    PetscCall(RmMemoriesCreateCue(app->mem, &app->cue, t0 + PetscMin(b, count - 1), app->col0, &cue_memory));
    PetscCall(ColumnView(app, app->col0, x0n, b, PETSC_FALSE));
    if (b < count) app->results[t0 + b].cue_memory = cue_memory;
  }
  PetscCall(RmModelStateFromNeurons(app->model, x0n, x0));
  PetscCall(VecCopy(x0, x));
  tw = RmWallTime();
  PetscCall(PetscLogStagePush(RM_EVENTS.stage_integrate));
  PetscCall(RmIntegratorSolve(app->integ, x, &stats));
  PetscCall(PetscLogStagePop());
  app->t_integrate += RmWallTime() - tw;
  PetscCall(RmModelReadout(app->model, x, app->r));
  PetscCall(RmModelNeuronsFromState(app->model, x, xn));
  for (PetscInt b = 0; b < count; b++) {
    TrialResult *res = &app->results[t0 + b];
    res->stats       = stats; /* the batch's counts */
    tw               = RmWallTime();
    PetscCall(PetscLogStagePush(RM_EVENTS.stage_classify));
    PetscCall(ColumnView(app, app->col0, app->r, b, PETSC_TRUE));
    PetscCall(RmClassifierComputeOverlaps(app->cl, app->col0, &ov));
    PetscCall(ColumnView(app, app->col0, app->r, b, PETSC_FALSE));
    PetscCall(RmClassifierLabel(app->cl, &ov, res->cue_memory, stats.converged, &res->label, &res->nearest));
    PetscCall(PetscLogStagePop());
    app->t_classify += RmWallTime() - tw;
    res->overlap           = ov.normalised[res->nearest];
    res->overlap_cue       = ov.normalised[res->cue_memory];
    res->overlap_raw       = ov.raw[res->cue_memory];
    res->overlap_uncentred = ov.uncentred[res->cue_memory];
    res->amplitude         = ov.amplitude[res->nearest];
    if (app->out) {
      tw = RmWallTime();
      PetscCall(PetscLogStagePush(RM_EVENTS.stage_output));
      PetscCall(ColumnView(app, app->col0, x0n, b, PETSC_TRUE));
      PetscCall(ColumnView(app, app->col1, xn, b, PETSC_TRUE));
      PetscCall(RmOutputWriteTrial(app->out, t0 + b, app->col0, app->col1, ov.normalised, ov.raw));
      PetscCall(ColumnView(app, app->col0, x0n, b, PETSC_FALSE));
      PetscCall(ColumnView(app, app->col1, xn, b, PETSC_FALSE));
      PetscCall(PetscLogStagePop());
      app->t_output += RmWallTime() - tw;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscInt CountLabel(App *app, RmLabel label)
{
  PetscInt c = 0;
  for (PetscInt t = 0; t < app->trials; t++) c += app->results[t].label == label;
  return c;
}

static PetscErrorCode PrintTable(App *app)
{
  PetscInt         n, P, K;
  RmDesignType     design;
  RmStorageType    storage;
  RmIntegratorType method;

  PetscFunctionBeginUser;
  if (app->quiet) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmMemoriesGetSizes(app->mem, &n, &P));
  PetscCall(RmSynapsesGetDesignType(app->syn, &design));
  PetscCall(RmSynapsesGetStorageType(app->syn, &storage));
  PetscCall(RmSynapsesGetIndegree(app->syn, &K));
  PetscCall(RmIntegratorGetType(app->integ, &method));
  PetscCall(PetscPrintf(app->comm, "ratemem retrieve: n = %" PetscInt_FMT ", P = %" PetscInt_FMT ", design %s, storage %s", n, P, RmDesignTypes[design],
                        RmStorageTypes[storage]));
  if (K) PetscCall(PetscPrintf(app->comm, " (indegree %" PetscInt_FMT ")", K));
  PetscCall(PetscPrintf(app->comm, ", integrator %s, %d rank%s\n\n", RmIntegratorTypes[method], app->size, app->size > 1 ? "s" : ""));
  PetscCall(PetscPrintf(app->comm, "%6s %4s %6s  %-12s %7s %8s %9s %7s %7s %10s\n", "trial", "cue", "flip", "label", "nearest", "overlap", "t_end", "steps",
                        "rhs", "residual"));
  for (PetscInt t = 0; t < app->trials; t++) {
    TrialResult *r = &app->results[t];
    PetscCall(PetscPrintf(app->comm, "%6" PetscInt_FMT " %4" PetscInt_FMT " %6.3f  %-12s %7" PetscInt_FMT " %8.4f %9.3f %7" PetscInt64_FMT " %7" PetscInt64_FMT " %10.2e\n",
                          t, r->cue_memory, (double)app->cue.flip, RmLabels[r->label], r->nearest, (double)r->overlap, (double)r->stats.t_end,
                          r->stats.steps, r->stats.rhs_evals, (double)r->stats.residual));
  }
  PetscInt ok = CountLabel(app, RM_LABEL_RETRIEVED);
  PetscCall(PetscPrintf(app->comm, "\nretrieval rate: %" PetscInt_FMT "/%" PetscInt_FMT " = %.3f  (retrieved %" PetscInt_FMT ", other %" PetscInt_FMT
                                   ", spurious %" PetscInt_FMT ", unconverged %" PetscInt_FMT ")\n",
                        ok, app->trials, (double)ok / app->trials, ok, CountLabel(app, RM_LABEL_OTHER), CountLabel(app, RM_LABEL_SPURIOUS),
                        CountLabel(app, RM_LABEL_UNCONVERGED)));
  PetscCall(PetscPrintf(app->comm, "wall time (s): generate %.3f, assemble %.3f, integrate %.3f, classify %.3f, output %.3f, total %.3f\n",
                        app->t_generate, app->t_assemble, app->t_integrate, app->t_classify, app->t_output, app->t_total));
  PetscCall(PetscPrintf(app->comm, "peak memory: %.1f MB on the largest rank, %.1f MB in all (%.1f bytes per neuron)\n", app->peak_max_rank / 1048576.0,
                        app->peak_total / 1048576.0, app->peak_total / n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteSummaryModel(App *app, RmJSON *j)
{
  RmActivation act;
  RmDesign     d;
  RmModelKind  kind;
  PetscReal    tau;

  PetscFunctionBeginUser;
  PetscCall(RmModelGetActivation(app->model, &act));
  PetscCall(RmModelGetKind(app->model, &kind));
  PetscCall(RmModelGetTau(app->model, &tau));
  PetscCall(RmSynapsesGetDesign(app->syn, &d));
  PetscCall(RmJSONBeginObject(j, "model"));
  PetscCall(RmJSONString(j, "kind", RmModelKinds[kind]));
  PetscCall(RmJSONString(j, "activation", RmActivationTypes[act.type]));
  PetscCall(RmJSONReal(j, "gain", act.gain));
  PetscCall(RmJSONReal(j, "threshold", act.threshold));
  PetscCall(RmJSONReal(j, "a", d.a));
  PetscCall(RmJSONReal(j, "b", d.b));
  PetscCall(RmJSONReal(j, "coding", d.coding));
  PetscCall(RmJSONReal(j, "balance", d.balance));
  PetscCall(RmJSONReal(j, "tau", tau));
  if (kind == RM_MODEL_EI) {
    PetscReal tau_i;
    PetscInt  pool_size;
    PetscCall(RmModelGetInhibition(app->model, &tau_i, &pool_size));
    PetscCall(RmJSONReal(j, "tau_i", tau_i));
    PetscCall(RmJSONReal(j, "stiffness", tau / tau_i));
    PetscCall(RmJSONInt(j, "pool_size", pool_size));
  }
  PetscCall(RmJSONReal(j, "alpha", d.alpha));
  PetscCall(RmJSONReal(j, "alpha_basic", d.alpha_basic));
  PetscCall(RmJSONReal(j, "beta", d.beta));
  PetscCall(RmJSONReal(j, "gamma", d.gamma));
  PetscCall(RmJSONReal(j, "phi_a", d.phi_a));
  PetscCall(RmJSONReal(j, "phi_b", d.phi_b));
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteSummaryNetwork(App *app, RmJSON *j)
{
  PetscInt         n, P, K;
  PetscInt64       seed;
  RmDesignType     design;
  RmStorageType    storage;
  RmPatternKind    pkind;
  RmIntegratorType method;
  PetscReal        rtol, atol, t_final, ctol, dt, thr;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(app->mem, &n, &P));
  PetscCall(RmMemoriesGetSeed(app->mem, &seed));
  PetscCall(RmMemoriesGetKind(app->mem, &pkind));
  PetscCall(RmSynapsesGetDesignType(app->syn, &design));
  PetscCall(RmSynapsesGetStorageType(app->syn, &storage));
  PetscCall(RmSynapsesGetIndegree(app->syn, &K));
  PetscCall(RmJSONBeginObject(j, "network"));
  PetscCall(RmJSONInt(j, "n", n));
  PetscCall(RmJSONInt(j, "memories", P));
  PetscCall(RmJSONString(j, "design", RmDesignTypes[design]));
  PetscCall(RmJSONString(j, "storage", RmStorageTypes[storage]));
  PetscCall(RmJSONInt(j, "indegree", K));
  {
    const char *kernel;
    PetscCall(RmSynapsesGetKernelName(app->syn, &kernel));
    PetscCall(RmJSONString(j, "kernel", kernel));
  }
  PetscCall(RmJSONInt(j, "seed", seed));
  PetscCall(RmJSONString(j, "patterns", RmPatternKinds[pkind]));
  PetscCall(RmJSONEndObject(j));
  PetscCall(RmJSONBeginObject(j, "cue"));
  PetscCall(RmJSONString(j, "kind", RmCueKinds[app->cue.kind]));
  PetscCall(RmJSONReal(j, "flip", app->cue.flip));
  PetscCall(RmJSONInt(j, "mixture_count", app->cue.mixture_count));
  PetscCall(RmJSONEndObject(j));
  PetscCall(RmIntegratorGetType(app->integ, &method));
  PetscCall(RmIntegratorGetTolerances(app->integ, &rtol, &atol));
  PetscCall(RmIntegratorGetSettings(app->integ, &t_final, &ctol, &dt));
  PetscCall(RmJSONBeginObject(j, "integrator"));
  PetscCall(RmJSONString(j, "method", RmIntegratorTypes[method]));
  PetscCall(RmJSONReal(j, "rtol", rtol));
  PetscCall(RmJSONReal(j, "atol", atol));
  PetscCall(RmJSONReal(j, "t_final", t_final));
  PetscCall(RmJSONReal(j, "converge_tol", ctol));
  PetscCall(RmJSONInt(j, "batch", app->batch));
  if (method == RM_INTEGRATOR_EULER) PetscCall(RmJSONReal(j, "dt", dt));
  PetscCall(RmJSONEndObject(j));
  PetscCall(RmClassifierGetThreshold(app->cl, &thr));
  PetscCall(RmJSONReal(j, "overlap_threshold", thr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteSummaryTrials(App *app, RmJSON *j)
{
  PetscFunctionBeginUser;
  PetscCall(RmJSONBeginArray(j, "trials"));
  for (PetscInt t = 0; t < app->trials; t++) {
    TrialResult             *r = &app->results[t];
    const RmIntegratorStats *s = &r->stats;
    PetscCall(RmJSONBeginObject(j, NULL));
    PetscCall(RmJSONInt(j, "trial", t));
    PetscCall(RmJSONInt(j, "cue_memory", r->cue_memory));
    PetscCall(RmJSONReal(j, "flip_fraction", app->cue.flip));
    PetscCall(RmJSONBool(j, "converged", s->converged));
    PetscCall(RmJSONString(j, "label", RmLabels[r->label]));
    PetscCall(RmJSONInt(j, "nearest_memory", r->nearest));
    PetscCall(RmJSONReal(j, "overlap", r->overlap));
    PetscCall(RmJSONReal(j, "overlap_cue", r->overlap_cue));
    PetscCall(RmJSONReal(j, "overlap_raw", r->overlap_raw));
    PetscCall(RmJSONReal(j, "overlap_uncentred", r->overlap_uncentred));
    PetscCall(RmJSONReal(j, "amplitude", r->amplitude));
    PetscCall(RmJSONReal(j, "t_end", s->t_end));
    PetscCall(RmJSONInt(j, "steps", s->steps));
    PetscCall(RmJSONInt(j, "rhs_evals", s->rhs_evals));
    PetscCall(RmJSONInt(j, "prec_setups", s->prec_setups));
    PetscCall(RmJSONInt(j, "prec_solves", s->prec_solves));
    PetscCall(RmJSONInt(j, "weight_products", s->weight_products));
    PetscCall(RmJSONReal(j, "residual", s->residual));
    PetscCall(RmJSONInt(j, "jtimes_evals", s->jtimes_evals));
    PetscCall(RmJSONInt(j, "jac_setups", s->jac_setups));
    PetscCall(RmJSONInt(j, "nonlin_iters", s->nonlin_iters));
    PetscCall(RmJSONInt(j, "lin_iters", s->lin_iters));
    PetscCall(RmJSONInt(j, "err_test_fails", s->err_test_fails));
    PetscCall(RmJSONInt(j, "nonlin_conv_fails", s->nonlin_conv_fails));
    PetscCall(RmJSONInt(j, "lin_conv_fails", s->lin_conv_fails));
    PetscCall(RmJSONReal(j, "wall_time", s->wall_time));
    PetscCall(RmJSONEndObject(j));
  }
  PetscCall(RmJSONEndArray(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteSummary(App *app)
{
  PetscMPIInt rank;
  char        tmp[PETSC_MAX_PATH_LEN + 16];
  int         failed = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(app->comm, &rank));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.partial", app->summary));
  if (!rank) {
    FILE  *fp = fopen(tmp, "w");
    RmJSON j;
    if (!fp) failed = 1;
    else {
      PetscInt ok = CountLabel(app, RM_LABEL_RETRIEVED);
      PetscCall(RmJSONBegin(&j, fp));
      PetscCall(RmJSONString(&j, "ratemem_version", RATEMEM_VERSION));
      PetscCall(RmJSONString(&j, "command", "retrieve"));
      PetscCall(RmJSONInt(&j, "ranks", app->size));
      PetscCall(WriteSummaryModel(app, &j));
      PetscCall(WriteSummaryNetwork(app, &j));
      PetscCall(WriteSummaryTrials(app, &j));
      PetscCall(RmJSONReal(&j, "retrieval_rate", (PetscReal)ok / app->trials));
      {
        PetscReal passes = 0; /* each batch's products are shared by its trials */
        for (PetscInt t = 0; t < app->trials; t += app->batch) passes += (PetscReal)app->results[t].stats.weight_products;
        PetscCall(RmJSONReal(&j, "weight_passes_per_trial", passes / app->trials));
      }
      PetscCall(RmJSONBeginObject(&j, "counts"));
      for (RmLabel l = RM_LABEL_RETRIEVED; l <= RM_LABEL_UNCONVERGED; l++) PetscCall(RmJSONInt(&j, RmLabels[l], CountLabel(app, l)));
      PetscCall(RmJSONEndObject(&j));
      PetscCall(RmJSONBeginObject(&j, "memory"));
      PetscCall(RmJSONReal(&j, "peak_rss_max_rank", app->peak_max_rank));
      PetscCall(RmJSONReal(&j, "peak_rss_total", app->peak_total));
      PetscCall(RmJSONEndObject(&j));
      PetscCall(RmJSONBeginObject(&j, "timings"));
      PetscCall(RmJSONReal(&j, "generate", app->t_generate));
      PetscCall(RmJSONReal(&j, "assemble", app->t_assemble));
      PetscCall(RmJSONReal(&j, "integrate", app->t_integrate));
      PetscCall(RmJSONReal(&j, "classify", app->t_classify));
      PetscCall(RmJSONReal(&j, "output", app->t_output));
      PetscCall(RmJSONReal(&j, "total", app->t_total));
      PetscCall(RmJSONEndObject(&j));
      PetscCall(RmJSONEnd(&j));
      failed = ferror(fp) != 0;
      failed |= fclose(fp) != 0;
      if (failed) remove(tmp);
    }
  }
  PetscCallMPI(MPI_Bcast(&failed, 1, MPI_INT, 0, app->comm));
  PetscCheck(!failed, app->comm, PETSC_ERR_FILE_WRITE, "cannot write summary %s", tmp);
  PetscCall(RmAtomicRename(app->comm, tmp, app->summary));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Overlap history: one row per recorded step, kept on rank 0 and written at the end. */
static PetscErrorCode RecordHistory(void *ctx, PetscReal t, PetscInt64 steps, Vec x)
{
  App        *app = (App *)ctx;
  PetscInt    P;
  PetscMPIInt rank;
  PetscReal   tg = app->t_offset + t;

  PetscFunctionBeginUser;
  if (steps % app->overlap_every) PetscFunctionReturn(PETSC_SUCCESS); /* the end of a presentation is recorded by RunSchedule */
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  PetscCall(RmModelReadout(app->model, x, app->r));
  PetscCall(RmInputOverlaps(app->mem, app->r, app->m));
  PetscCallMPI(MPI_Comm_rank(app->comm, &rank));
  if (rank || !app->has_history) PetscFunctionReturn(PETSC_SUCCESS);
  if (app->hist_rows > 0) {
    PetscReal *last = app->hist + (app->hist_rows - 1) * (P + 2);
    if (last[0] == tg && last[1] == app->presentation) PetscFunctionReturn(PETSC_SUCCESS); /* the same point twice */
  }
  if (app->hist_rows == app->hist_cap) {
    PetscReal *h;
    app->hist_cap = PetscMax(1024, 2 * app->hist_cap);
    PetscCall(PetscMalloc1(app->hist_cap * (P + 2), &h));
    if (app->hist_rows) PetscCall(PetscArraycpy(h, app->hist, app->hist_rows * (P + 2)));
    PetscCall(PetscFree(app->hist));
    app->hist = h;
  }
  PetscReal *row = app->hist + app->hist_rows * (P + 2);
  row[0]         = tg;
  row[1]         = app->presentation;
  for (PetscInt mu = 0; mu < P; mu++) row[2 + mu] = app->m[mu];
  app->hist_rows++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteHistory(App *app)
{
  PetscMPIInt rank;
  PetscInt    P;
  char        tmp[PETSC_MAX_PATH_LEN + 16];
  int         failed = 0;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  PetscCallMPI(MPI_Comm_rank(app->comm, &rank));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.partial", app->history));
  if (!rank) {
    FILE *fp = fopen(tmp, "w");
    if (!fp) failed = 1;
    else {
      fprintf(fp, "t,presentation");
      for (PetscInt mu = 0; mu < P; mu++) fprintf(fp, ",m_%" PetscInt_FMT, mu);
      fprintf(fp, "\n");
      for (PetscInt k = 0; k < app->hist_rows; k++) {
        const PetscReal *row = app->hist + k * (P + 2);
        fprintf(fp, "%.10g,%d", (double)row[0], (int)row[1]);
        for (PetscInt mu = 0; mu < P; mu++) fprintf(fp, ",%.6f", (double)row[2 + mu]);
        fprintf(fp, "\n");
      }
      failed = ferror(fp) != 0;
      failed |= fclose(fp) != 0;
      if (failed) remove(tmp);
    }
  }
  PetscCallMPI(MPI_Bcast(&failed, 1, MPI_INT, 0, app->comm));
  PetscCheck(!failed, app->comm, PETSC_ERR_FILE_WRITE, "cannot write overlap history %s", tmp);
  PetscCall(RmAtomicRename(app->comm, tmp, app->history));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -input_schedule: y(0) ~ N(0, I), then each presentation's input for its duration, state carried
   over; after each one the overlaps m_μ = |ξ^μᵀ tanh(δy)|/N and a label (retrieved when the
   largest overlap is the input's dominant memory and >= the overlap threshold). */
static PetscErrorCode RunSchedule(App *app)
{
  PetscInt          n, P, retrieved = 0;
  PetscInt64        seed;
  PetscReal        *c, thr, sigma;
  Vec               x, u;
  RmInputMode       mode;
  RmIntegratorType  method;
  RmIntegratorStats st;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(app->mem, &n, &P));
  PetscCall(RmMemoriesGetSeed(app->mem, &seed));
  PetscCall(RmScheduleParse(app->comm, app->schedule_spec, P, &app->schedule));
  PetscCall(RmClassifierGetThreshold(app->cl, &thr));
  PetscCall(RmModelGetInputMode(app->model, &mode));
  PetscCall(RmIntegratorGetType(app->integ, &method));
  PetscCall(RmIntegratorGetNoise(app->integ, &sigma, NULL));
  PetscCall(PetscMalloc2(P, &c, P, &app->m));
  for (PetscInt k = 0; k < app->schedule.count; k++) /* check every item before integrating */
    PetscCall(RmScheduleGetWeights(app->comm, &app->schedule, k, P, n, (uint64_t)seed, app->weights, app->nweights, c));
  PetscCall(RmModelCreateState(app->model, &x));
  PetscCall(RmModelCreateNeuronVec(app->model, &u));
  PetscCall(RmInputInitialState(app->mem, (uint64_t)seed, x));
  PetscCall(RmIntegratorSetStepCallback(app->integ, RecordHistory, app));
  if (!app->quiet) {
    PetscCall(PetscPrintf(app->comm, "ratemem retrieve (input schedule): n = %" PetscInt_FMT ", P = %" PetscInt_FMT ", input %s, integrator %s, noise %g, %d rank%s\n\n", n, P,
                          RmInputModes[mode], RmIntegratorTypes[method], (double)sigma, app->size, app->size > 1 ? "s" : ""));
    PetscCall(PetscPrintf(app->comm, "%4s %-12s %8s %8s %7s %8s %8s %8s %-10s\n", "pres", "input", "duration", "dominant", "nearest", "overlap", "m_dom", "steps", "label"));
  }
  app->t_offset = 0;
  for (PetscInt k = 0; k < app->schedule.count; k++) {
    const RmPresentation *pr  = &app->schedule.items[k];
    PetscInt              dom = -1, best = 0;
    char                  name[32];

    PetscCall(RmScheduleGetWeights(app->comm, &app->schedule, k, P, n, (uint64_t)seed, app->weights, app->nweights, c));
    if (pr->kind != RM_PRESENT_OFF) {
      dom = 0;
      for (PetscInt mu = 1; mu < P; mu++)
        if (c[mu] > c[dom]) dom = mu;
    }
    PetscCall(RmInputBuildVector(app->mem, c, u));
    PetscCall(RmModelSetInputVector(app->model, u));
    PetscCall(RmIntegratorSetFinalTime(app->integ, pr->duration));
    app->presentation = k;
    if (k == 0) PetscCall(RecordHistory(app, 0.0, 0, x));
    PetscCall(PetscLogStagePush(RM_EVENTS.stage_integrate));
    PetscCall(RmIntegratorSolve(app->integ, x, &st));
    PetscCall(PetscLogStagePop());
    PetscCall(RmModelReadout(app->model, x, app->r));
    PetscCall(RmInputOverlaps(app->mem, app->r, app->m));
    {
      PetscInt every     = app->overlap_every;
      app->overlap_every = 1;
      PetscCall(RecordHistory(app, st.t_end, 0, x));
      app->overlap_every = every;
    }
    app->t_offset += pr->duration;
    for (PetscInt mu = 1; mu < P; mu++)
      if (app->m[mu] > app->m[best]) best = mu;
    PetscBool ok = (PetscBool)(dom >= 0 && best == dom && app->m[best] >= thr);
    retrieved += ok;
    if (pr->kind == RM_PRESENT_DOMINANT) PetscCall(PetscSNPrintf(name, sizeof(name), "dominant%" PetscInt_FMT, pr->memory));
    else PetscCall(PetscSNPrintf(name, sizeof(name), "%s", pr->kind == RM_PRESENT_WEIGHTS ? "weights" : "off"));
    if (!app->quiet)
      PetscCall(PetscPrintf(app->comm, "%4" PetscInt_FMT " %-12s %8.3g %8" PetscInt_FMT " %7" PetscInt_FMT " %8.4f %8.4f %8" PetscInt64_FMT " %-10s\n", k, name,
                            (double)pr->duration, dom, best, (double)app->m[best], dom >= 0 ? (double)app->m[dom] : 0.0, st.steps,
                            ok ? "retrieved" : (dom < 0 ? "-" : (app->m[best] >= thr ? "other" : "mixture"))));
  }
  if (!app->quiet)
    PetscCall(PetscPrintf(app->comm, "\nschedule: %" PetscInt_FMT "/%" PetscInt_FMT " presentations retrieved their dominant memory\n", retrieved,
                          app->schedule.count));
  if (app->has_history) PetscCall(WriteHistory(app));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&u));
  PetscCall(PetscFree2(c, app->m));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppRun(App *app)
{
  Vec      x0, x;
  PetscInt n, P, rstart, rend;
  double   t0 = RmWallTime();

  PetscFunctionBeginUser;
  PetscCall(AppSetFromOptions(app));
  if (app->help) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AppSetUp(app));
  PetscCall(RmMemoriesGetSizes(app->mem, &n, &P));
  if (app->has_output) {
    uint8_t *row;
    PetscCall(RmMemoriesGetOwnershipRange(app->mem, &rstart, &rend));
    PetscCall(RmOutputCreate(app->comm, app->output, n, P, app->trials, &app->out));
    PetscCall(PetscMalloc1(rend - rstart + 1, &row));
    for (PetscInt mu = 0; mu < P; mu++) {
      PetscCall(RmMemoriesGetLocalPattern(app->mem, mu, row));
      PetscCall(RmOutputWritePattern(app->out, mu, rstart, rend - rstart, row));
    }
    PetscCall(PetscFree(row));
  }
  if (app->has_schedule) {
    PetscCall(RunSchedule(app));
    app->t_total = RmWallTime() - t0;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(RmModelCreateState(app->model, &x0));
  PetscCall(VecDuplicate(x0, &x));
  for (PetscInt t = 0; t < app->trials; t += app->batch) PetscCall(RunBatch(app, t, PetscMin(app->batch, app->trials - t), x0, x));
  PetscCall(VecDestroy(&x0));
  PetscCall(VecDestroy(&x));
  if (app->out) PetscCall(RmOutputCommit(app->out));
  app->t_total = RmWallTime() - t0;
  PetscCall(RmPeakMemory(app->comm, &app->peak_max_rank, &app->peak_total));
  if (app->has_summary) PetscCall(WriteSummary(app));
  PetscCall(PrintTable(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppDestroy(App *app)
{
  PetscFunctionBeginUser;
  PetscCall(RmOutputDestroy(&app->out)); /* removes an uncommitted (partial) file */
  PetscCall(RmClassifierDestroy(&app->cl));
  PetscCall(RmIntegratorDestroy(&app->integ));
  PetscCall(RmModelDestroy(&app->model));
  PetscCall(RmSynapsesDestroy(&app->syn));
  PetscCall(RmMemoriesDestroy(&app->mem));
  PetscCall(VecDestroy(&app->r));
  PetscCall(VecDestroy(&app->x0n));
  PetscCall(VecDestroy(&app->xn));
  PetscCall(VecDestroy(&app->col0));
  PetscCall(VecDestroy(&app->col1));
  PetscCall(PetscFree(app->results));
  PetscCall(PetscFree(app->hist));
  PetscCall(RmScheduleDestroy(&app->schedule));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRetrieveMain(MPI_Comm comm)
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
