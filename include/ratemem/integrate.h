/* ratemem: integration of the dynamics to an equilibrium (docs/model.md §3). The methods are a registry
   (RmIntegratorRegister): CVODE BDF with Newton-Krylov (SPGMR, analytic J·v), CVODE Adams, explicit
   Euler with a fixed step, Euler–Maruyama, and adaptive explicit Runge–Kutta (ARKODE ARKStep). */
#pragma once
#include <ratemem/dynamics.h>

typedef struct _p_RmIntegrator *RmIntegrator;

/* The name of a method (-integrator NAME). */
typedef const char *RmIntegratorType;
#define RMINTEGRATORBDF   "bdf"   /* CVODE BDF, Newton-Krylov (SPGMR) with analytic J·v */
#define RMINTEGRATORADAMS "adams" /* CVODE Adams, fixed-point iteration */
#define RMINTEGRATOREULER "euler" /* explicit Euler, fixed step -euler_dt */
#define RMINTEGRATOREM    "em"    /* Euler–Maruyama for dy = f(y) dt + σ dW (docs/model.md §7, -noise σ); σ = 0 is euler, step for step */
#define RMINTEGRATORERK   "erk"   /* adaptive explicit Runge–Kutta (ARKODE ARKStep, -erk_table) */
#define RMINTEGRATORAUTO  "auto"  /* erk when the model is not stiff, else bdf: resolved by RmIntegratorSetUp (src/integrate/auto.c) */

/* What one integration did. Counts are CVODE's own plus our convergence checks. */
typedef struct {
  PetscBool  converged; /* ‖f(x)‖∞ < converge_tol before t_final */
  PetscReal  t_end, residual, wall_time;
  PetscInt64 weight_products; /* passes over W (one per RHS, J·v or J set-up needing a product) */
  PetscInt64 prec_setups, prec_solves;
  PetscInt64 steps, rhs_evals, jtimes_evals, jac_setups, nonlin_iters, lin_iters, err_test_fails, nonlin_conv_fails, lin_conv_fails;
  PetscBool  stopped; /* a step hook stopped the solve (checkpoint): x holds the state at t_end, not an equilibrium */
} RmIntegratorStats;

/* Called every -monitor_every steps when -monitor is set. */
typedef PetscErrorCode (*RmIntegratorMonitorFn)(void *ctx, PetscReal t, PetscInt64 steps, Vec x);

PETSC_EXTERN PetscErrorCode RmIntegratorCreate(MPI_Comm comm, RmIntegrator *integ);
PETSC_EXTERN PetscErrorCode RmIntegratorSetFromOptions(RmIntegrator integ);
/* Not collective. Prefix of the options RmIntegratorSetFromOptions and the methods read (-PREFIXrtol, ...). */
PETSC_EXTERN PetscErrorCode RmIntegratorSetOptionsPrefix(RmIntegrator integ, const char prefix[]);
PETSC_EXTERN PetscErrorCode RmIntegratorSetModel(RmIntegrator integ, RmModel model);
/* Not collective. Selects the method by name; an unknown name is an error listing the registered ones.
   Before RmIntegratorSetUp; a type's own options are read by the RmIntegratorSetFromOptions after it. */
PETSC_EXTERN PetscErrorCode RmIntegratorSetType(RmIntegrator integ, RmIntegratorType type);
/* Not collective. Adds a method: create fills the ops table and data of an integrator of that type
   (src/integrate/integrateimpl.h). RmIntegratorRegisterAll() registers the built-in ones. */
PETSC_EXTERN PetscErrorCode RmIntegratorRegister(const char name[], PetscErrorCode (*create)(RmIntegrator));
PETSC_EXTERN PetscErrorCode RmIntegratorRegisterAll(void);
PETSC_EXTERN PetscErrorCode RmIntegratorSetMonitor(RmIntegrator integ, RmIntegratorMonitorFn fn, void *ctx);
PETSC_EXTERN PetscErrorCode RmIntegratorSetUp(RmIntegrator integ);
/* Collective. Integrates from x (initial state) at t = 0; on return x holds the final state. */
PETSC_EXTERN PetscErrorCode RmIntegratorSolve(RmIntegrator integ, Vec x, RmIntegratorStats *stats);
PETSC_EXTERN PetscErrorCode RmIntegratorView(RmIntegrator integ, PetscViewer viewer);
PETSC_EXTERN PetscErrorCode RmIntegratorDestroy(RmIntegrator *integ);

/* Not collective. Final time of the next solves (overrides -t_final). */
PETSC_EXTERN PetscErrorCode RmIntegratorSetFinalTime(RmIntegrator integ, PetscReal t_final);
/* Not collective. Noise σ and seed of the em integrator (-noise, -noise_seed). */
PETSC_EXTERN PetscErrorCode RmIntegratorSetNoise(RmIntegrator integ, PetscReal sigma, PetscInt64 seed);
PETSC_EXTERN PetscErrorCode RmIntegratorGetNoise(RmIntegrator integ, PetscReal *sigma, PetscInt64 *seed);
/* Not collective. The em integrator keys its increments by a global step counter that runs on across
   solves (so consecutive presentations of a schedule draw fresh noise); this sets/gets it. */
PETSC_EXTERN PetscErrorCode RmIntegratorSetNoiseStep(RmIntegrator integ, PetscInt64 step);
PETSC_EXTERN PetscErrorCode RmIntegratorGetNoiseStep(RmIntegrator integ, PetscInt64 *step);
/* Not collective. fn is called after every step (any -monitor aside) and at the end of a solve. */
PETSC_EXTERN PetscErrorCode RmIntegratorSetStepCallback(RmIntegrator integ, RmIntegratorMonitorFn fn, void *ctx);
/* Not collective. One Euler–Maruyama update of the local block y[0..nloc) (global indices rstart..):
   y += h f + σ √h z_i, z_i = N(0,1) keyed by (seed, RM_STREAM_NOISE, step, rstart + i): the same
   path on any number of ranks. (The em integrator with σ = 0 calls VecAXPY, the euler step itself.) */
PETSC_EXTERN void RmEulerMaruyamaStep(PetscInt nloc, PetscInt rstart, PetscScalar *y, const PetscScalar *f, PetscReal h, PetscReal sigma, uint64_t seed,
                                      uint64_t step);

/* Checkpoint and restart (src/io/checkpoint.c). A step hook is called at every step boundary of a
   solve (after the step and any -monitor, only when the solve goes on), on every rank with the same
   arguments, so it may communicate; setting *stop ends the solve there with stats.stopped set and x the
   state at t = stats.t_end. */
typedef PetscErrorCode (*RmIntegratorStepHookFn)(void *ctx, PetscReal t, PetscInt64 steps, Vec x, PetscBool *stop);
/* Not collective. Install (fn = NULL: remove) the step hook. */
PETSC_EXTERN PetscErrorCode RmIntegratorSetStepHook(RmIntegrator integ, RmIntegratorStepHookFn fn, void *ctx);
/* Not collective; only inside a step hook. The counts of the running solve so far, continued ones
   included, as RmIntegratorSolve would return them if it stopped here (t_end = t of the step). */
PETSC_EXTERN PetscErrorCode RmIntegratorGetProgress(RmIntegrator integ, RmIntegratorStats *stats);
/* Not collective. The next RmIntegratorSolve continues an interrupted one: it starts at time t from the
   x it is given (the state saved at t) and adds the counts of prior (steps, RHS, ..., wall time) to its
   own. CVODE and ARKODE (erk) are re-initialised at t (a fresh history: the path agrees within the
   tolerances); euler and em continue their step count and time exactly (the em noise key is the
   global noise step, RmIntegratorSetNoiseStep), so their path is the uninterrupted one bit for bit. */
PETSC_EXTERN PetscErrorCode RmIntegratorSetResume(RmIntegrator integ, PetscReal t, const RmIntegratorStats *prior);

/* Not collective. The scale of W for -integrator auto: an estimate of ‖W‖ on the states the dynamics
   visit (docs/model.md §2: max(α', |γ|) for the paper design, 1 for the Hebbian one); 0: not known,
   auto then picks bdf. Before RmIntegratorSetUp. */
PETSC_EXTERN PetscErrorCode RmIntegratorSetWeightScale(RmIntegrator integ, PetscReal scale);
/* Not collective. Whether the method was chosen by -integrator auto (after RmIntegratorSetUp; the
   type is then the chosen one), and why (may be NULL). */
PETSC_EXTERN PetscErrorCode RmIntegratorGetAuto(RmIntegrator integ, PetscBool *chosen, const char **reason);
/* Not collective. The method's name (owned by the integrator; after an auto set-up the chosen one). */
PETSC_EXTERN PetscErrorCode RmIntegratorGetType(RmIntegrator integ, RmIntegratorType *type);
/* Not collective; after SetFromOptions. The state-sized vectors the method will keep (for the memory
   estimate): an upper bound where the set-up still chooses (auto: bdf's; bdf with -cvode_ls auto: SPGMR's). */
PETSC_EXTERN PetscErrorCode RmIntegratorGetStateVectorCount(RmIntegrator integ, PetscInt *count);
/* Not collective. Whether the method is explicit with the fixed step -euler_dt (euler, em). */
PETSC_EXTERN PetscErrorCode RmIntegratorIsFixedStep(RmIntegrator integ, PetscBool *fixed);
/* Not collective. Whether the method steps through RmModelEulerStep (euler, unless -euler_fuse false):
   fused, with no vector but the caller's, where the model can (RmModelHasFusedEulerStep). */
PETSC_EXTERN PetscErrorCode RmIntegratorUsesEulerStep(RmIntegrator integ, PetscBool *fuse);
PETSC_EXTERN PetscErrorCode RmIntegratorGetTolerances(RmIntegrator integ, PetscReal *rtol, PetscReal *atol);
PETSC_EXTERN PetscErrorCode RmIntegratorGetSettings(RmIntegrator integ, PetscReal *t_final, PetscReal *converge_tol, PetscReal *euler_dt);
PETSC_EXTERN PetscErrorCode RmIntegratorGetMonitor(RmIntegrator integ, PetscBool *monitor);
