/* Private state of the trial runner (include/ratemem/run.h). */
#pragma once
#include <ratemem/run.h>

struct _p_RmRun {
  MPI_Comm      comm;
  PetscMPIInt   size;
  RmMemories    mem;
  RmSynapses    syn;
  RmModel       model;
  RmIntegrator  integ;
  RmClassifier  cl;
  RmCueOptions  cue;
  PetscInt      trials, batch, current_trial;
  PetscBool     quiet, setup, weights_setup;
  RmDesignType  design; /* overrides -design when design_set */
  PetscBool     design_set;
  char          storage[64]; /* the storage type set before the options are read ("": -storage or the default) */
  PetscInt      indegree;    /* ... and its indegree K */
  RmTrialResult *results;
  RmRunTrialFn  trial_fn;
  void         *trial_ctx;
  Vec           col0, col1; /* column views of neuron blocks */
  Vec           x0n, xn, r; /* initial and final neuron blocks, readout */
  Vec           x0, x;      /* initial and current model state of a batch */
  double        t_generate, t_assemble, t_integrate, t_classify, t_output, t_start, t_total;
  double        t_solve0; /* wall clock at the start of RmRunSolve's loop (the monitor's ETA) */
  PetscReal     peak_max_rank, peak_total; /* bytes */
  PetscReal     memory_estimate;           /* bytes per rank (largest), estimated before allocating */
  /* -output */
  char          output[PETSC_MAX_PATH_LEN];
  RmOutput      out;
  /* -checkpoint / -restart (resume.c) */
  char                 checkpoint[PETSC_MAX_PATH_LEN], restart[PETSC_MAX_PATH_LEN];
  PetscReal            checkpoint_interval;
  PetscInt             stop_after_steps;
  PetscInt64           hook_steps;
  double               last_checkpoint;
  PetscReal            stop_t;
  PetscInt             batch_t0;
  PetscBool            stopped;
  RmCheckpoint         ck;
  RmCheckpointLayout   layout;
  RmCheckpointProgress progress;
};

/* report.c: the live results table. */
PETSC_INTERN PetscErrorCode RmRunPrintTableHeader_Private(RmRun run);
PETSC_INTERN PetscErrorCode RmRunPrintTableRow_Private(RmRun run, PetscInt t);
PETSC_INTERN PetscErrorCode RmRunGatherHosts_Private(RmRun run, char **hosts);

/* describe.c: the HDF5 output's attributes. */
PETSC_INTERN PetscErrorCode RmRunOutputAttributes_Private(RmRun run);
PETSC_INTERN PetscErrorCode RmRunCheckpointAttributes_Private(RmRun run);

/* resume.c: checkpoint and restart of the trial loop. */
PETSC_INTERN PetscErrorCode RmRunCheckpointSetUp_Private(RmRun run);
PETSC_INTERN PetscErrorCode RmRunCheckpointBatchDone_Private(RmRun run, PetscInt t0, PetscInt count, const PetscReal *ov, const PetscReal *ov_raw);
PETSC_INTERN PetscErrorCode RmRunWriteCompletedOutput_Private(RmRun run);
