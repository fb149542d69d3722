/* ratemem: dynamics (docs/model.md §3) -- right-hand side f(x), its Jacobian-vector product, readout. */
#pragma once
#include <petscmat.h>
#include <ratemem/sys.h>

/* Activations φ (docs/model.md §3), one table: RmActivationFunctions[] (src/dynamics/activation.c)
   holds, per function, its name, value, value on a whole array, derivative and derivative written
   through the value. An activation is chosen by name (RmActivationFind); an unknown name is an error. */
#define RMACTIVATIONSIGMOID "sigmoid" /* 1/(1+exp(-4ρ(s - x* - 1/(2ρ)))), maximum slope ρ at s = x* + 1/(2ρ) */
#define RMACTIVATIONRECTANH "rectanh" /* tanh(ρ(s - x*)) for s >= x*, else 0 */
#define RMACTIVATIONTANH    "tanh"    /* tanh(δ s): the Hopfield readout (-design hebbian) */

typedef struct _n_RmActivationFunction RmActivationFunction;

/* Activation φ with gain ρ and threshold x* (docs/model.md §3). */
typedef struct {
  const RmActivationFunction *fn; /* an entry of RmActivationFunctions[] */
  PetscReal                   gain, threshold;
} RmActivation;

struct _n_RmActivationFunction {
  const char *name;
  PetscReal (*value)(const RmActivation *act, PetscReal s);
  /* out[i] = φ(s[i] + shift) for a whole array (vectorised where the CPU allows; every element takes
     the same path, so the result does not depend on the partition); out may be s. */
  void (*value_array)(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out);
  PetscReal (*derivative)(const RmActivation *act, PetscReal s);
  /* out[i] = φ'(s[i] + shift), the scalar derivative in a loop the compiler sees whole; out may be s. */
  void (*derivative_array)(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out);
  /* φ'(s) written through p = φ(s) itself, where that is exact: lets the Jacobian set-up reuse the
     φ(W x + u) = τ f(x) + x that CVODE already computed, instead of another weight product. NULL
     where it is not (the rectified tanh: its φ' jumps from 0 to ρ at the threshold, and a φ recovered
     as τ f + x carries rounding, ±1e-17 where φ = 0, which would turn φ' = 0 into ρ). */
  PetscReal (*derivative_from_value)(const RmActivation *act, PetscReal p);
  /* dp[i] = φ'(s_i) from p[i] = φ(s_i) (NULL with derivative_from_value); dp may be p. */
  void (*derivative_from_value_array)(const RmActivation *act, PetscInt n, const PetscScalar *p, PetscScalar *dp);
  PetscBool rate;              /* an activation of the rate model (else the Hopfield readout of -design hebbian) */
  PetscReal default_threshold; /* x* when -threshold is not given */
};

/* The table, terminated by an entry with name NULL. */
PETSC_EXTERN const RmActivationFunction RmActivationFunctions[];
/* Not collective (comm: the error's). The entry called name (any case); an unknown name is an error
   that lists the known ones. */
PETSC_EXTERN PetscErrorCode RmActivationFind(MPI_Comm comm, const char name[], const RmActivationFunction **fn);
/* The names of the table, comma separated (for -help texts and errors). */
PETSC_EXTERN const char    *RmActivationNames(void);
/* Which array kernel RmActivationEvalArray runs: avx2-libmvec or scalar-libm. */
PETSC_EXTERN const char    *RmActivationKernel(void);

static inline PetscReal RmActivationEval(const RmActivation *act, PetscReal s)
{
  return act->fn->value(act, s);
}

static inline void RmActivationEvalArray(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out)
{
  act->fn->value_array(act, n, s, shift, out);
}

static inline PetscReal RmActivationDerivative(const RmActivation *act, PetscReal s)
{
  return act->fn->derivative(act, s);
}

static inline void RmActivationDerivativeArray(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out)
{
  act->fn->derivative_array(act, n, s, shift, out);
}

/* PETSC_FALSE (dp untouched) where φ' cannot be written through φ exactly. */
static inline PetscBool RmActivationDerivativeFromValue(const RmActivation *act, PetscReal p, PetscReal *dp)
{
  if (!act->fn->derivative_from_value) return PETSC_FALSE;
  *dp = act->fn->derivative_from_value(act, p);
  return PETSC_TRUE;
}

/* The same on an array (dp may be p); PETSC_FALSE (dp untouched) where not exact. */
static inline PetscBool RmActivationDerivativeFromValueArray(const RmActivation *act, PetscInt n, const PetscScalar *p, PetscScalar *dp)
{
  if (!act->fn->derivative_from_value_array) return PETSC_FALSE;
  act->fn->derivative_from_value_array(act, n, p, dp);
  return PETSC_TRUE;
}

/* Rate model τ ẋ = -x + φ(W x + u), Hopfield voltage form τ ẏ = -y + W tanh(δ y) + u, or the
   E/I network of docs/model.md §5 (excitatory rates + P+1 inhibitory pools, Dale's law; -network ei). */
typedef enum { RM_MODEL_RATE, RM_MODEL_VOLTAGE, RM_MODEL_EI } RmModelKind;
extern const char *const RmModelKinds[];

typedef struct _p_RmModel *RmModel;

/* How the input u enters the Hopfield voltage model (docs/model.md §7): additive τẏ = −y + W tanh(δy) + u,
   or multiplicative (input-driven synapses) τẏ = −y + W(u) tanh(δy), W(u) = (1/N) Ξ diag(α(u)) Ξᵀ with
   zero diagonal, α_μ(u) = ξ^μᵀu/N (needs -design hebbian -storage lowrank). */
typedef enum { RM_INPUT_ADDITIVE, RM_INPUT_MULTIPLICATIVE } RmInputMode;
extern const char *const RmInputModes[];

PETSC_EXTERN PetscErrorCode RmModelCreate(MPI_Comm comm, RmModel *model);
PETSC_EXTERN PetscErrorCode RmModelSetKind(RmModel model, RmModelKind kind);
PETSC_EXTERN PetscErrorCode RmModelSetFromOptions(RmModel model);
/* Not collective. Prefix of the options RmModelSetFromOptions reads (-PREFIXactivation, ...). */
PETSC_EXTERN PetscErrorCode RmModelSetOptionsPrefix(RmModel model, const char prefix[]);
/* Not collective. Setters for apps that do not go through the options database; each must be called
   before RmModelSetUp, after RmModelSetKind (which resets the activation to the kind's defaults), and
   called after RmModelSetFromOptions it overrides the option (-activation: a name of the table,
   checked against the model kind; a new activation takes its default threshold unless a threshold
   was set; -gain > 0; -threshold). */
PETSC_EXTERN PetscErrorCode RmModelSetActivation(RmModel model, const char name[]);
PETSC_EXTERN PetscErrorCode RmModelSetGain(RmModel model, PetscReal gain);
PETSC_EXTERN PetscErrorCode RmModelSetThreshold(RmModel model, PetscReal threshold);
/* Collective. Takes a reference to the weight matrix W (row-distributed, square). */
PETSC_EXTERN PetscErrorCode RmModelSetWeights(RmModel model, Mat W);
/* Not collective. Integrate B states together (B cues at once): every state vector is then the
   n x B block, local part nloc x B column-major, and each weight product serves all B columns. */
PETSC_EXTERN PetscErrorCode RmModelSetBatch(RmModel model, PetscInt batch);
PETSC_EXTERN PetscErrorCode RmModelGetBatch(RmModel model, PetscInt *batch);
/* Not collective. Weight products (passes over W, each serving the whole batch) since creation. */
PETSC_EXTERN PetscErrorCode RmModelGetProductCount(RmModel model, PetscInt64 *count);
PETSC_EXTERN PetscErrorCode RmModelSetUp(RmModel model);
PETSC_EXTERN PetscErrorCode RmModelView(RmModel model, PetscViewer viewer);
PETSC_EXTERN PetscErrorCode RmModelDestroy(RmModel *model);

/* Collective. Vector input u (neuron layout, one column; NULL: none): the effective input is
   u + (-input)·1. Multiplicative mode recomputes α(u) here (one MPI_Allreduce of P+1 numbers).
   The model keeps a copy of u. Needs batch 1. */
PETSC_EXTERN PetscErrorCode RmModelSetInputVector(RmModel model, Vec u);
PETSC_EXTERN PetscErrorCode RmModelGetInputMode(RmModel model, RmInputMode *mode);
/* Not collective. α_μ(u) of the multiplicative mode (P numbers, owned by the model; NULL otherwise). */
PETSC_EXTERN PetscErrorCode RmModelGetInputWeights(RmModel model, const PetscReal **alpha, PetscInt *P);

PETSC_EXTERN PetscErrorCode RmModelGetKind(RmModel model, RmModelKind *kind);
PETSC_EXTERN PetscErrorCode RmModelGetActivation(RmModel model, RmActivation *act);
PETSC_EXTERN PetscErrorCode RmModelGetTau(RmModel model, PetscReal *tau);
/* Not collective. E/I network parameters: tau_i and units per pool. */
PETSC_EXTERN PetscErrorCode RmModelGetInhibition(RmModel model, PetscReal *tau_i, PetscInt *pool_size);
/* Collective. A state vector for the B-column block (caller destroys). For the single-population
   models the state is the neurons; for E/I each column is [excitatory neurons, local pool units]. */
PETSC_EXTERN PetscErrorCode RmModelCreateState(RmModel model, Vec *x);
/* Collective. A neuron vector: n x B block with the neuron layout, local part nloc x B column-major. */
PETSC_EXTERN PetscErrorCode RmModelCreateNeuronVec(RmModel model, Vec *xn);
/* Collective. Initial state from neuron values (E/I: pools start at their steady state for them). */
PETSC_EXTERN PetscErrorCode RmModelStateFromNeurons(RmModel model, Vec xn, Vec x);
/* Collective. The neurons' part of a state. */
PETSC_EXTERN PetscErrorCode RmModelNeuronsFromState(RmModel model, Vec x, Vec xn);
/* Collective. diag(J) at the last Jacobian set-up point (for the preconditioner of I − γJ). */
PETSC_EXTERN PetscErrorCode RmModelJacobianDiagonal(RmModel model, Vec diag);

/* Collective. f = ẋ at state x. */
PETSC_EXTERN PetscErrorCode RmModelRHS(RmModel model, Vec x, Vec f);
/* Collective. Store the linearisation point x (one weight product) for RmModelJacobianMult. */
PETSC_EXTERN PetscErrorCode RmModelJacobianSetUp(RmModel model, Vec x);
/* Collective. The same, given f = f(x) already computed: no weight product for the rate model. */
PETSC_EXTERN PetscErrorCode RmModelJacobianSetUpWithRHS(RmModel model, Vec x, Vec f);
/* Collective. Jv = J(x) v, analytic: rate (−v + φ'(Wx+u) ⊙ (W v))/τ, voltage (−v + W(φ'(y) ⊙ v))/τ. */
PETSC_EXTERN PetscErrorCode RmModelJacobianMult(RmModel model, Vec v, Vec Jv);
/* Collective. The fixed-point residual ‖τ ⊙ f(x)‖∞ (each unit's f times its own time constant;
   equal to ‖f(x)‖∞ for τ = 1): the convergence measure of every integrator. */
PETSC_EXTERN PetscErrorCode RmModelResidualNorm(RmModel model, Vec x, PetscReal *norm);
/* Collective. The same from a given f. */
PETSC_EXTERN PetscErrorCode RmModelFixedPointResidual(RmModel model, Vec f, PetscReal *norm);
/* Collective. Neural output r(x) on a neuron vector: rates for the rate and E/I models, tanh(δ y) for the voltage form. */
PETSC_EXTERN PetscErrorCode RmModelReadout(RmModel model, Vec x, Vec r);
