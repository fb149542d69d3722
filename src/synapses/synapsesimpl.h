/* Private structure of RmSynapses: the generic object (synapses.c: the registry, the design and the
   options common to every storage) and the ops table a storage fills in its create function
   (dense.c, aij.c, lowrank.c, compressed.c, spatial.c; registered in synapsesregi.c). */
#pragma once
#include <ratemem/synapses.h>

typedef struct {
  /* inside the generic SetFromOptions' options block, after the generic options: the storage's own options */
  PetscErrorCode (*setfromoptions)(PetscOptionItems *PetscOptionsObject, RmSynapses syn);
  /* the storage's own consistency checks (after SetFromOptions and again at SetUp, since setters may change things) */
  PetscErrorCode (*check)(RmSynapses syn);
  /* create syn->W, the rows of mem's ownership, from syn->design (computed by the generic set-up) */
  PetscErrorCode (*assemble)(RmSynapses syn, RmMemories mem);
  /* the kernel that applies W (set up: syn->W exists) */
  PetscErrorCode (*kernelname)(RmSynapses syn, const char **name);
  PetscErrorCode (*view)(RmSynapses syn, PetscViewer viewer); /* after the generic line (may be NULL) */
  PetscErrorCode (*destroy)(RmSynapses syn);                  /* frees syn->data (may be NULL) */
} RmSynapsesOps;

struct _p_RmSynapses {
  MPI_Comm      comm;
  char         *type_name;
  char         *prefix;
  RmSynapsesOps ops;
  void         *data;     /* the storage's */
  PetscBool     diluted;  /* the storage accepts -indegree K > 0 (set by its create function) */
  PetscBool     factored; /* W is applied through the memories' factors, never formed, with a fused product and update (set by its create function) */
  PetscBool     setup_called;
  RmDesignType  design_type;
  PetscInt      indegree; /* 0: fully connected */
  PetscInt64    seed;
  RmDesign      design;
  PetscBool     balance_set;
  PetscBool     balance_auto; /* -balance auto: r = the mean measured overlap ratio (RmMemoriesComputeOverlapRatios) */
  PetscBool     ratios_measured;
  RmOverlapRatios ratios;     /* set up with -balance auto */
  Mat           W;
  /* -design projection (projection.c): -projection_max_cond, -projection_lambda, and K ((P+1)², row-major) */
  PetscReal     proj_maxcond, proj_lambda;
  PetscBool     proj_lambda_set;
  PetscReal    *projK;
};

/* Collective. -design projection (docs/model.md §2 "Projection design"): G = UᵀU from local bit counts
   and one MPI_Allreduce of (P+1)² integers, its condition number (refused above syn->proj_maxcond), λ,
   and K = A G⁻¹, replicated (the same on every rank: G is an exact count). Fills syn->projK and
   syn->design.lambda, .gram_cond; needs syn->design's φ_a, φ_b, α', γ. */
PETSC_INTERN PetscErrorCode RmProjectionCompute_Private(RmSynapses syn, RmMemories mem);

/* The registry (synapses.c): RmSynapsesRegisterAll (synapsesregi.c) frees it at PetscFinalize. */
PETSC_INTERN PetscErrorCode RmSynapsesListDestroy_Private(void);

/* Entry values W_ij = scale Σ_μ c_iμ c_jμ + shift with c = κ b − β' for bits b: κ = 1, β' = β
   (paper, §2) or κ = 2, β' = 1 (hebbian, ±1 memories). From popcounts of the packed bits,
   Σ_μ c_iμ c_jμ = κ² m_ij − κβ'(a_i + a_j) + P β'², with m_ij = |b_i ∧ b_j| and a_i = |b_i|,
   so an entry costs ceil(P/64) popcounts instead of P multiply-adds (dense.c, aij.c). */
typedef struct {
  PetscReal k2, kb, pb2, scale, shift;
  PetscInt  wpn;
} RmEntryRule;

static inline RmEntryRule RmEntryRuleMake(RmSynapses syn, PetscInt P, PetscInt inputs)
{
  const PetscBool hebb  = syn->design_type == RM_DESIGN_HEBBIAN ? PETSC_TRUE : PETSC_FALSE;
  const PetscReal kappa = hebb ? 2.0 : 1.0, betap = hebb ? 1.0 : syn->design.beta;
  RmEntryRule     e;

  e.k2    = kappa * kappa;
  e.kb    = kappa * betap;
  e.pb2   = P * betap * betap;
  e.scale = (hebb ? 1.0 : syn->design.alpha) / inputs;
  e.shift = hebb ? 0.0 : syn->design.gamma / inputs;
  e.wpn   = (P + 63) / 64;
  return e;
}

static inline PetscInt RmPopCount(const uint64_t *b, PetscInt wpn)
{
  PetscInt c = 0;
  for (PetscInt w = 0; w < wpn; w++) c += __builtin_popcountll(b[w]);
  return c;
}

static inline PetscReal RmEntryValue(const RmEntryRule *e, const uint64_t *bi, PetscInt ai, const uint64_t *bj, PetscInt aj)
{
  PetscInt m = 0;
  for (PetscInt w = 0; w < e->wpn; w++) m += __builtin_popcountll(bi[w] & bj[w]);
  return e->scale * (e->k2 * m - e->kb * (ai + aj) + e->pb2) + e->shift;
}

/* Collective. The local rows' own bits (neuron-major, e->wpn words each) and popcounts; PetscFree2(rb, ra). */
PETSC_INTERN PetscErrorCode RmSynapsesLocalRowBits_Private(RmMemories mem, const RmEntryRule *e, uint64_t **rb, PetscInt **ra);
/* The explicit storages' assembly blocks (-assembly_block, read by dense.c and aij.c): 0 means their default. */
PETSC_INTERN PetscErrorCode RmSynapsesAssemblyBlockOption_Private(PetscOptionItems *PetscOptionsObject, RmSynapses syn, PetscInt *block);
/* The diluted graph shared by -storage aij and compressed (aij.c): the K sorted presynaptic
   partners of neuron i, keyed by (seed, i, draw); table is scratch of tsize (a power of two >= 2K). */
PETSC_INTERN PetscErrorCode RmSampleInputs_Private(PetscInt64 seed, PetscInt i, PetscInt n, PetscInt K, PetscInt *cols, PetscInt *table, PetscInt tsize);
