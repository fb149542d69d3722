/* MPI ping-pong between ranks 0 and 1 (an OSU-style latency/bandwidth loop), for measuring the links
   of a cluster, e.g. the emulated one of scripts/cluster_local.sh (docs/slurm.md, "Run on many nodes"):

     mpicc -O2 -o /tmp/pingpong scripts/pingpong.c
     scripts/cluster_local.sh mpirun -n 2 --map-by node /tmp/pingpong

   For each message size it prints the median half round trip over REPS round trips (after WARM
   untimed ones), the bandwidth size / half round trip, and the mean half round trip, with the hosts
   of both ranks. On a shared machine the mean carries the scheduling delays that the median hides
   (scripts/scaling_model.py --latency-stat mean). Then the wait of an 8-byte exchange after ~1 ms of
   work on both ranks (--latency-stat sync): what each synchronisation of a run costs. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  int    rank, size, len;
  char   host[MPI_MAX_PROCESSOR_NAME], peer[MPI_MAX_PROCESSOR_NAME];
  size_t sizes[] = {8, 1024, 65536, 1 << 20, 16 << 20};
  enum { WARM = 10, REPS = 200 };

  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) {
    fprintf(stderr, "pingpong: needs 2 ranks\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Get_processor_name(host, &len);
  if (rank < 2) MPI_Sendrecv(host, sizeof host, MPI_CHAR, 1 - rank, 0, peer, sizeof peer, MPI_CHAR, 1 - rank, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (!rank) printf("ping-pong %s <-> %s: median half round trip, bandwidth, mean half round trip\n%10s %12s %12s %12s\n", host, peer, "bytes", "usec",
                  "MB/s", "mean_usec");
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    size_t  n    = sizes[s];
    int     reps = n >= (1 << 20) ? 20 : REPS;
    char   *buf  = calloc(n, 1);
    double *t    = malloc(sizeof(double) * reps);
    for (int i = -WARM; i < reps; i++) {
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = MPI_Wtime();
      if (rank == 0) {
        MPI_Send(buf, (int)n, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
        MPI_Recv(buf, (int)n, MPI_CHAR, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(buf, (int)n, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(buf, (int)n, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
      }
      if (i >= 0) t[i] = (MPI_Wtime() - t0) / 2;
    }
    if (!rank) {
      double mean = 0;
      for (int i = 0; i < reps; i++) mean += t[i] / reps;
      qsort(t, reps, sizeof *t, cmp);
      double med = t[reps / 2];
      printf("%10zu %12.1f %12.1f %12.1f\n", n, med * 1e6, n / med / 1e6, mean * 1e6);
    }
    free(buf);
    free(t);
  }
  /* Synchronisation after work: both ranks do the same fixed work (about 1 ms of dependent flops on
     an idle core, like the compute between two reductions of a run), then exchange 8 bytes. The
     time spent in the exchange is the wait for the other rank plus the latency: on dedicated cores
     about the latency; on a shared machine also the time the other rank was not scheduled, which a
     plain ping-pong (ranks that only poll) does not show. */
  {
    enum { SYNC_REPS = 100, WORK = 1000000 };
    double *wait = malloc(sizeof(double) * SYNC_REPS), x = 1.0, mean = 0, in = 0, out = 0;
    for (int i = -WARM; i < SYNC_REPS; i++) {
      for (int k = 0; k < WORK; k++) x = x * 1.0000001 + 1e-9;
      double t0 = MPI_Wtime();
      if (rank < 2) MPI_Sendrecv(&in, 1, MPI_DOUBLE, 1 - rank, 2, &out, 1, MPI_DOUBLE, 1 - rank, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      if (i >= 0) wait[i] = MPI_Wtime() - t0;
    }
    if (!rank) {
      for (int i = 0; i < SYNC_REPS; i++) mean += wait[i] / SYNC_REPS;
      qsort(wait, SYNC_REPS, sizeof *wait, cmp);
      printf("sync after work: median wait %.1f usec, mean wait %.1f usec (%d exchanges of 8 bytes; work checksum %.3g)\n",
             wait[SYNC_REPS / 2] * 1e6, mean * 1e6, SYNC_REPS, x);
    }
    free(wait);
  }
  MPI_Finalize();
  return 0;
}
