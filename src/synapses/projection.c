/* The projection design (-design projection, docs/model.md §2 "Projection design"). With
   U = [ξ⁰ … ξ^{P−1}, 1] (n × m, m = P + 1) and G = UᵀU, W = U K Uᵀ with K = A G⁻¹, where A is the
   m × m matrix of W on span U in the basis U:
     A = [ α' I_P   0 ]      c = (a − λ φ_a)/(φ_b − φ_a),  α' = (b − a)/(φ_b − φ_a),
         [ c 1ᵀ     λ ]
   so that W x^μ = a 1 + (b − a) ξ^μ for the rescaled memories x^μ = φ_a 1 + (φ_b − φ_a) ξ^μ and
   W 1 = λ 1. G is an exact integer count (one MPI_Allreduce of m² 64-bit integers); rank 0 takes
   its eigen-decomposition (LAPACK syev), which gives cond(G), G⁻¹ and G^{1/2}, forms K with two
   refinement sweeps and ‖W‖₂ with BLAS, and broadcasts them, so every rank holds the same bits even
   on nodes whose BLAS kernels round differently. The m × m work is O(m³) in level-3 BLAS: about a
   second at P = 1000 (the loops it replaced took 15 s). */
#include "synapsesimpl.h"
#include <petscblaslapack.h>

/* C = α A B + β C for m × m row-major matrices (column-major BLAS on the transposes: Cᵀ = Bᵀ Aᵀ) */
static void RowMajorGemm(PetscBLASInt m, PetscReal alpha, const PetscReal *A, const PetscReal *B, PetscReal beta, PetscReal *C)
{
  BLASgemm_("N", "N", &m, &m, &m, &alpha, B, &m, A, &m, &beta, C, &m);
}

/* F = V f(Λ) Vᵀ with f(λ) = λ^power, from syev's column-major eigenvectors V; work is m × m */
static void SpectralFunction(PetscBLASInt m, const PetscReal *V, const PetscReal *lam, PetscReal power, PetscReal *work, PetscReal *F)
{
  const PetscReal one = 1, zero = 0;
  for (PetscBLASInt k = 0; k < m; k++) {
    const PetscReal f = PetscPowReal(lam[k], power);
    for (PetscBLASInt i = 0; i < m; i++) work[i + (size_t)k * m] = V[i + (size_t)k * m] * f;
  }
  BLASgemm_("N", "T", &m, &m, &m, &one, work, &m, V, &m, &zero, F, &m);
}

/* ‖M‖₂ by power iteration on MᵀM (M row-major, m × m); x and y are work vectors of length m */
static PetscReal SpectralNorm(PetscBLASInt m, const PetscReal *M, PetscReal *x, PetscReal *y)
{
  const PetscReal one = 1, zero = 0;
  const PetscBLASInt inc = 1;
  PetscReal          nrm = 0;
  for (PetscBLASInt i = 0; i < m; i++) x[i] = 1.0 + 0.01 * i;
  for (int it = 0; it < 300; it++) {
    BLASgemv_("T", &m, &m, &one, M, &m, x, &inc, &zero, y, &inc); /* y = M x (row-major M is column-major Mᵀ) */
    BLASgemv_("N", &m, &m, &one, M, &m, y, &inc, &zero, x, &inc); /* x = Mᵀ y */
    PetscReal n2 = 0;
    for (PetscBLASInt i = 0; i < m; i++) n2 += x[i] * x[i];
    n2 = PetscSqrtReal(n2);
    if (!(n2 > 0)) break;
    const PetscReal prev = nrm;
    nrm                  = PetscSqrtReal(n2);
    for (PetscBLASInt i = 0; i < m; i++) x[i] /= n2;
    if (it > 10 && PetscAbsReal(nrm - prev) <= 1e-14 * nrm) break;
  }
  return nrm;
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

/* Rank 0's part: from G (row-major, symmetric) and A, K = A G⁻¹ refined twice (R = A − K G,
   K += R G⁻¹) and ‖W‖₂ = ‖G^{1/2} K G^{1/2}‖₂ (U = Q G^{1/2} with Q orthonormal). Returns info ≠ 0
   when syev fails; cond = λ_max/λ_min of G (infinite when λ_min ≤ 0), K is left unset above maxcond. */
static PetscErrorCode ComputeK(PetscInt m, const PetscReal *G, const PetscReal *A, PetscReal maxcond, PetscReal *K, PetscReal info_cond_norm[5])
{
  PetscReal   *V, *lam, *Gi, *R, *W1, *work, lwork_q;
  PetscBLASInt bm, lwork = -1, info = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscBLASIntCast(m, &bm));
  PetscCall(PetscMalloc5(m * m, &V, 2 * m, &lam, m * m, &Gi, m * m, &R, m * m, &W1));
  PetscCall(PetscArraycpy(V, G, m * m));
  PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &bm, V, &bm, lam, &lwork_q, &lwork, &info));
  PetscCall(PetscBLASIntCast((PetscInt)lwork_q, &lwork));
  PetscCall(PetscMalloc1(lwork, &work));
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &bm, V, &bm, lam, work, &lwork, &info));
  PetscCall(PetscFree(work));
  const PetscReal cond = info == 0 && lam[0] > 0 ? lam[m - 1] / lam[0] : PETSC_INFINITY;
  info_cond_norm[0]    = (PetscReal)info;
  info_cond_norm[1]    = cond;
  info_cond_norm[2]    = info == 0 ? lam[0] : 0;
  info_cond_norm[3]    = info == 0 ? lam[m - 1] : 0;
  info_cond_norm[4]    = 0;
  if (info == 0 && cond <= maxcond) {
    PetscReal *S = Gi, *x = lam + m; /* lam[m..2m) is the power iteration's second vector */
    SpectralFunction(bm, V, lam, -1, R, Gi); /* G⁻¹ */
    RowMajorGemm(bm, 1, A, Gi, 0, K);
    for (int it = 0; it < 2; it++) {
      PetscCall(PetscArraycpy(R, A, m * m));
      RowMajorGemm(bm, -1, K, G, 1, R);
      RowMajorGemm(bm, 1, R, Gi, 1, K);
    }
    SpectralFunction(bm, V, lam, 0.5, R, S); /* G^{1/2}, over G⁻¹ (no longer needed) */
    RowMajorGemm(bm, 1, K, S, 0, W1);        /* K G^{1/2} */
    RowMajorGemm(bm, 1, S, W1, 0, R);        /* M = G^{1/2} K G^{1/2} */
    info_cond_norm[4] = SpectralNorm(bm, R, V, x);
  }
  PetscCall(PetscFPTrapPop());
  PetscCall(PetscFree5(V, lam, Gi, R, W1));
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
    PetscCheck(stats[0] == 0, syn->comm, PETSC_ERR_LIB, "-design projection: LAPACK syev failed on the Gram matrix (info %d)", (int)stats[0]);
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
