/* Loading memories from HDF5: dataset /patterns, uint8 0/1, shape P x n. Each rank reads
   only the columns (neurons) it owns, through MPI-IO. */
#include <hdf5.h>
#include <ratemem/io.h>
#include "patternsimpl.h"

PETSC_INTERN PetscErrorCode RmMemoriesSetLayoutFromFile_Private(RmMemories mem, PetscInt n, PetscInt P);

/* HDF5 errors are reported by us, once, in one line: silence its own stack printing. */
#define RmCallHDF5(call, ...) \
  do { \
    if (PetscUnlikely((call) < 0)) SETERRQ(mem->comm, PETSC_ERR_FILE_READ, __VA_ARGS__); \
  } while (0)

static PetscErrorCode OpenPatternsDataset(RmMemories mem, hid_t *file, hid_t *dset, hsize_t dims[2])
{
  PetscBool exists;
  hid_t     fapl, space, type;
  int       rank_ds;

  PetscFunctionBeginUser;
  PetscCall(RmFileExists(mem->comm, mem->file, &exists));
  PetscCheck(exists, mem->comm, PETSC_ERR_FILE_OPEN, "patterns file %s does not exist or cannot be read", mem->file);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  RmCallHDF5(H5Pset_fapl_mpio(fapl, mem->comm, MPI_INFO_NULL), "cannot set MPI-IO access for %s", mem->file);
  { /* a long name is opened through its directory's descriptor (Open MPI aborts on long names) */
    char h5path[PETSC_MAX_PATH_LEN + 64];
    int  dirfd;
    PetscCall(RmHDF5Path(mem->file, h5path, sizeof(h5path), &dirfd));
    *file = H5Fopen(h5path, H5F_ACC_RDONLY, fapl);
    PetscCall(RmHDF5PathRestore(&dirfd));
  }
  H5Pclose(fapl);
  PetscCheck(*file >= 0, mem->comm, PETSC_ERR_FILE_OPEN, "patterns file %s is not an HDF5 file", mem->file);
  if (H5Lexists(*file, "patterns", H5P_DEFAULT) <= 0) {
    H5Fclose(*file);
    SETERRQ(mem->comm, PETSC_ERR_FILE_UNEXPECTED, "patterns file %s has no dataset /patterns", mem->file);
  }
  *dset   = H5Dopen2(*file, "patterns", H5P_DEFAULT);
  space   = H5Dget_space(*dset);
  rank_ds = H5Sget_simple_extent_ndims(space);
  type    = H5Dget_type(*dset);
  PetscBool ok_type = (PetscBool)(H5Tget_class(type) == H5T_INTEGER && H5Tget_size(type) == 1);
  if (rank_ds == 2) H5Sget_simple_extent_dims(space, dims, NULL);
  H5Tclose(type);
  H5Sclose(space);
  if (rank_ds != 2 || !ok_type) {
    H5Dclose(*dset);
    H5Fclose(*file);
    SETERRQ(mem->comm, PETSC_ERR_FILE_UNEXPECTED, "patterns file %s: /patterns must be a 2-D uint8 array (P x n), got %d-D %s", mem->file, rank_ds,
            ok_type ? "uint8" : "non-uint8 data");
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesLoadHDF5_Private(RmMemories mem)
{
  hid_t      file = -1, dset = -1, fspace, mspace, dxpl;
  hsize_t    dims[2], start[2], count[2];
  PetscInt   nloc;
  PetscInt64 bad = 0, ones = 0, sums[2];
  herr_t     status = 0;
  uint8_t   *row;

  PetscFunctionBeginUser;
  PetscCall(OpenPatternsDataset(mem, &file, &dset, dims));
  PetscCall(RmMemoriesSetLayoutFromFile_Private(mem, (PetscInt)dims[1], (PetscInt)dims[0]));
  nloc = mem->rend - mem->rstart;
  PetscCall(RmMemoriesAllocate_Private(mem));
  PetscCall(PetscMalloc1(nloc + 1, &row));
  /* One memory at a time: the local block is read as bytes and packed, never held whole. */
  count[0] = 1;
  count[1] = (hsize_t)nloc;
  fspace   = H5Dget_space(dset);
  mspace   = H5Screate_simple(2, count, NULL);
  dxpl     = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  for (PetscInt mu = 0; mu < mem->P && status >= 0; mu++) {
    start[0] = (hsize_t)mu;
    start[1] = (hsize_t)mem->rstart;
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    if (nloc == 0) {
      H5Sselect_none(fspace);
      H5Sselect_none(mspace);
    }
    status = H5Dread(dset, H5T_NATIVE_UINT8, mspace, fspace, dxpl, row);
    for (PetscInt i = 0; i < nloc && status >= 0; i++) {
      bad += row[i] > 1;
      ones += row[i] == 1;
      if (row[i] == 1) RmPackedSet(mem, mu, i);
    }
  }
  H5Pclose(dxpl);
  H5Sclose(mspace);
  H5Sclose(fspace);
  H5Dclose(dset);
  H5Fclose(file);
  PetscCall(PetscFree(row));
  PetscCheck(status >= 0, mem->comm, PETSC_ERR_FILE_READ, "patterns file %s: reading /patterns failed", mem->file);
  PetscInt64 loc[2] = {bad, ones};
  PetscCallMPI(MPI_Allreduce(loc, sums, 2, MPIU_INT64, MPI_SUM, mem->comm));
  PetscCheck(sums[0] == 0, mem->comm, PETSC_ERR_FILE_UNEXPECTED, "patterns file %s: /patterns has %" PetscInt64_FMT " entries that are not 0 or 1",
             mem->file, sums[0]);
  /* Loaded memories: the coding level is the measured fraction of active entries. */
  mem->coding = (PetscReal)sums[1] / ((PetscReal)mem->P * mem->n);
  PetscCheck(mem->coding > 0 && mem->coding < 1, mem->comm, PETSC_ERR_FILE_UNEXPECTED,
             "patterns file %s: memories are all 0 or all 1 (coding %g)", mem->file, (double)mem->coding);
  PetscFunctionReturn(PETSC_SUCCESS);
}
