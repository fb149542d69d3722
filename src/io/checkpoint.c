/* Checkpoint and restart : the HDF5 checkpoint of a `ratemem retrieve` run, its
   identity check, and the signal flag. Layout of the file (format version 1):
     /                 attributes format = "ratemem-checkpoint", version, ratemem_version, config_hash
                       (FNV-1a 64 of /identity), ranks (informative), int_columns, real_columns
     /identity         uint8 [len]     "key = value" lines: named settings, then "option -name = value"
     /progress_ints    int64 [4 + 13]  completed, in_progress, noise_step, has_final_states, then the
                                       batch's counts (converged, steps, rhs_evals, ...; PROGRESS_INTS)
     /progress_reals   double [4]      t, t_end, residual, wall_time
     /results_ints     int64 [T][nint] per-trial integer results (rows < completed are valid)
     /results_reals    double [T][nreal]
     /overlaps, /overlaps_raw  double [T][P]
     /final_states     double [T][n]   with -output only: the completed trials' final neuron states
     /state            double [B][n+m] only while a batch is in progress: global unit order
   Written under a unique temporary name (RmAtomicFile, src/io/atomic.c) with MPI-IO (each rank its own
   units; rank 0 the replicated data), closed by all, synced and renamed by rank 0. Read with independent I/O; each read's success is agreed by
   all ranks (one MPI_Allreduce) so a corrupt file fails everywhere with the same message. */
#include <fcntl.h>
#include <hdf5.h>
#include <ratemem/checkpoint.h>
#include <ratemem/io.h>
#include <ratemem/ratemem.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PROGRESS_HEAD 4
#define PROGRESS_INTS (PROGRESS_HEAD + 13)
#define PROGRESS_REALS 4

typedef struct {
  char      *name, *s; /* s: a string attribute, else NULL */
  PetscBool  integer;
  PetscReal  r;
  PetscInt64 i;
} RmCheckpointAttribute;

struct _p_RmCheckpoint {
  MPI_Comm    comm;
  PetscInt    trials, P, nint, nreal;
  char       *int_names, *real_names;
  char       *identity; /* "key = value\n" lines */
  size_t      identity_len, identity_cap;
  PetscInt64 *ints;    /* trials x nint */
  PetscReal  *reals;   /* trials x nreal */
  PetscReal  *ov, *ov_raw; /* trials x P */
  PetscBool   store_final;
  PetscInt    nloc;
  PetscReal  *final;   /* trials x nloc (this rank's neurons) */
  RmCheckpointAttribute *attrs; /* the run's description, written as attributes of every checkpoint */
  PetscInt    nattrs, attrs_cap;
};

static int exit_status = 0;

void RmCheckpointSetExitStatus(int status)
{
  exit_status = status;
}

int RmCheckpointExitStatus(void)
{
  return exit_status;
}

/* ---------------------------------------------------------------- signals */
static volatile sig_atomic_t signal_received = 0;
static struct sigaction      old_usr1, old_term;
static PetscBool             handlers_installed = PETSC_FALSE;

static void SignalHandler(int sig)
{
  signal_received = sig; /* only this: async-signal-safe. The run polls it at step boundaries. */
}

PetscErrorCode RmCheckpointInstallSignalHandlers(void)
{
  struct sigaction sa;

  PetscFunctionBeginUser;
  if (handlers_installed) PetscFunctionReturn(PETSC_SUCCESS);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SignalHandler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART; /* interrupted system calls (MPI, file I/O) carry on */
  PetscCheck(sigaction(SIGUSR1, &sa, &old_usr1) == 0 && sigaction(SIGTERM, &sa, &old_term) == 0, PETSC_COMM_SELF, PETSC_ERR_SYS,
             "cannot install the SIGUSR1/SIGTERM handlers for checkpointing");
  signal_received    = 0;
  handlers_installed = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointRestoreSignalHandlers(void)
{
  PetscFunctionBeginUser;
  if (!handlers_installed) PetscFunctionReturn(PETSC_SUCCESS);
  sigaction(SIGUSR1, &old_usr1, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  handlers_installed = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

int RmCheckpointSignalReceived(void)
{
  return (int)signal_received;
}

/* ---------------------------------------------------------------- layout and object */
PetscErrorCode RmCheckpointLayoutFromModel(RmModel model, RmCheckpointLayout *L)
{
  Vec         xn, x;
  PetscInt    B, nb, nlocb, start, xloc;
  MPI_Comm    comm;
  PetscMPIInt mloc, ustart, m;

  PetscFunctionBeginUser;
  PetscCall(RmModelGetBatch(model, &B));
  PetscCall(RmModelCreateNeuronVec(model, &xn));
  PetscCall(RmModelCreateState(model, &x));
  PetscCall(PetscObjectGetComm((PetscObject)x, &comm));
  PetscCall(VecGetSize(xn, &nb));
  PetscCall(VecGetLocalSize(xn, &nlocb));
  PetscCall(VecGetOwnershipRange(xn, &start, NULL));
  PetscCall(VecGetLocalSize(x, &xloc));
  PetscCall(VecDestroy(&xn));
  PetscCall(VecDestroy(&x));
  L->batch  = B;
  L->n      = nb / B;
  L->nloc   = nlocb / B;
  L->rstart = start / B;
  mloc      = (PetscMPIInt)(xloc / B - L->nloc);
  PetscCallMPI(MPI_Scan(&mloc, &ustart, 1, MPI_INT, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(&mloc, &m, 1, MPI_INT, MPI_SUM, comm));
  L->mloc   = mloc;
  L->ustart = ustart - mloc;
  L->m      = m;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointCreate(MPI_Comm comm, PetscInt trials, PetscInt P, PetscInt nint, const char *int_names, PetscInt nreal, const char *real_names,
                                  RmCheckpoint *ckp)
{
  RmCheckpoint ck;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&ck));
  ck->comm   = comm;
  ck->trials = trials;
  ck->P      = P;
  ck->nint   = nint;
  ck->nreal  = nreal;
  PetscCall(PetscStrallocpy(int_names, &ck->int_names));
  PetscCall(PetscStrallocpy(real_names, &ck->real_names));
  PetscCall(PetscCalloc4(trials * nint, &ck->ints, trials * nreal, &ck->reals, trials * P, &ck->ov, trials * P, &ck->ov_raw));
  ck->identity_cap = 1024;
  PetscCall(PetscCalloc1(ck->identity_cap, &ck->identity));
  *ckp = ck;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointDestroy(RmCheckpoint *ckp)
{
  RmCheckpoint ck = *ckp;

  PetscFunctionBeginUser;
  if (!ck) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree(ck->int_names));
  PetscCall(PetscFree(ck->real_names));
  PetscCall(PetscFree4(ck->ints, ck->reals, ck->ov, ck->ov_raw));
  PetscCall(PetscFree(ck->identity));
  PetscCall(PetscFree(ck->final));
  for (PetscInt k = 0; k < ck->nattrs; k++) {
    PetscCall(PetscFree(ck->attrs[k].name));
    PetscCall(PetscFree(ck->attrs[k].s));
  }
  PetscCall(PetscFree(ck->attrs));
  PetscCall(PetscFree(*ckp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- description attributes */
static PetscErrorCode NewAttribute(RmCheckpoint ck, const char *name, RmCheckpointAttribute **a)
{
  PetscFunctionBeginUser;
  if (ck->nattrs == ck->attrs_cap) {
    RmCheckpointAttribute *grown;
    ck->attrs_cap = PetscMax(32, 2 * ck->attrs_cap);
    PetscCall(PetscCalloc1(ck->attrs_cap, &grown));
    if (ck->nattrs) PetscCall(PetscArraycpy(grown, ck->attrs, ck->nattrs));
    PetscCall(PetscFree(ck->attrs));
    ck->attrs = grown;
  }
  *a = &ck->attrs[ck->nattrs++];
  PetscCall(PetscStrallocpy(name, &(*a)->name));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointSetAttributeString(RmCheckpoint ck, const char *name, const char *value)
{
  RmCheckpointAttribute *a = NULL;

  PetscFunctionBeginUser;
  PetscCall(NewAttribute(ck, name, &a));
  PetscCall(PetscStrallocpy(value, &a->s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointSetAttributeReal(RmCheckpoint ck, const char *name, PetscReal value)
{
  RmCheckpointAttribute *a = NULL;

  PetscFunctionBeginUser;
  PetscCall(NewAttribute(ck, name, &a));
  a->r = value;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointSetAttributeInt(RmCheckpoint ck, const char *name, PetscInt64 value)
{
  RmCheckpointAttribute *a = NULL;

  PetscFunctionBeginUser;
  PetscCall(NewAttribute(ck, name, &a));
  a->integer = PETSC_TRUE;
  a->i       = value;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AppendIdentity(RmCheckpoint ck, const char *key, const char *value)
{
  size_t need;

  PetscFunctionBeginUser;
  PetscCheck(!strchr(key, '\n') && !strchr(value, '\n'), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "identity entries are single lines");
  need = ck->identity_len + strlen(key) + strlen(value) + 5;
  if (need > ck->identity_cap) {
    char *s;
    while (ck->identity_cap < need) ck->identity_cap *= 2;
    PetscCall(PetscCalloc1(ck->identity_cap, &s));
    PetscCall(PetscArraycpy(s, ck->identity, ck->identity_len));
    PetscCall(PetscFree(ck->identity));
    ck->identity = s;
  }
  ck->identity_len += (size_t)snprintf(ck->identity + ck->identity_len, ck->identity_cap - ck->identity_len, "%s = %s\n", key, value);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointAddIdentity(RmCheckpoint ck, const char *key, const char *format, ...)
{
  char    value[1024];
  va_list ap;

  PetscFunctionBeginUser;
  va_start(ap, format);
  vsnprintf(value, sizeof(value), format, ap);
  va_end(ap);
  PetscCall(AppendIdentity(ck, key, value));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscBool Excluded(const char *name, const char *const exclude[])
{
  for (PetscInt k = 0; exclude && exclude[k]; k++) {
    size_t len = strlen(exclude[k]);
    if (len && exclude[k][len - 1] == '*') {
      if (!strncasecmp(name, exclude[k], len - 1)) return PETSC_TRUE;
    } else if (!strcasecmp(name, exclude[k])) return PETSC_TRUE;
  }
  return PETSC_FALSE;
}

typedef struct {
  char *name, *value;
} Option;

static int CompareOptions(const void *a, const void *b)
{
  return strcmp(((const Option *)a)->name, ((const Option *)b)->name);
}

/* PetscOptionsGetAll gives "-name value -name -name value ..."; a token "-x" with x a letter starts a
   name (a negative number such as -0.3 starts with a digit or '.'), anything else is (part of) a value. */
PetscErrorCode RmCheckpointAddOptionsIdentity(RmCheckpoint ck, const char *const exclude[])
{
  char    *all, *save = NULL, *tok;
  Option  *opts;
  PetscInt n = 0, cap = 64;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  PetscCall(PetscMalloc1(cap, &opts));
  for (tok = strtok_r(all, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
    if (tok[0] == '-' && ((tok[1] >= 'a' && tok[1] <= 'z') || (tok[1] >= 'A' && tok[1] <= 'Z') || tok[1] == '_')) {
      if (n == cap) {
        Option *o;
        PetscCall(PetscMalloc1(2 * cap, &o));
        PetscCall(PetscArraycpy(o, opts, n));
        PetscCall(PetscFree(opts));
        opts = o;
        cap *= 2;
      }
      opts[n].name  = tok + 1;
      opts[n].value = NULL;
      n++;
    } else if (n > 0) {
      if (!opts[n - 1].value) opts[n - 1].value = tok;
      else opts[n - 1].value[strlen(opts[n - 1].value)] = ' '; /* re-join "a b": strtok_r left a NUL there */
    }
  }
  qsort(opts, (size_t)n, sizeof(Option), CompareOptions);
  for (PetscInt k = 0; k < n; k++) {
    char key[512];
    if (Excluded(opts[k].name, exclude)) continue; /* (names are unique in the database: a repeated option keeps its last value) */
    PetscCall(PetscSNPrintf(key, sizeof(key), "option -%s", opts[k].name));
    PetscCall(AppendIdentity(ck, key, opts[k].value ? opts[k].value : "(set)"));
  }
  PetscCall(PetscFree(opts));
  PetscCall(PetscFree(all));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointSetStoreFinalStates(RmCheckpoint ck, PetscInt nloc)
{
  PetscFunctionBeginUser;
  ck->store_final = PETSC_TRUE;
  ck->nloc        = nloc;
  PetscCall(PetscFree(ck->final));
  PetscCall(PetscCalloc1(ck->trials * nloc + 1, &ck->final));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointSetTrial(RmCheckpoint ck, PetscInt t, const PetscInt64 ints[], const PetscReal reals[], const PetscReal ov[], const PetscReal ov_raw[])
{
  PetscFunctionBeginUser;
  PetscCheck(t >= 0 && t < ck->trials, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "trial %" PetscInt_FMT " out of range", t);
  PetscCall(PetscArraycpy(ck->ints + t * ck->nint, ints, ck->nint));
  PetscCall(PetscArraycpy(ck->reals + t * ck->nreal, reals, ck->nreal));
  PetscCall(PetscArraycpy(ck->ov + t * ck->P, ov, ck->P));
  PetscCall(PetscArraycpy(ck->ov_raw + t * ck->P, ov_raw, ck->P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointGetTrial(RmCheckpoint ck, PetscInt t, PetscInt64 ints[], PetscReal reals[], PetscReal ov[], PetscReal ov_raw[])
{
  PetscFunctionBeginUser;
  PetscCheck(t >= 0 && t < ck->trials, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "trial %" PetscInt_FMT " out of range", t);
  if (ints) PetscCall(PetscArraycpy(ints, ck->ints + t * ck->nint, ck->nint));
  if (reals) PetscCall(PetscArraycpy(reals, ck->reals + t * ck->nreal, ck->nreal));
  if (ov) PetscCall(PetscArraycpy(ov, ck->ov + t * ck->P, ck->P));
  if (ov_raw) PetscCall(PetscArraycpy(ov_raw, ck->ov_raw + t * ck->P, ck->P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointSetTrialFinalState(RmCheckpoint ck, PetscInt t, Vec xn)
{
  const PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCheck(ck->store_final, PETSC_COMM_SELF, PETSC_ERR_ORDER, "final states are not stored (RmCheckpointSetStoreFinalStates)");
  PetscCall(VecGetArrayRead(xn, &a));
  PetscCall(PetscArraycpy(ck->final + t * ck->nloc, a, ck->nloc));
  PetscCall(VecRestoreArrayRead(xn, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckpointGetTrialFinalState(RmCheckpoint ck, PetscInt t, Vec xn)
{
  PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCheck(ck->store_final, PETSC_COMM_SELF, PETSC_ERR_ORDER, "final states are not stored (RmCheckpointSetStoreFinalStates)");
  PetscCall(VecGetArrayWrite(xn, &a));
  PetscCall(PetscArraycpy(a, ck->final + t * ck->nloc, ck->nloc));
  PetscCall(VecRestoreArrayWrite(xn, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static uint64_t Hash64(const char *s, size_t len)
{
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* ---------------------------------------------------------------- HDF5 helpers */
static PetscErrorCode Agree(MPI_Comm comm, PetscBool *ok)
{
  int mine = *ok ? 1 : 0, all;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm));
  *ok = all ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static hid_t CreateDataset(hid_t file, const char *name, hid_t type, int rank, hsize_t d0, hsize_t d1)
{
  hsize_t dims[2] = {d0, d1};
  hid_t   space   = H5Screate_simple(rank, dims, NULL);
  hid_t   dset    = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(space);
  return dset;
}

/* Selects the block start x count (rank 1 or 2) in fspace and returns the matching memory space. An
   empty block selects nothing in either, so a rank without rows still takes part in a collective call. */
static hid_t SelectBlock(hid_t fspace, int rank, hsize_t s0, hsize_t s1, hsize_t c0, hsize_t c1)
{
  hsize_t start[2] = {s0, s1}, count[2] = {c0, rank == 1 ? 1 : c1}, one[2] = {1, 1};
  hid_t   mspace;

  if (count[0] * count[1] == 0) {
    H5Sselect_none(fspace);
    mspace = H5Screate_simple(rank, one, NULL);
    H5Sselect_none(mspace);
  } else {
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    mspace = H5Screate_simple(rank, count, NULL);
  }
  return mspace;
}

/* Collective write of the block start x count (rank 1 or 2) of dset; count with a zero selects nothing. */
static herr_t WriteBlock(hid_t dset, hid_t type, int rank, hsize_t s0, hsize_t s1, hsize_t c0, hsize_t c1, const void *buf, hid_t dxpl)
{
  hid_t  fspace = H5Dget_space(dset), mspace = SelectBlock(fspace, rank, s0, s1, c0, c1);
  herr_t status;

  status = H5Dwrite(dset, type, mspace, fspace, dxpl, buf);
  H5Sclose(mspace);
  H5Sclose(fspace);
  return status;
}

/* Independent read of the block start x count (rank 1 or 2) of dataset name; checks the dataset's dims
   against expect (0: not checked). Returns a negative value on any failure. */
static herr_t ReadBlock(hid_t file, const char *name, hid_t type, int rank, const hsize_t expect[2], hsize_t s0, hsize_t s1, hsize_t c0, hsize_t c1, void *buf)
{
  hsize_t dims[2] = {0, 0};
  hid_t   dset, fspace, mspace;
  herr_t  status = -1;

  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) return -1;
  dset = H5Dopen2(file, name, H5P_DEFAULT);
  if (dset < 0) return -1;
  fspace = H5Dget_space(dset);
  if (fspace >= 0 && H5Sget_simple_extent_ndims(fspace) == rank && H5Sget_simple_extent_dims(fspace, dims, NULL) == rank &&
      (!expect[0] || dims[0] == expect[0]) && (rank == 1 || !expect[1] || dims[1] == expect[1])) {
    mspace = SelectBlock(fspace, rank, s0, s1, c0, c1);
    status = H5Dread(dset, type, mspace, fspace, H5P_DEFAULT, buf);
    H5Sclose(mspace);
  }
  if (fspace >= 0) H5Sclose(fspace);
  H5Dclose(dset);
  return status;
}

static herr_t WriteStringAttribute(hid_t obj, const char *name, const char *value)
{
  hid_t  type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), attr;
  herr_t status;

  H5Tset_size(type, strlen(value) + 1);
  H5Tset_strpad(type, H5T_STR_NULLTERM);
  attr   = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  status = attr < 0 ? -1 : H5Awrite(attr, type, value);
  if (attr >= 0) H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
  return status;
}

static herr_t WriteScalarAttribute(hid_t obj, const char *name, hid_t type, const void *value)
{
  hid_t  space = H5Screate(H5S_SCALAR), attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t status = attr < 0 ? -1 : H5Awrite(attr, type, value);
  if (attr >= 0) H5Aclose(attr);
  H5Sclose(space);
  return status;
}

/* A string attribute into value[len] (truncated), or a negative status when absent. */
static herr_t ReadStringAttribute(hid_t obj, const char *name, char *value, size_t len)
{
  hid_t  attr, ftype, mtype;
  herr_t status = -1;
  size_t size;
  char  *buf;

  value[0] = 0;
  if (H5Aexists(obj, name) <= 0) return -1;
  attr  = H5Aopen(obj, name, H5P_DEFAULT);
  ftype = attr < 0 ? -1 : H5Aget_type(attr);
  if (ftype >= 0 && H5Tget_class(ftype) == H5T_STRING && !H5Tis_variable_str(ftype)) {
    size  = H5Tget_size(ftype);
    mtype = H5Tcopy(H5T_C_S1); /* one byte more and NUL-terminated: a NULLPAD string of any writer keeps its last character */
    H5Tset_size(mtype, size + 1);
    H5Tset_strpad(mtype, H5T_STR_NULLTERM);
    buf = (char *)calloc(size + 2, 1);
    if (buf) {
      status = H5Aread(attr, mtype, buf);
      if (status >= 0) snprintf(value, len, "%s", buf);
      free(buf);
    }
    H5Tclose(mtype);
  }
  if (ftype >= 0) H5Tclose(ftype);
  if (attr >= 0) H5Aclose(attr);
  return status;
}

static herr_t ReadScalarAttribute(hid_t obj, const char *name, hid_t type, void *value)
{
  hid_t  attr;
  herr_t status;

  if (H5Aexists(obj, name) <= 0) return -1;
  attr = H5Aopen(obj, name, H5P_DEFAULT);
  if (attr < 0) return -1;
  status = H5Aread(attr, type, value);
  H5Aclose(attr);
  return status;
}

static void StatsToArrays(const RmIntegratorStats *s, PetscInt64 *i, PetscReal *r)
{
  i[0] = s->converged, i[1] = s->steps, i[2] = s->rhs_evals, i[3] = s->jtimes_evals, i[4] = s->jac_setups, i[5] = s->nonlin_iters, i[6] = s->lin_iters;
  i[7] = s->err_test_fails, i[8] = s->nonlin_conv_fails, i[9] = s->lin_conv_fails, i[10] = s->prec_setups, i[11] = s->prec_solves;
  i[12] = s->weight_products;
  r[0] = s->t_end, r[1] = s->residual, r[2] = s->wall_time;
}

static void StatsFromArrays(RmIntegratorStats *s, const PetscInt64 *i, const PetscReal *r)
{
  memset(s, 0, sizeof(*s));
  s->converged = i[0] ? PETSC_TRUE : PETSC_FALSE, s->steps = i[1], s->rhs_evals = i[2], s->jtimes_evals = i[3], s->jac_setups = i[4];
  s->nonlin_iters = i[5], s->lin_iters = i[6], s->err_test_fails = i[7], s->nonlin_conv_fails = i[8], s->lin_conv_fails = i[9];
  s->prec_setups = i[10], s->prec_solves = i[11], s->weight_products = i[12];
  s->t_end = r[0], s->residual = r[1], s->wall_time = r[2];
}

/* Collective. Each step runs on every rank unless an earlier one failed on any rank, and its outcome is
   agreed: a failure on one rank (a full disk seen by the MPI-IO aggregator only) makes every rank skip
   the same remaining collective calls, so none is left waiting in one. */
#define CheckH5(call, what) \
  do { \
    if (!failed) { \
      PetscBool ok_ = (call) >= 0 ? PETSC_TRUE : PETSC_FALSE; \
      PetscCall(Agree(ck->comm, &ok_)); \
      if (!ok_) failed = what; \
    } \
  } while (0)

/* ---------------------------------------------------------------- write */
PetscErrorCode RmCheckpointWrite(RmCheckpoint ck, const char *path, const RmCheckpointProgress *pg, Vec state, const RmCheckpointLayout *L)
{
  RmAtomicFile       af;
  const char        *open_path;
  hid_t              fapl, file, dxpl, d;
  PetscMPIInt        rank, size;
  const char        *failed = NULL;
  PetscInt64         pi[PROGRESS_INTS];
  PetscReal          pr[PROGRESS_REALS];
  uint64_t           hash = Hash64(ck->identity, ck->identity_len);
  int                version = RM_CHECKPOINT_VERSION, ranks;
  const PetscInt     T = ck->trials, done = pg->completed;
  const PetscScalar *xa = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.io_write, 0, 0, 0, 0));
  PetscCallMPI(MPI_Comm_rank(ck->comm, &rank));
  PetscCallMPI(MPI_Comm_size(ck->comm, &size));
  ranks = size;
  PetscCall(RmAtomicFileOpen(ck->comm, path, &af));
  { /* every dataset at its full size, and room for the metadata: a full disk is found before anything is written */
    PetscInt64 bytes = (PetscInt64)ck->identity_len + 8 * ((PetscInt64)T * (ck->nint + ck->nreal + 2 * ck->P) + PROGRESS_INTS + PROGRESS_REALS) + 65536;
    if (ck->store_final) bytes += 8 * (PetscInt64)T * L->n;
    if (pg->in_progress) bytes += 8 * (PetscInt64)L->batch * (L->n + L->m);
    PetscErrorCode ierr = RmAtomicFileCheckSpace(af, bytes);
    if (ierr) PetscCall(RmAtomicFileDestroy(&af));
    PetscCall(ierr);
  }
  PetscCall(RmAtomicFileGetPath(af, &open_path));
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, ck->comm, MPI_INFO_NULL);
  file = H5Fcreate(open_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  {
    PetscBool ok = file >= 0 ? PETSC_TRUE : PETSC_FALSE;
    PetscCall(Agree(ck->comm, &ok));
    if (!ok) {
      if (file >= 0) H5Fclose(file);
      PetscCall(RmAtomicFileDestroy(&af));
    }
    PetscCheck(ok, ck->comm, PETSC_ERR_FILE_OPEN, "cannot create checkpoint %s (is the directory writable?)", path);
  }
  dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);

  CheckH5(WriteStringAttribute(file, "format", RM_CHECKPOINT_FORMAT), "attribute format");
  CheckH5(WriteScalarAttribute(file, "version", H5T_NATIVE_INT, &version), "attribute version");
  CheckH5(WriteStringAttribute(file, "ratemem_version", RATEMEM_VERSION), "attribute ratemem_version");
  CheckH5(WriteScalarAttribute(file, "config_hash", H5T_NATIVE_UINT64, &hash), "attribute config_hash");
  CheckH5(WriteScalarAttribute(file, "ranks", H5T_NATIVE_INT, &ranks), "attribute ranks");
  CheckH5(WriteStringAttribute(file, "int_columns", ck->int_names), "attribute int_columns");
  CheckH5(WriteStringAttribute(file, "real_columns", ck->real_names), "attribute real_columns");
  for (PetscInt k = 0; k < ck->nattrs && !failed; k++) { /* the run's description; the names above are the checkpoint's own */
    const RmCheckpointAttribute *a = &ck->attrs[k];
    if (H5Aexists(file, a->name) > 0) continue;
    if (a->s) CheckH5(WriteStringAttribute(file, a->name, a->s), a->name);
    else if (a->integer) CheckH5(WriteScalarAttribute(file, a->name, H5T_NATIVE_INT64, &a->i), a->name);
    else CheckH5(WriteScalarAttribute(file, a->name, H5T_NATIVE_DOUBLE, &a->r), a->name);
  }

  /* replicated data: rank 0 writes, the others take part with an empty selection */
  d = failed ? -1 : CreateDataset(file, "identity", H5T_NATIVE_UINT8, 1, ck->identity_len, 0);
  CheckH5(d, "/identity");
  if (d >= 0) CheckH5(WriteBlock(d, H5T_NATIVE_UINT8, 1, 0, 0, rank ? 0 : ck->identity_len, 1, ck->identity, dxpl), "/identity");
  if (d >= 0) H5Dclose(d);

  pi[0] = done, pi[1] = pg->in_progress, pi[2] = pg->noise_step, pi[3] = ck->store_final;
  StatsToArrays(&pg->stats, pi + PROGRESS_HEAD, pr + 1);
  pr[0] = pg->t;
  d     = failed ? -1 : CreateDataset(file, "progress_ints", H5T_NATIVE_INT64, 1, PROGRESS_INTS, 0);
  CheckH5(d, "/progress_ints");
  if (d >= 0) CheckH5(WriteBlock(d, H5T_NATIVE_INT64, 1, 0, 0, rank ? 0 : PROGRESS_INTS, 1, pi, dxpl), "/progress_ints");
  if (d >= 0) H5Dclose(d);
  d = failed ? -1 : CreateDataset(file, "progress_reals", H5T_NATIVE_DOUBLE, 1, PROGRESS_REALS, 0);
  CheckH5(d, "/progress_reals");
  if (d >= 0) CheckH5(WriteBlock(d, H5T_NATIVE_DOUBLE, 1, 0, 0, rank ? 0 : PROGRESS_REALS, 1, pr, dxpl), "/progress_reals");
  if (d >= 0) H5Dclose(d);

  {
    const struct {
      const char *name;
      hid_t       type;
      hsize_t     cols;
      const void *buf;
    } tables[] = {
      {"results_ints",  H5T_NATIVE_INT64,  (hsize_t)ck->nint,  ck->ints  },
      {"results_reals", H5T_NATIVE_DOUBLE, (hsize_t)ck->nreal, ck->reals },
      {"overlaps",      H5T_NATIVE_DOUBLE, (hsize_t)ck->P,     ck->ov    },
      {"overlaps_raw",  H5T_NATIVE_DOUBLE, (hsize_t)ck->P,     ck->ov_raw},
    };
    for (size_t k = 0; k < sizeof(tables) / sizeof(tables[0]); k++) {
      d = failed ? -1 : CreateDataset(file, tables[k].name, tables[k].type, 2, (hsize_t)T, tables[k].cols);
      CheckH5(d, tables[k].name);
      if (d >= 0) CheckH5(WriteBlock(d, tables[k].type, 2, 0, 0, rank ? 0 : (hsize_t)T, tables[k].cols, tables[k].buf, dxpl), tables[k].name);
      if (d >= 0) H5Dclose(d);
    }
  }

  /* distributed data: each rank its own units */
  if (ck->store_final) {
    d = failed ? -1 : CreateDataset(file, "final_states", H5T_NATIVE_DOUBLE, 2, (hsize_t)T, (hsize_t)L->n);
    CheckH5(d, "/final_states");
    if (d >= 0) CheckH5(WriteBlock(d, H5T_NATIVE_DOUBLE, 2, 0, (hsize_t)L->rstart, (hsize_t)done, (hsize_t)ck->nloc, ck->final, dxpl), "/final_states");
    if (d >= 0) H5Dclose(d);
  }
  if (pg->in_progress) {
    const PetscInt W = L->nloc + L->mloc;
    PetscCheck(state, ck->comm, PETSC_ERR_ARG_NULL, "a checkpoint of a batch in progress needs its state");
    d = failed ? -1 : CreateDataset(file, "state", H5T_NATIVE_DOUBLE, 2, (hsize_t)L->batch, (hsize_t)(L->n + L->m));
    CheckH5(d, "/state");
    PetscCall(VecGetArrayRead(state, &xa));
    for (PetscInt b = 0; d >= 0 && b < L->batch; b++) {
      CheckH5(WriteBlock(d, H5T_NATIVE_DOUBLE, 2, (hsize_t)b, (hsize_t)L->rstart, 1, (hsize_t)L->nloc, xa + b * W, dxpl), "/state");
      if (L->m) CheckH5(WriteBlock(d, H5T_NATIVE_DOUBLE, 2, (hsize_t)b, (hsize_t)(L->n + L->ustart), 1, (hsize_t)L->mloc, xa + b * W + L->nloc, dxpl), "/state");
    }
    PetscCall(VecRestoreArrayRead(state, &xa));
    if (d >= 0) H5Dclose(d);
  }
  H5Pclose(dxpl);
  /* The metadata are flushed before the close and the outcome agreed: a failed write (full disk)
     truncates the file first, so that HDF5 can close it (a failed H5Fclose crashes HDF5 later, at
     MPI_Finalize). The previous checkpoint stays as it was. */
  if (!failed && H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) failed = "flushing the file";
  {
    PetscBool ok = failed ? PETSC_FALSE : PETSC_TRUE;
    PetscCall(Agree(ck->comm, &ok));
    if (!ok) PetscCall(RmAtomicFileDiscardData(af));
    if (H5Fclose(file) < 0 && ok) {
      ok     = PETSC_FALSE;
      failed = "closing the file";
    }
    PetscCall(Agree(ck->comm, &ok));
    if (!ok) PetscCall(RmAtomicFileDestroy(&af));
    PetscCheck(ok, ck->comm, PETSC_ERR_FILE_WRITE, "cannot write checkpoint %s: %s failed (disk full or not writable?)", path, failed ? failed : "another rank's write");
  }
  PetscCall(RmAtomicFileCommit(&af)); /* synced, then renamed over path by rank 0 */
  PetscCall(PetscLogEventEnd(RM_EVENTS.io_write, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- identity comparison */
/* The value of key in the identity text, or NULL; value is copied into buf. */
static const char *FindKey(const char *text, const char *key, char *buf, size_t len)
{
  size_t      klen = strlen(key);
  const char *p    = text;
  while (p && *p) {
    const char *eol = strchr(p, '\n');
    size_t      l   = eol ? (size_t)(eol - p) : strlen(p);
    if (l > klen + 3 && !strncmp(p, key, klen) && !strncmp(p + klen, " = ", 3)) {
      size_t vl = PetscMin(l - klen - 3, len - 1);
      memcpy(buf, p + klen + 3, vl);
      buf[vl] = 0;
      return buf;
    }
    p = eol ? eol + 1 : NULL;
  }
  return NULL;
}

/* The first difference between two identity texts, as "KEY is A in the checkpoint, B here". */
static void DescribeMismatch(const char *saved, const char *now, char *msg, size_t len)
{
  char        key[512], a[1024], b[1024];
  const char *texts[2] = {now, saved};

  msg[0] = 0;
  for (int pass = 0; pass < 2; pass++) {
    const char *p = texts[pass];
    while (p && *p) {
      const char *eol = strchr(p, '\n'), *sep = strstr(p, " = ");
      size_t      l   = eol ? (size_t)(eol - p) : strlen(p);
      if (sep && sep < p + l) {
        size_t kl = PetscMin((size_t)(sep - p), sizeof(key) - 1);
        memcpy(key, p, kl);
        key[kl]         = 0;
        const char *va  = FindKey(saved, key, a, sizeof(a));
        const char *vb  = FindKey(now, key, b, sizeof(b));
        if (!va || !vb || strcmp(va, vb)) {
          snprintf(msg, len, "%s is %s in the checkpoint, %s here", key, va ? va : "unset", vb ? vb : "unset");
          return;
        }
      }
      p = eol ? eol + 1 : NULL;
    }
  }
  snprintf(msg, len, "its configuration hash differs");
}

/* ---------------------------------------------------------------- load */
PetscErrorCode RmCheckpointLoad(RmCheckpoint ck, const char *path, RmCheckpointProgress *pg, Vec state, const RmCheckpointLayout *L)
{
  hid_t        fapl, file;
  PetscBool    exists, ok;
  char         format[64], names[2][1024], *saved = NULL, msg[2048];
  int          version = 0;
  uint64_t     hash = 0;
  hsize_t      len  = 0, expect[2] = {0, 0};
  PetscInt64   pi[PROGRESS_INTS];
  PetscReal    pr[PROGRESS_REALS];
  const char  *what = NULL;
  PetscInt     T    = ck->trials;
  PetscScalar *xa;

  PetscFunctionBeginUser;
  PetscCall(RmFileExists(ck->comm, path, &exists));
  PetscCheck(exists, ck->comm, PETSC_ERR_FILE_OPEN, "checkpoint %s does not exist or cannot be read (-restart auto starts afresh when there is none)", path);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, ck->comm, MPI_INFO_NULL);
  { /* a long name is opened through its directory's descriptor (Open MPI aborts on long names) */
    char h5path[PETSC_MAX_PATH_LEN + 64];
    int  dirfd;
    PetscCall(RmHDF5Path(path, h5path, sizeof(h5path), &dirfd));
    file = H5Fopen(h5path, H5F_ACC_RDONLY, fapl);
    PetscCall(RmHDF5PathRestore(&dirfd));
  }
  H5Pclose(fapl);
  ok = file >= 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(Agree(ck->comm, &ok));
  if (!ok && file >= 0) H5Fclose(file);
  PetscCheck(ok, ck->comm, PETSC_ERR_FILE_READ, "checkpoint %s is not a readable HDF5 file (corrupt or truncated?)", path);

  /* format and version */
  ok = (PetscBool)(ReadStringAttribute(file, "format", format, sizeof(format)) >= 0 && !strcmp(format, RM_CHECKPOINT_FORMAT));
  PetscCall(Agree(ck->comm, &ok));
  if (!ok) H5Fclose(file);
  PetscCheck(ok, ck->comm, PETSC_ERR_FILE_UNEXPECTED, "%s is not a ratemem checkpoint (no format attribute \"%s\")", path, RM_CHECKPOINT_FORMAT);
  ok = (PetscBool)(ReadScalarAttribute(file, "version", H5T_NATIVE_INT, &version) >= 0 && version == RM_CHECKPOINT_VERSION);
  PetscCall(Agree(ck->comm, &ok));
  if (!ok) H5Fclose(file);
  PetscCheck(ok, ck->comm, PETSC_ERR_FILE_UNEXPECTED, "checkpoint %s has format version %d; this ratemem reads version %d", path, version, RM_CHECKPOINT_VERSION);

  /* identity */
  ok = (PetscBool)(ReadScalarAttribute(file, "config_hash", H5T_NATIVE_UINT64, &hash) >= 0 && H5Lexists(file, "identity", H5P_DEFAULT) > 0);
  if (ok) {
    hid_t d = H5Dopen2(file, "identity", H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
    ok      = (PetscBool)(sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_dims(sp, &len, NULL) == 1);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
  }
  if (ok) {
    saved = (char *)calloc(len + 1, 1);
    ok    = (PetscBool)(saved && ReadBlock(file, "identity", H5T_NATIVE_UINT8, 1, expect, 0, 0, len, 1, saved) >= 0 && Hash64(saved, len) == hash);
  }
  PetscCall(Agree(ck->comm, &ok));
  if (!ok) {
    free(saved);
    H5Fclose(file);
  }
  PetscCheck(ok, ck->comm, PETSC_ERR_FILE_UNEXPECTED, "checkpoint %s is corrupt: its /identity is missing or does not match its config_hash", path);
  if (hash != Hash64(ck->identity, ck->identity_len) || strcmp(saved, ck->identity)) {
    DescribeMismatch(saved, ck->identity, msg, sizeof(msg));
    free(saved);
    H5Fclose(file);
    SETERRQ(ck->comm, PETSC_ERR_ARG_INCOMP, "checkpoint %s does not match this run: %s (refusing to restart)", path, msg);
  }
  free(saved);
  ok = (PetscBool)(ReadStringAttribute(file, "int_columns", names[0], sizeof(names[0])) >= 0 &&
                   ReadStringAttribute(file, "real_columns", names[1], sizeof(names[1])) >= 0 && !strcmp(names[0], ck->int_names) &&
                   !strcmp(names[1], ck->real_names));
  PetscCall(Agree(ck->comm, &ok));
  if (!ok) H5Fclose(file);
  PetscCheck(ok, ck->comm, PETSC_ERR_FILE_UNEXPECTED, "checkpoint %s stores other result columns than this ratemem (written by another version?)", path);

  /* progress and results */
  expect[0] = PROGRESS_INTS;
  if (ReadBlock(file, "progress_ints", H5T_NATIVE_INT64, 1, expect, 0, 0, PROGRESS_INTS, 1, pi) < 0) what = "/progress_ints";
  expect[0] = PROGRESS_REALS;
  if (!what && ReadBlock(file, "progress_reals", H5T_NATIVE_DOUBLE, 1, expect, 0, 0, PROGRESS_REALS, 1, pr) < 0) what = "/progress_reals";
  expect[0] = (hsize_t)T;
  expect[1] = (hsize_t)ck->nint;
  if (!what && ReadBlock(file, "results_ints", H5T_NATIVE_INT64, 2, expect, 0, 0, (hsize_t)T, (hsize_t)ck->nint, ck->ints) < 0) what = "/results_ints";
  expect[1] = (hsize_t)ck->nreal;
  if (!what && ReadBlock(file, "results_reals", H5T_NATIVE_DOUBLE, 2, expect, 0, 0, (hsize_t)T, (hsize_t)ck->nreal, ck->reals) < 0) what = "/results_reals";
  expect[1] = (hsize_t)ck->P;
  if (!what && ReadBlock(file, "overlaps", H5T_NATIVE_DOUBLE, 2, expect, 0, 0, (hsize_t)T, (hsize_t)ck->P, ck->ov) < 0) what = "/overlaps";
  if (!what && ReadBlock(file, "overlaps_raw", H5T_NATIVE_DOUBLE, 2, expect, 0, 0, (hsize_t)T, (hsize_t)ck->P, ck->ov_raw) < 0) what = "/overlaps_raw";
  ok = what ? PETSC_FALSE : PETSC_TRUE;
  PetscCall(Agree(ck->comm, &ok));
  if (!ok) H5Fclose(file);
  PetscCheck(ok, ck->comm, PETSC_ERR_FILE_UNEXPECTED, "checkpoint %s is incomplete or corrupt: cannot read %s", path, what ? what : "the progress (on another rank)");
  pg->completed   = (PetscInt)pi[0];
  pg->in_progress = pi[1] ? PETSC_TRUE : PETSC_FALSE;
  pg->noise_step  = pi[2];
  pg->t           = pr[0];
  StatsFromArrays(&pg->stats, pi + PROGRESS_HEAD, pr + 1);
  ok = (PetscBool)(pi[0] >= 0 && pi[0] <= T && (pi[1] == 0 || pi[1] == 1) && pi[2] >= 0 && !(pi[1] && pi[0] == T) && !PetscIsInfOrNanReal(pr[0]) && pr[0] >= 0);
  if (!ok) H5Fclose(file);
  PetscCheck(ok, ck->comm, PETSC_ERR_FILE_UNEXPECTED, "checkpoint %s is corrupt: inconsistent progress (completed %" PetscInt64_FMT " of %" PetscInt_FMT " trials)", path, pi[0], T);

  /* final states of the completed trials (for -output) */
  if (ck->store_final && pg->completed > 0) {
    ok = pi[3] ? PETSC_TRUE : PETSC_FALSE;
    if (!ok) H5Fclose(file);
    PetscCheck(ok, ck->comm, PETSC_ERR_ARG_INCOMP,
               "checkpoint %s holds no final states of its %" PetscInt_FMT " completed trials (the interrupted run had no -output): resume without -output", path,
               pg->completed);
    expect[0] = (hsize_t)T;
    expect[1] = (hsize_t)L->n;
    ok = (PetscBool)(ReadBlock(file, "final_states", H5T_NATIVE_DOUBLE, 2, expect, 0, (hsize_t)L->rstart, (hsize_t)pg->completed, (hsize_t)ck->nloc, ck->final) >= 0);
    PetscCall(Agree(ck->comm, &ok));
    if (!ok) H5Fclose(file);
    PetscCheck(ok, ck->comm, PETSC_ERR_FILE_UNEXPECTED, "checkpoint %s is incomplete or corrupt: cannot read /final_states", path);
  }

  /* the state of the batch in progress, this rank's units */
  if (pg->in_progress) {
    const PetscInt W = L->nloc + L->mloc;
    expect[0]        = (hsize_t)L->batch;
    expect[1]        = (hsize_t)(L->n + L->m);
    ok               = PETSC_TRUE;
    PetscCall(VecGetArrayWrite(state, &xa));
    for (PetscInt b = 0; ok && b < L->batch; b++) {
      ok = (PetscBool)(ReadBlock(file, "state", H5T_NATIVE_DOUBLE, 2, expect, (hsize_t)b, (hsize_t)L->rstart, 1, (hsize_t)L->nloc, xa + b * W) >= 0);
      if (ok && L->m) ok = (PetscBool)(ReadBlock(file, "state", H5T_NATIVE_DOUBLE, 2, expect, (hsize_t)b, (hsize_t)(L->n + L->ustart), 1, (hsize_t)L->mloc, xa + b * W + L->nloc) >= 0);
    }
    PetscCall(VecRestoreArrayWrite(state, &xa));
    PetscCall(Agree(ck->comm, &ok));
    if (!ok) H5Fclose(file);
    PetscCheck(ok, ck->comm, PETSC_ERR_FILE_UNEXPECTED, "checkpoint %s is incomplete or corrupt: cannot read /state (%" PetscInt_FMT " x %" PetscInt_FMT ")", path, L->batch,
               L->n + L->m);
    {
      PetscReal norm;
      PetscCall(VecNorm(state, NORM_INFINITY, &norm));
      if (PetscIsInfOrNanReal(norm)) H5Fclose(file);
      PetscCheck(!PetscIsInfOrNanReal(norm), ck->comm, PETSC_ERR_FILE_UNEXPECTED, "checkpoint %s is corrupt: its state is not finite", path);
    }
  }
  H5Fclose(file);
  PetscFunctionReturn(PETSC_SUCCESS);
}
