/* The integrator's own vector work, measured and fused. CVODE and ARKODE see the state through
   NVECTOR_PETSC; every vector operation they make (norms, linear sums and combinations of the BDF
   history, SPGMR's Gram–Schmidt, error weights, the interpolant) goes through the ops table of an
   N_Vector, which their clones copy. RmIntegratorNVectorSetUp_Private enables or disables
   NVECTOR_PETSC's fused operations on the state vector (-integrator_fused_ops, off by default:
   N_VEnableFusedOps_Petsc makes a linear combination of k vectors one VecMAXPY, but its vector-array
   operations are plain loops over one vector at a time, and at n = 10^6 the integrator's vector work
   took 27% longer with them; docs/benchmark.md "Integrator vector work"), then wraps every operation of the table in the event RmIntegVec, so -log_view shows the time the
   integrator spends outside the RHS, J·v and preconditioner callbacks (which are never called from
   inside a vector operation, so the event holds vector work only). */
#include "integrateimpl.h"
#include <nvector/nvector_petsc.h>

/* The operations wrapped: NVECTOR_PETSC's, the same functions for every vector. */
static struct _generic_N_Vector_Ops Orig;

#define BEGIN (void)PetscLogEventBegin(RM_EVENTS.integ_vec, 0, 0, 0, 0)
#define END   (void)PetscLogEventEnd(RM_EVENTS.integ_vec, 0, 0, 0, 0)
/* a wrapper returning void / a value */
#define WRAPV(name, params, args) \
  static void name params \
  { \
    BEGIN; \
    Orig.name args; \
    END; \
  }
#define WRAPR(type, name, params, args) \
  static type name params \
  { \
    type r_; \
    BEGIN; \
    r_ = Orig.name args; \
    END; \
    return r_; \
  }

WRAPV(nvlinearsum, (realtype a, N_Vector x, realtype b, N_Vector y, N_Vector z), (a, x, b, y, z))
WRAPV(nvconst, (realtype c, N_Vector z), (c, z))
WRAPV(nvprod, (N_Vector x, N_Vector y, N_Vector z), (x, y, z))
WRAPV(nvdiv, (N_Vector x, N_Vector y, N_Vector z), (x, y, z))
WRAPV(nvscale, (realtype c, N_Vector x, N_Vector z), (c, x, z))
WRAPV(nvabs, (N_Vector x, N_Vector z), (x, z))
WRAPV(nvinv, (N_Vector x, N_Vector z), (x, z))
WRAPV(nvaddconst, (N_Vector x, realtype b, N_Vector z), (x, b, z))
WRAPR(realtype, nvdotprod, (N_Vector x, N_Vector y), (x, y))
WRAPR(realtype, nvmaxnorm, (N_Vector x), (x))
WRAPR(realtype, nvwrmsnorm, (N_Vector x, N_Vector w), (x, w))
WRAPR(realtype, nvwrmsnormmask, (N_Vector x, N_Vector w, N_Vector id), (x, w, id))
WRAPR(realtype, nvmin, (N_Vector x), (x))
WRAPR(realtype, nvwl2norm, (N_Vector x, N_Vector w), (x, w))
WRAPR(realtype, nvl1norm, (N_Vector x), (x))
WRAPV(nvcompare, (realtype c, N_Vector x, N_Vector z), (c, x, z))
WRAPR(booleantype, nvinvtest, (N_Vector x, N_Vector z), (x, z))
WRAPR(booleantype, nvconstrmask, (N_Vector c, N_Vector x, N_Vector m), (c, x, m))
WRAPR(realtype, nvminquotient, (N_Vector n, N_Vector d), (n, d))
WRAPR(int, nvlinearcombination, (int k, realtype *c, N_Vector *X, N_Vector z), (k, c, X, z))
WRAPR(int, nvscaleaddmulti, (int k, realtype *a, N_Vector x, N_Vector *Y, N_Vector *Z), (k, a, x, Y, Z))
WRAPR(int, nvdotprodmulti, (int k, N_Vector x, N_Vector *Y, realtype *d), (k, x, Y, d))
WRAPR(int, nvlinearsumvectorarray, (int k, realtype a, N_Vector *X, realtype b, N_Vector *Y, N_Vector *Z), (k, a, X, b, Y, Z))
WRAPR(int, nvscalevectorarray, (int k, realtype *c, N_Vector *X, N_Vector *Z), (k, c, X, Z))
WRAPR(int, nvconstvectorarray, (int k, realtype c, N_Vector *Z), (k, c, Z))
WRAPR(int, nvwrmsnormvectorarray, (int k, N_Vector *X, N_Vector *W, realtype *nrm), (k, X, W, nrm))
WRAPR(int, nvwrmsnormmaskvectorarray, (int k, N_Vector *X, N_Vector *W, N_Vector id, realtype *nrm), (k, X, W, id, nrm))
WRAPR(int, nvscaleaddmultivectorarray, (int k, int s, realtype *a, N_Vector *X, N_Vector **Y, N_Vector **Z), (k, s, a, X, Y, Z))
WRAPR(int, nvlinearcombinationvectorarray, (int k, int s, realtype *c, N_Vector **X, N_Vector *Z), (k, s, c, X, Z))

PetscErrorCode RmIntegratorNVectorSetUp_Private(RmIntegrator integ, N_Vector v)
{
  PetscFunctionBeginUser;
  PetscCheck(N_VGetVectorID(v) == SUNDIALS_NVEC_PETSC, integ->comm, PETSC_ERR_SUP, "not an NVECTOR_PETSC vector");
  PetscCheck(!N_VEnableFusedOps_Petsc(v, integ->fused_ops ? SUNTRUE : SUNFALSE), integ->comm, PETSC_ERR_LIB, "N_VEnableFusedOps_Petsc failed");
  /* Every vector of every integrator gets the same wrappers around the same NVECTOR_PETSC functions,
     captured the first time an operation is seen (fused operations may be off for one integrator
     and on for the next). */
#define SWAP(name) \
  do { \
    if (v->ops->name && v->ops->name != name) { \
      if (!Orig.name) Orig.name = v->ops->name; \
      PetscCheck(v->ops->name == Orig.name, integ->comm, PETSC_ERR_PLIB, "N_Vector operation " #name " is not NVECTOR_PETSC's"); \
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
