/* The graph of a diluted network, shared by the storages that accept -connectivity (spatial.c:
   MATAIJ; compressed.c: the compressed format), so that both build the same W from the same
   options. The K inputs of neuron i are a pure function of (seed, i): random (aij's diluted graph,
   RmSampleInputs_Private), ring (index i on a ring) or grid2d (a torus of side sqrt(n), i = row side
   + col), within -radius R, then each input rewired with probability -rewire p (Watts-Strogatz).
   Every draw is keyed by (seed, neuron, draw) (RM_STREAM_DILUTION, RM_STREAM_SPATIAL,
   RM_STREAM_REWIRE), so any partition gives the same graph. Private to src/synapses. */
#pragma once
#include "synapsesimpl.h"

typedef enum { RM_CONNECTIVITY_RANDOM, RM_CONNECTIVITY_RING, RM_CONNECTIVITY_GRID2D } RmConnectivityType;
PETSC_INTERN const char *const RmConnectivityTypes[];

typedef struct {
  RmConnectivityType type;
  PetscInt           radius; /* -radius; 0: the smallest radius with at least K candidates */
  PetscReal          rewire; /* -rewire p */
  /* set by RmConnectivitySetUp_Private */
  PetscBool          setup;
  PetscInt           n, K, R, side; /* R: the radius used; side: the grid side (grid2d) */
  PetscInt64         seed;
} RmConnectivity;

/* Not collective. -connectivity (default: conn->type as it is on entry), -radius, -rewire, inside the
   caller's options block; storage names the storage in the help text. */
PETSC_INTERN PetscErrorCode RmConnectivitySetFromOptions_Private(PetscOptionItems *PetscOptionsObject, const char *storage, RmConnectivity *conn);
/* Collective. The ranges of -radius and -rewire. */
PETSC_INTERN PetscErrorCode RmConnectivityCheck_Private(MPI_Comm comm, const RmConnectivity *conn);
/* Collective. Fix the graph for n neurons, K inputs each and the memories' seed: the grid side (grid2d
   needs a square n), the radius (0: the smallest with K candidates) and K <= the candidates within it. */
PETSC_INTERN PetscErrorCode RmConnectivitySetUp_Private(MPI_Comm comm, RmConnectivity *conn, PetscInt n, PetscInt K, PetscInt64 seed);
/* Not collective. Size of the scratch table RmConnectivityRowColumns_Private needs: a power of two >= 2(K + 1). */
PETSC_INTERN PetscInt RmConnectivityTableSize_Private(PetscInt K);
/* Not collective. The K sorted inputs of neuron i (set up). picks (K) and table (tsize from
   RmConnectivityTableSize_Private) are scratch. */
PETSC_INTERN PetscErrorCode RmConnectivityRowColumns_Private(const RmConnectivity *conn, PetscInt i, PetscInt *cols, PetscInt *picks, PetscInt *table, PetscInt tsize);
/* Not collective (ASCII viewer of the storage's line). ", connectivity C[, radius R], rewire p". */
PETSC_INTERN PetscErrorCode RmConnectivityView_Private(const RmConnectivity *conn, PetscViewer viewer);
