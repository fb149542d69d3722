/* ratemem: the factor operator on the memories' bit-packed patterns b^μ (docs/model.md §2, §5, §7).
   Everything that applies W without forming it reduces to two local kernels over the packed bits and
   one MPI_Allreduce of P+1 numbers:
     masked sums   t_μ = Σ_i b^μ_i v_i (μ < P) and t_P = Σ_i v_i, over the local neurons;
     expansion     y_i = κ Σ_μ c_μ b^μ_i + shift − d v_i.
   The low-rank W of -storage lowrank, the E/I network and the input-driven W(u) of §7 are all built
   on it. Kernels: table (byte lookup tables, 8 memories per lookup, from a neuron-major copy of the
   bits), avx2 or portable (one masked add per memory and neuron). */
#pragma once
#include <ratemem/patterns.h>

typedef struct _p_RmFactors *RmFactors;

/* Collective (on the memories' communicator). Borrows mem's packed bits: keep mem alive while f is
   used. Kernel: avx2 where the CPU has it, else portable. */
PETSC_EXTERN PetscErrorCode RmFactorsCreate(RmMemories mem, RmFactors *f);
PETSC_EXTERN PetscErrorCode RmFactorsDestroy(RmFactors *f);
/* Not collective. table, avx2 (an error where the CPU lacks AVX2) or portable. */
PETSC_EXTERN PetscErrorCode RmFactorsSetKernel(RmFactors f, const char name[]);
PETSC_EXTERN PetscErrorCode RmFactorsGetKernel(RmFactors f, const char **name);
/* Not collective. Local neurons, memories, and the bits (pattern-major, words per memory: RmMemoriesGetLocalPacked). */
PETSC_EXTERN PetscErrorCode RmFactorsGetSizes(RmFactors f, PetscInt *nloc, PetscInt *P);
PETSC_EXTERN PetscErrorCode RmFactorsGetLocalPacked(RmFactors f, const uint64_t **bits, PetscInt *words);
/* Not collective. a_i = Σ_μ b^μ_i for the local neurons (caller's array of nloc). */
PETSC_EXTERN PetscErrorCode RmFactorsGetCounts(RmFactors f, PetscReal counts[]);
/* Not collective. The local masked sums of v (nloc entries): t[0..P-1] and t[P] = Σ_i v_i. */
PETSC_EXTERN PetscErrorCode RmFactorsMaskedSums(RmFactors f, const PetscScalar v[], PetscReal t[]);
/* Collective. tsum = the P+1 local sums t added over the ranks: the one MPI_Allreduce (event RmLowRankReduce). */
PETSC_EXTERN PetscErrorCode RmFactorsReduce(RmFactors f, const PetscReal t[], PetscReal tsum[]);
/* Not collective. y_i = κ Σ_μ c[μ] b^μ_i + shift − d v_i on the local neurons (v is not read when d = 0). */
PETSC_EXTERN PetscErrorCode RmFactorsExpand(RmFactors f, const PetscReal c[], PetscReal kappa, PetscReal shift, PetscReal d, const PetscScalar v[], PetscScalar y[]);
/* The update of a fused pass: y holds the expansion (as RmFactorsExpand) of neurons i0 .. i0+len−1,
   v the caller's values of the same neurons, which the callback may change in place. */
typedef void (*RmFactorsBlockFn)(void *ctx, PetscInt i0, PetscInt len, const PetscScalar y[], PetscScalar v[]);
/* Not collective. One pass over the bits for v ← F(v, y): block by block (L1-sized), the expansion
   y = κ Σ_μ c[μ] b^μ + shift − d v of the block's v as given, then fn on the block; when tnew is not
   NULL, the masked sums of the updated v (P+1 entries, as RmFactorsMaskedSums) into tnew, so the next
   product needs no pass of its own. */
PETSC_EXTERN PetscErrorCode RmFactorsExpandUpdate(RmFactors f, const PetscReal c[], PetscReal kappa, PetscReal shift, PetscReal d, PetscScalar v[], RmFactorsBlockFn fn,
                                                  void *ctx, PetscReal tnew[]);
