/* Stability of equilibria (docs/model.md §6). At an equilibrium x the model's analytic J·v
   (RmModelJacobianMult) is wrapped in a MATSHELL and SLEPc's EPS finds the rightmost eigenvalues,
   distributed over the ranks that own the neurons. For the rate model J = (-I + D W)/tau with
   D = diag(phi'(W x + u)) >= 0 and W symmetric, so J is similar to the symmetric
   (-I + D^{1/2} W D^{1/2})/tau; the voltage model's J = (-I + W D)/tau likewise. That symmetric
   operator is the default where it applies (EPS_HEP: real Ritz values, monotone convergence,
   eigenvalue error ~ residual^2); it is applied through RmModelJacobianMult and a diagonal
   similarity, so the model remains the only place J is written down. */
#include <math.h>
#include <ratemem/stability.h>
#include <slepceps.h>

#define RM_NAN ((PetscReal)NAN)

const char *const RmStabilityOperators[] = {"auto", "symmetric", "jacobian", "RmStabilityOperator", "RM_STABILITY_OPERATOR_", NULL};
const char *const RmStabilityRefines[]   = {"integrate", "newton", "none", "RmStabilityRefine", "RM_STABILITY_REFINE_", NULL};

struct _p_RmStability {
  MPI_Comm            comm;
  PetscBool           setup_called;
  RmStabilityOperator op_requested, op;
  RmStabilityRefine   refine;
  PetscInt            nev, max_it, newton_its, dense_max;
  PetscReal           tol, eq_tol;
  /* the network (borrowed) */
  RmMemories   mem;
  RmSynapses   syn;
  RmModel      model;
  RmIntegrator integ;
  RmClassifier cl;
  RmJacobianForm form; /* D W (rate) or W D (voltage): D^{1/2} similarity; pools (E/I) or opaque: J itself */
  RmDesignType design_type;
  RmDesign     design;
  RmActivation act;
  PetscReal    tau, input;
  PetscInt     n, P, nloc, indegree; /* neurons */
  PetscInt     ns, nsloc;            /* model state (neurons, plus the pools of the E/I network) */
  /* solvers and work */
  EPS        eps;
  KSP        ksp;
  Mat        Jshell, Sshell;
  Vec        sqrtd, w, z, f, x0, dx; /* state-sized */
  Vec        xn, r;                  /* neuron-sized: a memory, a readout */
  PetscInt64 matvecs;
  PetscInt   neig, neig_alloc;
  PetscReal *eig_re, *eig_im;
};

static PetscClassId  RM_STABILITY_CLASSID;
static PetscLogEvent RM_EV_EIGEN, RM_EV_EQUILIBRIUM;

static PetscErrorCode RegisterEvents(void)
{
  static PetscBool registered = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (registered) PetscFunctionReturn(PETSC_SUCCESS);
  registered = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("RmStability", &RM_STABILITY_CLASSID));
  PetscCall(PetscLogEventRegister("RmEigenSolve", RM_STABILITY_CLASSID, &RM_EV_EIGEN));
  PetscCall(PetscLogEventRegister("RmEquilibrium", RM_STABILITY_CLASSID, &RM_EV_EQUILIBRIUM));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityCreate(MPI_Comm comm, RmStability *stab)
{
  PetscBool slepc;

  PetscFunctionBeginUser;
  PetscCall(SlepcInitialized(&slepc));
  if (!slepc) PetscCall(SlepcInitializeNoArguments()); /* PETSc is up already: this only registers SLEPc */
  PetscCall(RegisterEvents());
  PetscCall(PetscNew(stab));
  (*stab)->comm         = comm;
  (*stab)->op_requested = RM_STABILITY_OPERATOR_AUTO;
  (*stab)->refine       = RM_STABILITY_REFINE_INTEGRATE;
  (*stab)->nev          = 4;
  (*stab)->max_it       = 1000;
  (*stab)->dense_max    = 4000;
  (*stab)->tol          = 1e-10;
  (*stab)->eq_tol       = 1e-10;
  (*stab)->newton_its   = 10;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilitySetFromOptions(RmStability st)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(st->comm, NULL, "Stability of equilibria (docs/model.md §6)", "RmStability");
  PetscCall(PetscOptionsEnum("-stability_operator",
                             "Operator for the eigensolver: symmetric (-I + D^1/2 W D^1/2, EPS_HEP), jacobian (J from RmModelJacobianMult, EPS_NHEP), "
                             "auto (symmetric where it applies)",
                             "RmStabilitySetFromOptions", RmStabilityOperators, (PetscEnum)st->op_requested, (PetscEnum *)&st->op_requested, NULL));
  PetscCall(PetscOptionsInt("-stability_nev", "Rightmost eigenvalues computed per equilibrium", "RmStabilitySetFromOptions", st->nev, &st->nev, NULL));
  PetscCall(PetscOptionsReal("-stability_tol", "Eigensolver relative residual tolerance", "RmStabilitySetFromOptions", st->tol, &st->tol, NULL));
  PetscCall(PetscOptionsInt("-stability_max_it", "Eigensolver maximum iterations (restarts)", "RmStabilitySetFromOptions", st->max_it, &st->max_it, NULL));
  PetscCall(PetscOptionsEnum("-stability_refine", "Equilibrium of a memory from x^mu: integrate (RmIntegrator, then Newton polish), newton, none",
                             "RmStabilitySetFromOptions", RmStabilityRefines, (PetscEnum)st->refine, (PetscEnum *)&st->refine, NULL));
  PetscCall(PetscOptionsReal("-stability_equilibrium_tol", "An equilibrium has max-norm of dx/dt below this (x^mu already below it is used as is)",
                             "RmStabilitySetFromOptions", st->eq_tol, &st->eq_tol, NULL));
  PetscCall(PetscOptionsInt("-stability_newton_its", "Newton iterations of the equilibrium polish (0: none)", "RmStabilitySetFromOptions",
                            st->newton_its, &st->newton_its, NULL));
  PetscCall(PetscOptionsInt("-stability_dense_max", "Largest state size for the dense LAPACK fallback when the Krylov eigensolver fails",
                            "RmStabilitySetFromOptions", st->dense_max, &st->dense_max, NULL));
  PetscOptionsEnd();
  PetscCall(RmCheckFinite(st->comm, "stability_tol", st->tol));
  PetscCall(RmCheckFinite(st->comm, "stability_equilibrium_tol", st->eq_tol));
  PetscCheck(st->nev >= 1, st->comm, PETSC_ERR_ARG_OUTOFRANGE, "stability_nev must be >= 1, got %" PetscInt_FMT, st->nev);
  PetscCheck(st->tol > 0, st->comm, PETSC_ERR_ARG_OUTOFRANGE, "stability_tol must be > 0, got %g", (double)st->tol);
  PetscCheck(st->max_it >= 1, st->comm, PETSC_ERR_ARG_OUTOFRANGE, "stability_max_it must be >= 1, got %" PetscInt_FMT, st->max_it);
  PetscCheck(st->eq_tol > 0, st->comm, PETSC_ERR_ARG_OUTOFRANGE, "stability_equilibrium_tol must be > 0, got %g", (double)st->eq_tol);
  PetscCheck(st->newton_its >= 0, st->comm, PETSC_ERR_ARG_OUTOFRANGE, "stability_newton_its must be >= 0, got %" PetscInt_FMT, st->newton_its);
  /* The eigensolver: our defaults first, then -stability_eps_* options may override them. */
  if (!st->eps) PetscCall(EPSCreate(st->comm, &st->eps));
  PetscCall(EPSSetOptionsPrefix(st->eps, "stability_"));
  PetscCall(EPSSetType(st->eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(st->eps, EPS_LARGEST_REAL));
  PetscCall(EPSSetDimensions(st->eps, st->nev, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTolerances(st->eps, st->tol, st->max_it));
  PetscCall(EPSSetFromOptions(st->eps));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ResetWork(RmStability st)
{
  PetscFunctionBeginUser;
  PetscCall(MatDestroy(&st->Jshell));
  PetscCall(MatDestroy(&st->Sshell));
  PetscCall(VecDestroy(&st->sqrtd));
  PetscCall(VecDestroy(&st->w));
  PetscCall(VecDestroy(&st->z));
  PetscCall(VecDestroy(&st->f));
  PetscCall(VecDestroy(&st->x0));
  PetscCall(VecDestroy(&st->r));
  PetscCall(VecDestroy(&st->xn));
  PetscCall(VecDestroy(&st->dx));
  PetscCall(KSPDestroy(&st->ksp));
  st->setup_called = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilitySetNetwork(RmStability st, RmMemories mem, RmSynapses syn, RmModel model)
{
  PetscFunctionBeginUser;
  PetscCall(ResetWork(st));
  st->mem   = mem;
  st->syn   = syn;
  st->model = model;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilitySetIntegrator(RmStability st, RmIntegrator integ)
{
  PetscFunctionBeginUser;
  st->integ = integ;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilitySetClassifier(RmStability st, RmClassifier cl)
{
  PetscFunctionBeginUser;
  st->cl = cl;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- operators */

static PetscErrorCode JacobianShellMult(Mat A, Vec v, Vec y)
{
  RmStability st;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &st));
  st->matvecs++;
  PetscCall(RmModelJacobianMult(st->model, v, y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* S v = (-v + D^{1/2} W D^{1/2} v)/tau from the model's J by a diagonal similarity:
   rate    (J = (-I + D W)/tau):  w = D^{1/2} v,  z = tau J w + w = D W w,  S v = (-v + D^{-1/2} z)/tau;
   voltage (J = (-I + W D)/tau):  w = D^{-1/2} v, z = tau J w + w = W D w,  S v = (-v + D^{1/2} z)/tau.
   Where d_i = 0 the row and column of D^{1/2} W D^{1/2} vanish (w_i = 0, (S v)_i = -v_i/tau). The
   cancellation in tau J w + w costs eps |w_i|, i.e. eps |v_i| after the rescaling: harmless. */
static PetscErrorCode SymmetricShellMult(Mat A, Vec v, Vec y)
{
  RmStability        st;
  const PetscScalar *va, *sd, *za, *wr;
  PetscScalar       *wa, *ya;
  PetscInt           nloc;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &st));
  st->matvecs++;
  PetscCall(VecGetLocalSize(v, &nloc));
  PetscCall(VecGetArrayRead(v, &va));
  PetscCall(VecGetArrayRead(st->sqrtd, &sd));
  PetscCall(VecGetArrayWrite(st->w, &wa));
  if (st->form == RM_JACOBIAN_DW)
    for (PetscInt i = 0; i < nloc; i++) wa[i] = sd[i] * va[i];
  else
    for (PetscInt i = 0; i < nloc; i++) wa[i] = sd[i] > 0 ? va[i] / sd[i] : 0.0;
  PetscCall(VecRestoreArrayWrite(st->w, &wa));
  PetscCall(RmModelJacobianMult(st->model, st->w, st->z));
  PetscCall(VecGetArrayRead(st->w, &wr));
  PetscCall(VecGetArrayRead(st->z, &za));
  PetscCall(VecGetArrayWrite(y, &ya));
  const PetscReal tau = st->tau, itau = 1.0 / st->tau;
  for (PetscInt i = 0; i < nloc; i++) {
    PetscReal zi = tau * za[i] + wr[i], s;
    if (st->form == RM_JACOBIAN_DW) s = sd[i] > 0 ? zi / sd[i] : 0.0;
    else s = sd[i] * zi;
    ya[i] = itau * (-va[i] + s);
  }
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscCall(VecRestoreArrayRead(st->z, &za));
  PetscCall(VecRestoreArrayRead(st->w, &wr));
  PetscCall(VecRestoreArrayRead(st->sqrtd, &sd));
  PetscCall(VecRestoreArrayRead(v, &va));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CreateShell(RmStability st, PetscBool jacobian, Mat *A)
{
  PetscFunctionBeginUser;
  PetscCall(MatCreateShell(st->comm, st->nsloc, st->nsloc, st->ns, st->ns, st, A));
  PetscCall(MatShellSetOperation(*A, MATOP_MULT, (void (*)(void))(jacobian ? JacobianShellMult : SymmetricShellMult)));
  PetscCall(MatSetOption(*A, MAT_SYMMETRIC, (PetscBool)!jacobian));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilitySetUp(RmStability st)
{
  Vec         x;
  PetscInt    batch;
  RmModelType type;

  PetscFunctionBeginUser;
  if (st->setup_called) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(st->mem && st->syn && st->model, st->comm, PETSC_ERR_ORDER, "call RmStabilitySetNetwork() before RmStabilitySetUp()");
  if (!st->eps) PetscCall(RmStabilitySetFromOptions(st));
  PetscCall(RmModelGetBatch(st->model, &batch));
  PetscCheck(batch == 1, st->comm, PETSC_ERR_ARG_INCOMP, "stability analysis needs a model with batch 1, got %" PetscInt_FMT, batch);
  PetscCall(RmModelGetJacobianForm(st->model, &st->form));
  PetscCall(RmModelGetType(st->model, &type));
  if (st->form == RM_JACOBIAN_DW || st->form == RM_JACOBIAN_WD) { /* the similarity and the checks below use the storage's W */
    Mat Wm;
    PetscCall(RmModelGetJacobianFactors(st->model, &Wm, NULL));
    PetscCheck(Wm, st->comm, PETSC_ERR_SUP, "stability analysis of model %s: its products do not go through the weight matrix (not supported)", type);
  }
  PetscCall(RmModelGetActivation(st->model, &st->act));
  PetscCall(RmModelGetTau(st->model, &st->tau));
  /* The model takes its constant input only from the options database (no getter yet). */
  st->input = 0;
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-input", &st->input, NULL));
  PetscCall(RmSynapsesGetDesignType(st->syn, &st->design_type));
  PetscCall(RmSynapsesGetDesign(st->syn, &st->design));
  PetscCall(RmSynapsesGetIndegree(st->syn, &st->indegree));
  PetscCall(RmMemoriesGetSizes(st->mem, &st->n, &st->P));
  PetscCall(RmModelCreateNeuronVec(st->model, &st->xn));
  PetscCall(VecDuplicate(st->xn, &st->r));
  PetscCall(VecGetLocalSize(st->xn, &st->nloc));
  PetscCall(RmModelCreateState(st->model, &x));
  PetscCall(VecGetLocalSize(x, &st->nsloc));
  PetscCall(VecGetSize(x, &st->ns));
  const PetscBool single = (PetscBool)(st->form == RM_JACOBIAN_DW || st->form == RM_JACOBIAN_WD);
  st->op                 = st->op_requested;
  /* the projection design's W is not symmetric in general (docs/model.md §2), so neither is D^{1/2} W D^{1/2}: use J itself */
  const PetscBool symmetric_w = (PetscBool)(st->design_type != RM_DESIGN_PROJECTION);
  if (st->op == RM_STABILITY_OPERATOR_AUTO) st->op = single && symmetric_w ? RM_STABILITY_OPERATOR_SYMMETRIC : RM_STABILITY_OPERATOR_JACOBIAN;
  PetscCheck(st->op != RM_STABILITY_OPERATOR_SYMMETRIC || symmetric_w, st->comm, PETSC_ERR_SUP,
             "-stability_operator symmetric needs a symmetric W; the projection design's is not (use jacobian or auto)");
  PetscCheck(st->op != RM_STABILITY_OPERATOR_SYMMETRIC || single, st->comm, PETSC_ERR_SUP,
             "-stability_operator symmetric needs the rate or voltage model (its J is similar to a symmetric matrix); use jacobian for model %s",
             type);
  PetscCall(VecDuplicate(x, &st->sqrtd));
  PetscCall(VecDuplicate(x, &st->w));
  PetscCall(VecDuplicate(x, &st->z));
  PetscCall(VecDuplicate(x, &st->f));
  PetscCall(VecDuplicate(x, &st->x0));
  PetscCall(VecDuplicate(x, &st->dx));
  PetscCall(VecDestroy(&x));
  PetscCall(CreateShell(st, PETSC_TRUE, &st->Jshell));
  if (single) PetscCall(CreateShell(st, PETSC_FALSE, &st->Sshell));
  /* Newton polish: GMRES without preconditioner (J = -I + low rank at the paper's memories). */
  PetscCall(KSPCreate(st->comm, &st->ksp));
  PetscCall(KSPSetType(st->ksp, KSPGMRES));
  PetscCall(KSPGMRESSetRestart(st->ksp, 100));
  PetscCall(KSPSetTolerances(st->ksp, 1e-12, 1e-300, PETSC_DEFAULT, 2000));
  {
    PC pc;
    PetscCall(KSPGetPC(st->ksp, &pc));
    PetscCall(PCSetType(pc, PCNONE));
  }
  st->setup_called = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityView(RmStability st, PetscViewer viewer)
{
  EPSType type;

  PetscFunctionBeginUser;
  PetscCall(EPSGetType(st->eps, &type));
  PetscCall(PetscViewerASCIIPrintf(viewer, "Stability: operator %s (%s), eigensolver %s, nev %" PetscInt_FMT ", tol %g; equilibria by %s (tol %g)\n",
                                   RmStabilityOperators[st->op != RM_STABILITY_OPERATOR_AUTO ? st->op : st->op_requested],
                                   st->op == RM_STABILITY_OPERATOR_JACOBIAN ? "EPS_NHEP" : "EPS_HEP", type, st->nev,
                                   (double)st->tol, RmStabilityRefines[st->refine], (double)st->eq_tol));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityDestroy(RmStability *stab)
{
  PetscFunctionBeginUser;
  if (!*stab) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ResetWork(*stab));
  PetscCall(EPSDestroy(&(*stab)->eps));
  PetscCall(PetscFree2((*stab)->eig_re, (*stab)->eig_im));
  PetscCall(PetscFree(*stab));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityGetOperatorType(RmStability st, RmStabilityOperator *op)
{
  PetscFunctionBeginUser;
  *op = st->op != RM_STABILITY_OPERATOR_AUTO ? st->op : st->op_requested; /* the last resolved one */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityGetRefineType(RmStability st, RmStabilityRefine *refine)
{
  PetscFunctionBeginUser;
  *refine = st->refine;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityGetSettings(RmStability st, PetscInt *nev, PetscReal *tol, PetscReal *equilibrium_tol)
{
  PetscFunctionBeginUser;
  if (nev) *nev = st->nev;
  if (tol) *tol = st->tol;
  if (equilibrium_tol) *equilibrium_tol = st->eq_tol;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityGetSolverType(RmStability st, const char **type)
{
  EPSType t;

  PetscFunctionBeginUser;
  PetscCheck(st->eps, PETSC_COMM_SELF, PETSC_ERR_ORDER, "call RmStabilitySetFromOptions() first");
  PetscCall(EPSGetType(st->eps, &t));
  *type = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- §6 conditions */

PetscErrorCode RmStabilityConditionsCompute(RmDesignType type, const RmDesign *d, const RmActivation *act, RmStabilityConditions *c)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(c, sizeof(*c)));
  c->stability = c->instability[0] = c->instability[1] = RM_NAN;
  c->dphi_a = c->dphi_b = c->eta = RM_NAN;
  if (type != RM_DESIGN_PAPER || !act->fn->rate) PetscFunctionReturn(PETSC_SUCCESS);
  const PetscReal q = d->coding, al = d->alpha_basic, ga = d->gamma;
  const PetscReal da = RmActivationDerivative(act, d->a), db = RmActivationDerivative(act, d->b);
  c->applicable           = PETSC_TRUE;
  c->dphi_a               = da;
  c->dphi_b               = db;
  c->eta                  = PetscMax(da, db);
  c->alpha_basic          = al;
  c->gamma                = ga;
  c->coding               = q;
  c->stability            = c->eta * PetscMax(al, ga);
  c->instability[0]       = q * (ga - al) * (db - da) - (1 - db * al) * (1 - da * ga);
  c->instability[1]       = q * db * ((1 - q) * al + q * ga) - 1;
  c->stability_holds      = (PetscBool)(c->stability < 1);
  c->instability_holds[0] = (PetscBool)(c->instability[0] > 0);
  c->instability_holds[1] = (PetscBool)(c->instability[1] > 0);
  c->any_instability_holds = (PetscBool)(c->instability_holds[0] || c->instability_holds[1]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityComputeConditions(RmStability st, RmStabilityConditions *c)
{
  RmDesignType type;
  RmDesign     d;
  RmActivation act;

  PetscFunctionBeginUser;
  PetscCheck(st->syn && st->model, PETSC_COMM_SELF, PETSC_ERR_ORDER, "call RmStabilitySetNetwork() first");
  PetscCall(RmSynapsesGetDesignType(st->syn, &type));
  PetscCall(RmSynapsesGetDesign(st->syn, &d));
  PetscCall(RmModelGetActivation(st->model, &act));
  PetscCall(RmStabilityConditionsCompute(type, &d, &act, c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- equilibria */

PetscErrorCode RmStabilityMemoryState(RmStability st, PetscInt mu, Vec x)
{
  const uint8_t *bits;
  PetscScalar   *xa;

  PetscFunctionBeginUser;
  PetscCall(RmStabilitySetUp(st));
  PetscCheck(mu >= 0 && mu < st->P, st->comm, PETSC_ERR_ARG_OUTOFRANGE, "memory %" PetscInt_FMT " out of range [0, %" PetscInt_FMT ")", mu, st->P);
  PetscCall(RmMemoriesGetLocalBits(st->mem, &bits));
  PetscCall(VecGetArrayWrite(st->xn, &xa));
  for (PetscInt i = 0; i < st->nloc; i++) xa[i] = bits[mu * st->nloc + i] ? st->design.phi_b : st->design.phi_a;
  PetscCall(VecRestoreArrayWrite(st->xn, &xa));
  PetscCall(RmModelStateFromNeurons(st->model, st->xn, x)); /* E/I: the pools at their steady state */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityPolishEquilibrium(RmStability st, Vec x, PetscReal *residual, PetscInt *its)
{
  PetscReal res;
  PetscInt  k = 0;

  PetscFunctionBeginUser;
  PetscCall(RmStabilitySetUp(st));
  PetscCall(RmModelRHS(st->model, x, st->f));
  PetscCall(RmModelFixedPointResidual(st->model, st->f, &res));
  for (; k < st->newton_its && res >= st->eq_tol; k++) {
    KSPConvergedReason reason;
    PetscReal          res_new;
    PetscCall(RmModelJacobianSetUp(st->model, x));
    PetscCall(KSPSetOperators(st->ksp, st->Jshell, st->Jshell));
    PetscCall(KSPSolve(st->ksp, st->f, st->dx)); /* J dx = f, x <- x - dx */
    PetscCall(KSPGetConvergedReason(st->ksp, &reason));
    if (reason < 0 && reason != KSP_DIVERGED_ITS) break;
    PetscCall(VecAXPY(x, -1.0, st->dx));
    PetscCall(RmModelRHS(st->model, x, st->f));
    PetscCall(RmModelFixedPointResidual(st->model, st->f, &res_new));
    if (!(res_new < res) && res_new >= st->eq_tol) { /* no progress (kink of phi'): undo and stop */
      PetscCall(VecAXPY(x, 1.0, st->dx));
      k++;
      break;
    }
    res = res_new;
  }
  if (residual) *residual = res;
  if (its) *its = k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Overlap of the readout of x with memory mu, the nearest memory and its label. */
static PetscErrorCode Classify(RmStability st, PetscInt mu, Vec x, RmEquilibriumInfo *info)
{
  RmOverlaps ov;
  RmLabel    label;

  PetscFunctionBeginUser;
  info->overlap   = RM_NAN;
  info->nearest   = -1;
  info->at_memory = PETSC_FALSE;
  if (!st->cl) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmModelReadout(st->model, x, st->r));
  PetscCall(RmClassifierComputeOverlaps(st->cl, st->r, &ov));
  PetscCall(RmClassifierLabel(st->cl, &ov, mu, PETSC_TRUE, &label, &info->nearest));
  info->overlap   = ov.normalised[mu];
  info->at_memory = (PetscBool)(label == RM_LABEL_RETRIEVED);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityComputeMemoryEquilibrium(RmStability st, PetscInt mu, Vec x, RmEquilibriumInfo *info)
{
  PetscBool integrated = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(RmStabilitySetUp(st));
  PetscCall(PetscLogEventBegin(RM_EV_EQUILIBRIUM, 0, 0, 0, 0));
  PetscCall(PetscMemzero(info, sizeof(*info)));
  PetscCall(RmStabilityMemoryState(st, mu, st->x0));
  PetscCall(VecCopy(st->x0, x));
  PetscCall(RmModelRHS(st->model, x, st->f));
  PetscCall(RmModelFixedPointResidual(st->model, st->f, &info->residual_initial));
  info->residual = info->residual_initial;
  if (info->residual >= st->eq_tol && st->refine == RM_STABILITY_REFINE_INTEGRATE) {
    RmIntegratorStats stats;
    PetscCheck(st->integ, st->comm, PETSC_ERR_ORDER, "-stability_refine integrate needs RmStabilitySetIntegrator()");
    PetscCall(RmIntegratorSolve(st->integ, x, &stats));
    info->steps     = stats.steps;
    info->rhs_evals = stats.rhs_evals;
    integrated      = stats.converged;
    PetscCall(RmStabilityPolishEquilibrium(st, x, &info->residual, &info->newton_its));
    if (st->cl) { /* an unstable memory is left by the flow: find it by Newton from x^mu instead */
      RmEquilibriumInfo c;
      PetscCall(Classify(st, mu, x, &c));
      if (!c.at_memory) {
        PetscInt its;
        PetscCall(VecCopy(st->x0, x));
        PetscCall(RmStabilityPolishEquilibrium(st, x, &info->residual, &its));
        info->newton_its += its;
        integrated = PETSC_FALSE;
      }
    }
  } else if (info->residual >= st->eq_tol && st->refine == RM_STABILITY_REFINE_NEWTON) {
    PetscCall(RmStabilityPolishEquilibrium(st, x, &info->residual, &info->newton_its));
  }
  info->converged = (PetscBool)(info->residual < st->eq_tol || integrated);
  PetscCall(VecWAXPY(st->w, -1.0, st->x0, x));
  PetscCall(VecNorm(st->w, NORM_INFINITY, &info->drift));
  PetscCall(Classify(st, mu, x, info));
  PetscCall(PetscLogEventEnd(RM_EV_EQUILIBRIUM, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- spectrum */

/* d = phi'(W x + u) (rate) or phi'(x) (voltage), the diagonal the model linearised at; then a
   check that J v from the model equals (-v + D W v)/tau, resp. (-v + W D v)/tau, with this d. */
static PetscErrorCode ComputeDiagonal(RmStability st, Vec x, Vec d)
{
  const PetscScalar *ha;
  PetscScalar       *da, *va;
  Mat                W;
  Vec                h, v, Jv, Wv;
  PetscInt           rstart;
  PetscReal          diff, ref;

  PetscFunctionBeginUser;
  PetscCall(RmSynapsesGetMat(st->syn, &W));
  PetscCall(VecDuplicate(x, &h));
  if (st->form == RM_JACOBIAN_DW) {
    PetscCall(MatMult(W, x, h));
    PetscCall(VecShift(h, st->input));
  } else PetscCall(VecCopy(x, h));
  PetscCall(VecGetArrayRead(h, &ha));
  PetscCall(VecGetArrayWrite(d, &da));
  RmActivationDerivativeArray(&st->act, st->nloc, ha, 0.0, da);
  PetscCall(VecRestoreArrayWrite(d, &da));
  PetscCall(VecRestoreArrayRead(h, &ha));
  /* consistency with the model's own linearisation (set up by the caller) */
  PetscCall(VecDuplicate(x, &v));
  PetscCall(VecDuplicate(x, &Jv));
  PetscCall(VecDuplicate(x, &Wv));
  PetscCall(VecGetOwnershipRange(v, &rstart, NULL));
  PetscCall(VecGetArrayWrite(v, &va));
  for (PetscInt i = 0; i < st->nloc; i++) va[i] = RmRandomUniform(0x57AB1E, (RmStream)11, 0, (uint64_t)(rstart + i)) - 0.5;
  PetscCall(VecRestoreArrayWrite(v, &va));
  PetscCall(RmModelJacobianMult(st->model, v, Jv));
  if (st->form == RM_JACOBIAN_DW) {
    PetscCall(MatMult(W, v, Wv));
    PetscCall(VecPointwiseMult(Wv, d, Wv));
  } else {
    PetscCall(VecPointwiseMult(h, d, v));
    PetscCall(MatMult(W, h, Wv));
  }
  PetscCall(VecAXPBY(Wv, -1.0 / st->tau, 1.0 / st->tau, v)); /* reference J v */
  PetscCall(VecNorm(Wv, NORM_2, &ref));
  PetscCall(VecAXPY(Wv, -1.0, Jv));
  PetscCall(VecNorm(Wv, NORM_2, &diff));
  PetscCall(VecDestroy(&h));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&Jv));
  PetscCall(VecDestroy(&Wv));
  PetscCall(RmSynapsesRestoreMat(st->syn, &W));
  PetscCheck(diff <= 1e-10 * ref, st->comm, PETSC_ERR_PLIB,
             "the model's Jacobian does not match (-I + D W)/tau with D = phi'(W x + u) (relative difference %g): use -stability_operator jacobian",
             (double)(diff / ref));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Eigenvalues of a small symmetric m x m matrix A (column-major, destroyed) by cyclic Jacobi
   rotations; V (may be NULL) receives the eigenvectors as columns. No LAPACK: it is not a direct
   link dependency, and m = P+1 is small. */
static void SymmetricEigen(PetscInt m, PetscReal *A, PetscReal *V, PetscReal *lambda)
{
  if (V)
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt j = 0; j < m; j++) V[i + j * m] = i == j;
  for (int sweep = 0; sweep < 100; sweep++) {
    PetscReal off = 0, tot = 0;
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt j = 0; j < m; j++) {
        tot += A[i + j * m] * A[i + j * m];
        if (i != j) off += A[i + j * m] * A[i + j * m];
      }
    if (off <= 1e-32 * tot || off == 0) break;
    for (PetscInt p = 0; p < m - 1; p++)
      for (PetscInt q = p + 1; q < m; q++) {
        PetscReal apq = A[p + q * m];
        if (apq == 0) continue;
        PetscReal theta = (A[q + q * m] - A[p + p * m]) / (2 * apq);
        PetscReal t     = (theta >= 0 ? 1.0 : -1.0) / (PetscAbsReal(theta) + PetscSqrtReal(theta * theta + 1));
        PetscReal c = 1 / PetscSqrtReal(t * t + 1), sn = t * c;
        for (PetscInt k = 0; k < m; k++) { /* A <- A G (columns p, q) */
          PetscReal akp = A[k + p * m], akq = A[k + q * m];
          A[k + p * m] = c * akp - sn * akq;
          A[k + q * m] = sn * akp + c * akq;
        }
        for (PetscInt k = 0; k < m; k++) { /* A <- G^T A (rows p, q) */
          PetscReal apk = A[p + k * m], aqk = A[q + k * m];
          A[p + k * m] = c * apk - sn * aqk;
          A[q + k * m] = sn * apk + c * aqk;
        }
        if (V)
          for (PetscInt k = 0; k < m; k++) {
            PetscReal vkp = V[k + p * m], vkq = V[k + q * m];
            V[k + p * m] = c * vkp - sn * vkq;
            V[k + q * m] = sn * vkp + c * vkq;
          }
      }
  }
  for (PetscInt i = 0; i < m; i++) lambda[i] = A[i + i * m];
}

/* For the paper design with all-to-all W = U C U^T, U = [xi^1-beta, ..., xi^P-beta, 1], C = diag(alpha/N, ..., gamma/N):
   the eigenvalues of D W other than 0 are those of C G with G = U^T D U (positive semi-definite), i.e. of the
   symmetric G^{1/2} C G^{1/2}, a (P+1)x(P+1) problem; so the spectrum of J is (-1 + eig)/tau plus -1/tau.
   An independent check of the SLEPc abscissa. */
static PetscErrorCode LowRankAbscissa(RmStability st, Vec d, PetscReal *abscissa)
{
  const uint8_t     *bits;
  const PetscScalar *da;
  PetscInt           m = st->P + 1;
  PetscReal         *Gl, *G, *V, *lam, *S, *cc, best = PETSC_MIN_REAL;

  PetscFunctionBeginUser;
  *abscissa = RM_NAN;
  if (st->form != RM_JACOBIAN_DW || st->design_type != RM_DESIGN_PAPER || st->indegree > 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmMemoriesGetLocalBits(st->mem, &bits));
  PetscCall(PetscCalloc6(m * m, &Gl, m * m, &G, m * m, &V, m, &lam, m * m, &S, m, &cc));
  PetscCall(VecGetArrayRead(d, &da));
  for (PetscInt i = 0; i < st->nloc; i++) {
    for (PetscInt mu = 0; mu < st->P; mu++) cc[mu] = bits[mu * st->nloc + i] - st->design.beta;
    cc[st->P] = 1.0;
    for (PetscInt a = 0; a < m; a++)
      for (PetscInt b = 0; b < m; b++) Gl[a + b * m] += da[i] * cc[a] * cc[b];
  }
  PetscCall(VecRestoreArrayRead(d, &da));
  PetscCallMPI(MPI_Allreduce(Gl, G, (PetscMPIInt)(m * m), MPIU_REAL, MPI_SUM, st->comm));
  SymmetricEigen(m, G, V, lam); /* G = V diag(lam) V^T */
  for (PetscInt a = 0; a < m; a++) lam[a] = PetscSqrtReal(PetscMax(lam[a], 0.0));
  for (PetscInt a = 0; a < m; a++) /* S = G^{1/2} = V diag(sqrt lam) V^T */
    for (PetscInt b = 0; b < m; b++) {
      PetscReal s = 0;
      for (PetscInt k = 0; k < m; k++) s += V[a + k * m] * lam[k] * V[b + k * m];
      S[a + b * m] = s;
    }
  for (PetscInt a = 0; a < m; a++) /* G <- S C S */
    for (PetscInt b = 0; b < m; b++) {
      PetscReal s = 0;
      for (PetscInt k = 0; k < m; k++) s += S[a + k * m] * ((k < st->P ? st->design.alpha : st->design.gamma) / st->n) * S[k + b * m];
      G[a + b * m] = s;
    }
  SymmetricEigen(m, G, NULL, lam);
  for (PetscInt a = 0; a < m; a++) best = PetscMax(best, lam[a]);
  if (st->n > m) best = PetscMax(best, 0.0); /* the null space of W */
  *abscissa = (-1.0 + best) / st->tau;
  PetscCall(PetscFree6(Gl, G, V, lam, S, cc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* EPSSolve with its error returned instead of raised, agreed over the communicator (the small dense
   problems inside SLEPc's solvers are solved redundantly, so every rank fails alike). */
static PetscErrorCode TrySolve(EPS eps, MPI_Comm comm, PetscErrorCode *ierr)
{
  PetscErrorCode e;
  int            le, ge;

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  e = EPSSolve(eps);
  PetscCall(PetscPopErrorHandler());
  le = (int)e;
  PetscCallMPI(MPI_Allreduce(&le, &ge, 1, MPI_INT, MPI_MAX, comm));
  *ierr = (PetscErrorCode)ge;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Fallback eigensolvers, for when the configured one fails. Seen: Krylov-Schur stopping in LAPACK
   trexc (info = 1: "adjacent blocks too close to swap") at the E/I network with tau_I = tau_E and a
   saturated activation (gain 20): there phi' ~ 0, so J = [[-I, 0], [C, -I]]/tau is defective (Jordan
   blocks of -1/tau), every eigenvalue is -1/tau and the Schur reordering of the Ritz values is
   ill-conditioned; whether it trips depends on rounding (it failed on 2 ranks, not on 1).
   1. state size <= -stability_dense_max: a dense LAPACK solve of the same operator (EPSLAPACK, which
      applies the shell to the unit vectors: ns products, ns^2 doubles);
   2. otherwise: Krylov-Schur again from another (partition-independent random) initial vector with a
      larger subspace. If that fails too, the error says so. */
static PetscErrorCode FallbackSolve(RmStability st, Mat A, PetscBool hermitian, EPS *eps, PetscInt *kind)
{
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(EPSCreate(st->comm, eps));
  PetscCall(EPSSetOperators(*eps, A, NULL));
  PetscCall(EPSSetProblemType(*eps, hermitian ? EPS_HEP : EPS_NHEP));
  PetscCall(EPSSetWhichEigenpairs(*eps, EPS_LARGEST_REAL));
  PetscCall(EPSSetTolerances(*eps, st->tol, st->max_it));
  if (st->ns <= st->dense_max) {
    *kind = 1;
    PetscCall(EPSSetType(*eps, EPSLAPACK));
    PetscCall(EPSSetDimensions(*eps, st->nev, PETSC_DEFAULT, PETSC_DEFAULT));
  } else {
    Vec          v0;
    PetscScalar *va;
    PetscInt     rstart, rend;
    *kind = 2;
    PetscCall(EPSSetType(*eps, EPSKRYLOVSCHUR));
    PetscCall(EPSSetDimensions(*eps, st->nev, PetscMax(2 * st->nev + 20, 40), PETSC_DEFAULT));
    PetscCall(MatCreateVecs(A, &v0, NULL));
    PetscCall(VecGetOwnershipRange(v0, &rstart, &rend));
    PetscCall(VecGetArrayWrite(v0, &va));
    for (PetscInt i = rstart; i < rend; i++) va[i - rstart] = RmRandomUniform(0xFA11BAC, (RmStream)12, 0, (uint64_t)i) - 0.5;
    PetscCall(VecRestoreArrayWrite(v0, &va));
    PetscCall(EPSSetInitialSpace(*eps, 1, &v0));
    PetscCall(VecDestroy(&v0));
  }
  PetscCall(TrySolve(*eps, st->comm, &ierr));
  PetscCheck(!ierr, st->comm, PETSC_ERR_LIB,
             "the eigensolver failed at this equilibrium (e.g. LAPACK trexc on a defective, clustered spectrum), and so did its fallback (%s); "
             "%s",
             *kind == 1 ? "dense LAPACK" : "Krylov-Schur from another initial vector",
             *kind == 1 ? "try -stability_eps_type arnoldi or another -stability_eps_* setting"
                        : "raise -stability_dense_max above the state size to use the dense LAPACK fallback");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityComputeSpectrum(RmStability st, Vec x, RmSpectrum *sp)
{
  PetscInt       nconv, its;
  PetscInt64     m0;
  PetscBool      hermitian;
  Mat            A;
  EPS            eps = NULL, fb = NULL;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(RmStabilitySetUp(st));
  PetscCall(PetscMemzero(sp, sizeof(*sp)));
  sp->lowrank_abscissa = RM_NAN;
  PetscCall(RmModelJacobianSetUp(st->model, x));
  hermitian = (PetscBool)(st->op == RM_STABILITY_OPERATOR_SYMMETRIC);
  if (hermitian || (st->form == RM_JACOBIAN_DW && st->design_type == RM_DESIGN_PAPER)) {
    PetscScalar *sd;
    PetscCall(ComputeDiagonal(st, x, st->sqrtd));
    if (st->design_type == RM_DESIGN_PAPER && st->form == RM_JACOBIAN_DW) PetscCall(LowRankAbscissa(st, st->sqrtd, &sp->lowrank_abscissa));
    PetscCall(VecGetArray(st->sqrtd, &sd));
    for (PetscInt i = 0; i < st->nloc; i++) {
      PetscCheck(sd[i] >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "negative activation slope %g", (double)sd[i]);
      sd[i] = sd[i] > 1e-300 ? PetscSqrtReal(sd[i]) : 0.0;
    }
    PetscCall(VecRestoreArray(st->sqrtd, &sd));
  }
  A = hermitian ? st->Sshell : st->Jshell;
  PetscCall(PetscLogEventBegin(RM_EV_EIGEN, 0, 0, 0, 0));
  PetscCall(EPSSetOperators(st->eps, A, NULL));
  PetscCall(EPSSetProblemType(st->eps, hermitian ? EPS_HEP : EPS_NHEP));
  m0 = st->matvecs;
  PetscCall(TrySolve(st->eps, st->comm, &ierr));
  eps = st->eps;
  if (ierr) { /* see FallbackSolve */
    PetscCall(FallbackSolve(st, A, hermitian, &fb, &sp->fallback));
    eps = fb;
    PetscCall(PetscInfo(NULL, "eigensolver failed (error %d); fallback %" PetscInt_FMT " used\n", (int)ierr, sp->fallback));
  }
  sp->matvecs = st->matvecs - m0;
  PetscCall(EPSGetConverged(eps, &nconv));
  PetscCall(EPSGetIterationNumber(eps, &its));
  PetscCall(PetscLogEventEnd(RM_EV_EIGEN, 0, 0, 0, 0));
  PetscCheck(nconv >= 1, st->comm, PETSC_ERR_NOT_CONVERGED,
             "eigensolver found no eigenvalue to tolerance %g in %" PetscInt_FMT " iterations (raise -stability_max_it or -stability_tol)", (double)st->tol,
             its);
  if (nconv > st->neig_alloc) {
    PetscCall(PetscFree2(st->eig_re, st->eig_im));
    PetscCall(PetscMalloc2(nconv, &st->eig_re, nconv, &st->eig_im));
    st->neig_alloc = nconv;
  }
  st->neig     = nconv;
  sp->nconv    = nconv;
  sp->its      = its;
  sp->abscissa = PETSC_MIN_REAL;
  for (PetscInt k = 0; k < nconv; k++) {
    PetscScalar kr, ki;
    PetscCall(EPSGetEigenvalue(eps, k, &kr, &ki));
    st->eig_re[k] = PetscRealPart(kr);
    st->eig_im[k] = hermitian ? 0.0 : PetscRealPart(ki);
    sp->abscissa  = PetscMax(sp->abscissa, st->eig_re[k]);
    sp->max_imag  = PetscMax(sp->max_imag, PetscAbsReal(st->eig_im[k]));
  }
  /* rightmost first (the solver's order already, but make it explicit) */
  for (PetscInt k = 1; k < nconv; k++)
    for (PetscInt j = k; j > 0 && st->eig_re[j] > st->eig_re[j - 1]; j--) {
      PetscReal t = st->eig_re[j];
      st->eig_re[j]     = st->eig_re[j - 1];
      st->eig_re[j - 1] = t;
      t                 = st->eig_im[j];
      st->eig_im[j]     = st->eig_im[j - 1];
      st->eig_im[j - 1] = t;
    }
  sp->stable = (PetscBool)(sp->abscissa < 0);
  PetscCall(EPSDestroy(&fb));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityGetEigenvalues(RmStability st, PetscInt *n, const PetscReal **re, const PetscReal **im)
{
  PetscFunctionBeginUser;
  if (n) *n = st->neig;
  if (re) *re = st->eig_re;
  if (im) *im = st->eig_im;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmStabilityCreateOperator(RmStability st, Vec x, PetscBool jacobian, Mat *A)
{
  PetscFunctionBeginUser;
  PetscCall(RmStabilitySetUp(st));
  PetscCall(RmModelJacobianSetUp(st->model, x));
  if (!jacobian && st->op == RM_STABILITY_OPERATOR_SYMMETRIC) {
    PetscScalar *sd;
    PetscCall(ComputeDiagonal(st, x, st->sqrtd));
    PetscCall(VecGetArray(st->sqrtd, &sd));
    for (PetscInt i = 0; i < st->nloc; i++) sd[i] = sd[i] > 1e-300 ? PetscSqrtReal(sd[i]) : 0.0;
    PetscCall(VecRestoreArray(st->sqrtd, &sd));
  }
  PetscCall(CreateShell(st, (PetscBool)(jacobian || st->op != RM_STABILITY_OPERATOR_SYMMETRIC), A));
  PetscFunctionReturn(PETSC_SUCCESS);
}
