/* System layer: initialisation of logging, the one-line error handler, option helpers,
   SUNDIALS flag names. (Atomic file replacement is the io layer's: src/io/atomic.c.) */
#include <cvode/cvode.h>
#include <ratemem/sys.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

RmLogEvents RM_EVENTS;

PetscErrorCode RmInitialize(void)
{
  static PetscBool registered = PETSC_FALSE;
  PetscClassId     id;

  PetscFunctionBeginUser;
  if (registered) PetscFunctionReturn(PETSC_SUCCESS);
  registered = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("Ratemem", &id));
  PetscCall(PetscLogEventRegister("RmGenerate", id, &RM_EVENTS.generate));
  PetscCall(PetscLogEventRegister("RmAssemble", id, &RM_EVENTS.assemble));
  PetscCall(PetscLogEventRegister("RmSynMult", id, &RM_EVENTS.syn_mult));
  PetscCall(PetscLogEventRegister("RmLowRankReduce", id, &RM_EVENTS.lowrank_reduce));
  PetscCall(PetscLogEventRegister("RmGhostExchange", id, &RM_EVENTS.ghost_exchange));
  PetscCall(PetscLogEventRegister("RmOverlapRatios", id, &RM_EVENTS.overlap_ratios));
  PetscCall(PetscLogEventRegister("RmRHS", id, &RM_EVENTS.rhs));
  PetscCall(PetscLogEventRegister("RmJacSetUp", id, &RM_EVENTS.jac_setup));
  PetscCall(PetscLogEventRegister("RmJacVec", id, &RM_EVENTS.jac_vec));
  PetscCall(PetscLogEventRegister("RmPCSetUp", id, &RM_EVENTS.pc_setup));
  PetscCall(PetscLogEventRegister("RmPCApply", id, &RM_EVENTS.prec));
  PetscCall(PetscLogEventRegister("RmIntegrate", id, &RM_EVENTS.integrate));
  PetscCall(PetscLogEventRegister("RmWoodburySetUp", id, &RM_EVENTS.wb_setup));
  PetscCall(PetscLogEventRegister("RmWoodburySolve", id, &RM_EVENTS.wb_solve));
  PetscCall(PetscLogEventRegister("RmIntegVec", id, &RM_EVENTS.integ_vec));
  PetscCall(PetscLogEventRegister("RmOverlap", id, &RM_EVENTS.overlap));
  PetscCall(PetscLogEventRegister("RmIOWrite", id, &RM_EVENTS.io_write));
  PetscCall(PetscLogStageRegister("Generate", &RM_EVENTS.stage_generate));
  PetscCall(PetscLogStageRegister("Assemble", &RM_EVENTS.stage_assemble));
  PetscCall(PetscLogStageRegister("Integrate", &RM_EVENTS.stage_integrate));
  PetscCall(PetscLogStageRegister("Classify", &RM_EVENTS.stage_classify));
  PetscCall(PetscLogStageRegister("Output", &RM_EVENTS.stage_output));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One line per error: the first (initial) message only, printed once for a collective
   error (by rank 0) and with the rank for an error raised on one rank alone. */
static PetscErrorCode RmErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p,
                                     const char *mess, void *ctx)
{
  PetscMPIInt rank = 0, size = 1, result = MPI_UNEQUAL;
  const char *text = NULL;

  if (p != PETSC_ERROR_INITIAL) return n;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  if (comm != MPI_COMM_NULL) MPI_Comm_compare(comm, PETSC_COMM_SELF, &result);
  PetscBool local = (PetscBool)(size > 1 && (result == MPI_IDENT || result == MPI_CONGRUENT));
  if (!mess || !mess[0]) PetscErrorMessage(n, &text, NULL);
  if (rank == 0 || local) {
    if (local) fprintf(stderr, "ratemem: error [rank %d]: %s\n", rank, mess && mess[0] ? mess : (text ? text : "unknown error"));
    else fprintf(stderr, "ratemem: error: %s\n", mess && mess[0] ? mess : (text ? text : "unknown error"));
    fflush(stderr);
  }
  return n;
}

PetscErrorCode RmPushErrorHandler(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(RmErrorHandler, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* CVodeGetReturnFlagName returns malloc'ed memory: copy and free it. */
PetscErrorCode RmCVODEFlagName_Private(int flag, char *name, size_t len)
{
  char *s;

  PetscFunctionBeginUser;
  s = CVodeGetReturnFlagName((long)flag);
  PetscCall(PetscStrncpy(name, s ? s : "UNKNOWN", len));
  free(s);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCheckFinite(MPI_Comm comm, const char *name, PetscReal value)
{
  PetscFunctionBeginUser;
  PetscCheck(!PetscIsInfOrNanReal(value), comm, PETSC_ERR_ARG_OUTOFRANGE, "%s must be a finite number, got %g", name, (double)value);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* PETSc's own options that it reads only at PetscFinalize(): not unknown, merely not used yet. */
static PetscBool ReadAtFinalize(const char *name)
{
  static const char *const finalize_options[] = {"options_left", "options_view", "malloc_dump", "malloc_view", "malloc_debug", "memory_view",
                                                 "objects_dump", "log_view", "log_all", "log_trace", "log_summary", "log_perfstubs", NULL};
  for (int k = 0; finalize_options[k]; k++) {
    PetscBool match;
    if (PetscStrbeginswith(name, finalize_options[k], &match) == 0 && match) return PETSC_TRUE;
  }
  return PETSC_FALSE;
}

/* An option nobody asked for is a typo or a misplaced setting: refuse it. */
PetscErrorCode RmCheckOptionsAllUsed(MPI_Comm comm)
{
  PetscInt N, unused;
  char   **names, **values;
  char     list[1024] = "";

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsLeftGet(NULL, &N, &names, &values));
  unused = 0;
  for (PetscInt i = 0; i < N; i++) {
    if (ReadAtFinalize(names[i])) continue;
    PetscCall(PetscStrlcat(list, unused ? ", -" : "-", sizeof(list)));
    PetscCall(PetscStrlcat(list, names[i], sizeof(list)));
    unused++;
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &N, &names, &values)); /* zeroes N */
  PetscCheck(unused == 0, comm, PETSC_ERR_ARG_WRONG, "unknown option%s %s (see -help)", unused > 1 ? "s" : "", list);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static char yaml_file[PETSC_MAX_PATH_LEN] = "";

PetscErrorCode RmGetOptionsYAMLFile(const char **file)
{
  PetscFunctionBeginUser;
  *file = yaml_file[0] ? yaml_file : NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Options that are legitimately given without a value: ratemem's flags (PetscOptionsBool; t9-app-help checks
   that every flag -help shows is here) and
   PETSc's and SLEPc's own (their objects' prefixes, and the flags read at initialisation). */
static PetscBool MayBeValueless(const char *name)
{
  static const char *const flags[] = {"help", "quiet", "monitor", "ratemem_view", "integrator_fused_ops", "euler_fuse", "integrator_vec_view", "cvode_stab_lim_det", "bench_retrieve", "phase_progress", "version", "info", "nox",
                                      "no_signal_handler", "fp_trap", "memory_view", "objects_dump", "checkstack", "log_view", "log_all", "log_trace",
                                      "log_summary", "options_left", "options_view", "malloc_debug", "malloc_dump", "malloc_view", "malloc_test",
                                      "start_in_debugger", "stop_for_debugger", "on_error_abort", "on_error_attach_debugger", "on_error_emacs",
                                      "skip_petscrc", "history", "use_gpu_aware_mpi", "compressed_ghost_overlap", NULL};
  static const char *const prefixes[] = {"eps_", "st_", "bv_", "ds_", "rg_", "fn_", "ksp_", "pc_", "mat_", "vec_", "sf_", "snes_", "ts_", "dm_", "viewer_",
                                         "draw_", "log_", "malloc_", "options_", "info_", "saws_", "device_", "mpi_", "petsc_", NULL};
  for (int k = 0; flags[k]; k++)
    if (!strcmp(name, flags[k])) return PETSC_TRUE;
  if (!strncmp(name, "stability_", 10)) name += 10; /* the SLEPc objects of ratemem stability (-stability_eps_*, -stability_st_*, ...) */
  for (int k = 0; prefixes[k]; k++)
    if (!strncmp(name, prefixes[k], strlen(prefixes[k]))) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* PETSc reads "-neurons" without a value (end of the line, "-neurons -summary x", -storage "", YAML
   "neurons:") as not given at all, so the default would be used silently: refuse it. Run once after
   the options are in the database and before any is read (they are all still unused then). */
PetscErrorCode RmCheckOptionsHaveValues(MPI_Comm comm)
{
  PetscInt N;
  char   **names, **values;
  char     bad[256] = "";

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsLeftGet(NULL, &N, &names, &values));
  for (PetscInt i = 0; i < N && !bad[0]; i++)
    if ((!values[i] || !values[i][0]) && !MayBeValueless(names[i])) PetscCall(PetscStrncpy(bad, names[i], sizeof(bad)));
  PetscCall(PetscOptionsLeftRestore(NULL, &N, &names, &values));
  if (bad[0]) {
    static const char *const files[] = {"summary", "output", "checkpoint", "restart", "overlap_history", "patterns", "input_file", "sweep_csv", "bench_csv", "phase_csv", NULL};
    PetscBool file = PETSC_FALSE;
    for (int k = 0; files[k]; k++) file |= (PetscBool)!strcmp(bad, files[k]);
    SETERRQ(comm, PETSC_ERR_ARG_WRONG, "option -%s is given without a value: -%s needs %s (an empty value is not the default)", bad, bad, file ? "a file name" : "a value");
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmOptionsCheckIntRange(MPI_Comm comm, const char *name, PetscInt64 lo, PetscInt64 hi)
{
  char      buf[256], *end;
  PetscBool set;
  long long v;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetString(NULL, NULL, name, buf, sizeof(buf), &set));
  if (!set || !buf[0] || !((buf[0] >= '0' && buf[0] <= '9') || buf[0] == '-' || buf[0] == '+')) PetscFunctionReturn(PETSC_SUCCESS); /* PETSC_DECIDE etc.: PETSc's */
  errno = 0;
  v     = strtoll(buf, &end, 10);
  PetscCheck(errno != ERANGE && (*end || (v >= lo && v <= hi)), comm, PETSC_ERR_ARG_OUTOFRANGE, "%s must be an integer in [%" PetscInt64_FMT ", %" PetscInt64_FMT "], got %s", name,
             lo, hi, buf);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Load a YAML options file under the command line: options already set (command line) win. */
PetscErrorCode RmInsertOptionsYAML(MPI_Comm comm, const char *file)
{
  PetscOptions yaml;
  PetscInt     N;
  char       **names, **values;
  PetscBool    exists;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(yaml_file, file, sizeof(yaml_file))); /* an input: no output may overwrite it (RmFileSet) */
  PetscCall(RmFileExists(comm, file, &exists));
  PetscCheck(exists, comm, PETSC_ERR_FILE_OPEN, "config file %s does not exist or cannot be read", file);
  PetscCall(PetscOptionsCreate(&yaml));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); /* we report the failure ourselves, in one line */
  PetscErrorCode ierr = PetscOptionsInsertFileYAML(comm, yaml, file, PETSC_TRUE);
  PetscCall(PetscPopErrorHandler());
  if (ierr) {
    PetscCall(PetscOptionsDestroy(&yaml));
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "config file %s is not valid YAML options", file);
  }
  PetscCall(PetscOptionsLeftGet(yaml, &N, &names, &values));
  for (PetscInt i = 0; i < N; i++) {
    char      key[256];
    PetscBool set;
    PetscCall(PetscSNPrintf(key, sizeof(key), "-%s", names[i]));
    PetscCall(PetscOptionsHasName(NULL, NULL, key, &set));
    if (!set) PetscCall(PetscOptionsSetValue(NULL, key, values[i]));
  }
  PetscCall(PetscOptionsLeftRestore(yaml, &N, &names, &values));
  PetscCall(PetscOptionsDestroy(&yaml));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFileExists(MPI_Comm comm, const char *path, PetscBool *exists)
{
  PetscMPIInt rank;
  int         ok = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) ok = access(path, R_OK) == 0;
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, comm));
  *exists = ok ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

double RmWallTime(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

PetscErrorCode RmPeakMemory(MPI_Comm comm, PetscReal *max_rank, PetscReal *total)
{
  struct rusage ru;
  PetscReal     mine;

  PetscFunctionBeginUser;
  PetscCheck(getrusage(RUSAGE_SELF, &ru) == 0, PETSC_COMM_SELF, PETSC_ERR_SYS, "getrusage failed");
  mine = 1024.0 * (PetscReal)ru.ru_maxrss; /* Linux reports kilobytes */
  PetscCallMPI(MPI_Allreduce(&mine, max_rank, 1, MPIU_REAL, MPI_MAX, comm));
  PetscCallMPI(MPI_Allreduce(&mine, total, 1, MPIU_REAL, MPI_SUM, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFunctionListNames(PetscFunctionList fl, const char *sep, char *list, size_t len)
{
  const char **names;
  int          n;

  PetscFunctionBeginUser;
  list[0] = 0;
  PetscCall(PetscFunctionListGet(fl, &names, &n));
  for (int k = 0; k < n; k++) {
    if (!names[k] || !names[k][0]) continue;
    PetscCall(PetscStrlcat(list, list[0] ? sep : "", len));
    PetscCall(PetscStrlcat(list, names[k], len));
  }
  PetscCall(PetscFree(names));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int RmSplitArguments(char *line, char **args)
{
  int n = 0;

  for (char *tok = line; *tok;) {
    char *end;
    if (*tok == ' ') {
      tok++;
      continue;
    }
    if (*tok == '"' && (end = strchr(tok + 1, '"'))) tok++;
    else end = tok + strcspn(tok, " ");
    args[n++] = tok;
    tok       = *end ? end + 1 : end;
    *end      = 0;
  }
  return n;
}
