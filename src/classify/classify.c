/* The gather stage (model.md §4). No rank holds the whole state: each computes its partial
   sums Σ_i ξ_iμ r_i, Σ r_i, Σ r_i² and one MPI_Allreduce of P+2 numbers finishes them. */
#include <ratemem/classify.h>

const char *const RmLabels[] = {"retrieved", "other", "spurious", "unconverged", "RmLabel", "RM_LABEL_", NULL};

struct _p_RmClassifier {
  MPI_Comm   comm;
  RmMemories mem;
  PetscBool  setup_called;
  PetscReal  threshold, phi_a, phi_b, coding;
  PetscInt   n, P;
  RmEncoding encoding;
  PetscReal *active;       /* A_μ = Σ_i ξ_iμ (global), set up once */
  PetscReal *sums, *local; /* P+2 partial and global sums */
  RmOverlaps ov;
};

PetscErrorCode RmClassifierCreate(RmMemories mem, RmClassifier *cl)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(cl));
  PetscCall(RmMemoriesGetComm(mem, &(*cl)->comm));
  (*cl)->mem       = mem;
  (*cl)->threshold = 0.9;
  (*cl)->phi_a     = 0.0;
  (*cl)->phi_b     = 1.0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierSetFromOptions(RmClassifier cl)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(cl->comm, NULL, "Classification (model.md §4)", "RmClassifier");
  PetscCall(PetscOptionsReal("-overlap_threshold", "A memory is retrieved when its normalised overlap is at least this", "RmClassifierSetFromOptions",
                             cl->threshold, &cl->threshold, NULL));
  PetscOptionsEnd();
  PetscCall(RmCheckFinite(cl->comm, "overlap_threshold", cl->threshold));
  PetscCheck(cl->threshold > 0 && cl->threshold <= 1, cl->comm, PETSC_ERR_ARG_OUTOFRANGE, "overlap_threshold must be in (0,1], got %g",
             (double)cl->threshold);
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
  PetscCall(PetscMalloc3(cl->P, &cl->active, cl->P + 2, &cl->sums, cl->P + 2, &cl->local));
  PetscCall(PetscMalloc3(cl->P, &cl->ov.normalised, cl->P, &cl->ov.raw, cl->P, &cl->ov.uncentred));
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
  PetscCall(PetscFree3((*cl)->active, (*cl)->sums, (*cl)->local));
  PetscCall(PetscFree3((*cl)->ov.normalised, (*cl)->ov.raw, (*cl)->ov.uncentred));
  PetscCall(PetscFree(*cl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierGetThreshold(RmClassifier cl, PetscReal *threshold)
{
  PetscFunctionBeginUser;
  *threshold = cl->threshold;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmClassifierComputeOverlaps(RmClassifier cl, Vec r, RmOverlaps *ov)
{
  const PetscScalar *ra;
  const uint64_t    *words;
  PetscInt           nloc, wpp, P = cl->P;
  const PetscReal    N = (PetscReal)cl->n;

  PetscFunctionBeginUser;
  PetscCall(RmClassifierSetUp(cl));
  PetscCall(PetscLogEventBegin(RM_EVENTS.overlap, 0, 0, 0, 0));
  PetscCall(RmMemoriesGetLocalPacked(cl->mem, &words, &wpp));
  PetscCall(VecGetLocalSize(r, &nloc));
  PetscCall(VecGetArrayRead(r, &ra));
  PetscReal s1 = 0, s2 = 0;
  for (PetscInt i = 0; i < nloc; i++) {
    s1 += ra[i];
    s2 += ra[i] * ra[i];
  }
  for (PetscInt mu = 0; mu < P; mu++) {
    PetscReal s = 0;
    for (PetscInt w = 0; w < wpp; w++) {
      uint64_t word = words[mu * wpp + w];
      for (PetscInt i = 64 * w; word; word &= word - 1) s += ra[i + __builtin_ctzll(word)]; /* visit the set bits only */
    }
    cl->local[mu] = s;
  }
  PetscCall(VecRestoreArrayRead(r, &ra));
  cl->local[P]     = s1;
  cl->local[P + 1] = s2;
  PetscCallMPI(MPI_Allreduce(cl->local, cl->sums, (PetscMPIInt)(P + 2), MPIU_REAL, MPI_SUM, cl->comm));
  const PetscReal sum_r = cl->sums[P], sum_r2 = cl->sums[P + 1], mean_r = sum_r / N;
  const PetscReal var_r = PetscMax(sum_r2 / N - mean_r * mean_r, 0.0);
  for (PetscInt mu = 0; mu < P; mu++) {
    const PetscReal S = cl->sums[mu], A = cl->active[mu];
    if (cl->encoding == RM_ENCODING_SPIN) { /* ξ = 2b - 1 */
      PetscReal dot        = 2 * S - sum_r;
      cl->ov.raw[mu]       = dot / N;
      cl->ov.uncentred[mu] = dot / N;
      cl->ov.normalised[mu] = sum_r2 > 0 ? dot / (PetscSqrtReal(N) * PetscSqrtReal(sum_r2)) : 0.0;
    } else {
      PetscReal p = A / N, var_xi = p * (1 - p), q = cl->coding;
      cl->ov.raw[mu]        = (S - mean_r * A) / (N * q * (1 - q) * (cl->phi_b - cl->phi_a));
      cl->ov.uncentred[mu]  = S / (N * q);
      /* A constant state has no correlation with anything. */
      cl->ov.normalised[mu] = (var_r > 1e-14 && var_xi > 0) ? (S / N - p * mean_r) / PetscSqrtReal(var_r * var_xi) : 0.0;
    }
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
  if (!converged) *label = RM_LABEL_UNCONVERGED;
  else if (ov->normalised[best] < cl->threshold) *label = RM_LABEL_SPURIOUS;
  else *label = best == cue_memory ? RM_LABEL_RETRIEVED : RM_LABEL_OTHER;
  PetscFunctionReturn(PETSC_SUCCESS);
}
