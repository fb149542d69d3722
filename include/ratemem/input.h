/* ratemem: vector inputs and input schedules for the Hopfield model (docs/model.md §7, issue #7).

   Schedule syntax (-input_schedule): comma-separated presentations ITEM:DURATION, presented in
   order with the state carried over, each for DURATION > 0 time units. ITEM is
     dominantJ  the paper's draw with memory J (0-based) dominant: c_μ ~ U(0.8,1.5), c_J ~ U(2,3.5),
                the previous presentation's dominant memory (if any, and not J) c ~ U(0.2,0.6),
                rescaled so Σ_μ c_μ = √(PN); drawn from the counter-based generator (rank-independent)
     weights    u = Σ_μ c_μ ξ^μ with c from -input_weights c_0,...,c_{P-1} (exactly P numbers, as given)
     off        u = 0
     fileK      row K (0-based) of the input file (-input_file FILE.h5, see below), used as u as it is
   e.g. -input_schedule dominant0:10,dominant1:10,dominant2:10
   For {0,1} memories (the firing-rate variant of §7, -input_variant rate) ξ^μ is the 0/1 memory in
   u = Σ c_μ ξ^μ, and dominantJ is that variant's draw: c_μ ~ U(0.5,1.5), c_J ~ U(9,10), not rescaled.

   Input file (-input_file FILE.h5 [-input_dataset NAME], default dataset "inputs"): a real (or
   integer) dataset of shape (S, n), S inputs on the n neurons, or (n,) for one input. Each rank
   reads only its own neurons of every row (one collective MPI-IO read). Durations come from
   -input_schedule (items fileK:DURATION), or, without -input_schedule, from the dataset's attribute
   "durations": S positive numbers (rows presented in order), or one number for every row.
   Wrong shape, a missing dataset or attribute, and NaN/Inf entries are one-line errors. */
#pragma once
#include <ratemem/dynamics.h>
#include <ratemem/patterns.h>

typedef enum { RM_PRESENT_DOMINANT, RM_PRESENT_WEIGHTS, RM_PRESENT_OFF, RM_PRESENT_FILE } RmPresentationKind;

typedef struct {
  RmPresentationKind kind;
  PetscInt           memory;   /* dominant memory (RM_PRESENT_DOMINANT), else -1 */
  PetscReal          duration;
  PetscInt           row;      /* row of the input file (RM_PRESENT_FILE), else -1 */
} RmPresentation;

typedef struct {
  PetscInt        count;
  RmPresentation *items;
  PetscInt        file_rows, file_nloc; /* input file: S rows, this rank's neurons of each */
  PetscScalar    *file_data;            /* file_rows x file_nloc, row-major (NULL: no file) */
} RmSchedule;

/* Collective (same spec on every rank). Parses spec for P memories; errors name the bad item. */
PETSC_EXTERN PetscErrorCode RmScheduleParse(MPI_Comm comm, const char *spec, PetscInt P, RmSchedule *sched);
PETSC_EXTERN PetscErrorCode RmScheduleDestroy(RmSchedule *sched);
/* Not collective. The weights c (length P) of presentation k; weights/nweights are -input_weights. */
PETSC_EXTERN PetscErrorCode RmScheduleGetWeights(MPI_Comm comm, const RmSchedule *sched, PetscInt k, PetscInt P, PetscInt N, uint64_t seed,
                                                 const PetscReal *weights, PetscInt nweights, PetscReal *c);
/* Collective. Reads the input file (see above) into sched: with sched->count == 0 (no
   -input_schedule) the schedule becomes the file's rows in order, durations from the "durations"
   attribute; otherwise every fileK item must name a row of the file, and at least one item must. */
PETSC_EXTERN PetscErrorCode RmScheduleSetInputFile(RmMemories mem, const char *path, const char *dataset, RmSchedule *sched);
/* Collective. The input u (neuron layout) of presentation k and its weights c (length P): for a
   fileK item c_μ is the input's projection on memory μ (ξ^μᵀu/N for ±1 memories, (ξ^μ − q)ᵀu/(Nq)
   for {0,1} ones), so argmax c is the memory the input points at. Hopfield (±1) memories use the
   draw of RmScheduleGetWeights, {0,1} memories the firing-rate variant's draw (see above). */
PETSC_EXTERN PetscErrorCode RmScheduleGetInput(RmMemories mem, const RmSchedule *sched, PetscInt k, uint64_t seed, const PetscReal *weights,
                                               PetscInt nweights, Vec u, PetscReal *c);
/* Not collective. A short name of presentation k (dominantJ, weights, off, fileK). */
PETSC_EXTERN PetscErrorCode RmScheduleGetItemName(const RmSchedule *sched, PetscInt k, char *name, size_t len);
/* Collective. u = Σ_μ c_μ ξ^μ on the neuron layout (±1 memories, or 0/1 ones for the binary encoding). */
PETSC_EXTERN PetscErrorCode RmInputBuildVector(RmMemories mem, const PetscReal *c, Vec u);
/* Collective. m_μ = |ξ^μᵀ r|/N for every memory (one MPI_Allreduce of P numbers); for {0,1}
   memories m_μ = ξ^μᵀ r/|ξ^μ|, the mean rate of the memory's neurons (1 when all are on; the
   authors' ξ^μᵀ r/(N q) times N q/|ξ^μ|). */
PETSC_EXTERN PetscErrorCode RmInputOverlaps(RmMemories mem, Vec r, PetscReal *m);
/* Collective. The schedule's initial state: y_i ~ N(0,1) keyed by (seed, RM_STREAM_INPUT, 2^40, i)
   for ±1 memories; for {0,1} memories (firing-rate variant) the authors' x_i = ξ_i^0 · B_i with
   B_i ∈ {0,1} a fair coin keyed by (seed, RM_STREAM_INPUT, 2^40 + 1, i) (half of memory 0 on). */
PETSC_EXTERN PetscErrorCode RmInputInitialState(RmMemories mem, uint64_t seed, Vec y);

/* Firing-rate variant of docs/model.md §7 (-input_variant rate, {0,1} memories of coding level p):
     multiplicative  τ ẋ = −x + Φ(W(u) x),
                     W(u) = 1.25/(N p(1−p)) (Ξ − p) diag(α) (Ξ − p)ᵀ − 1/(N p) 11ᵀ with zero diagonal,
                     α_μ = (ξ^μ − p)ᵀu/(N p);
     additive        τ ẋ = −x + Φ(W₀ x + u), W₀ = 1/(N p(1−p)) (Ξ − p)(Ξ − p)ᵀ with zero diagonal
                     (the authors' classic form);
   Φ(s) = 1/(1 + exp(δ(1 − 2s))). W is never formed: products use the memories' packed bits (masked
   sums, one MPI_Allreduce of P+1 numbers) plus the rank-one term and the local diagonal.
   Collective. Gives the model the memories (kept by reference; keep mem alive). A no-op unless the
   model was set to the variant (RmModelSetFromOptions). Call before integrating (before or after RmModelSetUp). */
PETSC_EXTERN PetscErrorCode RmModelSetInputMemories(RmModel model, RmMemories mem);
/* Not collective. Whether the model is the firing-rate variant of §7 (-input_variant rate). */
PETSC_EXTERN PetscErrorCode RmModelGetInputVariant(RmModel model, PetscBool *rate);
/* Not collective. Whether the model takes vector inputs (Hopfield voltage model or the rate variant). */
PETSC_EXTERN PetscErrorCode RmModelAcceptsInputs(RmModel model, PetscBool *accepts);
