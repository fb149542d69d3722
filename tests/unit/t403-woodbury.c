/* t403-woodbury: the exact low-rank Newton solver (include/ratemem/woodbury.h, docs/model.md §3).
   - For the rate model (paper design), the voltage model (Hebbian design) and the E/I network (§5;
     stiffness 100 to 10⁴, pools of 1 to 3 units, c1 of both signs) on -storage lowrank, with
     P = 7, 13 and 50 memories (nibble groups of 4 full and partial), τ = 1 and 2, γ = 0.05, 0.7 and 30,
     at a random state: z = M⁻¹ r for random r satisfies ‖M z − r‖₂ ≤ 1e-10 ‖r‖₂, with
     M z = z − γ J z through the model's own analytic J·v (RmModelJacobianMult);
   - the same after RmWoodburySetGamma to 2.5 γ with the same D;
   - the same with the avx2 and portable kernels of the factor operator;
   - a dense W has no factors: RmWoodburyApplicable says no;
   - retrieval with CVODE BDF, -cvode_ls woodbury against -cvode_ls spgmr (-rtol 1e-8): both converge,
     to final states within 1e-6, and the woodbury run makes no J·v product. */
#include "utcommon.h"

static const char help[] = "Unit test of the low-rank Newton solver (Woodbury identity) for the rate and voltage models.\n";

static PetscErrorCode CheckInverse(const char *opts, PetscReal gamma)
{
  UtNet       net;
  Vec         x, r, z, Jz;
  RmWoodbury  wb;
  PetscScalar *a;
  PetscInt     lo, hi;
  PetscReal    nr, nres, tau;
  PetscBool    ok;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(RmWoodburyApplicable(net.model, &ok, NULL));
  PetscCheck(ok, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] woodbury not applicable", opts);
  PetscCall(RmModelCreateState(net.model, &x));
  PetscCall(VecDuplicate(x, &r));
  PetscCall(VecDuplicate(x, &z));
  PetscCall(VecDuplicate(x, &Jz));
  PetscCall(VecGetOwnershipRange(x, &lo, &hi));
  PetscCall(VecGetArrayWrite(x, &a));
  for (PetscInt i = lo; i < hi; i++) a[i - lo] = 0.5 + 0.8 * UtNoise(1, i); /* rates around the steep part of φ */
  PetscCall(VecRestoreArrayWrite(x, &a));
  PetscCall(VecGetArrayWrite(r, &a));
  for (PetscInt i = lo; i < hi; i++) a[i - lo] = UtNoise(2, i);
  PetscCall(VecRestoreArrayWrite(r, &a));
  PetscCall(RmModelJacobianSetUp(net.model, x));
  PetscCall(RmWoodburyCreate(net.model, &wb));
  PetscCall(RmWoodburySetUp(wb, gamma));
  PetscCall(RmWoodburySolve(wb, r, z));
  PetscCall(RmModelJacobianMult(net.model, z, Jz)); /* M z − r = z − γ J z − r */
  PetscCall(VecAYPX(Jz, -gamma, z));
  PetscCall(VecAXPY(Jz, -1.0, r));
  PetscCall(VecNorm(Jz, NORM_2, &nres));
  PetscCall(VecNorm(r, NORM_2, &nr));
  PetscCall(RmModelGetTau(net.model, &tau));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t403 [%s] gamma %g: ||M z - r|| / ||r|| = %.3e\n", opts, (double)gamma, (double)(nres / nr)));
  PetscCheck(nres <= 1e-10 * nr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] gamma %g: ||M z - r|| = %g > 1e-10 ||r|| = %g", opts, (double)gamma, (double)nres,
             (double)(1e-10 * nr));
  PetscCall(RmWoodburySolve(wb, r, r)); /* in place */
  PetscCall(VecAXPY(r, -1.0, z));
  PetscCall(VecNorm(r, NORM_INFINITY, &nres));
  PetscCheck(nres == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] in-place solve differs by %g", opts, (double)nres);
  { /* a new γ with the same D (RmWoodburySetGamma: no Gram pass for d = 0) */
    const PetscReal g2 = 2.5 * gamma;
    PetscCall(VecGetArrayWrite(r, &a));
    for (PetscInt i = lo; i < hi; i++) a[i - lo] = UtNoise(3, i);
    PetscCall(VecRestoreArrayWrite(r, &a));
    PetscCall(RmWoodburySetGamma(wb, g2));
    PetscCall(RmWoodburySolve(wb, r, z));
    PetscCall(RmModelJacobianMult(net.model, z, Jz));
    PetscCall(VecAYPX(Jz, -g2, z));
    PetscCall(VecAXPY(Jz, -1.0, r));
    PetscCall(VecNorm(Jz, NORM_2, &nres));
    PetscCall(VecNorm(r, NORM_2, &nr));
    PetscCheck(nres <= 1e-10 * nr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] SetGamma %g: ||M z - r|| = %g > 1e-10 ||r|| = %g", opts, (double)g2, (double)nres,
               (double)(1e-10 * nr));
  }
  PetscCall(RmWoodburyDestroy(&wb));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&r));
  PetscCall(VecDestroy(&z));
  PetscCall(VecDestroy(&Jz));
  PetscCall(UtNetDestroy(&net));
  PetscCall(PetscOptionsClearValue(NULL, "-lowrank_kernel"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Integrate(UtNet *net, const char *ls, Vec x0, Vec x, RmIntegratorStats *st)
{
  RmIntegrator integ;
  char         opt[64];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opt, sizeof(opt), "-cvode_ls %s", ls));
  PetscCall(PetscOptionsInsertString(NULL, opt));
  PetscCall(RmIntegratorCreate(net->comm, &integ));
  PetscCall(RmIntegratorSetType(integ, RMINTEGRATORBDF));
  PetscCall(RmIntegratorSetFromOptions(integ));
  PetscCall(RmIntegratorSetModel(integ, net->model));
  PetscCall(RmIntegratorSetUp(integ));
  PetscCall(VecCopy(x0, x));
  PetscCall(RmIntegratorSolve(integ, x, st));
  PetscCall(RmIntegratorDestroy(&integ));
  PetscCall(PetscOptionsClearValue(NULL, "-cvode_ls"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckRetrieval(const char *base)
{
  char              opts[512];
  UtNet             net;
  RmCueOptions      co = {RM_CUE_FLIP, 0.1, 1, 0.6};
  PetscInt          cue_memory;
  Vec               x0, xs, xw;
  RmIntegratorStats ss, sw;
  PetscReal         diff;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "%s -converge_tol 1e-8 -rtol 1e-8 -atol 1e-10", base));
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(RmModelCreateState(net.model, &x0));
  PetscCall(VecDuplicate(x0, &xs));
  PetscCall(VecDuplicate(x0, &xw));
  {
    Vec xn;
    PetscCall(RmModelCreateNeuronVec(net.model, &xn));
    PetscCall(RmMemoriesCreateCue(net.mem, &co, 1, xn, &cue_memory));
    PetscCall(RmModelStateFromNeurons(net.model, xn, x0));
    PetscCall(VecDestroy(&xn));
  }
  PetscCall(Integrate(&net, "spgmr", x0, xs, &ss));
  PetscCall(Integrate(&net, "woodbury", x0, xw, &sw));
  PetscCall(VecAXPY(xw, -1.0, xs));
  PetscCall(VecNorm(xw, NORM_INFINITY, &diff));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "t403 [%s] spgmr: %" PetscInt64_FMT " steps %" PetscInt64_FMT " RHS %" PetscInt64_FMT " J.v; woodbury: %" PetscInt64_FMT
                        " steps %" PetscInt64_FMT " RHS %" PetscInt64_FMT " J.v; ||x_w - x_s||_inf = %.3e\n",
                        base, ss.steps, ss.rhs_evals, ss.jtimes_evals, sw.steps, sw.rhs_evals, sw.jtimes_evals, (double)diff));
  PetscCheck(ss.converged && sw.converged, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] not converged: spgmr %d, woodbury %d", base, (int)ss.converged,
             (int)sw.converged);
  PetscCheck(diff <= 1e-6, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] woodbury final state differs from spgmr's by %g > 1e-6", base, (double)diff);
  PetscCheck(sw.jtimes_evals == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] woodbury made %" PetscInt64_FMT " J.v products", base, sw.jtimes_evals);
  PetscCall(VecDestroy(&x0));
  PetscCall(VecDestroy(&xs));
  PetscCall(VecDestroy(&xw));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  const char *const nets[] = {"-pattern_kind random -neurons 600 -memories 7 -seed 3 -storage lowrank",
                              "-pattern_kind random -neurons 600 -memories 13 -seed 5 -storage lowrank -tau 2",
                              "-pattern_kind random -neurons 700 -memories 50 -seed 6 -storage lowrank -coding 0.3",
                              "-pattern_kind random -neurons 600 -memories 7 -seed 3 -storage lowrank -design hebbian",
                              "-pattern_kind random -neurons 650 -memories 50 -seed 8 -storage lowrank -design hebbian -tau 2",
                              "-pattern_kind random -neurons 600 -memories 13 -seed 5 -storage lowrank -activation rectanh",
                              "-pattern_kind random -neurons 600 -memories 13 -seed 5 -storage lowrank -lowrank_kernel avx2",
                              "-pattern_kind random -neurons 600 -memories 7 -seed 3 -storage lowrank -design hebbian -lowrank_kernel portable",
                              "-pattern_kind random -neurons 600 -memories 7 -seed 3 -storage lowrank -network ei -stiffness 100",
                              "-pattern_kind random -neurons 700 -memories 50 -seed 6 -storage lowrank -network ei -stiffness 10000 -pool_size 3",
                              "-pattern_kind random -neurons 600 -memories 13 -seed 5 -storage lowrank -network ei -stiffness 1000 -a -0.3 -pool_size 2 -tau 2",
                              NULL};
  const PetscReal   gammas[] = {0.05, 0.7, 30.0};

  PetscFunctionBeginUser;
  for (const char *const *o = nets; *o; o++)
    for (int g = 0; g < 3; g++) PetscCall(CheckInverse(*o, gammas[g]));
  {
    UtNet     net;
    PetscBool ok;
    PetscCall(UtNetCreate(PETSC_COMM_WORLD, "-pattern_kind random -neurons 200 -memories 5 -seed 3 -storage dense", &net));
    PetscCall(RmWoodburyApplicable(net.model, &ok, NULL));
    PetscCheck(!ok, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "woodbury reported applicable to dense weights");
    PetscCall(UtNetDestroy(&net));
  }
  PetscCall(CheckRetrieval("-pattern_kind random -neurons 1000 -memories 8 -seed 4 -storage lowrank"));
  PetscCall(CheckRetrieval("-pattern_kind random -neurons 1000 -memories 8 -seed 4 -storage lowrank -design hebbian"));
  PetscCall(CheckRetrieval("-pattern_kind random -neurons 1000 -memories 8 -seed 4 -storage lowrank -network ei -stiffness 1000 -pool_size 2"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

UT_MAIN(help, Run)
