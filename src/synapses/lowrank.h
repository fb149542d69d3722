/* Low-rank factored weights (-storage lowrank): W = s Σ_μ (κ b^μ − β'1)(κ b^μ − β'1)ᵀ + g 11ᵀ − d I,
   applied without forming W through the factor operator on the bit-packed memories b^μ
   (include/ratemem/factors.h). Private to src/synapses: other modules use RmSynapsesMatGetFactors
   and RmSynapsesMatSetInput (include/ratemem/synapses.h). */
#pragma once
#include <ratemem/synapses.h>

typedef struct {
  RmFactors    fac;           /* owned */
  PetscInt     nloc, P;
  RmDesignType design;
  PetscReal    s, kappa, betap, g, d;
  PetscReal   *t, *tsum;      /* P+1 partial and reduced sums */
  PetscReal   *wmu;           /* per-memory weights w_μ (input-driven synapses, docs/model.md §7); NULL: all 1 */
  PetscReal   *tnext;         /* Uᵀv of the vector the last fused pass updated (next_id in state next_state) */
  PetscObjectId    next_id;
  PetscObjectState next_state;
  PetscBool        next_valid;
  PetscReal   *K, *Kt;        /* projection design: W = U K Uᵀ, U = [b⁰ … b^{P−1}, 1], (P+1)² row-major, and Kᵀ; NULL otherwise */
} RmLowRank;

/* Collective. The lowrank Mat of mem's rows (kernel avx2 or portable, without a copy of the bits:
   RmLowRankSetKernel_Private selects another); s, κ, β', g, d as above. */
PETSC_INTERN PetscErrorCode RmLowRankCreateMat_Private(MPI_Comm comm, RmMemories mem, RmDesignType design, PetscReal s, PetscReal kappa, PetscReal betap,
                                                       PetscReal g, PetscReal d, Mat *W);
/* Collective. The lowrank Mat W = U K Uᵀ of the projection design (K of (P+1)², row-major, copied). */
PETSC_INTERN PetscErrorCode RmLowRankCreateProjectionMat_Private(MPI_Comm comm, RmMemories mem, const PetscReal K[], Mat *W);
/* Not collective. Select the kernel of a lowrank Mat: table (default), avx2 or portable. */
PETSC_INTERN PetscErrorCode RmLowRankSetKernel_Private(Mat W, const char *name);
