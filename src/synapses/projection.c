/* The projection design (-design projection, docs/model.md §2 "Projection design"). With
   U = [ξ⁰ … ξ^{P−1}, 1] (n × m, m = P + 1) and G = UᵀU, W = U K Uᵀ with K = A G⁻¹, where A is the
   m × m matrix of W on span U in the basis U:
     A = [ α' I_P   0 ]      c = (a − λ φ_a)/(φ_b − φ_a),  α' = (b − a)/(φ_b − φ_a),
         [ c 1ᵀ     λ ]
   so that W x^μ = a 1 + (b − a) ξ^μ for the rescaled memories x^μ = φ_a 1 + (φ_b − φ_a) ξ^μ and
   W 1 = λ 1. G is an exact integer count (one MPI_Allreduce of m² 64-bit integers); rank 0 takes
   its eigen-decomposition (LAPACK syevd), which gives cond(G) and G⁻¹, forms K with one refinement
   sweep and ‖W‖₂ in closed form, and broadcasts them, so every rank holds the same bits even
   on nodes whose BLAS kernels round differently. The m × m work is O(m³), in LAPACK and level-3 BLAS. */
#include "synapsesimpl.h"
#include <petscblaslapack.h>

/* LAPACK's divide-and-conquer symmetric eigensolver, which PETSc 3.18 does not wrap: with it in
   place of syev (QR sweeps) the set-up at n = 4000, P = 2400 fell from 25.1 s to 9.6 s */
#define LAPACKsyevd_ PETSCBLAS(syevd, SYEVD)
BLAS_EXTERN void LAPACKsyevd_(const char *, const char *, const PetscBLASInt *, PetscReal *, const PetscBLASInt *, PetscReal *, PetscReal *, const PetscBLASInt *, PetscBLASInt *, const PetscBLASInt *, PetscBLASInt *);

/* C = α A B + β C for m × m row-major matrices (column-major BLAS on the transposes: Cᵀ = Bᵀ Aᵀ) */
static void RowMajorGemm(PetscBLASInt m, PetscReal alpha, const PetscReal *A, const PetscReal *B, PetscReal beta, PetscReal *C)
{
  BLASgemm_("N", "N", &m, &m, &m, &alpha, B, &m, A, &m, &beta, C, &m);
}

/* F = G^power = V Λ^power Vᵀ from syevd's column-major eigenvectors V: one syrk on V Λ^{power/2}
   (half a product's work), mirrored, so F is the same row- or column-major; work is m × m */
static void SpectralFunction(PetscBLASInt m, const PetscReal *V, const PetscReal *lam, PetscReal power, PetscReal *work, PetscReal *F)
{
  const PetscReal one = 1, zero = 0;
  for (PetscBLASInt k = 0; k < m; k++) {
    const PetscReal f = PetscPowReal(lam[k], power / 2);
    for (PetscBLASInt i = 0; i < m; i++) work[i + (size_t)k * m] = V[i + (size_t)k * m] * f;
  }
  BLASsyrk_("U", "N", &m, &m, &one, work, &m, &zero, F, &m); /* upper triangle, column-major */
  for (PetscBLASInt j = 0; j < m; j++)
    for (PetscBLASInt i = 0; i < j; i++) F[j + (size_t)i * m] = F[i + (size_t)j * m];
}

/* ‖W‖₂ in closed form. U = Q G^{1/2} with Q orthonormal, so ‖W‖₂ = ‖G^{1/2} K G^{1/2}‖₂ =
   ‖G^{1/2} A G^{−1/2}‖₂. A = α' I + e_P zᵀ (z = A's last row − α' e_P), so in G's eigenbasis this
   is ‖α' I + u vᵀ‖₂ with u = Λ^{1/2} Vᵀ e_P and v = Λ^{−1/2} Vᵀ z. That matrix is α' I on the
   complement of span{u, v} and, in an orthonormal basis (e₁ = u/‖u‖, e₂) of that span, the 2 × 2
   upper-triangular block B below, whose largest singular value (≥ |α'|) is the norm. O(m²). */
static PetscReal ProjectionNorm(PetscBLASInt m, const PetscReal *V, const PetscReal *lam, const PetscReal *A, PetscReal *u, PetscReal *v)
{
  const PetscInt  P     = m - 1;
  const PetscReal alpha = A[0], one = 1, zero = 0; /* A[0][0] = α' (P ≥ 1) */
  const PetscBLASInt inc = 1;
  PetscReal       nu = 0, s1 = 0, nw = 0;

  for (PetscInt j = 0; j < m; j++) u[j] = A[P * m + j] - (j == P ? alpha : 0); /* z, into u for the product */
  BLASgemv_("T", &m, &m, &one, V, &m, u, &inc, &zero, v, &inc);                 /* v = Vᵀ z */
  for (PetscInt k = 0; k < m; k++) {
    const PetscReal r = PetscSqrtReal(lam[k]);
    u[k] = r * V[P + (size_t)k * m];
    v[k] /= r;
    nu += u[k] * u[k];
  }
  nu = PetscSqrtReal(nu);
  for (PetscInt k = 0; k < m; k++) s1 += v[k] * u[k] / nu;
  for (PetscInt k = 0; k < m; k++) {
    const PetscReal w = v[k] - s1 * u[k] / nu;
    nw += w * w;
  }
  nw = PetscSqrtReal(nw);
  const PetscReal b11 = alpha + nu * s1, b12 = nu * nw, b22 = alpha;
  const PetscReal T = b11 * b11 + b12 * b12 + b22 * b22, D = PetscAbsReal(b11 * b22);
  return PetscSqrtReal((T + PetscSqrtReal(PetscMax(T * T - 4 * D * D, 0))) / 2);
}

/* The exact integer Gram matrix of U = [ξ⁰ … ξ^{P−1}, 1], summed over ranks: gg (m × m, m = P + 1) */
static PetscErrorCode GramCounts(MPI_Comm comm, RmMemories mem, PetscInt m, PetscInt64 *gg)
{
  const uint64_t *words;
  PetscInt        P = m - 1, wpp, rstart, rend;
  PetscInt64     *gl;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmMemoriesGetLocalPacked(mem, &words, &wpp));
  PetscCall(PetscCalloc1(m * m, &gl));
  for (PetscInt mu = 0; mu < P; mu++) {
    const uint64_t *bm_ = words + (size_t)mu * wpp;
    for (PetscInt nu = 0; nu <= mu; nu++) {
      const uint64_t *bn = words + (size_t)nu * wpp;
      PetscInt64      c  = 0;
      for (PetscInt w = 0; w < wpp; w++) c += __builtin_popcountll(bm_[w] & bn[w]);
      gl[mu * m + nu] = gl[nu * m + mu] = c;
    }
    PetscInt64 c = 0;
    for (PetscInt w = 0; w < wpp; w++) c += __builtin_popcountll(bm_[w]); /* padding bits are 0 */
    gl[mu * m + P] = gl[P * m + mu] = c;
  }
  gl[P * m + P] = rend - rstart;
  PetscCallMPI(MPI_Allreduce(gl, gg, (PetscMPIInt)(m * m), MPIU_INT64, MPI_SUM, comm));
  PetscCall(PetscFree(gl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* K = A G⁻¹ for A's shape (α' I_P on the diagonal, then the last row c 1ᵀ, λ): O(m²) instead of a product */
static void KFromA(PetscInt m, const PetscReal *A, const PetscReal *Gi, PetscReal *K)
{
  const PetscInt P = m - 1;
  PetscReal     *last = K + P * m;
  for (PetscInt j = 0; j < m; j++) last[j] = A[P * m + P] * Gi[P * m + j];
  for (PetscInt i = 0; i < P; i++) {
    const PetscReal a = A[i * m + i], c = A[P * m + i];
    for (PetscInt j = 0; j < m; j++) {
      K[i * m + j] = a * Gi[i * m + j];
      last[j] += c * Gi[i * m + j];
    }
  }
}

/* Rank 0's part: from G (row-major, symmetric) and A, K = A G⁻¹ refined once (R = A − K G,
   K += R G⁻¹) and ‖W‖₂. Returns info ≠ 0
   when syevd fails; cond = λ_max/λ_min of G (infinite when λ_min ≤ 0), K is left unset above maxcond. */
static PetscErrorCode ComputeK(PetscInt m, const PetscReal *G, const PetscReal *A, PetscReal maxcond, PetscReal *K, PetscReal info_cond_norm[5])
{
  PetscReal   *V, *lam, *Gi, *R, *uv, *work, lwork_q;
  PetscBLASInt bm, lwork = -1, liwork = -1, iwork_q = 0, *iwork, info = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscBLASIntCast(m, &bm));
  PetscCall(PetscMalloc5(m * m, &V, m, &lam, m * m, &Gi, m * m, &R, 2 * m, &uv));
  PetscCall(PetscArraycpy(V, G, m * m));
  PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
  PetscCallBLAS("LAPACKsyevd", LAPACKsyevd_("V", "U", &bm, V, &bm, lam, &lwork_q, &lwork, &iwork_q, &liwork, &info));
  PetscCall(PetscBLASIntCast((PetscInt)lwork_q, &lwork));
  liwork = iwork_q;
  PetscCall(PetscMalloc2(lwork, &work, liwork, &iwork));
  PetscCallBLAS("LAPACKsyevd", LAPACKsyevd_("V", "U", &bm, V, &bm, lam, work, &lwork, iwork, &liwork, &info));
  PetscCall(PetscFree2(work, iwork));
  const PetscReal cond = info == 0 && lam[0] > 0 ? lam[m - 1] / lam[0] : PETSC_INFINITY;
  info_cond_norm[0]    = (PetscReal)info;
  info_cond_norm[1]    = cond;
  info_cond_norm[2]    = info == 0 ? lam[0] : 0;
  info_cond_norm[3]    = info == 0 ? lam[m - 1] : 0;
  info_cond_norm[4]    = 0;
  if (info == 0 && cond <= maxcond) {
    SpectralFunction(bm, V, lam, -1, R, Gi); /* G⁻¹ */
    KFromA(m, A, Gi, K);
    PetscCall(PetscArraycpy(R, A, m * m)); /* one refinement sweep: R = A − K G, K += R G⁻¹ */
    RowMajorGemm(bm, -1, K, G, 1, R);
    RowMajorGemm(bm, 1, R, Gi, 1, K);
    info_cond_norm[4] = ProjectionNorm(bm, V, lam, A, uv, uv + m);
  }
  PetscCall(PetscFPTrapPop());
  PetscCall(PetscFree5(V, lam, Gi, R, uv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmProjectionCompute_Private(RmSynapses syn, RmMemories mem)
{
  RmDesign    *d = &syn->design;
  PetscInt     n, P, m;
  PetscInt64  *gg;
  PetscReal   *G, *A, stats[5];
  PetscMPIInt  rank;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  m = P + 1;
  PetscCall(PetscMalloc1(m * m, &gg));
  PetscCall(GramCounts(syn->comm, mem, m, gg));
  PetscCall(PetscMalloc2(m * m, &G, m * m, &A));
  for (PetscInt k = 0; k < m * m; k++) G[k] = (PetscReal)gg[k];
  PetscCall(PetscFree(gg));

  /* λ: default the basic paper design's γ (W 1 = γ 1 there, docs/model.md §2) */
  const PetscReal dphi = d->phi_b - d->phi_a;
  d->lambda            = syn->proj_lambda_set ? syn->proj_lambda : d->gamma;
  const PetscReal c    = (d->a - d->lambda * d->phi_a) / dphi;
  PetscCall(PetscArrayzero(A, m * m));
  for (PetscInt mu = 0; mu < P; mu++) {
    A[mu * m + mu] = d->alpha_basic;
    A[P * m + mu]  = c;
  }
  A[P * m + P] = d->lambda;

  PetscCall(PetscFree(syn->projK));
  PetscCall(PetscMalloc1(m * m, &syn->projK));
  PetscCallMPI(MPI_Comm_rank(syn->comm, &rank));
  if (rank == 0) PetscCall(ComputeK(m, G, A, syn->proj_maxcond, syn->projK, stats));
  PetscCallMPI(MPI_Bcast(stats, 5, MPIU_REAL, 0, syn->comm));
  PetscCall(PetscFree2(G, A));
  d->gram_cond = stats[1];
  if (stats[0] != 0 || !(d->gram_cond <= syn->proj_maxcond)) { /* refused on every rank alike */
    PetscCall(PetscFree(syn->projK));
    PetscCheck(stats[0] == 0, syn->comm, PETSC_ERR_LIB, "-design projection: LAPACK syevd failed on the Gram matrix (info %d)", (int)stats[0]);
    SETERRQ(syn->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-design projection: the Gram matrix G = U^T U of the memories and 1 has condition number %g (eigenvalues %g ... %g) above "
             "-projection_max_cond %g: some memories are (nearly) identical, constant, or linear combinations of the others",
             (double)d->gram_cond, (double)stats[2], (double)stats[3], (double)syn->proj_maxcond);
  }
  PetscCallMPI(MPI_Bcast(syn->projK, (PetscMPIInt)(m * m), MPIU_REAL, 0, syn->comm));
  d->weight_norm = stats[4];
  PetscCall(PetscInfo(NULL, "projection design: ‖W‖ = %g, cond(G) = %g, lambda = %g, c = %g\n", (double)d->weight_norm, (double)d->gram_cond, (double)d->lambda, (double)c));
  PetscFunctionReturn(PETSC_SUCCESS);
}
