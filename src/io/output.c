/* Parallel HDF5 output. The file is created under a temporary name and renamed when the run
   has completed, so a failed run never leaves a partial file behind. */
#include <hdf5.h>
#include <ratemem/io.h>
#include <unistd.h>

struct _p_RmOutput {
  MPI_Comm  comm;
  char      path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 16];
  PetscInt  n, P, trials;
  hid_t     file, patterns, initial, final, overlaps, overlaps_raw, dxpl;
  PetscBool committed;
};

#define RmCallH5(call, what) \
  do { \
    if (PetscUnlikely((call) < 0)) SETERRQ(out->comm, PETSC_ERR_FILE_WRITE, "HDF5 output %s: %s failed", out->path, what); \
  } while (0)

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
  RmOutput out;
  hid_t    fapl;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&out));
  *outp     = out;
  out->comm = comm;
  out->n    = n;
  out->P    = P;
  out->trials = trials;
  out->file = out->patterns = out->initial = out->final = out->overlaps = out->overlaps_raw = out->dxpl = -1;
  PetscCall(PetscStrncpy(out->path, path, sizeof(out->path)));
  PetscCall(PetscSNPrintf(out->tmp, sizeof(out->tmp), "%s.partial", path));
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  out->file = H5Fcreate(out->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  PetscCheck(out->file >= 0, comm, PETSC_ERR_FILE_OPEN, "cannot create HDF5 output %s (is the directory writable?)", out->tmp);
  out->patterns     = CreateDataset(out->file, "patterns", H5T_NATIVE_UINT8, (hsize_t)P, (hsize_t)n);
  out->initial      = CreateDataset(out->file, "initial_states", H5T_NATIVE_DOUBLE, (hsize_t)trials, (hsize_t)n);
  out->final        = CreateDataset(out->file, "final_states", H5T_NATIVE_DOUBLE, (hsize_t)trials, (hsize_t)n);
  out->overlaps     = CreateDataset(out->file, "overlaps", H5T_NATIVE_DOUBLE, (hsize_t)trials, (hsize_t)P);
  out->overlaps_raw = CreateDataset(out->file, "overlaps_raw", H5T_NATIVE_DOUBLE, (hsize_t)trials, (hsize_t)P);
  PetscCheck(out->patterns >= 0 && out->initial >= 0 && out->final >= 0 && out->overlaps >= 0 && out->overlaps_raw >= 0, comm, PETSC_ERR_FILE_WRITE,
             "cannot create datasets in %s", out->tmp);
  out->dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(out->dxpl, H5FD_MPIO_COLLECTIVE);
  PetscFunctionReturn(PETSC_SUCCESS);
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
  RmCallH5(status, "H5Dwrite");
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

static void CloseAll(RmOutput out)
{
  hid_t *ids[] = {&out->patterns, &out->initial, &out->final, &out->overlaps, &out->overlaps_raw};
  for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++)
    if (*ids[k] >= 0) {
      H5Dclose(*ids[k]);
      *ids[k] = -1;
    }
  if (out->dxpl >= 0) H5Pclose(out->dxpl);
  if (out->file >= 0) H5Fclose(out->file);
  out->dxpl = out->file = -1;
}

PetscErrorCode RmOutputCommit(RmOutput out)
{
  PetscFunctionBeginUser;
  CloseAll(out);
  PetscCall(RmAtomicRename(out->comm, out->tmp, out->path));
  out->committed = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmOutputDestroy(RmOutput *outp)
{
  RmOutput    out = *outp;
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  if (!out) PetscFunctionReturn(PETSC_SUCCESS);
  CloseAll(out);
  PetscCallMPI(MPI_Comm_rank(out->comm, &rank));
  if (!out->committed && !rank) unlink(out->tmp);
  PetscCall(PetscFree(*outp));
  PetscFunctionReturn(PETSC_SUCCESS);
}
