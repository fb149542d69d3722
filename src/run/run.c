/* The trial runner (include/ratemem/run.h): set-up of the pipeline of docs/design.md, memories ->
   synapses -> model -> integrator -> classifier, and the one loop over trials that every subcommand
   uses: B cues, one integration of the block, then the overlaps and label of each column. */
#include "runimpl.h"
#include <string.h>

PetscErrorCode RmRunCreate(MPI_Comm comm, RmRun *run)
{
  RmRun r;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&r));
  r->comm   = comm;
  r->trials = 10;
  r->batch  = 1;
  r->cue    = (RmCueOptions){RM_CUE_FLIP, 0.1, 3, 0.6};
  PetscCallMPI(MPI_Comm_size(comm, &r->size));
  *run = r;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetFromOptions(RmRun run)
{
  RmDesignType design;
  RmModelType  mtype;
  RmEncoding   enc;

  PetscFunctionBeginUser;
  PetscCheck(!run->mem, run->comm, PETSC_ERR_ORDER, "RmRunSetFromOptions() may be called once");
  PetscCall(RmMemoryLimitSetFromOptions(run->comm)); /* -memory_limit (src/sys/memory.c) */
  PetscCall(RmProgressSetFromOptions(run->comm));    /* -progress_interval (src/sys/progress.c) */
  PetscCall(RmSynapsesCreate(run->comm, &run->syn));
  if (run->storage[0]) { /* before SetFromOptions: the type's own options are read there, and checked with K */
    PetscCall(RmSynapsesSetType(run->syn, run->storage));
    PetscCall(RmSynapsesSetIndegree(run->syn, run->indegree));
  }
  PetscCall(RmSynapsesSetFromOptions(run->syn));
  if (run->design_set) PetscCall(RmSynapsesSetDesignType(run->syn, run->design));
  PetscCall(RmSynapsesGetDesignType(run->syn, &design));
  PetscCall(RmDesignTypeGetModel(design, &mtype, &enc)); /* paper: rate model, {0,1}; hebbian: voltage form, ±1 */
  PetscCall(RmMemoriesCreate(run->comm, &run->mem));
  PetscCall(RmMemoriesSetEncoding(run->mem, enc));
  PetscCall(RmMemoriesSetFromOptions(run->mem));
  PetscCall(RmModelCreate(run->comm, &run->model));
  PetscCall(RmModelSetType(run->model, mtype));
  PetscCall(RmModelSetFromOptions(run->model));
  PetscCall(RmIntegratorCreate(run->comm, &run->integ));
  PetscCall(RmIntegratorSetFromOptions(run->integ));
  PetscCall(RmClassifierCreate(run->mem, &run->cl));
  PetscCall(RmClassifierSetFromOptions(run->cl));
  PetscCall(RmCueOptionsSetFromOptions(run->comm, &run->cue));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetDesignType(RmRun run, RmDesignType design)
{
  PetscFunctionBeginUser;
  PetscCheck(!run->mem, run->comm, PETSC_ERR_ORDER, "set the design before RmRunSetFromOptions()");
  run->design     = design;
  run->design_set = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetStorage(RmRun run, RmStorageType storage, PetscInt indegree)
{
  PetscFunctionBeginUser;
  PetscCheck(!run->mem, run->comm, PETSC_ERR_ORDER, "set the storage before RmRunSetFromOptions()");
  PetscCall(PetscStrncpy(run->storage, storage, sizeof(run->storage)));
  run->indegree = indegree;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetTrials(RmRun run, PetscInt trials)
{
  PetscFunctionBeginUser;
  PetscCheck(!run->setup, run->comm, PETSC_ERR_ORDER, "set the trials before RmRunSetUp()");
  PetscCheck(trials > 0, run->comm, PETSC_ERR_ARG_OUTOFRANGE, "trials must be > 0, got %" PetscInt_FMT, trials);
  run->trials = trials;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetBatch(RmRun run, PetscInt batch)
{
  PetscFunctionBeginUser;
  PetscCheck(!run->setup, run->comm, PETSC_ERR_ORDER, "set the batch before RmRunSetUp()");
  PetscCheck(batch > 0, run->comm, PETSC_ERR_ARG_OUTOFRANGE, "batch must be > 0, got %" PetscInt_FMT, batch);
  run->batch = batch;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunGetTrials(RmRun run, PetscInt *trials, PetscInt *batch)
{
  PetscFunctionBeginUser;
  if (trials) *trials = run->trials;
  if (batch) *batch = PetscMin(run->batch, run->trials);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetCue(RmRun run, const RmCueOptions *cue)
{
  PetscFunctionBeginUser;
  run->cue = *cue;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunGetCue(RmRun run, RmCueOptions *cue)
{
  PetscFunctionBeginUser;
  *cue = run->cue;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunGetObjects(RmRun run, RmMemories *mem, RmSynapses *syn, RmModel *model, RmIntegrator *integ, RmClassifier *cl)
{
  PetscFunctionBeginUser;
  if (mem) *mem = run->mem;
  if (syn) *syn = run->syn;
  if (model) *model = run->model;
  if (integ) *integ = run->integ;
  if (cl) *cl = run->cl;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetTrialCallback(RmRun run, RmRunTrialFn fn, void *ctx)
{
  PetscFunctionBeginUser;
  if (run->setup && run->x0n == run->x) { /* the cue shared x's storage (CreateStates): the callback reads it after the integration */
    PetscCall(VecDestroy(&run->x0n));
    PetscCall(VecDestroy(&run->x0));
    PetscCall(VecDuplicate(run->x, &run->x0n));
    PetscCall(VecDuplicate(run->x, &run->x0));
  }
  run->trial_fn  = fn;
  run->trial_ctx = ctx;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetOutput(RmRun run, const char *path)
{
  PetscFunctionBeginUser;
  PetscCheck(path && path[0], run->comm, PETSC_ERR_ARG_WRONG, "-output needs a file name");
  PetscCall(PetscStrncpy(run->output, path, sizeof(run->output)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetQuiet(RmRun run, PetscBool quiet)
{
  PetscFunctionBeginUser;
  run->quiet = quiet;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -monitor, on stderr: the trial (batch) in progress (counted from 0, as in the table), time reached, steps, the integrator's residual
   against -converge_tol, the best overlap so far of the batch's first trial, and the time left at the
   pace of the trials finished so far. */
static PetscErrorCode MonitorProgress(void *ctx, PetscReal t, PetscInt64 steps, Vec x)
{
  RmRun             run = (RmRun)ctx;
  RmOverlaps        ov;
  RmIntegratorStats st;
  PetscReal         t_final, ctol, dt;
  PetscInt          P, best = 0, done = run->current_trial - run->progress.completed;
  char              eta[64] = "";

  PetscFunctionBeginUser;
  PetscCall(RmModelReadout(run->model, x, run->r));
  PetscCall(RmVecColumnView(run->col0, run->r, 0, PETSC_TRUE));
  PetscCall(RmClassifierComputeOverlaps(run->cl, run->col0, &ov));
  PetscCall(RmVecColumnView(run->col0, run->r, 0, PETSC_FALSE));
  PetscCall(RmMemoriesGetSizes(run->mem, NULL, &P));
  for (PetscInt mu = 1; mu < P; mu++)
    if (ov.normalised[mu] > ov.normalised[best]) best = mu;
  PetscCall(RmIntegratorGetProgress(run->integ, &st));
  PetscCall(RmIntegratorGetSettings(run->integ, &t_final, &ctol, &dt));
  if (done > 0) PetscCall(PetscSNPrintf(eta, sizeof(eta), ", ETA %.1f s", (RmWallTime() - run->t_solve0) / done * (run->trials - run->current_trial)));
  PetscCall(PetscFPrintf(run->comm, stderr,
                         "[monitor] trial %" PetscInt_FMT " of %" PetscInt_FMT ": t = %-10.4g steps = %-6" PetscInt64_FMT " residual %.2e (tol %.0e) best overlap %.4f (memory %" PetscInt_FMT ")%s\n",
                         run->current_trial, run->trials, (double)t, steps, (double)st.residual, (double)ctol, (double)ov.normalised[best], best, eta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether anything reads the cue after the integration (an output, a callback, a checkpoint): then
   it cannot share the state's storage (CreateStates). */
static PetscBool KeepCue(RmRun run)
{
  return (PetscBool)(run->output[0] || run->trial_fn || run->checkpoint[0] || run->restart[0]);
}

/* The state-sized vectors CreateStates makes: x, and the views that cannot be x itself. */
static PetscErrorCode RunStateVectors(RmRun run, PetscInt64 *count)
{
  PetscBool state_is_neurons, readout_is_neurons;

  PetscFunctionBeginUser;
  PetscCall(RmModelGetStateLayout(run->model, &state_is_neurons, &readout_is_neurons));
  *count = state_is_neurons && !KeepCue(run) ? 1 : 4;
  if (!readout_is_neurons) (*count)++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Once the memories exist (n and P are known, also from a file) and before anything large is
   allocated: the peak per rank estimated, and refused when it cannot fit (src/sys/memory.c). trial
   holds what the caller keeps per trial (trials, bytes on every rank, bytes per local neuron) and its
   own state-sized vectors (RunStateVectors). */
static PetscErrorCode CheckMemory(RmMemories mem, RmSynapses syn, RmModel model, RmIntegrator integ, PetscInt batch, const PetscInt64 trial[4],
                                  PetscReal *estimate)
{
  RmMemoryPlan     plan = {0};
  PetscInt         n, P, K, vectors, model_vectors;
  PetscBool        factored, euler_step, fused, fixed;
  RmStorageType    storage;
  RmJacobianForm   form;
  MPI_Comm         comm;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetComm(mem, &comm));
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmSynapsesGetType(syn, &storage));
  PetscCall(RmSynapsesGetIndegree(syn, &K));
  PetscCall(RmModelGetJacobianForm(model, &form));
  PetscCall(RmIntegratorGetStateVectorCount(integ, &vectors));
  PetscCall(RmSynapsesIsFactored(syn, &factored));
  PetscCall(RmIntegratorUsesEulerStep(integ, &euler_step));
  PetscCall(RmModelCanFuseEulerStep(model, factored, &fused));
  fused = (PetscBool)(fused && euler_step && batch == 1);
  PetscCall(RmIntegratorIsFixedStep(integ, &fixed));
  PetscCall(RmModelGetWorkVectorCount(model, (PetscBool)!fixed, fused, &model_vectors));
  if (fused) vectors = 0; /* the caller's state is the only vector */
  if (trial && trial[3] > 0) plan.state_vectors = model_vectors + trial[3];
  if (factored) { /* the kernel's copy: the table kernels' neuron-major bytes besides the pattern-major words */
    const char *kernel;
    PetscBool   table;
    PetscCall(RmSynapsesGetKernelName(syn, &kernel));
    PetscCall(PetscStrcmp(kernel, "table", &table));
    plan.bit_copies = table ? 2 : 1;
  }
  plan.n = n, plan.P = P, plan.K = K, plan.batch = batch;
  plan.integrator_vectors = PetscMin(vectors, n + 16); /* a Krylov basis larger than n is refused by the integrator's set-up, by name */
  plan.storage            = storage;
  if (form == RM_JACOBIAN_POOLS) { /* the pools' units are part of the state */
    PetscInt pool_size;
    PetscCall(RmModelGetInhibition(model, NULL, &pool_size));
    plan.extra_units = (PetscInt64)(P + 1) * pool_size;
  }
  if (trial) plan.trials = trial[0], plan.bytes_per_trial = trial[1], plan.local_bytes_per_trial = trial[2];
  PetscCall(RmMemoryEstimate(comm, &plan, estimate));
  if (plan.bit_copies == 2) { /* the table kernel's copy of the bits may be what does not fit */
    PetscBool fits, fits_one;
    PetscReal one;
    plan.bit_copies = 1;
    PetscCall(RmMemoryEstimate(comm, &plan, &one));
    PetscCall(RmMemoryFits(comm, *estimate, &fits));
    PetscCall(RmMemoryFits(comm, one, &fits_one));
    PetscCheck(fits || !fits_one, comm, PETSC_ERR_MEM,
               "this run needs about %.3g GB per rank with the table kernel's copy of the memories' bits, more than is available; -lowrank_kernel avx2 keeps one copy (about %.3g GB per rank)",
               *estimate / 1e9, one / 1e9);
  }
  PetscCall(RmMemoryCheck(comm, *estimate));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Generate (or load) the memories, check the memory estimate, compute the design and W at the model's
   activation, set up the model for batch B: the assembly stages. */
static PetscErrorCode SetUpWeights(RmMemories mem, RmSynapses syn, RmModel model, RmIntegrator integ, PetscInt batch, const PetscInt64 trial[4],
                                   PetscReal *estimate, double *t_generate, double *t_assemble)
{
  RmActivation act;
  Mat          W;
  double       t0;

  PetscFunctionBeginUser;
  t0 = RmWallTime();
  PetscCall(PetscLogStagePush(RM_EVENTS.stage_generate));
  PetscCall(RmMemoriesSetUp(mem));
  PetscCall(PetscLogStagePop());
  PetscCall(CheckMemory(mem, syn, model, integ, batch, trial, estimate));
  if (t_generate) *t_generate = RmWallTime() - t0;
  t0 = RmWallTime();
  PetscCall(PetscLogStagePush(RM_EVENTS.stage_assemble));
  PetscCall(RmModelGetActivation(model, &act));
  PetscCall(RmSynapsesSetUp(syn, mem, &act)); /* §2 coefficients depend on φ */
  PetscCall(RmSynapsesGetMat(syn, &W));
  PetscCall(RmModelSetWeights(model, W));
  PetscCall(RmSynapsesRestoreMat(syn, &W));
  PetscCall(RmModelSetBatch(model, batch));
  PetscCall(RmModelSetUp(model));
  PetscCall(PetscLogStagePop());
  if (t_assemble) *t_assemble = RmWallTime() - t0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The integrator on the model, and the classifier with the design's rate scale. */
static PetscErrorCode SetUpSolvers(RmSynapses syn, RmModel model, RmIntegrator integ, RmClassifier cl)
{
  RmDesign design;

  PetscFunctionBeginUser;
  PetscCall(RmIntegratorSetModel(integ, model));
  PetscCall(RmSynapsesGetDesign(syn, &design));
  /* ‖W‖ on the memories' span and on 1 (docs/model.md §2), for -integrator auto's stiffness bound */
  PetscCall(RmIntegratorSetWeightScale(integ, design.weight_norm > 0 ? design.weight_norm /* projection: ‖W‖₂ computed */
                                                                     : PetscMax(PetscAbsReal(design.alpha_basic), PetscAbsReal(design.gamma))));
  PetscCall(RmIntegratorSetUp(integ));
  PetscCall(RmClassifierSetRateScale(cl, design.phi_a, design.phi_b));
  PetscCall(RmClassifierSetUp(cl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetUpNetwork(RmMemories mem, RmSynapses syn, RmModel model, RmIntegrator integ, RmClassifier cl, PetscInt batch, double *t_generate,
                                 double *t_assemble)
{
  PetscReal estimate;

  PetscFunctionBeginUser;
  PetscCall(SetUpWeights(mem, syn, model, integ, batch, NULL, &estimate, t_generate, t_assemble));
  PetscCall(SetUpSolvers(syn, model, integ, cl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetUpWeights(RmRun run)
{
  PetscFunctionBeginUser;
  PetscCheck(run->mem, run->comm, PETSC_ERR_ORDER, "call RmRunSetFromOptions() before RmRunSetUpWeights()");
  if (run->weights_setup) PetscFunctionReturn(PETSC_SUCCESS);
  run->t_start = RmWallTime();
  run->batch   = PetscMin(run->batch, run->trials);
  {
    /* per trial: the result, with a checkpoint its columns (16 integers, 8 reals) and overlaps, and with
       -checkpoint -output the final states */
    PetscInt   P;
    PetscBool  ck = (PetscBool)(run->checkpoint[0] || run->restart[0]);
    PetscInt64 trial[4];
    PetscCall(RmMemoriesGetSizes(run->mem, NULL, &P));
    trial[0] = run->trials;
    trial[1] = (PetscInt64)sizeof(RmTrialResult) + (ck ? 8 * (16 + 8 + 2 * (PetscInt64)P) : 0);
    trial[2] = ck && run->output[0] ? 8 : 0;
    PetscCall(RunStateVectors(run, &trial[3]));
    PetscCall(SetUpWeights(run->mem, run->syn, run->model, run->integ, run->batch, trial, &run->memory_estimate, &run->t_generate, &run->t_assemble));
  }
  { /* -monitor: the long stages of a large run report when they are done */
    PetscBool monitor;
    PetscCall(RmIntegratorGetMonitor(run->integ, &monitor));
    if (monitor)
      PetscCall(PetscFPrintf(run->comm, stderr, "[monitor] set-up: memories %.3f s, weights and model %.3f s, estimated peak %.1f MB per rank\n", run->t_generate,
                             run->t_assemble, run->memory_estimate / 1048576.0));
  }
  run->weights_setup = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunGetState(RmRun run, Vec *x)
{
  PetscFunctionBeginUser;
  *x = run->x;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The -output file with its patterns, and the rows of the trials a restart has done already. */
static PetscErrorCode OutputSetUp(RmRun run)
{
  PetscInt n, P, rstart, rend;
  uint8_t *row;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(run->mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(run->mem, &rstart, &rend));
  PetscCall(RmOutputCreate(run->comm, run->output, n, P, run->trials, &run->out));
  PetscCall(RmRunOutputAttributes_Private(run));
  PetscCall(PetscMalloc1(rend - rstart + 1, &row));
  for (PetscInt mu = 0; mu < P; mu++) {
    PetscCall(RmMemoriesGetLocalPattern(run->mem, mu, row));
    PetscCall(RmOutputWritePattern(run->out, mu, rstart, rend - rstart, row));
  }
  PetscCall(PetscFree(row));
  if (run->progress.completed) PetscCall(RmRunWriteCompletedOutput_Private(run));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The state x and its views: the cue x0n and its state x0, the final neurons xn and the readout r.
   A view is x itself where the model allows (the state is the neurons, the readout is them) and
   nothing needs the cue after the integration (no output, callback or checkpoint): a large run then
   keeps one state-sized vector of its own. */
static PetscErrorCode CreateStates(RmRun run)
{
  PetscBool state_is_neurons, readout_is_neurons;

  PetscFunctionBeginUser;
  PetscCall(RmModelGetStateLayout(run->model, &state_is_neurons, &readout_is_neurons));
  PetscCall(RmModelCreateState(run->model, &run->x));
  if (state_is_neurons && !KeepCue(run)) { /* every view is x: the cue is made in x and integrated there */
    Vec *views[] = {&run->x0n, &run->x0, &run->xn};
    for (size_t k = 0; k < sizeof(views) / sizeof(views[0]); k++) {
      PetscCall(PetscObjectReference((PetscObject)run->x));
      *views[k] = run->x;
    }
  } else { /* a restart also writes the completed trials' outputs through x0n and xn while x holds the state in progress */
    PetscCall(RmModelCreateNeuronVec(run->model, &run->x0n));
    PetscCall(RmModelCreateNeuronVec(run->model, &run->xn));
    PetscCall(VecDuplicate(run->x, &run->x0));
  }
  if (readout_is_neurons) {
    PetscCall(PetscObjectReference((PetscObject)run->xn));
    run->r = run->xn;
  } else PetscCall(RmModelCreateNeuronVec(run->model, &run->r));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSetUp(RmRun run)
{
  PetscInt n, rstart, rend;

  PetscFunctionBeginUser;
  PetscCheck(run->mem, run->comm, PETSC_ERR_ORDER, "call RmRunSetFromOptions() before RmRunSetUp()");
  if (run->setup) PetscFunctionReturn(PETSC_SUCCESS);
  /* before the (possibly long) set-up: a signal during it stops the run at the first step boundary */
  if (run->checkpoint[0]) PetscCall(RmCheckpointInstallSignalHandlers());
  PetscCall(RmIntegratorSetMonitor(run->integ, MonitorProgress, run));
  PetscCall(RmRunSetUpWeights(run));
  PetscCall(SetUpSolvers(run->syn, run->model, run->integ, run->cl));
  PetscCall(CreateStates(run));
  PetscCall(RmMemoriesGetSizes(run->mem, &n, NULL));
  PetscCall(RmMemoriesGetOwnershipRange(run->mem, &rstart, &rend));
  PetscCall(VecCreateMPIWithArray(run->comm, 1, rend - rstart, n, NULL, &run->col0));
  PetscCall(VecCreateMPIWithArray(run->comm, 1, rend - rstart, n, NULL, &run->col1));
  PetscCall(PetscCalloc1(run->trials, &run->results));
  if (run->checkpoint[0] || run->restart[0]) PetscCall(RmRunCheckpointSetUp_Private(run)); /* a restart loads the state in progress into x */
  if (run->output[0]) PetscCall(OutputSetUp(run));
  run->setup = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The cues of trials t0 .. t0+count-1 as the B columns of x0n; columns beyond count repeat the last
   cue (their results are discarded). */
static PetscErrorCode CreateCues(RmRun run, PetscInt t0, PetscInt count)
{
  PetscFunctionBeginUser;
  for (PetscInt b = 0; b < run->batch; b++) {
    PetscInt cue_memory;
    PetscCall(RmVecColumnView(run->col0, run->x0n, b, PETSC_TRUE));
    PetscCall(RmMemoriesCreateCue(run->mem, &run->cue, t0 + PetscMin(b, count - 1), run->col0, &cue_memory));
    PetscCall(RmVecColumnView(run->col0, run->x0n, b, PETSC_FALSE));
    if (b < count) run->results[t0 + b].cue_memory = cue_memory;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Overlaps and label of column b of the readout, into res. */
static PetscErrorCode ClassifyColumn(RmRun run, PetscInt b, PetscBool converged, RmTrialResult *res, RmOverlaps *ov)
{
  double tw = RmWallTime();

  PetscFunctionBeginUser;
  PetscCall(PetscLogStagePush(RM_EVENTS.stage_classify));
  PetscCall(RmVecColumnView(run->col0, run->r, b, PETSC_TRUE));
  PetscCall(RmClassifierComputeOverlaps(run->cl, run->col0, ov));
  PetscCall(RmVecColumnView(run->col0, run->r, b, PETSC_FALSE));
  PetscCall(RmClassifierLabel(run->cl, ov, res->cue_memory, converged, &res->label, &res->nearest));
  PetscCall(PetscLogStagePop());
  run->t_classify += RmWallTime() - tw;
  res->overlap           = ov->normalised[res->nearest];
  res->amplitude         = ov->amplitude[res->nearest];
  if (res->cue_memory >= 0) {
    res->overlap_cue       = ov->normalised[res->cue_memory];
    res->overlap_raw       = ov->raw[res->cue_memory];
    res->overlap_uncentred = ov->uncentred[res->cue_memory];
    res->amplitude_cue     = ov->amplitude[res->cue_memory];
  } else { /* unstored and random cues (cue memory -1) have no cued memory: nothing to read at index -1 */
    res->overlap_cue = res->overlap_raw = res->overlap_uncentred = res->amplitude_cue = 0;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* What is written per trial: the HDF5 row, the checkpoint's copy of the results, the caller's callback. */
static PetscErrorCode RecordTrial(RmRun run, PetscInt t, PetscInt b, const RmOverlaps *ov, PetscReal *ck_ov, PetscReal *ck_raw, PetscInt P)
{
  PetscFunctionBeginUser;
  if (run->ck) {
    PetscCall(PetscArraycpy(ck_ov, ov->normalised, P));
    PetscCall(PetscArraycpy(ck_raw, ov->raw, P));
    if (run->output[0]) {
      PetscCall(RmVecColumnView(run->col1, run->xn, b, PETSC_TRUE));
      PetscCall(RmCheckpointSetTrialFinalState(run->ck, t, run->col1));
      PetscCall(RmVecColumnView(run->col1, run->xn, b, PETSC_FALSE));
    }
  }
  if (run->out || run->trial_fn) {
    double tw = RmWallTime();
    PetscCall(PetscLogStagePush(RM_EVENTS.stage_output));
    PetscCall(RmVecColumnView(run->col0, run->x0n, b, PETSC_TRUE));
    PetscCall(RmVecColumnView(run->col1, run->xn, b, PETSC_TRUE));
    if (run->out) PetscCall(RmOutputWriteTrial(run->out, t, run->col0, run->col1, ov->normalised, ov->raw));
    if (run->trial_fn) PetscCall(run->trial_fn(run->trial_ctx, t, &run->results[t], run->col0, run->col1, ov));
    PetscCall(RmVecColumnView(run->col0, run->x0n, b, PETSC_FALSE));
    PetscCall(RmVecColumnView(run->col1, run->xn, b, PETSC_FALSE));
    PetscCall(PetscLogStagePop());
    run->t_output += RmWallTime() - tw;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Trials t0 .. t0+count-1 integrated together as one block of B columns. resume: x holds the state of
   the batch at the checkpoint it was stopped at, and the integration continues from there. */
static PetscErrorCode SolveBatch(RmRun run, PetscInt t0, PetscInt count, PetscBool resume)
{
  RmIntegratorStats stats;
  double            tw;
  PetscInt          P;
  PetscReal        *ck_ov = NULL, *ck_raw = NULL; /* the batch's overlaps, for the checkpoint */

  PetscFunctionBeginUser;
  run->current_trial = t0;
  run->batch_t0      = t0;
  PetscCall(CreateCues(run, t0, count));
  if (resume) PetscCall(RmIntegratorSetResume(run->integ, run->progress.t, &run->progress.stats));
  else {
    PetscCall(RmModelStateFromNeurons(run->model, run->x0n, run->x0));
    PetscCall(VecCopy(run->x0, run->x));
  }
  tw = RmWallTime();
  PetscCall(PetscLogStagePush(RM_EVENTS.stage_integrate));
  PetscCall(RmIntegratorSolve(run->integ, run->x, &stats));
  PetscCall(PetscLogStagePop());
  run->t_integrate += RmWallTime() - tw;
  if (stats.stopped) PetscFunctionReturn(PETSC_SUCCESS); /* checkpointed by the step hook: no results yet */
  PetscCall(RmMemoriesGetSizes(run->mem, NULL, &P));
  if (run->ck) PetscCall(PetscMalloc2(count * P, &ck_ov, count * P, &ck_raw));
  PetscCall(RmModelReadout(run->model, run->x, run->r));
  PetscCall(RmModelNeuronsFromState(run->model, run->x, run->xn));
  for (PetscInt b = 0; b < count; b++) {
    RmOverlaps ov;
    run->results[t0 + b].stats = stats; /* the batch's counts */
    PetscCall(ClassifyColumn(run, b, stats.converged, &run->results[t0 + b], &ov));
    PetscCall(RecordTrial(run, t0 + b, b, &ov, ck_ov ? ck_ov + b * P : NULL, ck_raw ? ck_raw + b * P : NULL, P));
    PetscCall(RmRunPrintTableRow_Private(run, t0 + b));
  }
  if (run->ck) {
    PetscCall(RmRunCheckpointBatchDone_Private(run, t0, count, ck_ov, ck_raw));
    PetscCall(PetscFree2(ck_ov, ck_raw));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSolve(RmRun run, PetscBool *stopped)
{
  PetscInt first = run->progress.completed;

  PetscFunctionBeginUser;
  PetscCall(RmRunSetUp(run));
  PetscCall(RmRunPrintTableHeader_Private(run));
  for (PetscInt t = 0; t < first; t++) PetscCall(RmRunPrintTableRow_Private(run, t)); /* done before a restart */
  run->t_solve0 = RmWallTime();
  for (PetscInt t = first; t < run->trials && !run->stopped; t += run->batch)
    PetscCall(SolveBatch(run, t, PetscMin(run->batch, run->trials - t), (PetscBool)(t == first && run->progress.in_progress)));
  if (stopped) *stopped = run->stopped;
  if (run->stopped) { /* checkpointed on a signal: no outputs (the partial HDF5 file is removed), exit status 3; the trial
                         printed is the index of the one in progress (or next), counted from 0 as in the table */
    PetscCall(PetscPrintf(run->comm, "ratemem: checkpointed at t = %.10g (trial %" PetscInt_FMT " of %" PetscInt_FMT ") to %s; resume with -restart %s\n",
                          (double)run->stop_t, run->batch_t0, run->trials, run->checkpoint, run->checkpoint));
    RmCheckpointSetExitStatus(RM_EXIT_CHECKPOINTED);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (run->out) PetscCall(RmOutputCommit(run->out));
  run->t_total = RmWallTime() - run->t_start;
  PetscCall(RmPeakMemory(run->comm, &run->peak_max_rank, &run->peak_total));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunGetResults(RmRun run, const RmTrialResult **results)
{
  PetscFunctionBeginUser;
  *results = run->results;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt RmRunCountLabel(RmRun run, RmLabel label)
{
  PetscInt c = 0;
  for (PetscInt t = 0; t < run->trials; t++) c += run->results[t].label == label;
  return c;
}

PetscErrorCode RmRunDestroy(RmRun *run)
{
  RmRun r = *run;

  PetscFunctionBeginUser;
  if (!r) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmOutputDestroy(&r->out)); /* removes an uncommitted (partial) file */
  PetscCall(RmClassifierDestroy(&r->cl));
  PetscCall(RmIntegratorDestroy(&r->integ));
  PetscCall(RmModelDestroy(&r->model));
  PetscCall(RmSynapsesDestroy(&r->syn));
  PetscCall(RmMemoriesDestroy(&r->mem));
  PetscCall(VecDestroy(&r->r));
  PetscCall(VecDestroy(&r->x0n));
  PetscCall(VecDestroy(&r->xn));
  PetscCall(VecDestroy(&r->x0));
  PetscCall(VecDestroy(&r->x));
  PetscCall(VecDestroy(&r->col0));
  PetscCall(VecDestroy(&r->col1));
  PetscCall(PetscFree(r->results));
  PetscCall(RmCheckpointDestroy(&r->ck));
  if (r->checkpoint[0]) PetscCall(RmCheckpointRestoreSignalHandlers());
  PetscCall(PetscFree(*run));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmVecColumnView(Vec col, Vec block, PetscInt b, PetscBool place)
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
