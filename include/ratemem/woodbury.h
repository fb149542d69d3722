/* ratemem: the exact low-rank Newton solver (docs/model.md §3, "The low-rank Newton solver").
   For weights with factors, W = U S Uᵀ − d I with U = [b^0 … b^{P−1}, 1] (n × (P+1)), the Newton
   matrix M = I − γJ of a single population is a diagonal plus a rank-(P+1) term, and the Woodbury
   identity inverts it exactly:
     rate     J = (−I + D W)/τ:  M⁻¹r = A⁻¹r + c A⁻¹D U C⁻¹ S Uᵀ A⁻¹ r
     voltage  J = (−I + W D)/τ:  M⁻¹r = A⁻¹r + c A⁻¹ U C⁻¹ S Uᵀ D A⁻¹ r
   with c = γ/τ, D = diag(φ'), A = (1 + c) I + c d D and the capacitance C = I − c S K,
   K = Uᵀ diag(D/A) U. The set-up builds K from the local bits (per batch column) and one
   MPI_Allreduce of B (P+1)² numbers, and factors each C on every rank; a solve is one masked-sum pass,
   one MPI_Allreduce of B (P+1) numbers and one expansion. The E/I network (§5) eliminates its pool
   units first and has the same cost (docs/model.md §3). */
#pragma once
#include <ratemem/dynamics.h>

typedef struct _p_RmWoodbury *RmWoodbury;

/* Not collective. Whether the model's Jacobian has the factored form (weights with factors, additive
   input; one population or the E/I network of §5); if not, *why says what is missing (may be NULL). */
PETSC_EXTERN PetscErrorCode RmWoodburyApplicable(RmModel model, PetscBool *ok, const char **why);
/* Collective. For a set-up model whose RmWoodburyApplicable is true (an error otherwise). */
PETSC_EXTERN PetscErrorCode RmWoodburyCreate(RmModel model, RmWoodbury *wb);
PETSC_EXTERN PetscErrorCode RmWoodburyDestroy(RmWoodbury *wb);
/* Collective. Factors M = I − γJ at the model's last Jacobian set-up (its D = φ'). */
PETSC_EXTERN PetscErrorCode RmWoodburySetUp(RmWoodbury wb, PetscReal gamma);
/* Collective. The same for a new γ with D as at the last RmWoodburySetUp: without the Gram pass when
   d = 0 (paper design, E/I network: A is a multiple of I and K scales with it), else with it. */
PETSC_EXTERN PetscErrorCode RmWoodburySetGamma(RmWoodbury wb, PetscReal gamma);
/* Collective. z = M⁻¹ r for the M of the last set-up (z may be r). */
PETSC_EXTERN PetscErrorCode RmWoodburySolve(RmWoodbury wb, Vec r, Vec z);
/* Not collective. γ of the last set-up (0 before the first), the set-ups, the Gram passes among them and the solves so far. */
PETSC_EXTERN PetscErrorCode RmWoodburyGetInfo(RmWoodbury wb, PetscReal *gamma, PetscInt64 *setups, PetscInt64 *grams, PetscInt64 *solves);
