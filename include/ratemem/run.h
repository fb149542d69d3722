/* ratemem: the trial runner -- one network (memories, synapses, model, integrator, classifier), a
   cue, and the loop of docs/design.md: cue -> integrate -> gather and classify, B trials at a time.
   Every subcommand that integrates cues (retrieve, sweep, bench, stability) runs its trials here;
   the runner also owns what a run of trials may need around that loop: checkpoint and restart, the
   HDF5 output of the states, the JSON summary and the results table. */
#pragma once
#include <ratemem/checkpoint.h>
#include <ratemem/classify.h>
#include <ratemem/io.h>
#include <ratemem/stability.h>
#include <ratemem/synapses.h>

/* The results of one trial (docs/model.md §4): which memory was cued, what the end state is, and
   what the integration cost. With batch B > 1 the stats are those of the whole batch. */
typedef struct {
  PetscInt          cue_memory, nearest;
  RmLabel           label;
  PetscReal         overlap;           /* normalised overlap with the nearest memory */
  PetscReal         overlap_cue;       /* ... with the cued memory */
  PetscReal         overlap_raw, overlap_uncentred; /* raw and uncentred overlaps with the cued memory */
  PetscReal         amplitude;         /* amplitude of the nearest memory */
  PetscReal         amplitude_cue;     /* amplitude of the cued memory */
  RmIntegratorStats stats;
} RmTrialResult;

typedef struct _p_RmRun *RmRun;

/* Called after each trial is classified: its index, its result, the initial and final neuron states
   (column views, valid during the call) and the overlaps. */
typedef PetscErrorCode (*RmRunTrialFn)(void *ctx, PetscInt trial, const RmTrialResult *res, Vec initial, Vec final, const RmOverlaps *ov);

/* Collective. */
PETSC_EXTERN PetscErrorCode RmRunCreate(MPI_Comm comm, RmRun *run);
/* Collective. Creates the five objects and reads their options, in the order the design requires (the
   design type fixes the model kind and the memories' encoding), and the cue's options (-cue, -flip, ...). */
PETSC_EXTERN PetscErrorCode RmRunSetFromOptions(RmRun run);
/* Not collective. The design (overrides -design), before RmRunSetFromOptions: it fixes the model kind and
   the memories' encoding the objects are created with. */
PETSC_EXTERN PetscErrorCode RmRunSetDesignType(RmRun run, RmDesignType design);
/* Not collective. The weight storage and its indegree K (0: fully connected), before RmRunSetFromOptions
   (so the storage's own options are read, and checked with K). */
PETSC_EXTERN PetscErrorCode RmRunSetStorage(RmRun run, RmStorageType storage, PetscInt indegree);
/* Not collective. Number of trials (trial t cues memory t mod P) and batch size (trials integrated
   together; each weight product serves all of them). Before RmRunSetUp. */
PETSC_EXTERN PetscErrorCode RmRunSetTrials(RmRun run, PetscInt trials);
PETSC_EXTERN PetscErrorCode RmRunSetBatch(RmRun run, PetscInt batch);
PETSC_EXTERN PetscErrorCode RmRunGetTrials(RmRun run, PetscInt *trials, PetscInt *batch);
/* Not collective. The cue of every trial (overrides the options read by RmRunSetFromOptions). */
PETSC_EXTERN PetscErrorCode RmRunSetCue(RmRun run, const RmCueOptions *cue);
PETSC_EXTERN PetscErrorCode RmRunGetCue(RmRun run, RmCueOptions *cue);
/* Not collective. Borrow the objects (any may be passed as NULL). */
PETSC_EXTERN PetscErrorCode RmRunGetObjects(RmRun run, RmMemories *mem, RmSynapses *syn, RmModel *model, RmIntegrator *integ, RmClassifier *cl);
PETSC_EXTERN PetscErrorCode RmRunSetTrialCallback(RmRun run, RmRunTrialFn fn, void *ctx);
/* Not collective. Files of the run: the HDF5 output of patterns, initial and final states and overlaps
   (-output), and checkpoints (-checkpoint) with the restart file ("auto": the checkpoint file if it
   exists). interval: wall seconds between checkpoints (0: after each batch and on a signal). */
PETSC_EXTERN PetscErrorCode RmRunSetOutput(RmRun run, const char *path);
PETSC_EXTERN PetscErrorCode RmRunSetCheckpoint(RmRun run, const char *path, PetscReal interval, const char *restart);
/* Not collective. Testing: behave as if SIGUSR1 arrived at the N-th step boundary. */
PETSC_EXTERN PetscErrorCode RmRunSetCheckpointStopAfterSteps(RmRun run, PetscInt steps);
PETSC_EXTERN PetscErrorCode RmRunSetQuiet(RmRun run, PetscBool quiet);
/* Collective. Generates (or loads) the memories, computes the design and W, sets up the model for the
   batch, the integrator and the classifier; with a restart, loads the checkpoint. */
PETSC_EXTERN PetscErrorCode RmRunSetUp(RmRun run);
/* Collective. The set-up sequence on objects made elsewhere: generate (or load) the memories, compute
   the design and W at the model's activation, set up the model for batch B, the integrator and the
   classifier. Wall times of the generate and assemble stages in t_generate, t_assemble (may be NULL). */
PETSC_EXTERN PetscErrorCode RmRunSetUpNetwork(RmMemories mem, RmSynapses syn, RmModel model, RmIntegrator integ, RmClassifier cl, PetscInt batch,
                                              double *t_generate, double *t_assemble);
/* Not collective. The model state of the batch being integrated or classified (in a trial callback
   with batch 1: the trial's end state, which the callback may change). */
PETSC_EXTERN PetscErrorCode RmRunGetState(RmRun run, Vec *x);
/* Collective. Only the assembly part of RmRunSetUp (memories, W, the model for the batch), for callers
   that measure the network before the integrator exists (ratemem bench); RmRunSetUp does the rest. */
PETSC_EXTERN PetscErrorCode RmRunSetUpWeights(RmRun run);
/* Collective. Runs every trial not yet done. *stopped: the run was signalled and checkpointed (no
   outputs are written then; resume with the checkpoint). */
PETSC_EXTERN PetscErrorCode RmRunSolve(RmRun run, PetscBool *stopped);
/* Not collective. The results of all trials (valid after RmRunSolve). */
PETSC_EXTERN PetscErrorCode RmRunGetResults(RmRun run, const RmTrialResult **results);
PETSC_EXTERN PetscInt       RmRunCountLabel(RmRun run, RmLabel label);
/* The outcomes of a census (docs/results.md "Global behaviour, measured"), in this order: a memory
   (labels retrieved and other: a stored memory at its designed amplitude), quiescent, saturated (a
   saturated copy), spurious, unconverged. */
extern const char *const RmCensusOutcomes[];
/* Not collective. The trials ending at each outcome of RmCensusOutcomes (valid after RmRunSolve). */
PETSC_EXTERN PetscErrorCode RmRunGetCensus(RmRun run, PetscInt counts[5]);
/* Not collective. The trials of the last RmRunSolve summed up: counts per label and per census
   outcome, the trials whose cued memory is expressed at the end (overlap and amplitude at or above the
   classifier's threshold, converged or not), and means per trial (the cued memory's overlap with its
   standard deviation, steps, RHS evaluations, passes over W (a batch shares its passes), t_end). */
typedef struct {
  PetscInt  trials, counts[RM_LABEL_COUNT], census[5], final_ok;
  PetscReal overlap_mean, overlap_sd, steps, rhs, products, t_end;
} RmRunStatistics;
PETSC_EXTERN PetscErrorCode RmRunGetStatistics(RmRun run, RmRunStatistics *stats);
/* Collective. The JSON summary of docs/output.md (rank 0 writes it atomically). */
PETSC_EXTERN PetscErrorCode RmRunWriteSummary(RmRun run, const char *path);
/* Collective. The closing lines of the results table on stdout (retrieval rate and counts, wall times,
   peak memory). RmRunSolve prints the table's header before the first trial and each trial's row as it
   ends (unless quiet). */
PETSC_EXTERN PetscErrorCode RmRunPrintTotals(RmRun run);
/* Collective. Prints the whole set-up (memories, synapses, model, integrator, cue) to viewer;
   -ratemem_view does this after RmRunSetUp. */
PETSC_EXTERN PetscErrorCode RmRunView(RmRun run, PetscViewer viewer);
PETSC_EXTERN PetscErrorCode RmRunDestroy(RmRun *run);

/* Not collective. Column b of a block neuron vector (n x B, column-major) placed in col (place), or
   col reset (!place). */
PETSC_EXTERN PetscErrorCode RmVecColumnView(Vec col, Vec block, PetscInt b, PetscBool place);
/* A sink for a description of settings: named groups of named strings, reals and integers. The JSON
   summary (groups are objects) and the HDF5 output's attributes (groups are name prefixes) are two. */
typedef struct {
  void *ctx;
  PetscErrorCode (*begin)(void *ctx, const char *group);
  PetscErrorCode (*end)(void *ctx);
  PetscErrorCode (*string)(void *ctx, const char *key, const char *value);
  PetscErrorCode (*real)(void *ctx, const char *key, PetscReal value);
  PetscErrorCode (*integer)(void *ctx, const char *key, PetscInt64 value);
} RmKV;
PETSC_EXTERN PetscErrorCode RmKVFromJSON(RmJSON *j, RmKV *kv);
/* Not collective. Everything the run was set up with: model, network, cue, integrator, overlap threshold. */
PETSC_EXTERN PetscErrorCode RmRunDescribe(RmRun run, RmKV *kv);
/* Not collective. The "model" and "network" objects of a JSON summary (one schema for every
   subcommand); per_point leaves out what a phase-diagram sweep varies per point. */
PETSC_EXTERN PetscErrorCode RmRunJSONModel(RmJSON *j, RmModel model, RmSynapses syn, PetscBool per_point);
PETSC_EXTERN PetscErrorCode RmRunJSONNetwork(RmJSON *j, RmMemories mem, RmSynapses syn);

/* Collective. The input schedule of docs/model.md §7 (-input_schedule, -input_file): presentations in
   sequence, state carried over, overlaps and a label after each; the overlap history CSV with -overlap_history. */
typedef struct {
  const char      *spec;        /* -input_schedule (NULL: none) */
  const char      *input_file;  /* -input_file (NULL: none) */
  const char      *input_dataset;
  const PetscReal *weights;     /* -input_weights */
  PetscInt         nweights;
  PetscInt         overlap_every;
  const char      *history;     /* -overlap_history (NULL: none) */
} RmScheduleRunOptions;
PETSC_EXTERN PetscErrorCode RmRunSchedule(RmRun run, const RmScheduleRunOptions *opts);

/* The phase diagram of docs/model.md §6 over gains x thresholds (-phase_gain, -phase_threshold): at each
   point a network of its own (synapses, model and integrator from the options, the point's gain and
   threshold through the model's setters), the §6 conditions and the largest abscissa over the memories. */
typedef struct {
  PetscReal             gain, threshold, phi_a, phi_b;
  PetscBool             valid, stable, at_memory; /* valid: the design exists at this activation */
  RmStabilityConditions cond;
  PetscReal             max_abscissa, lowrank_abscissa, max_residual;
  PetscInt              worst_memory;
  PetscInt64            matvecs;
} RmPhasePoint;
/* Counts over the valid points, for tables and summaries. */
typedef struct {
  PetscInt  valid, stable, stab_holds, inst_holds, stab_disagree, inst_disagree, not_at_memory;
  PetscReal lowrank_diff; /* largest |SLEPc - low-rank (P+1)x(P+1)| abscissa difference */
} RmPhaseCounts;
typedef struct _p_RmPhaseDiagram *RmPhaseDiagram;
PETSC_EXTERN PetscErrorCode RmPhaseDiagramCreate(MPI_Comm comm, RmPhaseDiagram *pd);
/* Not collective. Ranges lo, hi, N (N points from lo to hi). */
PETSC_EXTERN PetscErrorCode RmPhaseDiagramSetRanges(RmPhaseDiagram pd, const PetscReal gain[3], const PetscReal threshold[3]);
/* Not collective. A line per gain on stderr. */
PETSC_EXTERN PetscErrorCode RmPhaseDiagramSetProgress(RmPhaseDiagram pd, PetscBool progress);
/* Collective. mem and cl set up; base: the activation whose gain and threshold vary; d: the design's currents. */
PETSC_EXTERN PetscErrorCode RmPhaseDiagramCompute(RmPhaseDiagram pd, RmMemories mem, RmClassifier cl, RmStability stab, const RmActivation *base, const RmDesign *d);
PETSC_EXTERN PetscErrorCode RmPhaseDiagramGetPoints(RmPhaseDiagram pd, PetscInt *count, const RmPhasePoint **points);
PETSC_EXTERN PetscErrorCode RmPhaseDiagramGetCounts(RmPhaseDiagram pd, RmPhaseCounts *counts);
/* Collective. The grid as CSV (one row per point, gain-major), after a "# comment" line; atomic. */
PETSC_EXTERN PetscErrorCode RmPhaseDiagramWriteCSV(RmPhaseDiagram pd, const char *path, const char *comment);
/* Not collective (rank 0 writes). The "phase" object of a JSON summary (csv: the CSV's path). */
PETSC_EXTERN PetscErrorCode RmPhaseDiagramJSON(RmPhaseDiagram pd, RmJSON *j, const char *csv);
/* Collective. The grid and its counts on stdout. */
PETSC_EXTERN PetscErrorCode RmPhaseDiagramPrint(RmPhaseDiagram pd, const char *csv);
PETSC_EXTERN PetscErrorCode RmPhaseDiagramDestroy(RmPhaseDiagram *pd);
