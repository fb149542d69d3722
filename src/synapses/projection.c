/* The projection design (-design projection, docs/model.md §2 "Projection design"). With
   U = [ξ⁰ … ξ^{P−1}, 1] (n × m, m = P + 1) and G = UᵀU, W = U K Uᵀ with K = A G⁻¹, where A is the
   m × m matrix of W on span U in the basis U:
     A = [ α' I_P   0 ]      c = (a − λ φ_a)/(φ_b − φ_a),  α' = (b − a)/(φ_b − φ_a),
         [ c 1ᵀ     λ ]
   so that W x^μ = a 1 + (b − a) ξ^μ for the rescaled memories x^μ = φ_a 1 + (φ_b − φ_a) ξ^μ and
   W 1 = λ 1. G is an exact integer count (one MPI_Allreduce of m² 64-bit integers); its eigenvalues
   (LAPACK syev, the same input and library on every rank) give cond(G) and G⁻¹, refined once. */
#include "synapsesimpl.h"
#include <petscblaslapack.h>

PetscErrorCode RmProjectionCompute_Private(RmSynapses syn, RmMemories mem)
{
  RmDesign       *d = &syn->design;
  const uint64_t *words;
  PetscInt        n, P, m, wpp, rstart, rend;
  PetscInt64     *gl, *gg;
  PetscReal      *G, *V, *lam, *Gi, *A, *K, *R, *work, lwork_q;
  PetscBLASInt    bm, lwork = -1, info = 0;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmMemoriesGetLocalPacked(mem, &words, &wpp));
  m = P + 1;
  PetscCall(PetscBLASIntCast(m, &bm));
  PetscCall(PetscCalloc2(m * m, &gl, m * m, &gg));
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
  PetscCallMPI(MPI_Allreduce(gl, gg, (PetscMPIInt)(m * m), MPIU_INT64, MPI_SUM, syn->comm));

  PetscCall(PetscMalloc6(m * m, &G, m * m, &V, m, &lam, m * m, &Gi, m * m, &A, m * m, &R));
  for (PetscInt k = 0; k < m * m; k++) G[k] = V[k] = (PetscReal)gg[k];
  PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &bm, V, &bm, lam, &lwork_q, &lwork, &info));
  PetscCall(PetscBLASIntCast((PetscInt)lwork_q, &lwork));
  PetscCall(PetscMalloc1(lwork, &work));
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &bm, V, &bm, lam, work, &lwork, &info));
  PetscCall(PetscFPTrapPop());
  PetscCall(PetscFree(work));
  /* eigenvalues ascending; G is positive semi-definite, so cond = λ_max/λ_min (infinite when λ_min <= 0) */
  d->gram_cond = info == 0 && lam[0] > 0 ? lam[m - 1] / lam[0] : PETSC_INFINITY;
  if (info != 0 || !(d->gram_cond <= syn->proj_maxcond)) { /* refused: nothing allocated here survives */
    PetscReal lo = lam[0], hi = lam[m - 1];
    PetscCall(PetscFree2(gl, gg));
    PetscCall(PetscFree6(G, V, lam, Gi, A, R));
    PetscCheck(info == 0, syn->comm, PETSC_ERR_LIB, "-design projection: LAPACK syev failed on the Gram matrix (info %d)", (int)info);
    SETERRQ(syn->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-design projection: the Gram matrix G = U^T U of the memories and 1 has condition number %g (eigenvalues %g ... %g) above "
             "-projection_max_cond %g: some memories are (nearly) identical, constant, or linear combinations of the others",
             (double)d->gram_cond, (double)lo, (double)hi, (double)syn->proj_maxcond);
  }
  for (PetscInt i = 0; i < m; i++)
    for (PetscInt j = 0; j < m; j++) {
      PetscReal s = 0;
      for (PetscInt k = 0; k < m; k++) s += V[i + k * m] * V[j + k * m] / lam[k];
      Gi[i * m + j] = s;
    }

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
  K = syn->projK;
  for (PetscInt i = 0; i < m; i++) /* K = A G⁻¹ */
    for (PetscInt j = 0; j < m; j++) {
      PetscReal s = 0;
      for (PetscInt k = 0; k < m; k++) s += A[i * m + k] * Gi[k * m + j];
      K[i * m + j] = s;
    }
  for (int it = 0; it < 2; it++) { /* refinement: R = A − K G, K += R G⁻¹ */
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt j = 0; j < m; j++) {
        PetscReal s = A[i * m + j];
        for (PetscInt k = 0; k < m; k++) s -= K[i * m + k] * G[k * m + j];
        R[i * m + j] = s;
      }
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt j = 0; j < m; j++) {
        PetscReal s = 0;
        for (PetscInt k = 0; k < m; k++) s += R[i * m + k] * Gi[k * m + j];
        K[i * m + j] += s;
      }
  }
  { /* ‖W‖₂: U = Q G^{1/2} with Q orthonormal, so ‖W‖₂ = ‖M‖₂, M = G^{1/2} K G^{1/2}; power iteration on MᵀM */
    PetscReal *S = Gi, *T = G, *M = R, x[2 * 64], *xv = x, *yv, nrm = 0;
    PetscReal *buf = NULL;
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt j = 0; j < m; j++) {
        PetscReal s = 0;
        for (PetscInt k = 0; k < m; k++) s += V[i + k * m] * PetscSqrtReal(lam[k]) * V[j + k * m];
        S[i * m + j] = s;
      }
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt j = 0; j < m; j++) {
        PetscReal s = 0;
        for (PetscInt k = 0; k < m; k++) s += K[i * m + k] * S[k * m + j];
        T[i * m + j] = s;
      }
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt j = 0; j < m; j++) {
        PetscReal s = 0;
        for (PetscInt k = 0; k < m; k++) s += S[i * m + k] * T[k * m + j];
        M[i * m + j] = s;
      }
    if (m > 64) {
      PetscCall(PetscMalloc1(2 * m, &buf));
      xv = buf;
    }
    yv = xv + m;
    for (PetscInt i = 0; i < m; i++) xv[i] = 1.0 + 0.01 * i;
    for (int it = 0; it < 300; it++) { /* x <- Mᵀ M x / ‖·‖ */
      PetscReal n2 = 0;
      for (PetscInt i = 0; i < m; i++) {
        PetscReal s = 0;
        for (PetscInt k = 0; k < m; k++) s += M[i * m + k] * xv[k];
        yv[i] = s;
      }
      for (PetscInt i = 0; i < m; i++) {
        PetscReal s = 0;
        for (PetscInt k = 0; k < m; k++) s += M[k * m + i] * yv[k];
        xv[i] = s;
        n2 += s * s;
      }
      n2 = PetscSqrtReal(n2);
      if (!(n2 > 0)) break;
      nrm = PetscSqrtReal(n2);
      for (PetscInt i = 0; i < m; i++) xv[i] /= n2;
    }
    d->weight_norm = nrm;
    PetscCall(PetscFree(buf));
  }
  PetscCall(PetscInfo(NULL, "projection design: ‖W‖ = %g, cond(G) = %g, lambda = %g, c = %g\n", (double)d->weight_norm, (double)d->gram_cond, (double)d->lambda, (double)c));
  PetscCall(PetscFree6(G, V, lam, Gi, A, R));
  PetscCall(PetscFree2(gl, gg));
  PetscFunctionReturn(PETSC_SUCCESS);
}
