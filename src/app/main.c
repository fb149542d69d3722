/* The ratemem command: parses the subcommand and hands over to it. Thin on purpose. */
#include <ratemem/app.h>
#include <ratemem/io.h> /* RmOutputReadRerun */
#include <ratemem/checkpoint.h> /* RmCheckpointExitStatus: 3 = checkpointed, not finished */
#include <stdlib.h>
#include <string.h>

static const char usage[] = "ratemem: firing-rate networks as associative memories (distributed, PETSc + SUNDIALS CVODE).\n"
                           "Usage: ratemem retrieve|bench|stability|sweep [options] [-options_file_yaml FILE]\n\n";

static void Usage(FILE *fp)
{
  fprintf(fp, "usage: ratemem <subcommand> [options]\n"
              "subcommands:\n"
              "  retrieve   store memories, cue the network, integrate the rate dynamics, classify the final state\n"
              "  bench      triad bandwidth, weight product, RHS, memory and retrieval cost per storage and size\n"
              "  stability  spectral abscissa at every memory (SLEPc), the sufficient conditions of docs/model.md §6, spurious equilibria, phase diagram\n"
              "  rerun      FILE.h5 [options]: the retrieve that wrote FILE.h5 (-output), again; options after the file override\n"
              "  sweep      a grid of (design, n, P or load, cue corruption, gain, ...) with many trials per point, one CSV row per point (resumable)\n"
              "Run 'ratemem <subcommand> -help' for the options; any option may also come from -options_file_yaml FILE.\n");
}

/* A process started without a launcher (build/ratemem retrieve ..., no mpiexec or srun) is an MPI
   singleton. Open MPI 4.1 then spends ~0.3 s of wall time at start-up waiting, not computing: it
   forks an orted daemon and waits for it to report back (~0.1 s), and probes every point-to-point
   component (pml cm -> its mtl/libfabric providers, ucx) before it settles on ob1 (~0.2 s). A
   singleton talks to no one but itself, so neither is needed: ess_singleton_isolated skips the
   daemon (we never call MPI_Comm_spawn) and pml ob1 (shared memory + self) skips the probing.
   Measured with strace -f -tt and scripts/startup_bench.sh (docs/benchmark.md "Start-up").
   Only for a singleton: under mpiexec or srun (their variables are in the environment) nothing is
   changed, since ob1 would override UCX on a real interconnect. A value the user set in the
   environment wins (setenv without overwrite). */
static void MPISingletonDefaults(void)
{
  static const char *const launched[] = {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", NULL};
  for (int k = 0; launched[k]; k++)
    if (getenv(launched[k])) return;
  setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
  setenv("OMPI_MCA_pml", "ob1", 0);
}

/* Remove argv[i] and argv[i+1..i+count-1]. */
static void RemoveArgs(int *argc, char **argv, int i, int count)
{
  for (int k = i; k + count <= *argc; k++) argv[k] = argv[k + count];
  *argc -= count;
}

/* `ratemem rerun FILE.h5 [options]`: the retrieve that wrote FILE.h5 (its "rerun" attribute), with
   the options given after the file overriding the stored ones. argv is replaced (never freed: it
   lives as long as the process). Returns nonzero after printing an error. */
static int Rerun(int *argc, char ***argv)
{
  static char line[8192];
  char      **args;
  int         n = 0, rc;

  if (*argc < 3) {
    fprintf(stderr, "ratemem: error: rerun needs an output file: ratemem rerun FILE.h5 [options]\n");
    return 1;
  }
  rc = RmOutputReadRerun((*argv)[2], line, sizeof(line));
  if (rc) {
    fprintf(stderr, "ratemem: error: %s %s\n", (*argv)[2], rc == 1 ? "does not open as an HDF5 file" : "has no 'rerun' attribute (not a ratemem -output file?)");
    return 1;
  }
  fprintf(stderr, "ratemem rerun: ratemem %s", line);
  for (int i = 3; i < *argc; i++) fprintf(stderr, " %s", (*argv)[i]);
  fprintf(stderr, "\n");
  args = (char **)malloc(sizeof(char *) * ((size_t)*argc + sizeof(line) / 2 + 2));
  if (!args) return 1;
  args[n++] = (*argv)[0];
  n += RmSplitArguments(line, args + n);
  for (int i = 3; i < *argc; i++) args[n++] = (*argv)[i];
  args[n] = NULL;
  *argc   = n;
  *argv   = args;
  return 0;
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;
  const char    *yaml = NULL;

  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-help")) {
    Usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
  if (!strcmp(argv[1], "rerun") && Rerun(&argc, &argv)) return 1; /* from here on: the retrieve it describes */
  PetscBool bench     = !strcmp(argv[1], "bench") ? PETSC_TRUE : PETSC_FALSE;
  PetscBool stability = !strcmp(argv[1], "stability") ? PETSC_TRUE : PETSC_FALSE;
  PetscBool sweep     = !strcmp(argv[1], "sweep") ? PETSC_TRUE : PETSC_FALSE;
  if (strcmp(argv[1], "retrieve") && !bench && !stability && !sweep) {
    fprintf(stderr, "ratemem: error: unknown subcommand '%s' (known: retrieve, bench, stability, sweep)\n", argv[1]);
    return 1;
  }
  RemoveArgs(&argc, argv, 1, 1);
  /* The YAML file is loaded by us after initialisation, so that a malformed file gets our
     one-line error, and so that command-line options override the file's. */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-options_file_yaml")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "ratemem: error: -options_file_yaml needs a file name\n");
        return 1;
      }
      yaml = argv[i + 1];
      RemoveArgs(&argc, argv, i, 2);
      i--;
    }
  }
  /* -help lists ratemem's options only, object by object; -help_petsc adds PETSc's own (printed by
     PetscInitialize). So -help is held back from PETSc's start-up and given back once it is done. */
  PetscBool help = PETSC_FALSE;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-help_petsc")) argv[i] = (char *)"-help";
    else if (!strcmp(argv[i], "-help")) {
      help = PETSC_TRUE;
      RemoveArgs(&argc, argv, i--, 1);
    }
  }
  MPISingletonDefaults(); /* before MPI_Init (inside PetscInitialize) */
  ierr = PetscInitialize(&argc, &argv, NULL, help ? NULL : usage);
  if (ierr) return (int)ierr;
  if (help) {
    ierr = PetscPrintf(PETSC_COMM_WORLD, "%s(PETSc's own options: -help_petsc)\n", usage);
    if (!ierr) ierr = PetscOptionsSetValue(NULL, "-help", NULL);
  }
  if (!ierr) ierr = RmPushErrorHandler();
  if (!ierr) ierr = RmInitialize();
  if (!ierr && yaml) ierr = RmInsertOptionsYAML(PETSC_COMM_WORLD, yaml);
  if (!ierr) ierr = RmCheckOptionsHaveValues(PETSC_COMM_WORLD); /* "-neurons" without a value is an error, not the default */
  if (!ierr) ierr = RmInstallTempCleanup();                    /* SIGINT/SIGHUP/SIGTERM remove temporary output files */
  if (!ierr) ierr = bench ? RmBenchMain(PETSC_COMM_WORLD) : stability ? RmStabilityMain(PETSC_COMM_WORLD) : sweep ? RmSweepMain(PETSC_COMM_WORLD) : RmRetrieveMain(PETSC_COMM_WORLD);
  PetscErrorCode fin = PetscFinalize();
  return ierr ? 1 : (fin ? 1 : RmCheckpointExitStatus());
}
