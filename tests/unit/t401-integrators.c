/* t401-integrators: integration to an equilibrium (docs/model.md §3).
   From the same cue (n = 1000, P = 5 random memories, flip 0.1), for the paper design (rate model)
   and the Hebbian design (voltage model), with -converge_tol 1e-8 -rtol 1e-8 -atol 1e-10:
   - CVODE BDF, CVODE Adams and explicit Euler (dt 0.01) all converge, to the same state:
     ‖x_bdf - x_other‖∞ <= 1e-5, and the state retrieves the cued memory;
   - BDF needs fewer RHS evaluations than Euler;
   - solving twice from the same cue with one BDF integrator gives the same answer (re-initialisation);
   - BDF on PETSC_COMM_SELF reaches the WORLD state to 1e-6 (rank independence);
   - with -t_final 0.01 no method converges (converged = false, t_end = t_final);
   - RmIntegratorSetType after set-up is an error, and RmIntegratorDestroy is safe to call twice. */
#include "utcommon.h"

static const char help[] = "Unit test of RmIntegrator: BDF, Adams and Euler reach the same equilibrium (docs/model.md §3).\n";

static const char *const TOL = "-converge_tol 1e-8 -rtol 1e-8 -atol 1e-10 -euler_dt 0.01";

/* Integrate from x0 with a new integrator of the given type. With again != NULL, solve a second time
   from x0 with the same integrator (re-initialisation) and return its statistics and ‖x2 - x‖∞. */
static PetscErrorCode Integrate(UtNet *net, RmIntegratorType type, Vec x0, Vec x, RmIntegratorStats *st, RmIntegratorStats *again,
                                PetscReal *diff_again)
{
  RmIntegrator integ;

  PetscFunctionBeginUser;
  PetscCall(RmIntegratorCreate(net->comm, &integ));
  PetscCall(RmIntegratorSetType(integ, type)); /* before SetFromOptions, which reads the type's own options */
  PetscCall(RmIntegratorSetFromOptions(integ));
  PetscCall(RmIntegratorSetModel(integ, net->model));
  PetscCall(RmIntegratorSetUp(integ));
  PetscCall(VecCopy(x0, x));
  PetscCall(RmIntegratorSolve(integ, x, st));
  if (again) {
    Vec y;
    PetscCall(VecDuplicate(x0, &y));
    PetscCall(VecCopy(x0, y));
    PetscCall(RmIntegratorSolve(integ, y, again));
    PetscCall(VecAXPY(y, -1.0, x));
    PetscCall(VecNorm(y, NORM_INFINITY, diff_again));
    PetscCall(VecDestroy(&y));
  }
  PetscCall(RmIntegratorDestroy(&integ));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Normalised overlap of the readout of x with memory mu. */
static PetscErrorCode OverlapWith(UtNet *net, Vec x, PetscInt mu, PetscReal *m)
{
  RmClassifier cl;
  RmOverlaps   ov;
  Vec          r;

  PetscFunctionBeginUser;
  PetscCall(RmClassifierCreate(net->mem, &cl));
  PetscCall(RmClassifierSetRateScale(cl, net->design.phi_a, net->design.phi_b));
  PetscCall(RmClassifierSetUp(cl));
  PetscCall(VecDuplicate(x, &r));
  PetscCall(RmModelReadout(net->model, x, r));
  PetscCall(RmClassifierComputeOverlaps(cl, r, &ov));
  *m = ov.normalised[mu];
  PetscCall(VecDestroy(&r));
  PetscCall(RmClassifierDestroy(&cl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckMethods(const char *base)
{
  const RmIntegratorType types[3] = {RMINTEGRATORBDF, RMINTEGRATORADAMS, RMINTEGRATOREULER};
  char                   opts[512];
  UtNet                  net;
  RmCueOptions           co = {RM_CUE_FLIP, 0.1, 1, 0.6};
  PetscInt               cue_memory;
  Vec                    x0, x[3], d;
  RmIntegratorStats      st[3];
  RmIntegratorStats      st_again;
  PetscReal              diff[3] = {0, 0, 0}, overlap[3], converge_tol, diff_again = -1;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "%s %s", base, TOL));
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(RmModelCreateState(net.model, &x0));
  PetscCall(VecDuplicate(x0, &d));
  PetscCall(RmMemoriesCreateCue(net.mem, &co, 1, x0, &cue_memory));
  for (int k = 0; k < 3; k++) {
    PetscCall(VecDuplicate(x0, &x[k]));
    PetscCall(Integrate(&net, types[k], x0, x[k], &st[k], k == 0 ? &st_again : NULL, &diff_again));
    PetscCall(OverlapWith(&net, x[k], cue_memory, &overlap[k]));
    PetscCall(VecWAXPY(d, -1.0, x[0], x[k]));
    PetscCall(VecNorm(d, NORM_INFINITY, &diff[k]));
  }
  converge_tol = 1e-8;
  for (int k = 0; k < 3; k++) {
    PetscCheck(st[k].converged, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] %s did not converge: residual %g at t = %g", base,
               types[k], (double)st[k].residual, (double)st[k].t_end);
    PetscCheck(st[k].residual < converge_tol, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] %s reports converged with residual %g >= %g", base,
               types[k], (double)st[k].residual, (double)converge_tol);
    PetscCheck(diff[k] <= 1e-5, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] %s final state differs from BDF's: ||x_bdf - x||_inf = %g, expected <= 1e-5",
               base, types[k], (double)diff[k]);
    PetscCheck(overlap[k] > 0.9, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] %s final state has overlap %g with the cued memory %" PetscInt_FMT ", expected > 0.9", base, types[k],
               (double)overlap[k], cue_memory);
    PetscCheck(st[k].steps > 0 && st[k].rhs_evals >= st[k].steps && st[k].t_end > 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] %s statistics inconsistent: %" PetscInt64_FMT " steps, %" PetscInt64_FMT " RHS evaluations, t_end %g", base,
               types[k], st[k].steps, st[k].rhs_evals, (double)st[k].t_end);
  }
  PetscCheck(st[0].rhs_evals < st[2].rhs_evals, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] BDF used %" PetscInt64_FMT " RHS evaluations, not fewer than Euler's %" PetscInt64_FMT, base, st[0].rhs_evals, st[2].rhs_evals);
  PetscCheck(PetscAbsReal(st[2].t_end - 0.01 * st[2].steps) < 1e-9, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] Euler: t_end %g after %" PetscInt64_FMT " steps of 0.01", base, (double)st[2].t_end, st[2].steps);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t401 %s\n", base));
  for (int k = 0; k < 3; k++)
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "     %-5s converged t_end %7.3f steps %5" PetscInt64_FMT " rhs %5" PetscInt64_FMT " jv %4" PetscInt64_FMT
                          " residual %.1e  |x - x_bdf|_inf %.1e  overlap %.6f\n",
                          types[k], (double)st[k].t_end, st[k].steps, st[k].rhs_evals, st[k].jtimes_evals, (double)st[k].residual,
                          (double)diff[k], (double)overlap[k]));

  /* One integrator, two solves from the same cue: the same final state and statistics. */
  PetscCheck(diff_again == 0 && st_again.steps == st[0].steps && st_again.rhs_evals == st[0].rhs_evals, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] second solve with the same BDF integrator differs: |dx| %g, steps %" PetscInt64_FMT " vs %" PetscInt64_FMT ", rhs %" PetscInt64_FMT
             " vs %" PetscInt64_FMT,
             base, (double)diff_again, st_again.steps, st[0].steps, st_again.rhs_evals, st[0].rhs_evals);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     bdf solved twice with one integrator: identical state and statistics\n"));

  /* Rank independence: BDF on PETSC_COMM_SELF from the SELF cue reaches the same state. */
  {
    UtNet              ns;
    Vec                s0, sx;
    RmIntegratorStats  ss;
    PetscInt           cs;
    const PetscScalar *a, *b;
    PetscReal          dself = 0;
    PetscCall(UtNetCreate(PETSC_COMM_SELF, opts, &ns));
    PetscCall(RmModelCreateState(ns.model, &s0));
    PetscCall(VecDuplicate(s0, &sx));
    PetscCall(RmMemoriesCreateCue(ns.mem, &co, 1, s0, &cs));
    PetscCall(Integrate(&ns, RMINTEGRATORBDF, s0, sx, &ss, NULL, NULL));
    PetscCall(VecGetArrayRead(sx, &a));
    PetscCall(VecGetArrayRead(x[0], &b));
    for (PetscInt i = net.rstart; i < net.rend; i++) dself = PetscMax(dself, PetscAbsReal(a[i] - b[i - net.rstart]));
    PetscCall(VecRestoreArrayRead(x[0], &b));
    PetscCall(VecRestoreArrayRead(sx, &a));
    PetscCall(UtGlobalMax(&dself));
    PetscCheck(ss.converged && cs == cue_memory && dself <= 1e-6, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] BDF on SELF: converged %d, cue %" PetscInt_FMT ", |x_self - x_world|_inf = %g, expected <= 1e-6", base, (int)ss.converged, cs,
               (double)dself);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     bdf on PETSC_COMM_SELF: |x_self - x_world|_inf %.1e\n", (double)dself));
    PetscCall(VecDestroy(&s0));
    PetscCall(VecDestroy(&sx));
    PetscCall(UtNetDestroy(&ns));
  }

  /* -t_final 0.01: no method converges, and each stops at t_final. */
  PetscCall(PetscOptionsSetValue(NULL, "-t_final", "0.01"));
  for (int k = 0; k < 3; k++) {
    RmIntegratorStats s;
    PetscCall(Integrate(&net, types[k], x0, x[k], &s, NULL, NULL));
    PetscCheck(!s.converged, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] %s with t_final 0.01 reports converged (residual %g)", base,
               types[k], (double)s.residual);
    PetscCheck(s.residual >= converge_tol && PetscAbsReal(s.t_end - 0.01) < 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] %s with t_final 0.01: residual %g, t_end %g, expected residual >= %g and t_end = 0.01", base, types[k],
               (double)s.residual, (double)s.t_end, (double)converge_tol);
  }
  PetscCall(PetscOptionsClearValue(NULL, "-t_final"));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     t_final 0.01: bdf, adams, euler all unconverged\n"));

  for (int k = 0; k < 3; k++) PetscCall(VecDestroy(&x[k]));
  PetscCall(VecDestroy(&x0));
  PetscCall(VecDestroy(&d));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckLifecycle(void)
{
  UtNet          net;
  RmIntegrator   integ;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, "-neurons 200 -memories 3", &net));
  /* Destroy twice after a full set-up, for a CVODE type and for Euler. */
  for (int k = 0; k < 2; k++) {
    PetscCall(RmIntegratorCreate(PETSC_COMM_WORLD, &integ));
    PetscCall(RmIntegratorSetType(integ, k ? RMINTEGRATOREULER : RMINTEGRATORBDF));
    PetscCall(RmIntegratorSetModel(integ, net.model));
    PetscCall(RmIntegratorSetUp(integ));
    PetscCall(RmIntegratorSetUp(integ)); /* idempotent */
    /* The type cannot change once set up. */
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = RmIntegratorSetType(integ, RMINTEGRATORADAMS);
    PetscCall(PetscPopErrorHandler());
    PetscCheck(ierr != 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "RmIntegratorSetType after RmIntegratorSetUp was accepted, expected an error");
    PetscCall(RmIntegratorDestroy(&integ));
    PetscCheck(integ == NULL, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "RmIntegratorDestroy did not set the handle to NULL");
    PetscCall(RmIntegratorDestroy(&integ));
  }
  PetscCall(RmIntegratorCreate(PETSC_COMM_WORLD, &integ)); /* never set up */
  {
    RmIntegratorType type;
    PetscCall(RmIntegratorGetType(integ, &type));
    PetscBool        bdf;
    PetscCall(PetscStrcmp(type, RMINTEGRATORBDF, &bdf));
    PetscCheck(bdf, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "default integrator %s, expected bdf", type);
  }
  PetscCall(RmIntegratorDestroy(&integ));
  PetscCall(RmIntegratorDestroy(&integ));
  PetscCall(UtNetDestroy(&net));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t401 RmIntegratorDestroy twice, SetType after SetUp refused: ok\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  PetscCall(CheckMethods("-pattern_kind random -neurons 1000 -memories 5 -seed 4"));
  PetscCall(CheckMethods("-pattern_kind random -neurons 1000 -memories 5 -seed 4 -design hebbian"));
  PetscCall(CheckLifecycle());
  PetscFunctionReturn(PETSC_SUCCESS);
}

UT_MAIN(help, Run)
