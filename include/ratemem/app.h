/* ratemem: the subcommands of the ratemem command. */
#pragma once
#include <ratemem/ratemem.h>

/* Collective. `ratemem retrieve`: store memories, cue, integrate, classify, report. */
PETSC_EXTERN PetscErrorCode RmRetrieveMain(MPI_Comm comm);
/* Collective. `ratemem bench`: triad bandwidth, weight product, RHS, memory and retrieval cost per storage and size. */
PETSC_EXTERN PetscErrorCode RmBenchMain(MPI_Comm comm);
/* Collective. `ratemem stability`: spectral abscissa at every memory's equilibrium (SLEPc), the §6 conditions, spurious equilibria, phase diagram. */
PETSC_EXTERN PetscErrorCode RmStabilityMain(MPI_Comm comm);
/* Collective. `ratemem sweep`: a grid of (design, n, P or load, cue corruption, gain, ...) with many trials per point, one CSV row per point (resumable). */
PETSC_EXTERN PetscErrorCode RmSweepMain(MPI_Comm comm);
