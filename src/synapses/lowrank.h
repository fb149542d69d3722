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
} RmLowRank;

/* Collective. The lowrank Mat of mem's rows (kernel table); s, κ, β', g, d as above. */
PETSC_INTERN PetscErrorCode RmLowRankCreateMat_Private(MPI_Comm comm, RmMemories mem, RmDesignType design, PetscReal s, PetscReal kappa, PetscReal betap,
                                                       PetscReal g, PetscReal d, Mat *W);
/* Not collective. Select the kernel of a lowrank Mat: table (default), avx2 or portable. */
PETSC_INTERN PetscErrorCode RmLowRankSetKernel_Private(Mat W, const char *name);
