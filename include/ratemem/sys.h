/* ratemem: system layer -- counter-based random numbers, logging events, errors, SUNDIALS flag conversion. */
#pragma once
#include <petscsys.h>
#include <stdint.h>
#include <stdio.h>

#ifndef PETSC_SUCCESS
  #define PETSC_SUCCESS 0
#endif

/* Independent random streams.  Every random number in ratemem is a pure function of
   (seed, stream, a, b): no generator state, so any rank computes the number belonging to
   any (pattern, neuron) pair and 1, 2 or 3 ranks get bit-identical data. */
typedef enum {
  RM_STREAM_PATTERNS = 1,
  RM_STREAM_CUE_FLIP = 2,
  RM_STREAM_DILUTION = 3,
  RM_STREAM_NOISE    = 4, /* Euler–Maruyama increments: a = step, b = 2 x global neuron (+1) */
  RM_STREAM_INPUT    = 5, /* input weights c_μj and the initial state of an input schedule */
  RM_STREAM_CUE_KEEP = 6, /* delete cues: which active neurons are kept (a = trial, b = neuron) */
  RM_STREAM_UNSTORED = 7, /* unstored cues: the fresh random pattern (a = trial, b = neuron) */
  RM_STREAM_CUE_RANDOM = 8, /* random cues: uniform initial values (a = trial, b = neuron) */
  RM_STREAM_SPATIAL  = 9,  /* -storage spatial: the K inputs drawn within the radius (a = neuron, b = draw) */
  RM_STREAM_REWIRE   = 10, /* -storage spatial: rewiring coins (b = input) and targets (b = attempt << 32 | input), a = neuron */
} RmStream;

/* splitmix64 finaliser: a bijective 64-bit mixer with full avalanche. */
static inline uint64_t RmMix64(uint64_t z)
{
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* Counter-based generator: a 64-bit random word keyed by (seed, stream, a, b). */
static inline uint64_t RmRandomU64(uint64_t seed, RmStream stream, uint64_t a, uint64_t b)
{
  uint64_t h = RmMix64(seed ^ 0x6A09E667F3BCC909ULL);
  h          = RmMix64(h ^ (uint64_t)stream);
  h          = RmMix64(h ^ a);
  return RmMix64(h ^ b);
}

/* The same word in two halves, for loops over b with (seed, stream, a) fixed: the prefix costs
   three mixing rounds once, each word one more. RmRandomFromPrefix(RmRandomPrefix(s, st, a), b)
   == RmRandomU64(s, st, a, b). */
static inline uint64_t RmRandomPrefix(uint64_t seed, RmStream stream, uint64_t a)
{
  return RmMix64(RmMix64(RmMix64(seed ^ 0x6A09E667F3BCC909ULL) ^ (uint64_t)stream) ^ a);
}
static inline uint64_t RmRandomFromPrefix(uint64_t prefix, uint64_t b)
{
  return RmMix64(prefix ^ b);
}

/* Uniform double in [0,1) with 53 random bits. */
static inline double RmRandomUniform(uint64_t seed, RmStream stream, uint64_t a, uint64_t b)
{
  return (double)(RmRandomU64(seed, stream, a, b) >> 11) * 0x1.0p-53;
}

/* Standard normal by Box–Muller from the two uniforms keyed (a, 2b) and (a, 2b+1). */
static inline double RmRandomNormal(uint64_t seed, RmStream stream, uint64_t a, uint64_t b)
{
  double u1 = 1.0 - RmRandomUniform(seed, stream, a, 2 * b); /* (0,1]: log is finite */
  double u2 = RmRandomUniform(seed, stream, a, 2 * b + 1);
  return PetscSqrtReal(-2.0 * PetscLogReal(u1)) * PetscCosReal(2.0 * PETSC_PI * u2);
}

/* Logging: events registered once by RmInitialize() so -log_view profiles every stage. */
typedef struct {
  PetscLogEvent generate, assemble, syn_mult, rhs, jac_setup, jac_vec, prec, integrate, overlap, io_write;
  PetscLogEvent pc_setup; /* the preconditioner's set-up (RmPCSetUp); prec is its application (RmPCApply) */
  PetscLogEvent lowrank_reduce; /* the one MPI_Allreduce of P+1 numbers inside a low-rank product (a communication event of its own) */
  PetscLogEvent ghost_exchange; /* the compressed storage's ghost exchange: its start and its finish, two per product (src/synapses/compressed.c) */
  PetscLogEvent wb_setup, wb_solve; /* the low-rank Newton solver (src/integrate/woodbury.c): capacitance set-up, one solve */
  PetscLogEvent integ_vec;      /* CVODE's and ARKODE's own vector operations (every NVECTOR_PETSC operation; src/integrate/nvlog.c) */
  PetscLogEvent overlap_ratios; /* the P x P overlap counts of the memories (-balance auto, RmMemoriesComputeOverlapRatios) */
  PetscLogStage stage_generate, stage_assemble, stage_integrate, stage_classify, stage_output;
} RmLogEvents;
extern RmLogEvents RM_EVENTS;

PETSC_EXTERN PetscErrorCode RmInitialize(void);
PETSC_EXTERN PetscErrorCode RmPushErrorHandler(void);
PETSC_EXTERN PetscErrorCode RmCVODEFlagName_Private(int flag, char *name, size_t len);
PETSC_EXTERN PetscErrorCode RmCheckFinite(MPI_Comm comm, const char *name, PetscReal value);
PETSC_EXTERN PetscErrorCode RmCheckOptionsAllUsed(MPI_Comm comm);
PETSC_EXTERN PetscErrorCode RmInsertOptionsYAML(MPI_Comm comm, const char *file);
PETSC_EXTERN PetscErrorCode RmFileExists(MPI_Comm comm, const char *path, PetscBool *exists);
/* Not collective. The -options_file_yaml file loaded by RmInsertOptionsYAML, or NULL. */
PETSC_EXTERN PetscErrorCode RmGetOptionsYAMLFile(const char **file);
/* Collective. An error naming the first option given without a value that needs one. */
PETSC_EXTERN PetscErrorCode RmCheckOptionsHaveValues(MPI_Comm comm);
/* Collective. An error unless the integer option name (if given) is in [lo, hi], read as 64 bits
   and shown as typed: PETSc's 32-bit PetscInt wraps 2147483648 to -2147483648. */
PETSC_EXTERN PetscErrorCode RmOptionsCheckIntRange(MPI_Comm comm, const char *name, PetscInt64 lo, PetscInt64 hi);
PETSC_EXTERN double         RmWallTime(void);
/* Collective. Peak resident memory (getrusage ru_maxrss) of the largest rank and summed over ranks, in bytes. */
PETSC_EXTERN PetscErrorCode RmPeakMemory(MPI_Comm comm, PetscReal *max_rank, PetscReal *total);

#define RM_MIN_REP_TIME 0.02 /* a timed repetition loops the operation for at least this long (s) */
#define RM_MAX_INNER    100000
/* Collective. Times op on all ranks: one warm-up call, a calibration call that fixes how many calls one
   repetition makes (>= 20 ms each), then R repetitions between barriers; a repetition's time is the
   slowest rank's. Returns the min and median time of one call (s). */
PETSC_EXTERN PetscErrorCode RmTimeOperation(MPI_Comm comm, PetscInt R, PetscErrorCode (*op)(void *ctx), void *ctx, double *tmin, double *tmed);
/* Not collective. Resident set size of this process in bytes (after malloc_trim), -1 if unknown. */
/* The bandwidth roofline: a STREAM triad a = b + s c over n doubles per array and rank (the arrays
   are touched at creation). Time: min and median of R repetitions (RmTimeOperation); bandwidth: GB/s
   summed over the ranks for a time per triad. */
typedef struct _n_RmTriad RmTriad;
PETSC_EXTERN PetscErrorCode RmTriadCreate(MPI_Comm comm, size_t n, RmTriad **triad);
PETSC_EXTERN PetscErrorCode RmTriadTime(RmTriad *triad, PetscInt R, double *tmin, double *tmed);
PETSC_EXTERN double         RmTriadBandwidth(const RmTriad *triad, double seconds);
PETSC_EXTERN PetscErrorCode RmTriadDestroy(RmTriad **triad);
/* Progress of a long stage (src/sys/progress.c): Update prints "[progress] STAGE: 45% (done of total
   UNIT on rank 0), elapsed, time left" on stderr (rank 0) once the stage has run for the interval and
   then at most once per interval; End closes with "done in" if anything was printed. Not collective.
   The interval (-progress_interval, default 10 s; 0: off) is process-wide. */
typedef struct {
  MPI_Comm    comm;
  const char *stage, *unit;
  PetscInt64  total;
  double      t0, last;
  PetscBool   printed;
} RmProgress;
PETSC_EXTERN PetscErrorCode RmProgressSetInterval(PetscReal seconds);
PETSC_EXTERN PetscErrorCode RmProgressGetInterval(PetscReal *seconds);
PETSC_EXTERN PetscErrorCode RmProgressSetFromOptions(MPI_Comm comm);
PETSC_EXTERN PetscErrorCode RmProgressBegin(MPI_Comm comm, const char *stage, const char *unit, PetscInt64 total, RmProgress *p);
PETSC_EXTERN PetscErrorCode RmProgressUpdate(RmProgress *p, PetscInt64 done);
PETSC_EXTERN PetscErrorCode RmProgressEnd(RmProgress *p);
PETSC_EXTERN double RmResidentBytes(void);
/* Collective. The growth of the resident set since a reading rss0 of RmResidentBytes, summed and
   largest over the ranks (both -1 where some rank cannot read it). */
PETSC_EXTERN PetscErrorCode RmResidentBytesSince(MPI_Comm comm, double rss0, double *sum, double *max);
/* Not collective. The node's 1-minute load average, -1 if unknown. */
PETSC_EXTERN double RmLoadAverage(void);

/* Lists of option values: items separated by commas (or spaces, brackets); for numeric kinds an item
   lo:hi:N stands for N equally spaced values from lo to hi. Each value is stored as its canonical
   string (integers as integers, reals with 8 significant digits). opt names the option in errors. */
/* The Wilson score interval of a binomial proportion k/n at z standard errors (z = 1.96: 95%): what a
   retrieval rate or a census fraction from n trials can be said to be. n = 0 gives [0, 1]. */
static inline void RmWilsonInterval(PetscInt64 k, PetscInt64 n, double z, double *lo, double *hi)
{
  if (n <= 0) {
    *lo = 0, *hi = 1;
    return;
  }
  double p = (double)k / (double)n, z2 = z * z, den = 1 + z2 / (double)n;
  double c = (p + z2 / (2.0 * (double)n)) / den, h = z * PetscSqrtReal(p * (1 - p) / (double)n + z2 / (4.0 * (double)n * (double)n)) / den;
  *lo = PetscMax(0.0, c - h), *hi = PetscMin(1.0, c + h);
}

/* v rounded to the nearest integer, halves away from zero. */
static inline double RmRoundHalfAway(double v)
{
  return v < 0 ? -PetscFloorReal(-v + 0.5) : PetscFloorReal(v + 0.5);
}
typedef enum { RM_VALUE_STRING, RM_VALUE_INT, RM_VALUE_REAL } RmValueKind;
#define RM_VALUE_LEN 64
PETSC_EXTERN PetscErrorCode RmParseValueList(MPI_Comm comm, const char *opt, const char *spec, RmValueKind kind, PetscInt max, char (*values)[RM_VALUE_LEN],
                                             PetscInt *count);
/* Memory estimate of a run (src/sys/memory.c): sizes of what it allocates, per rank. */
typedef struct {
  PetscInt64  n, P, K, batch, extra_units; /* extra_units: state units beyond the neurons (E/I pools) */
  PetscInt64  integrator_vectors;          /* state-sized vectors of the integrator (RmIntegratorGetStateVectorCount) */
  PetscInt64  state_vectors;               /* ... and of the model and the run (0: 10, an upper bound) */
  PetscInt64  bit_copies;                  /* copies of the memories' bits: pattern-major, and a neuron-major one (0: 2) */
  const char *storage;                     /* dense, aij, lowrank, compressed, spatial */
  PetscInt64  trials, bytes_per_trial;     /* per-trial results every rank keeps */
  PetscInt64  local_bytes_per_trial;       /* ... and per local neuron (stored final states) */
} RmMemoryPlan;
/* Collective. Reads -memory_limit (bytes per rank, or with a unit K, M, G, T). */
PETSC_EXTERN PetscErrorCode RmMemoryLimitSetFromOptions(MPI_Comm comm);
/* Collective. Estimated peak bytes of the largest rank. */
PETSC_EXTERN PetscErrorCode RmMemoryEstimate(MPI_Comm comm, const RmMemoryPlan *plan, PetscReal *bytes);
/* Collective. "needs about X GB per rank, Y GB available" unless need fits -memory_limit or the
   node's MemAvailable divided among its ranks. */
PETSC_EXTERN PetscErrorCode RmMemoryCheck(MPI_Comm comm, PetscReal need);
/* Collective. Whether need (bytes per rank) fits the limit RmMemoryCheck applies. */
PETSC_EXTERN PetscErrorCode RmMemoryFits(MPI_Comm comm, PetscReal need, PetscBool *fits);

/* SUNDIALS return flags become PETSc errors that name the failure. Flags > 0 (warnings,
   root and tstop returns) pass. */
#define RmCallCVODE(call) \
  do { \
    int rm_flag_ = (call); \
    if (PetscUnlikely(rm_flag_ < 0)) { \
      char rm_name_[64]; \
      PetscCall(RmCVODEFlagName_Private(rm_flag_, rm_name_, sizeof(rm_name_))); \
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "CVODE call %s failed: %s (%d)", #call, rm_name_, rm_flag_); \
    } \
  } while (0)

/* A minimal streaming JSON writer (rank 0 only). Non-finite numbers are written as null. */
typedef struct {
  FILE     *fp;
  int       depth;
  PetscBool need_comma[32];
} RmJSON;

PETSC_EXTERN PetscErrorCode RmJSONBegin(RmJSON *j, FILE *fp);
PETSC_EXTERN PetscErrorCode RmJSONEnd(RmJSON *j);
PETSC_EXTERN PetscErrorCode RmJSONBeginObject(RmJSON *j, const char *key);
PETSC_EXTERN PetscErrorCode RmJSONEndObject(RmJSON *j);
PETSC_EXTERN PetscErrorCode RmJSONBeginArray(RmJSON *j, const char *key);
PETSC_EXTERN PetscErrorCode RmJSONEndArray(RmJSON *j);
PETSC_EXTERN PetscErrorCode RmJSONString(RmJSON *j, const char *key, const char *value);
PETSC_EXTERN PetscErrorCode RmJSONReal(RmJSON *j, const char *key, PetscReal value);
PETSC_EXTERN PetscErrorCode RmJSONInt(RmJSON *j, const char *key, PetscInt64 value);
PETSC_EXTERN PetscErrorCode RmJSONBool(RmJSON *j, const char *key, PetscBool value);

/* Not collective, plain C (usable before PetscInitialize). Split line in place at spaces into args (room
   for strlen(line)/2 + 1 pointers); a "double-quoted value" is one argument, without its quotes.
   Returns the count. */
PETSC_EXTERN int RmSplitArguments(char *line, char **args);

/* Not collective. The registered names of a registry (PetscFunctionList), joined by sep, for error
   messages ("unknown ... (known: ...)"). */
PETSC_EXTERN PetscErrorCode RmFunctionListNames(PetscFunctionList fl, const char *sep, char *list, size_t len);
