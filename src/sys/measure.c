/* Measurement helpers of the benchmarks (include/ratemem/sys.h): timing an operation on all ranks,
   the resident memory of the process, the load of the node. */
#include <ratemem/sys.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__GLIBC__)
  #include <malloc.h>
#endif




static int CompareDouble(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Times op on all ranks: one warm-up call, then a calibration call fixes how many calls `inner`
   one repetition makes (so a repetition lasts >= RM_MIN_REP_TIME even for tiny n), then R
   repetitions, each MPI_Barrier; MPI_Wtime; inner x op; MPI_Barrier; MPI_Wtime. A repetition's
   time is the slowest rank's; returns the min and median time of one call. */
PetscErrorCode RmTimeOperation(MPI_Comm comm, PetscInt R, PetscErrorCode (*op)(void *ctx), void *ctx, double *tmin, double *tmed)
{
  double   t0, t, *samples;
  PetscInt inner = 1;

  PetscFunctionBeginUser;
  PetscCall(op(ctx));
  PetscCallMPI(MPI_Barrier(comm));
  t0 = MPI_Wtime();
  PetscCall(op(ctx));
  PetscCallMPI(MPI_Barrier(comm));
  t = MPI_Wtime() - t0;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, comm));
  if (t < RM_MIN_REP_TIME) inner = (PetscInt)PetscMin(RM_MAX_INNER, PetscCeilReal(RM_MIN_REP_TIME / PetscMax(t, 1e-9)));
  PetscCall(PetscMalloc1(R, &samples));
  for (PetscInt r = 0; r < R; r++) {
    PetscCallMPI(MPI_Barrier(comm));
    t0 = MPI_Wtime();
    for (PetscInt k = 0; k < inner; k++) PetscCall(op(ctx));
    PetscCallMPI(MPI_Barrier(comm));
    samples[r] = (MPI_Wtime() - t0) / inner;
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, samples, (PetscMPIInt)R, MPI_DOUBLE, MPI_MAX, comm));
  qsort(samples, (size_t)R, sizeof(double), CompareDouble);
  *tmin = samples[0];
  *tmed = R % 2 ? samples[R / 2] : 0.5 * (samples[R / 2 - 1] + samples[R / 2]);
  PetscCall(PetscFree(samples));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Resident set size of this process (bytes) from /proc/self/statm; -1 if unavailable. After
   malloc_trim, so that memory already freed (by the previous case, or the build's temporaries)
   is not counted as still resident. */
double RmResidentBytes(void)
{
  long  size = 0, resident = -1;
  FILE *f;
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  f = fopen("/proc/self/statm", "r");
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/* 1-minute load average (rank 0's view of the node), to tell a quiet run from a contended one. */
double RmLoadAverage(void)
{
  double load = -1;
  FILE  *f    = fopen("/proc/loadavg", "r");
  if (!f) return -1;
  if (fscanf(f, "%lf", &load) != 1) load = -1;
  fclose(f);
  return load;
}
