/* Loading memories from HDF5: dataset /patterns, uint8 0/1, shape P x n. Each rank reads
   only the columns (neurons) it owns, through MPI-IO. */
#include <ratemem/io.h>
#include "patternsimpl.h"

PETSC_INTERN PetscErrorCode RmMemoriesSetLayoutFromFile_Private(RmMemories mem, PetscInt n, PetscInt P);

/* The file opened (src/io/h5read.c) and its shape checked: a 2-D uint8 array P x n. */
static PetscErrorCode OpenPatternsDataset(RmMemories mem, RmHDF5Dataset *ds, PetscInt64 dims[2])
{
  int       rank_ds;
  RmHDF5Class cls;
  size_t    size;

  PetscFunctionBeginUser;
  PetscCall(RmHDF5DatasetOpen(mem->comm, mem->file, "patterns file", "patterns", NULL, ds));
  PetscCall(RmHDF5DatasetGetInfo(*ds, &rank_ds, dims, &cls, &size));
  PetscBool ok_type = (PetscBool)(cls == RM_HDF5_INTEGER && size == 1);
  if (rank_ds != 2 || !ok_type) {
    PetscCall(RmHDF5DatasetClose(ds));
    SETERRQ(mem->comm, PETSC_ERR_FILE_UNEXPECTED, "patterns file %s: /patterns must be a 2-D uint8 array (P x n), got %d-D %s", mem->file, rank_ds,
            ok_type ? "uint8" : "non-uint8 data");
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesLoadHDF5_Private(RmMemories mem)
{
  RmHDF5Dataset    ds = NULL;
  PetscInt64     dims[2];
  PetscInt       nloc;
  PetscInt64     bad = 0, ones = 0, sums[2];
  uint8_t       *row;
  PetscErrorCode ierr = PETSC_SUCCESS;

  PetscFunctionBeginUser;
  PetscCall(OpenPatternsDataset(mem, &ds, dims));
  PetscCall(RmMemoriesSetLayoutFromFile_Private(mem, (PetscInt)dims[1], (PetscInt)dims[0]));
  nloc = mem->rend - mem->rstart;
  PetscCall(RmMemoriesAllocate_Private(mem));
  PetscCall(PetscMalloc1(nloc + 1, &row));
  /* One memory at a time: the local block is read as bytes and packed, never held whole. */
  for (PetscInt mu = 0; mu < mem->P && !ierr; mu++) {
    ierr = RmHDF5DatasetReadBlock(ds, RM_HDF5_NATIVE_UINT8, mu, 1, mem->rstart, nloc, row); /* an error on every rank */
    for (PetscInt i = 0; i < nloc && !ierr; i++) {
      bad += row[i] > 1;
      ones += row[i] == 1;
      if (row[i] == 1) RmPackedSet(mem, mu, i);
    }
  }
  PetscCall(RmHDF5DatasetClose(&ds));
  PetscCall(PetscFree(row));
  PetscCall(ierr);
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
