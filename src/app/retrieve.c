/* `ratemem retrieve`: the end-to-end pipeline of one run (docs/design.md) -- memories -> synapses ->
   dynamics -> integration from each cue -> gather-and-classify -> reports -- as a thin driver over
   the trial runner (include/ratemem/run.h): it reads the subcommand's options and hands them over. */
#include <ratemem/input.h>
#include <ratemem/run.h>
#include <string.h>

typedef struct {
  char      summary[PETSC_MAX_PATH_LEN], output[PETSC_MAX_PATH_LEN], checkpoint[PETSC_MAX_PATH_LEN], restart[PETSC_MAX_PATH_LEN];
  char      schedule[4096], history[PETSC_MAX_PATH_LEN], input_file[PETSC_MAX_PATH_LEN], input_dataset[256];
  PetscBool has_summary, has_output, has_checkpoint, has_restart, has_schedule, has_history, has_input_file, quiet, view;
  PetscInt  trials, batch, nweights, overlap_every, stop_after_steps;
  PetscReal weights[1024], checkpoint_interval;
} Options;

static PetscErrorCode ReadOptions(MPI_Comm comm, Options *o)
{
  const char *m = "ratemem retrieve";

  PetscFunctionBeginUser;
  o->trials = 10, o->batch = 1, o->overlap_every = 1;
  o->nweights = (PetscInt)(sizeof(o->weights) / sizeof(o->weights[0]));
  PetscCall(PetscStrncpy(o->input_dataset, "inputs", sizeof(o->input_dataset)));
  PetscOptionsBegin(comm, NULL, "Retrieval run", m);
  PetscCall(PetscOptionsInt("-trials", "Number of retrieval trials (trial t cues memory t mod P)", m, o->trials, &o->trials, NULL));
  PetscCall(PetscOptionsString("-summary", "JSON summary file (written atomically by rank 0)", m, o->summary, o->summary, sizeof(o->summary), &o->has_summary));
  PetscCall(PetscOptionsString("-output", "HDF5 file with patterns, initial and final states, overlaps (parallel write)", m, o->output, o->output,
                               sizeof(o->output), &o->has_output));
  PetscCall(PetscOptionsInt("-batch", "Integrate this many trials together (each weight product serves all of them)", m, o->batch, &o->batch, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print the results table", m, o->quiet, &o->quiet, NULL));
  PetscCall(PetscOptionsBool("-ratemem_view", "Print the whole set-up (memories, synapses, model, integrator, cue) after set-up", m, o->view, &o->view, NULL));
  PetscCall(PetscOptionsString("-input_schedule", "Inputs presented in sequence, ITEM:DURATION,... with ITEM dominantJ, weights or off (docs/input.md)", m,
                               o->schedule, o->schedule, sizeof(o->schedule), &o->has_schedule));
  PetscCall(PetscOptionsRealArray("-input_weights", "Weights c_0,...,c_{P-1} of the 'weights' input u = sum_mu c_mu xi^mu", m, o->weights, &o->nweights, NULL));
  PetscCall(PetscOptionsString("-overlap_history", "CSV of t, presentation, m_1..m_P during an input schedule (rank 0, atomic)", m, o->history, o->history,
                               sizeof(o->history), &o->has_history));
  PetscCall(PetscOptionsInt("-overlap_every", "Record the overlap history every this many steps", m, o->overlap_every, &o->overlap_every, NULL));
  PetscCall(PetscOptionsString("-input_file", "HDF5 file of inputs (dataset (S, n) or (n,)), presented as schedule items fileK (docs/input.md)", m,
                               o->input_file, o->input_file, sizeof(o->input_file), &o->has_input_file));
  PetscCall(PetscOptionsString("-input_dataset", "Dataset of -input_file", m, o->input_dataset, o->input_dataset, sizeof(o->input_dataset), NULL));
  PetscCall(PetscOptionsString("-checkpoint", "HDF5 checkpoint file: written every -checkpoint_interval s, and on SIGUSR1/SIGTERM (then exit 3)", m,
                               o->checkpoint, o->checkpoint, sizeof(o->checkpoint), &o->has_checkpoint));
  PetscCall(PetscOptionsReal("-checkpoint_interval", "Wall seconds between checkpoints (0: at the end of each trial and on a signal only)", m,
                             o->checkpoint_interval, &o->checkpoint_interval, NULL));
  PetscCall(PetscOptionsString("-restart", "Resume from this checkpoint; auto: from the -checkpoint file if it exists, else start afresh", m, o->restart,
                               o->restart, sizeof(o->restart), &o->has_restart));
  PetscOptionsEnd();
  /* hidden testing option (not in -help): act exactly as if SIGUSR1 arrived at the N-th step boundary */
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-checkpoint_stop_after_steps", &o->stop_after_steps, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The combinations of options that make no sense, refused before any work. */
static PetscErrorCode CheckOptions(MPI_Comm comm, RmModel model, const Options *o)
{
  PetscBool schedule = (PetscBool)(o->has_schedule || o->has_input_file), rate_variant;

  PetscFunctionBeginUser;
  PetscCheck(!o->has_checkpoint || o->checkpoint[0], comm, PETSC_ERR_ARG_WRONG, "-checkpoint needs a file name");
  PetscCheck(!o->has_restart || o->restart[0], comm, PETSC_ERR_ARG_WRONG, "-restart needs a file name (or auto)");
  PetscCheck(!(o->has_checkpoint || o->has_restart) || !schedule, comm, PETSC_ERR_ARG_INCOMP, "-checkpoint and -restart are not available with -input_schedule or -input_file");
  PetscCheck(o->overlap_every > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "overlap_every must be > 0, got %" PetscInt_FMT, o->overlap_every);
  PetscCheck(!o->has_history || schedule, comm, PETSC_ERR_ARG_INCOMP, "-overlap_history needs -input_schedule");
  PetscCall(RmModelGetInputVariant(model, &rate_variant));
  PetscCheck(!rate_variant || schedule, comm, PETSC_ERR_ARG_INCOMP, "-input_variant rate needs -input_schedule or -input_file");
  PetscCheck(!o->has_history || o->history[0], comm, PETSC_ERR_ARG_WRONG, "-overlap_history needs a file name");
  if (schedule) {
    PetscBool accepts;
    PetscCall(RmModelAcceptsInputs(model, &accepts));
    PetscCheck(accepts, comm, PETSC_ERR_ARG_INCOMP, "-input_schedule needs the Hopfield model (-design hebbian) or -input_variant rate");
    PetscCheck(o->batch == 1, comm, PETSC_ERR_ARG_INCOMP, "-input_schedule needs -batch 1");
    PetscCheck(!o->has_summary && !o->has_output, comm, PETSC_ERR_ARG_INCOMP, "-summary and -output are not written for an input schedule; use -overlap_history");
  }
  PetscCheck(!o->has_summary || o->summary[0], comm, PETSC_ERR_ARG_WRONG, "-summary needs a file name");
  PetscCall(RmOptionsCheckIntRange(comm, "-trials", 1, PETSC_MAX_INT));
  PetscCall(RmOptionsCheckIntRange(comm, "-batch", 1, PETSC_MAX_INT));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* No output replaces a device, a directory or an input, and no two outputs are the same file. */
static PetscErrorCode CheckFiles(MPI_Comm comm, const Options *o)
{
  const RmFileArg files[] = {
    {"-input_file",      o->has_input_file ? o->input_file : NULL,                          RM_FILE_INPUT },
    {"-restart",         o->has_restart && strcmp(o->restart, "auto") ? o->restart : NULL, RM_FILE_INPUT },
    {"-summary",         o->has_summary ? o->summary : NULL,                                RM_FILE_OUTPUT},
    {"-output",          o->has_output ? o->output : NULL,                                  RM_FILE_OUTPUT},
    {"-checkpoint",      o->has_checkpoint ? o->checkpoint : NULL,                          RM_FILE_OUTPUT},
    {"-overlap_history", o->has_history ? o->history : NULL,                                RM_FILE_OUTPUT},
    {NULL,               NULL,                                                              RM_FILE_INPUT }
  };

  PetscFunctionBeginUser;
  PetscCall(RmCheckRunFiles(comm, files));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Hand the options to the runner. */
static PetscErrorCode Configure(RmRun run, const Options *o)
{
  PetscFunctionBeginUser;
  PetscCall(RmRunSetTrials(run, o->trials));
  PetscCall(RmRunSetBatch(run, o->batch));
  PetscCall(RmRunSetQuiet(run, o->quiet));
  if (o->has_output) PetscCall(RmRunSetOutput(run, o->output));
  PetscCall(RmRunSetCheckpoint(run, o->checkpoint, o->checkpoint_interval, o->has_restart ? o->restart : NULL));
  PetscCall(RmRunSetCheckpointStopAfterSteps(run, o->stop_after_steps));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Retrieve(MPI_Comm comm, RmRun run, Options *o)
{
  PetscBool help, stopped;
  RmModel   model;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  PetscCall(RmRunSetFromOptions(run));
  PetscCall(ReadOptions(comm, o));
  PetscCall(RmRunGetObjects(run, NULL, NULL, &model, NULL, NULL));
  PetscCall(CheckOptions(comm, model, o));
  PetscCall(Configure(run, o));
  if (help) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmCheckOptionsAllUsed(comm));
  PetscCall(CheckFiles(comm, o));
  PetscCall(RmRunSetUp(run));
  if (o->view) PetscCall(RmRunView(run, PETSC_VIEWER_STDOUT_(comm)));
  if (o->has_schedule || o->has_input_file) {
    RmScheduleRunOptions so = {o->has_schedule ? o->schedule : NULL, o->has_input_file ? o->input_file : NULL, o->input_dataset, o->weights, o->nweights,
                               o->overlap_every, o->has_history ? o->history : NULL};
    PetscCall(RmRunSchedule(run, &so));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(RmRunSolve(run, &stopped));
  if (stopped) PetscFunctionReturn(PETSC_SUCCESS);
  if (o->has_summary) PetscCall(RmRunWriteSummary(run, o->summary));
  PetscCall(RmRunPrintTotals(run));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRetrieveMain(MPI_Comm comm)
{
  RmRun          run;
  Options        o = {0};
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(RmRunCreate(comm, &run));
  ierr = Retrieve(comm, run, &o);
  PetscCall(RmRunDestroy(&run));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}
