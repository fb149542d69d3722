#pragma once
#include <ratemem/patterns.h>

struct _p_RmMemories {
  MPI_Comm      comm;
  char         *prefix;
  PetscBool     setup_called;
  RmPatternKind kind;
  RmEncoding    encoding;
  PetscInt      n, P, rstart, rend;
  PetscInt64    seed;
  PetscReal     coding;
  PetscBool     memories_set, neurons_set; /* given explicitly: must agree with a -patterns file */
  char          file[PETSC_MAX_PATH_LEN];
  uint64_t     *words; /* local, bit-packed, pattern-major: wpp words per memory */
  PetscInt      wpp;
  uint8_t      *bytes; /* cached unpacked copy (RmMemoriesGetLocalBits), NULL unless asked for */
  uint64_t     *neuron_major; /* cached: wpn = ceil(P/64) words of bits per local neuron (RmMemoriesGetNeuronBits) */
};

PETSC_INTERN PetscErrorCode RmMemoriesLoadHDF5_Private(RmMemories mem);

/* Allocate the zeroed packed storage for the local neurons. */
PETSC_INTERN PetscErrorCode RmMemoriesAllocate_Private(RmMemories mem);
static inline void RmPackedSet(RmMemories mem, PetscInt mu, PetscInt i)
{
  mem->words[mu * mem->wpp + i / 64] |= (uint64_t)1 << (i % 64);
}
