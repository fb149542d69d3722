/* Reading HDF5 inputs (the -patterns file, the -input_file of docs/model.md §7): open a dataset
   through MPI-IO, tell its shape and type, read a block of rows and columns collectively, read a
   numeric attribute. With output.c the only file that calls HDF5: the callers (src/patterns/load.c,
   src/dynamics/input.c) check shapes and contents and word their errors, this file words the
   errors of the file itself ("<what> <path> is not an HDF5 file", ...), in one line, once. */
#include <hdf5.h>
#include <ratemem/io.h>

struct _p_RmHDF5Dataset {
  MPI_Comm comm;
  char    *path, *what, *name;
  hid_t    file, dset;
  int      ndims;
  hsize_t  dims[2];
};

PetscErrorCode RmHDF5DatasetOpen(MPI_Comm comm, const char *path, const char *what, const char *name, const char *hint, RmHDF5Dataset *ds)
{
  PetscBool   exists;
  hid_t       fapl, file, dset, space;
  RmHDF5Dataset d;
  herr_t      st;

  PetscFunctionBeginUser;
  *ds = NULL;
  PetscCall(RmFileExists(comm, path, &exists));
  PetscCheck(exists, comm, PETSC_ERR_FILE_OPEN, "%s %s does not exist or cannot be read", what, path);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* HDF5 errors are reported by us, once, in one line: silence its own stack printing */
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  st   = H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  if (st < 0) {
    H5Pclose(fapl);
    SETERRQ(comm, PETSC_ERR_FILE_READ, "cannot set MPI-IO access for %s", path);
  }
  { /* a long name is opened through its directory's descriptor (Open MPI aborts on long names) */
    char h5path[PETSC_MAX_PATH_LEN + 64];
    int  dirfd;
    PetscCall(RmHDF5Path(path, h5path, sizeof(h5path), &dirfd));
    file = H5Fopen(h5path, H5F_ACC_RDONLY, fapl);
    PetscCall(RmHDF5PathRestore(&dirfd));
  }
  H5Pclose(fapl);
  PetscCheck(file >= 0, comm, PETSC_ERR_FILE_OPEN, "%s %s is not an HDF5 file", what, path);
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0 || H5Oexists_by_name(file, name, H5P_DEFAULT) <= 0) {
    H5Fclose(file);
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s %s has no dataset /%s%s", what, path, name, hint ? hint : "");
  }
  dset = H5Dopen2(file, name, H5P_DEFAULT);
  if (dset < 0) {
    H5Fclose(file);
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s %s: /%s is not a dataset", what, path, name);
  }
  PetscCall(PetscNew(&d));
  d->comm = comm;
  d->file = file;
  d->dset = dset;
  PetscCall(PetscStrallocpy(path, &d->path));
  PetscCall(PetscStrallocpy(what, &d->what));
  PetscCall(PetscStrallocpy(name, &d->name));
  space    = H5Dget_space(dset);
  d->ndims = H5Sget_simple_extent_ndims(space);
  if (d->ndims == 1 || d->ndims == 2) H5Sget_simple_extent_dims(space, d->dims, NULL);
  H5Sclose(space);
  *ds = d;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmHDF5DatasetGetInfo(RmHDF5Dataset ds, int *ndims, PetscInt64 dims[2], RmHDF5Class *cls, size_t *size)
{
  hid_t       type;
  H5T_class_t c;

  PetscFunctionBeginUser;
  if (ndims) *ndims = ds->ndims;
  if (dims) {
    dims[0] = ds->ndims >= 1 ? (PetscInt64)ds->dims[0] : 0;
    dims[1] = ds->ndims == 2 ? (PetscInt64)ds->dims[1] : 0;
  }
  type = H5Dget_type(ds->dset);
  c    = H5Tget_class(type);
  if (cls) *cls = c == H5T_INTEGER ? RM_HDF5_INTEGER : c == H5T_FLOAT ? RM_HDF5_FLOAT : RM_HDF5_OTHER;
  if (size) *size = H5Tget_size(type);
  H5Tclose(type);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmHDF5DatasetReadBlock(RmHDF5Dataset ds, RmHDF5Native type, PetscInt64 row0, PetscInt64 nrows, PetscInt64 col0, PetscInt64 ncols, void *buf)
{
  hid_t       fspace, mspace, dxpl;
  hsize_t     start[2] = {(hsize_t)row0, (hsize_t)col0}, count[2] = {(hsize_t)nrows, (hsize_t)ncols};
  herr_t      st;
  PetscMPIInt failed, any;

  PetscFunctionBeginUser;
  PetscCheck(ds->ndims == 1 || ds->ndims == 2, ds->comm, PETSC_ERR_ARG_WRONG, "%s %s: /%s is not a 1-D or 2-D dataset", ds->what, ds->path, ds->name);
  fspace = H5Dget_space(ds->dset);
  if (ds->ndims == 2) { /* rows x columns */
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    mspace = H5Screate_simple(2, count, NULL);
  } else { /* a 1-D dataset is one row: its columns */
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start + 1, NULL, count + 1, NULL);
    mspace = H5Screate_simple(1, count + 1, NULL);
  }
  if (nrows == 0 || ncols == 0) { /* a rank without neurons still takes part in the collective read */
    H5Sselect_none(fspace);
    H5Sselect_none(mspace);
  }
  dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  st = H5Dread(ds->dset, type == RM_HDF5_NATIVE_UINT8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_DOUBLE, mspace, fspace, dxpl, buf);
  H5Pclose(dxpl);
  H5Sclose(mspace);
  H5Sclose(fspace);
  failed = st < 0; /* every rank gets the error, not just the one whose read failed */
  PetscCallMPI(MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_LOR, ds->comm));
  PetscCheck(!any, ds->comm, PETSC_ERR_FILE_READ, "%s %s: reading /%s failed", ds->what, ds->path, ds->name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmHDF5DatasetReadAttributeReal(RmHDF5Dataset ds, const char *attr, PetscBool *exists, PetscInt64 *count, PetscReal **values)
{
  hid_t    a, space;
  hssize_t npts;
  herr_t   st;

  PetscFunctionBeginUser;
  *exists = PETSC_FALSE;
  *count  = 0;
  *values = NULL;
  if (H5Aexists(ds->dset, attr) <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  *exists = PETSC_TRUE;
  a       = H5Aopen(ds->dset, attr, H5P_DEFAULT);
  space   = H5Aget_space(a);
  npts    = H5Sget_simple_extent_npoints(space);
  H5Sclose(space);
  if (npts < 0) {
    H5Aclose(a);
    SETERRQ(ds->comm, PETSC_ERR_FILE_READ, "%s %s: cannot read attribute '%s' of /%s as numbers", ds->what, ds->path, attr, ds->name);
  }
  PetscCall(PetscMalloc1(npts + 1, values));
  st = H5Aread(a, H5T_NATIVE_DOUBLE, *values);
  H5Aclose(a);
  if (st < 0) PetscCall(PetscFree(*values));
  PetscCheck(st >= 0, ds->comm, PETSC_ERR_FILE_READ, "%s %s: cannot read attribute '%s' of /%s as numbers", ds->what, ds->path, attr, ds->name);
  *count = (PetscInt64)npts;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmHDF5DatasetClose(RmHDF5Dataset *ds)
{
  PetscFunctionBeginUser;
  if (!*ds) PetscFunctionReturn(PETSC_SUCCESS);
  H5Dclose((*ds)->dset);
  H5Fclose((*ds)->file);
  PetscCall(PetscFree((*ds)->path));
  PetscCall(PetscFree((*ds)->what));
  PetscCall(PetscFree((*ds)->name));
  PetscCall(PetscFree(*ds));
  PetscFunctionReturn(PETSC_SUCCESS);
}
