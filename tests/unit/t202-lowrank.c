/* t202: low-rank storage, batched states and the E/I network (issue #4, docs/model.md §5).
   (a) -storage lowrank applies the same W as dense (and aij) to 1e-12 relative, paper and hebbian;
   (b) a batch of B states gives, column by column, the RHS and J·v of B single states;
   (c) E/I: rescaled deterministic memories with pools at their inputs are fixed points, the E/I
       J·v matches a central difference, and an E/I retrieval at stiffness 1000 ends where the
       single-population model ends. */
#include "utcommon.h"

static PetscErrorCode RelDiff(Vec a, Vec b, PetscReal *rel)
{
  Vec       d;
  PetscReal nd, nb;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(a, &d));
  PetscCall(VecWAXPY(d, -1.0, b, a));
  PetscCall(VecNorm(d, NORM_INFINITY, &nd));
  PetscCall(VecNorm(b, NORM_INFINITY, &nb));
  *rel = nd / PetscMax(nb, 1e-300);
  PetscCall(VecDestroy(&d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode FillNoise(Vec x, uint64_t salt)
{
  PetscScalar *xa;
  PetscInt     rstart, rend;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(x, &rstart, &rend));
  PetscCall(VecGetArrayWrite(x, &xa));
  for (PetscInt i = rstart; i < rend; i++) xa[i - rstart] = UtNoise(salt, i);
  PetscCall(VecRestoreArrayWrite(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The fused update's block: v <- v/2 + W v */
static void HalfPlusWv(void *ctx, PetscInt i0, PetscInt len, const PetscScalar wv[], PetscScalar v[])
{
  (void)ctx, (void)i0;
  for (PetscInt i = 0; i < len; i++) v[i] = 0.5 * v[i] + wv[i];
}

/* RmSynapsesMatMultUpdate against MatMult, twice in a row: the second pass takes its masked sums from
   the first (the sums of the updated v), so both the expansion and those sums are checked. */
static PetscErrorCode CheckFusedUpdate(Mat W, Vec x, const char *what)
{
  Vec       v, ref, wv;
  PetscReal rel;
  PetscBool has;

  PetscFunctionBeginUser;
  PetscCall(RmSynapsesMatHasMultUpdate(W, &has));
  PetscCheck(has, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: a lowrank Mat has a fused product and update", what);
  PetscCall(VecDuplicate(x, &v));
  PetscCall(VecDuplicate(x, &ref));
  PetscCall(VecDuplicate(x, &wv));
  PetscCall(VecCopy(x, v));
  PetscCall(VecCopy(x, ref));
  for (int pass = 0; pass < 2; pass++) {
    PetscCall(MatMult(W, ref, wv));
    PetscCall(VecAYPX(ref, 0.5, wv)); /* ref = W ref + ref/2 */
    PetscCall(RmSynapsesMatMultUpdate(W, v, HalfPlusWv, NULL));
    PetscCall(RelDiff(v, ref, &rel));
    PetscCheck(rel < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: fused update pass %d differs from MatMult by %g (relative)", what, pass, (double)rel);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t202 %s: two fused updates v <- v/2 + W v vs MatMult: %.2e relative\n", what, (double)rel));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&ref));
  PetscCall(VecDestroy(&wv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every lowrank kernel (table: byte lookup tables, nb = ceil(P/8) bytes per neuron, unrolled for
   nb <= 8 and generic above; avx2 and portable: one masked add per memory) against dense and aij. */
static PetscErrorCode CheckLowRankProducts(const char *design, PetscInt P)
{
  const char *storages[] = {"dense", "aij", "lowrank -lowrank_kernel table", "lowrank -lowrank_kernel avx2", "lowrank -lowrank_kernel portable"};
  const int   ns         = 5;
  Vec         y[5], x = NULL;
  char        opts[256];
  PetscBool   avx2 = PETSC_FALSE;

  PetscFunctionBeginUser;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  avx2 = __builtin_cpu_supports("avx2") ? PETSC_TRUE : PETSC_FALSE;
#endif
  for (int k = 0; k < ns; k++) {
    UtNet net;
    y[k] = NULL;
    if (k == 3 && !avx2) continue; /* (the avx2 kernel is not built or not runnable here) */
    PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons 997 -memories %" PetscInt_FMT " -seed 5 -design %s -storage %s", P, design, storages[k]));
    PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
    if (!x) {
      PetscCall(MatCreateVecs(net.W, &x, NULL));
      PetscCall(FillNoise(x, 11));
    }
    PetscCall(VecDuplicate(x, &y[k]));
    PetscCall(MatMult(net.W, x, y[k]));
    if (k >= 2) {
      char what[256];
      PetscCall(PetscSNPrintf(what, sizeof(what), "%s, P = %" PetscInt_FMT ", %s", design, P, storages[k]));
      PetscCall(CheckFusedUpdate(net.W, x, what));
    }
    PetscCall(UtNetDestroy(&net));
  }
  for (int k = 1; k < ns; k++) {
    PetscReal rel;
    if (!y[k]) continue;
    PetscCall(RelDiff(y[k], y[0], &rel));
    PetscCheck(rel < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s, P = %" PetscInt_FMT ": %s product differs from dense by %g (relative)", design, P,
               storages[k], (double)rel);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t202 %s, P = %" PetscInt_FMT ": %s W x vs dense: %.2e relative\n", design, P, storages[k], (double)rel));
  }
  for (int k = 0; k < ns; k++) PetscCall(VecDestroy(&y[k]));
  PetscCall(VecDestroy(&x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A network whose model integrates B states at once (set before RmModelSetUp). */
static PetscErrorCode BatchModel(UtNet *net, PetscInt B, RmModel *model)
{
  RmDesignType design;
  RmModelType  mtype;

  PetscFunctionBeginUser;
  PetscCall(RmSynapsesGetDesignType(net->syn, &design));
  PetscCall(RmDesignTypeGetModel(design, &mtype, NULL));
  PetscCall(RmModelCreate(PETSC_COMM_WORLD, model));
  PetscCall(RmModelSetType(*model, mtype));
  PetscCall(RmModelSetFromOptions(*model));
  PetscCall(RmModelSetWeights(*model, net->W));
  PetscCall(RmModelSetBatch(*model, B));
  PetscCall(RmModelSetUp(*model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Column b of a block state as a Vec sharing its memory. */
static PetscErrorCode Column(Vec block, PetscInt b, PetscInt L, Vec col, PetscBool place)
{
  PetscScalar *a;

  PetscFunctionBeginUser;
  if (!place) {
    PetscCall(VecResetArray(col));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecGetArray(block, &a));
  PetscCall(VecPlaceArray(col, a + b * L));
  PetscCall(VecRestoreArray(block, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckBatch(const char *opts)
{
  const PetscInt B = 3;
  UtNet          net;
  RmModel        bm;
  Vec            X, F, V, JV, x, f, v, jv, col;
  PetscInt       L;
  PetscReal      worst = 0;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(BatchModel(&net, B, &bm));
  PetscCall(RmModelCreateState(bm, &X));
  PetscCall(VecDuplicate(X, &F));
  PetscCall(VecDuplicate(X, &V));
  PetscCall(VecDuplicate(X, &JV));
  PetscCall(RmModelCreateState(net.model, &x));
  PetscCall(VecDuplicate(x, &f));
  PetscCall(VecDuplicate(x, &v));
  PetscCall(VecDuplicate(x, &jv));
  PetscCall(VecGetLocalSize(x, &L));
  PetscCall(VecCreateMPIWithArray(PETSC_COMM_WORLD, 1, L, PETSC_DECIDE, NULL, &col));
  PetscCall(FillNoise(X, 21));
  PetscCall(FillNoise(V, 22));
  PetscCall(RmModelRHS(bm, X, F));
  PetscCall(RmModelJacobianSetUp(bm, X));
  PetscCall(RmModelJacobianMult(bm, V, JV));
  for (PetscInt b = 0; b < B; b++) {
    PetscReal rel;
    PetscCall(Column(X, b, L, col, PETSC_TRUE));
    PetscCall(VecCopy(col, x));
    PetscCall(Column(X, b, L, col, PETSC_FALSE));
    PetscCall(Column(V, b, L, col, PETSC_TRUE));
    PetscCall(VecCopy(col, v));
    PetscCall(Column(V, b, L, col, PETSC_FALSE));
    PetscCall(RmModelRHS(net.model, x, f));
    PetscCall(RmModelJacobianSetUp(net.model, x));
    PetscCall(RmModelJacobianMult(net.model, v, jv));
    PetscCall(Column(F, b, L, col, PETSC_TRUE));
    PetscCall(RelDiff(col, f, &rel));
    PetscCall(Column(F, b, L, col, PETSC_FALSE));
    worst = PetscMax(worst, rel);
    PetscCall(Column(JV, b, L, col, PETSC_TRUE));
    PetscCall(RelDiff(col, jv, &rel));
    PetscCall(Column(JV, b, L, col, PETSC_FALSE));
    worst = PetscMax(worst, rel);
  }
  PetscCheck(worst < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: batched RHS/J·v differ from single ones by %g", opts, (double)worst);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t202 batch of %" PetscInt_FMT " (%s): RHS and J·v per column equal single ones to %.1e\n", B, opts, (double)worst));
  PetscCall(VecDestroy(&col));
  Vec *vs[] = {&X, &F, &V, &JV, &x, &f, &v, &jv};
  for (size_t k = 0; k < sizeof(vs) / sizeof(vs[0]); k++) PetscCall(VecDestroy(vs[k]));
  PetscCall(RmModelDestroy(&bm));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckEIFixedPointsAndJacobian(void)
{
  UtNet     net;
  Vec       xn, x, f, v, jv, xp, xm, fp, fm;
  PetscReal worst = 0, rel, eps = 1e-6;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, "-pattern_kind deterministic -coding 0.2 -neurons 1000 -storage lowrank -network ei -stiffness 100 -pool_size 2",
                        &net));
  PetscCall(RmModelCreateNeuronVec(net.model, &xn));
  PetscCall(RmModelCreateState(net.model, &x));
  PetscCall(VecDuplicate(x, &f));
  for (PetscInt mu = 0; mu < net.P; mu++) {
    PetscReal res;
    PetscCall(UtMemoryState(net.mem, mu, net.design.phi_a, net.design.phi_b, xn));
    PetscCall(RmModelStateFromNeurons(net.model, xn, x));
    PetscCall(RmModelResidualNorm(net.model, x, &res));
    worst = PetscMax(worst, res);
  }
  PetscCheck(worst < 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "E/I: stored memories are not fixed points: residual %g", (double)worst);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t202 E/I (stiffness 100, pools of 2): %" PetscInt_FMT " memories are fixed points, residual <= %.1e\n", net.P,
                        (double)worst));
  /* J·v against a central difference at a non-equilibrium state. */
  PetscCall(VecDuplicate(x, &v));
  PetscCall(VecDuplicate(x, &jv));
  PetscCall(VecDuplicate(x, &xp));
  PetscCall(VecDuplicate(x, &xm));
  PetscCall(VecDuplicate(x, &fp));
  PetscCall(VecDuplicate(x, &fm));
  PetscCall(FillNoise(v, 31));
  PetscCall(VecScale(x, 0.6));
  PetscCall(VecShift(x, 0.15));
  PetscCall(RmModelRHS(net.model, x, f));
  PetscCall(RmModelJacobianSetUpWithRHS(net.model, x, f));
  PetscCall(RmModelJacobianMult(net.model, v, jv));
  PetscCall(VecWAXPY(xp, eps, v, x));
  PetscCall(VecWAXPY(xm, -eps, v, x));
  PetscCall(RmModelRHS(net.model, xp, fp));
  PetscCall(RmModelRHS(net.model, xm, fm));
  PetscCall(VecAXPY(fp, -1.0, fm));
  PetscCall(VecScale(fp, 0.5 / eps));
  PetscCall(RelDiff(fp, jv, &rel));
  PetscCheck(rel < 1e-6, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "E/I: J·v differs from the central difference by %g (relative)", (double)rel);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t202 E/I J·v vs central difference: %.1e relative\n", (double)rel));
  Vec *vs[] = {&xn, &x, &f, &v, &jv, &xp, &xm, &fp, &fm};
  for (size_t k = 0; k < sizeof(vs) / sizeof(vs[0]); k++) PetscCall(VecDestroy(vs[k]));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Retrieval from the same cue: single population vs E/I at stiffness 1000. */
static PetscErrorCode FinalState(const char *opts, Vec *final, PetscBool *converged)
{
  UtNet             net;
  RmIntegrator      integ;
  RmIntegratorStats st;
  RmCueOptions      cue = {RM_CUE_FLIP, 0.1, 3, 0.6};
  Vec               xn, x;
  PetscInt          cue_memory;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(RmModelCreateNeuronVec(net.model, &xn));
  PetscCall(RmModelCreateState(net.model, &x));
  PetscCall(RmMemoriesCreateCue(net.mem, &cue, 1, xn, &cue_memory));
  PetscCall(RmModelStateFromNeurons(net.model, xn, x));
  PetscCall(RmIntegratorCreate(PETSC_COMM_WORLD, &integ));
  PetscCall(RmIntegratorSetFromOptions(integ));
  PetscCall(RmIntegratorSetModel(integ, net.model));
  PetscCall(RmIntegratorSolve(integ, x, &st));
  PetscCall(RmModelNeuronsFromState(net.model, x, xn));
  *final     = xn;
  *converged = st.converged;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t202 %s: %" PetscInt64_FMT " RHS, %" PetscInt64_FMT " Krylov iterations\n", opts, st.rhs_evals, st.lin_iters));
  PetscCall(RmIntegratorDestroy(&integ));
  PetscCall(VecDestroy(&x));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckEIRetrieval(void)
{
  Vec       a, b;
  PetscBool ca, cb;
  PetscReal rel;

  PetscFunctionBeginUser;
  PetscCall(FinalState("-neurons 800 -memories 6 -seed 9 -storage lowrank -converge_tol 1e-9 -rtol 1e-9 -atol 1e-11", &a, &ca));
  PetscCall(FinalState("-neurons 800 -memories 6 -seed 9 -storage lowrank -converge_tol 1e-9 -rtol 1e-9 -atol 1e-11 -network ei -stiffness 1000", &b, &cb));
  PetscCall(RelDiff(b, a, &rel));
  PetscCheck(ca && cb && rel < 1e-6, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "E/I final state differs from the single population's by %g (converged %d %d)",
             (double)rel, (int)ca, (int)cb);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t202 E/I (stiffness 1000) vs single population final state: %.1e\n", (double)rel));
  PetscCall(VecDestroy(&a));
  PetscCall(VecDestroy(&b));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  {
    const PetscInt Ps[] = {7, 39, 71}; /* nb = 1, 5 (unrolled loops) and 9 (generic loop) bytes per neuron */
    for (int k = 0; k < 3; k++) {
      PetscCall(CheckLowRankProducts("paper", Ps[k]));
      PetscCall(CheckLowRankProducts("hebbian", Ps[k]));
    }
  }
  PetscCall(CheckBatch("-neurons 600 -memories 5 -storage dense"));
  PetscCall(CheckBatch("-neurons 600 -memories 5 -storage aij -indegree 40"));
  PetscCall(CheckBatch("-neurons 600 -memories 5 -storage lowrank -design hebbian"));
  PetscCall(CheckBatch("-neurons 600 -memories 5 -storage lowrank -network ei -stiffness 50"));
  PetscCall(CheckEIFixedPointsAndJacobian());
  PetscCall(CheckEIRetrieval());
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char help[] = "t202: low-rank storage, batched states and the E/I network.\n";

UT_MAIN(help, Run)
