/* ratemem: outputs -- JSON summary (rank 0) and the parallel HDF5 file of states and overlaps,
   both written to a unique temporary name and renamed only when complete (src/io/atomic.c). */
#pragma once
#include <petscvec.h>
#include <ratemem/sys.h>
#include <stdio.h>

/* ---------------------------------------------------------------- the output policy (src/io/atomic.c)
   Only a regular file (or nothing) is replaced; a file is written under FILE.partial.<pid>.<hex> in
   its directory and renamed over FILE when complete; every failure is one error on every rank, and
   the temporary file is removed. See docs/design.md, "Safety of outputs". */
typedef struct _p_RmAtomicFile *RmAtomicFile;

/* Collective. Rank 0 checks that path may be replaced and creates the unique temporary file. */
PETSC_EXTERN PetscErrorCode RmAtomicFileOpen(MPI_Comm comm, const char *path, RmAtomicFile *af);
/* Not collective. The stream of the temporary file on rank 0, NULL on the other ranks. */
PETSC_EXTERN PetscErrorCode RmAtomicFileGetFILE(RmAtomicFile af, FILE **fp);
/* Not collective. The name under which every rank opens the temporary file with MPI-IO (HDF5):
   short even for a long path (Open MPI aborts on long names; see RmHDF5Path). */
PETSC_EXTERN PetscErrorCode RmAtomicFileGetPath(RmAtomicFile af, const char **open_path);
/* Collective. Refuses, before anything is computed, a file of about `bytes` that the disk cannot
   hold (rank 0 allocates the space and frees it again). Skipped when RATEMEM_TEST_NO_RESERVE is set. */
PETSC_EXTERN PetscErrorCode RmAtomicFileCheckSpace(RmAtomicFile af, PetscInt64 bytes);
/* Collective. Rank 0 truncates the temporary file (a failed write: frees the space HDF5 needs to
   close it cleanly); a barrier follows. */
PETSC_EXTERN PetscErrorCode RmAtomicFileDiscardData(RmAtomicFile af);
/* Collective. Flush, sync and close on rank 0, then rename over the target (still absent or a
   regular file); on failure the temporary file is removed and every rank gets the error. *af is
   destroyed either way. */
PETSC_EXTERN PetscErrorCode RmAtomicFileCommit(RmAtomicFile *af);
/* Not collective. An uncommitted file is removed (rank 0). NULL-safe; nothing after a commit. */
PETSC_EXTERN PetscErrorCode RmAtomicFileDestroy(RmAtomicFile *af);
/* Collective. The whole file written by writer(ctx, fp) on rank 0, then committed. */
PETSC_EXTERN PetscErrorCode RmWriteFileAtomic(MPI_Comm comm, const char *path, PetscErrorCode (*writer)(void *ctx, FILE *fp), void *ctx);
/* Collective. An error unless path may be replaced by an output (absent or a regular file, in a
   writable directory). */
PETSC_EXTERN PetscErrorCode RmCheckReplaceable(MPI_Comm comm, const char *path);
/* Not collective. A unique temporary name for path: DIR/NAME.partial.<pid>.<hex>. */
PETSC_EXTERN PetscErrorCode RmTempName(const char *path, char *tmp, size_t len);
/* Not collective. The name under which MPI-IO may open path: path itself, or for a long one
   /proc/self/fd/N/NAME with *fd = N an O_PATH descriptor of its directory (-1 if none), to be
   closed by RmHDF5PathRestore. */
PETSC_EXTERN PetscErrorCode RmHDF5Path(const char *path, char *buf, size_t len, int *fd);
PETSC_EXTERN PetscErrorCode RmHDF5PathRestore(int *fd);
/* Collective. *ok becomes the logical AND over the ranks. */
PETSC_EXTERN PetscErrorCode RmAgree(MPI_Comm comm, PetscBool *ok);
/* Not collective. SIGINT, SIGHUP and SIGTERM remove this process's temporary files before they
   take their previous action (installed once at start-up; a checkpoint's own handler overrides). */
PETSC_EXTERN PetscErrorCode RmInstallTempCleanup(void);

/* A run's files: every output is checked, before any computing, against devices, directories,
   FIFOs and symbolic links to them, unwritable directories, every input (device and inode where
   the file exists, resolved path otherwise) and every other output. */
typedef struct _p_RmFileSet *RmFileSet;
PETSC_EXTERN PetscErrorCode RmFileSetCreate(MPI_Comm comm, RmFileSet *fs);
/* Not collective. option names the file in messages ("-patterns"); a NULL path is ignored. */
PETSC_EXTERN PetscErrorCode RmFileSetAddInput(RmFileSet fs, const char *option, const char *path);
PETSC_EXTERN PetscErrorCode RmFileSetAddOutput(RmFileSet fs, const char *option, const char *path);
/* Not collective. The output may be the input (-checkpoint F -restart F: the documented resume). */
PETSC_EXTERN PetscErrorCode RmFileSetAllowSame(RmFileSet fs, const char *output_option, const char *input_option);
/* Collective. One error naming both options and the path at the first problem. */
PETSC_EXTERN PetscErrorCode RmFileSetCheck(RmFileSet fs);
PETSC_EXTERN PetscErrorCode RmFileSetDestroy(RmFileSet *fs);

/* Parallel HDF5 output: /patterns (P x n uint8), /initial_states and /final_states (T x n),
   /overlaps and /overlaps_raw (T x P). Each rank writes its own neurons. */
typedef struct _p_RmOutput *RmOutput;

PETSC_EXTERN PetscErrorCode RmOutputCreate(MPI_Comm comm, const char *path, PetscInt n, PetscInt P, PetscInt trials, RmOutput *out);
/* Collective. Row mu of /patterns: this rank's nloc bits starting at neuron rstart. */
PETSC_EXTERN PetscErrorCode RmOutputWritePattern(RmOutput out, PetscInt mu, PetscInt rstart, PetscInt nloc, const uint8_t *row);
PETSC_EXTERN PetscErrorCode RmOutputWriteTrial(RmOutput out, PetscInt trial, Vec initial, Vec final, const PetscReal *overlaps, const PetscReal *raw);
/* Collective, with the same values on every rank. Attributes of the file (its root group), so that the
   file describes the run that wrote it (h5dump -A shows them). */
PETSC_EXTERN PetscErrorCode RmOutputSetAttributeString(RmOutput out, const char *name, const char *value);
PETSC_EXTERN PetscErrorCode RmOutputSetAttributeReal(RmOutput out, const char *name, PetscReal value);
PETSC_EXTERN PetscErrorCode RmOutputSetAttributeInt(RmOutput out, const char *name, PetscInt64 value);
/* Not collective; plain C, callable before PETSc and MPI are initialised. The "rerun" attribute: the
   subcommand and options that reproduce the run (`ratemem rerun FILE.h5`). Returns 0 when read, 1 when
   path does not open as HDF5, 2 when it has no "rerun" attribute. */
PETSC_EXTERN int RmOutputReadRerun(const char *path, char *buf, size_t len);
/* Collective. Close the file and move it to its final name. */
PETSC_EXTERN PetscErrorCode RmOutputCommit(RmOutput out);
/* Collective. An uncommitted file is removed: no partial output survives a failed run. */
PETSC_EXTERN PetscErrorCode RmOutputDestroy(RmOutput *out);

/* Reading an HDF5 input (src/io/h5read.c): the -patterns file, the -input_file. Errors of the file
   itself name it as "<what> <path>" (what: "patterns file", "input file"). */
typedef struct _p_RmHDF5Dataset *RmHDF5Dataset;
typedef enum { RM_HDF5_OTHER, RM_HDF5_INTEGER, RM_HDF5_FLOAT } RmHDF5Class;
typedef enum { RM_HDF5_NATIVE_UINT8, RM_HDF5_NATIVE_DOUBLE } RmHDF5Native;
/* Collective. Opens dataset /name of path read-only through MPI-IO: a missing or unreadable file, a
   file that is not HDF5 and a missing dataset (hint appended, e.g. " (set -input_dataset)") are
   one-line errors. */
PETSC_EXTERN PetscErrorCode RmHDF5DatasetOpen(MPI_Comm comm, const char *path, const char *what, const char *name, const char *hint, RmHDF5Dataset *ds);
/* Not collective. Its rank, extents (dims[1] = 0 for 1-D; both 0 above 2-D), type class and element size in bytes. */
PETSC_EXTERN PetscErrorCode RmHDF5DatasetGetInfo(RmHDF5Dataset ds, int *ndims, PetscInt64 dims[2], RmHDF5Class *cls, size_t *size);
/* Collective. Rows [row0, row0 + nrows) x columns [col0, col0 + ncols) of a 2-D dataset (a 1-D one is
   one row: row0, nrows ignored) into buf, row-major, converted to type; a rank may read nothing
   (nrows or ncols 0). A failed read is an error on every rank. */
PETSC_EXTERN PetscErrorCode RmHDF5DatasetReadBlock(RmHDF5Dataset ds, RmHDF5Native type, PetscInt64 row0, PetscInt64 nrows, PetscInt64 col0, PetscInt64 ncols, void *buf);
/* Collective. The dataset's attribute as numbers: *exists, and if so its count values (caller frees *values). */
PETSC_EXTERN PetscErrorCode RmHDF5DatasetReadAttributeReal(RmHDF5Dataset ds, const char *attr, PetscBool *exists, PetscInt64 *count, PetscReal **values);
/* Collective. NULL-safe. */
PETSC_EXTERN PetscErrorCode RmHDF5DatasetClose(RmHDF5Dataset *ds);

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

/* Collective. A subcommand's files checked before any computing (an RmFileSet): -options_file_yaml and
   -patterns as inputs, then files[] (terminated by an entry with option NULL; a NULL path is a file
   not given), with -checkpoint allowed to be -restart. */
typedef enum { RM_FILE_INPUT, RM_FILE_OUTPUT } RmFileKind;
typedef struct {
  const char *option, *path;
  RmFileKind  kind;
} RmFileArg;
PETSC_EXTERN PetscErrorCode RmCheckRunFiles(MPI_Comm comm, const RmFileArg files[]);
