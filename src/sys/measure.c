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

/* ---------------------------------------------------------------- the bandwidth roofline */
struct _n_RmTriad {
  MPI_Comm comm;
  size_t   n;
  double  *a, *b, *c;
};

PetscErrorCode RmTriadCreate(MPI_Comm comm, size_t n, RmTriad **triad)
{
  RmTriad *t;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&t));
  t->comm = comm;
  t->n    = n;
  PetscCall(PetscMalloc3(n, &t->a, n, &t->b, n, &t->c));
  for (size_t i = 0; i < n; i++) { /* first touch: resident before anything is measured */
    t->a[i] = 0.0;
    t->b[i] = 1.0;
    t->c[i] = 2.0;
  }
  *triad = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* STREAM triad a = b + s c on raw arrays, unrolled by 4 (the compiler vectorises it). */
static PetscErrorCode TriadOp(void *ctx)
{
  RmTriad *t = (RmTriad *)ctx;
  double *restrict       a = t->a;
  const double *restrict x = t->b, *restrict c = t->c;
  const double           s = 3.0;
  size_t                 i = 0, N = t->n;

  for (; i + 4 <= N; i += 4) {
    a[i]     = x[i] + s * c[i];
    a[i + 1] = x[i + 1] + s * c[i + 1];
    a[i + 2] = x[i + 2] + s * c[i + 2];
    a[i + 3] = x[i + 3] + s * c[i + 3];
  }
  for (; i < N; i++) a[i] = x[i] + s * c[i];
  return PETSC_SUCCESS;
}

PetscErrorCode RmTriadTime(RmTriad *t, PetscInt R, double *tmin, double *tmed)
{
  PetscFunctionBeginUser;
  PetscCall(RmTimeOperation(t->comm, R, TriadOp, t, tmin, tmed));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 24 bytes per element are counted, as STREAM does (the write-allocate read of a is not), summed over ranks. */
double RmTriadBandwidth(const RmTriad *t, double seconds)
{
  PetscMPIInt size = 1;

  (void)MPI_Comm_size(t->comm, &size);
  return 24.0 * (double)t->n * size / seconds / 1e9;
}

PetscErrorCode RmTriadDestroy(RmTriad **t)
{
  PetscFunctionBeginUser;
  if (!*t) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree3((*t)->a, (*t)->b, (*t)->c));
  PetscCall(PetscFree(*t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmResidentBytesSince(MPI_Comm comm, double rss0, double *sum, double *max)
{
  const double rss1  = RmResidentBytes();
  double       local = rss0 >= 0 && rss1 >= 0 ? rss1 - rss0 : PETSC_MAX_REAL;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(&local, sum, 1, MPI_DOUBLE, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(&local, max, 1, MPI_DOUBLE, MPI_MAX, comm));
  if (*max == PETSC_MAX_REAL) *sum = *max = -1;
  PetscFunctionReturn(PETSC_SUCCESS);
}
