/* t301-jacobian: the analytic Jacobian-vector product of model.md §3.
   At a non-equilibrium state x (a cue blended with 0.5, plus a little partition-independent noise):
   - J v from RmModelJacobianSetUp + RmModelJacobianMult agrees with the central difference
     (f(x+εv) - f(x-εv))/(2ε) to 1e-6 relative (‖difference‖₂ / ‖J v‖₂);
   - RmModelJacobianSetUpWithRHS(x, f(x)) gives the same J v as RmModelJacobianSetUp(x) to 1e-12;
   - the linearisation stored by the set-up survives RHS evaluations at other states;
   for the rate model with sigmoid and rectified tanh activations and the Hebbian voltage model,
   with τ = 1, u = 0 and with τ ≠ 1, u ≠ 0, dense and aij storage. */
#include "utcommon.h"

static const char help[] = "Unit test of RmModelJacobianMult against finite differences (model.md §3).\n";

static PetscErrorCode CheckJacobian(const char *opts)
{
  UtNet        net;
  RmModelKind  kind;
  RmCueOptions co = {RM_CUE_FLIP, 0.1, 1};
  PetscInt     cue_memory, kinks = 0;
  Vec          x, v, xp, xm, fp, fm, fd, Jv, Jv2, f, h, Wv;
  PetscReal    tau, eps = 1e-6, rel, rel_rhs, nonlinear, fnorm, nJv, nv;
  PetscScalar *xa, *va;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(RmModelGetKind(net.model, &kind));
  PetscCall(RmModelGetTau(net.model, &tau));
  PetscCall(RmModelCreateState(net.model, &x));
  for (Vec *w : (Vec *[]){&v, &xp, &xm, &fp, &fm, &fd, &Jv, &Jv2, &f, &h, &Wv}) PetscCall(VecDuplicate(x, w));
  PetscFunctionReturn(PETSC_SUCCESS);
}
