/* Private: the RmModel structure, shared by the single-population (dynamics.c) and E/I (ei.c) models. */
#pragma once
#include <ratemem/dynamics.h>

typedef struct _n_RmEI RmEI;
typedef struct _n_RmInputRate RmInputRate;

struct _p_RmModel {
  MPI_Comm     comm;
  char        *prefix;
  PetscBool    setup_called;
  PetscBool    threshold_set; /* by -threshold or RmModelSetThreshold: a change of activation keeps it */
  RmModelKind  kind;
  RmActivation act;
  PetscReal    tau, input;
  Mat          W;
  PetscInt     batch;  /* B states integrated together: local block nloc x B, column-major */
  Mat          Xb, Yb; /* dense n x B wrappers for the block product W X (B > 1) */
  Vec          colx, coly; /* column views for storages without a block product */
  PetscBool    block_product;
  PetscInt64   products;   /* weight products (passes over W) so far */
  Vec          h;      /* work: W x + u, or φ(y) */
  Vec          dphi;   /* φ' at the linearisation point */
  Vec          work;   /* work for J v */
  Vec          wdiag;  /* diag(W), one column */
  Vec          diag;   /* diagonal of J at the linearisation point (preconditioner) */
  /* E/I network (docs/model.md §5): excitatory neurons + (P+1) inhibitory pools of pool_size units */
  PetscReal    tau_i;
  PetscInt     pool_size, nloc, mloc, ustart; /* local neurons, local pool units, first local unit */
  RmEI        *ei;
  /* Inputs (docs/model.md §7) */
  RmInputMode  input_mode;
  Vec          uvec;   /* vector input (one column), or NULL */
  const PetscReal *alpha; /* α_μ(u), multiplicative mode (owned by W) */
  PetscInt     P;      /* length of alpha */
  /* Firing-rate variant of §7 (-input_variant rate; input.c): W(u) from the memories' packed bits */
  PetscBool    input_rate;
  RmInputRate *irate;
};

PETSC_INTERN PetscErrorCode RmModelSetUp_EI(RmModel model);
PETSC_INTERN PetscErrorCode RmModelDestroy_EI(RmModel model);
PETSC_INTERN PetscErrorCode RmModelRHS_EI(RmModel model, Vec x, Vec f);
PETSC_INTERN PetscErrorCode RmModelJacobianSetUp_EI(RmModel model, Vec x, Vec f);
PETSC_INTERN PetscErrorCode RmModelJacobianMult_EI(RmModel model, Vec v, Vec Jv);
PETSC_INTERN PetscErrorCode RmModelStateFromNeurons_EI(RmModel model, Vec xn, Vec x);
PETSC_INTERN PetscErrorCode RmModelNeuronsFromState_EI(RmModel model, Vec x, Vec xn);
/* Firing-rate variant of docs/model.md §7 (input.c). */
PETSC_INTERN PetscErrorCode RmInputRateMult_Private(RmModel model, Vec x, Vec y);
PETSC_INTERN PetscErrorCode RmInputRateSetInput_Private(RmModel model, Vec u);
PETSC_INTERN PetscErrorCode RmInputRateDestroy_Private(RmModel model);
PETSC_INTERN PetscErrorCode RmModelApplyInput_Private(RmModel model);

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
