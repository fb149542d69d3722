/* The ratemem command: parses the subcommand and hands over to it. Thin on purpose. */
#include <ratemem/app.h>
#include <ratemem/checkpoint.h> /* RmCheckpointExitStatus: 3 = checkpointed, not finished */
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
              "  sweep      a grid of (design, n, P or load, cue corruption, gain, ...) with many trials per point, one CSV row per point (resumable)\n"
              "Run 'ratemem <subcommand> -help' for the options; any option may also come from -options_file_yaml FILE.\n");
}

/* Remove argv[i] and argv[i+1..i+count-1]. */
static void RemoveArgs(int *argc, char **argv, int i, int count)
{
  for (int k = i; k + count <= *argc; k++) argv[k] = argv[k + count];
  *argc -= count;
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;
  const char    *yaml = NULL;

  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-help")) {
    Usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
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
