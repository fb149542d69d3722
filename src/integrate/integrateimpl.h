/* Private structure of RmIntegrator: the generic object (integrate.c) and the ops table an
   implementation fills in its create function (cvode.c: bdf, adams; euler.c; em.c; erk.c). */
#pragma once
#include <ratemem/integrate.h>
#include <sundials/sundials_nvector.h>

typedef struct {
  /* inside the generic SetFromOptions' options block, after the generic options */
  PetscErrorCode (*setfromoptions)(PetscOptionItems *PetscOptionsObject, RmIntegrator integ);
  /* after the generic set-up (integ->y, integ->f exist) */
  PetscErrorCode (*setup)(RmIntegrator integ);
  /* Integrates integ->y from t0 (an interrupted solve's time, else 0); step0: the steps before t0.
     Fills st (converged, residual, t_end, stopped and the counts); the generic Solve adds the weight
     products, the wall time and the prior counts. */
  PetscErrorCode (*solve)(RmIntegrator integ, PetscReal t0, PetscInt64 step0, RmIntegratorStats *st);
  /* Inside a step hook: st holds the running solve's counts kept by the generic code; add the
     implementation's own (NULL: the solve keeps st up to date itself). */
  PetscErrorCode (*getprogress)(RmIntegrator integ, RmIntegratorStats *st);
  /* After SetFromOptions, before set-up: the state-sized vectors the method keeps (history, stages,
     work, Krylov basis), an upper bound where the set-up still has a choice to make (NULL: 4, the
     fixed-step methods' few) */
  PetscErrorCode (*statevectors)(RmIntegrator integ, PetscInt *count);
  PetscErrorCode (*view)(RmIntegrator integ, PetscViewer viewer); /* after the generic line's fields */
  PetscErrorCode (*destroy)(RmIntegrator integ);                  /* frees integ->data */
} RmIntegratorOps;

struct _p_RmIntegrator {
  MPI_Comm              comm;
  char                 *type_name;
  char                 *prefix;
  RmIntegratorOps       ops;
  void                 *data;       /* the implementation's */
  PetscBool             fixed_step; /* an explicit fixed-step method: -euler_dt is its step (RmIntegratorIsFixedStep) */
  PetscBool             inplace;    /* the method integrates the caller's vector itself (integ->y is it during a solve, no copies); f made when first needed */
  PetscBool             euler_fuse; /* -euler_fuse: euler's fused step where the model and storage have one (RmModelEulerStep) */
  PetscBool             setup_called;
  RmModel               model;
  PetscReal             rtol, atol, t_final, converge_tol, euler_dt;
  PetscInt              max_steps, monitor_every;
  PetscBool             monitor;
  PetscBool             fused_ops;   /* -integrator_fused_ops: the N_Vector's fused and vector-array operations (CVODE, ARKODE) */
  PetscBool             fused_set;   /* -integrator_fused_ops was given (else: on for native, off for petsc) */
  PetscInt              nvector;     /* -integrator_nvector: 0 native, 1 petsc (NVECTOR_PETSC) */
  PetscViewer           vec_viewer;  /* -integrator_vec_view: the per-operation report at RmIntegratorDestroy */
  PetscViewerFormat     vec_format;
  PetscInt64            vec_steps;   /* steps since the last -integrator_vec_view report */
  PetscReal             weight_scale;    /* ‖W‖ estimate for auto (RmIntegratorSetWeightScale; 0: unknown) */
  PetscBool             auto_chosen;     /* the type was chosen by -integrator auto */
  char                  auto_reason[160];
  PetscInt              auto_vectors; /* -integrator auto: the larger candidate's state vectors (memory estimate) */
  RmIntegratorMonitorFn monitor_fn;
  void                 *monitor_ctx;
  RmIntegratorMonitorFn step_fn;
  void                 *step_ctx;
  PetscReal             sigma;                  /* noise (em; read by em's SetFromOptions, set by RmIntegratorSetNoise) */
  PetscInt64            noise_seed, noise_step; /* the increments' key: global step counter across solves */
  /* Checkpoint and restart (RmIntegratorSetStepHook, RmIntegratorSetResume) */
  RmIntegratorStepHookFn step_hook;
  void                  *step_hook_ctx;
  PetscBool              resume;    /* the next solve continues an interrupted one */
  PetscReal              t_start;   /* its start time */
  RmIntegratorStats      prior;     /* counts of the interrupted solve, added to the new ones */
  RmIntegratorStats     *current;   /* the running solve's own counts (NULL outside a solve) */
  PetscReal              t_now;     /* time of the last step boundary */
  double                 wall0;     /* wall clock at the start of the running solve */
  PetscInt64             products0; /* weight products at the start of the running solve */
  Vec                    y, f;      /* the state and a work vector of its layout (created by the generic set-up) */
};

/* A PETSc error raised inside a SUNDIALS callback. The callback cannot return it (SUNDIALS wants an int):
   it stores it here and returns -1, which stops the solver; the error is raised again, with the time
   and the failing callback named, after the solver returns (RmIntegratorCallbackRaise_Private). While
   the solver runs, RmIntegratorCallbackBegin_Private installs an error handler that records the
   first message instead of printing it, so the user sees one line with the context. */
typedef struct {
  PetscErrorCode code;
  const char    *what;          /* "RHS evaluation", "J·v product", ... */
  PetscReal      t;             /* the time the callback was called at (NAN: not known) */
  PetscBool      local;         /* raised on PETSC_COMM_SELF (one rank) */
  char           message[512];  /* its first message */
} RmCallbackError;

/* The registry (integrate.c): RmIntegratorRegisterAll (integrateregi.c) frees it at PetscFinalize. */
PETSC_INTERN PetscErrorCode RmIntegratorListDestroy_Private(void);

/* For the implementations (integrate.c). */
/* At a step boundary (last: the end of a solve): step callback, -monitor, and (not last) the step hook,
   which may set *stop. steps counts those of an interrupted solve too. */
PETSC_INTERN PetscErrorCode RmIntegratorStepBoundary_Private(RmIntegrator integ, PetscReal t, PetscInt64 steps, Vec x, PetscBool last, PetscBool *stop);
/* Error if steps has reached -cvode_max_steps. */
PETSC_INTERN PetscErrorCode RmIntegratorCheckStepBudget_Private(RmIntegrator integ, PetscInt64 steps, PetscReal t);
/* The convergence test after a step of a method with an interpolant: dky holds the interpolated
   dx/dt at the step's end (free); its residual ‖τ⊙dky‖∞ is stored in st->residual, and if it is below
   -converge_tol it is confirmed with one true RHS evaluation of integ->y (counted in st->rhs_evals). */
PETSC_INTERN PetscErrorCode RmIntegratorTestConvergence_Private(RmIntegrator integ, Vec dky, RmIntegratorStats *st, PetscBool *converged);
/* The residual at t_final with one true RHS evaluation (counted): st->residual and st->converged. */
PETSC_INTERN PetscErrorCode RmIntegratorFinalResidual_Private(RmIntegrator integ, RmIntegratorStats *st);
/* Around a call of the solver (CVode, ARKStepEvolve): record, not print, the errors of callbacks. */
PETSC_INTERN PetscErrorCode RmIntegratorCallbackBegin_Private(RmCallbackError *cb);
PETSC_INTERN PetscErrorCode RmIntegratorCallbackEnd_Private(RmCallbackError *cb);
/* In a callback at time t: keep ierr (if nonzero and the first) with what failed; returns the value for SUNDIALS (0 or -1). */
PETSC_INTERN int RmIntegratorCallbackStore_Private(RmCallbackError *cb, PetscErrorCode ierr, const char *what, PetscReal t);
/* After the solver failed at t_solver: raise the stored error, "<what> failed at t = ... (<method>): <message>"
   (the callback's time if known, else t_solver); no-op if none. */
PETSC_INTERN PetscErrorCode RmIntegratorCallbackRaise_Private(RmIntegrator integ, RmCallbackError *cb, PetscReal t_solver);
/* -integrator auto (auto.c): the choice for the integrator's model and why; the resolution (sets the type). */
PETSC_INTERN PetscErrorCode RmIntegratorAutoChoose_Private(RmIntegrator integ, RmIntegratorType *choice, PetscReal *radius, char *why, size_t len);
PETSC_INTERN PetscErrorCode RmIntegratorAutoResolve_Private(RmIntegrator integ);
/* The integrator's vector work (nvlog.c, nvector.c). CVODE and ARKODE see the state as an N_Vector:
   -integrator_nvector native (nvector.c: ratemem's own over the Vec's local array, every operation one
   pass, the fused and vector-array operations native) or petsc (SUNDIALS' NVECTOR_PETSC, its fused
   operations behind -integrator_fused_ops). Every operation of either is inside the event RmIntegVec
   and is counted per kind; -integrator_vec_view prints the counts and times (RmIntegratorVecView_Private). */
typedef enum {
  RM_NVOP_LINEARSUM,
  RM_NVOP_CONST,
  RM_NVOP_PROD,
  RM_NVOP_DIV,
  RM_NVOP_SCALE,
  RM_NVOP_ABS,
  RM_NVOP_INV,
  RM_NVOP_ADDCONST,
  RM_NVOP_DOTPROD,
  RM_NVOP_MAXNORM,
  RM_NVOP_WRMSNORM,
  RM_NVOP_WRMSNORMMASK,
  RM_NVOP_MIN,
  RM_NVOP_WL2NORM,
  RM_NVOP_L1NORM,
  RM_NVOP_COMPARE,
  RM_NVOP_INVTEST,
  RM_NVOP_CONSTRMASK,
  RM_NVOP_MINQUOTIENT,
  RM_NVOP_LINEARCOMBINATION,
  RM_NVOP_SCALEADDMULTI,
  RM_NVOP_DOTPRODMULTI,
  RM_NVOP_LINEARSUMVECTORARRAY,
  RM_NVOP_SCALEVECTORARRAY,
  RM_NVOP_CONSTVECTORARRAY,
  RM_NVOP_WRMSNORMVECTORARRAY,
  RM_NVOP_WRMSNORMMASKVECTORARRAY,
  RM_NVOP_SCALEADDMULTIVECTORARRAY,
  RM_NVOP_LINEARCOMBINATIONVECTORARRAY,
  RM_NVOP_DOTPRODLOCAL,
  RM_NVOP_MAXNORMLOCAL,
  RM_NVOP_MINLOCAL,
  RM_NVOP_L1NORMLOCAL,
  RM_NVOP_INVTESTLOCAL,
  RM_NVOP_CONSTRMASKLOCAL,
  RM_NVOP_MINQUOTIENTLOCAL,
  RM_NVOP_WSQRSUMLOCAL,
  RM_NVOP_WSQRSUMMASKLOCAL,
  RM_NVOP_DOTPRODMULTILOCAL,
  RM_NVOP_DOTPRODMULTIALLREDUCE,
  RM_NVOP_EWT,  /* CVODE's error weights, our one-pass EwtCallback (cvode.c) */
  RM_NVOP_PASS, /* native: one pass of the deferred elementwise operations (nvector.c) */
  RM_NVOP_COUNT
} RmNVOp;
/* Around one vector operation: the event RmIntegVec; on End, the operation's count and its number of
   vector operands (an array of k vectors counts k), and with -integrator_vec_view its time. Never nested. */
PETSC_INTERN void RmNVLogBegin_Private(void);
PETSC_INTERN void RmNVLogEnd_Private(RmNVOp op, int operands);
/* Each integrator with -integrator_vec_view pushes at its set-up and pops at its destruction: while any
   is alive the operations are timed one by one. */
PETSC_INTERN void RmNVLogTimingPush_Private(void);
PETSC_INTERN void RmNVLogTimingPop_Private(void);
PETSC_INTERN PetscBool RmNVLogTiming_Private(void);
/* Collective. Prints the counts and times since the last report (times: the maximum over ranks) with
   the steps integ took meanwhile, then zeroes them. */
PETSC_INTERN PetscErrorCode RmIntegratorVecView_Private(RmIntegrator integ, PetscViewer viewer);
/* For CVODE and ARKODE: an N_Vector over the state Vec v (integ->y, integ->f) of the kind chosen by
   -integrator_nvector, with the fused operations set by -integrator_fused_ops; the solvers' clones
   copy its ops table (so they are of the same kind and logged the same way). *nv is NULL on failure. */
PETSC_INTERN PetscErrorCode RmIntegratorNVectorCreate_Private(RmIntegrator integ, Vec v, SUNContext sunctx, N_Vector *nv);
/* The PETSc Vec of an N_Vector of either kind (native: a Vec over the same memory); not collective. */
PETSC_INTERN Vec RmNVectorGetVec_Private(N_Vector v);
/* nvector.c: the native N_Vector over v's local array (borrowed until N_VDestroy); fused: enable the
   fused and vector-array operations. */
PETSC_INTERN PetscErrorCode RmNVectorCreateNative_Private(Vec v, SUNContext sunctx, PetscBool fused, N_Vector *nv);
PETSC_INTERN PetscBool      RmNVectorIsNative_Private(N_Vector v);
/* The native vector defers its elementwise operations (nvector.c): this runs them. Not collective; call
   it after every SUNDIALS call that may operate on vectors, before our code reads integ->y or integ->f. */
PETSC_INTERN void RmNVectorFlush_Private(void);
/* nvlog.c: NVECTOR_PETSC's fused operations on or off and every operation of its table logged. */
PETSC_INTERN PetscErrorCode RmNVectorSetUpPetsc_Private(MPI_Comm comm, N_Vector v, PetscBool fused);
/* The fixed-step loop of euler and em: y += h f(y) by update (h = -euler_dt, the last step cut at t_final);
   stochastic: never stop at "convergence" (the path is noisy), run to t_final. */
PETSC_INTERN PetscErrorCode RmIntegratorSolveFixedStep_Private(RmIntegrator integ, PetscErrorCode (*update)(RmIntegrator, PetscReal), PetscBool stochastic,
                                                               PetscReal t0, PetscInt64 step0, RmIntegratorStats *st);
/* The low-rank Newton solver as CVODE's linear solver (woodbury.c, -cvode_ls woodbury): a SUNLinearSolver
   over a new RmWoodbury *wb of the model (which must be set up; *wb is owned by *S) whose set-up calls the
   preconditioner set-up given to CVODE (which must refactor *wb) and whose solve is exact; cb receives
   its errors. */
#include <sundials/sundials_linearsolver.h>
typedef struct _p_RmWoodbury *RmWoodbury;
PETSC_INTERN PetscErrorCode RmWoodburyLinSolCreate_Private(RmModel model, void *cvode, RmCallbackError *cb, SUNContext sunctx, SUNLinearSolver *S, RmWoodbury *wb);
