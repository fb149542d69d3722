/* t203-compressed: compressed sparse storage of the diluted network (issue #4, src/synapses/compressed.c).
   For the paper and Hebbian designs (random memories, n = 2000, P = 10, K = 50; 3 ranks give local
   sizes 667/667/666) the compressed W gives the same W v as the MATAIJ diluted matrix
   (-storage aij -indegree 50), to TOL (below) relative in the 2-norm and the max-norm, for two vectors,
   with each kernel this CPU can run (avx2, portable), with the default layout and with small
   blocks and panels that force many column blocks, padded rows and a short last panel; also at
   the edges K = 1, K = n - 1 and n = 2 (an empty rank at 3 ranks), and diag(W) = 0 as in MATAIJ.
   Every ghost exchange mode (single or double precision, with or without overlap) gives the same
   W v bit for bit; a rank's ghost columns are exactly MATAIJ's off-diagonal columns. The spatial
   graphs (-connectivity ring, grid2d, random with -rewire; connectivity.c) against -storage
   spatial's MATAIJ: on the ring at p = 0 a rank has at most 2R ghosts (none on one rank).

   Benchmark mode (scripts/bench_sparse.sh): -bench_n N -bench_K K [-bench_P 10] [-bench_repeat 5]
   [-bench_design paper|hebbian] [-bench_skip_aij] builds both matrices from the same memories and
   times MatMult, interleaved, in the same run, next to a STREAM triad on every rank, and the time
   of each product's ghost exchange (event RmGhostExchange, slowest rank; -compressed_ghost_* and
   -connectivity apply). With -bench_ghost_pairs: products with double- and single-precision ghosts
   in alternating pairs on the same W (scripts/bench_ghosts.sh). */
#include <stdio.h>
#include <time.h>
#include "synapses/compressed.h"
#include "utcommon.h"

/* The compressed product is single precision (float x, float weights and float partial sums of a
   row within one column block; issue #4 allows single-precision values): unit roundoff 2^-24 ~
   6e-8; measured differences from MATAIJ 1e-7 to 4e-7 relative over all cases here (K <= 50), on
   1-3 ranks. The error grows with the entries a row has per block: the benchmark mode (K up to
   1000, ~160 float terms per row and block) measured up to 7.7e-7, so it checks TOL_BENCH.
   A wrong weight, column or row differs by 1e-3 or more. (Before the float kernel: 1e-12.) */
#define TOL       2e-6
#define TOL_BENCH 1e-5

static const char help[] = "Unit test and benchmark of the compressed diluted weight storage.\n";

typedef struct {
  MPI_Comm     comm;
  RmMemories   mem;
  RmSynapses   syn;
  RmModel      model;
  RmActivation act;
  RmDesignType type;
  RmDesign     design;
  PetscInt     n, P, K, rstart, rend;
  Mat          Wc, Waij; /* Waij borrowed from syn (NULL when not built) */
  PetscLogDouble setup_c, setup_aij;
} Net;

/* Memories and the design from the options string opts (which must hold -storage aij -indegree K),
   then the compressed matrix, then (if build_aij) the MATAIJ one through RmSynapses. The compressed
   matrix is built first so that its set-up temporaries are freed before MATAIJ takes its 12 B per synapse. */
static PetscErrorCode NetCreate(const char *opts, PetscBool build_aij, Net *net)
{
  RmModelType mtype;
  RmEncoding  enc;
  PetscInt64  seed;
  PetscLogDouble t0;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(net, sizeof(*net)));
  net->comm = PETSC_COMM_WORLD;
  PetscCall(UtSetOptions(opts));
  PetscCall(RmSynapsesCreate(net->comm, &net->syn));
  PetscCall(RmSynapsesSetFromOptions(net->syn));
  PetscCall(RmSynapsesGetDesignType(net->syn, &net->type));
  PetscCall(RmSynapsesGetIndegree(net->syn, &net->K));
  PetscCall(RmDesignTypeGetModel(net->type, &mtype, &enc));
  PetscCall(RmMemoriesCreate(net->comm, &net->mem));
  PetscCall(RmMemoriesSetEncoding(net->mem, enc));
  PetscCall(RmMemoriesSetFromOptions(net->mem));
  PetscCall(RmMemoriesSetUp(net->mem));
  PetscCall(RmMemoriesGetSizes(net->mem, &net->n, &net->P));
  PetscCall(RmMemoriesGetOwnershipRange(net->mem, &net->rstart, &net->rend));
  PetscCall(RmMemoriesGetSeed(net->mem, &seed));
  PetscCall(RmModelCreate(net->comm, &net->model));
  PetscCall(RmModelSetType(net->model, mtype));
  PetscCall(RmModelSetFromOptions(net->model));
  PetscCall(RmModelGetActivation(net->model, &net->act));
  /* The design RmSynapsesSetUp computes: a, b from the options, the basic design r = q. */
  PetscCall(RmSynapsesGetDesign(net->syn, &net->design));
  PetscCall(RmMemoriesGetCoding(net->mem, &net->design.coding));
  net->design.balance = net->design.coding;
  PetscCall(RmDesignCompute(net->comm, net->type, &net->act, &net->design));

  PetscCallMPI(MPI_Barrier(net->comm));
  PetscCall(PetscTime(&t0));
  {
    RmCompressedOptions copt; /* -compressed_* from the options, as the storage's SetFromOptions reads them */
    RmConnectivity      conn; /* -connectivity (random unless given: -storage aij's graph), -radius, -rewire, as the reference reads them */
    PetscCall(RmCompressedOptionsGet_Private(net->comm, &copt));
    PetscCall(PetscMemzero(&conn, sizeof(conn)));
    conn.type = RM_CONNECTIVITY_RANDOM;
    PetscOptionsBegin(net->comm, NULL, "t203 connectivity", NULL);
    PetscCall(RmConnectivitySetFromOptions_Private(PetscOptionsObject, "compressed", &conn));
    PetscOptionsEnd();
    PetscCall(RmCompressedCreateMat_Private(net->comm, net->mem, net->type, &net->design, net->K, seed, &conn, &copt, &net->Wc));
  }
  PetscCallMPI(MPI_Barrier(net->comm));
  PetscCall(PetscTimeSubtract(&t0));
  net->setup_c = -t0;
  if (build_aij) {
    RmDesign d;
    PetscCall(PetscTime(&t0));
    PetscCall(RmSynapsesSetUp(net->syn, net->mem, &net->act));
    PetscCallMPI(MPI_Barrier(net->comm));
    PetscCall(PetscTimeSubtract(&t0));
    net->setup_aij = -t0;
    PetscCall(RmSynapsesGetMat(net->syn, &net->Waij));
    PetscCall(RmSynapsesGetDesign(net->syn, &d));
    PetscCheck(d.alpha == net->design.alpha && d.beta == net->design.beta && d.gamma == net->design.gamma, net->comm, PETSC_ERR_PLIB,
               "[%s] the test's design (alpha %g beta %g gamma %g) differs from RmSynapses' (%g %g %g)", opts, (double)net->design.alpha,
               (double)net->design.beta, (double)net->design.gamma, (double)d.alpha, (double)d.beta, (double)d.gamma);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode NetDestroy(Net *net)
{
  PetscFunctionBeginUser;
  PetscCall(MatDestroy(&net->Wc));
  if (net->Waij) PetscCall(RmSynapsesRestoreMat(net->syn, &net->Waij));
  PetscCall(RmModelDestroy(&net->model));
  PetscCall(RmSynapsesDestroy(&net->syn));
  PetscCall(RmMemoriesDestroy(&net->mem));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* v_i = shift + UtNoise(salt, i): partition-independent. */
static PetscErrorCode FillVec(Vec v, PetscInt salt, PetscReal shift)
{
  PetscScalar *a;
  PetscInt     lo, hi;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(v, &lo, &hi));
  PetscCall(VecGetArrayWrite(v, &a));
  for (PetscInt i = lo; i < hi; i++) a[i - lo] = shift + UtNoise((uint64_t)salt, i);
  PetscCall(VecRestoreArrayWrite(v, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ‖Wc v − Waij v‖ / ‖Waij v‖ in the 2-norm and the max-norm. */
static PetscErrorCode CompareProducts(Net *net, Vec v, PetscReal *rel2, PetscReal *relinf)
{
  Vec       yc, ya, d;
  PetscReal nd, ny;

  PetscFunctionBeginUser;
  PetscCall(MatCreateVecs(net->Waij, NULL, &ya));
  PetscCall(VecDuplicate(ya, &yc));
  PetscCall(VecDuplicate(ya, &d));
  PetscCall(MatMult(net->Waij, v, ya));
  PetscCall(VecSet(yc, 12345.0)); /* MatMult must overwrite, not accumulate */
  PetscCall(MatMult(net->Wc, v, yc));
  PetscCall(UtRelDiff(yc, ya, rel2));
  PetscCall(VecWAXPY(d, -1.0, ya, yc));
  PetscCall(VecNorm(d, NORM_INFINITY, &nd));
  PetscCall(VecNorm(ya, NORM_INFINITY, &ny));
  *relinf = nd / ny;
  PetscCall(VecDestroy(&ya));
  PetscCall(VecDestroy(&yc));
  PetscCall(VecDestroy(&d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ghosts_out (may be NULL): the most ghost columns of a rank. */
static PetscErrorCode CheckCase(const char *opts, const char *layout, PetscInt *ghosts_out)
{
  PetscInt    max_ghosts = 0;
  Net         net;
  Vec         v[2], dg;
  const char *kernels[2] = {"avx2", "portable"}, *kdefault;
  PetscInt64  bytes;
  PetscReal   worst = 0, dnorm;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsClearValue(NULL, "-compressed_block_cols"));
  PetscCall(PetscOptionsClearValue(NULL, "-compressed_panel_rows"));
  if (layout) PetscCall(PetscOptionsInsertString(NULL, layout));
  PetscCall(NetCreate(opts, PETSC_TRUE, &net));
  PetscCall(PetscOptionsClearValue(NULL, "-compressed_block_cols"));
  PetscCall(PetscOptionsClearValue(NULL, "-compressed_panel_rows"));
  PetscCall(RmCompressedGetKernelName_Private(net.Wc, &kdefault));
  PetscCall(RmCompressedGetMemory_Private(net.Wc, &bytes));
  PetscCall(UtGlobalSum(&bytes));
  PetscCall(MatCreateVecs(net.Waij, &v[0], NULL));
  PetscCall(VecDuplicate(v[0], &v[1]));
  PetscCall(FillVec(v[0], 1, 0.0)); /* signed, mean 0 */
  PetscCall(FillVec(v[1], 2, 0.5)); /* rates in [0, 1) */
  for (int k = 0; k < 2; k++) {
    PetscBool ok = PETSC_TRUE;
#if !(defined(__x86_64__) && defined(__GNUC__))
    if (k == 0) continue;
#else
    if (k == 0) {
      PetscBool forced;
      __builtin_cpu_init();
      ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? PETSC_TRUE : PETSC_FALSE;
      PetscCall(PetscOptionsHasName(NULL, NULL, "-compressed_kernel", &forced));
      PetscCheck(forced || ok == (PetscBool)(kdefault[0] == 'a'), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] default kernel %s, but the CPU %s AVX2+FMA", opts,
                 kdefault, ok ? "has" : "lacks");
    }
#endif
    if (!ok) continue;
    PetscCall(RmCompressedSetKernel_Private(net.Wc, kernels[k]));
    for (int t = 0; t < 2; t++) {
      PetscReal rel2, relinf;
      Vec       yref, y;
      PetscCall(CompareProducts(&net, v[t], &rel2, &relinf)); /* the defaults: single-precision ghosts, overlapped */
      PetscCheck(rel2 < TOL && relinf < TOL, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
                 "[%s %s] kernel %s, vector %d: compressed W v differs from MATAIJ by %.3e (2-norm), %.3e (max-norm), relative; expected < %g", opts,
                 layout ? layout : "", kernels[k], t, (double)rel2, (double)relinf, TOL);
      worst = PetscMax(worst, PetscMax(rel2, relinf));
      /* The kernel reads float ghosts either way (double ones are rounded on arrival, as single ones
         are before they leave), so every exchange mode gives the same W v, bit for bit. */
      PetscCall(MatCreateVecs(net.Wc, NULL, &yref));
      PetscCall(VecDuplicate(yref, &y));
      PetscCall(MatMult(net.Wc, v[t], yref));
      for (int mode = 1; mode < 4; mode++) {
        const RmCompressedGhostPrecision prec    = mode & 1 ? RM_COMPRESSED_GHOST_DOUBLE : RM_COMPRESSED_GHOST_SINGLE;
        const PetscBool                  overlap = (PetscBool)!(mode & 2);
        PetscBool                        same;
        PetscCall(RmCompressedSetGhostPrecision_Private(net.Wc, prec));
        PetscCall(RmCompressedSetGhostOverlap_Private(net.Wc, overlap));
        PetscCall(VecSet(y, 12345.0));
        PetscCall(MatMult(net.Wc, v[t], y));
        PetscCall(VecEqual(yref, y, &same));
        PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s %s] kernel %s, vector %d: %s ghosts%s give a W v other than single ghosts with overlap", opts,
                   layout ? layout : "", kernels[k], t, RmCompressedGhostPrecisions[prec], overlap ? "" : " without overlap");
      }
      PetscCall(RmCompressedSetGhostPrecision_Private(net.Wc, RM_COMPRESSED_GHOST_SINGLE));
      PetscCall(RmCompressedSetGhostOverlap_Private(net.Wc, PETSC_TRUE));
      PetscCall(VecDestroy(&yref));
      PetscCall(VecDestroy(&y));
    }
  }
  /* The ghost columns are exactly MATAIJ's off-diagonal columns (none on one rank), and the owned
     and ghost columns together are every distinct column a rank's rows read. */
  {
    PetscInt  nown, nghost, nghost_aij = 0, bad;
    PetscBool mpi;
    PetscCall(RmCompressedGetColumnCounts_Private(net.Wc, &nown, &nghost));
    PetscCall(PetscObjectTypeCompare((PetscObject)net.Waij, MATMPIAIJ, &mpi));
    if (mpi) {
      Mat Ad, Ao;
      PetscCall(MatMPIAIJGetSeqAIJ(net.Waij, &Ad, &Ao, NULL));
      PetscCall(MatGetSize(Ao, NULL, &nghost_aij));
    }
    bad = nghost != nghost_aij || nown > net.rend - net.rstart;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPIU_INT, MPI_MAX, PETSC_COMM_WORLD));
    PetscCheck(!bad, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] a rank's ghost columns (this rank: %" PetscInt_FMT ", %" PetscInt_FMT " owned) differ from MATAIJ's off-diagonal columns (%" PetscInt_FMT ")", opts,
               nghost, nown, nghost_aij);
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &nghost, 1, MPIU_INT, MPI_MAX, PETSC_COMM_WORLD));
    max_ghosts = nghost;
  }
  PetscCall(MatCreateVecs(net.Wc, NULL, &dg));
  PetscCall(MatGetDiagonal(net.Wc, dg));
  PetscCall(VecNorm(dg, NORM_INFINITY, &dnorm));
  PetscCheck(dnorm == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] diag(W) has an entry %g, expected 0 (no self-inputs)", opts, (double)dnorm);
  PetscCall(MatGetDiagonal(net.Waij, dg));
  PetscCall(VecNorm(dg, NORM_INFINITY, &dnorm));
  PetscCheck(dnorm == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] the MATAIJ diluted diag(W) has an entry %g, expected 0", opts, (double)dnorm);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t203 %-90s %-58s W v == MATAIJ to %.1e; %.2f bytes/synapse; default kernel %s; ghosts <= %" PetscInt_FMT " per rank\n", opts,
                        layout ? layout : "default layout", (double)worst, (double)bytes / ((double)net.n * net.K), kdefault, max_ghosts));
  if (ghosts_out) *ghosts_out = max_ghosts;
  PetscCall(VecDestroy(&dg));
  PetscCall(VecDestroy(&v[0]));
  PetscCall(VecDestroy(&v[1]));
  PetscCall(NetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- benchmark */
/* STREAM triad a = b + s c on every rank at once; aggregate GB/s (24 bytes per element). */
static PetscErrorCode Triad(MPI_Comm comm, PetscReal *gbs)
{
  const PetscInt  N = 1 << 23;
  PetscReal      *a, *b, *c;
  PetscLogDouble  best = 1e30, t0;
  PetscMPIInt     size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc3(N, &a, N, &b, N, &c));
  for (PetscInt i = 0; i < N; i++) a[i] = 0, b[i] = 1, c[i] = 2;
  for (int r = 0; r < 8; r++) {
    PetscCallMPI(MPI_Barrier(comm));
    PetscCall(PetscTime(&t0));
    for (PetscInt i = 0; i < N; i++) a[i] = b[i] + 3.0 * c[i];
    PetscCallMPI(MPI_Barrier(comm));
    PetscCall(PetscTimeSubtract(&t0));
    best = PetscMin(best, -t0);
  }
  PetscCheck(a[N / 2] == 7.0, comm, PETSC_ERR_PLIB, "triad went wrong");
  *gbs = 24.0 * N * size / best * 1e-9;
  PetscCall(PetscFree3(a, b, c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int CmpDouble(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Wall time of one product (barriers on both sides), and the largest CPU time of a rank (the
   machine is shared: CPU time leaves out the time other processes held the core). */
static PetscErrorCode TimeMult(Mat W, Vec x, Vec y, PetscLogDouble *t, PetscLogDouble *cpu)
{
  PetscLogDouble  t0;
  struct timespec c0, c1;
  double          mine;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscCall(PetscTime(&t0));
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  PetscCall(MatMult(W, x, y));
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscCall(PetscTimeSubtract(&t0));
  *t   = -t0;
  mine = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
  PetscCallMPI(MPI_Allreduce(&mine, cpu, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The ghost exchange's event so far (this rank, the current stage). */
static PetscErrorCode GhostInfo(PetscEventPerfInfo *info)
{
  PetscStageLog stage_log;
  int           stage;

  PetscFunctionBeginUser;
  PetscCall(PetscLogGetStageLog(&stage_log));
  PetscCall(PetscStageLogGetCurrent(stage_log, &stage));
  PetscCall(PetscLogEventGetPerfInfo(stage, RM_EVENTS.ghost_exchange, info));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Bench(PetscInt n, PetscInt K)
{
  PetscInt       P = 10, repeat = 5;
  char           design[16] = "paper", opts[512];
  PetscBool      skip_aij = PETSC_FALSE;
  PetscMPIInt    size;
  Net            net;
  Vec            x, yc, ya;
  PetscLogDouble *tc, *ta, *cc, *ca, *tg, ghost_bytes = 0;
  PetscInt64     bytes_c, nnz = (PetscInt64)n * K;
  PetscReal      triad = 0, rel2 = -1, relinf = -1, peak_rank, peak_total, bytes_aij = 0;
  const char    *kernel;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_P", &P, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_repeat", &repeat, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_design", design, sizeof(design), NULL));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-bench_skip_aij", &skip_aij, NULL));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons %" PetscInt_FMT " -memories %" PetscInt_FMT " -pattern_kind random -coding 0.2 -seed 5 -design %s -storage aij -indegree %" PetscInt_FMT, n, P, design, K));
  PetscCall(PetscLogDefaultBegin()); /* event times, for the ghost exchange per product */
  PetscCall(NetCreate(opts, (PetscBool)!skip_aij, &net));
  PetscCall(RmCompressedGetKernelName_Private(net.Wc, &kernel));
  PetscCall(RmCompressedGetMemory_Private(net.Wc, &bytes_c));
  PetscCall(UtGlobalSum(&bytes_c));
  PetscCall(MatCreateVecs(net.Wc, &x, &yc));
  PetscCall(VecDuplicate(yc, &ya));
  PetscCall(FillVec(x, 1, 0.5));
  PetscCall(PetscMalloc5(repeat, &tc, repeat, &ta, repeat, &cc, repeat, &ca, repeat, &tg));
  if (net.Waij) {
    PetscCall(CompareProducts(&net, x, &rel2, &relinf));
    MatInfo info;
    PetscCall(MatGetInfo(net.Waij, MAT_GLOBAL_SUM, &info)); /* values, column indices, row starts (diagonal and off-diagonal blocks) */
    bytes_aij = info.nz_allocated * (sizeof(PetscScalar) + sizeof(PetscInt)) + 2.0 * (n + size) * sizeof(PetscInt);
  }
  PetscCall(MatMult(net.Wc, x, yc)); /* warm-up */
  for (PetscInt r = 0; r < repeat; r++) { /* interleaved: both see the same machine state */
    PetscEventPerfInfo e0, e1;
    double             mine[2], all[2];
    if (net.Waij) PetscCall(TimeMult(net.Waij, x, ya, &ta[r], &ca[r]));
    PetscCall(GhostInfo(&e0));
    PetscCall(TimeMult(net.Wc, x, yc, &tc[r], &cc[r]));
    PetscCall(GhostInfo(&e1));
    mine[0] = e1.time - e0.time;                   /* this rank's time in RmGhostExchange during the product */
    mine[1] = 0.5 * (e1.messageLength - e0.messageLength); /* PETSc counts a message's bytes when sent and when received */
    PetscCallMPI(MPI_Allreduce(mine, all, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
    PetscCallMPI(MPI_Allreduce(mine + 1, all + 1, 1, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
    tg[r]     = all[0];
    ghost_bytes = all[1];
  }
  PetscCall(Triad(PETSC_COMM_WORLD, &triad));
  PetscCall(RmPeakMemory(PETSC_COMM_WORLD, &peak_rank, &peak_total));
  qsort(tg, (size_t)repeat, sizeof(*tg), CmpDouble);
  qsort(tc, (size_t)repeat, sizeof(*tc), CmpDouble);
  qsort(cc, (size_t)repeat, sizeof(*cc), CmpDouble);
  if (net.Waij) qsort(ta, (size_t)repeat, sizeof(*ta), CmpDouble);
  if (net.Waij) qsort(ca, (size_t)repeat, sizeof(*ca), CmpDouble);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "bench n %" PetscInt_FMT " K %" PetscInt_FMT " P %" PetscInt_FMT " design %s ranks %d repeat %" PetscInt_FMT " kernel %s triad %.1f GB/s peak RSS %.2f GB (all ranks)\n", n, K, P, design, size, repeat, kernel, (double)triad, (double)peak_total / 1e9));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  compressed: setup %7.2f s, %5.2f bytes/synapse; MatMult wall min %.4f s median %.4f s, cpu min %.4f s -> %.3f Gsyn/s (wall min), %.3f (wall median), %.3f (cpu min)\n",
                        (double)net.setup_c, (double)bytes_c / nnz, (double)tc[0], (double)tc[repeat / 2], (double)cc[0], nnz / tc[0] * 1e-9, nnz / tc[repeat / 2] * 1e-9, nnz / cc[0] * 1e-9));
  {
    RmCompressed *c;
    PetscInt      ng[2];
    PetscCall(MatShellGetContext(net.Wc, &c));
    PetscCall(RmCompressedGetColumnCounts_Private(net.Wc, NULL, &ng[0]));
    ng[1] = ng[0];
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ng[0], 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ng[1], 1, MPIU_INT, MPI_MAX, PETSC_COMM_WORLD));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  ghost exchange (RmGhostExchange, slowest rank): %s ghosts%s, %" PetscInt_FMT " ghost values (most on a rank %" PetscInt_FMT "), %.0f bytes sent per product; min %.3f ms median %.3f ms per product\n",
                          RmCompressedGhostPrecisions[c->ghost_precision], c->ghost_wait ? ", no overlap" : ", overlapped", ng[0], ng[1], (double)ghost_bytes,
                          (double)tg[0] * 1e3, (double)tg[repeat / 2] * 1e3));
  }
  if (net.Waij) {
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  mataij:     setup %7.2f s, %5.2f bytes/synapse; MatMult wall min %.4f s median %.4f s, cpu min %.4f s -> %.3f Gsyn/s (wall min), %.3f (wall median), %.3f (cpu min)\n",
                          (double)net.setup_aij, (double)bytes_aij / nnz, (double)ta[0], (double)ta[repeat / 2], (double)ca[0], nnz / ta[0] * 1e-9, nnz / ta[repeat / 2] * 1e-9, nnz / ca[0] * 1e-9));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  speed-up compressed/mataij: %.2fx (wall min), %.2fx (wall median), %.2fx (cpu min); MATAIJ at >= 12 B/synapse moves %.2f of the triad; |Wc x - Waij x|/|Waij x| = %.1e (2-norm), %.1e (max)\n",
                          (double)(ta[0] / tc[0]), (double)(ta[repeat / 2] / tc[repeat / 2]), (double)(ca[0] / cc[0]), 12.0 * nnz / ta[0] * 1e-9 / triad, (double)rel2, (double)relinf));
    PetscCheck(rel2 < TOL_BENCH && relinf < TOL_BENCH, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "compressed W x differs from MATAIJ by %.3e / %.3e (expected < %g)", (double)rel2, (double)relinf, TOL_BENCH);
  }
  PetscCall(PetscFree5(tc, ta, cc, ca, tg));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&yc));
  PetscCall(VecDestroy(&ya));
  PetscCall(NetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One timed product of the compressed W: wall time (barriers on both sides), the slowest rank's time
   in RmGhostExchange during it, and the bytes the ranks sent. */
static PetscErrorCode TimeGhostMult(Mat W, Vec x, Vec y, PetscLogDouble *t, PetscLogDouble *tg, PetscLogDouble *bytes)
{
  PetscEventPerfInfo e0, e1;
  PetscLogDouble     cpu;
  double             mine[2], all[2];

  PetscFunctionBeginUser;
  PetscCall(GhostInfo(&e0));
  PetscCall(TimeMult(W, x, y, t, &cpu));
  PetscCall(GhostInfo(&e1));
  mine[0] = e1.time - e0.time;
  mine[1] = 0.5 * (e1.messageLength - e0.messageLength); /* PETSc counts a message's bytes when sent and when received */
  PetscCallMPI(MPI_Allreduce(mine, all, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(mine + 1, all + 1, 1, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
  *tg    = all[0];
  *bytes = all[1];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -bench_ghost_pairs: the same W, products with double- and single-precision ghosts in pairs (the
   order alternating), so both see the same machine state; the exchange and product times of each,
   and the per-pair ratio double/single of the exchange times (its median and quartiles). */
static PetscErrorCode BenchGhostPairs(PetscInt n, PetscInt K)
{
  PetscInt        P = 10, repeat = 5, ng[2];
  char            opts[512];
  PetscMPIInt     size;
  Net             net;
  Vec             x, y;
  PetscLogDouble *tg[2], *tp[2], *ratio, bytes[2] = {0, 0};
  RmCompressed   *c;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_P", &P, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_repeat", &repeat, NULL));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons %" PetscInt_FMT " -memories %" PetscInt_FMT " -pattern_kind random -coding 0.2 -seed 5 -design paper -storage aij -indegree %" PetscInt_FMT, n, P, K));
  PetscCall(PetscLogDefaultBegin()); /* event times */
  PetscCall(NetCreate(opts, PETSC_FALSE, &net));
  PetscCall(MatShellGetContext(net.Wc, &c));
  PetscCall(MatCreateVecs(net.Wc, &x, &y));
  PetscCall(FillVec(x, 1, 0.5));
  PetscCall(PetscMalloc5(repeat, &tg[0], repeat, &tg[1], repeat, &tp[0], repeat, &tp[1], repeat, &ratio));
  for (int k = 0; k < 2; k++) { /* warm-up of both buffers */
    PetscCall(RmCompressedSetGhostPrecision_Private(net.Wc, k ? RM_COMPRESSED_GHOST_SINGLE : RM_COMPRESSED_GHOST_DOUBLE));
    PetscCall(MatMult(net.Wc, x, y));
  }
  for (PetscInt r = 0; r < repeat; r++) {
    for (int j = 0; j < 2; j++) {
      const int k = (int)((j + r) % 2); /* 0 double, 1 single; double first in even pairs */
      PetscCall(RmCompressedSetGhostPrecision_Private(net.Wc, k ? RM_COMPRESSED_GHOST_SINGLE : RM_COMPRESSED_GHOST_DOUBLE));
      PetscCall(TimeGhostMult(net.Wc, x, y, &tp[k][r], &tg[k][r], &bytes[k]));
    }
    ratio[r] = tg[0][r] / tg[1][r];
  }
  for (int k = 0; k < 2; k++) {
    qsort(tg[k], (size_t)repeat, sizeof(PetscLogDouble), CmpDouble);
    qsort(tp[k], (size_t)repeat, sizeof(PetscLogDouble), CmpDouble);
  }
  qsort(ratio, (size_t)repeat, sizeof(PetscLogDouble), CmpDouble);
  PetscCall(RmCompressedGetColumnCounts_Private(net.Wc, NULL, &ng[0]));
  ng[1] = ng[0];
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ng[0], 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ng[1], 1, MPIU_INT, MPI_MAX, PETSC_COMM_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "ghost pairs n %" PetscInt_FMT " K %" PetscInt_FMT " P %" PetscInt_FMT " ranks %d repeat %" PetscInt_FMT " %s: %" PetscInt_FMT " ghost values (most on a rank %" PetscInt_FMT "), bytes sent per product double %.0f single %.0f\n",
                        n, K, P, size, repeat, c->ghost_wait ? "no overlap" : "overlapped", ng[0], ng[1], (double)bytes[0], (double)bytes[1]));
  for (int k = 0; k < 2; k++)
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %s ghosts: exchange min %.3f ms median %.3f ms; product min %.3f ms median %.3f ms\n", k ? "single" : "double", (double)tg[k][0] * 1e3,
                          (double)tg[k][repeat / 2] * 1e3, (double)tp[k][0] * 1e3, (double)tp[k][repeat / 2] * 1e3));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  exchange double/single per pair: median %.2f, quartiles %.2f-%.2f; of the minima %.2f\n", (double)ratio[repeat / 2], (double)ratio[repeat / 4],
                        (double)ratio[(3 * repeat) / 4], (double)(tg[0][0] / tg[1][0])));
  PetscCheck(ng[0] == 0 || (bytes[1] > 0 && bytes[0] == 2 * bytes[1]), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "double ghosts sent %.0f bytes, single %.0f: expected twice as many", (double)bytes[0], (double)bytes[1]);
  PetscCall(PetscFree5(tg[0], tg[1], tp[0], tp[1], ratio));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(NetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscInt  bn = 0, bK = 100;
  PetscBool bench, pairs;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_n", &bn, &bench));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_K", &bK, NULL));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-bench_ghost_pairs", &pairs));
  if (bench && pairs) {
    PetscCall(BenchGhostPairs(bn, bK));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (bench) {
    PetscCall(Bench(bn, bK));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  const char *base[2] = {"-neurons 2000 -memories 10 -pattern_kind random -coding 0.2 -seed 11 -design paper -storage aij -indegree 50",
                         "-neurons 2000 -memories 10 -pattern_kind random -seed 11 -design hebbian -storage aij -indegree 50"};
  for (int k = 0; k < 2; k++) {
    PetscCall(CheckCase(base[k], NULL, NULL));
    PetscCall(CheckCase(base[k], "-compressed_block_cols 100 -compressed_panel_rows 150", NULL));
  }
  /* Edges: one input per neuron; every other neuron an input (dense rows); blocks of a few columns. */
  PetscCall(CheckCase("-neurons 50 -memories 7 -pattern_kind random -coding 0.3 -seed 3 -design paper -storage aij -indegree 1", "-compressed_block_cols 8 -compressed_panel_rows 7", NULL));
  PetscCall(CheckCase("-neurons 41 -memories 12 -pattern_kind random -seed 4 -design hebbian -storage aij -indegree 40", "-compressed_block_cols 8 -compressed_panel_rows 5", NULL));
  PetscCall(CheckCase("-neurons 41 -memories 12 -pattern_kind random -coding 0.2 -seed 4 -design paper -storage aij -indegree 40", NULL, NULL));
  /* Fewer neurons than ranks at 3 ranks: a rank with no rows still takes part in every collective. */
  PetscCall(CheckCase("-neurons 2 -memories 2 -pattern_kind random -coding 0.5 -seed 9 -design paper -storage aij -indegree 1", NULL, NULL));
  /* Spatial connectivity (connectivity.c, the graph of -storage spatial): against -storage spatial's
     MATAIJ; on the ring at p = 0 a rank's ghosts are its boundary, at most 2R (none on one rank). */
  {
    PetscInt    ghosts;
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
    PetscCall(CheckCase("-neurons 2000 -memories 10 -pattern_kind random -coding 0.2 -seed 11 -design paper -storage spatial -connectivity ring -radius 60 -indegree 50", NULL,
                        &ghosts));
    PetscCheck(ghosts <= 2 * 60 && (size == 1) == (ghosts == 0), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "ring, R = 60, p = 0: %" PetscInt_FMT " ghost columns on a rank, expected 1..2R (0 on one rank)", ghosts);
    PetscCall(CheckCase("-neurons 2000 -memories 10 -pattern_kind random -seed 11 -design hebbian -storage spatial -connectivity ring -radius 60 -indegree 50",
                        "-compressed_block_cols 16 -compressed_panel_rows 150", NULL));
  }
  PetscCall(CheckCase("-neurons 1600 -memories 10 -pattern_kind random -coding 0.2 -seed 12 -design paper -storage spatial -connectivity grid2d -radius 4 -indegree 40 -rewire 0.05",
                      NULL, NULL));
  PetscCall(CheckCase("-neurons 1600 -memories 10 -pattern_kind random -coding 0.2 -seed 12 -design paper -storage spatial -connectivity random -rewire 0.2 -indegree 40",
                      "-compressed_block_cols 100 -compressed_panel_rows 150", NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

UT_MAIN(help, Run)
