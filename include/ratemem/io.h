/* ratemem: outputs -- JSON summary (rank 0) and the parallel HDF5 file of states and overlaps,
   both written to a temporary name and renamed only when complete. */
#pragma once
#include <petscvec.h>
#include <ratemem/sys.h>
#include <stdio.h>

/* Parallel HDF5 output: /patterns (P x n uint8), /initial_states and /final_states (T x n),
   /overlaps and /overlaps_raw (T x P). Each rank writes its own neurons. */
typedef struct _p_RmOutput *RmOutput;

PETSC_EXTERN PetscErrorCode RmOutputCreate(MPI_Comm comm, const char *path, PetscInt n, PetscInt P, PetscInt trials, RmOutput *out);
/* Collective. Row mu of /patterns: this rank's nloc bits starting at neuron rstart. */
PETSC_EXTERN PetscErrorCode RmOutputWritePattern(RmOutput out, PetscInt mu, PetscInt rstart, PetscInt nloc, const uint8_t *row);
PETSC_EXTERN PetscErrorCode RmOutputWriteTrial(RmOutput out, PetscInt trial, Vec initial, Vec final, const PetscReal *overlaps, const PetscReal *raw);
/* Collective. Close the file and move it to its final name. */
PETSC_EXTERN PetscErrorCode RmOutputCommit(RmOutput out);
/* Collective. An uncommitted file is removed: no partial output survives a failed run. */
PETSC_EXTERN PetscErrorCode RmOutputDestroy(RmOutput *out);

/* Collective. Rank 0 runs writer on a temporary file next to path and renames it over path when the
   writer and every write succeeded; otherwise the temporary is removed and every rank gets the error. */
PETSC_EXTERN PetscErrorCode RmWriteFileAtomic(MPI_Comm comm, const char *path, PetscErrorCode (*writer)(void *ctx, FILE *fp), void *ctx);

/* A resumable results table: a CSV file whose rows are keyed by their first key_columns fields (a
   study's coordinates). Load reads what an earlier run wrote (refusing a file with another header or
   a malformed row); Append adds a row on rank 0 and rewrites the file atomically. All collective. */
typedef struct _p_RmTable *RmTable;
PETSC_EXTERN PetscErrorCode RmTableCreate(MPI_Comm comm, const char *path, const char *header, PetscInt key_columns, RmTable *table);
PETSC_EXTERN PetscErrorCode RmTableLoad(RmTable table);
/* Collective. Is there a row whose key (its first key_columns fields, comma-joined) equals key? */
PETSC_EXTERN PetscErrorCode RmTableHasKey(RmTable table, const char *key, PetscBool *has);
PETSC_EXTERN PetscErrorCode RmTableAppend(RmTable table, const char *row);
PETSC_EXTERN PetscErrorCode RmTableGetRowCount(RmTable table, PetscInt *nrows);
PETSC_EXTERN PetscErrorCode RmTableDestroy(RmTable *table);
