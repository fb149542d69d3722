/* The gather stage (docs/model.md §4). No rank holds the whole state: each computes centred partial
   statistics of its neurons and one MPI_Allreduce (2P+3 numbers, merged pairwise) finishes them. */
#include <ratemem/classify.h>

const char *const RmLabels[] = {"retrieved", "other", "spurious", "unconverged", "saturated", "quiescent", "RmLabel", "RM_LABEL_", NULL};

struct _p_RmClassifier {
  MPI_Comm   comm;
  char      *prefix;
  RmMemories mem;
  PetscBool  setup_called;
  PetscReal  threshold, amplitude_tol, phi_a, phi_b, coding;
  PetscInt   n, P;
  RmEncoding encoding;
  PetscReal   *active;       /* A_μ = Σ_i ξ_iμ (global), set up once */
  PetscReal   *sums, *local; /* 3+2P local and merged statistics */
  MPI_Datatype stats_type;
  MPI_Op       merge_op;
  RmOverlaps ov;
};

/* Per-rank statistics of a readout r against the P memories, merged across ranks by one
   MPI_Allreduce with a user operation (Chan, Golub & LeVeque's pairwise update), so that all
   sums are centred: exact for states with a large common offset, where Σr² − (Σr)²/N is not.
   Layout: [count, mean r, M2 = Σ(r − mean)², mean ξ_μ (P), C_μ = Σ(ξ_μ − mean ξ_μ)(r − mean r) (P)]. */
static void MergeStats(void *invec, void *inoutvec, int *len, MPI_Datatype *type)
{
  int size;
  MPI_Type_size(*type, &size);
  const int P = (size / (int)sizeof(double) - 3) / 2;
  for (int k = 0; k < *len; k++) {
    const double *a = (const double *)invec + k * (3 + 2 * P);
    double       *b = (double *)inoutvec + k * (3 + 2 * P);
    const double  na = a[0], nb = b[0], n = na + nb;
    if (na == 0) continue;
    if (nb == 0) {
      for (int j = 0; j < 3 + 2 * P; j++) b[j] = a[j];
      continue;
    }
    const double dr = b[1] - a[1], w = na * nb / n;
    for (int mu = 0; mu < P; mu++) {
      const double dx = b[3 + mu] - a[3 + mu];
      b[3 + P + mu]   = a[3 + P + mu] + b[3 + P + mu] + dx * dr * w;
      b[3 + mu]       = a[3 + mu] + dx * nb / n;
    }
    b[2] = a[2] + b[2] + dr * dr * w;
    b[1] = a[1] + dr * nb / n;
    b[0] = n;
  }
}

PetscErrorCode RmClassifierCreate(RmMemories mem, RmClassifier *cl)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(cl));
  PetscCall(RmMemoriesGetComm(mem, &(*cl)->comm));
  (*cl)->mem       = mem;
  (*cl)->threshold     = 0.9;
  (*cl)->amplitude_tol = 0.1;
  (*cl)->phi_a     = 0.0;
  (*cl)->phi_b     = 1.0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierSetOptionsPrefix(RmClassifier cl, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(cl->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &cl->prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierSetFromOptions(RmClassifier cl)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(cl->comm, cl->prefix, "Classification (docs/model.md §4)", "RmClassifier");
  PetscCall(PetscOptionsReal("-overlap_threshold", "A memory is retrieved when its normalised overlap is at least this", "RmClassifierSetFromOptions",
                             cl->threshold, &cl->threshold, NULL));
  PetscCall(PetscOptionsReal("-amplitude_tolerance",
                             "A retrieved memory's amplitude (its contrast relative to the designed one) is within 1 ± this; above: saturated",
                             "RmClassifierSetAmplitudeTolerance", cl->amplitude_tol, &cl->amplitude_tol, NULL));
  PetscOptionsEnd();
  PetscCall(RmClassifierSetThreshold(cl, cl->threshold));
  PetscCall(RmClassifierSetAmplitudeTolerance(cl, cl->amplitude_tol));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierSetThreshold(RmClassifier cl, PetscReal threshold)
{
  PetscFunctionBeginUser;
  PetscCall(RmCheckFinite(cl->comm, "overlap_threshold", threshold));
  PetscCheck(threshold > 0 && threshold <= 1, cl->comm, PETSC_ERR_ARG_OUTOFRANGE, "overlap_threshold must be in (0,1], got %g", (double)threshold);
  cl->threshold = threshold;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierSetAmplitudeTolerance(RmClassifier cl, PetscReal tol)
{
  PetscFunctionBeginUser;
  PetscCall(RmCheckFinite(cl->comm, "amplitude_tolerance", tol));
  PetscCheck(tol > 0 && tol < 1, cl->comm, PETSC_ERR_ARG_OUTOFRANGE, "amplitude_tolerance must be in (0,1), got %g", (double)tol);
  cl->amplitude_tol = tol;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierGetAmplitudeTolerance(RmClassifier cl, PetscReal *tol)
{
  PetscFunctionBeginUser;
  *tol = cl->amplitude_tol;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierSetRateScale(RmClassifier cl, PetscReal phi_a, PetscReal phi_b)
{
  PetscFunctionBeginUser;
  cl->phi_a = phi_a;
  cl->phi_b = phi_b;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierSetUp(RmClassifier cl)
{
  const uint64_t *words;
  PetscInt        rstart, rend, wpp;

  PetscFunctionBeginUser;
  if (cl->setup_called) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmMemoriesGetSizes(cl->mem, &cl->n, &cl->P));
  PetscCall(RmMemoriesGetOwnershipRange(cl->mem, &rstart, &rend));
  PetscCall(RmMemoriesGetEncoding(cl->mem, &cl->encoding));
  PetscCall(RmMemoriesGetCoding(cl->mem, &cl->coding));
  PetscCall(RmMemoriesGetLocalPacked(cl->mem, &words, &wpp));
  PetscCall(PetscMalloc3(cl->P, &cl->active, 2 * cl->P + 3, &cl->sums, 2 * cl->P + 3, &cl->local));
  PetscCall(PetscMalloc4(cl->P, &cl->ov.normalised, cl->P, &cl->ov.raw, cl->P, &cl->ov.uncentred, cl->P, &cl->ov.amplitude));
  PetscCallMPI(MPI_Type_contiguous((PetscMPIInt)(2 * cl->P + 3), MPI_DOUBLE, &cl->stats_type));
  PetscCallMPI(MPI_Type_commit(&cl->stats_type));
  PetscCallMPI(MPI_Op_create(MergeStats, 1, &cl->merge_op));
  for (PetscInt mu = 0; mu < cl->P; mu++) {
    PetscInt64 c = 0;
    for (PetscInt w = 0; w < wpp; w++) c += __builtin_popcountll(words[mu * wpp + w]); /* padding bits are 0 */
    cl->local[mu] = (PetscReal)c;
  }
  PetscCallMPI(MPI_Allreduce(cl->local, cl->active, (PetscMPIInt)cl->P, MPIU_REAL, MPI_SUM, cl->comm));
  cl->setup_called = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierDestroy(RmClassifier *cl)
{
  PetscFunctionBeginUser;
  if (!*cl) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree((*cl)->prefix));
  PetscCall(PetscFree3((*cl)->active, (*cl)->sums, (*cl)->local));
  PetscCall(PetscFree4((*cl)->ov.normalised, (*cl)->ov.raw, (*cl)->ov.uncentred, (*cl)->ov.amplitude));
  if ((*cl)->setup_called) {
    PetscCallMPI(MPI_Type_free(&(*cl)->stats_type));
    PetscCallMPI(MPI_Op_free(&(*cl)->merge_op));
  }
  PetscCall(PetscFree(*cl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierGetThreshold(RmClassifier cl, PetscReal *threshold)
{
  PetscFunctionBeginUser;
  *threshold = cl->threshold;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode LocalStats(RmClassifier cl, const PetscScalar *ra, PetscInt nloc, PetscReal *st)
{
  const uint64_t *words;
  PetscInt        wpp, P = cl->P;
  PetscReal       mean = 0, m2 = 0;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetLocalPacked(cl->mem, &words, &wpp));
  for (PetscInt i = 0; i < nloc; i++) mean += ra[i];
  mean = nloc ? mean / nloc : 0;
  for (PetscInt i = 0; i < nloc; i++) m2 += (ra[i] - mean) * (ra[i] - mean);
  st[0] = (PetscReal)nloc;
  st[1] = mean;
  st[2] = m2;
  for (PetscInt mu = 0; mu < P; mu++) {
    PetscReal s = 0, count = 0;
    for (PetscInt w = 0; w < wpp; w++) {
      uint64_t word = words[mu * wpp + w];
      count += __builtin_popcountll(word);
      for (PetscInt i = 64 * w; word; word &= word - 1) s += ra[i + __builtin_ctzll(word)] - mean; /* set bits only */
    }
    st[3 + mu]     = nloc ? count / nloc : 0;
    st[3 + P + mu] = s; /* Σ ξ (r − mean) = Σ (ξ − mean ξ)(r − mean) since Σ (r − mean) = 0 */
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierComputeOverlaps(RmClassifier cl, Vec r, RmOverlaps *ov)
{
  const PetscScalar *ra;
  PetscInt           nloc, P = cl->P;
  const PetscReal    N = (PetscReal)cl->n;

  PetscFunctionBeginUser;
  PetscCall(RmClassifierSetUp(cl));
  PetscCall(PetscLogEventBegin(RM_EVENTS.overlap, 0, 0, 0, 0));
  PetscCall(VecGetLocalSize(r, &nloc));
  PetscCall(VecGetArrayRead(r, &ra));
  PetscCall(LocalStats(cl, ra, nloc, cl->local));
  PetscCall(VecRestoreArrayRead(r, &ra));
  PetscCallMPI(MPI_Allreduce(cl->local, cl->sums, 1, cl->stats_type, cl->merge_op, cl->comm));
  const PetscReal mean_r = cl->sums[1], M2 = cl->sums[2];
  const PetscReal sum_r2 = M2 + N * mean_r * mean_r;
  /* A state without variation has no correlation with anything: below rounding of its size. */
  const PetscBool flat = (PetscBool)(M2 <= 1e-24 * N * (1.0 + mean_r * mean_r));
  for (PetscInt mu = 0; mu < P; mu++) {
    const PetscReal p = cl->sums[3 + mu], C = cl->sums[3 + P + mu];
    const PetscReal S = C + N * p * mean_r; /* Σ ξ r */
    if (cl->encoding == RM_ENCODING_SPIN) { /* ξ = 2b - 1 */
      PetscReal dot         = 2 * S - N * mean_r;
      cl->ov.raw[mu]        = dot / N;
      cl->ov.uncentred[mu]  = dot / N;
      cl->ov.amplitude[mu]  = dot / N;
      cl->ov.normalised[mu] = sum_r2 > 0 ? dot / (PetscSqrtReal(N) * PetscSqrtReal(sum_r2)) : 0.0;
    } else {
      PetscReal var_xi = N * p * (1 - p), q = cl->coding, contrast = cl->phi_b - cl->phi_a;
      cl->ov.raw[mu]        = C / (N * q * (1 - q) * contrast);
      cl->ov.uncentred[mu]  = S / (N * q);
      cl->ov.amplitude[mu]  = var_xi > 0 ? C / (var_xi * contrast) : 0.0;
      cl->ov.normalised[mu] = (!flat && var_xi > 0) ? C / PetscSqrtReal(M2 * var_xi) : 0.0;
    }
  }
  if (cl->encoding == RM_ENCODING_SPIN) cl->ov.spread = PetscSqrtReal(sum_r2 / N);
  else {
    const PetscReal q = cl->coding, memory_sd = (cl->phi_b - cl->phi_a) * PetscSqrtReal(q * (1 - q));
    cl->ov.spread     = memory_sd > 0 ? PetscSqrtReal(M2 / N) / memory_sd : 0.0;
  }
  PetscCall(PetscLogEventEnd(RM_EVENTS.overlap, 0, 0, 0, 0));
  *ov = cl->ov;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierLabel(RmClassifier cl, const RmOverlaps *ov, PetscInt cue_memory, PetscBool converged, RmLabel *label, PetscInt *nearest)
{
  PetscInt best = 0;

  PetscFunctionBeginUser;
  for (PetscInt mu = 1; mu < cl->P; mu++)
    if (ov->normalised[mu] > ov->normalised[best]) best = mu;
  *nearest = best;
  const PetscReal tol = cl->amplitude_tol, amp = ov->amplitude[best];
  const PetscBool pattern = (PetscBool)(ov->normalised[best] >= cl->threshold);
  if (!converged) *label = RM_LABEL_UNCONVERGED;
  /* A memory is retrieved when the state correlates with it and carries its designed contrast. A
     pattern-shaped state with far more contrast (rates at the activation's ceiling, not at φ(b)) is a
     saturated copy, not the designed equilibrium; with far less (a tiny ripple on a uniform state) it
     expresses nothing. */
  else if (pattern && amp > 1 + tol) *label = RM_LABEL_SATURATED;
  else if (pattern && amp >= 1 - tol) *label = best == cue_memory ? RM_LABEL_RETRIEVED : RM_LABEL_OTHER;
  else if (ov->spread < tol) *label = RM_LABEL_QUIESCENT;
  else *label = RM_LABEL_SPURIOUS;
  PetscFunctionReturn(PETSC_SUCCESS);
}
