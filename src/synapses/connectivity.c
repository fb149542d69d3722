/* The graph of a diluted network (connectivity.h), for -storage spatial and compressed. Positions: on a
   ring (index i) or on a torus grid of side s = sqrt(n) (i = row s + col). Each neuron's K inputs are
   drawn without replacement and without itself among the neurons within distance R (ring: min(|i-j|,
   n-|i-j|) <= R; grid2d: Chebyshev distance on the torus, max(dr, dc) <= R, a (2R+1)^2 - 1 square),
   then each input is rewired with probability p to a uniformly random neuron not already an input
   (Watts-Strogatz). random is aij's diluted graph (RmSampleInputs_Private, the same W), then rewired.
   Ranks own contiguous index blocks, i.e. arcs of the ring or bands of grid rows, so for p = 0 the
   ghost values of a product are the 2R neurons next to the arc (ring) or the 2R rows next to the
   band (grid2d). */
#include "connectivity.h"

const char *const RmConnectivityTypes[] = {"random", "ring", "grid2d", "RmConnectivityType", "RM_CONNECTIVITY_", NULL};

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

/* Candidates within radius R of one neuron, excluding itself. */
static PetscInt CandidateCount(const RmConnectivity *cn, PetscInt R)
{
  if (cn->type == RM_CONNECTIVITY_RING) return 2 * R + 1 <= cn->n ? 2 * R : cn->n - 1;
  if (cn->type == RM_CONNECTIVITY_GRID2D) {
    const PetscInt w = PetscMin(2 * R + 1, cn->side);
    return w * w - 1;
  }
  return cn->n - 1;
}

/* Candidate number c in [0, CandidateCount) of neuron i -> its neuron. */
static PetscInt CandidateNeuron(const RmConnectivity *cn, PetscInt i, PetscInt c)
{
  const PetscInt n = cn->n;
  if (cn->type == RM_CONNECTIVITY_RING) {
    PetscInt d;
    if (2 * cn->R + 1 > n) return c < i ? c : c + 1; /* the whole ring is within reach */
    d = c < cn->R ? c - cn->R : c - cn->R + 1;
    return ((i + d) % n + n) % n;
  } else {
    const PetscInt s = cn->side, full = 2 * cn->R + 1 >= s, w = full ? s : 2 * cn->R + 1, z = full ? 0 : cn->R;
    const PetscInt cc = c < z * w + z ? c : c + 1; /* skip the offset (0, 0) */
    const PetscInt dr = full ? cc / w : cc / w - cn->R, dc = full ? cc % w : cc % w - cn->R;
    const PetscInt r = ((i / s + dr) % s + s) % s, q = ((i % s + dc) % s + s) % s;
    return r * s + q;
  }
}

PetscInt RmConnectivityTableSize_Private(PetscInt K)
{
  PetscInt tsize = 1;
  while (tsize < 2 * (K + 1)) tsize *= 2;
  return tsize;
}

PetscErrorCode RmConnectivityRowColumns_Private(const RmConnectivity *cn, PetscInt i, PetscInt *cols, PetscInt *picks, PetscInt *table, PetscInt tsize)
{
  const PetscInt K = cn->K, n = cn->n;
  const uint64_t seed = (uint64_t)cn->seed;
  PetscInt       kept = 0;

  PetscFunctionBeginUser;
  PetscCheck(cn->setup, PETSC_COMM_SELF, PETSC_ERR_ORDER, "the connectivity is not set up");
  if (cn->type == RM_CONNECTIVITY_RANDOM) PetscCall(RmSampleInputs_Private(cn->seed, i, n, K, cols, table, tsize));
  else {
    SampleCandidates(seed, i, CandidateCount(cn, cn->R), K, picks, table, tsize);
    for (PetscInt k = 0; k < K; k++) cols[k] = CandidateNeuron(cn, i, picks[k]);
    PetscCall(PetscSortInt(K, cols));
  }
  if (cn->rewire > 0) {
    /* Coin k (keyed by the k-th smallest input) decides whether input k is rewired; the kept ones
       first fill the set, then each rewired one draws uniform neurons until one is new (not i, not
       an input yet), attempt a keyed by (a + 1) << 32 | k. */
    PetscInt *move = picks, nmove = 0;
    for (PetscInt s = 0; s < tsize; s++) table[s] = -1;
    SetInsert(table, tsize, i);
    for (PetscInt k = 0; k < K; k++) {
      move[k] = RmRandomUniform(seed, RM_STREAM_REWIRE, (uint64_t)i, (uint64_t)k) < cn->rewire;
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

PetscErrorCode RmConnectivitySetUp_Private(MPI_Comm comm, RmConnectivity *cn, PetscInt n, PetscInt K, PetscInt64 seed)
{
  PetscInt C;

  PetscFunctionBeginUser;
  PetscCheck(K >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "indegree must be >= 1, got %" PetscInt_FMT, K);
  PetscCheck(K < n, comm, PETSC_ERR_ARG_OUTOFRANGE, "indegree (%" PetscInt_FMT ") must be < neurons (%" PetscInt_FMT ")", K, n);
  cn->n = n, cn->K = K, cn->seed = seed, cn->side = 0;
  if (cn->type == RM_CONNECTIVITY_GRID2D) {
    const PetscInt lo = (PetscInt)PetscFloorReal(PetscSqrtReal((PetscReal)n));
    cn->side          = (PetscInt)PetscFloorReal(PetscSqrtReal((PetscReal)n) + 0.5);
    PetscCheck(cn->side * cn->side == n, comm, PETSC_ERR_ARG_INCOMP,
               "-connectivity grid2d needs a square number of neurons (side^2), got -neurons %" PetscInt_FMT " (nearest squares %" PetscInt_FMT " and %" PetscInt_FMT ")", n,
               lo * lo, (lo + 1) * (lo + 1));
  }
  cn->R = cn->radius;
  if (cn->type != RM_CONNECTIVITY_RANDOM && cn->R == 0) { /* the smallest radius with K candidates */
    cn->R = 1;
    while (CandidateCount(cn, cn->R) < K) cn->R++;
  }
  C = CandidateCount(cn, cn->R);
  PetscCheck(K <= C, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-indegree %" PetscInt_FMT " exceeds the %" PetscInt_FMT " neurons within -radius %" PetscInt_FMT " (-connectivity %s): increase -radius or lower -indegree", K, C,
             cn->R, RmConnectivityTypes[cn->type]);
  cn->setup = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmConnectivitySetFromOptions_Private(PetscOptionItems *PetscOptionsObject, const char *storage, RmConnectivity *cn)
{
  char help[256];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(help, sizeof(help), "Graph of -storage %s: random (aij's diluted graph), ring (index i) or grid2d (torus, i = row side + col)", storage));
  PetscCall(PetscOptionsEnum("-connectivity", help, "RmConnectivitySetFromOptions_Private", RmConnectivityTypes, (PetscEnum)cn->type, (PetscEnum *)&cn->type, NULL));
  PetscCall(PetscOptionsInt("-radius", "Inputs drawn within this distance (ring: |i-j| mod n; grid2d: Chebyshev on the torus); 0: the smallest with K candidates",
                            "RmConnectivitySetFromOptions_Private", cn->radius, &cn->radius, NULL));
  PetscCall(PetscOptionsReal("-rewire", "Probability p that an input is rewired to a uniformly random neuron (Watts-Strogatz)", "RmConnectivitySetFromOptions_Private",
                             cn->rewire, &cn->rewire, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmConnectivityCheck_Private(MPI_Comm comm, const RmConnectivity *cn)
{
  PetscFunctionBeginUser;
  PetscCheck(cn->radius >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-radius must be >= 0, got %" PetscInt_FMT, cn->radius);
  PetscCall(RmCheckFinite(comm, "rewire", cn->rewire));
  PetscCheck(cn->rewire >= 0 && cn->rewire <= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-rewire must be in [0, 1], got %g", (double)cn->rewire);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmConnectivityView_Private(const RmConnectivity *cn, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, ", connectivity %s", RmConnectivityTypes[cn->type]));
  if (cn->type != RM_CONNECTIVITY_RANDOM) PetscCall(PetscViewerASCIIPrintf(viewer, ", radius %" PetscInt_FMT, cn->setup ? cn->R : cn->radius));
  PetscCall(PetscViewerASCIIPrintf(viewer, ", rewire %g", (double)cn->rewire));
  PetscFunctionReturn(PETSC_SUCCESS);
}
