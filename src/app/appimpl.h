/* Private helpers shared by the ratemem subcommands (not installed): the set-up of the retrieval
   pipeline of design.md, RmMemories -> RmSynapses -> RmModel -> RmIntegrator -> RmClassifier. */
#pragma once
#include <ratemem/app.h>

/* Collective. Creates the five objects and reads their options, in the order the design requires:
   the design type fixes the model kind and the memories' encoding. */
PETSC_INTERN PetscErrorCode RmAppCreateObjects_Private(MPI_Comm comm, RmMemories *mem, RmSynapses *syn, RmModel *model, RmIntegrator *integ,
                                                       RmClassifier *cl);
/* Collective. Generates (or loads) the memories, computes the design and W, sets up the model for
   batch B, the integrator and the classifier. Wall times of the Generate and Assemble stages are
   returned in t_generate and t_assemble (either may be NULL). */
PETSC_INTERN PetscErrorCode RmAppSetUpObjects_Private(RmMemories mem, RmSynapses syn, RmModel model, RmIntegrator integ, RmClassifier cl, PetscInt batch,
                                                      double *t_generate, double *t_assemble);
/* Not collective. Per-trial results the caller will keep (bytes on every rank, and per local neuron),
   counted in the memory estimate of the next RmAppSetUpObjects_Private. */
PETSC_INTERN PetscErrorCode RmAppSetTrialMemory_Private(PetscInt64 trials, PetscInt64 bytes_per_trial, PetscInt64 local_bytes_per_trial);
/* Not collective. The estimate (bytes, largest rank) made by the last RmAppSetUpObjects_Private. */
PETSC_INTERN PetscErrorCode RmAppGetMemoryEstimate_Private(PetscReal *bytes);
/* Not collective. Destroys what RmAppCreateObjects_Private made (NULL-safe). */
PETSC_INTERN PetscErrorCode RmAppDestroyObjects_Private(RmMemories *mem, RmSynapses *syn, RmModel *model, RmIntegrator *integ, RmClassifier *cl);
/* Not collective. Column b of a block neuron vector (n x B, column-major) placed in col (place),
   or col reset (!place). */
PETSC_INTERN PetscErrorCode RmAppColumnView_Private(Vec col, Vec block, PetscInt b, PetscBool place);
/* Not collective. The "model" object of a JSON summary (activation, design currents and coefficients,
   time constants); per_point leaves out what a phase-diagram sweep varies per point (gain, threshold and
   the coefficients that depend on them). */
PETSC_INTERN PetscErrorCode RmAppJSONModel_Private(RmJSON *j, RmModel model, RmSynapses syn, PetscBool per_point);
/* Not collective. The "network" object: sizes, design, storage, indegree, kernel, seed, pattern kind. */
PETSC_INTERN PetscErrorCode RmAppJSONNetwork_Private(RmJSON *j, RmMemories mem, RmSynapses syn);
