#pragma once
#include <ratemem/patterns.h>

struct _p_RmMemories {
  MPI_Comm      comm;
  PetscBool     setup_called;
  RmPatternKind kind;
  RmEncoding    encoding;
  PetscInt      n, P, rstart, rend;
  PetscInt64    seed;
  PetscReal     coding;
  PetscBool     memories_set;
  char          file[PETSC_MAX_PATH_LEN];
  uint8_t      *bits; /* local, pattern-major: bits[mu*(rend-rstart) + i] */
};

PETSC_INTERN PetscErrorCode RmMemoriesLoadHDF5_Private(RmMemories mem);
