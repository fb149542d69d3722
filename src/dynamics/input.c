/* Vector inputs and input schedules (docs/model.md §7): see include/ratemem/input.h for the syntax.
   Also: inputs read from HDF5 (-input_file), and the firing-rate variant of §7 (-input_variant rate). */
#include <ctype.h>
#include <hdf5.h>
#include <ratemem/io.h>
#include <ratemem/input.h>
#include <stdlib.h>
#include <string.h>
#include "dynamicsimpl.h"

/* One ITEM:DURATION (item is modified in place). */
static PetscErrorCode ParseItem(MPI_Comm comm, char *item, PetscInt index, PetscInt P, RmPresentation *pr)
{
  char     *colon = strrchr(item, ':'), *end;
  double    dur;
  PetscBool ok;

  PetscFunctionBeginUser;
  PetscCheck(colon, comm, PETSC_ERR_ARG_WRONG, "input schedule item %" PetscInt_FMT " '%s' has no ':DURATION' (syntax ITEM:DURATION, e.g. dominant0:10)",
             index, item);
  *colon = 0;
  dur    = strtod(colon + 1, &end);
  PetscCheck(end != colon + 1 && *end == 0, comm, PETSC_ERR_ARG_WRONG, "input schedule item %" PetscInt_FMT " '%s': duration '%s' is not a number", index,
             item, colon + 1);
  PetscCheck(!PetscIsInfOrNanReal(dur), comm, PETSC_ERR_ARG_OUTOFRANGE, "input schedule item %" PetscInt_FMT " '%s': duration must be a finite number, got %g", index, item, dur);
  PetscCheck(dur > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "input schedule item %" PetscInt_FMT " '%s': duration must be > 0, got %g", index, item, dur);
  pr->duration = dur;
  pr->memory   = -1;
  pr->row      = -1;
  if (!strncmp(item, "file", 4) && item[4]) {
    long r = strtol(item + 4, &end, 10);
    PetscCheck(end != item + 4 && *end == 0 && r >= 0, comm, PETSC_ERR_ARG_WRONG,
               "input schedule item %" PetscInt_FMT " '%s': expected fileK with K a row of the input file (0-based)", index, item);
    pr->kind = RM_PRESENT_FILE;
    pr->row  = (PetscInt)r;
  } else if (!strncmp(item, "dominant", 8)) {
    long m = strtol(item + 8, &end, 10);
    PetscCheck(end != item + 8 && *end == 0, comm, PETSC_ERR_ARG_WRONG, "input schedule item %" PetscInt_FMT " '%s': expected dominantJ with J a memory index",
               index, item);
    PetscCheck(m >= 0 && m < P, comm, PETSC_ERR_ARG_OUTOFRANGE, "input schedule item %" PetscInt_FMT ": unknown memory %ld in '%s' (memories are 0..%" PetscInt_FMT ")",
               index, m, item, P - 1);
    pr->kind   = RM_PRESENT_DOMINANT;
    pr->memory = (PetscInt)m;
  } else {
    PetscCall(PetscStrcmp(item, "weights", &ok));
    if (ok) pr->kind = RM_PRESENT_WEIGHTS;
    else {
      PetscCall(PetscStrcmp(item, "off", &ok));
      PetscCheck(ok, comm, PETSC_ERR_ARG_WRONG, "input schedule item %" PetscInt_FMT ": unknown input '%s' (use dominantJ, weights, off or fileK)", index, item);
      pr->kind = RM_PRESENT_OFF;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmScheduleParse(MPI_Comm comm, const char *spec, PetscInt P, RmSchedule *sched)
{
  char          *buf, *item, *save = NULL;
  PetscInt       cap = 1;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCheck(spec && spec[0], comm, PETSC_ERR_ARG_WRONG, "-input_schedule is empty: give ITEM:DURATION[,ITEM:DURATION...]");
  PetscCheck(spec[0] != ',' && spec[strlen(spec) - 1] != ',' && !strstr(spec, ",,"), comm, PETSC_ERR_ARG_WRONG,
             "-input_schedule '%s' has an empty item (two commas, or one at an end)", spec);
  for (const char *p = spec; *p; p++) cap += *p == ',';
  PetscCall(PetscStrallocpy(spec, &buf));
  PetscCall(PetscCalloc1(cap, &sched->items));
  sched->count     = 0;
  sched->file_rows = 0; /* no input file yet (RmScheduleSetInputFile): sched may be uninitialised */
  sched->file_nloc = 0;
  sched->file_data = NULL;
  for (item = strtok_r(buf, ",", &save); item && !ierr; item = strtok_r(NULL, ",", &save)) {
    ierr = ParseItem(comm, item, sched->count, P, &sched->items[sched->count]);
    if (!ierr) sched->count++;
  }
  PetscCall(PetscFree(buf));
  if (ierr) { /* a bad schedule leaves nothing allocated behind */
    PetscCall(RmScheduleDestroy(sched));
    PetscCall(ierr);
  }
  if (!sched->count) {
    PetscCall(RmScheduleDestroy(sched));
    SETERRQ(comm, PETSC_ERR_ARG_WRONG, "-input_schedule '%s' has no presentations", spec);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmScheduleDestroy(RmSchedule *sched)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(sched->items));
  PetscCall(PetscFree(sched->file_data));
  sched->count     = 0;
  sched->file_rows = 0;
  sched->file_nloc = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static inline PetscReal Uniform(uint64_t seed, PetscInt k, PetscInt mu, PetscReal lo, PetscReal hi)
{
  return lo + (hi - lo) * RmRandomUniform(seed, RM_STREAM_INPUT, (uint64_t)k, (uint64_t)mu);
}

PetscErrorCode RmScheduleGetWeights(MPI_Comm comm, const RmSchedule *sched, PetscInt k, PetscInt P, PetscInt N, uint64_t seed, const PetscReal *weights,
                                    PetscInt nweights, PetscReal *c)
{
  const RmPresentation *pr = &sched->items[k];

  PetscFunctionBeginUser;
  switch (pr->kind) {
  case RM_PRESENT_OFF:
  case RM_PRESENT_FILE: /* weights of a file row: see RmScheduleGetInput */
    for (PetscInt mu = 0; mu < P; mu++) c[mu] = 0;
    break;
  case RM_PRESENT_WEIGHTS:
    PetscCheck(nweights == P, comm, PETSC_ERR_ARG_SIZ, "input schedule item %" PetscInt_FMT " 'weights' needs -input_weights with %" PetscInt_FMT " numbers (one per memory), got %" PetscInt_FMT,
               k, P, nweights);
    for (PetscInt mu = 0; mu < P; mu++) PetscCall(RmCheckFinite(comm, "-input_weights entry", weights[mu]));
    for (PetscInt mu = 0; mu < P; mu++) c[mu] = weights[mu];
    break;
  case RM_PRESENT_DOMINANT: {
    PetscInt  prev = -1;
    PetscReal sum  = 0;
    if (k > 0 && sched->items[k - 1].kind == RM_PRESENT_DOMINANT && sched->items[k - 1].memory != pr->memory) prev = sched->items[k - 1].memory;
    for (PetscInt mu = 0; mu < P; mu++) {
      if (mu == pr->memory) c[mu] = Uniform(seed, k, mu, 2.0, 3.5);
      else if (mu == prev) c[mu] = Uniform(seed, k, mu, 0.2, 0.6);
      else c[mu] = Uniform(seed, k, mu, 0.8, 1.5);
      sum += c[mu];
    }
    for (PetscInt mu = 0; mu < P; mu++) c[mu] *= PetscSqrtReal((PetscReal)P * N) / sum;
  } break;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmInputBuildVector(RmMemories mem, const PetscReal *c, Vec u)
{
  const uint64_t *words;
  PetscInt        wpp, P, rstart, rend;
  PetscScalar    *ua;
  RmEncoding      enc;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetEncoding(mem, &enc));
  PetscCall(RmMemoriesGetSizes(mem, NULL, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmMemoriesGetLocalPacked(mem, &words, &wpp));
  PetscCall(VecGetArrayWrite(u, &ua));
  for (PetscInt i = 0; i < rend - rstart; i++) {
    PetscReal s = 0;
    for (PetscInt mu = 0; mu < P; mu++) s += RmPackedBit(words, wpp, mu, i) ? c[mu] : (enc == RM_ENCODING_SPIN ? -c[mu] : 0.0);
    ua[i] = s;
  }
  PetscCall(VecRestoreArrayWrite(u, &ua));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmInputOverlaps(RmMemories mem, Vec r, PetscReal *m)
{
  const uint64_t    *words;
  const PetscScalar *ra;
  PetscInt           wpp, P, n, rstart, rend;
  PetscReal         *loc, *sum;
  MPI_Comm           comm;
  RmEncoding         enc;
  PetscMPIInt        len;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetEncoding(mem, &enc));
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetComm(mem, &comm));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmMemoriesGetLocalPacked(mem, &words, &wpp));
  PetscCall(PetscCalloc2(2 * P, &loc, 2 * P, &sum));
  PetscCall(VecGetArrayRead(r, &ra));
  for (PetscInt mu = 0; mu < P; mu++)
    for (PetscInt i = 0; i < rend - rstart; i++) {
      PetscBool on = (PetscBool)RmPackedBit(words, wpp, mu, i);
      loc[mu] += on ? ra[i] : (enc == RM_ENCODING_SPIN ? -ra[i] : 0.0);
      loc[P + mu] += on; /* |ξ^μ| for {0,1} memories */
    }
  PetscCall(VecRestoreArrayRead(r, &ra));
  len = (PetscMPIInt)(enc == RM_ENCODING_SPIN ? P : 2 * P);
  PetscCallMPI(MPI_Allreduce(loc, sum, len, MPIU_REAL, MPI_SUM, comm));
  /* ±1: |ξᵀr|/N; {0,1}: ξᵀr/|ξ^μ|, the fraction of the memory's neurons on (the authors' ξᵀr/(Nq) times Nq/|ξ^μ|) */
  for (PetscInt mu = 0; mu < P; mu++) m[mu] = enc == RM_ENCODING_SPIN ? PetscAbsReal(sum[mu]) / n : (sum[P + mu] > 0 ? sum[mu] / sum[P + mu] : 0.0);
  PetscCall(PetscFree2(loc, sum));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmInputInitialState(RmMemories mem, uint64_t seed, Vec y)
{
  PetscInt        rstart, rend, wpp;
  PetscScalar    *ya;
  RmEncoding      enc;
  const uint64_t *words;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetEncoding(mem, &enc));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmMemoriesGetLocalPacked(mem, &words, &wpp));
  PetscCall(VecGetArrayWrite(y, &ya));
  if (enc == RM_ENCODING_SPIN)
    for (PetscInt i = rstart; i < rend; i++) ya[i - rstart] = RmRandomNormal(seed, RM_STREAM_INPUT, (uint64_t)1 << 40, (uint64_t)i);
  else /* the authors' firing-rate variant: memory 0 with each active neuron kept with probability 1/2 */
    for (PetscInt i = rstart; i < rend; i++)
      ya[i - rstart] = RmPackedBit(words, wpp, 0, i - rstart) && RmRandomUniform(seed, RM_STREAM_INPUT, ((uint64_t)1 << 40) + 1, (uint64_t)i) < 0.5 ? 1.0 : 0.0;
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------ inputs from HDF5 (-input_file) */
#define RmCallHDF5(comm, call, ...) \
  do { \
    if (PetscUnlikely((call) < 0)) SETERRQ(comm, PETSC_ERR_FILE_READ, __VA_ARGS__); \
  } while (0)

/* The "durations" attribute of the dataset: S numbers, or one for every row. */
static PetscErrorCode ReadDurations(MPI_Comm comm, const char *path, const char *dataset, hid_t dset, PetscInt S, PetscReal *dur)
{
  hid_t    attr, space;
  hssize_t npts;
  herr_t   st;

  PetscFunctionBeginUser;
  PetscCheck(H5Aexists(dset, "durations") > 0, comm, PETSC_ERR_FILE_UNEXPECTED,
             "input file %s: dataset /%s has no attribute 'durations'; give the durations with -input_schedule file0:T,file1:T,...", path, dataset);
  attr  = H5Aopen(dset, "durations", H5P_DEFAULT);
  space = H5Aget_space(attr);
  npts  = H5Sget_simple_extent_npoints(space);
  H5Sclose(space);
  if (npts != 1 && npts != S) {
    H5Aclose(attr);
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "input file %s: attribute 'durations' of /%s has %lld values, expected %" PetscInt_FMT " (one per row) or 1",
            path, dataset, (long long)npts, S);
  }
  st = H5Aread(attr, H5T_NATIVE_DOUBLE, dur);
  H5Aclose(attr);
  RmCallHDF5(comm, st, "input file %s: cannot read attribute 'durations' of /%s as numbers", path, dataset);
  if (npts == 1)
    for (PetscInt k = 1; k < S; k++) dur[k] = dur[0];
  for (PetscInt k = 0; k < S; k++)
    PetscCheck(PetscIsNormalReal(dur[k]) && dur[k] > 0, comm, PETSC_ERR_FILE_UNEXPECTED,
               "input file %s: duration %" PetscInt_FMT " in attribute 'durations' of /%s must be a finite number > 0, got %g", path, k, dataset, (double)dur[k]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmScheduleSetInputFile(RmMemories mem, const char *path, const char *dataset, RmSchedule *sched)
{
  MPI_Comm   comm;
  PetscBool  exists;
  hid_t      fapl, file, dset, space, type, fspace, mspace, dxpl;
  hsize_t    dims[2] = {0, 0}, start[2], count[2];
  int        ndims;
  H5T_class_t cls;
  PetscInt   n, rstart, rend, nloc, S, used = 0;
  PetscInt64 bad = 0, badsum;
  PetscReal *dur = NULL;
  herr_t     st;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetComm(mem, &comm));
  PetscCall(RmMemoriesGetSizes(mem, &n, NULL));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  nloc = rend - rstart;
  PetscCheck(path && path[0], comm, PETSC_ERR_ARG_WRONG, "-input_file needs a file name");
  PetscCheck(dataset && dataset[0], comm, PETSC_ERR_ARG_WRONG, "-input_dataset needs a dataset name");
  PetscCall(RmFileExists(comm, path, &exists));
  PetscCheck(exists, comm, PETSC_ERR_FILE_OPEN, "input file %s does not exist or cannot be read", path);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  { /* a long name is opened through its directory's descriptor (Open MPI aborts on long names) */
    char h5path[PETSC_MAX_PATH_LEN + 64];
    int  dirfd;
    PetscCall(RmHDF5Path(path, h5path, sizeof(h5path), &dirfd));
    file = H5Fopen(h5path, H5F_ACC_RDONLY, fapl);
    PetscCall(RmHDF5PathRestore(&dirfd));
  }
  H5Pclose(fapl);
  PetscCheck(file >= 0, comm, PETSC_ERR_FILE_OPEN, "input file %s is not an HDF5 file", path);
  if (H5Lexists(file, dataset, H5P_DEFAULT) <= 0 || H5Oexists_by_name(file, dataset, H5P_DEFAULT) <= 0) {
    H5Fclose(file);
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "input file %s has no dataset /%s (set -input_dataset)", path, dataset);
  }
  dset = H5Dopen2(file, dataset, H5P_DEFAULT);
  if (dset < 0) {
    H5Fclose(file);
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "input file %s: /%s is not a dataset", path, dataset);
  }
  space = H5Dget_space(dset);
  ndims = H5Sget_simple_extent_ndims(space);
  if (ndims == 1 || ndims == 2) H5Sget_simple_extent_dims(space, dims, NULL);
  H5Sclose(space);
  type = H5Dget_type(dset);
  cls  = H5Tget_class(type);
  H5Tclose(type);
  {
    hsize_t cols = ndims == 2 ? dims[1] : dims[0];
    if ((ndims != 1 && ndims != 2) || cols != (hsize_t)n || (cls != H5T_FLOAT && cls != H5T_INTEGER) || (ndims == 2 && dims[0] == 0)) {
      H5Dclose(dset);
      H5Fclose(file);
      PetscCheck(ndims == 1 || ndims == 2, comm, PETSC_ERR_FILE_UNEXPECTED, "input file %s: /%s must have shape (S, n) or (n,), got a %d-D dataset", path,
                 dataset, ndims);
      PetscCheck(cls == H5T_FLOAT || cls == H5T_INTEGER, comm, PETSC_ERR_FILE_UNEXPECTED, "input file %s: /%s must hold numbers (float or integer)", path,
                 dataset);
      PetscCheck(ndims != 2 || dims[0] > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "input file %s: /%s has no rows", path, dataset);
      SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "input file %s: /%s has %llu entries per row, the network has n = %" PetscInt_FMT " neurons", path, dataset,
              (unsigned long long)cols, n);
    }
  }
  S = ndims == 2 ? (PetscInt)dims[0] : 1;
  PetscCall(PetscFree(sched->file_data));
  PetscCall(PetscMalloc1(S * nloc + 1, &sched->file_data));
  /* Every rank reads its own neurons of every row: one collective hyperslab read. */
  fspace = H5Dget_space(dset);
  start[0] = 0;
  count[0] = (hsize_t)S;
  start[1] = (hsize_t)rstart;
  count[1] = (hsize_t)nloc;
  if (ndims == 2) H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
  else H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start + 1, NULL, count + 1, NULL);
  mspace = ndims == 2 ? H5Screate_simple(2, count, NULL) : H5Screate_simple(1, count + 1, NULL);
  if (nloc == 0) {
    H5Sselect_none(fspace);
    H5Sselect_none(mspace);
  }
  dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  st = H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, dxpl, sched->file_data);
  H5Pclose(dxpl);
  H5Sclose(mspace);
  H5Sclose(fspace);
  if (st >= 0 && !sched->count) { /* no -input_schedule: the rows in order, durations from the attribute */
    PetscErrorCode ierr;
    PetscCall(PetscMalloc1(S, &dur));
    ierr = ReadDurations(comm, path, dataset, dset, S, dur);
    if (ierr) {
      PetscCall(PetscFree(dur));
      H5Dclose(dset);
      H5Fclose(file);
      PetscCall(ierr);
    }
  }
  H5Dclose(dset);
  H5Fclose(file);
  if (st < 0) PetscCall(PetscFree(dur));
  RmCallHDF5(comm, st, "input file %s: reading /%s failed", path, dataset);
  for (PetscInt k = 0; k < S * nloc; k++) bad += !PetscIsNormalReal(sched->file_data[k]) && sched->file_data[k] != 0.0;
  PetscCallMPI(MPI_Allreduce(&bad, &badsum, 1, MPIU_INT64, MPI_SUM, comm));
  if (badsum) PetscCall(PetscFree(dur));
  PetscCheck(!badsum, comm, PETSC_ERR_FILE_UNEXPECTED, "input file %s: /%s has %" PetscInt64_FMT " entries that are NaN or Inf", path, dataset, badsum);
  sched->file_rows = S;
  sched->file_nloc = nloc;
  if (dur) {
    PetscCall(PetscFree(sched->items));
    PetscCall(PetscCalloc1(S, &sched->items));
    for (PetscInt k = 0; k < S; k++) sched->items[k] = (RmPresentation){RM_PRESENT_FILE, -1, dur[k], k};
    sched->count = S;
    PetscCall(PetscFree(dur));
  }
  for (PetscInt k = 0; k < sched->count; k++) {
    const RmPresentation *pr = &sched->items[k];
    if (pr->kind != RM_PRESENT_FILE) continue;
    used++;
    PetscCheck(pr->row < S, comm, PETSC_ERR_ARG_OUTOFRANGE, "input schedule item %" PetscInt_FMT " 'file%" PetscInt_FMT "': input file %s has %" PetscInt_FMT " row%s (0..%" PetscInt_FMT ")",
               k, pr->row, path, S, S > 1 ? "s" : "", S - 1);
  }
  PetscCheck(used, comm, PETSC_ERR_ARG_INCOMP, "-input_file %s is not used: -input_schedule has no fileK item", path);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (ξ^μ − q̄)ᵀu/(N s): the input's projection on each memory (q̄ = q, s = q for {0,1}; q̄ = 0, s = 1 for ±1). */
static PetscErrorCode Projections(RmMemories mem, Vec u, PetscReal *c)
{
  const uint64_t    *words;
  const PetscScalar *ua;
  PetscInt           wpp, P, n, rstart, rend;
  PetscReal         *loc, q = 0;
  MPI_Comm           comm;
  RmEncoding         enc;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetEncoding(mem, &enc));
  if (enc == RM_ENCODING_BINARY) PetscCall(RmMemoriesGetCoding(mem, &q));
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetComm(mem, &comm));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmMemoriesGetLocalPacked(mem, &words, &wpp));
  PetscCall(PetscCalloc1(P + 1, &loc));
  PetscCall(VecGetArrayRead(u, &ua));
  for (PetscInt i = 0; i < rend - rstart; i++) {
    loc[P] += ua[i];
    for (PetscInt mu = 0; mu < P; mu++) loc[mu] += RmPackedBit(words, wpp, mu, i) ? ua[i] : (enc == RM_ENCODING_SPIN ? -ua[i] : 0.0);
  }
  PetscCall(VecRestoreArrayRead(u, &ua));
  PetscCallMPI(MPI_Allreduce(loc, c, (PetscMPIInt)P, MPIU_REAL, MPI_SUM, comm));
  if (enc == RM_ENCODING_BINARY) {
    PetscReal S;
    PetscCallMPI(MPI_Allreduce(&loc[P], &S, 1, MPIU_REAL, MPI_SUM, comm));
    for (PetscInt mu = 0; mu < P; mu++) c[mu] = (c[mu] - q * S) / (n * q);
  } else
    for (PetscInt mu = 0; mu < P; mu++) c[mu] /= n;
  PetscCall(PetscFree(loc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmScheduleGetInput(RmMemories mem, const RmSchedule *sched, PetscInt k, uint64_t seed, const PetscReal *weights, PetscInt nweights, Vec u,
                                  PetscReal *c)
{
  const RmPresentation *pr = &sched->items[k];
  MPI_Comm              comm;
  PetscInt              n, P;
  RmEncoding            enc;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetComm(mem, &comm));
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetEncoding(mem, &enc));
  if (pr->kind == RM_PRESENT_FILE) {
    PetscScalar *ua;
    PetscCheck(sched->file_data, comm, PETSC_ERR_ARG_INCOMP, "input schedule item %" PetscInt_FMT " 'file%" PetscInt_FMT "' needs -input_file", k, pr->row);
    PetscCheck(pr->row < sched->file_rows, comm, PETSC_ERR_ARG_OUTOFRANGE, "input schedule item %" PetscInt_FMT ": the input file has no row %" PetscInt_FMT, k,
               pr->row);
    PetscCall(VecGetArrayWrite(u, &ua));
    PetscCall(PetscArraycpy(ua, sched->file_data + pr->row * sched->file_nloc, sched->file_nloc));
    PetscCall(VecRestoreArrayWrite(u, &ua));
    PetscCall(Projections(mem, u, c));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (pr->kind == RM_PRESENT_DOMINANT && enc == RM_ENCODING_BINARY) /* the firing-rate variant's draw (authors' code) */
    for (PetscInt mu = 0; mu < P; mu++) c[mu] = mu == pr->memory ? Uniform(seed, k, mu, 9.0, 10.0) : Uniform(seed, k, mu, 0.5, 1.5);
  else PetscCall(RmScheduleGetWeights(comm, sched, k, P, n, seed, weights, nweights, c));
  PetscCall(RmInputBuildVector(mem, c, u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmScheduleGetItemName(const RmSchedule *sched, PetscInt k, char *name, size_t len)
{
  const RmPresentation *pr = &sched->items[k];

  PetscFunctionBeginUser;
  switch (pr->kind) {
  case RM_PRESENT_DOMINANT:
    PetscCall(PetscSNPrintf(name, len, "dominant%" PetscInt_FMT, pr->memory));
    break;
  case RM_PRESENT_FILE:
    PetscCall(PetscSNPrintf(name, len, "file%" PetscInt_FMT, pr->row));
    break;
  default:
    PetscCall(PetscSNPrintf(name, len, "%s", pr->kind == RM_PRESENT_WEIGHTS ? "weights" : "off"));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
