/* ratemem: memories (docs/model.md §1) and cues. Each rank holds the neurons (rows) it owns. */
#pragma once
#include <petscvec.h>
#include <ratemem/sys.h>

typedef struct _p_RmMemories *RmMemories;

typedef enum { RM_PATTERNS_RANDOM, RM_PATTERNS_DETERMINISTIC, RM_PATTERNS_HADAMARD, RM_PATTERNS_FILE } RmPatternKind;
extern const char *const RmPatternKinds[];

/* How a stored bit is read as a number: {0,1} for the rate model, {-1,+1} for Hopfield designs. */
typedef enum { RM_ENCODING_BINARY, RM_ENCODING_SPIN } RmEncoding;
extern const char *const RmEncodings[];

/* flip: a memory with a fraction -flip of its entries flipped; mixture: the majority of -mixture_count
   memories; delete: each active neuron of a memory kept with probability -keep, the others made inactive
   (the authors' cue, docs/model.md §3); unstored: a fresh random pattern at coding q, stored nowhere
   (cue memory −1), which should decay to the quiescent state; random: every neuron's initial value
   uniform in [0,1) (rates) or [−1,1) (Hopfield voltages), cue memory −1, for a census of where random
   states go. -flip applies to every kind but random. */
typedef enum { RM_CUE_FLIP, RM_CUE_MIXTURE, RM_CUE_DELETE, RM_CUE_UNSTORED, RM_CUE_RANDOM } RmCueKind;
extern const char *const RmCueKinds[];

PETSC_EXTERN PetscErrorCode RmMemoriesCreate(MPI_Comm comm, RmMemories *mem);
PETSC_EXTERN PetscErrorCode RmMemoriesSetEncoding(RmMemories mem, RmEncoding enc);
/* Not collective. Prefix of the options RmMemoriesSetFromOptions reads (-PREFIXneurons, ...). */
PETSC_EXTERN PetscErrorCode RmMemoriesSetOptionsPrefix(RmMemories mem, const char prefix[]);
/* Not collective. Setters for apps that do not go through the options database. Each must be called
   before RmMemoriesSetUp; called after RmMemoriesSetFromOptions, it overrides the option
   (-neurons and -memories; -coding; -seed). Generated memories only: -patterns FILE sets n, P and q. */
PETSC_EXTERN PetscErrorCode RmMemoriesSetSizes(RmMemories mem, PetscInt n, PetscInt P);
PETSC_EXTERN PetscErrorCode RmMemoriesSetCoding(RmMemories mem, PetscReal q);
PETSC_EXTERN PetscErrorCode RmMemoriesSetSeed(RmMemories mem, PetscInt64 seed);
PETSC_EXTERN PetscErrorCode RmMemoriesSetFromOptions(RmMemories mem);
PETSC_EXTERN PetscErrorCode RmMemoriesSetUp(RmMemories mem);
PETSC_EXTERN PetscErrorCode RmMemoriesView(RmMemories mem, PetscViewer viewer);
PETSC_EXTERN PetscErrorCode RmMemoriesDestroy(RmMemories *mem);

/* Not collective. Sizes and ownership: n neurons, P memories, this rank owns [rstart, rend). */
PETSC_EXTERN PetscErrorCode RmMemoriesGetSizes(RmMemories mem, PetscInt *n, PetscInt *P);
PETSC_EXTERN PetscErrorCode RmMemoriesGetOwnershipRange(RmMemories mem, PetscInt *rstart, PetscInt *rend);
PETSC_EXTERN PetscErrorCode RmMemoriesGetComm(RmMemories mem, MPI_Comm *comm);
PETSC_EXTERN PetscErrorCode RmMemoriesGetSeed(RmMemories mem, PetscInt64 *seed);
PETSC_EXTERN PetscErrorCode RmMemoriesGetKind(RmMemories mem, RmPatternKind *kind);
PETSC_EXTERN PetscErrorCode RmMemoriesGetEncoding(RmMemories mem, RmEncoding *enc);
/* Coding level q (fraction of active entries): the option for generated memories, the measured mean for loaded ones. */
PETSC_EXTERN PetscErrorCode RmMemoriesGetCoding(RmMemories mem, PetscReal *q);
/* Local memories as stored: bit-packed (1 bit per neuron per memory), pattern-major: bit i%64 of
   words[mu*wpp + i/64] is ξ_iμ in {0,1}; padding bits are 0. Owned by mem. */
PETSC_EXTERN PetscErrorCode RmMemoriesGetLocalPacked(RmMemories mem, const uint64_t **words, PetscInt *wpp);
static inline uint8_t RmPackedBit(const uint64_t *words, PetscInt wpp, PetscInt mu, PetscInt i)
{
  return (uint8_t)((words[mu * wpp + i / 64] >> (i % 64)) & 1);
}
/* Not collective. Memory mu's local bits as bytes (nloc of them, caller's buffer). */
PETSC_EXTERN PetscErrorCode RmMemoriesGetLocalPattern(RmMemories mem, PetscInt mu, uint8_t *bytes);
/* Local bits as bytes, pattern-major: bits[mu*nlocal + i]. Unpacked on the first call and cached
   (P*nloc bytes): for tests and small runs; the library itself reads the packed form. */
PETSC_EXTERN PetscErrorCode RmMemoriesGetLocalBits(RmMemories mem, const uint8_t **bits);
/* Collective. The P bits of m arbitrary global neurons cols[] (any order, repeats allowed), neuron-major:
   bit μ of neuron cols[l] is bit μ%64 of packed[l*wpn + μ/64], wpn = ceil(P/64) (caller allocates m*wpn).
   Fetched from their owners through a PetscSF, so assembling explicit weights in blocks never holds
   all n x P bits on a rank. Every rank must call it (m may be 0). */
PETSC_EXTERN PetscErrorCode RmMemoriesGetNeuronBits(RmMemories mem, PetscInt m, const PetscInt cols[], uint64_t packed[]);
/* Collective. All P x n bits on every rank, O(nP) bytes: for tests only; the library assembles with
   RmMemoriesGetNeuronBits. */
PETSC_EXTERN PetscErrorCode RmMemoriesGetAllBits(RmMemories mem, uint8_t **bits);
/* The pairwise overlap ratios r_μν = ξ^μᵀξ^ν/(qN) (μ < ν) of {0,1} memories, q = RmMemoriesGetCoding
   (docs/model.md §2, "-balance auto"): their mean (the r of the general design), spread, and per
   memory the root-sum-square deviation from the mean, dev_μ = sqrt(Σ_{ν≠μ} (r_μν − mean)²). */
typedef struct {
  PetscInt  pairs;          /* P(P−1)/2; 0 when P = 1 (then mean = q, the basic design, and the spread is 0) */
  PetscReal mean, min, max, std; /* over the pairs; std is the population standard deviation */
  PetscReal dev_max;        /* max_μ dev_μ */
  PetscInt  dev_memory;     /* the μ of dev_max */
} RmOverlapRatios;
/* Collective. Exact integer counts: local popcounts and one MPI_Allreduce of P(P−1)/2 integers, so the
   result is the same on any number of ranks. Cost: P²/2 popcount passes over the local bits. */
PETSC_EXTERN PetscErrorCode RmMemoriesComputeOverlapRatios(RmMemories mem, RmOverlapRatios *ratios);
/* Collective. A Vec with the neuron layout (caller destroys). */
PETSC_EXTERN PetscErrorCode RmMemoriesCreateVec(RmMemories mem, Vec *v);

/* Cues. Collective. Writes the encoded cue of trial t into x and returns its memory (−1 for an unstored cue). */
typedef struct {
  RmCueKind kind;
  PetscReal flip;           /* fraction of entries flipped (exactly round(flip*n) of them) */
  PetscInt  mixture_count;  /* memories in a mixture cue (majority vote) */
  PetscReal keep;           /* delete cue: probability that an active neuron stays active (0 in an initialiser: 0.6) */
} RmCueOptions;
PETSC_EXTERN PetscErrorCode RmCueOptionsSetFromOptions(MPI_Comm comm, RmCueOptions *opts);
PETSC_EXTERN PetscErrorCode RmMemoriesCreateCue(RmMemories mem, const RmCueOptions *opts, PetscInt trial, Vec x, PetscInt *cue_memory);
