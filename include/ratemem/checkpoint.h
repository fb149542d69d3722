/* ratemem: checkpoint and restart of `ratemem retrieve` .

   A checkpoint is one HDF5 file, written collectively under FILE.partial and renamed over FILE by
   rank 0 once every rank has written (and the file is synced), so FILE is always either the previous
   complete checkpoint or the new one. It holds
     * the run's identity: named effective settings (n, P, seed, design, storage, integrator, tolerances,
       ...) and every result-determining option of the options database, as "key = value" lines, and
       their 64-bit hash: a restart whose identity differs is refused, naming the first difference;
     * the progress: trials completed, and whether a batch is in progress, with its time t, the counts
       of its integration so far and the global noise step of the em integrator;
     * the results of the completed trials (named integer and real columns, overlaps), and with
       -output their final states, so that a resumed run writes the same summary and HDF5 output;
     * the state of the batch in progress, B x (n + m) in natural (global) unit order, neurons first
       then the m extra units (E/I pools), so any number of ranks can read it back.
   See docs/checkpoint.md and docs/design.md (io). */
#pragma once
#include <ratemem/integrate.h>

#define RM_CHECKPOINT_FORMAT  "ratemem-checkpoint"
#define RM_CHECKPOINT_VERSION 1
/* Exit status of `ratemem retrieve` after it stopped at a checkpoint (signal): checkpointed, not finished. */
#define RM_EXIT_CHECKPOINTED 3

typedef struct _p_RmCheckpoint *RmCheckpoint;

/* Distribution of a (batched) state: batch columns, the local part of each is [nloc neurons | mloc extra units]. */
typedef struct {
  PetscInt batch, n, nloc, rstart, m, mloc, ustart;
} RmCheckpointLayout;

/* Where a run is. completed trials are done; with in_progress the batch starting at trial `completed` is
   being integrated and was stopped at time t with the counts stats (t = stats.t_end). */
typedef struct {
  PetscInt          completed;
  PetscBool         in_progress;
  PetscReal         t;
  PetscInt64        noise_step;
  RmIntegratorStats stats;
} RmCheckpointProgress;

/* Collective. The layout of the model's state vectors (RmModelCreateState). */
PETSC_EXTERN PetscErrorCode RmCheckpointLayoutFromModel(RmModel model, RmCheckpointLayout *layout);

/* Collective. A checkpoint of a run of `trials` trials with P memories whose per-trial results are nint
   integers and nreal reals (columns named by the comma-separated lists, which are stored and checked). */
PETSC_EXTERN PetscErrorCode RmCheckpointCreate(MPI_Comm comm, PetscInt trials, PetscInt P, PetscInt nint, const char *int_names, PetscInt nreal,
                                               const char *real_names, RmCheckpoint *ck);
PETSC_EXTERN PetscErrorCode RmCheckpointDestroy(RmCheckpoint *ck);
/* Not collective (call with the same values on every rank). One line "key = value" of the run's identity. */
PETSC_EXTERN PetscErrorCode RmCheckpointAddIdentity(RmCheckpoint ck, const char *key, const char *format, ...) PETSC_ATTRIBUTE_FORMAT(3, 4);
/* Collective. Every option in the options database, sorted by name, except the names in exclude[] (NULL
   terminated, without the dash; an entry ending in '*' is a prefix): the options that determine the result. */
PETSC_EXTERN PetscErrorCode RmCheckpointAddOptionsIdentity(RmCheckpoint ck, const char *const exclude[]);
/* Not collective. Keep the final states of completed trials (neuron vectors, for -output). */
/* Not collective, but the same on every rank. Attributes of every checkpoint file written from now on
   (the run's description: settings, options, version, hosts, rerun line); a name the checkpoint
   writes itself (format, version, ranks, ...) keeps the checkpoint's value. */
PETSC_EXTERN PetscErrorCode RmCheckpointSetAttributeString(RmCheckpoint ck, const char *name, const char *value);
PETSC_EXTERN PetscErrorCode RmCheckpointSetAttributeReal(RmCheckpoint ck, const char *name, PetscReal value);
PETSC_EXTERN PetscErrorCode RmCheckpointSetAttributeInt(RmCheckpoint ck, const char *name, PetscInt64 value);
PETSC_EXTERN PetscErrorCode RmCheckpointSetStoreFinalStates(RmCheckpoint ck, PetscInt nloc);

/* Not collective (same values on every rank). Record / read the results of one completed trial. */
PETSC_EXTERN PetscErrorCode RmCheckpointSetTrial(RmCheckpoint ck, PetscInt trial, const PetscInt64 ints[], const PetscReal reals[], const PetscReal overlaps[],
                                                 const PetscReal overlaps_raw[]);
PETSC_EXTERN PetscErrorCode RmCheckpointGetTrial(RmCheckpoint ck, PetscInt trial, PetscInt64 ints[], PetscReal reals[], PetscReal overlaps[],
                                                 PetscReal overlaps_raw[]);
/* Not collective. The final state (this rank's nloc neurons) of a completed trial, with final states stored. */
PETSC_EXTERN PetscErrorCode RmCheckpointSetTrialFinalState(RmCheckpoint ck, PetscInt trial, Vec xn);
PETSC_EXTERN PetscErrorCode RmCheckpointGetTrialFinalState(RmCheckpoint ck, PetscInt trial, Vec xn);

/* Collective. Write the checkpoint to path (atomically, see above). state (layout) is written when
   progress->in_progress, and may be NULL otherwise. */
PETSC_EXTERN PetscErrorCode RmCheckpointWrite(RmCheckpoint ck, const char *path, const RmCheckpointProgress *progress, Vec state,
                                              const RmCheckpointLayout *layout);
/* Collective. Read the checkpoint at path into ck (results of completed trials), progress and, when a batch
   is in progress, state (layout, any number of ranks). Refused with a one-line error when the file is
   missing, not HDF5, not a complete ratemem checkpoint of this format version, or when its identity
   differs from the one added to ck (the message names the first differing setting or option). */
PETSC_EXTERN PetscErrorCode RmCheckpointLoad(RmCheckpoint ck, const char *path, RmCheckpointProgress *progress, Vec state, const RmCheckpointLayout *layout);

/* Signals: SIGUSR1 and SIGTERM only set a flag (async-signal-safe); the run polls it at step boundaries. */
PETSC_EXTERN PetscErrorCode RmCheckpointInstallSignalHandlers(void);
PETSC_EXTERN PetscErrorCode RmCheckpointRestoreSignalHandlers(void);
/* Not collective. The signal number received since the handlers were installed, or 0. */
PETSC_EXTERN int RmCheckpointSignalReceived(void);

/* Exit status of the ratemem command: RM_EXIT_CHECKPOINTED after a run stopped at a checkpoint, else 0. */
PETSC_EXTERN void RmCheckpointSetExitStatus(int status);
PETSC_EXTERN int  RmCheckpointExitStatus(void);
