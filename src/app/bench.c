/* `ratemem bench`: for each weight storage and several network sizes, measure in one
   run and on the same ranks
     (a) a STREAM-like triad a = b + s c (the bandwidth roofline),
     (b) one weight product W x and one RHS evaluation f(x): times (min and median of R timed
         repetitions), the bytes the storage format must move, and the fraction of the triad
         bandwidth achieved,
     (c) the resident memory the case keeps, per neuron and per synapse,
     (d) optionally one full retrieval (wall time, steps, RHS evaluations),
   and print a table (rank 0) and a CSV file (written atomically).

   Each case is assembled exactly as `ratemem retrieve` does (RmMemories -> RmSynapses -> RmModel
   -> RmIntegrator -> RmClassifier, through the trial runner). The per-case storage, sizes and
   indegree go in through setters (RmRunSetStorage, RmMemoriesSetSizes);
   every other option of `ratemem retrieve` (-design, -seed, -coding, -activation, -integrator, -rtol,
   -flip, ...) applies to every case. */
#include <ratemem/app.h>
#include <ratemem/run.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_MAX_STORAGE 8
#define BENCH_MAX_NEURONS 64
#define BENCH_TRIAD_LOCAL (1 << 23) /* doubles per array and rank: 3 x 64 MiB, >= 4x any L3 here */

typedef enum { BENCH_DENSE, BENCH_AIJ, BENCH_AIJ_DILUTED, BENCH_LOWRANK, BENCH_COMPRESSED } BenchStorage;
static const char *const BenchStorageNames[] = {"dense", "aij", "aij-diluted", "lowrank", "compressed"};
#define BENCH_NSTORAGE 5
/* Cases on a diluted graph of K inputs per neuron (-bench_indegree). */
static PetscBool IsDiluted(BenchStorage s) { return s == BENCH_AIJ_DILUTED || s == BENCH_COMPRESSED ? PETSC_TRUE : PETSC_FALSE; }

typedef struct {
  MPI_Comm     comm;
  PetscMPIInt  rank, size;
  BenchStorage storage[BENCH_MAX_STORAGE];
  PetscInt     nstorage, neurons[BENCH_MAX_NEURONS], nneurons, P, K, repeat;
  PetscBool    retrieve, has_csv, help;
  char         csv[PETSC_MAX_PATH_LEN];
  RmAtomicFile af;        /* the CSV being written (src/io/atomic.c) */
  FILE        *fp;        /* rank 0: its stream */
  RmTriad     *triad; /* the roofline, BENCH_TRIAD_LOCAL doubles per array and rank */
} Bench;

typedef struct {
  BenchStorage storage;
  const char  *kernel;
  PetscInt     n, P, K;
  double       synapses, bytes_product, build_s;
  double       triad_min, triad_med;     /* s per triad */
  double       product_min, product_med; /* s per weight product */
  double       rhs_min, rhs_med;         /* s per RHS evaluation */
  double       rss_sum, rss_max;         /* bytes kept resident by the case (summed / max over ranks) */
  double       maxrss_sum, maxrss_max;   /* ru_maxrss so far (bytes; process peak, monotonic) */
  PetscBool    retrieved_run;
  double       retrieve_wall;
  PetscInt64   steps, rhs_evals, jtimes, products;
  RmLabel      label;
} BenchResult;

/* ---------------------------------------------------------------- measurement helpers */
typedef struct {
  Mat     W;
  RmModel model;
  Vec     xn, yn; /* neuron vectors: W xn -> yn */
  Vec     xs, fs; /* model states: f(xs) -> fs (the same as neuron vectors except for -network ei) */
} ProductCtx;

static PetscErrorCode ProductOp(void *ctx)
{
  ProductCtx *p = (ProductCtx *)ctx;
  PetscFunctionBeginUser;
  PetscCall(MatMult(p->W, p->xn, p->yn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RHSOp(void *ctx)
{
  ProductCtx *p = (ProductCtx *)ctx;
  PetscFunctionBeginUser;
  PetscCall(RmModelRHS(p->model, p->xs, p->fs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- options */
static PetscErrorCode ParseStorage(Bench *b, char **names, PetscInt count)
{
  PetscBool has_diluted = PETSC_FALSE;
  PetscInt  k = 0;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < count; i++) {
    PetscInt s;
    for (s = 0; s < BENCH_NSTORAGE; s++) {
      PetscBool match;
      PetscCall(PetscStrcmp(names[i], BenchStorageNames[s], &match));
      if (match) break;
    }
    PetscCheck(s < BENCH_NSTORAGE, b->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown -bench_storage '%s' (known: dense, aij, aij-diluted, lowrank, compressed)",
               names[i]);
    PetscCheck(!IsDiluted((BenchStorage)s) || b->K > 0, b->comm, PETSC_ERR_ARG_INCOMP, "-bench_storage %s needs -bench_indegree K > 0", names[i]);
    if (s == BENCH_AIJ_DILUTED) has_diluted = PETSC_TRUE;
    PetscCheck(k < BENCH_MAX_STORAGE, b->comm, PETSC_ERR_ARG_OUTOFRANGE, "too many -bench_storage entries (at most %d)", BENCH_MAX_STORAGE);
    b->storage[k++] = (BenchStorage)s;
  }
  if (b->K > 0 && !has_diluted) { /* -bench_indegree adds the diluted case after each full aij one */
    PetscInt m = 0;
    for (PetscInt i = 0; i < k; i++)
      if (b->storage[i] == BENCH_AIJ) m++;
    PetscCheck(k + m <= BENCH_MAX_STORAGE, b->comm, PETSC_ERR_ARG_OUTOFRANGE, "too many storage cases");
    for (PetscInt i = k - 1; i >= 0; i--)
      if (b->storage[i] == BENCH_AIJ) {
        for (PetscInt j = k; j > i + 1; j--) b->storage[j] = b->storage[j - 1];
        b->storage[i + 1] = BENCH_AIJ_DILUTED;
        k++;
      }
  }
  b->nstorage = k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char *StorageType(BenchStorage s)
{
  return s == BENCH_DENSE ? "dense" : s == BENCH_LOWRANK ? "lowrank" : s == BENCH_COMPRESSED ? "compressed" : "aij";
}

/* The objects' own options, read once per storage case without setting anything up: so -help lists
   them, and RmCheckOptionsAllUsed knows (a storage's own, -compressed_* say) are used before the
   first (possibly long) case runs. */
static PetscErrorCode ReadObjectOptions(Bench *b)
{
  PetscFunctionBeginUser;
  for (PetscInt s = 0; s < b->nstorage; s++) {
    RmRun run;
    PetscCall(RmRunCreate(b->comm, &run));
    PetscCall(RmRunSetStorage(run, StorageType(b->storage[s]), IsDiluted(b->storage[s]) ? b->K : 0));
    PetscCall(RmRunSetFromOptions(run));
    PetscCall(RmRunDestroy(&run));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode BenchSetFromOptions(Bench *b)
{
  char     *names[BENCH_MAX_STORAGE];
  PetscInt  nnames = BENCH_MAX_STORAGE, nneurons = BENCH_MAX_NEURONS;
  PetscBool set_storage, set_neurons;
  const char *const per_case[] = {"-neurons", "-memories", "-storage", "-indegree", "-patterns", "-pattern_kind"};
  const char *const instead[]  = {"-bench_neurons", "-bench_memories", "-bench_storage", "-bench_indegree", "(generated memories only)",
                                  "(random memories only)"};

  PetscFunctionBeginUser;
  b->P        = 50;
  b->repeat   = 5;
  b->nneurons = 2;
  b->neurons[0] = 2000;
  b->neurons[1] = 8000;
  PetscCall(PetscOptionsHasHelp(NULL, &b->help));
  PetscOptionsBegin(b->comm, NULL, "Benchmark: triad bandwidth, weight product, RHS, memory, retrieval", "ratemem bench");
  PetscCall(PetscOptionsStringArray("-bench_storage", "Storage cases: dense, aij, aij-diluted, lowrank, compressed (aij-diluted and compressed need -bench_indegree; default dense,aij,lowrank)", "ratemem bench",
                                    names, &nnames, &set_storage));
  PetscCall(PetscOptionsIntArray("-bench_neurons", "Network sizes n (default 2000,8000)", "ratemem bench", b->neurons, &nneurons, &set_neurons));
  PetscCall(PetscOptionsInt("-bench_memories", "Stored memories P in every case", "ratemem bench", b->P, &b->P, NULL));
  PetscCall(PetscOptionsInt("-bench_indegree", "Inputs per neuron K of an extra aij-diluted case (0: none)", "ratemem bench", b->K, &b->K, NULL));
  PetscCall(PetscOptionsInt("-bench_repeat", "Timed repetitions R (min and median reported)", "ratemem bench", b->repeat, &b->repeat, NULL));
  PetscCall(PetscOptionsString("-bench_csv", "CSV file of the results (rank 0, written as FILE.partial then renamed)", "ratemem bench", b->csv, b->csv,
                               sizeof(b->csv), &b->has_csv));
  PetscCall(PetscOptionsBool("-bench_retrieve", "Also time one full retrieval per case (cue of memory 0, integrator from -integrator, default bdf)",
                             "ratemem bench", b->retrieve, &b->retrieve, NULL));
  PetscOptionsEnd();
  if (set_neurons) b->nneurons = nneurons;
  if (!set_storage) {
    const char *def[] = {"dense", "aij", "lowrank"};
    for (PetscInt i = 0; i < 3; i++) PetscCall(PetscStrallocpy(def[i], &names[i]));
    nnames = 3;
  }
  PetscErrorCode ierr = ParseStorage(b, names, nnames);
  for (PetscInt i = 0; i < nnames; i++) PetscCall(PetscFree(names[i]));
  PetscCall(ierr);
  PetscCheck(b->nneurons > 0, b->comm, PETSC_ERR_ARG_WRONG, "-bench_neurons needs at least one size");
  PetscCheck(b->nstorage > 0, b->comm, PETSC_ERR_ARG_WRONG, "-bench_storage needs at least one storage");
  PetscCheck(b->P > 0, b->comm, PETSC_ERR_ARG_OUTOFRANGE, "-bench_memories must be > 0, got %" PetscInt_FMT, b->P);
  PetscCheck(b->K >= 0, b->comm, PETSC_ERR_ARG_OUTOFRANGE, "-bench_indegree must be >= 0, got %" PetscInt_FMT, b->K);
  PetscCheck(b->repeat > 0, b->comm, PETSC_ERR_ARG_OUTOFRANGE, "-bench_repeat must be > 0, got %" PetscInt_FMT, b->repeat);
  PetscCheck(!b->has_csv || b->csv[0], b->comm, PETSC_ERR_ARG_WRONG, "-bench_csv needs a file name");
  PetscBool diluted = PETSC_FALSE;
  for (PetscInt s = 0; s < b->nstorage; s++) diluted |= IsDiluted(b->storage[s]);
  for (PetscInt i = 0; i < b->nneurons; i++) {
    PetscCheck(b->neurons[i] >= b->P, b->comm, PETSC_ERR_ARG_OUTOFRANGE, "-bench_neurons %" PetscInt_FMT " is smaller than -bench_memories %" PetscInt_FMT,
               b->neurons[i], b->P);
    PetscCheck(!diluted || b->neurons[i] > b->K, b->comm, PETSC_ERR_ARG_OUTOFRANGE, "-bench_neurons %" PetscInt_FMT " must exceed -bench_indegree %" PetscInt_FMT,
               b->neurons[i], b->K);
  }
  for (size_t i = 0; i < sizeof(per_case) / sizeof(per_case[0]); i++) {
    PetscBool set;
    PetscCall(PetscOptionsHasName(NULL, NULL, per_case[i], &set));
    PetscCheck(!set || b->help, b->comm, PETSC_ERR_ARG_INCOMP, "%s is set per case by ratemem bench: use %s", per_case[i], instead[i]);
  }
  PetscCall(ReadObjectOptions(b));
  if (!b->help) PetscCall(RmCheckOptionsAllUsed(b->comm));
  if (!b->help) {
    const RmFileArg files[] = {{"-bench_csv", b->has_csv ? b->csv : NULL, RM_FILE_OUTPUT}, {NULL, NULL, RM_FILE_INPUT}};
    PetscCall(RmCheckRunFiles(b->comm, files));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- one case */
/* Bytes one weight product must move (global, the formulas of the CSV header and docs/benchmark.md). */
static double ProductBytes(BenchStorage storage, double n, double P, double nnz, double ranks)
{
  switch (storage) {
  case BENCH_DENSE:
    return 8.0 * n * n + 8.0 * n * ranks + 8.0 * n; /* W; x gathered on every rank; y */
  case BENCH_COMPRESSED:
    return 4.0 * nnz + 16.0 * n; /* 16-bit column offset + 8-bit m_ij + 8-bit a_j per synapse (padding not counted); x; y */
  case BENCH_LOWRANK:
    return 2.0 * P * n / 8.0 + 24.0 * n; /* the bits twice (masked sums, expansion); v twice, y once */
  default:
    return 12.0 * nnz + 16.0 * n; /* value + 32-bit column index per nonzero; x gathered; y */
  }
}

typedef struct {
  RmRun      run; /* the case's network, set up as `ratemem retrieve` does (include/ratemem/run.h) */
  RmSynapses syn;
  RmModel    model;
  Vec        xn, yn, xs, fs;
} Case;

static PetscErrorCode CaseDestroy(Case *c)
{
  PetscFunctionBeginUser;
  PetscCall(VecDestroy(&c->xn));
  PetscCall(VecDestroy(&c->yn));
  PetscCall(VecDestroy(&c->xs));
  PetscCall(VecDestroy(&c->fs));
  PetscCall(RmRunDestroy(&c->run));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Memories, W and the model of one case (the integrator is set up only for -bench_retrieve, so the
   resident memory measured is the network's). */
static PetscErrorCode CaseBuild(Bench *b, Case *c, BenchStorage storage, PetscInt n)
{
  RmMemories   mem;
  RmCueOptions cue;
  PetscInt     cue_memory;

  PetscFunctionBeginUser;
  PetscCall(RmRunCreate(b->comm, &c->run));
  PetscCall(RmRunSetStorage(c->run, StorageType(storage), IsDiluted(storage) ? b->K : 0));
  PetscCall(RmRunSetFromOptions(c->run));
  PetscCall(RmRunGetObjects(c->run, &mem, &c->syn, &c->model, NULL, NULL));
  PetscCall(RmMemoriesSetSizes(mem, n, b->P));
  PetscCall(RmRunSetTrials(c->run, 1));
  PetscCall(RmRunSetQuiet(c->run, PETSC_TRUE)); /* the bench prints its own table */
  PetscCall(RmRunSetUpWeights(c->run));
  PetscCall(RmRunGetCue(c->run, &cue));
  PetscCall(RmModelCreateNeuronVec(c->model, &c->xn));
  PetscCall(VecDuplicate(c->xn, &c->yn));
  PetscCall(RmModelCreateState(c->model, &c->xs));
  PetscCall(VecDuplicate(c->xs, &c->fs));
  PetscCall(RmMemoriesCreateCue(mem, &cue, 0, c->xn, &cue_memory)); /* a realistic state to multiply */
  PetscCall(RmModelStateFromNeurons(c->model, c->xn, c->xs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One retrieval from the cue of trial 0, through the trial runner. */
static PetscErrorCode CaseRetrieve(Bench *b, Case *c, BenchResult *res)
{
  const RmTrialResult *r;
  double               t0;

  PetscFunctionBeginUser;
  PetscCall(RmRunSetUp(c->run));
  PetscCallMPI(MPI_Barrier(b->comm));
  t0 = MPI_Wtime();
  PetscCall(RmRunSolve(c->run, NULL));
  PetscCallMPI(MPI_Barrier(b->comm));
  res->retrieve_wall = MPI_Wtime() - t0;
  PetscCall(RmRunGetResults(c->run, &r));
  res->label         = r->label;
  res->retrieved_run = PETSC_TRUE;
  res->steps         = r->stats.steps;
  res->rhs_evals     = r->stats.rhs_evals;
  res->jtimes        = r->stats.jtimes_evals;
  res->products      = r->stats.weight_products;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunCase(Bench *b, BenchStorage storage, PetscInt n, BenchResult *res)
{
  Case       c = {0};
  ProductCtx pc;
  Mat        W;
  MatInfo    info;
  double     t0, rss0;
  PetscReal  peak_max, peak_sum;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(res, sizeof(*res)));
  res->storage = storage;
  res->n       = n;
  res->P       = b->P;
  res->K       = IsDiluted(storage) ? b->K : 0;
  rss0         = RmResidentBytes();
  PetscCallMPI(MPI_Barrier(b->comm));
  t0 = MPI_Wtime();
  PetscCall(CaseBuild(b, &c, storage, n));
  PetscCallMPI(MPI_Barrier(b->comm));
  res->build_s = MPI_Wtime() - t0;
  PetscCall(RmSynapsesGetKernelName(c.syn, &res->kernel));
  PetscCall(RmSynapsesGetMat(c.syn, &W));
  pc = (ProductCtx){W, c.model, c.xn, c.yn, c.xs, c.fs};

  /* One RHS evaluation touches the model's work vectors and builds the product's scatter: only
     then is the case's memory resident. */
  PetscCall(RHSOp(&pc));
  PetscCall(RmResidentBytesSince(b->comm, rss0, &res->rss_sum, &res->rss_max));
  PetscCall(RmPeakMemory(b->comm, &peak_max, &peak_sum));
  res->maxrss_sum = peak_sum;
  res->maxrss_max = peak_max;

  if (storage == BENCH_AIJ || storage == BENCH_AIJ_DILUTED) {
    PetscCall(MatGetInfo(W, MAT_GLOBAL_SUM, &info));
    res->synapses = info.nz_used;
  } else if (storage == BENCH_COMPRESSED) res->synapses = (double)n * (double)b->K;
  else res->synapses = (double)n * (double)n;
  res->bytes_product = ProductBytes(storage, (double)n, (double)b->P, res->synapses, (double)b->size);

  PetscCall(RmTriadTime(b->triad, b->repeat, &res->triad_min, &res->triad_med));
  PetscCall(RmTimeOperation(b->comm, b->repeat, ProductOp, &pc, &res->product_min, &res->product_med));
  PetscCall(RmTimeOperation(b->comm, b->repeat, RHSOp, &pc, &res->rhs_min, &res->rhs_med));
  PetscCall(RmSynapsesRestoreMat(c.syn, &W));
  if (b->retrieve) PetscCall(CaseRetrieve(b, &c, res));
  PetscCall(CaseDestroy(&c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- output */
static double TriadGBs(const Bench *b, double t) { return RmTriadBandwidth(b->triad, t); }

static const char csv_columns[] = "storage,kernel,n,P,K,ranks,synapses,triad_GBs,triad_GBs_median,product_ms_min,product_ms_median,"
                                  "synapse_updates_per_s,bytes_per_product,product_GBs,fraction_of_triad,rhs_ms_min,rhs_ms_median,"
                                  "rhs_over_product,rss_bytes,bytes_per_neuron,bytes_per_synapse,rss_bytes_max_rank,maxrss_bytes_sum,"
                                  "maxrss_bytes_max_rank,build_s,retrieve_wall_s,retrieve_steps,retrieve_rhs_evals,retrieve_jtimes,retrieve_label,"
                                  "retrieve_products,retrieve_time_over_products\n";

static PetscErrorCode CSVOpen(Bench *b)
{
  PetscFunctionBeginUser;
  PetscCall(RmAtomicFileOpen(b->comm, b->csv, &b->af)); /* unique temporary name, renamed by CSVCommit */
  PetscCall(RmAtomicFileGetFILE(b->af, &b->fp));
  if (!b->rank) {
    int    argc;
    char **args;
    {
      PetscCall(PetscGetArgs(&argc, &args));
      fprintf(b->fp, "# ratemem %s bench:", RATEMEM_VERSION);
      for (int i = 1; i < argc; i++) fprintf(b->fp, " %s", args[i]);
      fprintf(b->fp, "\n# load average at start %.2f (1 min); ranks %d; triad a = b + s*c on %zu doubles per array and rank, 24 bytes per element, summed over ranks\n",
              RmLoadAverage(), b->size, (size_t)BENCH_TRIAD_LOCAL);
      fprintf(b->fp, "# times: min and median over -bench_repeat repetitions, each looped >= %g s, slowest rank (MPI_Barrier + MPI_Wtime)\n",
              RM_MIN_REP_TIME);
      fprintf(b->fp, "# bytes_per_product: dense 8 n^2 + 8 n ranks + 8 n (W, x gathered on every rank, y);"
                     " aij and aij-diluted 12 nnz + 16 n (8-byte value + 4-byte column index, x, y);"
                     " compressed 4 n K + 16 n (16-bit column offset, 8-bit m and a per synapse, padding not counted; x, y);"
                     " lowrank 2 P n/8 + 24 n (bit-packed memories read twice, v read twice, y written)\n");
      fprintf(b->fp, "# synapses: n^2 for dense and lowrank, stored nonzeros for aij (n K diluted), n K for compressed;"
                     " synapse_updates_per_s = synapses / product_ms_min; product_GBs = bytes_per_product / product time (min);"
                     " fraction_of_triad = product_GBs / triad_GBs (best of each)\n");
      fprintf(b->fp, "# rss_bytes: resident set (/proc/self/statm) after building the case and one RHS evaluation minus before, summed over ranks;"
                     " maxrss: getrusage ru_maxrss of the process so far (monotonic)\n");
      fprintf(b->fp, "# retrieval (-bench_retrieve): cue of memory 0, one integration; retrieve_products = weight products it made;"
                     " retrieve_time_over_products = retrieve_wall_s / (retrieve_products * product time), the integrator's cost beyond W\n");
      fputs(csv_columns, b->fp);
      fflush(b->fp);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CSVRow(Bench *b, const BenchResult *r)
{
  int failed = 0;

  PetscFunctionBeginUser;
  if (!b->rank) {
    double gbs = r->bytes_product / r->product_min / 1e9;
    fprintf(b->fp, "%s,%s,%" PetscInt_FMT ",%" PetscInt_FMT ",%" PetscInt_FMT ",%d,%.10g,%.6g,%.6g,%.6g,%.6g,%.6g,%.10g,%.6g,%.6g,%.6g,%.6g,%.6g,%.10g,%.6g,%.6g,%.10g,%.10g,%.10g,%.4g",
            BenchStorageNames[r->storage], r->kernel, r->n, r->P, r->K, b->size, r->synapses, TriadGBs(b, r->triad_min), TriadGBs(b, r->triad_med),
            1e3 * r->product_min, 1e3 * r->product_med, r->synapses / r->product_min, r->bytes_product, gbs, gbs / TriadGBs(b, r->triad_min),
            1e3 * r->rhs_min, 1e3 * r->rhs_med, r->rhs_min / r->product_min, r->rss_sum, r->rss_sum / r->n, r->rss_sum / r->synapses, r->rss_max,
            r->maxrss_sum, r->maxrss_max, r->build_s);
    if (r->retrieved_run)
      fprintf(b->fp, ",%.6g,%" PetscInt64_FMT ",%" PetscInt64_FMT ",%" PetscInt64_FMT ",%s,%" PetscInt64_FMT ",%.4g\n", r->retrieve_wall, r->steps,
              r->rhs_evals, r->jtimes, RmLabels[r->label], r->products, r->retrieve_wall / (r->products * r->product_min));
    else fprintf(b->fp, ",,,,,,,\n");
    failed = fflush(b->fp) != 0 || ferror(b->fp);
  }
  PetscCallMPI(MPI_Bcast(&failed, 1, MPI_INT, 0, b->comm));
  PetscCheck(!failed, b->comm, PETSC_ERR_FILE_WRITE, "cannot write %s", b->csv);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CSVCommit(Bench *b)
{
  PetscFunctionBeginUser;
  b->fp = NULL; /* closed by the commit */
  PetscCall(RmAtomicFileCommit(&b->af));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PrintHeader(Bench *b)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(b->comm, "ratemem bench: %d rank%s, P = %" PetscInt_FMT ", %" PetscInt_FMT " repetitions (min shown); triad on %zu doubles per array and rank; load average %.2f\n",
                        b->size, b->size > 1 ? "s" : "", b->P, b->repeat, (size_t)BENCH_TRIAD_LOCAL, RmLoadAverage()));
  PetscCall(PetscPrintf(b->comm, "bytes/product: dense 8n^2+8n*ranks+8n, aij 12nnz+16n, compressed 4nK+16n, lowrank 2Pn/8+24n; frac = product GB/s / triad GB/s; "
                                 "mem = resident bytes the case keeps (all ranks)%s\n\n",
                        b->retrieve ? "; ret/prd = retrieval time / (W-products x prod_ms)" : ""));
  PetscCall(PetscPrintf(b->comm, "%-11s %-13s %8s %4s %5s %5s %7s %9s %10s %9s %7s %6s %9s %7s %8s %9s", "storage", "kernel", "n", "P", "K", "ranks",
                        "triad", "prod_ms", "syn_upd/s", "B/prod", "GB/s", "frac", "rhs_ms", "rhs/prd", "B/neuron", "B/synapse"));
  if (b->retrieve) PetscCall(PetscPrintf(b->comm, " %8s %6s %6s %6s %6s %7s %-11s", "ret_s", "steps", "rhs", "jtimes", "W-prod", "ret/prd", "label"));
  PetscCall(PetscPrintf(b->comm, "\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PrintRow(Bench *b, const BenchResult *r)
{
  double gbs = r->bytes_product / r->product_min / 1e9;

  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(b->comm, "%-11s %-13s %8" PetscInt_FMT " %4" PetscInt_FMT " %5" PetscInt_FMT " %5d %7.2f %9.4g %10.3e %9.3e %7.2f %6.3f %9.4g %7.3f %8.1f %9.3g",
                        BenchStorageNames[r->storage], r->kernel, r->n, r->P, r->K, b->size, TriadGBs(b, r->triad_min), 1e3 * r->product_min,
                        r->synapses / r->product_min, r->bytes_product, gbs, gbs / TriadGBs(b, r->triad_min), 1e3 * r->rhs_min,
                        r->rhs_min / r->product_min, r->rss_sum / r->n, r->rss_sum / r->synapses));
  if (r->retrieved_run)
    PetscCall(PetscPrintf(b->comm, " %8.3f %6" PetscInt64_FMT " %6" PetscInt64_FMT " %6" PetscInt64_FMT " %6" PetscInt64_FMT " %7.2f %-11s", r->retrieve_wall,
                          r->steps, r->rhs_evals, r->jtimes, r->products, r->retrieve_wall / (r->products * r->product_min), RmLabels[r->label]));
  PetscCall(PetscPrintf(b->comm, "\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- driver */
static PetscErrorCode BenchRun(Bench *b)
{
  PetscFunctionBeginUser;
  PetscCall(BenchSetFromOptions(b));
  if (b->help) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmTriadCreate(b->comm, BENCH_TRIAD_LOCAL, &b->triad));
  if (b->has_csv) PetscCall(CSVOpen(b));
  PetscCall(PrintHeader(b));
  for (PetscInt s = 0; s < b->nstorage; s++)
    for (PetscInt i = 0; i < b->nneurons; i++) {
      BenchResult res;
      PetscCall(RunCase(b, b->storage[s], b->neurons[i], &res));
      PetscCall(PrintRow(b, &res));
      if (b->has_csv) PetscCall(CSVRow(b, &res));
    }
  if (b->has_csv) {
    PetscCall(CSVCommit(b));
    PetscCall(PetscPrintf(b->comm, "\nwrote %s\n", b->csv));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmBenchMain(MPI_Comm comm)
{
  Bench          b = {0};
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  b.comm = comm;
  PetscCallMPI(MPI_Comm_rank(comm, &b.rank));
  PetscCallMPI(MPI_Comm_size(comm, &b.size));
  ierr = BenchRun(&b);
  PetscCall(RmAtomicFileDestroy(&b.af)); /* failed run: no partial CSV survives */
  PetscCall(RmTriadDestroy(&b.triad));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}
