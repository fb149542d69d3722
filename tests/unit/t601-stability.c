/* t601-stability: the spectral abscissa of docs/model.md §6.
   At the equilibria of stored memories (deterministic n = 400, random n = 300, Hebbian n = 256, and
   the E/I network of §5 with n = 300 whose state also holds the P+1 inhibitory pools):
   - the abscissa from SLEPc (RmStabilityComputeSpectrum, matrix-free, distributed) agrees to 1e-8
     with a dense eigen-solve: J assembled column by column by applying the model's J·v to the unit
     vectors (MatComputeOperator on the Jacobian shell), then LAPACK's dense nonsymmetric solver
     (SLEPc EPSLAPACK, all n eigenvalues); for both operators (symmetric EPS_HEP and jacobian EPS_NHEP);
   - where the paper design is all-to-all, the (P+1)x(P+1) low-rank abscissa agrees to 1e-8 as well;
   - where the stability condition holds (sigmoid rho = 4.8, x* = 0.2) the abscissa is negative, and
     where an instability condition holds (rectified tanh rho = 4.8, x* = 0.75) it is positive;
   - the §6 condition values equal the formulas written out here from phi' of docs/model.md §3;
   - the equilibrium is one (residual below the tolerance) and is at its memory;
   - RmStabilityDestroy is safe to call twice. */
#include "utcommon.h"
#include <slepceps.h>

static const char help[] = "Unit test of RmStability against a dense eigen-solve (docs/model.md §6).\n";

/* Largest real part over all eigenvalues of the dense matrix of the operator A (LAPACK via EPSLAPACK). */
static PetscErrorCode DenseAbscissa(Mat A, PetscReal *abscissa)
{
  Mat      Jd;
  EPS      eps;
  PetscInt nconv, n;

  PetscFunctionBeginUser;
  PetscCall(MatComputeOperator(A, MATDENSE, &Jd));
  PetscCall(MatGetSize(Jd, &n, NULL));
  PetscCall(EPSCreate(PETSC_COMM_WORLD, &eps));
  PetscCall(EPSSetOperators(eps, Jd, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_NHEP));
  PetscCall(EPSSetType(eps, EPSLAPACK));
  PetscCall(EPSSetWhichEigenpairs(eps, EPS_LARGEST_REAL));
  PetscCall(EPSSetDimensions(eps, n, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSolve(eps));
  PetscCall(EPSGetConverged(eps, &nconv));
  PetscCheck(nconv == n, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "dense solve: %" PetscInt_FMT " of %" PetscInt_FMT " eigenvalues", nconv, n);
  *abscissa = PETSC_MIN_REAL;
  for (PetscInt k = 0; k < nconv; k++) {
    PetscScalar kr, ki;
    PetscCall(EPSGetEigenvalue(eps, k, &kr, &ki));
    *abscissa = PetscMax(*abscissa, PetscRealPart(kr));
  }
  PetscCall(EPSDestroy(&eps));
  PetscCall(MatDestroy(&Jd));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* sign: -1 the abscissa must be < 0, +1 > 0, 0 either. memories: how many to check. */
static PetscErrorCode CheckCase(const char *name, const char *opts, const char *op, PetscInt memories, PetscInt sign)
{
  UtNet                 net;
  RmIntegrator          integ;
  RmClassifier          cl;
  RmStability           st;
  RmStabilityConditions cond;
  Vec                   x;
  PetscReal             eq_tol;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(PetscOptionsSetValue(NULL, "-stability_operator", op));
  PetscCall(RmIntegratorCreate(net.comm, &integ));
  PetscCall(RmIntegratorSetFromOptions(integ));
  PetscCall(RmIntegratorSetModel(integ, net.model));
  PetscCall(RmIntegratorSetUp(integ));
  PetscCall(RmClassifierCreate(net.mem, &cl));
  PetscCall(RmClassifierSetFromOptions(cl));
  PetscCall(RmClassifierSetRateScale(cl, net.design.phi_a, net.design.phi_b));
  PetscCall(RmClassifierSetUp(cl));
  PetscCall(RmStabilityCreate(net.comm, &st));
  PetscCall(RmStabilitySetFromOptions(st));
  PetscCall(RmStabilitySetNetwork(st, net.mem, net.syn, net.model));
  PetscCall(RmStabilitySetIntegrator(st, integ));
  PetscCall(RmStabilitySetClassifier(st, cl));
  PetscCall(RmStabilitySetUp(st));
  PetscCall(RmStabilityGetSettings(st, NULL, NULL, &eq_tol));
  PetscCall(RmStabilityComputeConditions(st, &cond));
  PetscCall(RmModelCreateState(net.model, &x));

  /* The §6 values from the formulas, with phi' written out from docs/model.md §3. */
  if (cond.applicable) {
    const RmDesign *d = &net.design;
    PetscReal       da, db, q = d->coding, al = d->alpha_basic, ga = d->gamma, err = 0;
    if (net.act.fn == UtActivation(RMACTIVATIONSIGMOID)) {
      PetscReal pa = UtPhi(&net.act, d->a), pb = UtPhi(&net.act, d->b);
      da = 4 * net.act.gain * pa * (1 - pa);
      db = 4 * net.act.gain * pb * (1 - pb);
    } else {
      da = d->a < net.act.threshold ? 0 : net.act.gain * (1 - pow(tanh(net.act.gain * (d->a - net.act.threshold)), 2));
      db = d->b < net.act.threshold ? 0 : net.act.gain * (1 - pow(tanh(net.act.gain * (d->b - net.act.threshold)), 2));
    }
    err = PetscMax(err, PetscAbsReal(cond.stability - PetscMax(da, db) * PetscMax(al, ga)));
    err = PetscMax(err, PetscAbsReal(cond.instability[0] - (q * (ga - al) * (db - da) - (1 - db * al) * (1 - da * ga))));
    err = PetscMax(err, PetscAbsReal(cond.instability[1] - (q * db * ((1 - q) * al + q * ga) - 1)));
    PetscCheck(err < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: §6 condition values differ from the formulas by %g", name, (double)err);
    PetscCheck(sign >= 0 || cond.stability_holds, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: the stability condition should hold here (value %g)", name,
               (double)cond.stability);
    PetscCheck(sign <= 0 || cond.any_instability_holds, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: an instability condition should hold here", name);
  }

  for (PetscInt mu = 0; mu < PetscMin(memories, net.P); mu++) {
    RmEquilibriumInfo eq;
    RmSpectrum        sp;
    Mat               J;
    PetscReal         dense = 0, diff, lrdiff;

    PetscCall(RmStabilityComputeMemoryEquilibrium(st, mu, x, &eq));
    PetscCheck(eq.converged && eq.residual < PetscMax(eq_tol, 1e-9), PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "%s: memory %" PetscInt_FMT ": no equilibrium (residual %g)", name, mu, (double)eq.residual);
    PetscCheck(eq.at_memory, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: memory %" PetscInt_FMT ": the equilibrium is not at the memory (overlap %g)", name,
               mu, (double)eq.overlap);
    PetscCall(RmStabilityComputeSpectrum(st, x, &sp));
    PetscCall(RmStabilityCreateOperator(st, x, PETSC_TRUE, &J)); /* the plain Jacobian at x */
    PetscCall(DenseAbscissa(J, &dense));
    PetscCall(MatDestroy(&J));
    diff   = PetscAbsReal(sp.abscissa - dense);
    lrdiff = PetscIsInfOrNanReal(sp.lowrank_abscissa) ? 0.0 : PetscAbsReal(sp.lowrank_abscissa - dense);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-34s memory %" PetscInt_FMT ": SLEPc %.15g, dense %.15g, |diff| %.2e, low-rank |diff| %.2e, %" PetscInt64_FMT " matvecs\n",
                          name, mu, (double)sp.abscissa, (double)dense, (double)diff, (double)lrdiff, sp.matvecs));
    PetscCheck(diff <= 1e-8, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: memory %" PetscInt_FMT ": SLEPc abscissa %.15g vs dense %.15g", name, mu,
               (double)sp.abscissa, (double)dense);
    PetscCheck(lrdiff <= 1e-8, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: memory %" PetscInt_FMT ": low-rank abscissa %.15g vs dense %.15g", name, mu,
               (double)sp.lowrank_abscissa, (double)dense);
    PetscCheck(sign >= 0 || sp.abscissa < 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: memory %" PetscInt_FMT ": abscissa %g should be < 0", name, mu,
               (double)sp.abscissa);
    PetscCheck(sign <= 0 || sp.abscissa > 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: memory %" PetscInt_FMT ": abscissa %g should be > 0", name, mu,
               (double)sp.abscissa);
    PetscCheck(sp.stable == (PetscBool)(sp.abscissa < 0), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: stable flag inconsistent", name);
  }
  PetscCall(VecDestroy(&x));
  PetscCall(RmStabilityDestroy(&st));
  PetscCall(RmStabilityDestroy(&st)); /* safe twice */
  PetscCall(RmClassifierDestroy(&cl));
  PetscCall(RmIntegratorDestroy(&integ));
  PetscCall(UtNetDestroy(&net));
  PetscCall(PetscOptionsClearValue(NULL, "-stability_operator"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Body(void)
{
  static const char *const ops[] = {"auto", "jacobian"};

  PetscFunctionBeginUser;
  for (int k = 0; k < 2; k++) {
    char name[64];
    /* stability condition holds: deterministic memories are exact equilibria */
    PetscCall(PetscSNPrintf(name, sizeof(name), "deterministic-sigmoid-%s", ops[k]));
    PetscCall(CheckCase(name, "-neurons 400 -pattern_kind deterministic", ops[k], 2, -1));
    /* instability condition 1 holds (rectified tanh, rho 4.8, x* 0.75, a = -0.3) */
    PetscCall(PetscSNPrintf(name, sizeof(name), "deterministic-rectanh-%s", ops[k]));
    PetscCall(CheckCase(name, "-neurons 400 -pattern_kind deterministic -activation rectanh -gain 4.8 -threshold 0.75", ops[k], 2, +1));
  }
  /* random memories: the equilibrium is found by integration (crosstalk), low-rank storage */
  PetscCall(CheckCase("random-sigmoid-lowrank", "-neurons 300 -memories 5 -seed 4 -storage lowrank", "auto", 2, -1));
  /* a less saturated sigmoid, aij storage: D varies more across neurons */
  PetscCall(CheckCase("random-sigmoid-gain2-aij", "-neurons 300 -memories 4 -seed 5 -gain 2 -storage aij", "auto", 2, 0));
  /* the Hebbian voltage model, J = -I + W D (full-rank W) */
  PetscCall(CheckCase("hebbian-gain2", "-neurons 256 -memories 4 -seed 6 -design hebbian -gain 2", "auto", 2, -1));
  PetscCall(CheckCase("hebbian-gain2-jacobian", "-neurons 256 -memories 4 -seed 6 -design hebbian -gain 2", "jacobian", 1, -1));
  /* the E/I network of docs/model.md §5 (state = neurons + P+1 pools, J not symmetrisable: EPS_NHEP);
     last, and its options cleared here, because utcommon's key list does not know them */
  PetscCall(CheckCase("ei-deterministic-tau_i-0.1", "-neurons 300 -pattern_kind deterministic -storage lowrank -network ei -tau_i 0.1", "auto", 2, -1));
  PetscCall(PetscOptionsClearValue(NULL, "-network"));
  PetscCall(PetscOptionsClearValue(NULL, "-tau_i"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

UT_MAIN(help, Body)
