/* ratemem: synaptic designs (docs/model.md §2, §3) stored as row-distributed PETSc matrices. */
#pragma once
#include <petscmat.h>
#include <ratemem/activation.h>
#include <ratemem/factors.h>
#include <ratemem/patterns.h>

typedef struct _p_RmSynapses *RmSynapses;

/* paper: docs/model.md §2 (rate model, {0,1}); hebbian: the Hopfield baseline (±1); projection: the
   projection design of §2 (rate model, {0,1}): every memory an exact equilibrium whatever the overlaps. */
typedef enum { RM_DESIGN_PAPER, RM_DESIGN_HEBBIAN, RM_DESIGN_PROJECTION } RmDesignType;
extern const char *const RmDesignTypes[];
/* Weight storages, a registry (RmSynapsesRegister): each one file in src/synapses/ and one line in
   synapsesregi.c. -storage NAME is RmSynapsesSetType(syn, NAME). */
typedef const char *RmStorageType;
#define RMSTORAGEDENSE      "dense"      /* MATDENSE */
#define RMSTORAGEAIJ        "aij"        /* MATAIJ, fully connected or diluted (-indegree K) */
#define RMSTORAGELOWRANK    "lowrank"    /* MATSHELL over the memories' bit-packed factors, W never formed */
#define RMSTORAGECOMPRESSED "compressed" /* diluted, weights recomputed from the memories (~5 bytes per synapse) */

/* The parameters and derived coefficients of a design. For -design paper (docs/model.md §2 general
   design; basic when balance r = q): W = α/N (Ξ-β)(Ξ-β)ᵀ + γ/N 11ᵀ.  For -design hebbian:
   W = 1/N Ξ Ξᵀ with zero diagonal (α = 1, β = γ = 0). */
typedef struct {
  PetscReal a, b;        /* currents of an inactive / active neuron at a memory */
  PetscReal coding;      /* q */
  PetscReal balance;     /* r: pairwise overlap ratio of the memories */
  PetscReal alpha, beta, gamma;
  PetscReal alpha_basic; /* α' = (b-a)/(φ_b-φ_a), the eigenvalue of W on the memory subspace (§6) */
  PetscReal phi_a, phi_b;
  /* -design projection only (docs/model.md §2 "Projection design"): W = U K Uᵀ over U = [ξ⁰ … ξ^{P−1}, 1],
     W 1 = λ 1, and the condition number of G = UᵀU (2-norm, from its eigenvalues). 0 otherwise. */
  PetscReal lambda, gram_cond;
  PetscReal weight_norm; /* projection: ‖W‖₂ = ‖G^{1/2} K G^{1/2}‖₂ (the -integrator auto bound); 0 otherwise */
} RmDesign;

PETSC_EXTERN PetscErrorCode RmSynapsesCreate(MPI_Comm comm, RmSynapses *syn);
/* Not collective. Add a storage: create(syn) fills the ops table of src/synapses/synapsesimpl.h and
   syn->data. Call after PetscInitialize, before the storage is chosen by name. */
PETSC_EXTERN PetscErrorCode RmSynapsesRegister(const char name[], PetscErrorCode (*create)(RmSynapses));
/* Not collective; idempotent (RmSynapsesCreate calls it): registers the built-in storages. */
PETSC_EXTERN PetscErrorCode RmSynapsesRegisterAll(void);
/* Collective. The storage (default dense); before RmSynapsesSetUp. Called after SetFromOptions it
   overrides -storage (the new storage's own options are then its defaults). An unknown name is an
   error listing the registered ones. */
PETSC_EXTERN PetscErrorCode RmSynapsesSetType(RmSynapses syn, RmStorageType type);
/* Not collective. The storage's registered name (owned by syn). */
PETSC_EXTERN PetscErrorCode RmSynapsesGetType(RmSynapses syn, RmStorageType *type);
PETSC_EXTERN PetscErrorCode RmSynapsesSetFromOptions(RmSynapses syn);
/* Not collective. Prefix of the options RmSynapsesSetFromOptions reads (-PREFIXstorage, ...). */
PETSC_EXTERN PetscErrorCode RmSynapsesSetOptionsPrefix(RmSynapses syn, const char prefix[]);
/* Not collective. Setters for apps that do not go through the options database; each must be called
   before RmSynapsesSetUp, and called after RmSynapsesSetFromOptions it overrides the option (-design;
   -a and -b; -balance, r = q when never set; -indegree, 0 = fully connected). They store the value:
   RmSynapsesSetUp checks the combination (a < b, r in [0,1), K only for a diluted storage) with the
   same one-line errors as the options. */
PETSC_EXTERN PetscErrorCode RmSynapsesSetDesignType(RmSynapses syn, RmDesignType type);
PETSC_EXTERN PetscErrorCode RmSynapsesSetCurrents(RmSynapses syn, PetscReal a, PetscReal b);
PETSC_EXTERN PetscErrorCode RmSynapsesSetBalance(RmSynapses syn, PetscReal r);
/* Not collective. -balance auto: at SetUp, r = the mean pairwise overlap ratio of the memories
   (RmMemoriesComputeOverlapRatios, docs/model.md §2 "-balance auto"); -design paper only. A later
   RmSynapsesSetBalance replaces it. */
PETSC_EXTERN PetscErrorCode RmSynapsesSetBalanceAuto(RmSynapses syn);
/* Not collective. After SetUp: whether the overlap ratios were measured (-balance auto) and their spread. */
PETSC_EXTERN PetscErrorCode RmSynapsesGetOverlapRatios(RmSynapses syn, PetscBool *measured, RmOverlapRatios *ratios);
/* The crosstalk bound of -balance auto (docs/model.md §2): max_μ dev_μ/(1 − r), the root-sum-square error
   of memory μ's currents in units of b − a; above RM_BALANCE_CROSSTALK_WARN SetUp warns on stderr. */
#define RM_BALANCE_CROSSTALK_WARN 0.5
PETSC_EXTERN PetscErrorCode RmSynapsesSetIndegree(RmSynapses syn, PetscInt K);
/* Not collective. -design projection: refuse G = UᵀU with a condition number above maxcond
   (-projection_max_cond, default 1e8); λ of W 1 = λ 1 (-projection_lambda; default: γ of the basic
   paper design, see docs/model.md §2). */
PETSC_EXTERN PetscErrorCode RmSynapsesSetProjection(RmSynapses syn, PetscReal maxcond, PetscBool lambda_set, PetscReal lambda);
/* Collective. Computes the design coefficients for activation act and assembles W. */
PETSC_EXTERN PetscErrorCode RmSynapsesSetUp(RmSynapses syn, RmMemories mem, const RmActivation *act);
PETSC_EXTERN PetscErrorCode RmSynapsesView(RmSynapses syn, PetscViewer viewer);
PETSC_EXTERN PetscErrorCode RmSynapsesDestroy(RmSynapses *syn);

PETSC_EXTERN PetscErrorCode RmSynapsesGetDesignType(RmSynapses syn, RmDesignType *type);
PETSC_EXTERN PetscErrorCode RmSynapsesGetIndegree(RmSynapses syn, PetscInt *K);
PETSC_EXTERN PetscErrorCode RmSynapsesGetDesign(RmSynapses syn, RmDesign *design);
/* Not collective. The kernel that applies W: matdense-blas, mataij, table/avx2/portable (lowrank), avx2/portable (compressed); "none" before set-up. */
/* Not collective. Whether the storage applies W through the memories' factors (lowrank): W is never
   formed, the bits are its only copy of the weights, and its Mat has a fused product and update
   (RmSynapsesMatMultUpdate). Known from the type, before assembly. */
PETSC_EXTERN PetscErrorCode RmSynapsesIsFactored(RmSynapses syn, PetscBool *factored);
PETSC_EXTERN PetscErrorCode RmSynapsesGetKernelName(RmSynapses syn, const char **name);
/* Not collective. Borrow the weight matrix. A lowrank W reads the memories' packed storage: keep
   the RmMemories alive while W is used. */
PETSC_EXTERN PetscErrorCode RmSynapsesGetMat(RmSynapses syn, Mat *W);
PETSC_EXTERN PetscErrorCode RmSynapsesRestoreMat(RmSynapses syn, Mat *W);
/* How a design's memories are encoded: {0,1} (paper) or ±1 (hebbian). (Which model it drives:
   RmDesignTypeGetModel, include/ratemem/dynamics.h.) */
PETSC_EXTERN PetscErrorCode RmDesignTypeGetEncoding(RmDesignType type, RmEncoding *enc);

/* A lowrank W (-storage lowrank) in factored form: W = s Σ_μ (κ b^μ − β'1)(κ b^μ − β'1)ᵀ + g 11ᵀ − d I
   over the factors b^μ, with (s, κ, β', g, d) = (α/N, 1, β, γ/N, 0) for the paper design and
   (1/N, 2, 1, 0, P/N) for the Hebbian one. For the projection design W = U K Uᵀ with
   U = [b⁰ … b^{P−1}, 1] and K (P+1)×(P+1) row-major (borrowed from W); s, κ, β', g, d are then 0. */
typedef struct {
  RmDesignType     design;
  PetscReal        s, kappa, betap, g, d;
  const PetscReal *K;
} RmLowRankForm;
/* Not collective. The factors (borrowed from W) and form of a lowrank W; *f = NULL for any other Mat. */
PETSC_EXTERN PetscErrorCode RmSynapsesMatGetFactors(Mat W, RmFactors *f, RmLowRankForm *form);
/* Collective. Input-driven synapses (docs/model.md §7) on a Hebbian lowrank W: with u != NULL,
   w_μ = α_μ(u) = ξ^μᵀu/N (one MPI_Allreduce of P+1 numbers) and W(u) = (1/N) Ξ diag(α) Ξᵀ with zero
   diagonal; u == NULL restores W. *P is the number of memories, *alpha (may be NULL) the weights,
   owned by W (NULL after u == NULL). Any other W: an error naming -design hebbian -storage lowrank. */
/* Collective. Whether W has a fused product and update (lowrank storage, every design). */
PETSC_EXTERN PetscErrorCode RmSynapsesMatHasMultUpdate(Mat W, PetscBool *has);
/* Collective. v <- fn(v, W v) in one pass over W's factors, block by block: fn sees (W v) of the v on
   entry and may change the block of v it is given (include/ratemem/factors.h, RmFactorsBlockFn).
   Counted as one weight product by the caller. */
PETSC_EXTERN PetscErrorCode RmSynapsesMatMultUpdate(Mat W, Vec v, RmFactorsBlockFn fn, void *ctx);
PETSC_EXTERN PetscErrorCode RmSynapsesMatSetInput(Mat W, Vec u, PetscInt *P, const PetscReal **alpha);
/* Compute the §2 coefficients (pure function; used by RmSynapsesSetUp and tests). */
PETSC_EXTERN PetscErrorCode RmDesignCompute(MPI_Comm comm, RmDesignType type, const RmActivation *act, RmDesign *design);
