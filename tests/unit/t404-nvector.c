/* t404-nvector: the native N_Vector of CVODE and ARKODE (src/integrate/nvector.c).
   - The same sequence of every operation (CVODE's predictor chain, in-place sums, copies, constants,
     products, quotients, the fused and vector-array operations with an output that is an input,
     reductions: dot products, norms, masked norms, min, quotients, the local reductions) on native
     vectors and on NVECTOR_PETSC vectors holding the same values gives the same vectors and numbers
     within 1e-12 (relative), on a global length (1037) that is a multiple neither of the block (256)
     nor of the 8 partial sums, at any rank count;
   - fused operations of 40 and 33 vectors (more than a queued operation holds) agree too;
   - with the fused operations off the ops table has none, and SUNDIALS' fallbacks give the same;
   - a queued (deferred) operation is visible through N_VGetArrayPointer and through the Vec of
     RmNVectorGetVec_Private, and PETSc's cached norm of that Vec is not reused after an N_Vector
     operation changed it. */
#include "utcommon.h"
#include "integrate/integrateimpl.h"
#include <nvector/nvector_petsc.h>

static const char help[] = "Unit test of the native N_Vector against NVECTOR_PETSC.\n";

#define NVEC 44 /* vectors per set */
#define NRED 64 /* reduction results per set */
#define NLEN 1037

/* Fill every vector of the set with partition-independent values (vector j: salt j). */
static PetscErrorCode Fill(N_Vector *X)
{
  PetscFunctionBeginUser;
  for (int j = 0; j < NVEC; j++) {
    Vec          v = RmNVectorGetVec_Private(X[j]);
    PetscScalar *a;
    PetscInt     lo, hi;
    PetscCall(VecGetOwnershipRange(v, &lo, &hi));
    PetscCall(VecGetArrayWrite(v, &a));
    for (PetscInt i = lo; i < hi; i++) a[i - lo] = UtNoise(100 + (uint64_t)j, i) + (j == 7 ? 2.0 : 0.0); /* X[7] has no zero */
    PetscCall(VecRestoreArrayWrite(v, &a));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One sequence of operations; the reductions' results in r[]. */
static PetscErrorCode Apply(N_Vector *X, PetscReal *r, int *nr)
{
  realtype c[NVEC], d[NVEC];
  int      k = 0;

  PetscFunctionBeginUser;
  for (int j = 0; j < NVEC; j++) c[j] = 0.37 - 0.11 * j;
  /* CVODE's predictor at order 5 */
  for (int q = 1; q <= 5; q++)
    for (int j = 5; j >= q; j--) N_VLinearSum(1.0, X[j - 1], 1.0, X[j], X[j - 1]);
  N_VLinearSum(0.3, X[1], -1.7, X[2], X[2]); /* z = y */
  N_VLinearSum(0.3, X[3], -1.0, X[2], X[3]); /* z = x */
  N_VConst(2.5, X[8]);
  N_VScale(-0.5, X[0], X[6]);
  N_VScale(1.0, X[6], X[9]); /* copy */
  N_VProd(X[1], X[2], X[10]);
  N_VDiv(X[10], X[7], X[10]);
  N_VAbs(X[3], X[11]);
  N_VInv(X[7], X[12]);
  N_VAddConst(X[12], -0.25, X[12]);
  N_VCompare(0.2, X[3], X[13]);
  {
    N_Vector in[4] = {X[0], X[1], X[2], X[3]};
    PetscCheck(!N_VLinearCombination(4, c, in, X[0]), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VLinearCombination failed"); /* z = X[0] */
    PetscCheck(!N_VLinearCombination(3, c + 1, in + 1, X[14]), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VLinearCombination failed");
  }
  {
    N_Vector Y[3] = {X[0], X[1], X[2]}, Z[3] = {X[0], X[1], X[15]};
    PetscCheck(!N_VScaleAddMulti(3, c + 2, X[5], Y, Z), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VScaleAddMulti failed");
  }
  {
    N_Vector A[3] = {X[16], X[17], X[18]}, B[3] = {X[1], X[2], X[3]};
    PetscCheck(!N_VScaleVectorArray(3, c, B, A), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VScaleVectorArray failed");
    PetscCheck(!N_VLinearSumVectorArray(3, 0.5, A, -2.0, B, A), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VLinearSumVectorArray failed");
  }
  {
    N_Vector A[2] = {X[19], X[20]};
    PetscCheck(!N_VConstVectorArray(2, -1.5, A), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VConstVectorArray failed");
  }
  { /* Z[j][i] = a_j X[i] + Y[j][i] and Z[i] = sum_j c_j X[j][i], two vectors i, two sums j */
    N_Vector Xs[2] = {X[1], X[2]}, Y0[2] = {X[3], X[4]}, Y1[2] = {X[5], X[6]}, Z0[2] = {X[21], X[22]}, Z1[2] = {X[23], X[24]};
    N_Vector *Y[2] = {Y0, Y1}, *Z[2] = {Z0, Z1}, Zc[2] = {X[25], X[26]};
    PetscCheck(!N_VScaleAddMultiVectorArray(2, 2, c + 3, Xs, Y, Z), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VScaleAddMultiVectorArray failed");
    PetscCheck(!N_VLinearCombinationVectorArray(2, 2, c + 5, Z, Zc), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VLinearCombinationVectorArray failed");
  }
  /* reductions */
  r[k++] = N_VDotProd(X[0], X[1]);
  r[k++] = N_VMaxNorm(X[2]);
  r[k++] = N_VWrmsNorm(X[3], X[12]);
  r[k++] = N_VWrmsNormMask(X[3], X[12], X[13]);
  r[k++] = N_VMin(X[4]);
  r[k++] = N_VWL2Norm(X[14], X[7]);
  r[k++] = N_VL1Norm(X[15]);
  r[k++] = N_VMinQuotient(X[1], X[13]);
  r[k++] = N_VInvTest(X[7], X[27]) ? 1 : 0;
  r[k++] = N_VInvTest(X[13], X[28]) ? 1 : 0; /* has zeros: false */
  N_VConst(1.0, X[29]);
  r[k++] = N_VConstrMask(X[29], X[3], X[30]) ? 1 : 0; /* X[3] >= 0 everywhere: false */
  {
    N_Vector Y[3] = {X[1], X[2], X[3]};
    PetscCheck(!N_VDotProdMulti(3, X[0], Y, d), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VDotProdMulti failed");
    for (int j = 0; j < 3; j++) r[k++] = d[j];
  }
  {
    N_Vector A[2] = {X[21], X[22]}, W[2] = {X[7], X[12]};
    PetscCheck(!N_VWrmsNormVectorArray(2, A, W, d), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VWrmsNormVectorArray failed");
    for (int j = 0; j < 2; j++) r[k++] = d[j];
  }
  /* fused operations of more vectors than one queued operation holds */
  {
    N_Vector in[40];
    for (int j = 0; j < 40; j++) in[j] = X[j % 30];
    PetscCheck(!N_VLinearCombination(40, c, in, X[31]), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VLinearCombination(40) failed");
  }
  {
    N_Vector Y[33], Z[33];
    for (int j = 0; j < 33; j++) Y[j] = X[j % 10], Z[j] = X[j % 11 == 10 ? 32 : 33 + j % 11];
    PetscCheck(!N_VScaleAddMulti(33, c, X[31], Y, Z), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VScaleAddMulti(33) failed");
  }
  r[k++] = N_VDotProd(X[31], X[32]);
  *nr = k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Max |a - b| over the vectors of two sets, relative to max |b|. */
static PetscErrorCode CompareSets(N_Vector *A, N_Vector *B, PetscReal *rel)
{
  PetscReal worst = 0;

  PetscFunctionBeginUser;
  for (int j = 0; j < NVEC; j++) {
    Vec       va = RmNVectorGetVec_Private(A[j]), vb = RmNVectorGetVec_Private(B[j]), diff;
    PetscReal nd, nb;
    PetscCall(VecDuplicate(vb, &diff));
    PetscCall(VecWAXPY(diff, -1.0, vb, va));
    PetscCall(VecNorm(diff, NORM_INFINITY, &nd));
    PetscCall(VecNorm(vb, NORM_INFINITY, &nb));
    worst = PetscMax(worst, nd / PetscMax(nb, 1e-300));
    PetscCall(VecDestroy(&diff));
  }
  *rel = worst;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* nat[0] over base, pet[0] over *dup (NVECTOR_PETSC does not own it: the caller destroys it after the set) */
static PetscErrorCode MakeSets(Vec base, SUNContext ctx, PetscBool fused, N_Vector *nat, N_Vector *pet, Vec *dup_)
{
  Vec dup;

  PetscFunctionBeginUser;
  PetscCall(RmNVectorCreateNative_Private(base, ctx, fused, &nat[0]));
  for (int j = 1; j < NVEC; j++) nat[j] = N_VClone(nat[0]);
  PetscCall(VecDuplicate(base, &dup));
  pet[0] = N_VMake_Petsc(dup, ctx);
  PetscCheck(pet[0], PETSC_COMM_WORLD, PETSC_ERR_MEM, "N_VMake_Petsc failed");
  PetscCheck(!N_VEnableFusedOps_Petsc(pet[0], SUNTRUE), PETSC_COMM_WORLD, PETSC_ERR_LIB, "N_VEnableFusedOps_Petsc failed");
  for (int j = 1; j < NVEC; j++) pet[j] = N_VClone(pet[0]);
  for (int j = 1; j < NVEC; j++) PetscCheck(nat[j] && pet[j], PETSC_COMM_WORLD, PETSC_ERR_MEM, "N_VClone failed");
  PetscCheck(RmNVectorIsNative_Private(nat[NVEC - 1]) && !RmNVectorIsNative_Private(pet[0]), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "clone kinds");
  PetscCall(Fill(nat));
  PetscCall(Fill(pet));
  *dup_ = dup;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckAgainstPetsc(PetscBool fused)
{
  SUNContext ctx;
  MPI_Comm   comm = PETSC_COMM_WORLD;
  Vec        base, keep;
  N_Vector   nat[NVEC], pet[NVEC];
  PetscReal  rn[NRED], rp[NRED], rel = 0, worst = 0;
  int        kn, kp;

  PetscFunctionBeginUser;
  PetscCheck(!SUNContext_Create((void *)&comm, &ctx), comm, PETSC_ERR_LIB, "SUNContext_Create failed");
  PetscCall(VecCreateMPI(comm, PETSC_DECIDE, NLEN, &base));
  PetscCall(MakeSets(base, ctx, fused, nat, pet, &keep));
  PetscCheck((nat[0]->ops->nvlinearcombination != NULL) == (fused == PETSC_TRUE) && (nat[3]->ops->nvdotprodmulti != NULL) == (fused == PETSC_TRUE),
             comm, PETSC_ERR_PLIB, "fused operations %s but the ops table says otherwise", fused ? "on" : "off");
  PetscCheck(nat[5]->ops->nvwsqrsumlocal && nat[5]->ops->nvdotprodmultilocal && nat[5]->ops->nvdotprodmultiallreduce, comm, PETSC_ERR_PLIB,
             "local reductions missing");
  PetscCall(Apply(nat, rn, &kn));
  PetscCall(Apply(pet, rp, &kp));
  PetscCheck(kn == kp, comm, PETSC_ERR_PLIB, "reduction counts differ");
  for (int k = 0; k < kn; k++) {
    PetscReal e = PetscAbsReal(rn[k] - rp[k]) / PetscMax(PetscAbsReal(rp[k]), 1e-300);
    if (rp[k] == 0) e = PetscAbsReal(rn[k]);
    PetscCheck(e <= 1e-12, comm, PETSC_ERR_PLIB, "fused %d: reduction %d: native %.17g, NVECTOR_PETSC %.17g", (int)fused, k, (double)rn[k], (double)rp[k]);
    worst = PetscMax(worst, e);
  }
  PetscCheck(rn[8] == 1 && rn[9] == 0 && rn[10] == 0, comm, PETSC_ERR_PLIB, "InvTest/ConstrMask: %g %g %g, expected 1 0 0", (double)rn[8], (double)rn[9],
             (double)rn[10]);
  PetscCall(CompareSets(nat, pet, &rel));
  PetscCheck(rel <= 1e-12, comm, PETSC_ERR_PLIB, "fused %d: vectors differ from NVECTOR_PETSC's by %g (relative)", (int)fused, (double)rel);
  PetscCall(PetscPrintf(comm, "t404 fused %s: %d reductions within %.1e, %d vectors within %.1e of NVECTOR_PETSC\n", fused ? "on" : "off", kn, (double)worst, NVEC,
                        (double)rel));
  for (int j = 0; j < NVEC; j++) N_VDestroy(nat[j]), N_VDestroy(pet[j]);
  PetscCall(VecDestroy(&keep));
  PetscCall(VecDestroy(&base));
  SUNContext_Free(&ctx);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A deferred operation is visible through the array pointer and the Vec; PETSc's cached norm follows. */
static PetscErrorCode CheckDeferred(void)
{
  SUNContext   ctx;
  MPI_Comm     comm = PETSC_COMM_WORLD;
  Vec          base, v;
  N_Vector     x, y;
  PetscReal    n1, n2;
  realtype    *a;
  PetscInt     nloc;

  PetscFunctionBeginUser;
  PetscCheck(!SUNContext_Create((void *)&comm, &ctx), comm, PETSC_ERR_LIB, "SUNContext_Create failed");
  PetscCall(VecCreateMPI(comm, PETSC_DECIDE, NLEN, &base));
  PetscCall(VecSet(base, 3.0));
  PetscCall(RmNVectorCreateNative_Private(base, ctx, PETSC_TRUE, &x));
  y = N_VClone(x);
  PetscCheck(y, comm, PETSC_ERR_MEM, "N_VClone failed");
  PetscCall(VecNorm(base, NORM_1, &n1)); /* cached by PETSc */
  N_VScale(2.0, x, x);                  /* queued */
  N_VLinearSum(1.0, x, 1.0, x, y);      /* queued: y = 12 */
  PetscCall(VecGetLocalSize(base, &nloc));
  a = N_VGetArrayPointer(y);
  for (PetscInt i = 0; i < nloc; i++) PetscCheck(a[i] == 12.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "y[%" PetscInt_FMT "] = %g after the deferred operations, expected 12", i, (double)a[i]);
  v = RmNVectorGetVec_Private(x);
  PetscCheck(v == base, comm, PETSC_ERR_PLIB, "the native vector's Vec is not the one it was made from");
  PetscCall(VecNorm(v, NORM_1, &n2));
  PetscCheck(n1 == 3.0 * NLEN && n2 == 6.0 * NLEN, comm, PETSC_ERR_PLIB, "||x||_1 = %g then %g, expected %g then %g (a stale cached norm?)", (double)n1, (double)n2,
             3.0 * NLEN, 6.0 * NLEN);
  N_VConst(-1.0, x); /* queued, then run when x is destroyed (its array goes back to base) */
  N_VDestroy(y);
  N_VDestroy(x);
  PetscCall(VecNorm(base, NORM_1, &n2));
  PetscCheck(n2 == 1.0 * NLEN, comm, PETSC_ERR_PLIB, "||base||_1 = %g after N_VConst(-1) and N_VDestroy, expected %g", (double)n2, 1.0 * NLEN);
  PetscCall(VecDestroy(&base));
  SUNContext_Free(&ctx);
  PetscCall(PetscPrintf(comm, "t404 deferred operations visible through the array, the Vec and its norm: ok\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  PetscCall(CheckAgainstPetsc(PETSC_TRUE));
  PetscCall(CheckAgainstPetsc(PETSC_FALSE));
  PetscCall(CheckDeferred());
  PetscFunctionReturn(PETSC_SUCCESS);
}

UT_MAIN(help, Run)
