/* ratemem: dynamics (docs/model.md §3) -- right-hand side f(x), its Jacobian-vector product, readout. */
#pragma once
#include <petscmat.h>
#include <ratemem/activation.h>
#include <ratemem/synapses.h>

/* Model kinds, a registry (RmModelRegister): each one file in src/dynamics/ and one line in
   src/dynamics/modelregi.c. Built in: the rate model τ ẋ = -x + φ(W x + u), the Hopfield voltage form
   τ ẏ = -y + W tanh(δ y) + u (docs/model.md §3), the E/I network of §5 (excitatory rates + P+1
   inhibitory pools, Dale's law; -network ei) and the firing-rate input-driven variant of §7
   (-input_variant rate). */
typedef const char *RmModelType;
#define RMMODELRATE      "rate"      /* τ ẋ = −x + φ(W x + u), {0,1} memories */
#define RMMODELVOLTAGE   "voltage"   /* Hopfield voltage form, ±1 memories (-design hebbian) */
#define RMMODELEI        "ei"        /* E/I network of §5 (-network ei; -storage lowrank, paper design) */
#define RMMODELINPUTRATE "inputrate" /* firing-rate variant of §7 (-input_variant rate) */

/* The form of a model's Jacobian, for the solvers that exploit it (Woodbury, the stability analysis):
   J = (−I + D W)/τ (rate), (−I + W D)/τ (voltage), D = diag(φ'), the §5 block form with the pools
   (E/I), or none of these (only J v is available: such solvers refuse the model). */
typedef enum { RM_JACOBIAN_DW, RM_JACOBIAN_WD, RM_JACOBIAN_POOLS, RM_JACOBIAN_OPAQUE } RmJacobianForm;
extern const char *const RmJacobianForms[];

typedef struct _p_RmModel *RmModel;

/* Which model a design drives (rate for paper/projection, voltage for hebbian), and how its memories are encoded. */
PETSC_EXTERN PetscErrorCode RmDesignTypeGetModel(RmDesignType type, RmModelType *model, RmEncoding *enc);

/* How the input u enters the Hopfield voltage model (docs/model.md §7): additive τẏ = −y + W tanh(δy) + u,
   or multiplicative (input-driven synapses) τẏ = −y + W(u) tanh(δy), W(u) = (1/N) Ξ diag(α(u)) Ξᵀ with
   zero diagonal, α_μ(u) = ξ^μᵀu/N (needs -design hebbian -storage lowrank). */
typedef enum { RM_INPUT_ADDITIVE, RM_INPUT_MULTIPLICATIVE } RmInputMode;
extern const char *const RmInputModes[];

/* Not collective. Adds a model kind: create fills the ops table of src/dynamics/dynamicsimpl.h. */
PETSC_EXTERN PetscErrorCode RmModelRegister(const char name[], PetscErrorCode (*create)(RmModel));
/* Not collective; idempotent (RmModelCreate calls it). Registers the built-in kinds. */
PETSC_EXTERN PetscErrorCode RmModelRegisterAll(void);
/* Collective. A model of kind rate. */
PETSC_EXTERN PetscErrorCode RmModelCreate(MPI_Comm comm, RmModel *model);
/* Not collective. Before RmModelSetUp. A new kind resets the activation to the kind's defaults;
   an unknown name is an error. -model_type NAME in RmModelSetFromOptions. */
PETSC_EXTERN PetscErrorCode RmModelSetType(RmModel model, RmModelType type);
PETSC_EXTERN PetscErrorCode RmModelGetType(RmModel model, RmModelType *type);
/* Not collective. The form of the kind's Jacobian (see RmJacobianForm). */
PETSC_EXTERN PetscErrorCode RmModelGetJacobianForm(RmModel model, RmJacobianForm *form);
PETSC_EXTERN PetscErrorCode RmModelSetFromOptions(RmModel model);
/* Not collective. Prefix of the options RmModelSetFromOptions reads (-PREFIXactivation, ...). */
PETSC_EXTERN PetscErrorCode RmModelSetOptionsPrefix(RmModel model, const char prefix[]);
/* Not collective. Setters for apps that do not go through the options database; each must be called
   before RmModelSetUp, after RmModelSetType (which resets the activation to the kind's defaults), and
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

PETSC_EXTERN PetscErrorCode RmModelGetActivation(RmModel model, RmActivation *act);
PETSC_EXTERN PetscErrorCode RmModelGetTau(RmModel model, PetscReal *tau);
/* Not collective. E/I network parameters: tau_i and units per pool (an error for a model without pools). */
PETSC_EXTERN PetscErrorCode RmModelGetInhibition(RmModel model, PetscReal *tau_i, PetscInt *pool_size);
/* Collective. A state vector for the B-column block (caller destroys). For the single-population
   models the state is the neurons; for E/I each column is [excitatory neurons, local pool units]. */
PETSC_EXTERN PetscErrorCode RmModelCreateState(RmModel model, Vec *x);
/* Collective. A neuron vector: n x B block with the neuron layout, local part nloc x B column-major. */
PETSC_EXTERN PetscErrorCode RmModelCreateNeuronVec(RmModel model, Vec *xn);
/* Not collective. Whether the state is the neurons themselves (then RmModelStateFromNeurons and
   RmModelNeuronsFromState are copies, and a no-op on the same vector), and whether the readout is the
   neurons' part of the state (RmModelReadout the same copy). */
PETSC_EXTERN PetscErrorCode RmModelGetStateLayout(RmModel model, PetscBool *state_is_neurons, PetscBool *readout_is_neurons);
/* Collective. Initial state from neuron values (E/I: pools start at their steady state for them). */
PETSC_EXTERN PetscErrorCode RmModelStateFromNeurons(RmModel model, Vec xn, Vec x);
/* Collective. The neurons' part of a state. */
PETSC_EXTERN PetscErrorCode RmModelNeuronsFromState(RmModel model, Vec x, Vec xn);
/* Not collective. The factors of the single-population Jacobian, J = (−I + D W)/τ (rate) or (−I + W D)/τ
   (voltage), D = diag(φ'): *W the weights the products go through (borrowed; for the E/I network the
   lowrank W whose factors build its pools (§5; J then has the block form of §5); NULL for -input_variant
   rate, whose products do not go through one Mat) and *dphi D at the last Jacobian set-up (borrowed,
   nloc·batch entries for the neurons, column-major). Either pointer may be NULL. */
PETSC_EXTERN PetscErrorCode RmModelGetJacobianFactors(RmModel model, Mat *W, Vec *dphi);
/* Collective. diag(J) at the last Jacobian set-up point (for the preconditioner of I − γJ). */
PETSC_EXTERN PetscErrorCode RmModelJacobianDiagonal(RmModel model, Vec diag);

/* Collective. f = ẋ at state x. */
PETSC_EXTERN PetscErrorCode RmModelRHS(RmModel model, Vec x, Vec f);
/* Collective. One explicit Euler step y <- y + h f(y) in one pass over the weights, where the kind and
   storage have it (RmModelHasFusedEulerStep: rate model on lowrank weights, batch 1; an error
   elsewhere, where a step is RmModelRHS and an update); residual = ‖τ ⊙ f(y)‖∞ of the y on entry (a
   non-finite residual means the step diverged: y is then not to be used). Counted as one RHS
   evaluation and one weight product. */
PETSC_EXTERN PetscErrorCode RmModelEulerStep(RmModel model, PetscReal h, Vec y, PetscReal *residual);
/* Not collective. Before the weights exist: whether RmModelEulerStep will be fused on a storage that is
   factored or not (RmSynapsesIsFactored). */
PETSC_EXTERN PetscErrorCode RmModelCanFuseEulerStep(RmModel model, PetscBool factored, PetscBool *fused);
/* Not collective. The state-sized work vectors the model makes when first needed, for an implicit
   integrator (Jacobian) or not, and with the fused Euler step (none). */
PETSC_EXTERN PetscErrorCode RmModelGetWorkVectorCount(RmModel model, PetscBool implicit, PetscBool fused_euler, PetscInt *count);
/* Collective. Whether RmModelEulerStep is available for this model, storage and batch (after RmModelSetWeights). */
PETSC_EXTERN PetscErrorCode RmModelHasFusedEulerStep(RmModel model, PetscBool *fused);
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
