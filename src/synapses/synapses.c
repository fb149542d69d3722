/* Synaptic designs (docs/model.md §2 and the Hebbian baseline of §3) assembled as row-distributed
   PETSc matrices: MATDENSE, or MATAIJ (fully connected, or diluted with K inputs per neuron). */
#include <ratemem/synapses.h>
#include "lowrank.h"
#include "compressed.h"

const char *const RmDesignTypes[]  = {"paper", "hebbian", "RmDesignType", "RM_DESIGN_", NULL};
const char *const RmStorageTypes[] = {"dense", "aij", "lowrank", "compressed", "RmStorageType", "RM_STORAGE_", NULL};

struct _p_RmSynapses {
  MPI_Comm      comm;
  PetscBool     setup_called;
  RmDesignType  design_type;
  RmStorageType storage;
  PetscInt      indegree; /* 0: fully connected */
  PetscInt64    seed;
  RmDesign      design;
  PetscBool     balance_set;
  Mat           W;
  PetscInt      block; /* synapses fetched per assembly block (explicit storage); 0: the defaults below */
  char          lowrank_kernel[16]; /* -lowrank_kernel */
};

PetscErrorCode RmSynapsesCreate(MPI_Comm comm, RmSynapses *syn)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(syn));
  (*syn)->comm     = comm;
  (*syn)->design.a = -0.3; /* the authors' example (docs/model.md §2) */
  (*syn)->design.b = 0.95;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetFromOptions(RmSynapses syn)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(syn->comm, NULL, "Synapses (docs/model.md §2)", "RmSynapses");
  PetscCall(PetscOptionsEnum("-design", "Synaptic design: paper (docs/model.md §2, rate model) or hebbian (Hopfield baseline, ±1 memories)",
                             "RmSynapsesSetFromOptions", RmDesignTypes, (PetscEnum)syn->design_type, (PetscEnum *)&syn->design_type, NULL));
  PetscCall(PetscOptionsEnum("-storage", "Weight storage: dense (MATDENSE), aij (MATAIJ, diluted with -indegree), lowrank (factored, bit-packed memories, W never formed), compressed (diluted, weights recomputed from the memories, ~5 bytes/synapse)", "RmSynapsesSetFromOptions",
                             RmStorageTypes, (PetscEnum)syn->storage, (PetscEnum *)&syn->storage, NULL));
  PetscCall(PetscOptionsInt("-indegree", "Inputs per neuron K of a diluted aij network (0: fully connected)", "RmSynapsesSetFromOptions",
                            syn->indegree, &syn->indegree, NULL));
  PetscCall(PetscOptionsReal("-a", "Design current a of an inactive neuron at a memory", "RmSynapsesSetFromOptions", syn->design.a, &syn->design.a, NULL));
  PetscCall(PetscOptionsReal("-b", "Design current b of an active neuron at a memory", "RmSynapsesSetFromOptions", syn->design.b, &syn->design.b, NULL));
  PetscCall(PetscOptionsReal("-balance", "Pairwise overlap ratio r of the memories (general design; default r = q, the basic design)",
                             "RmSynapsesSetFromOptions", syn->design.balance, &syn->design.balance, &syn->balance_set));
  PetscCall(PetscOptionsInt("-assembly_block", "Explicit storage: presynaptic neurons (dense) or synapses (aij) whose memory bits are fetched per assembly block; 0 = 65536 / 2^20",
                            "RmSynapsesSetFromOptions", syn->block, &syn->block, NULL));
  if (!syn->lowrank_kernel[0]) PetscCall(PetscStrncpy(syn->lowrank_kernel, "table", sizeof(syn->lowrank_kernel)));
  PetscCall(PetscOptionsString("-lowrank_kernel", "Kernel of -storage lowrank: table (byte lookup tables, 8 memories per lookup), avx2 or portable (one masked add per memory)",
                               "RmSynapsesSetFromOptions", syn->lowrank_kernel, syn->lowrank_kernel, sizeof(syn->lowrank_kernel), NULL));
  PetscOptionsEnd();
  {
    PetscBool ok = PETSC_FALSE, t;
    for (const char *const *k = (const char *const[]){"table", "avx2", "portable", NULL}; *k; k++) {
      PetscCall(PetscStrcmp(syn->lowrank_kernel, *k, &t));
      ok = (PetscBool)(ok || t);
    }
    PetscCheck(ok, syn->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown -lowrank_kernel %s: use table, avx2 or portable", syn->lowrank_kernel);
  }
  PetscCheck(syn->block >= 0, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "assembly_block must be >= 0, got %" PetscInt_FMT, syn->block);
  PetscCall(RmCheckFinite(syn->comm, "a", syn->design.a));
  PetscCall(RmCheckFinite(syn->comm, "b", syn->design.b));
  PetscCall(RmCheckFinite(syn->comm, "balance", syn->design.balance));
  PetscCheck(syn->indegree >= 0, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "indegree must be >= 0, got %" PetscInt_FMT, syn->indegree);
  PetscCheck(syn->indegree == 0 || syn->storage == RM_STORAGE_AIJ || syn->storage == RM_STORAGE_COMPRESSED, syn->comm, PETSC_ERR_ARG_INCOMP,
             "-indegree needs -storage aij or compressed");
  PetscCheck(syn->storage != RM_STORAGE_COMPRESSED || syn->indegree > 0, syn->comm, PETSC_ERR_ARG_INCOMP, "-storage compressed needs -indegree K > 0");
  if (syn->design_type == RM_DESIGN_PAPER) {
    PetscCheck(syn->design.a < syn->design.b, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "design needs a < b, got a = %g, b = %g", (double)syn->design.a,
               (double)syn->design.b);
    PetscCheck(!syn->balance_set || (syn->design.balance >= 0 && syn->design.balance < 1), syn->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "balance r must be in [0,1), got %g", (double)syn->design.balance);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmDesignTypeGetModel(RmDesignType type, RmModelKind *kind, RmEncoding *enc)
{
  PetscFunctionBeginUser;
  if (kind) *kind = type == RM_DESIGN_PAPER ? RM_MODEL_RATE : RM_MODEL_VOLTAGE;
  if (enc) *enc = type == RM_DESIGN_PAPER ? RM_ENCODING_BINARY : RM_ENCODING_SPIN;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmDesignCompute(MPI_Comm comm, RmDesignType type, const RmActivation *act, RmDesign *d)
{
  PetscReal q = d->coding, r = d->balance;

  PetscFunctionBeginUser;
  if (type == RM_DESIGN_HEBBIAN) {
    d->alpha = d->alpha_basic = 1.0;
    d->beta = d->gamma = 0.0;
    d->phi_a           = -1.0;
    d->phi_b           = 1.0;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  d->phi_a = RmActivationEval(act, d->a);
  d->phi_b = RmActivationEval(act, d->b);
  PetscCheck(d->phi_b - d->phi_a > 1e-12, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "design needs phi(b) > phi(a), got phi(%g) = %g and phi(%g) = %g: change -a, -b, -gain or -threshold", (double)d->a, (double)d->phi_a,
             (double)d->b, (double)d->phi_b);
  /* docs/model.md §2, general design. */
  PetscReal denom = (1 - q) * d->phi_a + q * d->phi_b;
  PetscCheck(denom > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "design undefined: (1-q) phi(a) + q phi(b) = 0");
  d->alpha_basic = (d->b - d->a) / (d->phi_b - d->phi_a);
  d->alpha       = (d->b - d->a) / (q * (1 - r) * (d->phi_b - d->phi_a));
  d->beta        = q * ((1 - r) * d->phi_a + r * d->phi_b) / denom;
  d->gamma       = ((1 - d->beta) * d->a + d->beta * d->b) / denom;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Entry values W_ij = scale Σ_μ c_iμ c_jμ + shift with c = κ b − β' for bits b: κ = 1, β' = β
   (paper, §2) or κ = 2, β' = 1 (hebbian, ±1 memories). From popcounts of the packed bits,
   Σ_μ c_iμ c_jμ = κ² m_ij − κβ'(a_i + a_j) + P β'², with m_ij = |b_i ∧ b_j| and a_i = |b_i|,
   so an entry costs ceil(P/64) popcounts instead of P multiply-adds. */
typedef struct {
  PetscReal k2, kb, pb2, scale, shift;
  PetscInt  wpn;
} EntryRule;

static EntryRule MakeEntryRule(RmSynapses syn, PetscInt P, PetscInt inputs)
{
  const PetscBool hebb  = syn->design_type == RM_DESIGN_HEBBIAN ? PETSC_TRUE : PETSC_FALSE;
  const PetscReal kappa = hebb ? 2.0 : 1.0, betap = hebb ? 1.0 : syn->design.beta;
  EntryRule       e;

  e.k2    = kappa * kappa;
  e.kb    = kappa * betap;
  e.pb2   = P * betap * betap;
  e.scale = (hebb ? 1.0 : syn->design.alpha) / inputs;
  e.shift = hebb ? 0.0 : syn->design.gamma / inputs;
  e.wpn   = (P + 63) / 64;
  return e;
}

static inline PetscInt PopCount(const uint64_t *b, PetscInt wpn)
{
  PetscInt c = 0;
  for (PetscInt w = 0; w < wpn; w++) c += __builtin_popcountll(b[w]);
  return c;
}

static inline PetscReal EntryValue(const EntryRule *e, const uint64_t *bi, PetscInt ai, const uint64_t *bj, PetscInt aj)
{
  PetscInt m = 0;
  for (PetscInt w = 0; w < e->wpn; w++) m += __builtin_popcountll(bi[w] & bj[w]);
  return e->scale * (e->k2 * m - e->kb * (ai + aj) + e->pb2) + e->shift;
}

/* The local rows' own bits and popcounts (neuron-major). */
static PetscErrorCode LocalRowBits(RmMemories mem, const EntryRule *e, uint64_t **rb, PetscInt **ra)
{
  PetscInt rstart, rend, *rows;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(PetscMalloc2((size_t)(rend - rstart) * e->wpn + 1, rb, rend - rstart + 1, ra));
  PetscCall(PetscMalloc1(rend - rstart + 1, &rows));
  for (PetscInt i = 0; i < rend - rstart; i++) rows[i] = rstart + i;
  PetscCall(RmMemoriesGetNeuronBits(mem, rend - rstart, rows, *rb));
  for (PetscInt i = 0; i < rend - rstart; i++) (*ra)[i] = PopCount(*rb + (size_t)i * e->wpn, e->wpn);
  PetscCall(PetscFree(rows));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Explicit weights are filled one block of columns (or rows, when diluted) at a time, with the
   bits of just those presynaptic neurons fetched from their owners: no rank ever holds all n x P
   bits (issue #4, memory discipline). A block costs one PetscSF set-up (a few collectives), so
   blocks are large: 65536 columns of a dense matrix, or rows holding about 2^20 synapses of an
   aij one (about 20 MB of buffers). With 16384 synapses per block, n = 10^6 and K = 100 on 2 ranks
   took 183 s to assemble against 83 s with these sizes (both on a machine at load 15). */
#define RM_ASSEMBLY_COLUMNS  65536
#define RM_ASSEMBLY_SYNAPSES 1048576

static PetscErrorCode AssembleDense(RmSynapses syn, RmMemories mem)
{
  PetscInt     n, P, rstart, rend, nloc, lda, *ra, *cols;
  uint64_t    *rb, *cb;
  PetscScalar *w;
  EntryRule    e;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  nloc = rend - rstart;
  e    = MakeEntryRule(syn, P, n);
  PetscCall(MatCreateDense(syn->comm, nloc, nloc, n, n, NULL, &syn->W));
  PetscCall(LocalRowBits(mem, &e, &rb, &ra));
  const PetscInt bcols = syn->block ? syn->block : RM_ASSEMBLY_COLUMNS;
  PetscCall(PetscInfo(NULL, "dense assembly in %" PetscInt_FMT " column blocks of %" PetscInt_FMT "\n", (n + bcols - 1) / bcols, bcols));
  PetscCall(PetscMalloc2((size_t)bcols * e.wpn, &cb, bcols, &cols));
  PetscCall(MatDenseGetLDA(syn->W, &lda));
  PetscCall(MatDenseGetArrayWrite(syn->W, &w));
  for (PetscInt j0 = 0; j0 < n; j0 += bcols) { /* same block count on every rank: n is global */
    const PetscInt nb = PetscMin(bcols, n - j0);
    for (PetscInt l = 0; l < nb; l++) cols[l] = j0 + l;
    PetscCall(RmMemoriesGetNeuronBits(mem, nb, cols, cb));
    for (PetscInt l = 0; l < nb; l++) { /* column-major local block: the inner loop runs down a column */
      const uint64_t *bj  = cb + (size_t)l * e.wpn;
      const PetscInt  aj  = PopCount(bj, e.wpn);
      PetscScalar    *col = w + (size_t)(j0 + l) * lda;
      for (PetscInt i = 0; i < nloc; i++) col[i] = EntryValue(&e, rb + (size_t)i * e.wpn, ra[i], bj, aj);
    }
  }
  if (syn->design_type == RM_DESIGN_HEBBIAN)
    for (PetscInt i = 0; i < nloc; i++) w[(size_t)(rstart + i) * lda + i] = 0.0; /* zero diagonal (§3) */
  PetscCall(MatDenseRestoreArrayWrite(syn->W, &w));
  PetscCall(PetscFree2(cb, cols));
  PetscCall(PetscFree2(rb, ra));
  PetscCall(MatAssemblyBegin(syn->W, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(syn->W, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The K presynaptic partners of neuron i, sorted: Floyd's sampling of K distinct values from the
   n-1 other neurons, with every draw keyed by (seed, i, draw), so any partition gives the same graph. */
PetscErrorCode RmSampleInputs_Private(PetscInt64 seed, PetscInt i, PetscInt n, PetscInt K, PetscInt *cols, PetscInt *table, PetscInt tsize)
{
  PetscInt m = n - 1, count = 0;

  PetscFunctionBeginUser;
  for (PetscInt s = 0; s < tsize; s++) table[s] = -1;
  for (PetscInt j = m - K; j < m; j++) {
    PetscInt t = (PetscInt)(RmRandomU64((uint64_t)seed, RM_STREAM_DILUTION, (uint64_t)i, (uint64_t)j) % (uint64_t)(j + 1));
    PetscInt pick = t, s;
    for (s = (PetscInt)(RmMix64((uint64_t)t) & (uint64_t)(tsize - 1)); table[s] >= 0 && table[s] != t; s = (s + 1) & (tsize - 1)) {}
    if (table[s] == t) { /* t taken already: take j, which cannot be */
      pick = j;
      for (s = (PetscInt)(RmMix64((uint64_t)j) & (uint64_t)(tsize - 1)); table[s] >= 0; s = (s + 1) & (tsize - 1)) {}
    }
    table[s]      = pick;
    cols[count++] = pick < i ? pick : pick + 1; /* skip the neuron itself */
  }
  PetscCall(PetscSortInt(K, cols));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RowColumns(RmSynapses syn, PetscInt i, PetscInt n, PetscInt *ncols, PetscInt *cols, PetscInt *table, PetscInt tsize)
{
  PetscFunctionBeginUser;
  if (syn->indegree > 0) {
    PetscCall(RmSampleInputs_Private(syn->seed, i, n, syn->indegree, cols, table, tsize));
    *ncols = syn->indegree;
  } else {
    PetscInt c = 0;
    for (PetscInt j = 0; j < n; j++)
      if (j != i || syn->design_type != RM_DESIGN_HEBBIAN) cols[c++] = j; /* Hebbian: zero diagonal, not stored */
    *ncols = c;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* W as factors of the local bit-packed memories (lowrank.c): no gather, no n x n storage. */
static PetscErrorCode AssembleLowRank(RmSynapses syn, RmMemories mem)
{
  PetscInt        n, P, rstart, rend, wpp;
  const uint64_t *bits;
  RmDesign       *d = &syn->design;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmMemoriesGetLocalPacked(mem, &bits, &wpp));
  if (syn->design_type == RM_DESIGN_HEBBIAN) /* ξ = 2b − 1; zero diagonal removes P/N */
    PetscCall(RmLowRankCreateMat_Private(syn->comm, rend - rstart, n, P, bits, 1.0 / n, 2.0, 1.0, 0.0, (PetscReal)P / n, &syn->W));
  else PetscCall(RmLowRankCreateMat_Private(syn->comm, rend - rstart, n, P, bits, d->alpha / n, 1.0, d->beta, d->gamma / n, 0.0, &syn->W));
  if (!syn->lowrank_kernel[0]) PetscCall(PetscStrncpy(syn->lowrank_kernel, "table", sizeof(syn->lowrank_kernel)));
  PetscCall(RmLowRankSetKernel_Private(syn->W, syn->lowrank_kernel));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Rows in blocks of about RM_ASSEMBLY_SYNAPSES synapses; the block count is agreed on by all ranks,
   because fetching the presynaptic bits is collective. */
static PetscErrorCode AssembleAIJ(RmSynapses syn, RmMemories mem)
{
  PetscInt  n, P, rstart, rend, nloc, *d_nnz, *o_nnz, *cols, *table, ncols = 0, tsize = 1, maxcols, *ra, rows_per_block, nblocks, *rowlen;
  PetscReal *vals;
  uint64_t  *rb, *cb;
  EntryRule  e;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCheck(syn->indegree < n, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "indegree (%" PetscInt_FMT ") must be < neurons (%" PetscInt_FMT ")",
             syn->indegree, n);
  nloc = rend - rstart;
  /* A diluted neuron sums K inputs instead of n: rescale by n/K to keep the design's currents. */
  e       = MakeEntryRule(syn, P, syn->indegree > 0 ? syn->indegree : n);
  maxcols = syn->indegree > 0 ? syn->indegree : n;
  while (tsize < 2 * maxcols) tsize *= 2;
  rows_per_block = PetscMax(1, (syn->block ? syn->block : RM_ASSEMBLY_SYNAPSES) / maxcols);
  PetscCall(PetscMalloc4(nloc + 1, &d_nnz, nloc + 1, &o_nnz, tsize, &table, rows_per_block, &rowlen));
  PetscCall(PetscMalloc3((size_t)rows_per_block * maxcols, &cols, (size_t)rows_per_block * maxcols, &vals, (size_t)rows_per_block * maxcols * e.wpn, &cb));
  /* Exact preallocation: count each row's columns inside and outside the diagonal block. */
  for (PetscInt i = 0; i < nloc; i++) {
    PetscCall(RowColumns(syn, rstart + i, n, &ncols, cols, table, tsize));
    d_nnz[i] = o_nnz[i] = 0;
    for (PetscInt k = 0; k < ncols; k++) {
      if (cols[k] >= rstart && cols[k] < rend) d_nnz[i]++;
      else o_nnz[i]++;
    }
  }
  PetscCall(MatCreate(syn->comm, &syn->W));
  PetscCall(MatSetSizes(syn->W, nloc, nloc, n, n));
  PetscCall(MatSetType(syn->W, MATAIJ));
  PetscCall(MatXAIJSetPreallocation(syn->W, 1, d_nnz, o_nnz, NULL, NULL));
  PetscCall(MatSetOption(syn->W, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  PetscCall(LocalRowBits(mem, &e, &rb, &ra));
  nblocks = (nloc + rows_per_block - 1) / rows_per_block;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &nblocks, 1, MPIU_INT, MPI_MAX, syn->comm));
  PetscCall(PetscInfo(NULL, "aij assembly in %" PetscInt_FMT " row blocks of %" PetscInt_FMT " rows\n", nblocks, rows_per_block));
  for (PetscInt blk = 0; blk < nblocks; blk++) {
    const PetscInt i0 = PetscMin(blk * rows_per_block, nloc), i1 = PetscMin(i0 + rows_per_block, nloc);
    PetscInt       m  = 0;
    for (PetscInt i = i0; i < i1; i++) {
      PetscCall(RowColumns(syn, rstart + i, n, &rowlen[i - i0], cols + m, table, tsize));
      m += rowlen[i - i0];
    }
    PetscCall(RmMemoriesGetNeuronBits(mem, m, cols, cb));
    for (PetscInt i = i0, off = 0; i < i1; off += rowlen[i - i0], i++) {
      PetscInt gi = rstart + i;
      for (PetscInt k = off; k < off + rowlen[i - i0]; k++) {
        const uint64_t *bj = cb + (size_t)k * e.wpn;
        vals[k]            = EntryValue(&e, rb + (size_t)i * e.wpn, ra[i], bj, PopCount(bj, e.wpn));
      }
      PetscCall(MatSetValues(syn->W, 1, &gi, rowlen[i - i0], cols + off, vals + off, INSERT_VALUES));
    }
  }
  PetscCall(PetscFree2(rb, ra));
  PetscCall(PetscFree4(d_nnz, o_nnz, table, rowlen));
  PetscCall(PetscFree3(cols, vals, cb));
  PetscCall(MatAssemblyBegin(syn->W, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(syn->W, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetUp(RmSynapses syn, RmMemories mem, const RmActivation *act)
{
  RmEncoding enc, want;

  PetscFunctionBeginUser;
  if (syn->setup_called) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmMemoriesGetEncoding(mem, &enc));
  PetscCall(RmDesignTypeGetModel(syn->design_type, NULL, &want));
  PetscCheck(enc == want, syn->comm, PETSC_ERR_ARG_INCOMP, "design %s needs %s memories", RmDesignTypes[syn->design_type], RmEncodings[want]);
  PetscCall(RmMemoriesGetCoding(mem, &syn->design.coding));
  PetscCall(RmMemoriesGetSeed(mem, &syn->seed));
  if (!syn->balance_set) syn->design.balance = syn->design.coding; /* basic design */
  PetscCall(RmDesignCompute(syn->comm, syn->design_type, act, &syn->design));
  PetscCall(PetscLogEventBegin(RM_EVENTS.assemble, 0, 0, 0, 0));
  if (syn->storage == RM_STORAGE_LOWRANK) PetscCall(AssembleLowRank(syn, mem));
  else if (syn->storage == RM_STORAGE_COMPRESSED)
    PetscCall(RmCompressedCreateMat_Private(syn->comm, mem, syn->design_type, &syn->design, syn->indegree, syn->seed, &syn->W));
  else if (syn->storage == RM_STORAGE_DENSE) PetscCall(AssembleDense(syn, mem));
  else PetscCall(AssembleAIJ(syn, mem));
  PetscCall(PetscLogEventEnd(RM_EVENTS.assemble, 0, 0, 0, 0));
  syn->setup_called = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesView(RmSynapses syn, PetscViewer viewer)
{
  RmDesign *d = &syn->design;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "Synapses: design %s, storage %s", RmDesignTypes[syn->design_type], RmStorageTypes[syn->storage]));
  if (syn->indegree) PetscCall(PetscViewerASCIIPrintf(viewer, ", indegree %" PetscInt_FMT, syn->indegree));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  if (syn->design_type == RM_DESIGN_PAPER)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  a %g, b %g, q %g, r %g -> alpha %g, beta %g, gamma %g (phi(a) %g, phi(b) %g)\n", (double)d->a,
                                     (double)d->b, (double)d->coding, (double)d->balance, (double)d->alpha, (double)d->beta, (double)d->gamma,
                                     (double)d->phi_a, (double)d->phi_b));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesDestroy(RmSynapses *syn)
{
  PetscFunctionBeginUser;
  if (!*syn) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(MatDestroy(&(*syn)->W));
  PetscCall(PetscFree(*syn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetDesignType(RmSynapses syn, RmDesignType *type)
{
  PetscFunctionBeginUser;
  *type = syn->design_type;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetStorageType(RmSynapses syn, RmStorageType *type)
{
  PetscFunctionBeginUser;
  *type = syn->storage;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetIndegree(RmSynapses syn, PetscInt *K)
{
  PetscFunctionBeginUser;
  *K = syn->indegree;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetDesign(RmSynapses syn, RmDesign *design)
{
  PetscFunctionBeginUser;
  *design = syn->design;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetKernelName(RmSynapses syn, const char **name)
{
  PetscFunctionBeginUser;
  if (!syn->W) *name = "none"; /* not set up (e.g. the phase diagram's template network) */
  else if (syn->storage == RM_STORAGE_LOWRANK) {
    RmLowRank *lr;
    PetscCall(MatShellGetContext(syn->W, &lr));
    *name = lr->kernel;
  } else if (syn->storage == RM_STORAGE_COMPRESSED) PetscCall(RmCompressedGetKernelName_Private(syn->W, name));
  else *name = syn->storage == RM_STORAGE_DENSE ? "matdense-blas" : "mataij";
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetMat(RmSynapses syn, Mat *W)
{
  PetscFunctionBeginUser;
  PetscCheck(syn->setup_called, PETSC_COMM_SELF, PETSC_ERR_ORDER, "call RmSynapsesSetUp() first");
  *W = syn->W;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesRestoreMat(RmSynapses syn, Mat *W)
{
  PetscFunctionBeginUser;
  *W = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}
