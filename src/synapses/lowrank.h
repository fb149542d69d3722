/* Low-rank factored weights (issue #4): W = s Σ_μ (κ b^μ − β'1)(κ b^μ − β'1)ᵀ + g 11ᵀ − d I, applied
   without forming W, from bit-packed binary memories b^μ (1 bit per neuron per memory). */
#pragma once
#include <petscmat.h>
#include <stdint.h>

typedef struct {
  PetscInt  nloc, P, words;  /* local neurons, memories, 64-bit words per memory (padded) */
  uint64_t *bits;            /* pattern-major: bits[mu*words + i/64] bit i%64 */
  PetscReal s, kappa, betap, g, d;
  PetscReal *t, *tsum;       /* P+1 partial and reduced sums */
  PetscReal *wmu;            /* per-memory weights w_μ (input-driven synapses, docs/model.md §7); NULL: all 1 */
  const char *kernel;        /* "table", "avx2" or "portable": which kernel runs */
  /* Byte-table kernels (kernel "table"; used when rows != NULL): the memories again, neuron-major,
     nb = ceil(P/8) bytes per neuron (bits 8k..8k+7 of neuron i in rows[i*nb + k]), and a work area
     of nb tables of 256 doubles. */
  uint8_t   *rows;
  PetscInt   nb;
  PetscReal *tab;
  PetscBool  portable; /* without rows: the portable masked-sum kernels even where AVX2 runs */
} RmLowRank;

/* Local kernels (exposed for tests and benchmarks). */
PETSC_INTERN void RmLowRankMaskedSums(const RmLowRank *lr, const PetscScalar *v, PetscReal *t);
PETSC_INTERN void RmLowRankExpand(const RmLowRank *lr, const PetscReal *coef, PetscReal shift, const PetscScalar *v, PetscScalar *y);
/* Not collective. Select the kernel of a lowrank Mat: table (default), avx2 or portable. */
PETSC_INTERN PetscErrorCode RmLowRankSetKernel_Private(Mat W, const char *name);
/* Input-driven synapses (docs/model.md §7), composed on the lowrank Mat as "RmLowRankSetInput_C":
   with u != NULL, w_μ = α_μ(u) = s(κ b^μᵀu − β' 1ᵀu) (= ξ^μᵀu/N for the Hebbian factors; one
   MPI_Allreduce of P+1 numbers) and the diagonal shift d = s Σ_μ α_μ, so that
   W(u) = (1/N) Ξ diag(α) Ξᵀ with zero diagonal; u == NULL restores w = 1, d = sP. Hebbian factors
   only (κ = 2, β' = 1, g = 0). On return *P is the number of memories and *alpha (may be NULL) points to
   the weights, owned by W (NULL after u == NULL). */
typedef PetscErrorCode (*RmLowRankSetInputFn)(Mat W, Vec u, PetscInt *P, const PetscReal **alpha);
PETSC_INTERN PetscErrorCode RmLowRankCreateMat_Private(MPI_Comm comm, PetscInt nloc, PetscInt n, PetscInt P, const uint64_t *words, PetscReal s,
                                                       PetscReal kappa, PetscReal betap, PetscReal g, PetscReal d, Mat *W);
