/* -storage spatial: a diluted W (-indegree K inputs per neuron, weights x n/K as in aij) on spatially
   structured connectivity, stored as MATAIJ. Neurons have positions: on a ring (index i) or on a
   torus grid of side s = sqrt(n) (i = row s + col). Each neuron's K inputs are drawn without
   replacement and without itself among the neurons within distance -radius R (ring: min(|i-j|,
   n-|i-j|) <= R; grid2d: Chebyshev distance on the torus, max(dr, dc) <= R, a (2R+1)^2 - 1 square),
   then each input is rewired with probability -rewire p to a uniformly random neuron not already an
   input (Watts-Strogatz). -connectivity random is aij's diluted graph (the same W), then rewired.
   Ranks own contiguous index blocks, i.e. arcs of the ring or bands of grid rows, so for p = 0 the
   ghost values of a product are the 2R neurons next to the arc (ring) or the 2R rows next to the
   band (grid2d). Every draw is keyed by (seed, neuron, draw) (RM_STREAM_SPATIAL, RM_STREAM_REWIRE),
   so any partition gives the same graph. */
#include "synapsesimpl.h"

typedef enum { CONN_RANDOM, CONN_RING, CONN_GRID2D } Connectivity;
static const char *const ConnectivityTypes[] = {"random", "ring", "grid2d", "Connectivity", "CONN_", NULL};

typedef struct {
  Connectivity conn;
  PetscInt     radius;   /* -radius; 0: the smallest radius with at least K candidates */
  PetscReal    rewire;   /* -rewire p */
  PetscInt     block;    /* -assembly_block */
  PetscInt     R, side;  /* the radius used and the grid side (set at assembly) */
  PetscMPIInt  size;
  PetscInt    *ghosts;   /* off-rank columns of each rank (size entries, on every rank) */
} Spatial;

#define RM_SPATIAL_BLOCK 1048576 /* synapses per assembly block, as aij */

/* Floyd's sampling of K distinct candidate numbers in [0, C), draw j keyed by (seed, i, j). */
static void SampleCandidates(uint64_t seed, PetscInt i, PetscInt C, PetscInt K, PetscInt *picks, PetscInt *table, PetscInt tsize)
{
  PetscInt count = 0;

  for (PetscInt s = 0; s < tsize; s++) table[s] = -1;
  for (PetscInt j = C - K; j < C; j++) {
    PetscInt t = (PetscInt)(RmRandomU64(seed, RM_STREAM_SPATIAL, (uint64_t)i, (uint64_t)j) % (uint64_t)(j + 1)), pick = t, s;
    for (s = (PetscInt)(RmMix64((uint64_t)t) & (uint64_t)(tsize - 1)); table[s] >= 0 && table[s] != t; s = (s + 1) & (tsize - 1)) {}
    if (table[s] == t) { /* t taken already: take j, which cannot be */
      pick = j;
      for (s = (PetscInt)(RmMix64((uint64_t)j) & (uint64_t)(tsize - 1)); table[s] >= 0; s = (s + 1) & (tsize - 1)) {}
    }
    table[s]       = pick;
    picks[count++] = pick;
  }
}

/* Open-addressing set of neuron numbers in table (tsize a power of two, -1 empty): insert v, or
   return PETSC_FALSE if it is there already. */
static PetscBool SetInsert(PetscInt *table, PetscInt tsize, PetscInt v)
{
  PetscInt s;
  for (s = (PetscInt)(RmMix64((uint64_t)v) & (uint64_t)(tsize - 1)); table[s] >= 0; s = (s + 1) & (tsize - 1))
    if (table[s] == v) return PETSC_FALSE;
  table[s] = v;
  return PETSC_TRUE;
}

/* Candidates within the radius of one neuron, excluding itself. */
static PetscInt CandidateCount(const Spatial *sp, PetscInt n)
{
  if (sp->conn == CONN_RING) return 2 * sp->R + 1 <= n ? 2 * sp->R : n - 1;
  if (sp->conn == CONN_GRID2D) {
    const PetscInt w = PetscMin(2 * sp->R + 1, sp->side);
    return w * w - 1;
  }
  return n - 1;
}

/* Candidate number c in [0, CandidateCount) of neuron i -> its neuron. */
static PetscInt CandidateNeuron(const Spatial *sp, PetscInt n, PetscInt i, PetscInt c)
{
  if (sp->conn == CONN_RING) {
    PetscInt d;
    if (2 * sp->R + 1 > n) return c < i ? c : c + 1; /* the whole ring is within reach */
    d = c < sp->R ? c - sp->R : c - sp->R + 1;
    return ((i + d) % n + n) % n;
  } else {
    const PetscInt  s = sp->side, full = 2 * sp->R + 1 >= s, w = full ? s : 2 * sp->R + 1, z = full ? 0 : sp->R;
    const PetscInt  cc = c < z * w + z ? c : c + 1; /* skip the offset (0, 0) */
    const PetscInt  dr = full ? cc / w : cc / w - sp->R, dc = full ? cc % w : cc % w - sp->R;
    const PetscInt  r = ((i / s + dr) % s + s) % s, q = ((i % s + dc) % s + s) % s;
    return r * s + q;
  }
}

/* The K sorted inputs of neuron i: K within the radius, then each rewired with probability p.
   picks and table are scratch (K and tsize >= 2K, a power of two). */
static PetscErrorCode RowColumns(RmSynapses syn, PetscInt i, PetscInt n, PetscInt *cols, PetscInt *picks, PetscInt *table, PetscInt tsize)
{
  Spatial       *sp   = (Spatial *)syn->data;
  const PetscInt K    = syn->indegree;
  const uint64_t seed = (uint64_t)syn->seed;
  PetscInt       kept = 0;

  PetscFunctionBeginUser;
  if (sp->conn == CONN_RANDOM) PetscCall(RmSampleInputs_Private(syn->seed, i, n, K, cols, table, tsize));
  else {
    const PetscInt C = CandidateCount(sp, n);
    SampleCandidates(seed, i, C, K, picks, table, tsize);
    for (PetscInt k = 0; k < K; k++) cols[k] = CandidateNeuron(sp, n, i, picks[k]);
    PetscCall(PetscSortInt(K, cols));
  }
  if (sp->rewire > 0) {
    /* Coin k (keyed by the k-th smallest input) decides whether input k is rewired; the kept ones
       first fill the set, then each rewired one draws uniform neurons until one is new (not i, not
       an input yet), attempt a keyed by (a + 1) << 32 | k. */
    PetscInt *move = picks, nmove = 0;
    for (PetscInt s = 0; s < tsize; s++) table[s] = -1;
    SetInsert(table, tsize, i);
    for (PetscInt k = 0; k < K; k++) {
      move[k] = RmRandomUniform(seed, RM_STREAM_REWIRE, (uint64_t)i, (uint64_t)k) < sp->rewire;
      if (!move[k]) SetInsert(table, tsize, cols[k]);
    }
    for (PetscInt k = 0; k < K; k++) {
      if (!move[k]) {
        cols[kept++] = cols[k];
        continue;
      }
      nmove++;
    }
    for (PetscInt k = 0, slot = kept; k < K; k++) {
      uint64_t a = 0;
      PetscInt j;
      if (!move[k]) continue;
      do {
        j = (PetscInt)(RmRandomU64(seed, RM_STREAM_REWIRE, (uint64_t)i, ((a + 1) << 32) | (uint64_t)k) % (uint64_t)n);
        a++;
      } while (!SetInsert(table, tsize, j));
      cols[slot++] = j;
    }
    if (nmove) PetscCall(PetscSortInt(K, cols));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Rows in blocks (the count agreed on by all ranks: fetching the presynaptic bits is collective), as aij. */
static PetscErrorCode AssembleSpatial(RmSynapses syn, RmMemories mem)
{
  Spatial    *sp = (Spatial *)syn->data;
  PetscInt    n, P, rstart, rend, nloc, *d_nnz, *o_nnz, *cols, *table, *picks, tsize = 1, K = syn->indegree, *ra, rows_per_block, nblocks, C, nghost = 0;
  PetscReal  *vals;
  uint64_t   *rb, *cb;
  RmEntryRule e;
  PetscBool   mpi;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCheck(K < n, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "indegree (%" PetscInt_FMT ") must be < neurons (%" PetscInt_FMT ")", K, n);
  sp->side = 0;
  if (sp->conn == CONN_GRID2D) {
    sp->side = (PetscInt)PetscFloorReal(PetscSqrtReal((PetscReal)n) + 0.5);
    const PetscInt lo = (PetscInt)PetscFloorReal(PetscSqrtReal((PetscReal)n));
    PetscCheck(sp->side * sp->side == n, syn->comm, PETSC_ERR_ARG_INCOMP,
               "-connectivity grid2d needs a square number of neurons (side^2), got -neurons %" PetscInt_FMT " (nearest squares %" PetscInt_FMT " and %" PetscInt_FMT ")", n,
               lo * lo, (lo + 1) * (lo + 1));
  }
  sp->R = sp->radius;
  if (sp->conn != CONN_RANDOM && sp->R == 0) { /* the smallest radius with K candidates */
    sp->R = 1;
    while (CandidateCount(sp, n) < K) sp->R++;
  }
  C = CandidateCount(sp, n);
  PetscCheck(K <= C, syn->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-indegree %" PetscInt_FMT " exceeds the %" PetscInt_FMT " neurons within -radius %" PetscInt_FMT " (-connectivity %s): increase -radius or lower -indegree", K, C,
             sp->R, ConnectivityTypes[sp->conn]);
  nloc = rend - rstart;
  e    = RmEntryRuleMake(syn, P, K); /* a neuron sums K inputs instead of n: weights x n/K, as aij */
  while (tsize < 2 * (K + 1)) tsize *= 2;
  rows_per_block = PetscMax(1, (sp->block ? sp->block : RM_SPATIAL_BLOCK) / K);
  PetscCall(PetscMalloc4(nloc + 1, &d_nnz, nloc + 1, &o_nnz, tsize, &table, K, &picks));
  PetscCall(PetscMalloc3((size_t)rows_per_block * K, &cols, (size_t)rows_per_block * K, &vals, (size_t)rows_per_block * K * e.wpn, &cb));
  for (PetscInt i = 0; i < nloc; i++) {
    PetscCall(RowColumns(syn, rstart + i, n, cols, picks, table, tsize));
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
  for (PetscInt blk = 0; blk < nblocks; blk++) {
    const PetscInt i0 = PetscMin(blk * rows_per_block, nloc), i1 = PetscMin(i0 + rows_per_block, nloc);
    for (PetscInt i = i0; i < i1; i++) PetscCall(RowColumns(syn, rstart + i, n, cols + (i - i0) * K, picks, table, tsize));
    PetscCall(RmMemoriesGetNeuronBits(mem, (i1 - i0) * K, cols, cb));
    for (PetscInt i = i0; i < i1; i++) {
      const PetscInt gi = rstart + i, off = (i - i0) * K;
      for (PetscInt k = off; k < off + K; k++) {
        const uint64_t *bj = cb + (size_t)k * e.wpn;
        vals[k]            = RmEntryValue(&e, rb + (size_t)i * e.wpn, ra[i], bj, RmPopCount(bj, e.wpn));
      }
      PetscCall(MatSetValues(syn->W, 1, &gi, K, cols + off, vals + off, INSERT_VALUES));
    }
  }
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
  PetscCall(PetscInfo(NULL, "spatial: %s, radius %" PetscInt_FMT ", rewire %g: %" PetscInt_FMT " off-rank columns on this rank\n", ConnectivityTypes[sp->conn], sp->R,
                      (double)sp->rewire, nghost));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetFromOptionsSpatial(PetscOptionItems *PetscOptionsObject, RmSynapses syn)
{
  Spatial *sp = (Spatial *)syn->data;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsEnum("-connectivity", "Positions of a spatial network: random (aij's graph), ring (index i) or grid2d (torus, i = row side + col)",
                             "RmSynapsesCreate_Spatial", ConnectivityTypes, (PetscEnum)sp->conn, (PetscEnum *)&sp->conn, NULL));
  PetscCall(PetscOptionsInt("-radius", "Inputs drawn within this distance (ring: |i-j| mod n; grid2d: Chebyshev on the torus); 0: the smallest with K candidates",
                            "RmSynapsesCreate_Spatial", sp->radius, &sp->radius, NULL));
  PetscCall(PetscOptionsReal("-rewire", "Probability p that an input is rewired to a uniformly random neuron (Watts-Strogatz)", "RmSynapsesCreate_Spatial",
                             sp->rewire, &sp->rewire, NULL));
  PetscCall(RmSynapsesAssemblyBlockOption_Private(PetscOptionsObject, syn, &sp->block));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSpatial(RmSynapses syn)
{
  Spatial *sp = (Spatial *)syn->data;

  PetscFunctionBeginUser;
  PetscCheck(syn->indegree > 0, syn->comm, PETSC_ERR_ARG_INCOMP, "-storage spatial needs -indegree K > 0 (the inputs per neuron)");
  PetscCheck(sp->radius >= 0, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "-radius must be >= 0, got %" PetscInt_FMT, sp->radius);
  PetscCall(RmCheckFinite(syn->comm, "rewire", sp->rewire));
  PetscCheck(sp->rewire >= 0 && sp->rewire <= 1, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "-rewire must be in [0, 1], got %g", (double)sp->rewire);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ViewSpatial(RmSynapses syn, PetscViewer viewer)
{
  Spatial *sp = (Spatial *)syn->data;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, ", connectivity %s", ConnectivityTypes[sp->conn]));
  if (sp->conn != CONN_RANDOM) PetscCall(PetscViewerASCIIPrintf(viewer, ", radius %" PetscInt_FMT, sp->ghosts ? sp->R : sp->radius));
  PetscCall(PetscViewerASCIIPrintf(viewer, ", rewire %g", (double)sp->rewire));
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
  sp->conn                = CONN_RING;
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
