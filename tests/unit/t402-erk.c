/* t402-erk: the adaptive explicit Runge–Kutta integrator (-integrator erk, ARKODE ARKStep).
   From the same cue (n = 600, P = 5 random memories, flip 0.1), for the paper design (rate model),
   the Hebbian design (voltage model) and the E/I network (stiffness 1; its label need not be a
   retrieval here), with -converge_tol 1e-8
   -rtol 1e-8 -atol 1e-10:
   - erk with the dormand-prince 5(4) and bogacki-shampine 3(2) tables converges to the label and
     nearest memory of bdf, with a final state within 1e-5 of bdf's (‖·‖∞);
   - its counts are those of the table: rhs_evals >= (stages - 1) steps, no J·v products;
   - a solve stopped by a step hook half-way and resumed (RmIntegratorSetResume, ARKODE
     re-initialised at t) reaches the uninterrupted state to 1e-6, its counts adding up;
   - with -t_final 0.01 it stops unconverged at t = 0.01;
   - an unknown type name is refused and erk's type name reads back. */
#include "utcommon.h"

static const char help[] = "Unit test of -integrator erk: same equilibrium as bdf, resume, t_final.\n";

static const char *const TOL = "-converge_tol 1e-8 -rtol 1e-8 -atol 1e-10";

typedef struct {
  PetscInt64 stop_at; /* stop at this step boundary (0: never) */
  PetscReal  t_stop;
} HookCtx;

static PetscErrorCode StopHook(void *ctx, PetscReal t, PetscInt64 steps, Vec x, PetscBool *stop)
{
  HookCtx *h = (HookCtx *)ctx;

  PetscFunctionBeginUser;
  *stop = (PetscBool)(h->stop_at > 0 && steps >= h->stop_at);
  if (*stop) h->t_stop = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Integrates x (from its value) with a new integrator of the given type; table: -erk_table or NULL.
   hook: a step hook to install (NULL: none); resume: continue from (t, prior). */
static PetscErrorCode Integrate(UtNet *net, RmIntegratorType type, const char *table, Vec x, HookCtx *hook, const RmIntegratorStats *resume,
                                RmIntegratorStats *st)
{
  RmIntegrator integ;

  PetscFunctionBeginUser;
  if (table) PetscCall(PetscOptionsSetValue(NULL, "-erk_table", table));
  PetscCall(RmIntegratorCreate(net->comm, &integ));
  PetscCall(RmIntegratorSetType(integ, type));
  PetscCall(RmIntegratorSetFromOptions(integ));
  PetscCall(RmIntegratorSetModel(integ, net->model));
  if (hook) PetscCall(RmIntegratorSetStepHook(integ, StopHook, hook));
  if (resume) PetscCall(RmIntegratorSetResume(integ, resume->t_end, resume));
  PetscCall(RmIntegratorSolve(integ, x, st));
  PetscCall(RmIntegratorDestroy(&integ));
  if (table) PetscCall(PetscOptionsClearValue(NULL, "-erk_table"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Label(UtNet *net, Vec x, PetscInt cue_memory, PetscBool converged, RmLabel *label, PetscInt *nearest)
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
  PetscCall(RmClassifierLabel(cl, &ov, cue_memory, converged, label, nearest));
  PetscCall(VecDestroy(&r));
  PetscCall(RmClassifierDestroy(&cl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MaxDiff(Vec a, Vec b, PetscReal *d)
{
  Vec w;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(a, &w));
  PetscCall(VecWAXPY(w, -1.0, a, b));
  PetscCall(VecNorm(w, NORM_INFINITY, d));
  PetscCall(VecDestroy(&w));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* retrieves: bdf is expected to retrieve the cue (else erk only has to reach bdf's label). */
static PetscErrorCode CheckNetwork(const char *base, PetscBool retrieves)
{
  const char *const tables[2] = {"dormand-prince", "bogacki-shampine"};
  const PetscInt    stages[2] = {7, 4};
  char              opts[512];
  UtNet             net;
  RmCueOptions      co = {RM_CUE_FLIP, 0.1, 1, 0.6};
  PetscInt          cue_memory, nearest_bdf, nearest;
  RmLabel           label_bdf, label;
  Vec               x0, xb, xk;
  RmIntegratorStats sb, sk;
  PetscReal         diff;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "%s %s", base, TOL));
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(RmModelCreateState(net.model, &x0));
  PetscCall(VecDuplicate(x0, &xb));
  PetscCall(VecDuplicate(x0, &xk));
  PetscCall(RmMemoriesCreateCue(net.mem, &co, 1, x0, &cue_memory));
  PetscCall(VecCopy(x0, xb));
  PetscCall(Integrate(&net, RMINTEGRATORBDF, NULL, xb, NULL, NULL, &sb));
  PetscCall(Label(&net, xb, cue_memory, sb.converged, &label_bdf, &nearest_bdf));
  PetscCheck(sb.converged && (label_bdf == RM_LABEL_RETRIEVED || !retrieves), PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] bdf reference: converged %d, label %s, expected a converged retrieval", base, (int)sb.converged, RmLabels[label_bdf]);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t402 %s\n     bdf   t_end %7.3f steps %5" PetscInt64_FMT " rhs %5" PetscInt64_FMT " (+ jv %" PetscInt64_FMT ")\n", base,
                        (double)sb.t_end, sb.steps, sb.rhs_evals, sb.jtimes_evals));
  for (int k = 0; k < 2; k++) {
    PetscCall(VecCopy(x0, xk));
    PetscCall(Integrate(&net, RMINTEGRATORERK, tables[k], xk, NULL, NULL, &sk));
    PetscCall(Label(&net, xk, cue_memory, sk.converged, &label, &nearest));
    PetscCall(MaxDiff(xb, xk, &diff));
    PetscCheck(sk.converged && sk.residual < 1e-8, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] erk %s did not converge: residual %g at t = %g", base, tables[k],
               (double)sk.residual, (double)sk.t_end);
    PetscCheck(label == label_bdf && nearest == nearest_bdf, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] erk %s: label %s nearest %" PetscInt_FMT ", bdf: %s nearest %" PetscInt_FMT, base, tables[k], RmLabels[label], nearest, RmLabels[label_bdf],
               nearest_bdf);
    PetscCheck(diff <= 1e-5, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] erk %s final state differs from bdf's: ||x_bdf - x_erk||_inf = %g, expected <= 1e-5", base,
               tables[k], (double)diff);
    PetscCheck(sk.steps > 0 && sk.rhs_evals >= (stages[k] - 1) * sk.steps && sk.jtimes_evals == 0 && sk.t_end > 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] erk %s counts inconsistent: %" PetscInt64_FMT " steps, %" PetscInt64_FMT " RHS (expected >= %" PetscInt_FMT " per step), %" PetscInt64_FMT
               " J·v, t_end %g",
               base, tables[k], sk.steps, sk.rhs_evals, stages[k] - 1, sk.jtimes_evals, (double)sk.t_end);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     erk %-16s t_end %7.3f steps %5" PetscInt64_FMT " rhs %5" PetscInt64_FMT " err_fails %3" PetscInt64_FMT
                                            "  |x - x_bdf|_inf %.1e  label %s\n",
                          tables[k], (double)sk.t_end, sk.steps, sk.rhs_evals, sk.err_test_fails, (double)diff, RmLabels[label]));
  }

  /* Stop half-way through the dormand-prince solve (xk holds its final state), resume, compare. */
  {
    HookCtx           h = {0, 0};
    RmIntegratorStats s1, s2;
    Vec               xr;
    PetscCall(VecDuplicate(x0, &xr));
    PetscCall(VecCopy(x0, xk));
    PetscCall(Integrate(&net, RMINTEGRATORERK, NULL, xk, NULL, NULL, &sk));
    h.stop_at = sk.steps / 2;
    PetscCall(VecCopy(x0, xr));
    PetscCall(Integrate(&net, RMINTEGRATORERK, NULL, xr, &h, NULL, &s1));
    PetscCheck(s1.stopped && !s1.converged && s1.steps == h.stop_at && PetscAbsReal(s1.t_end - h.t_stop) == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] erk stopped by the hook: stopped %d converged %d steps %" PetscInt64_FMT " (asked %" PetscInt64_FMT ") t_end %g (hook %g)", base,
               (int)s1.stopped, (int)s1.converged, s1.steps, h.stop_at, (double)s1.t_end, (double)h.t_stop);
    PetscCall(Integrate(&net, RMINTEGRATORERK, NULL, xr, NULL, &s1, &s2));
    PetscCall(MaxDiff(xk, xr, &diff));
    PetscCheck(s2.converged && !s2.stopped && diff <= 1e-6 && s2.steps > s1.steps && s2.rhs_evals > s1.rhs_evals && s2.t_end > s1.t_end, PETSC_COMM_WORLD,
               PETSC_ERR_PLIB,
               "[%s] erk resumed at t = %g: converged %d, |x - x_uninterrupted|_inf %g (expected <= 1e-6), steps %" PetscInt64_FMT " after %" PetscInt64_FMT, base,
               (double)s1.t_end, (int)s2.converged, (double)diff, s2.steps, s1.steps);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "     erk stopped at step %" PetscInt64_FMT " (t = %.3f), resumed: steps %" PetscInt64_FMT " (uninterrupted %" PetscInt64_FMT
                          "), |x - x_uninterrupted|_inf %.1e\n",
                          s1.steps, (double)s1.t_end, s2.steps, sk.steps, (double)diff));
    PetscCall(VecDestroy(&xr));
  }

  /* -t_final 0.01: unconverged, stopped at t_final. */
  PetscCall(PetscOptionsSetValue(NULL, "-t_final", "0.01"));
  PetscCall(VecCopy(x0, xk));
  PetscCall(Integrate(&net, RMINTEGRATORERK, NULL, xk, NULL, NULL, &sk));
  PetscCall(PetscOptionsClearValue(NULL, "-t_final"));
  PetscCheck(!sk.converged && sk.residual >= 1e-8 && PetscAbsReal(sk.t_end - 0.01) < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] erk with t_final 0.01: converged %d, residual %g, t_end %g, expected unconverged at t = 0.01", base, (int)sk.converged, (double)sk.residual,
             (double)sk.t_end);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "     erk with t_final 0.01: unconverged at t = %g\n", (double)sk.t_end));

  PetscCall(VecDestroy(&x0));
  PetscCall(VecDestroy(&xb));
  PetscCall(VecDestroy(&xk));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckTypes(void)
{
  RmIntegrator     integ;
  RmIntegratorType type;
  PetscBool        match, fixed;
  PetscErrorCode   ierr;

  PetscFunctionBeginUser;
  PetscCall(RmIntegratorCreate(PETSC_COMM_WORLD, &integ));
  PetscCall(RmIntegratorSetType(integ, RMINTEGRATORERK));
  PetscCall(RmIntegratorGetType(integ, &type));
  PetscCall(PetscStrcmp(type, "erk", &match));
  PetscCall(RmIntegratorIsFixedStep(integ, &fixed));
  PetscCheck(match && !fixed, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "type reads back as %s (fixed step %d), expected erk (adaptive)", type, (int)fixed);
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = RmIntegratorSetType(integ, "rk45");
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_ARG_UNKNOWN_TYPE, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "RmIntegratorSetType(\"rk45\") returned %d, expected an unknown-type error",
             (int)ierr);
  PetscCall(RmIntegratorDestroy(&integ));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t402 type erk reads back; unknown type refused: ok\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  PetscCall(CheckNetwork("-pattern_kind random -neurons 600 -memories 5 -seed 4", PETSC_TRUE));
  PetscCall(CheckNetwork("-pattern_kind random -neurons 600 -memories 5 -seed 4 -design hebbian", PETSC_TRUE));
  PetscCall(CheckNetwork("-pattern_kind random -neurons 600 -memories 5 -seed 4 -network ei -storage lowrank -stiffness 1", PETSC_FALSE));
  PetscCall(CheckTypes());
  PetscFunctionReturn(PETSC_SUCCESS);
}

UT_MAIN(help, Run)
