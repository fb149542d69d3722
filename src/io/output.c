/* Parallel HDF5 output. The file is created under a unique temporary name (RmAtomicFile) and
   renamed when the run has completed, so a failed run never leaves a partial file behind. Every
   HDF5 call's success is agreed by all ranks, so a failed write cannot leave a rank waiting. */
#include <hdf5.h>
#include <ratemem/io.h>
#include <string.h>

struct _p_RmOutput {
  MPI_Comm     comm;
  char         path[PETSC_MAX_PATH_LEN];
  PetscInt     n, P, trials;
  hid_t        file, patterns, initial, final, overlaps, overlaps_raw, dxpl;
  RmAtomicFile af; /* the temporary file (NULL once committed) */
};

/* Every rank takes part in the decision: an HDF5 failure on one rank (e.g. the MPI-IO aggregator
   hitting a full disk) becomes the same error on all ranks, before any further collective call. */
static PetscErrorCode AgreeH5(RmOutput out, herr_t status, const char *what)
{
  PetscBool ok = status >= 0 ? PETSC_TRUE : PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(RmAgree(out->comm, &ok));
  PetscCheck(ok, out->comm, PETSC_ERR_FILE_WRITE, "cannot write HDF5 output %s: %s failed (disk full or not writable?)", out->path, what);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static hid_t CreateDataset(hid_t file, const char *name, hid_t type, hsize_t rows, hsize_t cols)
{
  hsize_t dims[2] = {rows, cols};
  hid_t   space   = H5Screate_simple(2, dims, NULL);
  hid_t   dset    = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(space);
  return dset;
}

PetscErrorCode RmOutputCreate(MPI_Comm comm, const char *path, PetscInt n, PetscInt P, PetscInt trials, RmOutput *outp)
{
  RmOutput    out;
  hid_t       fapl;
  const char *open_path;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&out));
  *outp     = out;
  out->comm = comm;
  out->n    = n;
  out->P    = P;
  out->trials = trials;
  out->file = out->patterns = out->initial = out->final = out->overlaps = out->overlaps_raw = out->dxpl = -1;
  PetscCall(PetscStrncpy(out->path, path, sizeof(out->path)));
  PetscCall(RmAtomicFileOpen(comm, path, &out->af));
  /* the data (uint8 patterns, double states and overlaps) and room for the metadata */
  PetscCall(RmAtomicFileCheckSpace(out->af, (PetscInt64)P * n + 16 * (PetscInt64)trials * (n + P) + 65536));
  PetscCall(RmAtomicFileGetPath(out->af, &open_path));
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  out->file = H5Fcreate(open_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  PetscCall(AgreeH5(out, out->file, "H5Fcreate"));
  out->patterns     = CreateDataset(out->file, "patterns", H5T_NATIVE_UINT8, (hsize_t)P, (hsize_t)n);
  out->initial      = CreateDataset(out->file, "initial_states", H5T_NATIVE_DOUBLE, (hsize_t)trials, (hsize_t)n);
  out->final        = CreateDataset(out->file, "final_states", H5T_NATIVE_DOUBLE, (hsize_t)trials, (hsize_t)n);
  out->overlaps     = CreateDataset(out->file, "overlaps", H5T_NATIVE_DOUBLE, (hsize_t)trials, (hsize_t)P);
  out->overlaps_raw = CreateDataset(out->file, "overlaps_raw", H5T_NATIVE_DOUBLE, (hsize_t)trials, (hsize_t)P);
  PetscCall(AgreeH5(out, out->patterns >= 0 && out->initial >= 0 && out->final >= 0 && out->overlaps >= 0 && out->overlaps_raw >= 0 ? 0 : -1,
                    "creating the datasets"));
  out->dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(out->dxpl, H5FD_MPIO_COLLECTIVE);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Collective (same values on every rank): one attribute of the file's root group. */
static PetscErrorCode SetAttribute(RmOutput out, const char *name, hid_t type, const void *value, size_t len)
{
  hid_t space, attr, t = type;
  herr_t status = -1;

  PetscFunctionBeginUser;
  if (type == H5T_C_S1) {
    t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, PetscMax(len, 1));
  }
  space = H5Screate(H5S_SCALAR);
  attr  = H5Acreate2(out->file, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr >= 0) status = H5Awrite(attr, t, value);
  if (attr >= 0) H5Aclose(attr);
  H5Sclose(space);
  if (type == H5T_C_S1) H5Tclose(t);
  PetscCall(AgreeH5(out, status, name));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmOutputSetAttributeString(RmOutput out, const char *name, const char *value)
{
  PetscFunctionBeginUser;
  PetscCall(SetAttribute(out, name, H5T_C_S1, value, strlen(value)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmOutputSetAttributeReal(RmOutput out, const char *name, PetscReal value)
{
  double v = (double)value;

  PetscFunctionBeginUser;
  PetscCall(SetAttribute(out, name, H5T_NATIVE_DOUBLE, &v, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmOutputSetAttributeInt(RmOutput out, const char *name, PetscInt64 value)
{
  long long v = (long long)value;

  PetscFunctionBeginUser;
  PetscCall(SetAttribute(out, name, H5T_NATIVE_LLONG, &v, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Not collective, and before PETSc and MPI exist (plain C, serial HDF5): the "rerun" attribute of an
   output file. 0: read; 1: not an HDF5 file that opens; 2: no readable "rerun" attribute. */
int RmOutputReadRerun(const char *path, char *buf, size_t len)
{
  hid_t  file, attr, type;
  herr_t status = -1;

  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return 1;
  attr = H5Aopen(file, "rerun", H5P_DEFAULT);
  if (attr >= 0) {
    type = H5Aget_type(attr);
    if (H5Tget_class(type) == H5T_STRING && H5Tget_size(type) < len) {
      memset(buf, 0, len);
      status = H5Aread(attr, type, buf);
    }
    H5Tclose(type);
    H5Aclose(attr);
  }
  H5Fclose(file);
  return status >= 0 ? 0 : 2;
}

/* Collective write of the block [row0, row0+rows) x [col0, col0+cols); rows = 0 selects nothing. */
static PetscErrorCode WriteBlock(RmOutput out, hid_t dset, hid_t type, hsize_t row0, hsize_t rows, hsize_t col0, hsize_t cols, const void *buf)
{
  hsize_t start[2] = {row0, col0}, count[2] = {rows, cols};
  hid_t   fspace = H5Dget_space(dset), mspace;
  herr_t  status;

  PetscFunctionBeginUser;
  if (rows * cols == 0) { /* take part in the collective write with an empty selection on both sides */
    hsize_t one[2] = {1, 1};
    H5Sselect_none(fspace);
    mspace = H5Screate_simple(2, one, NULL);
    H5Sselect_none(mspace);
  } else {
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    mspace = H5Screate_simple(2, count, NULL);
  }
  status = H5Dwrite(dset, type, mspace, fspace, out->dxpl, buf);
  H5Sclose(mspace);
  H5Sclose(fspace);
  PetscCall(AgreeH5(out, status, "H5Dwrite"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmOutputWritePattern(RmOutput out, PetscInt mu, PetscInt rstart, PetscInt nloc, const uint8_t *row)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.io_write, 0, 0, 0, 0));
  PetscCall(WriteBlock(out, out->patterns, H5T_NATIVE_UINT8, (hsize_t)mu, nloc ? 1 : 0, (hsize_t)rstart, (hsize_t)nloc, row));
  PetscCall(PetscLogEventEnd(RM_EVENTS.io_write, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteState(RmOutput out, hid_t dset, PetscInt trial, Vec x)
{
  const PetscScalar *xa;
  PetscInt           rstart, rend;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(x, &rstart, &rend));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(WriteBlock(out, dset, H5T_NATIVE_DOUBLE, (hsize_t)trial, rend > rstart ? 1 : 0, (hsize_t)rstart, (hsize_t)(rend - rstart), xa));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmOutputWriteTrial(RmOutput out, PetscInt trial, Vec initial, Vec final, const PetscReal *overlaps, const PetscReal *raw)
{
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.io_write, 0, 0, 0, 0));
  PetscCallMPI(MPI_Comm_rank(out->comm, &rank));
  PetscCall(WriteState(out, out->initial, trial, initial));
  PetscCall(WriteState(out, out->final, trial, final));
  /* Overlaps are the same on every rank (after the reduction): rank 0 writes them. */
  PetscCall(WriteBlock(out, out->overlaps, H5T_NATIVE_DOUBLE, (hsize_t)trial, rank ? 0 : 1, 0, (hsize_t)out->P, overlaps));
  PetscCall(WriteBlock(out, out->overlaps_raw, H5T_NATIVE_DOUBLE, (hsize_t)trial, rank ? 0 : 1, 0, (hsize_t)out->P, raw));
  PetscCall(PetscLogEventEnd(RM_EVENTS.io_write, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void CloseDatasets(RmOutput out)
{
  hid_t *ids[] = {&out->patterns, &out->initial, &out->final, &out->overlaps, &out->overlaps_raw, &out->dxpl};
  for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++)
    if (*ids[k] >= 0) {
      if (k + 1 < sizeof(ids) / sizeof(ids[0])) H5Dclose(*ids[k]);
      else H5Pclose(*ids[k]);
      *ids[k] = -1;
    }
}

/* Collective. A file given up: its data are truncated first, so that closing it (HDF5 flushes its
   metadata) cannot fail on a full disk: a failed H5Fclose leaves HDF5 in a state that crashes at
   MPI_Finalize. */
static PetscErrorCode Abandon(RmOutput out)
{
  PetscFunctionBeginUser;
  CloseDatasets(out);
  if (out->file >= 0) {
    PetscCall(RmAtomicFileDiscardData(out->af));
    H5Fclose(out->file);
    out->file = -1;
  }
  PetscCall(RmAtomicFileDestroy(&out->af));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmOutputCommit(RmOutput out)
{
  PetscBool ok;

  PetscFunctionBeginUser;
  ok = H5Fflush(out->file, H5F_SCOPE_GLOBAL) >= 0 ? PETSC_TRUE : PETSC_FALSE; /* the metadata: the last write that can fail */
  PetscCall(RmAgree(out->comm, &ok));
  if (!ok) PetscCall(Abandon(out));
  PetscCheck(ok, out->comm, PETSC_ERR_FILE_WRITE, "cannot write HDF5 output %s: H5Fflush failed (disk full?)", out->path);
  CloseDatasets(out);
  ok = H5Fclose(out->file) >= 0 ? PETSC_TRUE : PETSC_FALSE;
  out->file = -1;
  PetscCall(RmAgree(out->comm, &ok));
  if (!ok) PetscCall(RmAtomicFileDestroy(&out->af));
  PetscCheck(ok, out->comm, PETSC_ERR_FILE_WRITE, "cannot write HDF5 output %s: H5Fclose failed", out->path);
  PetscCall(RmAtomicFileCommit(&out->af));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmOutputDestroy(RmOutput *outp)
{
  RmOutput out = *outp;

  PetscFunctionBeginUser;
  if (!out) PetscFunctionReturn(PETSC_SUCCESS);
  if (out->af) PetscCall(Abandon(out)); /* an uncommitted file is removed */
  PetscCall(PetscFree(*outp));
  PetscFunctionReturn(PETSC_SUCCESS);
}
