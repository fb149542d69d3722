/* t301-jacobian: the right-hand side and the analytic Jacobian-vector product of docs/model.md §3.
   At a non-equilibrium state x (a cue blended with 0.5, plus a little partition-independent noise):
   - RmModelRHS equals (-x + φ(W x + u))/τ (rate) or (-y + W tanh(δ y) + u)/τ (voltage), computed
     here from MatMult and an independent φ, to 1e-13;
   - J v from RmModelJacobianSetUp + RmModelJacobianMult agrees with the central difference
     (f(x+εv) - f(x-εv))/(2ε) to 1e-6 relative (‖difference‖₂ / ‖J v‖₂);
   - RmModelJacobianSetUpWithRHS(x, f(x)) gives the same J v as RmModelJacobianSetUp(x) to 1e-12;
   - the linearisation stored by the set-up survives RHS evaluations at other states (the central
     difference is evaluated between the set-up and the product);
   for the rate model with sigmoid and rectified tanh activations and the Hebbian voltage model,
   with τ = 1, u = 0 and with τ ≠ 1, u ≠ 0, dense and aij storage. */
#include "utcommon.h"

static const char help[] = "Unit test of RmModelJacobianMult against finite differences (docs/model.md §3).\n";

/* x = s cue + c + noise · U(-1/2, 1/2). */
static PetscErrorCode CheckJacobian(const char *opts, PetscReal s, PetscReal c, PetscReal noise)
{
  UtNet        net;
  RmJacobianForm form;
  RmCueOptions co = {RM_CUE_FLIP, 0.1, 1, 0.6};
  PetscInt     cue_memory, nloc;
  PetscInt64   kinks = 0;
  Vec          x, v, xp, xm, fp, fm, fd, Jv, Jv2, f, Wx, Wv;
  PetscReal    tau, input = 0, eps = 1e-6, rel = 0, rel_rhs = 0, nonlinear = 0, fnorm = 0, nJv = 0;
  PetscScalar *xa, *va;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(RmModelGetJacobianForm(net.model, &form));
  PetscCall(RmModelGetTau(net.model, &tau));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-input", &input, NULL));
  PetscCall(RmModelCreateState(net.model, &x));
  PetscCall(VecDuplicate(x, &v));
  PetscCall(VecDuplicate(x, &xp));
  PetscCall(VecDuplicate(x, &xm));
  PetscCall(VecDuplicate(x, &fp));
  PetscCall(VecDuplicate(x, &fm));
  PetscCall(VecDuplicate(x, &fd));
  PetscCall(VecDuplicate(x, &Jv));
  PetscCall(VecDuplicate(x, &Jv2));
  PetscCall(VecDuplicate(x, &f));
  PetscCall(VecDuplicate(x, &Wx));
  PetscCall(VecDuplicate(x, &Wv));
  PetscCall(VecGetLocalSize(x, &nloc));

  /* x: rate model e.g. 0.5 cue + 0.25 (cue blended with 0.5); voltage model 0.1 cue (δ y = ±1, not saturated). */
  PetscCall(RmMemoriesCreateCue(net.mem, &co, 2, x, &cue_memory));
  PetscCall(VecGetArray(x, &xa));
  PetscCall(VecGetArrayWrite(v, &va));
  for (PetscInt i = 0; i < nloc; i++) {
    PetscInt gi = net.rstart + i;
    xa[i]       = s * xa[i] + c + noise * UtNoise(1, gi);
    va[i]       = UtNoise(2, gi);
  }
  PetscCall(VecRestoreArrayWrite(v, &va));
  PetscCall(VecRestoreArray(x, &xa));
  PetscCall(RmModelRHS(net.model, x, f));
  PetscCall(VecNorm(f, NORM_INFINITY, &fnorm));
  /* The right-hand side against the formula of §3. */
  {
    const PetscScalar *xr, *fr, *hr;
    PetscScalar       *pa;
    PetscReal          err = 0;
    PetscCall(VecCopy(x, xp));
    if (form == RM_JACOBIAN_WD) {
      PetscCall(VecGetArray(xp, &pa));
      for (PetscInt i = 0; i < nloc; i++) pa[i] = tanh(net.act.gain * pa[i]);
      PetscCall(VecRestoreArray(xp, &pa));
    }
    PetscCall(MatMult(net.W, xp, Wx)); /* W x, or W tanh(δ y) */
    PetscCall(VecGetArrayRead(x, &xr));
    PetscCall(VecGetArrayRead(f, &fr));
    PetscCall(VecGetArrayRead(Wx, &hr));
    for (PetscInt i = 0; i < nloc; i++) {
      PetscReal ref = form == RM_JACOBIAN_DW ? (-xr[i] + UtPhi(&net.act, hr[i] + input)) / tau : (-xr[i] + hr[i] + input) / tau;
      err           = PetscMax(err, PetscAbsReal(fr[i] - ref));
    }
    PetscCall(VecRestoreArrayRead(Wx, &hr));
    PetscCall(VecRestoreArrayRead(f, &fr));
    PetscCall(VecRestoreArrayRead(x, &xr));
    PetscCall(UtGlobalMax(&err));
    PetscCheck(err <= 1e-13 * fnorm, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] RmModelRHS differs from the docs/model.md §3 formula by %g (||f||_inf %g)",
               opts, (double)err, (double)fnorm);
  }
  PetscCheck(fnorm > 1e-3, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] the test state is (nearly) an equilibrium, ||f||_inf = %g", opts, (double)fnorm);

  /* Rectified tanh: the stencil must not straddle the kink at the threshold (else the difference is not a derivative). */
  if (form == RM_JACOBIAN_DW && net.act.fn == UtActivation(RMACTIVATIONRECTANH)) {
    const PetscScalar *hx, *hv;
    PetscCall(MatMult(net.W, x, Wx));
    PetscCall(MatMult(net.W, v, Wv));
    PetscCall(VecGetArrayRead(Wx, &hx));
    PetscCall(VecGetArrayRead(Wv, &hv));
    for (PetscInt i = 0; i < nloc; i++) kinks += PetscAbsReal(hx[i] + input - net.act.threshold) <= 2 * eps * PetscAbsReal(hv[i]);
    PetscCall(VecRestoreArrayRead(Wv, &hv));
    PetscCall(VecRestoreArrayRead(Wx, &hx));
    PetscCall(UtGlobalSum(&kinks));
    PetscCheck(kinks == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] test set-up: %" PetscInt64_FMT " neurons within the difference stencil of the rectanh kink; change the state", opts, kinks);
  }

  /* Analytic J v; the central difference is evaluated between the set-up and the product. */
  PetscCall(RmModelJacobianSetUp(net.model, x));
  PetscCall(VecWAXPY(xp, eps, v, x));
  PetscCall(VecWAXPY(xm, -eps, v, x));
  PetscCall(RmModelRHS(net.model, xp, fp));
  PetscCall(RmModelRHS(net.model, xm, fm));
  PetscCall(VecWAXPY(fd, -1.0, fm, fp));
  PetscCall(VecScale(fd, 1.0 / (2 * eps)));
  PetscCall(RmModelJacobianMult(net.model, v, Jv));
  PetscCall(UtRelDiff(fd, Jv, &rel));
  PetscCall(VecNorm(Jv, NORM_2, &nJv));
  /* The test is only meaningful if the φ' W part contributes: compare J v with -v/τ. */
  PetscCall(VecWAXPY(Wv, 1.0 / tau, v, Jv));
  PetscCall(VecNorm(Wv, NORM_2, &nonlinear));
  nonlinear /= nJv;
  PetscCheck(rel < 1e-6, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] analytic J v differs from the central difference: relative %g, expected < 1e-6",
             opts, (double)rel);
  PetscCheck(nonlinear > 1e-2, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] test set-up: J v is almost -v/tau (relative nonlinear part %g); the state saturates phi", opts, (double)nonlinear);

  /* Set-up from the RHS that CVODE already has: same J v. */
  PetscCall(RmModelRHS(net.model, x, f));
  PetscCall(RmModelJacobianSetUpWithRHS(net.model, x, f));
  PetscCall(RmModelRHS(net.model, xp, fp)); /* another state in between: must not disturb the linearisation */
  PetscCall(RmModelJacobianMult(net.model, v, Jv2));
  PetscCall(UtRelDiff(Jv2, Jv, &rel_rhs));
  PetscCheck(rel_rhs < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] J v after RmModelJacobianSetUpWithRHS differs from RmModelJacobianSetUp: relative %g, expected < 1e-12", opts, (double)rel_rhs);

  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "t301 %-95s x = %.2g cue + %.2g: ||f|| %.3f  |Jv - FD|/|Jv| %.1e  |Jv(RHS) - Jv|/|Jv| %.1e  (nonlinear part %.2f)\n", opts,
                        (double)s, (double)c, (double)fnorm, (double)rel, (double)rel_rhs, (double)nonlinear));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&xp));
  PetscCall(VecDestroy(&xm));
  PetscCall(VecDestroy(&fp));
  PetscCall(VecDestroy(&fm));
  PetscCall(VecDestroy(&fd));
  PetscCall(VecDestroy(&Jv));
  PetscCall(VecDestroy(&Jv2));
  PetscCall(VecDestroy(&f));
  PetscCall(VecDestroy(&Wx));
  PetscCall(VecDestroy(&Wv));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckDestroyTwice(void)
{
  RmModel model;

  PetscFunctionBeginUser;
  PetscCall(RmModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(RmModelDestroy(&model));
  PetscCheck(model == NULL, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "RmModelDestroy did not set the handle to NULL");
  PetscCall(RmModelDestroy(&model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  /* Rate model, sigmoid: the cue blended with 0.5. */
  PetscCall(CheckJacobian("-pattern_kind random -neurons 1000 -memories 10 -seed 3", 0.5, 0.25, 0.1));
  PetscCall(CheckJacobian("-pattern_kind random -neurons 1000 -memories 10 -seed 3 -tau 2.5 -input 0.05 -storage aij", 0.5, 0.25, 0.1));
  PetscCall(CheckJacobian("-pattern_kind deterministic -neurons 1000 -coding 0.2 -a 0.1 -b 0.95 -gain 2", 0.5, 0.25, 0.1));
  /* Rate model, rectified tanh (x* = 0.75): at 0.5 cue + 0.25 every field is below threshold
     (J v = -v/τ, a trivial test), so the blend leans towards the cue: active fields near 0.84. */
  PetscCall(CheckJacobian("-pattern_kind random -neurons 1000 -memories 10 -seed 3 -activation rectanh", 0.7, 0.15, 0.1));
  PetscCall(CheckJacobian(
      "-pattern_kind random -neurons 1000 -memories 10 -seed 3 -activation rectanh -tau 0.5 -input 0.1 -storage aij -indegree 100", 0.7, 0.15, 0.1));
  /* Rectified tanh with τ not a power of two: below threshold φ = 0, but τ f + x = τ (-x/τ) + x rounds
     to ±1e-17; RmActivationDerivativeFromValue must still give φ' = 0 there, not ρ (a rounding error once
     made RmModelJacobianSetUpWithRHS differ from RmModelJacobianSetUp by ~40%). */
  for (int k = 0; k < 3; k++) {
    const char *tau[] = {"0.7", "3", "1.1"};
    char        opts[256];
    PetscCall(PetscSNPrintf(opts, sizeof(opts), "-pattern_kind random -neurons 1000 -memories 10 -seed 3 -activation rectanh -tau %s", tau[k]));
    PetscCall(CheckJacobian(opts, 0.7, 0.15, 0.1));
  }
  /* Hebbian voltage model: y = 0.1 cue, so δ y = ±1 is not saturated. */
  PetscCall(CheckJacobian("-pattern_kind random -neurons 1000 -memories 10 -seed 3 -design hebbian", 0.1, 0.0, 0.05));
  PetscCall(
      CheckJacobian("-pattern_kind random -neurons 1000 -memories 10 -seed 3 -design hebbian -tau 0.7 -input 0.02 -storage aij", 0.1, 0.0, 0.05));
  PetscCall(CheckJacobian("-pattern_kind hadamard -neurons 1024 -memories 8 -design hebbian -gain 4", 0.1, 0.0, 0.05));
  PetscCall(CheckDestroyTwice());
  PetscFunctionReturn(PETSC_SUCCESS);
}

UT_MAIN(help, Run)
