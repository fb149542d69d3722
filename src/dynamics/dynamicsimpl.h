/* Private structure of RmModel: the generic object (dynamics.c: the registry, the options common to
   every model, the dispatch) and the ops table a model kind fills in its create function (rate.c,
   hopfield.c, ei.c, inputrate.c; registered in modelregi.c). A new model kind is one such file plus
   one registration line. */
#pragma once
#include <ratemem/dynamics.h>
#include <ratemem/input.h>

typedef struct {
  /* inside the generic SetFromOptions' options block, after the generic options: the model's own options */
  PetscErrorCode (*setfromoptions)(PetscOptionItems *PetscOptionsObject, RmModel model);
  /* after that block: the model's checks and the settings derived from its options (errors allowed here) */
  PetscErrorCode (*check)(RmModel model);
  /* at RmModelSetUp, before the generic work vectors: sizes (model->mloc for extra state units), batch set-up */
  PetscErrorCode (*setup)(RmModel model);
  /* required: f = ẋ (inside the RHS event), the linearisation point x (f = f(x) when not NULL, else NULL;
     inside the Jacobian set-up event: fill model->dphi and model->diag), Jv = J v (inside its event) */
  PetscErrorCode (*rhs)(RmModel model, Vec x, Vec f);
  PetscErrorCode (*jacobiansetup)(RmModel model, Vec x, Vec f);
  PetscErrorCode (*jacobianmult)(RmModel model, Vec v, Vec Jv);
  /* NULL: the state is the neurons (nloc x B); otherwise the state <-> neuron maps (mloc extra units per column) */
  PetscErrorCode (*statefromneurons)(RmModel model, Vec xn, Vec x);
  PetscErrorCode (*neuronsfromstate)(RmModel model, Vec x, Vec xn);
  /* NULL: the neurons' part of the state is the output */
  PetscErrorCode (*readout)(RmModel model, Vec x, Vec r);
  /* one explicit Euler step y <- y + h f(y) fused into one pass over the weights, with ‖τ ⊙ f(y)‖∞ of
     the y on entry (not reduced over the ranks: the local maximum); called only where
     RmModelCanFuseEulerStep holds (batch 1, the storage's own product, a factored storage). NULL: never fused */
  PetscErrorCode (*eulerstep)(RmModel model, PetscReal h, Vec y, PetscReal *local_residual);
  /* NULL: τ ‖f‖∞ */
  PetscErrorCode (*residual)(RmModel model, Vec f, PetscReal *norm);
  /* the effective input u + input·1 changed (RmModelSetInputVector after set-up, or at set-up: at_setup);
     NULL: the model reads model->uvec and model->input directly */
  PetscErrorCode (*applyinput)(RmModel model, PetscBool at_setup);
  /* RmModelSetInputMemories (input.h); NULL: a no-op */
  PetscErrorCode (*setinputmemories)(RmModel model, RmMemories mem);
  /* RmModelGetInhibition; NULL: the model has no inhibitory pools (an error) */
  PetscErrorCode (*getinhibition)(RmModel model, PetscReal *tau_i, PetscInt *pool_size);
  PetscErrorCode (*view)(RmModel model, PetscViewer viewer); /* after the generic line (may be NULL) */
  PetscErrorCode (*destroy)(RmModel model);                  /* frees model->data (may be NULL) */
} RmModelOps;

struct _p_RmModel {
  MPI_Comm     comm;
  char        *prefix;
  char        *type_name;
  RmModelOps   ops;
  void        *data;          /* the model kind's */
  /* what the kind is, set by its create function (queried by the generic code and, through the
     public queries, by integrators, solvers and the stability analysis) */
  RmJacobianForm jacobian_form;
  RmEncoding   encoding;       /* the memories it works with ({0,1} or ±1): a -model_type must agree with the design's */
  PetscBool    rate_activation; /* takes the rate activations (sigmoid, rectanh), else the Hopfield tanh */
  const char  *default_activation;
  PetscReal    default_gain;
  PetscBool    vector_input;   /* accepts RmModelSetInputVector */
  PetscBool    multiplicative; /* accepts -input_mode multiplicative */
  PetscBool    products_through_W; /* its weight products go through W (else through its own operator) */
  /* the options of the last SetFromOptions that a kind may need to know were given */
  PetscBool    opt_activation, opt_threshold, opt_gain;

  PetscBool    setup_called;
  PetscBool    threshold_set; /* by -threshold or RmModelSetThreshold: a change of activation keeps it */
  RmActivation act;
  PetscReal    tau, input;
  Mat          W;
  PetscInt     batch;  /* B states integrated together: local block nloc x B, column-major */
  Mat          Xb, Yb; /* dense n x B wrappers for the block product W X (B > 1) */
  Vec          colx, coly; /* column views for storages without a block product */
  PetscBool    block_product;
  PetscInt64   products;   /* weight products (passes over W) so far */
  PetscInt     nloc, mloc; /* local neurons; local extra state units per column (E/I: pool units) */
  PetscBool    sized;  /* the kind's set-up ran: mloc is known */
  Vec          h;      /* work: W x + u, or φ(y) (made at first use, as the four below: RmModelWorkVectors_Private) */
  Vec          dphi;   /* φ' at the linearisation point */
  Vec          work;   /* work for J v */
  Vec          wdiag;  /* diag(W), one column */
  Vec          diag;   /* diagonal of J at the linearisation point (preconditioner) */
  /* Inputs (docs/model.md §7) */
  RmInputMode  input_mode;
  Vec          uvec;   /* vector input (one column), or NULL */
  const PetscReal *alpha; /* α_μ(u), multiplicative mode (owned by W or by the model kind) */
  PetscInt     P;      /* length of alpha */
  /* the weight product of the single-population kinds (rate.c): W x through the storage, or the kind's own operator */
  PetscErrorCode (*product)(RmModel model, Vec x, Vec y);
};

/* The registry (dynamics.c): RmModelRegisterAll (modelregi.c) frees it at PetscFinalize. */
PETSC_INTERN PetscErrorCode RmModelListDestroy_Private(void);

/* Shared by the single-population kinds (rate.c): */
/* W x for the whole batch, through the storage (one block product, or one product per column), counted and logged */
PETSC_INTERN PetscErrorCode RmModelWeightProduct_Private(RmModel model, Vec x, Vec y);
/* h and work, and with jacobian also dphi, diag and wdiag, where not made yet */
PETSC_INTERN PetscErrorCode RmModelWorkVectors_Private(RmModel model, PetscBool jacobian);
/* diag(W) into wdiag (once it exists), e.g. after the input changed W */
PETSC_INTERN PetscErrorCode RmModelWeightDiagonal_Private(RmModel model);
/* batch B > 1: the dense block wrappers for W X */
PETSC_INTERN PetscErrorCode RmModelSetUpBatch_Private(RmModel model);
/* diag(J) = (−1 + φ' diag(W))/τ into model->diag */
PETSC_INTERN PetscErrorCode RmModelSingleDiagonal_Private(RmModel model);
/* The rate model's RHS, Jacobian set-up and J v (D W form) through model->product: inputrate.c reuses them. */
PETSC_INTERN PetscErrorCode RmModelRHS_Rate(RmModel model, Vec x, Vec f);
PETSC_INTERN PetscErrorCode RmModelJacobianSetUp_Rate(RmModel model, Vec x, Vec f);
PETSC_INTERN PetscErrorCode RmModelJacobianMult_Rate(RmModel model, Vec v, Vec Jv);
PETSC_INTERN PetscErrorCode RmModelCreate_Rate(RmModel model);
/* The rate model's fused Euler step (ops.eulerstep): lowrank weights, batch 1, the storage's own product */
PETSC_INTERN PetscErrorCode RmModelEulerStep_Rate(RmModel model, PetscReal h, Vec y, PetscReal *local_residual);
/* r = φ(x), the readout of the voltage form (and of the §7 rate variant) */
PETSC_INTERN PetscErrorCode RmModelReadoutActivation_Private(RmModel model, Vec x, Vec r);
/* u + input·1 (one column) into a new vector */
PETSC_INTERN PetscErrorCode RmModelEffectiveInput_Private(RmModel model, Vec *u);

/* d[i] = φ'(s_i) from φ(s_i) = τ f[i] + x[i] (clamped to [0, 1]; §3: τ f = −x + φ), for an activation
   whose φ' is written through φ (RmActivationDerivativeFromValue). In blocks that stay in L1, so the
   table's array routine costs no second pass over memory. */
static inline void RmDerivativeFromRHS_Private(const RmActivation *act, PetscReal tau, PetscInt n, const PetscScalar *f, const PetscScalar *x, PetscScalar *d)
{
  for (PetscInt i0 = 0; i0 < n; i0 += 512) {
    const PetscInt i1 = PetscMin(n, i0 + 512);
    for (PetscInt i = i0; i < i1; i++) {
      const PetscReal p = tau * f[i] + x[i];
      d[i]              = PetscMin(PetscMax(p, 0.0), 1.0);
    }
    (void)RmActivationDerivativeFromValueArray(act, i1 - i0, d + i0, d + i0);
  }
}
