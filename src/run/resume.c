/* Checkpoint and restart of the trial loop (include/ratemem/checkpoint.h): the run's identity, the
   results of completed trials as the checkpoint's columns, the step hook that checkpoints a batch in
   progress, and the restart that continues where a signalled run stopped. */
#include "runimpl.h"
#include <stdlib.h>
#include <string.h>

/* The results of a completed trial as the checkpoint's columns: everything the summary, the table and
   the HDF5 output need, so a resumed run reports what an uninterrupted one would (wall times aside). */
#define CK_INT_NAMES \
  "cue_memory,nearest,label,converged,steps,rhs_evals,jtimes_evals,jac_setups,nonlin_iters,lin_iters,err_test_fails,nonlin_conv_fails,lin_conv_fails," \
  "prec_setups,prec_solves,weight_products"
#define CK_NINT       16
#define CK_REAL_NAMES "overlap,overlap_cue,overlap_raw,overlap_uncentred,amplitude,t_end,residual,wall_time"
#define CK_NREAL      8

PetscErrorCode RmRunSetCheckpoint(RmRun run, const char *path, PetscReal interval, const char *restart)
{
  PetscFunctionBeginUser;
  PetscCheck(!run->setup, run->comm, PETSC_ERR_ORDER, "set the checkpoint before RmRunSetUp()");
  PetscCall(RmCheckFinite(run->comm, "checkpoint_interval", interval));
  PetscCheck(interval >= 0, run->comm, PETSC_ERR_ARG_OUTOFRANGE, "checkpoint_interval must be >= 0, got %g", (double)interval);
  PetscCheck(!restart || strcmp(restart, "auto") || (path && path[0]), run->comm, PETSC_ERR_ARG_INCOMP,
             "-restart auto needs -checkpoint FILE (the file it resumes from when it exists)");
  PetscCall(PetscStrncpy(run->checkpoint, path ? path : "", sizeof(run->checkpoint)));
  PetscCall(PetscStrncpy(run->restart, restart ? restart : "", sizeof(run->restart)));
  run->checkpoint_interval = interval;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetCheckpointStopAfterSteps(RmRun run, PetscInt steps)
{
  PetscFunctionBeginUser;
  PetscCheck(steps >= 0 && (!steps || run->checkpoint[0]), run->comm, PETSC_ERR_ARG_INCOMP, "-checkpoint_stop_after_steps needs -checkpoint FILE and a count >= 0");
  run->stop_after_steps = steps;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void ResultToArrays(const RmTrialResult *r, PetscInt64 *i, PetscReal *x)
{
  const RmIntegratorStats *s = &r->stats;
  const PetscInt64         iv[CK_NINT] = {r->cue_memory, r->nearest, r->label, s->converged, s->steps, s->rhs_evals, s->jtimes_evals, s->jac_setups,
                                          s->nonlin_iters, s->lin_iters, s->err_test_fails, s->nonlin_conv_fails, s->lin_conv_fails, s->prec_setups,
                                          s->prec_solves, s->weight_products};
  const PetscReal          rv[CK_NREAL] = {r->overlap, r->overlap_cue, r->overlap_raw, r->overlap_uncentred, r->amplitude, s->t_end, s->residual, s->wall_time};
  for (int k = 0; k < CK_NINT; k++) i[k] = iv[k];
  for (int k = 0; k < CK_NREAL; k++) x[k] = rv[k];
}

static void ResultFromArrays(RmTrialResult *r, const PetscInt64 *i, const PetscReal *x)
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
static PetscErrorCode WriteCheckpoint(RmRun run, PetscInt completed, Vec state, PetscReal t, const RmIntegratorStats *so_far)
{
  RmCheckpointProgress pg = {0};

  PetscFunctionBeginUser;
  pg.completed   = completed;
  pg.in_progress = state ? PETSC_TRUE : PETSC_FALSE;
  pg.t           = t;
  if (so_far) pg.stats = *so_far;
  PetscCall(RmIntegratorGetNoiseStep(run->integ, &pg.noise_step));
  PetscCall(RmCheckpointWrite(run->ck, run->checkpoint, &pg, state, &run->layout));
  run->last_checkpoint = RmWallTime();
  run->stop_t          = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* What this process wants at a step or trial boundary: 1 checkpoint (interval elapsed), 2 checkpoint and
   stop (signal, or the testing step count). All ranks agree through one MPI_Allreduce. */
static PetscErrorCode CheckpointWanted(RmRun run, PetscBool at_step, int *want)
{
  PetscFunctionBeginUser;
  *want = 0;
  if (RmCheckpointSignalReceived() || (at_step && run->stop_after_steps > 0 && run->hook_steps >= run->stop_after_steps)) *want |= 2;
  if (run->checkpoint_interval > 0 && RmWallTime() - run->last_checkpoint >= run->checkpoint_interval) *want |= 1;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, want, 1, MPI_INT, MPI_BOR, run->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The integrator's step hook: at every step boundary of a batch in progress. */
static PetscErrorCode CheckpointHook(void *ctx, PetscReal t, PetscInt64 steps, Vec x, PetscBool *stop)
{
  RmRun             run = (RmRun)ctx;
  int               want;
  RmIntegratorStats so_far;

  PetscFunctionBeginUser;
  run->hook_steps++;
  PetscCall(CheckpointWanted(run, PETSC_TRUE, &want));
  if (!want) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmIntegratorGetProgress(run->integ, &so_far));
  PetscCall(WriteCheckpoint(run, run->batch_t0, x, t, &so_far));
  if (!(want & 2)) {
    PetscBool monitor;
    PetscCall(RmIntegratorGetMonitor(run->integ, &monitor));
    if (monitor)
      PetscCall(PetscFPrintf(run->comm, stderr, "[checkpoint] trial %" PetscInt_FMT ": t = %-10.4g steps = %-6" PetscInt64_FMT " written to %s\n", run->batch_t0,
                             (double)t, steps, run->checkpoint));
  }
  if (want & 2) {
    *stop        = PETSC_TRUE;
    run->stopped = PETSC_TRUE;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After a batch: record its results, then checkpoint (at every trial end with -checkpoint_interval 0,
   else when the interval has elapsed) and stop here when signalled and trials remain. */
PetscErrorCode RmRunCheckpointBatchDone_Private(RmRun run, PetscInt t0, PetscInt count, const PetscReal *ov, const PetscReal *ov_raw)
{
  PetscInt   P;
  PetscInt64 iv[CK_NINT];
  PetscReal  rv[CK_NREAL];
  int        want;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(run->mem, NULL, &P));
  for (PetscInt b = 0; b < count; b++) {
    ResultToArrays(&run->results[t0 + b], iv, rv);
    PetscCall(RmCheckpointSetTrial(run->ck, t0 + b, iv, rv, ov + b * P, ov_raw + b * P));
  }
  if (!run->checkpoint[0]) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(CheckpointWanted(run, PETSC_FALSE, &want));
  if (t0 + count == run->trials) want &= ~2; /* nothing left to do: finish and write the outputs */
  if (run->checkpoint_interval == 0) want |= 1;
  if (want) PetscCall(WriteCheckpoint(run, t0 + count, NULL, 0.0, NULL));
  if (want & 2) {
    run->stopped  = PETSC_TRUE;
    run->batch_t0 = t0 + count;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The identity of the run: the settings that determine its result, checked on a restart. */
static PetscErrorCode AddIdentity(RmRun run)
{
  /* options that do not change the result; '*' ends a prefix */
  static const char *const exclude[] = {"checkpoint", "checkpoint_interval", "checkpoint_stop_after_steps", "restart", "summary", "output", "quiet", "monitor",
                                        "monitor_every", "help", "log*", "malloc*", "options_*", "memory_view", "objects_dump", "info", "on_error*",
                                        "fp_trap", "no_signal_handler", "check_pointer_intensity", "viewer_*", "saws*", "history", "ratemem_view", NULL};
  RmCheckpoint             ck = run->ck;
  PetscInt                 n, P, K;
  PetscInt64               seed, noise_seed;
  RmPatternKind            pkind;
  RmDesignType             design;
  RmStorageType            storage;
  RmModelType              mtype;
  RmIntegratorType         method;
  PetscReal                rtol, atol, t_final, ctol, dt, sigma, thr;
  char                     b[32];

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(run->mem, &n, &P));
  PetscCall(RmMemoriesGetSeed(run->mem, &seed));
  PetscCall(RmMemoriesGetKind(run->mem, &pkind));
  PetscCall(RmSynapsesGetDesignType(run->syn, &design));
  PetscCall(RmSynapsesGetType(run->syn, &storage));
  PetscCall(RmSynapsesGetIndegree(run->syn, &K));
  PetscCall(RmModelGetType(run->model, &mtype));
  PetscCall(RmIntegratorGetType(run->integ, &method));
  PetscCall(RmIntegratorGetTolerances(run->integ, &rtol, &atol));
  PetscCall(RmIntegratorGetSettings(run->integ, &t_final, &ctol, &dt));
  PetscCall(RmIntegratorGetNoise(run->integ, &sigma, &noise_seed));
  PetscCall(RmClassifierGetThreshold(run->cl, &thr));
  PetscCall(RmCheckpointAddIdentity(ck, "n", "%" PetscInt_FMT, n));
  PetscCall(RmCheckpointAddIdentity(ck, "memories", "%" PetscInt_FMT, P));
  PetscCall(RmCheckpointAddIdentity(ck, "seed", "%" PetscInt64_FMT, seed));
  PetscCall(RmCheckpointAddIdentity(ck, "trials", "%" PetscInt_FMT, run->trials));
  PetscCall(RmCheckpointAddIdentity(ck, "batch", "%" PetscInt_FMT, run->batch));
  PetscCall(RmCheckpointAddIdentity(ck, "state units", "%" PetscInt_FMT, run->layout.n + run->layout.m));
  PetscCall(RmCheckpointAddIdentity(ck, "patterns", "%s", RmPatternKinds[pkind]));
  PetscCall(RmCheckpointAddIdentity(ck, "design", "%s", RmDesignTypes[design]));
  PetscCall(RmCheckpointAddIdentity(ck, "storage", "%s", storage));
  PetscCall(RmCheckpointAddIdentity(ck, "indegree", "%" PetscInt_FMT, K));
  PetscCall(RmCheckpointAddIdentity(ck, "model", "%s", mtype));
  PetscCall(RmCheckpointAddIdentity(ck, "cue", "%s", RmCueKinds[run->cue.kind]));
  PetscCall(RmCheckpointAddIdentity(ck, "flip", "%s", ExactReal(b, run->cue.flip)));
  PetscCall(RmCheckpointAddIdentity(ck, "mixture_count", "%" PetscInt_FMT, run->cue.mixture_count));
  PetscCall(RmCheckpointAddIdentity(ck, "keep", "%s", ExactReal(b, run->cue.keep)));
  PetscCall(RmCheckpointAddIdentity(ck, "integrator", "%s", method));
  PetscCall(RmCheckpointAddIdentity(ck, "rtol", "%s", ExactReal(b, rtol)));
  PetscCall(RmCheckpointAddIdentity(ck, "atol", "%s", ExactReal(b, atol)));
  PetscCall(RmCheckpointAddIdentity(ck, "t_final", "%s", ExactReal(b, t_final)));
  PetscCall(RmCheckpointAddIdentity(ck, "converge_tol", "%s", ExactReal(b, ctol)));
  PetscCall(RmCheckpointAddIdentity(ck, "euler_dt", "%s", ExactReal(b, dt)));
  PetscCall(RmCheckpointAddIdentity(ck, "noise", "%s", ExactReal(b, sigma)));
  PetscCall(RmCheckpointAddIdentity(ck, "noise_seed", "%" PetscInt64_FMT, noise_seed));
  PetscCall(RmCheckpointAddIdentity(ck, "overlap_threshold", "%s", ExactReal(b, thr)));
  PetscCall(RmCheckpointAddOptionsIdentity(ck, exclude));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Load the checkpoint at path: the completed trials' results, and the batch in progress into run->x. */
static PetscErrorCode Restart(RmRun run, const char *path)
{
  PetscInt64 iv[CK_NINT];
  PetscReal  rv[CK_NREAL];

  PetscFunctionBeginUser;
  PetscCall(RmCheckpointLoad(run->ck, path, &run->progress, run->x, &run->layout));
  for (PetscInt t = 0; t < run->progress.completed; t++) {
    PetscCall(RmCheckpointGetTrial(run->ck, t, iv, rv, NULL, NULL));
    ResultFromArrays(&run->results[t], iv, rv);
  }
  PetscCall(RmIntegratorSetNoiseStep(run->integ, run->progress.noise_step));
  if (run->quiet) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscPrintf(run->comm, "ratemem: resuming from %s: %" PetscInt_FMT " of %" PetscInt_FMT " trials done", path, run->progress.completed, run->trials));
  if (run->progress.in_progress)
    PetscCall(PetscPrintf(run->comm, ", trial %" PetscInt_FMT " continues at t = %.10g (step %" PetscInt64_FMT ")", run->progress.completed, (double)run->progress.t,
                          run->progress.stats.steps));
  PetscCall(PetscPrintf(run->comm, "\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunCheckpointSetUp_Private(RmRun run)
{
  PetscInt P;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(run->mem, NULL, &P));
  PetscCall(RmCheckpointLayoutFromModel(run->model, &run->layout));
  PetscCall(RmCheckpointCreate(run->comm, run->trials, P, CK_NINT, CK_INT_NAMES, CK_NREAL, CK_REAL_NAMES, &run->ck));
  PetscCall(AddIdentity(run));
  PetscCall(RmRunCheckpointAttributes_Private(run)); /* a checkpoint describes its run as the output does */
  if (run->output[0]) PetscCall(RmCheckpointSetStoreFinalStates(run->ck, run->layout.nloc));
  if (run->restart[0]) {
    PetscBool   exists = PETSC_TRUE;
    const char *path   = run->restart;
    if (!strcmp(run->restart, "auto")) {
      path = run->checkpoint;
      PetscCall(RmFileExists(run->comm, path, &exists));
      if (!exists && !run->quiet) PetscCall(PetscPrintf(run->comm, "ratemem: no checkpoint %s yet (-restart auto): starting afresh\n", path));
    }
    if (exists) PetscCall(Restart(run, path));
  }
  if (run->checkpoint[0]) { /* (the signal handlers are already installed, see RmRunSetUp) */
    PetscCall(RmIntegratorSetStepHook(run->integ, CheckpointHook, run));
    run->last_checkpoint = RmWallTime();
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -output on a resumed run: the rows of the trials completed before, from the checkpoint (the initial
   state is the cue, regenerated; the final state and the overlaps are stored). */
PetscErrorCode RmRunWriteCompletedOutput_Private(RmRun run)
{
  PetscInt   P, cue_memory;
  PetscReal *ov, *ov_raw;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(run->mem, NULL, &P));
  PetscCall(PetscMalloc2(P, &ov, P, &ov_raw));
  for (PetscInt t = 0; t < run->progress.completed; t++) {
    PetscCall(RmVecColumnView(run->col0, run->x0n, 0, PETSC_TRUE));
    PetscCall(RmVecColumnView(run->col1, run->xn, 0, PETSC_TRUE));
    PetscCall(RmMemoriesCreateCue(run->mem, &run->cue, t, run->col0, &cue_memory));
    PetscCall(RmCheckpointGetTrialFinalState(run->ck, t, run->col1));
    PetscCall(RmCheckpointGetTrial(run->ck, t, NULL, NULL, ov, ov_raw));
    PetscCall(RmOutputWriteTrial(run->out, t, run->col0, run->col1, ov, ov_raw));
    PetscCall(RmVecColumnView(run->col0, run->x0n, 0, PETSC_FALSE));
    PetscCall(RmVecColumnView(run->col1, run->xn, 0, PETSC_FALSE));
  }
  PetscCall(PetscFree2(ov, ov_raw));
  PetscFunctionReturn(PETSC_SUCCESS);
}
