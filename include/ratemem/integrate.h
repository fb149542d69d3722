/* ratemem: integration of the dynamics to an equilibrium (model.md §3) -- CVODE BDF with
   Newton-Krylov (SPGMR, analytic J·v), CVODE Adams, and a fixed-step explicit Euler baseline. */
#pragma once
#include <ratemem/dynamics.h>

typedef struct _p_RmIntegrator *RmIntegrator;

typedef enum { RM_INTEGRATOR_BDF, RM_INTEGRATOR_ADAMS, RM_INTEGRATOR_EULER } RmIntegratorType;
extern const char *const RmIntegratorTypes[];

/* What one integration did. Counts are CVODE's own plus our convergence checks. */
typedef struct {
  PetscBool  converged; /* ‖f(x)‖∞ < converge_tol before t_final */
  PetscReal  t_end, residual, wall_time;
  PetscInt64 weight_products; /* passes over W (one per RHS, J·v or J set-up needing a product) */
  PetscInt64 prec_setups, prec_solves;
  PetscInt64 steps, rhs_evals, jtimes_evals, jac_setups, nonlin_iters, lin_iters, err_test_fails, nonlin_conv_fails, lin_conv_fails;
} RmIntegratorStats;

/* Called every -monitor_every steps when -monitor is set. */
typedef PetscErrorCode (*RmIntegratorMonitorFn)(void *ctx, PetscReal t, PetscInt64 steps, Vec x);

PETSC_EXTERN PetscErrorCode RmIntegratorCreate(MPI_Comm comm, RmIntegrator *integ);
PETSC_EXTERN PetscErrorCode RmIntegratorSetFromOptions(RmIntegrator integ);
PETSC_EXTERN PetscErrorCode RmIntegratorSetModel(RmIntegrator integ, RmModel model);
PETSC_EXTERN PetscErrorCode RmIntegratorSetType(RmIntegrator integ, RmIntegratorType type);
PETSC_EXTERN PetscErrorCode RmIntegratorSetMonitor(RmIntegrator integ, RmIntegratorMonitorFn fn, void *ctx);
PETSC_EXTERN PetscErrorCode RmIntegratorSetUp(RmIntegrator integ);
/* Collective. Integrates from x (initial state) at t = 0; on return x holds the final state. */
PETSC_EXTERN PetscErrorCode RmIntegratorSolve(RmIntegrator integ, Vec x, RmIntegratorStats *stats);
PETSC_EXTERN PetscErrorCode RmIntegratorView(RmIntegrator integ, PetscViewer viewer);
PETSC_EXTERN PetscErrorCode RmIntegratorDestroy(RmIntegrator *integ);

PETSC_EXTERN PetscErrorCode RmIntegratorGetType(RmIntegrator integ, RmIntegratorType *type);
PETSC_EXTERN PetscErrorCode RmIntegratorGetTolerances(RmIntegrator integ, PetscReal *rtol, PetscReal *atol);
PETSC_EXTERN PetscErrorCode RmIntegratorGetSettings(RmIntegrator integ, PetscReal *t_final, PetscReal *converge_tol, PetscReal *euler_dt);
PETSC_EXTERN PetscErrorCode RmIntegratorGetMonitor(RmIntegrator integ, PetscBool *monitor);
