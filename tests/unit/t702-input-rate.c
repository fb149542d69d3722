/* t702: the firing-rate variant of docs/model.md §7 (-input_variant rate), on 1-3 ranks.
   W(u) is applied from the memories' packed bits without being formed; here it is formed
   explicitly from the gathered memories and compared:
   (a) multiplicative: f(x) = −x + Φ(W(u) x) with W(u) = 1.25/(N p(1−p)) (Ξ−p) diag(α) (Ξ−p)ᵀ − 1/(N p) 11ᵀ,
       zero diagonal, α_μ = (ξ^μ−p)ᵀu/(N p), Φ(s) = 1/(1+exp(δ(1−2s))), δ = 10; and α itself;
   (b) J v = −v + Φ'(W(u)x) ⊙ W(u) v (analytic Jacobian through the same operator);
   (c) additive (the authors' classic form): f(x) = −x + Φ(W₀ x + u), W₀ = 1/(N p(1−p)) (Ξ−p)(Ξ−p)ᵀ, zero diagonal.
   All to 1e-12 relative. */
#include "utcommon.h"
#include <ratemem/input.h>

static PetscErrorCode Fill(Vec x, uint64_t salt, PetscReal lo, PetscReal hi)
{
  PetscScalar *xa;
  PetscInt     rstart, rend;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(x, &rstart, &rend));
  PetscCall(VecGetArrayWrite(x, &xa));
  for (PetscInt i = rstart; i < rend; i++) xa[i - rstart] = lo + (hi - lo) * (UtNoise(salt, i) + 0.5);
  PetscCall(VecRestoreArrayWrite(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal Phi(PetscReal s, PetscReal delta) { return 1.0 / (1.0 + exp(delta * (1.0 - 2.0 * s))); }

static PetscErrorCode Check(PetscBool mult)
{
  UtNet              net;
  Vec                u, x, v, f, jv;
  PetscScalar       *ua, *xa, *va;
  const PetscScalar *fa, *ja, *xl, *vl;
  uint8_t           *bits;
  const PetscReal   *alpha;
  PetscReal         *a, p, N, err = 0, jerr = 0, scale = 0, jscale = 0, aerr = 0, s, g, dmax = 0;
  PetscInt           P;
  const PetscReal    delta = 10;
  char               opts[256];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons 611 -memories 7 -seed 5 -coding 0.22 -design paper -storage lowrank -input_variant rate -input_mode %s",
                          mult ? "multiplicative" : "additive"));
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(RmModelSetInputMemories(net.model, net.mem)); /* after RmModelSetUp: allowed */
  PetscCall(RmMemoriesGetCoding(net.mem, &p));
  N = net.n;
  PetscCall(MatCreateVecs(net.W, &u, &x));
  PetscCall(VecDuplicate(x, &v));
  PetscCall(VecDuplicate(x, &f));
  PetscCall(VecDuplicate(x, &jv));
  /* inputs and rates that keep W(u) x (+ u) on Φ's slope: near memory 0, input aligned with it */
  PetscCall(Fill(u, 3, 0.0, mult ? 1.0 : 0.6));
  PetscCall(Fill(x, 4, 0.0, mult ? 0.2 : 1.0));
  if (mult) {
    Vec m0;
    PetscCall(VecDuplicate(x, &m0));
    PetscCall(UtMemoryState(net.mem, 0, 0.0, 1.0, m0));
    PetscCall(VecAXPY(u, 3.1, m0)); /* α_0 ≈ 2.4: W(u) x ≈ 0.5 on memory 0 */
    PetscCall(VecAXPY(x, 0.7, m0));
    PetscCall(VecDestroy(&m0));
  }
  PetscCall(Fill(v, 5, -1.0, 1.0));
  PetscCall(RmModelSetInputVector(net.model, u));
  PetscCall(RmModelGetInputWeights(net.model, &alpha, &P));
  PetscCheck(alpha && P == net.P, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "no input weights after RmModelSetInputVector");
  PetscCall(RmModelRHS(net.model, x, f));
  PetscCall(RmModelJacobianSetUpWithRHS(net.model, x, f));
  PetscCall(RmModelJacobianMult(net.model, v, jv));
  PetscCall(RmMemoriesGetAllBits(net.mem, &bits));
  PetscCall(UtGatherVec(u, &ua));
  PetscCall(UtGatherVec(x, &xa));
  PetscCall(UtGatherVec(v, &va));
  PetscCall(PetscCalloc1(net.P, &a));
  for (PetscInt mu = 0; mu < net.P; mu++) {
    if (mult) {
      for (PetscInt j = 0; j < net.n; j++) a[mu] += (bits[mu * net.n + j] - p) * ua[j];
      a[mu] /= N * p;
      aerr = PetscMax(aerr, PetscAbsReal(a[mu] - alpha[mu]) / PetscAbsReal(a[mu]));
    } else a[mu] = 1.0;
  }
  s = (mult ? 1.25 : 1.0) / (N * p * (1 - p));
  g = mult ? -1.0 / (N * p) : 0.0;
  PetscCall(VecGetArrayRead(f, &fa));
  PetscCall(VecGetArrayRead(jv, &ja));
  PetscCall(VecGetArrayRead(x, &xl));
  PetscCall(VecGetArrayRead(v, &vl));
  for (PetscInt i = net.rstart; i < net.rend; i++) { /* row i of the explicitly formed W(u), zero diagonal */
    PetscReal h = 0, wv = 0, fi, dphi, ji;
    for (PetscInt j = 0; j < net.n; j++) {
      PetscReal wij = g;
      if (j == i) continue;
      for (PetscInt mu = 0; mu < net.P; mu++) wij += s * (bits[mu * net.n + i] - p) * a[mu] * (bits[mu * net.n + j] - p);
      h += wij * xa[j];
      wv += wij * va[j];
    }
    if (!mult) h += ua[i];
    fi   = -xa[i] + Phi(h, delta);
    dphi = 2 * delta * Phi(h, delta) * (1 - Phi(h, delta));
    dmax = PetscMax(dmax, dphi);
    ji   = -va[i] + dphi * wv;
    err  = PetscMax(err, PetscAbsReal(fa[i - net.rstart] - fi));
    jerr = PetscMax(jerr, PetscAbsReal(ja[i - net.rstart] - ji));
    scale  = PetscMax(scale, PetscAbsReal(fi));
    jscale = PetscMax(jscale, PetscAbsReal(ji));
    PetscCheck(xl[i - net.rstart] == xa[i] && vl[i - net.rstart] == va[i], PETSC_COMM_SELF, PETSC_ERR_PLIB, "gather mismatch");
  }
  PetscCall(VecRestoreArrayRead(f, &fa));
  PetscCall(VecRestoreArrayRead(jv, &ja));
  PetscCall(VecRestoreArrayRead(x, &xl));
  PetscCall(VecRestoreArrayRead(v, &vl));
  PetscCall(UtGlobalMax(&err));
  PetscCall(UtGlobalMax(&jerr));
  PetscCall(UtGlobalMax(&scale));
  PetscCall(UtGlobalMax(&jscale));
  PetscCall(UtGlobalMax(&dmax));
  err /= scale;
  jerr /= jscale;
  PetscCheck(aerr < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "alpha(u) differs from (xi-p)^T u/(N p) by %g (relative)", (double)aerr);
  PetscCheck(err < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: f(x) differs from the explicit W(u) by %g (relative)", mult ? "multiplicative" : "additive",
             (double)err);
  PetscCheck(jerr < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: J v differs from the explicit W(u) by %g (relative)", mult ? "multiplicative" : "additive",
             (double)jerr);
  PetscCheck(scale > 1e-3 && jscale > 1e-3 && dmax > 1, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "degenerate test: |f| %g, |Jv| %g, max Phi' %g (saturated)",
             (double)scale, (double)jscale, (double)dmax);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t702 (%s) f(x) vs explicit W(u): %.2e relative, J v %.2e, alpha %.2e (max Phi' %.2f)\n",
                        mult ? "multiplicative" : "additive", (double)err, (double)jerr, (double)aerr, (double)dmax));
  PetscCall(PetscFree(a));
  PetscCall(PetscFree(ua));
  PetscCall(PetscFree(xa));
  PetscCall(PetscFree(va));
  PetscCall(PetscFree(bits));
  PetscCall(VecDestroy(&u));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&f));
  PetscCall(VecDestroy(&jv));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Body(void)
{
  PetscFunctionBeginUser;
  PetscCall(Check(PETSC_TRUE));
  PetscCall(Check(PETSC_FALSE));
  PetscCall(PetscOptionsClearValue(NULL, "-input_mode"));
  PetscCall(PetscOptionsClearValue(NULL, "-input_variant"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

UT_MAIN("t702: firing-rate variant of the input-driven model (W(u) never formed vs explicit)", Body)
