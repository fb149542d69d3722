/* ratemem: stability of equilibria (docs/model.md §6) -- the rightmost eigenvalues of the Jacobian at a
   stored memory's equilibrium (SLEPc, matrix-free, distributed), the spectral abscissa, and the
   sufficient conditions of [FR] for stability and for instability. */
#pragma once
#include <ratemem/classify.h>
#include <ratemem/integrate.h>
#include <ratemem/synapses.h>

typedef struct _p_RmStability *RmStability;

/* Which operator the eigensolver sees at an equilibrium x.
   - jacobian:  J = RmModelJacobianMult at x, non-symmetric (EPS_NHEP); works for every model kind.
   - symmetric: (-I + D^{1/2} W D^{1/2})/tau, similar to J when W is symmetric and D = phi' >= 0
                (rate and voltage models), Hermitian (EPS_HEP); applied through RmModelJacobianMult
                and a diagonal similarity, so J itself still comes from the model.
   - auto:      symmetric where it applies (rate or voltage model, paper or hebbian design), else jacobian. */
typedef enum { RM_STABILITY_OPERATOR_AUTO, RM_STABILITY_OPERATOR_SYMMETRIC, RM_STABILITY_OPERATOR_JACOBIAN } RmStabilityOperator;
extern const char *const RmStabilityOperators[];

/* How the equilibrium of memory mu is found from x^mu = phi_a 1 + (phi_b - phi_a) xi^mu:
   integrate (RmIntegrator to convergence, then Newton polish if still above the tolerance),
   newton (matrix-free Newton-GMRES on f(x) = 0 from x^mu; finds unstable equilibria too), none. */
typedef enum { RM_STABILITY_REFINE_INTEGRATE, RM_STABILITY_REFINE_NEWTON, RM_STABILITY_REFINE_NONE } RmStabilityRefine;
extern const char *const RmStabilityRefines[];

/* The sufficient conditions of docs/model.md §6 for the paper design (rate model), with the basic
   design's alpha' = (b-a)/(phi_b-phi_a) and eta = max(phi'(a), phi'(b)):
     stability:      eta * max(alpha', gamma) < 1
     instability 1:  q (gamma - alpha')(phi'(b) - phi'(a)) - (1 - phi'(b) alpha')(1 - phi'(a) gamma) > 0
     instability 2:  q phi'(b) ((1-q) alpha' + q gamma) - 1 > 0
   The paper's global asymptotic stability condition is not implemented (see docs/stability.md). */
typedef struct {
  PetscBool applicable; /* PETSC_FALSE for the hebbian design / voltage model */
  PetscReal dphi_a, dphi_b, eta, alpha_basic, gamma, coding;
  PetscReal stability;      /* eta max(alpha', gamma) */
  PetscReal instability[2]; /* the two instability values */
  PetscBool stability_holds, instability_holds[2], any_instability_holds;
} RmStabilityConditions;

/* Where an equilibrium search ended. */
typedef struct {
  PetscReal  residual_initial; /* ||f(x^mu)||_inf */
  PetscReal  residual;         /* ||f(x)||_inf at the returned state */
  PetscReal  drift;            /* ||x - x^mu||_inf */
  PetscReal  overlap;          /* normalised overlap of the readout with memory mu (NaN without a classifier) */
  PetscInt   nearest;          /* memory of largest overlap (-1 without a classifier) */
  PetscBool  converged;        /* residual < equilibrium tolerance, or the integrator converged */
  PetscBool  at_memory;        /* nearest == mu and overlap >= the classifier's threshold */
  PetscInt64 steps, rhs_evals; /* integration work */
  PetscInt   newton_its;
} RmEquilibriumInfo;

/* The rightmost part of the spectrum of J at one equilibrium. */
typedef struct {
  PetscReal abscissa;         /* max Re(lambda) over the converged eigenvalues (SLEPc) */
  PetscReal max_imag;         /* max |Im(lambda)| over them (0 for the symmetric operator) */
  PetscBool stable;           /* abscissa < 0 */
  PetscInt  nconv, its;       /* converged eigenpairs, solver iterations */
  PetscInt64 matvecs;         /* operator applications in this solve */
  PetscReal lowrank_abscissa; /* cross-check from the (P+1)x(P+1) problem of the low-rank W (NaN where it does not apply) */
  PetscInt  fallback;         /* 0: the configured solver; 1: it failed (e.g. LAPACK trexc on a defective, clustered spectrum)
                                 and a dense LAPACK solve (n <= -stability_dense_max) gave the spectrum; 2: a restarted
                                 Krylov-Schur with another initial vector did */
} RmSpectrum;

/* Not collective. Create the object; SLEPc is initialised here if it was not. */
PETSC_EXTERN PetscErrorCode RmStabilityCreate(MPI_Comm comm, RmStability *stab);
/* Collective. -stability_operator, -stability_nev, -stability_tol, -stability_max_it, -stability_refine,
   -stability_equilibrium_tol, -stability_newton_its; the eigensolver also reads -stability_eps_* options. */
PETSC_EXTERN PetscErrorCode RmStabilitySetFromOptions(RmStability stab);
/* Not collective. Borrowed references (the caller keeps them alive); resets the set-up. The
   integrator (refine integrate) and the classifier (overlap, at_memory) are optional (NULL). */
PETSC_EXTERN PetscErrorCode RmStabilitySetNetwork(RmStability stab, RmMemories mem, RmSynapses syn, RmModel model);
PETSC_EXTERN PetscErrorCode RmStabilitySetIntegrator(RmStability stab, RmIntegrator integ);
PETSC_EXTERN PetscErrorCode RmStabilitySetClassifier(RmStability stab, RmClassifier cl);
/* Collective. Resolves the operator, creates the shells and work vectors; idempotent. */
PETSC_EXTERN PetscErrorCode RmStabilitySetUp(RmStability stab);
/* Collective. SetNetwork, SetIntegrator, SetClassifier and SetUp in one call, on objects already set up. */
PETSC_EXTERN PetscErrorCode RmStabilitySetUpNetwork(RmStability stab, RmMemories mem, RmSynapses syn, RmModel model, RmIntegrator integ, RmClassifier cl);
PETSC_EXTERN PetscErrorCode RmStabilityView(RmStability stab, PetscViewer viewer);
PETSC_EXTERN PetscErrorCode RmStabilityDestroy(RmStability *stab);

PETSC_EXTERN PetscErrorCode RmStabilityGetOperatorType(RmStability stab, RmStabilityOperator *op);
PETSC_EXTERN PetscErrorCode RmStabilityGetRefineType(RmStability stab, RmStabilityRefine *refine);
PETSC_EXTERN PetscErrorCode RmStabilityGetSettings(RmStability stab, PetscInt *nev, PetscReal *tol, PetscReal *equilibrium_tol);
/* Not collective. The eigensolver's type name (e.g. krylovschur). */
PETSC_EXTERN PetscErrorCode RmStabilityGetSolverType(RmStability stab, const char **type);

/* Not collective. The §6 conditions for a design and activation (pure function). */
PETSC_EXTERN PetscErrorCode RmStabilityConditionsCompute(RmDesignType type, const RmDesign *design, const RmActivation *act, RmStabilityConditions *cond);
/* Not collective. The same for the network set on stab. */
PETSC_EXTERN PetscErrorCode RmStabilityComputeConditions(RmStability stab, RmStabilityConditions *cond);

/* Collective. x = x^mu = phi_a 1 + (phi_b - phi_a) xi^mu (the +-1 memory for the hebbian design). */
PETSC_EXTERN PetscErrorCode RmStabilityMemoryState(RmStability stab, PetscInt mu, Vec x);
/* Collective. The equilibrium of memory mu (see RmStabilityRefine); x is a model state. */
PETSC_EXTERN PetscErrorCode RmStabilityComputeMemoryEquilibrium(RmStability stab, PetscInt mu, Vec x, RmEquilibriumInfo *info);
/* Collective. Newton polish of any state x to ||f(x)||_inf < the equilibrium tolerance. */
PETSC_EXTERN PetscErrorCode RmStabilityPolishEquilibrium(RmStability stab, Vec x, PetscReal *residual, PetscInt *its);
/* Collective. The rightmost eigenvalues of J at the equilibrium x, with SLEPc. */
PETSC_EXTERN PetscErrorCode RmStabilityComputeSpectrum(RmStability stab, Vec x, RmSpectrum *spec);
/* Not collective. The converged eigenvalues of the last solve (owned by stab), rightmost first. */
PETSC_EXTERN PetscErrorCode RmStabilityGetEigenvalues(RmStability stab, PetscInt *n, const PetscReal **re, const PetscReal **im);
/* Collective. A new MATSHELL of the operator at x (the one RmStabilityComputeSpectrum uses, or the
   plain Jacobian when jacobian is true); valid until the model is linearised elsewhere. Caller destroys. */
PETSC_EXTERN PetscErrorCode RmStabilityCreateOperator(RmStability stab, Vec x, PetscBool jacobian, Mat *A);

/* Not collective (rank 0 writes). The analysis in a JSON summary: the "eigensolver" object of the
   settings, the §6 conditions under key, and the members of one spectrum's object. */
PETSC_EXTERN PetscErrorCode RmStabilitySettingsJSON(RmStability stab, RmJSON *j);
PETSC_EXTERN PetscErrorCode RmStabilityConditionsJSON(RmJSON *j, const char *key, const RmStabilityConditions *c);
PETSC_EXTERN PetscErrorCode RmSpectrumJSON(RmJSON *j, const RmSpectrum *sp);

/* The reports of `ratemem stability` (stabilityreport.c). */
#define RM_STABILITY_MAX_EIG 16
/* One memory's equilibrium, its spectrum and its rightmost eigenvalues (real parts, rightmost first). */
typedef struct {
  RmEquilibriumInfo eq;
  RmSpectrum        sp;
  PetscInt          neig;
  PetscReal         eig[RM_STABILITY_MAX_EIG];
} RmMemoryStability;
/* Where a cue ended; analysed when that is not the cued memory (Newton-polished, spectrum computed). */
typedef struct {
  PetscInt          cue_memory, nearest, newton_its;
  RmLabel           label;
  PetscReal         overlap, residual_integrated, residual;
  PetscBool         analysed;
  RmIntegratorStats stats;
  RmSpectrum        sp;
} RmCueStability;
/* Collective. Equilibrium and spectrum of memories 0..P-1 (x: a model state, work), adding the wall
   time of each stage to *t_equilibria and *t_spectra. */
PETSC_EXTERN PetscErrorCode RmStabilityAnalyseMemories(RmStability stab, PetscInt P, Vec x, RmMemoryStability res[], double *t_equilibria, double *t_spectra);
/* Not collective (rank 0 writes). The §6 conditions, the "memories" array and the counts over them; the cues' object. */
PETSC_EXTERN PetscErrorCode RmStabilityMemoriesJSON(RmJSON *j, PetscInt P, const RmMemoryStability res[], const RmStabilityConditions *c);
PETSC_EXTERN PetscErrorCode RmStabilityCuesJSON(RmJSON *j, PetscInt cues, const RmCueStability res[], const char *cue_kind, PetscReal flip);
/* Collective. The tables on stdout: the set-up line (with the activation's gain and threshold when
   with_gain), the conditions and one row per memory, one row per analysed cue. */
PETSC_EXTERN PetscErrorCode RmStabilityPrintHeader(RmStability stab, RmMemories mem, RmSynapses syn, RmModel model, PetscBool with_gain);
PETSC_EXTERN PetscErrorCode RmStabilityPrintMemories(MPI_Comm comm, PetscInt P, const RmMemoryStability res[], const RmStabilityConditions *c);
PETSC_EXTERN PetscErrorCode RmStabilityPrintCues(MPI_Comm comm, PetscInt cues, const RmCueStability res[], const char *cue_kind, PetscReal flip);
