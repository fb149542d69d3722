/* `ratemem retrieve`: the end-to-end pipeline of one run (design.md): memories -> synapses ->
   dynamics -> integration from each cue -> gather-and-classify -> reports. */
#include "appimpl.h"
#include <ratemem/checkpoint.h>
#include <ratemem/input.h>
#include <stdlib.h>
#include <string.h>

#define CK_NINT_  16 /* the checkpoint's result columns (CK_NINT, CK_NREAL below), for the memory estimate */
#define CK_NREAL_ 8
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
  PetscReal    memory_estimate;           /* bytes per rank (largest), estimated before allocating */
  Vec          r; /* readout work vector */
  /* Input schedule (docs/model.md §7, -input_schedule): presentations instead of trials */
  char         schedule_spec[4096], history[PETSC_MAX_PATH_LEN];
  PetscBool    has_schedule, has_history;
  char         input_file[PETSC_MAX_PATH_LEN], input_dataset[256]; /* -input_file, -input_dataset (docs/input.md) */
  PetscBool    has_input_file;
  PetscReal    weights[1024];
  PetscInt     nweights, overlap_every, presentation;
  RmSchedule   schedule;
  PetscReal    t_offset, *m;   /* time at the start of the presentation; overlaps work (P) */
  PetscReal   *hist;           /* rank 0: rows (t, presentation, m_0..m_{P-1}) */
  PetscInt     hist_rows, hist_cap;
  /* Checkpoint and restart (issue #6; include/ratemem/checkpoint.h) */
  char                 checkpoint[PETSC_MAX_PATH_LEN], restart[PETSC_MAX_PATH_LEN];
  PetscBool            has_checkpoint, has_restart, stopped;
  PetscReal            checkpoint_interval; /* wall seconds; 0: at the end of each trial (batch) and on a signal */
  PetscInt             stop_after_steps;    /* hidden, for tests: behave as if signalled at this step boundary */
  PetscInt64           hook_steps;          /* step boundaries seen by this process */
  double               last_checkpoint;     /* wall clock of the last checkpoint (or of the start) */
  PetscReal            stop_t;              /* where the run stopped */
  PetscInt             batch_t0;            /* first trial of the batch being integrated */
  RmCheckpoint         ck;
  RmCheckpointLayout   layout;
  RmCheckpointProgress progress;            /* of the run resumed (zero for a fresh run) */
  Vec                  x0s, xs;             /* initial and current state of a batch (destroyed by AppDestroy) */
} App;

/* The run's inputs and outputs, checked before anything is computed (src/io/atomic.c): no output
   replaces a device, a directory or an input, and no two outputs are the same file. */
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
  PetscCall(RmFileSetAddInput(fs, "-input_file", app->has_input_file ? app->input_file : NULL));
  PetscCall(RmFileSetAddInput(fs, "-restart", app->has_restart && strcmp(app->restart, "auto") ? app->restart : NULL));
  PetscCall(RmFileSetAddOutput(fs, "-summary", app->has_summary ? app->summary : NULL));
  PetscCall(RmFileSetAddOutput(fs, "-output", app->has_output ? app->output : NULL));
  PetscCall(RmFileSetAddOutput(fs, "-checkpoint", app->has_checkpoint ? app->checkpoint : NULL));
  PetscCall(RmFileSetAddOutput(fs, "-overlap_history", app->has_history ? app->history : NULL));
  PetscCall(RmFileSetAllowSame(fs, "-checkpoint", "-restart")); /* the documented resume */
  PetscErrorCode ierr = RmFileSetCheck(fs);
  PetscCall(RmFileSetDestroy(&fs));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppSetFromOptions(App *app)
{
  PetscFunctionBeginUser;
  app->trials = 10;
  app->batch  = 1;
  app->cue    = (RmCueOptions){RM_CUE_FLIP, 0.1, 3, 0.6};
  PetscCall(PetscOptionsHasHelp(NULL, &app->help));
  PetscCall(RmAppCreateObjects_Private(app->comm, &app->mem, &app->syn, &app->model, &app->integ, &app->cl)); /* setup.c */
  PetscCall(RmCueOptionsSetFromOptions(app->comm, &app->cue));
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
  PetscCall(PetscStrncpy(app->input_dataset, "inputs", sizeof(app->input_dataset)));
  PetscCall(PetscOptionsString("-input_file", "HDF5 file of inputs (dataset (S, n) or (n,)), presented as schedule items fileK (docs/input.md)",
                               "ratemem retrieve", app->input_file, app->input_file, sizeof(app->input_file), &app->has_input_file));
  PetscCall(PetscOptionsString("-input_dataset", "Dataset of -input_file", "ratemem retrieve", app->input_dataset, app->input_dataset,
                               sizeof(app->input_dataset), NULL));
  PetscCall(PetscOptionsString("-checkpoint", "HDF5 checkpoint file: written every -checkpoint_interval s, and on SIGUSR1/SIGTERM (then exit 3)",
                               "ratemem retrieve", app->checkpoint, app->checkpoint, sizeof(app->checkpoint), &app->has_checkpoint));
  PetscCall(PetscOptionsReal("-checkpoint_interval", "Wall seconds between checkpoints (0: at the end of each trial and on a signal only)",
                             "ratemem retrieve", app->checkpoint_interval, &app->checkpoint_interval, NULL));
  PetscCall(PetscOptionsString("-restart", "Resume from this checkpoint; auto: from the -checkpoint file if it exists, else start afresh",
                               "ratemem retrieve", app->restart, app->restart, sizeof(app->restart), &app->has_restart));
  PetscOptionsEnd();
  /* hidden testing option (not in -help): act exactly as if SIGUSR1 arrived at the N-th step boundary */
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-checkpoint_stop_after_steps", &app->stop_after_steps, NULL));
  PetscCheck(!app->has_checkpoint || app->checkpoint[0], app->comm, PETSC_ERR_ARG_WRONG, "-checkpoint needs a file name");
  PetscCheck(!app->has_restart || app->restart[0], app->comm, PETSC_ERR_ARG_WRONG, "-restart needs a file name (or auto)");
  PetscCall(RmCheckFinite(app->comm, "checkpoint_interval", app->checkpoint_interval));
  PetscCheck(app->checkpoint_interval >= 0, app->comm, PETSC_ERR_ARG_OUTOFRANGE, "checkpoint_interval must be >= 0, got %g", (double)app->checkpoint_interval);
  PetscCheck(!app->has_restart || strcmp(app->restart, "auto") || app->has_checkpoint, app->comm, PETSC_ERR_ARG_INCOMP,
             "-restart auto needs -checkpoint FILE (the file it resumes from when it exists)");
  PetscCheck(app->stop_after_steps >= 0 && (!app->stop_after_steps || app->has_checkpoint), app->comm, PETSC_ERR_ARG_INCOMP,
             "-checkpoint_stop_after_steps needs -checkpoint FILE and a count >= 0");
  PetscCheck(!(app->has_checkpoint || app->has_restart) || !(app->has_schedule || app->has_input_file), app->comm, PETSC_ERR_ARG_INCOMP,
             "-checkpoint and -restart are not available with -input_schedule or -input_file");
  PetscCheck(app->overlap_every > 0, app->comm, PETSC_ERR_ARG_OUTOFRANGE, "overlap_every must be > 0, got %" PetscInt_FMT, app->overlap_every);
  PetscCheck(!app->has_history || app->has_schedule || app->has_input_file, app->comm, PETSC_ERR_ARG_INCOMP, "-overlap_history needs -input_schedule");
  {
    PetscBool rate_variant;
    PetscCall(RmModelGetInputVariant(app->model, &rate_variant));
    PetscCheck(!rate_variant || app->has_schedule || app->has_input_file, app->comm, PETSC_ERR_ARG_INCOMP,
               "-input_variant rate needs -input_schedule or -input_file");
  }
  PetscCheck(!app->has_history || app->history[0], app->comm, PETSC_ERR_ARG_WRONG, "-overlap_history needs a file name");
  if (app->has_schedule || app->has_input_file) {
    PetscBool accepts;
    PetscCall(RmModelAcceptsInputs(app->model, &accepts));
    PetscCheck(accepts, app->comm, PETSC_ERR_ARG_INCOMP, "-input_schedule needs the Hopfield model (-design hebbian) or -input_variant rate");
    PetscCheck(app->batch == 1, app->comm, PETSC_ERR_ARG_INCOMP, "-input_schedule needs -batch 1");
    PetscCheck(!app->has_summary && !app->has_output, app->comm, PETSC_ERR_ARG_INCOMP,
               "-summary and -output are not written for an input schedule; use -overlap_history");
  }
  PetscCall(RmOptionsCheckIntRange(app->comm, "-trials", 1, PETSC_MAX_INT));
  PetscCall(RmOptionsCheckIntRange(app->comm, "-batch", 1, PETSC_MAX_INT));
  PetscCheck(app->trials > 0, app->comm, PETSC_ERR_ARG_OUTOFRANGE, "trials must be > 0, got %" PetscInt_FMT, app->trials);
  PetscCheck(app->batch > 0, app->comm, PETSC_ERR_ARG_OUTOFRANGE, "batch must be > 0, got %" PetscInt_FMT, app->batch);
  app->batch = PetscMin(app->batch, app->trials);
  PetscCheck(!app->has_summary || app->summary[0], app->comm, PETSC_ERR_ARG_WRONG, "-summary needs a file name");
  PetscCheck(!app->has_output || app->output[0], app->comm, PETSC_ERR_ARG_WRONG, "-output needs a file name");
  if (!app->help) PetscCall(RmCheckOptionsAllUsed(app->comm));
  if (!app->help) PetscCall(CheckFiles(app));
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
  PetscCall(RmAppColumnView_Private(app->col0, app->r, 0, PETSC_TRUE)); /* the batch's first trial */
  PetscCall(RmClassifierComputeOverlaps(app->cl, app->col0, &ov));
  PetscCall(RmAppColumnView_Private(app->col0, app->r, 0, PETSC_FALSE));
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  for (PetscInt mu = 1; mu < P; mu++)
    if (ov.normalised[mu] > ov.normalised[best]) best = mu;
  PetscCall(PetscFPrintf(app->comm, stderr, "[monitor] trial %" PetscInt_FMT ": t = %-10.4g steps = %-6" PetscInt64_FMT " best overlap %.4f (memory %" PetscInt_FMT ")\n",
                         app->current_trial, (double)t, steps, (double)ov.normalised[best], best));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppSetUp(App *app)
{
  PetscFunctionBeginUser;
  PetscCall(RmIntegratorSetMonitor(app->integ, MonitorProgress, app));
  { /* per trial: the result, the checkpoint's columns and overlaps, and with -checkpoint -output the final states */
    PetscInt P;
    PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
    PetscCall(RmAppSetTrialMemory_Private(app->trials, (PetscInt64)sizeof(TrialResult) + ((app->has_checkpoint || app->has_restart) ? 8 * (CK_NINT_ + CK_NREAL_ + 2 * (PetscInt64)P) : 0),
                                          (app->has_checkpoint || app->has_restart) && app->has_output ? 8 : 0));
  }
  PetscCall(RmAppSetUpObjects_Private(app->mem, app->syn, app->model, app->integ, app->cl, app->batch, &app->t_generate, &app->t_assemble)); /* setup.c */
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
  PetscCall(RmAppGetMemoryEstimate_Private(&app->memory_estimate));
  PetscCall(PetscCalloc1(app->trials, &app->results));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- checkpoint and restart (issue #6)
   The results of a completed trial as the checkpoint's columns; everything the summary, the table and
   the HDF5 output need, so a resumed run reports what an uninterrupted one would (wall times aside). */
#define CK_INT_NAMES \
  "cue_memory,nearest,label,converged,steps,rhs_evals,jtimes_evals,jac_setups,nonlin_iters,lin_iters,err_test_fails,nonlin_conv_fails,lin_conv_fails," \
  "prec_setups,prec_solves,weight_products"
#define CK_NINT        16
#define CK_REAL_NAMES "overlap,overlap_cue,overlap_raw,overlap_uncentred,amplitude,t_end,residual,wall_time"
#define CK_NREAL       8

static void ResultToArrays(const TrialResult *r, PetscInt64 *i, PetscReal *x)
{
  const RmIntegratorStats *s = &r->stats;
  const PetscInt64         iv[CK_NINT] = {r->cue_memory, r->nearest, r->label, s->converged, s->steps, s->rhs_evals, s->jtimes_evals, s->jac_setups,
                                          s->nonlin_iters, s->lin_iters, s->err_test_fails, s->nonlin_conv_fails, s->lin_conv_fails, s->prec_setups,
                                          s->prec_solves, s->weight_products};
  const PetscReal          rv[CK_NREAL] = {r->overlap, r->overlap_cue, r->overlap_raw, r->overlap_uncentred, r->amplitude, s->t_end, s->residual, s->wall_time};
  for (int k = 0; k < CK_NINT; k++) i[k] = iv[k];
  for (int k = 0; k < CK_NREAL; k++) x[k] = rv[k];
}

static void ResultFromArrays(TrialResult *r, const PetscInt64 *i, const PetscReal *x)
{
  RmIntegratorStats *s = &r->stats;
  memset(r, 0, sizeof(*r));
  r->cue_memory = (PetscInt)i[0], r->nearest = (PetscInt)i[1], r->label = (RmLabel)i[2], s->converged = i[3] ? PETSC_TRUE : PETSC_FALSE;
  s->steps = i[4], s->rhs_evals = i[5], s->jtimes_evals = i[6], s->jac_setups = i[7], s->nonlin_iters = i[8], s->lin_iters = i[9];
  s->err_test_fails = i[10], s->nonlin_conv_fails = i[11], s->lin_conv_fails = i[12], s->prec_setups = i[13], s->prec_solves = i[14];
  s->weight_products = i[15];
  r->overlap = x[0], r->overlap_cue = x[1], r->overlap_raw = x[2], r->overlap_uncentred = x[3], r->amplitude = x[4];
  s->t_end = x[5], s->residual = x[6], s->wall_time = x[7];
}

/* The shortest decimal form of v that reads back as v exactly (for the identity lines and their messages). */
static const char *ExactReal(char buf[32], PetscReal v)
{
  for (int prec = 6; prec <= 17; prec++) {
    snprintf(buf, 32, "%.*g", prec, (double)v);
    if (strtod(buf, NULL) == (double)v) break;
  }
  return buf;
}

/* Write a checkpoint: completed trials done; with state, the batch starting at trial `completed` is in
   progress at time t with counts so_far. */
static PetscErrorCode WriteCheckpoint(App *app, PetscInt completed, Vec state, PetscReal t, const RmIntegratorStats *so_far)
{
  RmCheckpointProgress pg = {0};

  PetscFunctionBeginUser;
  pg.completed   = completed;
  pg.in_progress = state ? PETSC_TRUE : PETSC_FALSE;
  pg.t           = t;
  if (so_far) pg.stats = *so_far;
  PetscCall(RmIntegratorGetNoiseStep(app->integ, &pg.noise_step));
  PetscCall(RmCheckpointWrite(app->ck, app->checkpoint, &pg, state, &app->layout));
  app->last_checkpoint = RmWallTime();
  app->stop_t          = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* What this process wants at a step or trial boundary: 1 checkpoint (interval elapsed), 2 checkpoint and
   stop (signal, or the testing step count). All ranks agree through one MPI_Allreduce. */
static PetscErrorCode CheckpointWanted(App *app, PetscBool at_step, int *want)
{
  PetscFunctionBeginUser;
  *want = 0;
  if (RmCheckpointSignalReceived() || (at_step && app->stop_after_steps > 0 && app->hook_steps >= app->stop_after_steps)) *want |= 2;
  if (app->checkpoint_interval > 0 && RmWallTime() - app->last_checkpoint >= app->checkpoint_interval) *want |= 1;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, want, 1, MPI_INT, MPI_BOR, app->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The integrator's step hook: at every step boundary of a trial (batch) in progress. */
static PetscErrorCode CheckpointHook(void *ctx, PetscReal t, PetscInt64 steps, Vec x, PetscBool *stop)
{
  App              *app = (App *)ctx;
  int               want;
  RmIntegratorStats so_far;

  PetscFunctionBeginUser;
  app->hook_steps++;
  PetscCall(CheckpointWanted(app, PETSC_TRUE, &want));
  if (!want) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmIntegratorGetProgress(app->integ, &so_far));
  PetscCall(WriteCheckpoint(app, app->batch_t0, x, t, &so_far));
  if (app->integ && !(want & 2)) {
    PetscBool monitor;
    PetscCall(RmIntegratorGetMonitor(app->integ, &monitor));
    if (monitor)
      PetscCall(PetscFPrintf(app->comm, stderr, "[checkpoint] trial %" PetscInt_FMT ": t = %-10.4g steps = %-6" PetscInt64_FMT " written to %s\n", app->batch_t0,
                             (double)t, steps, app->checkpoint));
  }
  if (want & 2) {
    *stop        = PETSC_TRUE;
    app->stopped = PETSC_TRUE;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After a batch: record its results, then checkpoint (at every trial end with -checkpoint_interval 0,
   else when the interval has elapsed) and stop here when signalled and trials remain. */
static PetscErrorCode CheckpointBatchDone(App *app, PetscInt t0, PetscInt count, const PetscReal *ov, const PetscReal *ov_raw)
{
  PetscInt   P;
  PetscInt64 iv[CK_NINT];
  PetscReal  rv[CK_NREAL];
  int        want;

  PetscFunctionBeginUser;
  if (!app->ck) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  for (PetscInt b = 0; b < count; b++) {
    ResultToArrays(&app->results[t0 + b], iv, rv);
    PetscCall(RmCheckpointSetTrial(app->ck, t0 + b, iv, rv, ov + b * P, ov_raw + b * P));
  }
  if (!app->has_checkpoint) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(CheckpointWanted(app, PETSC_FALSE, &want));
  if (t0 + count == app->trials) want &= ~2; /* nothing left to do: finish and write the outputs */
  if (app->checkpoint_interval == 0) want |= 1;
  if (want) PetscCall(WriteCheckpoint(app, t0 + count, NULL, 0.0, NULL));
  if (want & 2) {
    app->stopped  = PETSC_TRUE;
    app->batch_t0 = t0 + count;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -checkpoint / -restart: the identity of the run, the restart itself (results of completed trials, the
   state of the batch in progress into x), the signal handlers and the step hook. */
static PetscErrorCode CheckpointSetUp(App *app, Vec x)
{
  /* options that do not change the result; '*' ends a prefix */
  static const char *const exclude[] = {"checkpoint", "checkpoint_interval", "checkpoint_stop_after_steps", "restart", "summary", "output", "quiet", "monitor",
                                        "monitor_every", "help", "log*", "malloc*", "options_*", "memory_view", "objects_dump", "info", "on_error*",
                                        "fp_trap", "no_signal_handler", "check_pointer_intensity", "viewer_*", "saws*", "history", NULL};
  PetscInt                 n, P, K, mixture;
  PetscInt64               seed, noise_seed;
  RmPatternKind            pkind;
  RmDesignType             design;
  RmStorageType            storage;
  RmModelKind              kind;
  RmIntegratorType         method;
  PetscReal                rtol, atol, t_final, ctol, dt, sigma, thr;
  const char              *path = NULL;
  char                     b[32];

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(app->mem, &n, &P));
  PetscCall(RmMemoriesGetSeed(app->mem, &seed));
  PetscCall(RmMemoriesGetKind(app->mem, &pkind));
  PetscCall(RmSynapsesGetDesignType(app->syn, &design));
  PetscCall(RmSynapsesGetStorageType(app->syn, &storage));
  PetscCall(RmSynapsesGetIndegree(app->syn, &K));
  PetscCall(RmModelGetKind(app->model, &kind));
  PetscCall(RmIntegratorGetType(app->integ, &method));
  PetscCall(RmIntegratorGetTolerances(app->integ, &rtol, &atol));
  PetscCall(RmIntegratorGetSettings(app->integ, &t_final, &ctol, &dt));
  PetscCall(RmIntegratorGetNoise(app->integ, &sigma, &noise_seed));
  PetscCall(RmClassifierGetThreshold(app->cl, &thr));
  PetscCall(RmCheckpointLayoutFromModel(app->model, &app->layout));
  mixture = app->cue.mixture_count;
  PetscCall(RmCheckpointCreate(app->comm, app->trials, P, CK_NINT, CK_INT_NAMES, CK_NREAL, CK_REAL_NAMES, &app->ck));
  PetscCall(RmCheckpointAddIdentity(app->ck, "n", "%" PetscInt_FMT, n));
  PetscCall(RmCheckpointAddIdentity(app->ck, "memories", "%" PetscInt_FMT, P));
  PetscCall(RmCheckpointAddIdentity(app->ck, "seed", "%" PetscInt64_FMT, seed));
  PetscCall(RmCheckpointAddIdentity(app->ck, "trials", "%" PetscInt_FMT, app->trials));
  PetscCall(RmCheckpointAddIdentity(app->ck, "batch", "%" PetscInt_FMT, app->batch));
  PetscCall(RmCheckpointAddIdentity(app->ck, "state units", "%" PetscInt_FMT, app->layout.n + app->layout.m));
  PetscCall(RmCheckpointAddIdentity(app->ck, "patterns", "%s", RmPatternKinds[pkind]));
  PetscCall(RmCheckpointAddIdentity(app->ck, "design", "%s", RmDesignTypes[design]));
  PetscCall(RmCheckpointAddIdentity(app->ck, "storage", "%s", RmStorageTypes[storage]));
  PetscCall(RmCheckpointAddIdentity(app->ck, "indegree", "%" PetscInt_FMT, K));
  PetscCall(RmCheckpointAddIdentity(app->ck, "model", "%s", RmModelKinds[kind]));
  PetscCall(RmCheckpointAddIdentity(app->ck, "cue", "%s", RmCueKinds[app->cue.kind]));
  PetscCall(RmCheckpointAddIdentity(app->ck, "flip", "%s", ExactReal(b, app->cue.flip)));
  PetscCall(RmCheckpointAddIdentity(app->ck, "mixture_count", "%" PetscInt_FMT, mixture));
  PetscCall(RmCheckpointAddIdentity(app->ck, "keep", "%s", ExactReal(b, app->cue.keep)));
  PetscCall(RmCheckpointAddIdentity(app->ck, "integrator", "%s", method));
  PetscCall(RmCheckpointAddIdentity(app->ck, "rtol", "%s", ExactReal(b, rtol)));
  PetscCall(RmCheckpointAddIdentity(app->ck, "atol", "%s", ExactReal(b, atol)));
  PetscCall(RmCheckpointAddIdentity(app->ck, "t_final", "%s", ExactReal(b, t_final)));
  PetscCall(RmCheckpointAddIdentity(app->ck, "converge_tol", "%s", ExactReal(b, ctol)));
  PetscCall(RmCheckpointAddIdentity(app->ck, "euler_dt", "%s", ExactReal(b, dt)));
  PetscCall(RmCheckpointAddIdentity(app->ck, "noise", "%s", ExactReal(b, sigma)));
  PetscCall(RmCheckpointAddIdentity(app->ck, "noise_seed", "%" PetscInt64_FMT, noise_seed));
  PetscCall(RmCheckpointAddIdentity(app->ck, "overlap_threshold", "%s", ExactReal(b, thr)));
  PetscCall(RmCheckpointAddOptionsIdentity(app->ck, exclude));
  if (app->has_output) PetscCall(RmCheckpointSetStoreFinalStates(app->ck, app->layout.nloc));

  if (app->has_restart) {
    PetscBool exists = PETSC_TRUE;
    path             = app->restart;
    if (!strcmp(app->restart, "auto")) {
      path = app->checkpoint;
      PetscCall(RmFileExists(app->comm, path, &exists));
      if (!exists && !app->quiet) PetscCall(PetscPrintf(app->comm, "ratemem: no checkpoint %s yet (-restart auto): starting afresh\n", path));
    }
    if (exists) {
      PetscInt64 iv[CK_NINT];
      PetscReal  rv[CK_NREAL];
      PetscCall(RmCheckpointLoad(app->ck, path, &app->progress, x, &app->layout));
      for (PetscInt t = 0; t < app->progress.completed; t++) {
        PetscCall(RmCheckpointGetTrial(app->ck, t, iv, rv, NULL, NULL));
        ResultFromArrays(&app->results[t], iv, rv);
      }
      PetscCall(RmIntegratorSetNoiseStep(app->integ, app->progress.noise_step));
      if (!app->quiet) {
        PetscCall(PetscPrintf(app->comm, "ratemem: resuming from %s: %" PetscInt_FMT " of %" PetscInt_FMT " trials done", path, app->progress.completed, app->trials));
        if (app->progress.in_progress)
          PetscCall(PetscPrintf(app->comm, ", trial %" PetscInt_FMT " continues at t = %.10g (step %" PetscInt64_FMT ")", app->progress.completed, (double)app->progress.t,
                                app->progress.stats.steps));
        PetscCall(PetscPrintf(app->comm, "\n"));
      }
    }
  }
  if (app->has_checkpoint) { /* (the signal handlers are already installed, see AppRun) */
    PetscCall(RmIntegratorSetStepHook(app->integ, CheckpointHook, app));
    app->last_checkpoint = RmWallTime();
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -output on a resumed run: the rows of the trials completed before, from the checkpoint (the initial
   state is the cue, regenerated; the final state and the overlaps are stored). */
static PetscErrorCode WriteCompletedOutput(App *app)
{
  PetscInt   P, cue_memory;
  PetscReal *ov, *ov_raw;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  PetscCall(PetscMalloc2(P, &ov, P, &ov_raw));
  for (PetscInt t = 0; t < app->progress.completed; t++) {
    PetscCall(RmAppColumnView_Private(app->col0, app->x0n, 0, PETSC_TRUE));
    PetscCall(RmAppColumnView_Private(app->col1, app->xn, 0, PETSC_TRUE));
    PetscCall(RmMemoriesCreateCue(app->mem, &app->cue, t, app->col0, &cue_memory));
    PetscCall(RmCheckpointGetTrialFinalState(app->ck, t, app->col1));
    PetscCall(RmCheckpointGetTrial(app->ck, t, NULL, NULL, ov, ov_raw));
    PetscCall(RmOutputWriteTrial(app->out, t, app->col0, app->col1, ov, ov_raw));
    PetscCall(RmAppColumnView_Private(app->col0, app->x0n, 0, PETSC_FALSE));
    PetscCall(RmAppColumnView_Private(app->col1, app->xn, 0, PETSC_FALSE));
  }
  PetscCall(PetscFree2(ov, ov_raw));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Trials t0 .. t0+count-1 integrated together as one block of B columns; columns beyond count
   repeat the last cue (their results are discarded). resume: x holds the state of the batch at the
   checkpoint it was stopped at (-restart), and the integration continues from there. */
static PetscErrorCode RunBatch(App *app, PetscInt t0, PetscInt count, Vec x0, Vec x, PetscBool resume)
{
  Vec x0n = app->x0n, xn = app->xn; /* neuron views of the initial and final states */
  RmIntegratorStats stats;
  RmOverlaps        ov;
  double            tw;
  PetscInt          P;
  PetscReal        *ck_ov = NULL, *ck_raw = NULL; /* the batch's overlaps, for the checkpoint */

  PetscFunctionBeginUser;
  app->current_trial = t0;
  app->batch_t0      = t0;
  for (PetscInt b = 0; b < app->batch; b++) {
    PetscInt cue_memory;
    PetscCall(RmAppColumnView_Private(app->col0, x0n, b, PETSC_TRUE));
    PetscCall(RmMemoriesCreateCue(app->mem, &app->cue, t0 + PetscMin(b, count - 1), app->col0, &cue_memory));
    PetscCall(RmAppColumnView_Private(app->col0, x0n, b, PETSC_FALSE));
    if (b < count) app->results[t0 + b].cue_memory = cue_memory;
  }
  if (resume) PetscCall(RmIntegratorSetResume(app->integ, app->progress.t, &app->progress.stats));
  else {
    PetscCall(RmModelStateFromNeurons(app->model, x0n, x0));
    PetscCall(VecCopy(x0, x));
  }
  tw = RmWallTime();
  PetscCall(PetscLogStagePush(RM_EVENTS.stage_integrate));
  PetscCall(RmIntegratorSolve(app->integ, x, &stats));
  PetscCall(PetscLogStagePop());
  app->t_integrate += RmWallTime() - tw;
  if (stats.stopped) PetscFunctionReturn(PETSC_SUCCESS); /* checkpointed by the step hook: no results yet */
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  if (app->ck) PetscCall(PetscMalloc2(count * P, &ck_ov, count * P, &ck_raw));
  PetscCall(RmModelReadout(app->model, x, app->r));
  PetscCall(RmModelNeuronsFromState(app->model, x, xn));
  for (PetscInt b = 0; b < count; b++) {
    TrialResult *res = &app->results[t0 + b];
    res->stats       = stats; /* the batch's counts */
    tw               = RmWallTime();
    PetscCall(PetscLogStagePush(RM_EVENTS.stage_classify));
    PetscCall(RmAppColumnView_Private(app->col0, app->r, b, PETSC_TRUE));
    PetscCall(RmClassifierComputeOverlaps(app->cl, app->col0, &ov));
    PetscCall(RmAppColumnView_Private(app->col0, app->r, b, PETSC_FALSE));
    PetscCall(RmClassifierLabel(app->cl, &ov, res->cue_memory, stats.converged, &res->label, &res->nearest));
    PetscCall(PetscLogStagePop());
    app->t_classify += RmWallTime() - tw;
    res->overlap           = ov.normalised[res->nearest];
    res->overlap_cue       = ov.normalised[res->cue_memory];
    res->overlap_raw       = ov.raw[res->cue_memory];
    res->overlap_uncentred = ov.uncentred[res->cue_memory];
    res->amplitude         = ov.amplitude[res->nearest];
    if (app->ck) {
      PetscCall(PetscArraycpy(ck_ov + b * P, ov.normalised, P));
      PetscCall(PetscArraycpy(ck_raw + b * P, ov.raw, P));
      if (app->has_output) {
        PetscCall(RmAppColumnView_Private(app->col1, xn, b, PETSC_TRUE));
        PetscCall(RmCheckpointSetTrialFinalState(app->ck, t0 + b, app->col1));
        PetscCall(RmAppColumnView_Private(app->col1, xn, b, PETSC_FALSE));
      }
    }
    if (app->out) {
      tw = RmWallTime();
      PetscCall(PetscLogStagePush(RM_EVENTS.stage_output));
      PetscCall(RmAppColumnView_Private(app->col0, x0n, b, PETSC_TRUE));
      PetscCall(RmAppColumnView_Private(app->col1, xn, b, PETSC_TRUE));
      PetscCall(RmOutputWriteTrial(app->out, t0 + b, app->col0, app->col1, ov.normalised, ov.raw));
      PetscCall(RmAppColumnView_Private(app->col0, x0n, b, PETSC_FALSE));
      PetscCall(RmAppColumnView_Private(app->col1, xn, b, PETSC_FALSE));
      PetscCall(PetscLogStagePop());
      app->t_output += RmWallTime() - tw;
    }
  }
  if (app->ck) {
    PetscCall(CheckpointBatchDone(app, t0, count, ck_ov, ck_raw));
    PetscCall(PetscFree2(ck_ov, ck_raw));
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
  PetscCall(PetscPrintf(app->comm, ", integrator %s, %d rank%s\n\n", method, app->size, app->size > 1 ? "s" : ""));
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
                                   ", saturated %" PetscInt_FMT ", quiescent %" PetscInt_FMT ", spurious %" PetscInt_FMT ", unconverged %" PetscInt_FMT ")\n",
                        ok, app->trials, (double)ok / app->trials, ok, CountLabel(app, RM_LABEL_OTHER), CountLabel(app, RM_LABEL_SATURATED),
                        CountLabel(app, RM_LABEL_QUIESCENT), CountLabel(app, RM_LABEL_SPURIOUS), CountLabel(app, RM_LABEL_UNCONVERGED)));
  PetscCall(PetscPrintf(app->comm, "wall time (s): generate %.3f, assemble %.3f, integrate %.3f, classify %.3f, output %.3f, total %.3f\n",
                        app->t_generate, app->t_assemble, app->t_integrate, app->t_classify, app->t_output, app->t_total));
  PetscCall(PetscPrintf(app->comm, "peak memory: %.1f MB on the largest rank, %.1f MB in all (%.1f bytes per neuron); estimated %.1f MB per rank\n",
                        app->peak_max_rank / 1048576.0, app->peak_total / 1048576.0, app->peak_total / n, app->memory_estimate / 1048576.0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The settings of the run: model, network, cue, integrator, overlap threshold. */
static PetscErrorCode WriteSummarySettings(App *app, RmJSON *j)
{
  RmIntegratorType method;
  PetscReal        rtol, atol, t_final, ctol, dt, thr;

  PetscFunctionBeginUser;
  PetscCall(RmAppJSONModel_Private(j, app->model, app->syn, PETSC_FALSE));
  PetscCall(RmAppJSONNetwork_Private(j, app->mem, app->syn));
  PetscCall(RmJSONBeginObject(j, "cue"));
  PetscCall(RmJSONString(j, "kind", RmCueKinds[app->cue.kind]));
  PetscCall(RmJSONReal(j, "flip", app->cue.flip));
  PetscCall(RmJSONInt(j, "mixture_count", app->cue.mixture_count));
  PetscCall(RmJSONReal(j, "keep", app->cue.keep));
  PetscCall(RmJSONEndObject(j));
  PetscCall(RmIntegratorGetType(app->integ, &method));
  PetscCall(RmIntegratorGetTolerances(app->integ, &rtol, &atol));
  PetscCall(RmIntegratorGetSettings(app->integ, &t_final, &ctol, &dt));
  PetscCall(RmJSONBeginObject(j, "integrator"));
  PetscCall(RmJSONString(j, "method", method));
  PetscCall(RmJSONReal(j, "rtol", rtol));
  PetscCall(RmJSONReal(j, "atol", atol));
  PetscCall(RmJSONReal(j, "t_final", t_final));
  PetscCall(RmJSONReal(j, "converge_tol", ctol));
  PetscCall(RmJSONInt(j, "batch", app->batch));
  {
    PetscBool fixed;
    PetscCall(RmIntegratorIsFixedStep(app->integ, &fixed));
    if (fixed) PetscCall(RmJSONReal(j, "dt", dt)); /* euler, em */
  }
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

/* Collective. Each rank's host name, gathered on rank 0 (*hosts: size blocks of MPI_MAX_PROCESSOR_NAME
   chars there, NULL elsewhere): the summary's "hosts" says where the ranks ran, e.g. on how many nodes. */
static PetscErrorCode GatherHosts(App *app, char **hosts)
{
  char        name[MPI_MAX_PROCESSOR_NAME] = {0};
  int         len;
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  *hosts = NULL;
  PetscCallMPI(MPI_Comm_rank(app->comm, &rank));
  PetscCallMPI(MPI_Get_processor_name(name, &len));
  name[MPI_MAX_PROCESSOR_NAME - 1] = 0;
  if (!rank) PetscCall(PetscCalloc1((size_t)app->size * MPI_MAX_PROCESSOR_NAME, hosts));
  PetscCallMPI(MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, *hosts, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, app->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  App  *app;
  char *hosts; /* rank 0: the gathered host names */
} SummaryCtx;

/* Rank 0 (RmWriteFileAtomic): the JSON summary into fp. */
static PetscErrorCode WriteSummaryJSON(void *ctx, FILE *fp)
{
  App     *app   = ((SummaryCtx *)ctx)->app;
  char    *hosts = ((SummaryCtx *)ctx)->hosts;
  RmJSON   j;
  PetscInt ok = CountLabel(app, RM_LABEL_RETRIEVED);

  PetscFunctionBeginUser;
  PetscCall(RmJSONBegin(&j, fp));
  PetscCall(RmJSONString(&j, "ratemem_version", RATEMEM_VERSION));
  PetscCall(RmJSONString(&j, "command", "retrieve"));
  PetscCall(RmJSONInt(&j, "ranks", app->size));
  PetscCall(RmJSONBeginArray(&j, "hosts"));
  for (PetscMPIInt r = 0; r < app->size; r++) PetscCall(RmJSONString(&j, NULL, hosts + (size_t)r * MPI_MAX_PROCESSOR_NAME));
  PetscCall(RmJSONEndArray(&j));
  PetscCall(WriteSummarySettings(app, &j));
  PetscCall(WriteSummaryTrials(app, &j));
  PetscCall(RmJSONReal(&j, "retrieval_rate", (PetscReal)ok / app->trials));
  {
    PetscReal passes = 0; /* each batch's products are shared by its trials */
    for (PetscInt t = 0; t < app->trials; t += app->batch) passes += (PetscReal)app->results[t].stats.weight_products;
    PetscCall(RmJSONReal(&j, "weight_passes_per_trial", passes / app->trials));
  }
  PetscCall(RmJSONBeginObject(&j, "counts"));
  for (RmLabel l = RM_LABEL_RETRIEVED; l < RM_LABEL_COUNT; l++) PetscCall(RmJSONInt(&j, RmLabels[l], CountLabel(app, l)));
  PetscCall(RmJSONEndObject(&j));
  PetscCall(RmJSONBeginObject(&j, "memory"));
  PetscCall(RmJSONReal(&j, "peak_rss_max_rank", app->peak_max_rank));
  PetscCall(RmJSONReal(&j, "peak_rss_total", app->peak_total));
  PetscCall(RmJSONReal(&j, "estimate_per_rank", app->memory_estimate));
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
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteSummary(App *app)
{
  SummaryCtx ctx = {app, NULL};

  PetscFunctionBeginUser;
  PetscCall(GatherHosts(app, &ctx.hosts));
  PetscErrorCode ierr = RmWriteFileAtomic(app->comm, app->summary, WriteSummaryJSON, &ctx); /* src/io/atomic.c */
  PetscCall(PetscFree(ctx.hosts));
  PetscCall(ierr);
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

/* Rank 0 (RmWriteFileAtomic): the overlap history CSV into fp. */
static PetscErrorCode WriteHistoryCSV(void *ctx, FILE *fp)
{
  App     *app = (App *)ctx;
  PetscInt P;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(app->mem, NULL, &P));
  fprintf(fp, "t,presentation");
  for (PetscInt mu = 0; mu < P; mu++) fprintf(fp, ",m_%" PetscInt_FMT, mu);
  fprintf(fp, "\n");
  for (PetscInt k = 0; k < app->hist_rows; k++) {
    const PetscReal *row = app->hist + k * (P + 2);
    fprintf(fp, "%.10g,%d", (double)row[0], (int)row[1]);
    for (PetscInt mu = 0; mu < P; mu++) fprintf(fp, ",%.6f", (double)row[2 + mu]);
    fprintf(fp, "\n");
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteHistory(App *app)
{
  PetscFunctionBeginUser;
  PetscCall(RmWriteFileAtomic(app->comm, app->history, WriteHistoryCSV, app)); /* src/io/atomic.c */
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
  if (app->has_schedule) PetscCall(RmScheduleParse(app->comm, app->schedule_spec, P, &app->schedule));
  if (app->has_input_file) PetscCall(RmScheduleSetInputFile(app->mem, app->input_file, app->input_dataset, &app->schedule));
  PetscCall(RmModelSetInputMemories(app->model, app->mem)); /* §7 rate variant: W(u) from the memories (no-op otherwise) */
  PetscCall(RmClassifierGetThreshold(app->cl, &thr));
  PetscCall(RmModelGetInputMode(app->model, &mode));
  PetscCall(RmIntegratorGetType(app->integ, &method));
  PetscCall(RmIntegratorGetNoise(app->integ, &sigma, NULL));
  PetscCall(PetscMalloc2(P, &c, P, &app->m));
  PetscCall(RmModelCreateState(app->model, &x));
  PetscCall(RmModelCreateNeuronVec(app->model, &u));
  {
    PetscErrorCode ierr = PETSC_SUCCESS; /* check every item before integrating; a bad one leaks nothing */
    for (PetscInt k = 0; k < app->schedule.count && !ierr; k++)
      ierr = RmScheduleGetInput(app->mem, &app->schedule, k, (uint64_t)seed, app->weights, app->nweights, u, c);
    if (ierr) {
      PetscCall(VecDestroy(&x));
      PetscCall(VecDestroy(&u));
      PetscCall(PetscFree2(c, app->m));
      PetscCall(ierr);
    }
  }
  PetscCall(RmInputInitialState(app->mem, (uint64_t)seed, x));
  PetscCall(RmIntegratorSetStepCallback(app->integ, RecordHistory, app));
  if (!app->quiet) {
    PetscCall(PetscPrintf(app->comm, "ratemem retrieve (input schedule): n = %" PetscInt_FMT ", P = %" PetscInt_FMT ", input %s, integrator %s, noise %g, %d rank%s\n\n", n, P,
                          RmInputModes[mode], method, (double)sigma, app->size, app->size > 1 ? "s" : ""));
    PetscCall(PetscPrintf(app->comm, "%4s %-12s %8s %8s %7s %8s %8s %8s %-10s\n", "pres", "input", "duration", "dominant", "nearest", "overlap", "m_dom", "steps", "label"));
  }
  app->t_offset = 0;
  for (PetscInt k = 0; k < app->schedule.count; k++) {
    const RmPresentation *pr  = &app->schedule.items[k];
    PetscInt              dom = -1, best = 0;
    char                  name[32];

    PetscCall(RmScheduleGetInput(app->mem, &app->schedule, k, (uint64_t)seed, app->weights, app->nweights, u, c));
    if (pr->kind != RM_PRESENT_OFF) {
      dom = 0;
      for (PetscInt mu = 1; mu < P; mu++)
        if (c[mu] > c[dom]) dom = mu;
    }
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
    PetscInt nabove = 0; /* a union of memories (every overlap high) is not a retrieval */
    for (PetscInt mu = 0; mu < P; mu++) nabove += app->m[mu] >= thr;
    PetscBool ok = (PetscBool)(dom >= 0 && best == dom && app->m[best] >= thr && nabove == 1);
    PetscReal mmax = 0; /* every overlap near 0: the quiescent state, not a mixture */
    for (PetscInt mu = 0; mu < P; mu++) mmax = PetscMax(mmax, PetscAbsReal(app->m[mu]));
    const char *what = ok ? "retrieved" : (dom < 0 ? "-" : (mmax < 1 - thr ? "quiescent" : (app->m[best] >= thr && nabove == 1 ? "other" : "mixture")));
    retrieved += ok;
    PetscCall(RmScheduleGetItemName(&app->schedule, k, name, sizeof(name)));
    if (!app->quiet)
      PetscCall(PetscPrintf(app->comm, "%4" PetscInt_FMT " %-12s %8.3g %8" PetscInt_FMT " %7" PetscInt_FMT " %8.4f %8.4f %8" PetscInt64_FMT " %-10s\n", k, name,
                            (double)pr->duration, dom, best, (double)app->m[best], dom >= 0 ? (double)app->m[dom] : 0.0, st.steps,
                            what));
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
  /* before the (possibly long) set-up: a signal during it stops the run at the first step boundary */
  if (app->has_checkpoint) PetscCall(RmCheckpointInstallSignalHandlers());
  PetscCall(AppSetUp(app));
  PetscCall(RmMemoriesGetSizes(app->mem, &n, &P));
  PetscCall(RmModelCreateState(app->model, &app->x0s));
  PetscCall(VecDuplicate(app->x0s, &app->xs));
  x0 = app->x0s;
  x  = app->xs;
  if (app->has_checkpoint || app->has_restart) PetscCall(CheckpointSetUp(app, x)); /* a restart loads the state in progress into x */
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
    if (app->progress.completed) PetscCall(WriteCompletedOutput(app));
  }
  if (app->has_schedule || app->has_input_file) {
    PetscCall(VecDestroy(&app->x0s));
    PetscCall(VecDestroy(&app->xs));
    PetscCall(RunSchedule(app));
    app->t_total = RmWallTime() - t0;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt t = app->progress.completed; t < app->trials && !app->stopped; t += app->batch)
    PetscCall(RunBatch(app, t, PetscMin(app->batch, app->trials - t), x0, x, (PetscBool)(t == app->progress.completed && app->progress.in_progress)));
  PetscCall(VecDestroy(&app->x0s));
  PetscCall(VecDestroy(&app->xs));
  if (app->stopped) { /* checkpointed on a signal: no outputs (the partial HDF5 file is removed), exit status 3; the trial
                         printed is the index of the one in progress (or next), counted from 0 as in the table */
    PetscCall(PetscPrintf(app->comm, "ratemem: checkpointed at t = %.10g (trial %" PetscInt_FMT " of %" PetscInt_FMT ") to %s; resume with -restart %s\n", (double)app->stop_t,
                          app->batch_t0, app->trials, app->checkpoint, app->checkpoint));
    RmCheckpointSetExitStatus(RM_EXIT_CHECKPOINTED);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
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
  PetscCall(RmCheckpointDestroy(&app->ck));
  PetscCall(RmCheckpointRestoreSignalHandlers());
  PetscCall(VecDestroy(&app->x0s));
  PetscCall(VecDestroy(&app->xs));
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
