/* -storage spatial: a diluted W (-indegree K inputs per neuron, weights x n/K as in aij) on spatially
   structured connectivity, stored as MATAIJ. The graph (-connectivity ring|grid2d|random, -radius,
   -rewire) is connectivity.c's, which -storage compressed shares: ring or torus-grid positions, K
   inputs within the radius, Watts-Strogatz rewiring, every draw keyed by (seed, neuron, draw), so any
   partition gives the same graph. Ranks own contiguous index blocks, i.e. arcs of the ring or bands
   of grid rows, so for p = 0 the ghost values of a product are the 2R neurons next to the arc (ring)
   or the 2R rows next to the band (grid2d). */
#include "connectivity.h"

typedef struct {
  RmConnectivity conn;   /* -connectivity, -radius, -rewire (connectivity.c: the graph, shared with compressed) */
  PetscInt       block;  /* -assembly_block */
  PetscMPIInt    size;
  PetscInt      *ghosts; /* off-rank columns of each rank (size entries, on every rank) */
} Spatial;

#define RM_SPATIAL_BLOCK 1048576 /* synapses per assembly block, as aij */

/* Rows in blocks (the count agreed on by all ranks: fetching the presynaptic bits is collective), as aij. */
static PetscErrorCode AssembleSpatial(RmSynapses syn, RmMemories mem)
{
  Spatial    *sp = (Spatial *)syn->data;
  PetscInt    n, P, rstart, rend, nloc, *d_nnz, *o_nnz, *cols, *table, *picks, tsize, K = syn->indegree, *ra, rows_per_block, nblocks, nghost = 0;
  PetscReal  *vals;
  uint64_t   *rb, *cb;
  RmEntryRule e;
  PetscBool   mpi;
  RmProgress  progress;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmConnectivitySetUp_Private(syn->comm, &sp->conn, n, K, syn->seed));
  nloc = rend - rstart;
  e    = RmEntryRuleMake(syn, P, K); /* a neuron sums K inputs instead of n: weights x n/K, as aij */
  tsize = RmConnectivityTableSize_Private(K);
  rows_per_block = PetscMax(1, (sp->block ? sp->block : RM_SPATIAL_BLOCK) / K);
  PetscCall(PetscMalloc4(nloc + 1, &d_nnz, nloc + 1, &o_nnz, tsize, &table, K, &picks));
  PetscCall(PetscMalloc3((size_t)rows_per_block * K, &cols, (size_t)rows_per_block * K, &vals, (size_t)rows_per_block * K * e.wpn, &cb));
  for (PetscInt i = 0; i < nloc; i++) {
    PetscCall(RmConnectivityRowColumns_Private(&sp->conn, rstart + i, cols, picks, table, tsize));
    d_nnz[i] = o_nnz[i] = 0;
    for (PetscInt k = 0; k < K; k++) {
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
  PetscCall(RmProgressBegin(syn->comm, "spatial weights", "rows", nloc, &progress));
  for (PetscInt blk = 0; blk < nblocks; blk++) {
    const PetscInt i0 = PetscMin(blk * rows_per_block, nloc), i1 = PetscMin(i0 + rows_per_block, nloc);
    for (PetscInt i = i0; i < i1; i++) PetscCall(RmConnectivityRowColumns_Private(&sp->conn, rstart + i, cols + (i - i0) * K, picks, table, tsize));
    PetscCall(RmMemoriesGetNeuronBits(mem, (i1 - i0) * K, cols, cb));
    for (PetscInt i = i0; i < i1; i++) {
      const PetscInt gi = rstart + i, off = (i - i0) * K;
      for (PetscInt k = off; k < off + K; k++) {
        const uint64_t *bj = cb + (size_t)k * e.wpn;
        vals[k]            = RmEntryValue(&e, rb + (size_t)i * e.wpn, ra[i], bj, RmPopCount(bj, e.wpn));
      }
      PetscCall(MatSetValues(syn->W, 1, &gi, K, cols + off, vals + off, INSERT_VALUES));
    }
    PetscCall(RmProgressUpdate(&progress, i1));
  }
  PetscCall(RmProgressEnd(&progress));
  PetscCall(PetscFree2(rb, ra));
  PetscCall(PetscFree4(d_nnz, o_nnz, table, picks));
  PetscCall(PetscFree3(cols, vals, cb));
  PetscCall(MatAssemblyBegin(syn->W, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(syn->W, MAT_FINAL_ASSEMBLY));
  /* The ghost values a product needs: the columns of the off-diagonal block. */
  PetscCall(PetscObjectTypeCompare((PetscObject)syn->W, MATMPIAIJ, &mpi));
  if (mpi) {
    Mat Ad, Ao;
    PetscCall(MatMPIAIJGetSeqAIJ(syn->W, &Ad, &Ao, NULL));
    PetscCall(MatGetSize(Ao, NULL, &nghost));
  }
  PetscCallMPI(MPI_Comm_size(syn->comm, &sp->size));
  PetscCall(PetscFree(sp->ghosts));
  PetscCall(PetscMalloc1(sp->size, &sp->ghosts));
  PetscCallMPI(MPI_Allgather(&nghost, 1, MPIU_INT, sp->ghosts, 1, MPIU_INT, syn->comm));
  PetscCall(PetscInfo(NULL, "spatial: %s, radius %" PetscInt_FMT ", rewire %g: %" PetscInt_FMT " off-rank columns on this rank\n", RmConnectivityTypes[sp->conn.type],
                      sp->conn.R, (double)sp->conn.rewire, nghost));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetFromOptionsSpatial(PetscOptionItems *PetscOptionsObject, RmSynapses syn)
{
  Spatial *sp = (Spatial *)syn->data;

  PetscFunctionBeginUser;
  PetscCall(RmConnectivitySetFromOptions_Private(PetscOptionsObject, "spatial", &sp->conn));
  PetscCall(RmSynapsesAssemblyBlockOption_Private(PetscOptionsObject, syn, &sp->block));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSpatial(RmSynapses syn)
{
  Spatial *sp = (Spatial *)syn->data;

  PetscFunctionBeginUser;
  PetscCheck(syn->indegree > 0, syn->comm, PETSC_ERR_ARG_INCOMP, "-storage spatial needs -indegree K > 0 (the inputs per neuron)");
  PetscCall(RmConnectivityCheck_Private(syn->comm, &sp->conn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ViewSpatial(RmSynapses syn, PetscViewer viewer)
{
  Spatial *sp = (Spatial *)syn->data;

  PetscFunctionBeginUser;
  PetscCall(RmConnectivityView_Private(&sp->conn, viewer));
  if (sp->ghosts) {
    PetscCall(PetscViewerASCIIPrintf(viewer, ", off-rank columns per rank"));
    for (PetscMPIInt r = 0; r < PetscMin(sp->size, 16); r++) PetscCall(PetscViewerASCIIPrintf(viewer, " %" PetscInt_FMT, sp->ghosts[r]));
    if (sp->size > 16) PetscCall(PetscViewerASCIIPrintf(viewer, " ..."));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode KernelNameSpatial(RmSynapses syn, const char **name)
{
  PetscFunctionBeginUser;
  *name = "mataij";
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DestroySpatial(RmSynapses syn)
{
  Spatial *sp = (Spatial *)syn->data;

  PetscFunctionBeginUser;
  if (sp) PetscCall(PetscFree(sp->ghosts));
  PetscCall(PetscFree(syn->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmSynapsesCreate_Spatial(RmSynapses syn)
{
  Spatial *sp;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&sp));
  sp->conn.type           = RM_CONNECTIVITY_RING;
  syn->data               = sp;
  syn->diluted            = PETSC_TRUE;
  syn->ops.setfromoptions = SetFromOptionsSpatial;
  syn->ops.check          = CheckSpatial;
  syn->ops.assemble       = AssembleSpatial;
  syn->ops.view           = ViewSpatial;
  syn->ops.kernelname     = KernelNameSpatial;
  syn->ops.destroy        = DestroySpatial;
  PetscFunctionReturn(PETSC_SUCCESS);
}
