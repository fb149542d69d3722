/* The integrator's own vector work, measured. CVODE and ARKODE see the state as an N_Vector; every
   vector operation they make (norms, linear sums and combinations of the BDF history, SPGMR's
   Gram–Schmidt, error weights, the interpolant) goes through the ops table of an N_Vector, which their
   clones copy. Two kinds (-integrator_nvector):

     native  ratemem's own (nvector.c), over the Vec's local array, each operation one pass, the fused
             and vector-array operations native (on by default);
     petsc   SUNDIALS' NVECTOR_PETSC. Its fused operations (N_VEnableFusedOps_Petsc) make a linear
             combination of k vectors one VecMAXPY, but its vector-array operations are plain loops
             over one vector at a time: they made the vector work slower (off by default here).

   Every operation of both is inside the event RmIntegVec, so -log_view shows the time the integrator
   spends outside the RHS, J·v and preconditioner callbacks (which are never called from inside a
   vector operation, so the event holds vector work only), and is counted per kind of operation:
   -integrator_vec_view prints the counts, operands and times (docs/benchmark.md "Integrator vector
   work"). The NVECTOR_PETSC operations are wrapped here; the native ones log themselves. */
#include "integrateimpl.h"
#include <nvector/nvector_petsc.h>

static const char *const OpNames[RM_NVOP_COUNT] = {"LinearSum",
                                                   "Const",
                                                   "Prod",
                                                   "Div",
                                                   "Scale",
                                                   "Abs",
                                                   "Inv",
                                                   "AddConst",
                                                   "DotProd",
                                                   "MaxNorm",
                                                   "WrmsNorm",
                                                   "WrmsNormMask",
                                                   "Min",
                                                   "WL2Norm",
                                                   "L1Norm",
                                                   "Compare",
                                                   "InvTest",
                                                   "ConstrMask",
                                                   "MinQuotient",
                                                   "LinearCombination",
                                                   "ScaleAddMulti",
                                                   "DotProdMulti",
                                                   "LinearSumVectorArray",
                                                   "ScaleVectorArray",
                                                   "ConstVectorArray",
                                                   "WrmsNormVectorArray",
                                                   "WrmsNormMaskVectorArray",
                                                   "ScaleAddMultiVectorArray",
                                                   "LinearCombinationVectorArray",
                                                   "DotProdLocal",
                                                   "MaxNormLocal",
                                                   "MinLocal",
                                                   "L1NormLocal",
                                                   "InvTestLocal",
                                                   "ConstrMaskLocal",
                                                   "MinQuotientLocal",
                                                   "WSqrSumLocal",
                                                   "WSqrSumMaskLocal",
                                                   "DotProdMultiLocal",
                                                   "DotProdMultiAllReduce",
                                                   "ErrorWeights (cvode.c)",
                                                   "pass of deferred operations"};

/* Per process, since the last report: the operations never nest, so one start time does. */
static struct {
  PetscInt64     calls, operands;
  PetscLogDouble time;
} Stats[RM_NVOP_COUNT];
static PetscInt       Timing = 0; /* integrators with -integrator_vec_view alive: time each operation */
static PetscLogDouble T0;

void RmNVLogBegin_Private(void)
{
  (void)PetscLogEventBegin(RM_EVENTS.integ_vec, 0, 0, 0, 0);
  if (Timing) (void)PetscTime(&T0);
}

void RmNVLogEnd_Private(RmNVOp op, int operands)
{
  if (Timing) {
    PetscLogDouble t;
    (void)PetscTime(&t);
    Stats[op].time += t - T0;
  }
  Stats[op].calls++;
  Stats[op].operands += operands;
  (void)PetscLogEventEnd(RM_EVENTS.integ_vec, 0, 0, 0, 0);
}

PetscErrorCode RmIntegratorVecView_Private(RmIntegrator integ, PetscViewer viewer)
{
  PetscLogDouble t[RM_NVOP_COUNT], tmax[RM_NVOP_COUNT], total = 0;
  PetscInt64     calls = 0;
  PetscMPIInt    size;
  const char    *kind = integ->nvector ? "petsc (NVECTOR_PETSC)" : "native";

  PetscFunctionBeginUser;
  for (int k = 0; k < RM_NVOP_COUNT; k++) t[k] = Stats[k].time;
  PetscCallMPI(MPI_Allreduce(t, tmax, RM_NVOP_COUNT, MPI_DOUBLE, MPI_MAX, integ->comm));
  PetscCallMPI(MPI_Comm_size(integ->comm, &size));
  for (int k = 0; k < RM_NVOP_COUNT; k++) total += tmax[k], calls += Stats[k].calls;
  PetscCall(PetscViewerASCIIPrintf(viewer, "Integrator vector work: N_Vector %s, fused operations %s, %d rank%s\n", kind, integ->fused_ops ? "on" : "off",
                                   (int)size, size > 1 ? "s" : ""));
  PetscCall(PetscViewerASCIIPrintf(viewer, "  %" PetscInt64_FMT " operations in %" PetscInt64_FMT " steps, %.4f s (%.3f ms per step; times: the maximum over ranks)\n",
                                   calls, integ->vec_steps, total, integ->vec_steps ? 1e3 * total / (double)integ->vec_steps : 0.0));
  PetscCall(PetscViewerASCIIPrintf(viewer, "  %-30s %10s %10s %10s %10s %12s\n", "operation", "calls", "per step", "operands", "time (s)", "us per call"));
  for (int k = 0; k < RM_NVOP_COUNT; k++) {
    if (!Stats[k].calls) continue;
    PetscCall(PetscViewerASCIIPrintf(viewer, "  %-30s %10" PetscInt64_FMT " %10.2f %10" PetscInt64_FMT " %10.4f %12.1f\n", OpNames[k], Stats[k].calls,
                                     integ->vec_steps ? (double)Stats[k].calls / (double)integ->vec_steps : 0.0, Stats[k].operands, tmax[k],
                                     1e6 * tmax[k] / (double)Stats[k].calls));
  }
  PetscCall(PetscMemzero(Stats, sizeof(Stats)));
  integ->vec_steps = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

void RmNVLogTimingPush_Private(void) { Timing++; }
void RmNVLogTimingPop_Private(void) { Timing--; }
PetscBool RmNVLogTiming_Private(void) { return (PetscBool)(Timing > 0); }

/* ---------------------------------------------------------------- NVECTOR_PETSC, wrapped */
/* The operations wrapped: NVECTOR_PETSC's, the same functions for every vector. */
static struct _generic_N_Vector_Ops Orig;

#define BEGIN           RmNVLogBegin_Private()
#define END(op, nopnds) RmNVLogEnd_Private(op, nopnds)
/* a wrapper returning void / a value; nopnds: its vector operands */
#define WRAPV(name, op, nopnds, params, args) \
  static void name params \
  { \
    BEGIN; \
    Orig.name args; \
    END(op, nopnds); \
  }
#define WRAPR(type, name, op, nopnds, params, args) \
  static type name params \
  { \
    type r_; \
    BEGIN; \
    r_ = Orig.name args; \
    END(op, nopnds); \
    return r_; \
  }

WRAPV(nvlinearsum, RM_NVOP_LINEARSUM, 3, (realtype a, N_Vector x, realtype b, N_Vector y, N_Vector z), (a, x, b, y, z))
WRAPV(nvconst, RM_NVOP_CONST, 1, (realtype c, N_Vector z), (c, z))
WRAPV(nvprod, RM_NVOP_PROD, 3, (N_Vector x, N_Vector y, N_Vector z), (x, y, z))
WRAPV(nvdiv, RM_NVOP_DIV, 3, (N_Vector x, N_Vector y, N_Vector z), (x, y, z))
WRAPV(nvscale, RM_NVOP_SCALE, 2, (realtype c, N_Vector x, N_Vector z), (c, x, z))
WRAPV(nvabs, RM_NVOP_ABS, 2, (N_Vector x, N_Vector z), (x, z))
WRAPV(nvinv, RM_NVOP_INV, 2, (N_Vector x, N_Vector z), (x, z))
WRAPV(nvaddconst, RM_NVOP_ADDCONST, 2, (N_Vector x, realtype b, N_Vector z), (x, b, z))
WRAPR(realtype, nvdotprod, RM_NVOP_DOTPROD, 2, (N_Vector x, N_Vector y), (x, y))
WRAPR(realtype, nvmaxnorm, RM_NVOP_MAXNORM, 1, (N_Vector x), (x))
WRAPR(realtype, nvwrmsnorm, RM_NVOP_WRMSNORM, 2, (N_Vector x, N_Vector w), (x, w))
WRAPR(realtype, nvwrmsnormmask, RM_NVOP_WRMSNORMMASK, 3, (N_Vector x, N_Vector w, N_Vector id), (x, w, id))
WRAPR(realtype, nvmin, RM_NVOP_MIN, 1, (N_Vector x), (x))
WRAPR(realtype, nvwl2norm, RM_NVOP_WL2NORM, 2, (N_Vector x, N_Vector w), (x, w))
WRAPR(realtype, nvl1norm, RM_NVOP_L1NORM, 1, (N_Vector x), (x))
WRAPV(nvcompare, RM_NVOP_COMPARE, 2, (realtype c, N_Vector x, N_Vector z), (c, x, z))
WRAPR(booleantype, nvinvtest, RM_NVOP_INVTEST, 2, (N_Vector x, N_Vector z), (x, z))
WRAPR(booleantype, nvconstrmask, RM_NVOP_CONSTRMASK, 3, (N_Vector c, N_Vector x, N_Vector m), (c, x, m))
WRAPR(realtype, nvminquotient, RM_NVOP_MINQUOTIENT, 2, (N_Vector n, N_Vector d), (n, d))
WRAPR(int, nvlinearcombination, RM_NVOP_LINEARCOMBINATION, k + 1, (int k, realtype *c, N_Vector *X, N_Vector z), (k, c, X, z))
WRAPR(int, nvscaleaddmulti, RM_NVOP_SCALEADDMULTI, 2 * k + 1, (int k, realtype *a, N_Vector x, N_Vector *Y, N_Vector *Z), (k, a, x, Y, Z))
WRAPR(int, nvdotprodmulti, RM_NVOP_DOTPRODMULTI, k + 1, (int k, N_Vector x, N_Vector *Y, realtype *d), (k, x, Y, d))
WRAPR(int, nvlinearsumvectorarray, RM_NVOP_LINEARSUMVECTORARRAY, 3 * k, (int k, realtype a, N_Vector *X, realtype b, N_Vector *Y, N_Vector *Z),
      (k, a, X, b, Y, Z))
WRAPR(int, nvscalevectorarray, RM_NVOP_SCALEVECTORARRAY, 2 * k, (int k, realtype *c, N_Vector *X, N_Vector *Z), (k, c, X, Z))
WRAPR(int, nvconstvectorarray, RM_NVOP_CONSTVECTORARRAY, k, (int k, realtype c, N_Vector *Z), (k, c, Z))
WRAPR(int, nvwrmsnormvectorarray, RM_NVOP_WRMSNORMVECTORARRAY, 2 * k, (int k, N_Vector *X, N_Vector *W, realtype *nrm), (k, X, W, nrm))
WRAPR(int, nvwrmsnormmaskvectorarray, RM_NVOP_WRMSNORMMASKVECTORARRAY, 2 * k + 1, (int k, N_Vector *X, N_Vector *W, N_Vector id, realtype *nrm),
      (k, X, W, id, nrm))
WRAPR(int, nvscaleaddmultivectorarray, RM_NVOP_SCALEADDMULTIVECTORARRAY, k *(2 * s + 1), (int k, int s, realtype *a, N_Vector *X, N_Vector **Y, N_Vector **Z),
      (k, s, a, X, Y, Z))
WRAPR(int, nvlinearcombinationvectorarray, RM_NVOP_LINEARCOMBINATIONVECTORARRAY, s *(k + 1), (int k, int s, realtype *c, N_Vector **X, N_Vector *Z),
      (k, s, c, X, Z))

PetscErrorCode RmNVectorSetUpPetsc_Private(MPI_Comm comm, N_Vector v, PetscBool fused)
{
  PetscFunctionBeginUser;
  PetscCheck(N_VGetVectorID(v) == SUNDIALS_NVEC_PETSC, comm, PETSC_ERR_SUP, "not an NVECTOR_PETSC vector");
  PetscCheck(!N_VEnableFusedOps_Petsc(v, fused ? SUNTRUE : SUNFALSE), comm, PETSC_ERR_LIB, "N_VEnableFusedOps_Petsc failed");
  /* Every vector of every integrator gets the same wrappers around the same NVECTOR_PETSC functions,
     captured the first time an operation is seen (fused operations may be off for one integrator
     and on for the next). */
#define SWAP(name) \
  do { \
    if (v->ops->name && v->ops->name != name) { \
      if (!Orig.name) Orig.name = v->ops->name; \
      PetscCheck(v->ops->name == Orig.name, comm, PETSC_ERR_PLIB, "N_Vector operation " #name " is not NVECTOR_PETSC's"); \
      v->ops->name = name; \
    } \
  } while (0)
  SWAP(nvlinearsum);
  SWAP(nvconst);
  SWAP(nvprod);
  SWAP(nvdiv);
  SWAP(nvscale);
  SWAP(nvabs);
  SWAP(nvinv);
  SWAP(nvaddconst);
  SWAP(nvdotprod);
  SWAP(nvmaxnorm);
  SWAP(nvwrmsnorm);
  SWAP(nvwrmsnormmask);
  SWAP(nvmin);
  SWAP(nvwl2norm);
  SWAP(nvl1norm);
  SWAP(nvcompare);
  SWAP(nvinvtest);
  SWAP(nvconstrmask);
  SWAP(nvminquotient);
  SWAP(nvlinearcombination);
  SWAP(nvscaleaddmulti);
  SWAP(nvdotprodmulti);
  SWAP(nvlinearsumvectorarray);
  SWAP(nvscalevectorarray);
  SWAP(nvconstvectorarray);
  SWAP(nvwrmsnormvectorarray);
  SWAP(nvwrmsnormmaskvectorarray);
  SWAP(nvscaleaddmultivectorarray);
  SWAP(nvlinearcombinationvectorarray);
#undef SWAP
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- either kind */
PetscErrorCode RmIntegratorNVectorCreate_Private(RmIntegrator integ, Vec v, SUNContext sunctx, N_Vector *nv)
{
  PetscFunctionBeginUser;
  *nv = NULL;
  if (integ->nvector == 0) PetscCall(RmNVectorCreateNative_Private(v, sunctx, integ->fused_ops, nv));
  else {
    *nv = N_VMake_Petsc(v, sunctx);
    PetscCheck(*nv, integ->comm, PETSC_ERR_MEM, "N_VMake_Petsc failed");
    PetscCall(RmNVectorSetUpPetsc_Private(integ->comm, *nv, integ->fused_ops));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
