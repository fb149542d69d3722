/* ratemem: activations φ (docs/model.md §3) -- the table RmActivationFunctions[] and its lookup by name.
   A module of its own below synapses (the design needs φ(a), φ(b)) and dynamics. */
#pragma once
#include <ratemem/sys.h>

/* Activations φ (docs/model.md §3), one table: RmActivationFunctions[] (src/activation/activation.c)
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
