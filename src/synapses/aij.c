/* -storage aij: W as MATAIJ, fully connected (-indegree 0: the same entries as dense, the Hebbian
   zero diagonal not stored) or diluted (K random inputs per neuron, weights x n/K), with exact
   preallocation; rows filled in blocks of about 2^20 synapses whose presynaptic bits are fetched
   from their owners (-assembly_block). */
#include "synapsesimpl.h"

typedef struct {
  PetscInt block; /* synapses per assembly block; 0: RM_ASSEMBLY_SYNAPSES */
} AIJ;

/* A block costs one PetscSF set-up (a few collectives), so blocks are large: rows holding about
   2^20 synapses (about 20 MB of buffers). With 16384 synapses per block, n = 10^6 and K = 100 on
   2 ranks took 183 s to assemble against 83 s with this size (both on a machine at load 15). */
#define RM_ASSEMBLY_SYNAPSES 1048576

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

/* Rows in blocks of about RM_ASSEMBLY_SYNAPSES synapses; the block count is agreed on by all ranks,
   because fetching the presynaptic bits is collective. */
static PetscErrorCode AssembleAIJ(RmSynapses syn, RmMemories mem)
{
  AIJ      *aij = (AIJ *)syn->data;
  PetscInt  n, P, rstart, rend, nloc, *d_nnz, *o_nnz, *cols, *table, ncols = 0, tsize = 1, maxcols, *ra, rows_per_block, nblocks, *rowlen;
  PetscReal *vals;
  uint64_t  *rb, *cb;
  RmEntryRule e;
  RmProgress  progress;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCheck(syn->indegree < n, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "indegree (%" PetscInt_FMT ") must be < neurons (%" PetscInt_FMT ")",
             syn->indegree, n);
  nloc = rend - rstart;
  /* A diluted neuron sums K inputs instead of n: rescale by n/K to keep the design's currents. */
  e       = RmEntryRuleMake(syn, P, syn->indegree > 0 ? syn->indegree : n);
  maxcols = syn->indegree > 0 ? syn->indegree : n;
  while (tsize < 2 * maxcols) tsize *= 2;
  rows_per_block = PetscMax(1, (aij->block ? aij->block : RM_ASSEMBLY_SYNAPSES) / maxcols);
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
  PetscCall(RmSynapsesLocalRowBits_Private(mem, &e, &rb, &ra));
  nblocks = (nloc + rows_per_block - 1) / rows_per_block;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &nblocks, 1, MPIU_INT, MPI_MAX, syn->comm));
  PetscCall(PetscInfo(NULL, "aij assembly in %" PetscInt_FMT " row blocks of %" PetscInt_FMT " rows\n", nblocks, rows_per_block));
  PetscCall(RmProgressBegin(syn->comm, "aij weights", "rows", nloc, &progress));
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
        vals[k]            = RmEntryValue(&e, rb + (size_t)i * e.wpn, ra[i], bj, RmPopCount(bj, e.wpn));
      }
      PetscCall(MatSetValues(syn->W, 1, &gi, rowlen[i - i0], cols + off, vals + off, INSERT_VALUES));
    }
    PetscCall(RmProgressUpdate(&progress, i1));
  }
  PetscCall(RmProgressEnd(&progress));
  PetscCall(PetscFree2(rb, ra));
  PetscCall(PetscFree4(d_nnz, o_nnz, table, rowlen));
  PetscCall(PetscFree3(cols, vals, cb));
  PetscCall(MatAssemblyBegin(syn->W, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(syn->W, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(PETSC_SUCCESS);
}


static PetscErrorCode SetFromOptionsAIJ(PetscOptionItems *PetscOptionsObject, RmSynapses syn)
{
  AIJ *aij = (AIJ *)syn->data;

  PetscFunctionBeginUser;
  PetscCall(RmSynapsesAssemblyBlockOption_Private(PetscOptionsObject, syn, &aij->block));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode KernelNameAIJ(RmSynapses syn, const char **name)
{
  PetscFunctionBeginUser;
  *name = "mataij";
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DestroyAIJ(RmSynapses syn)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(syn->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmSynapsesCreate_AIJ(RmSynapses syn)
{
  AIJ *aij;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&aij));
  syn->data               = aij;
  syn->diluted            = PETSC_TRUE;
  syn->ops.setfromoptions = SetFromOptionsAIJ;
  syn->ops.assemble       = AssembleAIJ;
  syn->ops.kernelname     = KernelNameAIJ;
  syn->ops.destroy        = DestroyAIJ;
  PetscFunctionReturn(PETSC_SUCCESS);
}
