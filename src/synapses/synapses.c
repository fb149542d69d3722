/* Synaptic designs (model.md §2 and the Hebbian baseline of §3) assembled as row-distributed
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
};

PetscErrorCode RmSynapsesCreate(MPI_Comm comm, RmSynapses *syn)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(syn));
  (*syn)->comm     = comm;
  (*syn)->design.a = -0.3; /* the authors' example (model.md §2) */
  (*syn)->design.b = 0.95;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetFromOptions(RmSynapses syn)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(syn->comm, NULL, "Synapses (model.md §2)", "RmSynapses");
  PetscCall(PetscOptionsEnum("-design", "Synaptic design: paper (model.md §2, rate model) or hebbian (Hopfield baseline, ±1 memories)",
                             "RmSynapsesSetFromOptions", RmDesignTypes, (PetscEnum)syn->design_type, (PetscEnum *)&syn->design_type, NULL));
  PetscCall(PetscOptionsEnum("-storage", "Weight storage: dense (MATDENSE), aij (MATAIJ, diluted with -indegree), lowrank (factored, bit-packed memories, W never formed), compressed (diluted, weights recomputed from the memories, ~5 bytes/synapse)", "RmSynapsesSetFromOptions",
                             RmStorageTypes, (PetscEnum)syn->storage, (PetscEnum *)&syn->storage, NULL));
  PetscCall(PetscOptionsInt("-indegree", "Inputs per neuron K of a diluted aij network (0: fully connected)", "RmSynapsesSetFromOptions",
                            syn->indegree, &syn->indegree, NULL));
  PetscCall(PetscOptionsReal("-a", "Design current a of an inactive neuron at a memory", "RmSynapsesSetFromOptions", syn->design.a, &syn->design.a, NULL));
  PetscCall(PetscOptionsReal("-b", "Design current b of an active neuron at a memory", "RmSynapsesSetFromOptions", syn->design.b, &syn->design.b, NULL));
  PetscCall(PetscOptionsReal("-balance", "Pairwise overlap ratio r of the memories (general design; default r = q, the basic design)",
                             "RmSynapsesSetFromOptions", syn->design.balance, &syn->design.balance, &syn->balance_set));
  PetscOptionsEnd();
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
  /* model.md §2, general design. */
  PetscReal denom = (1 - q) * d->phi_a + q * d->phi_b;
  PetscCheck(denom > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "design undefined: (1-q) phi(a) + q phi(b) = 0");
  d->alpha_basic = (d->b - d->a) / (d->phi_b - d->phi_a);
  d->alpha       = (d->b - d->a) / (q * (1 - r) * (d->phi_b - d->phi_a));
  d->beta        = q * ((1 - r) * d->phi_a + r * d->phi_b) / denom;
  d->gamma       = ((1 - d->beta) * d->a + d->beta * d->b) / denom;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Entry values: W_ij = scale * Σ_μ c_iμ c_jμ + shift, with c = bit - β (paper) or ±1 (hebbian). */
static inline PetscReal Centred(RmDesignType type, const RmDesign *d, uint8_t bit)
{
  return type == RM_DESIGN_HEBBIAN ? 2.0 * bit - 1.0 : bit - d->beta;
}

static PetscErrorCode AssembleDense(RmSynapses syn, RmMemories mem, const uint8_t *all)
{
  PetscInt     n, P, rstart, rend, nloc, lda;
  PetscReal   *cloc, *cglob;
  PetscScalar *w;
  RmDesign    *d     = &syn->design;
  PetscReal    scale, shift;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  nloc  = rend - rstart;
  scale = (syn->design_type == RM_DESIGN_HEBBIAN ? 1.0 : d->alpha) / n;
  shift = syn->design_type == RM_DESIGN_HEBBIAN ? 0.0 : d->gamma / n;
  PetscCall(MatCreateDense(syn->comm, nloc, nloc, n, n, NULL, &syn->W));
  PetscCall(PetscMalloc2((size_t)P * nloc, &cloc, (size_t)P * n, &cglob));
  for (PetscInt mu = 0; mu < P; mu++) {
    for (PetscInt i = 0; i < nloc; i++) cloc[mu * nloc + i] = scale * Centred(syn->design_type, d, all[mu * n + rstart + i]);
    for (PetscInt j = 0; j < n; j++) cglob[mu * n + j] = Centred(syn->design_type, d, all[mu * n + j]);
  }
  PetscCall(MatDenseGetLDA(syn->W, &lda));
  PetscCall(MatDenseGetArrayWrite(syn->W, &w));
  for (PetscInt j = 0; j < n; j++) { /* column-major local block: the inner loop runs down a column */
    PetscScalar *col = w + (size_t)j * lda;
    for (PetscInt i = 0; i < nloc; i++) col[i] = shift;
    for (PetscInt mu = 0; mu < P; mu++) {
      const PetscReal  cj = cglob[mu * n + j];
      const PetscReal *ci = cloc + mu * nloc;
      for (PetscInt i = 0; i < nloc; i++) col[i] += ci[i] * cj;
    }
  }
  if (syn->design_type == RM_DESIGN_HEBBIAN)
    for (PetscInt i = 0; i < nloc; i++) w[(size_t)(rstart + i) * lda + i] = 0.0; /* zero diagonal (§3) */
  PetscCall(MatDenseRestoreArrayWrite(syn->W, &w));
  PetscCall(PetscFree2(cloc, cglob));
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
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AssembleAIJ(RmSynapses syn, RmMemories mem, const uint8_t *all)
{
  PetscInt     n, P, rstart, rend, nloc, *d_nnz, *o_nnz, *cols, *table, ncols = 0, tsize = 1, maxcols;
  PetscScalar *vals;
  RmDesign    *d = &syn->design;
  PetscReal    scale, shift;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCheck(syn->indegree < n, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "indegree (%" PetscInt_FMT ") must be < neurons (%" PetscInt_FMT ")",
             syn->indegree, n);
  nloc = rend - rstart;
  /* A diluted neuron sums K inputs instead of n: rescale by n/K to keep the design's currents. */
  PetscInt inputs = syn->indegree > 0 ? syn->indegree : n;
  scale           = (syn->design_type == RM_DESIGN_HEBBIAN ? 1.0 : d->alpha) / inputs;
  shift           = syn->design_type == RM_DESIGN_HEBBIAN ? 0.0 : d->gamma / inputs;
  maxcols         = syn->indegree > 0 ? syn->indegree : n;
  while (tsize < 2 * maxcols) tsize *= 2;
  PetscCall(PetscMalloc5(nloc, &d_nnz, nloc, &o_nnz, maxcols, &cols, maxcols, &vals, tsize, &table));
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
  for (PetscInt i = 0; i < nloc; i++) {
    PetscInt gi = rstart + i;
    PetscCall(RowColumns(syn, gi, n, &ncols, cols, table, tsize));
    for (PetscInt k = 0; k < ncols; k++) {
      PetscReal sum = 0;
      for (PetscInt mu = 0; mu < P; mu++) sum += Centred(syn->design_type, d, all[mu * n + gi]) * Centred(syn->design_type, d, all[mu * n + cols[k]]);
      vals[k] = scale * sum + shift;
    }
    PetscCall(MatSetValues(syn->W, 1, &gi, ncols, cols, vals, INSERT_VALUES));
  }
  PetscCall(PetscFree5(d_nnz, o_nnz, cols, vals, table));
  PetscCall(MatAssemblyBegin(syn->W, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(syn->W, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetUp(RmSynapses syn, RmMemories mem, const RmActivation *act)
{
  uint8_t   *all;
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
  else {
    PetscCall(RmMemoriesGetAllBits(mem, &all));
    if (syn->storage == RM_STORAGE_DENSE) PetscCall(AssembleDense(syn, mem, all));
    else PetscCall(AssembleAIJ(syn, mem, all));
    PetscCall(PetscFree(all));
  }
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
  if (syn->storage == RM_STORAGE_LOWRANK) {
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
