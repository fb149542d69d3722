/* ratemem: vector inputs and input schedules for the Hopfield model (model.md §7, issue #7).

   Schedule syntax (-input_schedule): comma-separated presentations ITEM:DURATION, presented in
   order with the state carried over, each for DURATION > 0 time units. ITEM is
     dominantJ  the paper's draw with memory J (0-based) dominant: c_μ ~ U(0.8,1.5), c_J ~ U(2,3.5),
                the previous presentation's dominant memory (if any, and not J) c ~ U(0.2,0.6),
                rescaled so Σ_μ c_μ = √(PN); drawn from the counter-based generator (rank-independent)
     weights    u = Σ_μ c_μ ξ^μ with c from -input_weights c_0,...,c_{P-1} (exactly P numbers, as given)
     off        u = 0
   e.g. -input_schedule dominant0:10,dominant1:10,dominant2:10 */
#pragma once
#include <ratemem/patterns.h>

typedef enum { RM_PRESENT_DOMINANT, RM_PRESENT_WEIGHTS, RM_PRESENT_OFF } RmPresentationKind;

typedef struct {
  RmPresentationKind kind;
  PetscInt           memory;   /* dominant memory (RM_PRESENT_DOMINANT), else -1 */
  PetscReal          duration;
} RmPresentation;

typedef struct {
  PetscInt        count;
  RmPresentation *items;
} RmSchedule;

/* Collective (same spec on every rank). Parses spec for P memories; errors name the bad item. */
PETSC_EXTERN PetscErrorCode RmScheduleParse(MPI_Comm comm, const char *spec, PetscInt P, RmSchedule *sched);
PETSC_EXTERN PetscErrorCode RmScheduleDestroy(RmSchedule *sched);
/* Not collective. The weights c (length P) of presentation k; weights/nweights are -input_weights. */
PETSC_EXTERN PetscErrorCode RmScheduleGetWeights(MPI_Comm comm, const RmSchedule *sched, PetscInt k, PetscInt P, PetscInt N, uint64_t seed,
                                                 const PetscReal *weights, PetscInt nweights, PetscReal *c);
/* Collective. u = Σ_μ c_μ ξ^μ (±1 memories) on the neuron layout. */
PETSC_EXTERN PetscErrorCode RmInputBuildVector(RmMemories mem, const PetscReal *c, Vec u);
/* Collective. m_μ = |ξ^μᵀ r|/N for every memory (one MPI_Allreduce of P numbers). */
PETSC_EXTERN PetscErrorCode RmInputOverlaps(RmMemories mem, Vec r, PetscReal *m);
/* Collective. y_i ~ N(0,1) keyed by (seed, RM_STREAM_INPUT, 2^40, i): the schedule's initial state. */
PETSC_EXTERN PetscErrorCode RmInputInitialState(RmMemories mem, uint64_t seed, Vec y);
