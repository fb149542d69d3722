/* ratemem: the gather stage (model.md §4) -- overlaps of a state with every memory from local
   partial sums and one MPI reduction, and the label of the state. */
#pragma once
#include <ratemem/patterns.h>

typedef struct _p_RmClassifier *RmClassifier;

typedef enum { RM_LABEL_RETRIEVED, RM_LABEL_OTHER, RM_LABEL_SPURIOUS, RM_LABEL_UNCONVERGED } RmLabel;
extern const char *const RmLabels[];

/* Overlaps of a readout r with memory μ (model.md §4). Binary memories: normalised = Pearson
   correlation of r and ξ^μ; raw = (ξ^μ-q)ᵀ(r - r̄1)/(N q(1-q)(φ_b-φ_a)); uncentred = rᵀξ^μ/(N q).
   Spin memories: raw = uncentred = ξ^μᵀr/N; normalised = ξ^μᵀr/(√N ‖r‖).
   amplitude: the contrast of the state along ξ^μ relative to the designed one, the regression slope
   of r on ξ^μ over (φ_b − φ_a) (binary) or ξ^μᵀr/N (spin); 1 at a memory.
   Retrieved/other need normalised and amplitude both >= -overlap_threshold. */
typedef struct {
  PetscReal *normalised, *raw, *uncentred, *amplitude; /* each of length P, owned by the classifier */
} RmOverlaps;

PETSC_EXTERN PetscErrorCode RmClassifierCreate(RmMemories mem, RmClassifier *cl);
PETSC_EXTERN PetscErrorCode RmClassifierSetFromOptions(RmClassifier cl);
/* Rates of an inactive and an active neuron at a memory (φ_a, φ_b), for the raw overlap. */
PETSC_EXTERN PetscErrorCode RmClassifierSetRateScale(RmClassifier cl, PetscReal phi_a, PetscReal phi_b);
PETSC_EXTERN PetscErrorCode RmClassifierSetUp(RmClassifier cl);
PETSC_EXTERN PetscErrorCode RmClassifierDestroy(RmClassifier *cl);
PETSC_EXTERN PetscErrorCode RmClassifierGetThreshold(RmClassifier cl, PetscReal *threshold);
/* Collective: one MPI_Allreduce of 2P+3 numbers. The returned arrays belong to cl. */
PETSC_EXTERN PetscErrorCode RmClassifierComputeOverlaps(RmClassifier cl, Vec r, RmOverlaps *ov);
/* Not collective. Nearest memory = argmax of the normalised overlap. */
PETSC_EXTERN PetscErrorCode RmClassifierLabel(RmClassifier cl, const RmOverlaps *ov, PetscInt cue_memory, PetscBool converged, RmLabel *label,
                                              PetscInt *nearest);
