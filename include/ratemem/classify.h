/* ratemem: the gather stage (docs/model.md §4) -- overlaps of a state with every memory from local
   partial sums and one MPI reduction, and the label of the state. */
#pragma once
#include <ratemem/patterns.h>

typedef struct _p_RmClassifier *RmClassifier;

/* Labels of a final state (docs/model.md §4). retrieved / other: the nearest memory (the cue's, or
   another) is expressed with its designed amplitude (|amplitude − 1| <= -amplitude_tolerance);
   saturated: the nearest memory's pattern is there (normalised overlap >= -overlap_threshold) but
   with a larger contrast than designed, e.g. rates driven to 1 instead of φ(b); quiescent: no memory
   expressed and the state nearly uniform (its spread below -amplitude_tolerance times a memory's);
   spurious: any other equilibrium (mixtures, ...); unconverged: no equilibrium reached. */
typedef enum { RM_LABEL_RETRIEVED, RM_LABEL_OTHER, RM_LABEL_SPURIOUS, RM_LABEL_UNCONVERGED, RM_LABEL_SATURATED, RM_LABEL_QUIESCENT, RM_LABEL_COUNT } RmLabel;
extern const char *const RmLabels[];

/* Overlaps of a readout r with memory μ (docs/model.md §4). Binary memories: normalised = Pearson
   correlation of r and ξ^μ; raw = (ξ^μ-q)ᵀ(r - r̄1)/(N q(1-q)(φ_b-φ_a)); uncentred = rᵀξ^μ/(N q).
   Spin memories: raw = uncentred = ξ^μᵀr/N; normalised = ξ^μᵀr/(√N ‖r‖).
   amplitude: the contrast of the state along ξ^μ relative to the designed one, the regression slope
   of r on ξ^μ over (φ_b − φ_a) (binary) or ξ^μᵀr/N (spin); 1 at a memory.
   spread: the state's variation relative to a memory's, std(r)/((φ_b − φ_a)√(q(1−q))) (binary) or
   ‖r‖/√N (spin); 1 at a memory, 0 for a uniform state. */
typedef struct {
  PetscReal *normalised, *raw, *uncentred, *amplitude; /* each of length P, owned by the classifier */
  PetscReal  spread;
} RmOverlaps;

PETSC_EXTERN PetscErrorCode RmClassifierCreate(RmMemories mem, RmClassifier *cl);
PETSC_EXTERN PetscErrorCode RmClassifierSetFromOptions(RmClassifier cl);
/* Not collective. Prefix of the options RmClassifierSetFromOptions reads (-PREFIXoverlap_threshold, ...). */
PETSC_EXTERN PetscErrorCode RmClassifierSetOptionsPrefix(RmClassifier cl, const char prefix[]);
/* Rates of an inactive and an active neuron at a memory (φ_a, φ_b), for the raw overlap. */
PETSC_EXTERN PetscErrorCode RmClassifierSetRateScale(RmClassifier cl, PetscReal phi_a, PetscReal phi_b);
PETSC_EXTERN PetscErrorCode RmClassifierSetUp(RmClassifier cl);
PETSC_EXTERN PetscErrorCode RmClassifierDestroy(RmClassifier *cl);
PETSC_EXTERN PetscErrorCode RmClassifierGetThreshold(RmClassifier cl, PetscReal *threshold);
/* Not collective. Setters of -overlap_threshold (in (0,1]) and -amplitude_tolerance (in (0,1)). */
PETSC_EXTERN PetscErrorCode RmClassifierSetThreshold(RmClassifier cl, PetscReal threshold);
PETSC_EXTERN PetscErrorCode RmClassifierSetAmplitudeTolerance(RmClassifier cl, PetscReal tol);
PETSC_EXTERN PetscErrorCode RmClassifierGetAmplitudeTolerance(RmClassifier cl, PetscReal *tol);
/* Collective: one MPI_Allreduce of 2P+3 numbers. The returned arrays belong to cl. */
PETSC_EXTERN PetscErrorCode RmClassifierComputeOverlaps(RmClassifier cl, Vec r, RmOverlaps *ov);
/* Not collective. Nearest memory = argmax of the normalised overlap. */
PETSC_EXTERN PetscErrorCode RmClassifierLabel(RmClassifier cl, const RmOverlaps *ov, PetscInt cue_memory, PetscBool converged, RmLabel *label,
                                              PetscInt *nearest);
