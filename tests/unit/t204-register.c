/* t204-register: a weight storage added from outside the library, with one RmSynapsesRegister call.
   The test storage "naive" is a MATSHELL that applies W + σI, with every entry of W computed in the
   product from the unpacked memory bits by the §2 formula (W_ij = α/N Σ_μ (ξ_iμ − β)(ξ_jμ − β) + γ/N;
   Hebbian: 1/N Σ_μ ξ_iμ ξ_jμ, zero diagonal), P multiply-adds per entry: an implementation that
   shares nothing with dense.c's popcount assembly. σ is the storage's own option -naive_shift, read
   by its SetFromOptions. Checks, on any number of ranks:
   (a) RmSynapsesSetType / -storage naive selects it; RmSynapsesGetType and GetKernelName report it;
   (b) its W x equals the dense storage's to 1e-12 relative (paper and hebbian), and with
       -naive_shift 0.5 equals dense W x + 0.5 x;
   (c) an unknown storage name is an error (not a fall-back to dense), and so is -naive_shift
       with another storage (an unknown option: the storage's options are its own). */
#include "utcommon.h"
#include "synapses/synapsesimpl.h"

typedef struct {
  PetscReal  shift;  /* -naive_shift σ */
  uint8_t   *bits;   /* all P x n memory bits (pattern-major), from RmMemoriesGetAllBits */
  PetscInt   n, P, rstart, rend;
  PetscReal  scale, beta, gamma; /* α/N, β, γ/N, or 1/N, 0, 0 */
  PetscBool  hebbian;
  VecScatter toall;
  Vec        vall;
} Naive;

static PetscErrorCode MatMult_Naive(Mat W, Vec v, Vec y)
{
  Naive             *nv;
  const PetscScalar *va, *vl;
  PetscScalar       *ya;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &nv));
  PetscCall(VecScatterBegin(nv->toall, v, nv->vall, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(nv->toall, v, nv->vall, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(nv->vall, &va));
  PetscCall(VecGetArrayRead(v, &vl));
  PetscCall(VecGetArrayWrite(y, &ya));
  for (PetscInt i = nv->rstart; i < nv->rend; i++) {
    PetscReal sum = 0;
    for (PetscInt j = 0; j < nv->n; j++) {
      PetscReal w = 0;
      if (nv->hebbian && i == j) continue;
      for (PetscInt mu = 0; mu < nv->P; mu++) {
        const PetscReal xi = nv->bits[mu * nv->n + i], xj = nv->bits[mu * nv->n + j];
        w += nv->hebbian ? (2 * xi - 1) * (2 * xj - 1) : (xi - nv->beta) * (xj - nv->beta);
      }
      sum += (nv->scale * w + nv->gamma) * va[j];
    }
    ya[i - nv->rstart] = sum + nv->shift * vl[i - nv->rstart];
  }
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscCall(VecRestoreArrayRead(v, &vl));
  PetscCall(VecRestoreArrayRead(nv->vall, &va));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatDestroy_Naive(Mat W)
{
  Naive *nv;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &nv));
  PetscCall(VecScatterDestroy(&nv->toall));
  PetscCall(VecDestroy(&nv->vall));
  PetscCall(PetscFree(nv->bits));
  PetscFunctionReturn(PETSC_SUCCESS); /* nv itself is the storage's data, freed by its destroy */
}

static PetscErrorCode SetFromOptionsNaive(PetscOptionItems *PetscOptionsObject, RmSynapses syn)
{
  Naive *nv = (Naive *)syn->data;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsReal("-naive_shift", "t204's naive storage: W + shift I", "t204", nv->shift, &nv->shift, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AssembleNaive(RmSynapses syn, RmMemories mem)
{
  Naive *nv = (Naive *)syn->data;
  Vec    tmpl;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &nv->n, &nv->P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &nv->rstart, &nv->rend));
  PetscCall(RmMemoriesGetAllBits(mem, &nv->bits));
  nv->hebbian = (PetscBool)(syn->design_type == RM_DESIGN_HEBBIAN);
  nv->scale   = nv->hebbian ? 1.0 / nv->n : syn->design.alpha / nv->n;
  nv->beta    = nv->hebbian ? 0.0 : syn->design.beta;
  nv->gamma   = nv->hebbian ? 0.0 : syn->design.gamma / nv->n;
  PetscCall(RmMemoriesCreateVec(mem, &tmpl));
  PetscCall(VecScatterCreateToAll(tmpl, &nv->toall, &nv->vall));
  PetscCall(VecDestroy(&tmpl));
  PetscCall(MatCreateShell(syn->comm, nv->rend - nv->rstart, nv->rend - nv->rstart, nv->n, nv->n, nv, &syn->W));
  PetscCall(MatShellSetOperation(syn->W, MATOP_MULT, (void (*)(void))MatMult_Naive));
  PetscCall(MatShellSetOperation(syn->W, MATOP_DESTROY, (void (*)(void))MatDestroy_Naive));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode KernelNameNaive(RmSynapses syn, const char **name)
{
  PetscFunctionBeginUser;
  *name = "naive-loop";
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DestroyNaive(RmSynapses syn)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(syn->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RmSynapsesCreate_Naive(RmSynapses syn)
{
  Naive *nv;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&nv));
  syn->data               = nv;
  syn->ops.setfromoptions = SetFromOptionsNaive;
  syn->ops.assemble       = AssembleNaive;
  syn->ops.kernelname     = KernelNameNaive;
  syn->ops.destroy        = DestroyNaive;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* v_i: a partition-independent function of the global index. */
static PetscErrorCode FillVec(Vec x)
{
  PetscInt     rstart, rend;
  PetscScalar *xa;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(x, &rstart, &rend));
  PetscCall(VecGetArrayWrite(x, &xa));
  for (PetscInt i = rstart; i < rend; i++) xa[i - rstart] = PetscSinReal(0.37 * i) + 0.25;
  PetscCall(VecRestoreArrayWrite(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* W x of the network of opts (which selects the storage) into a new y; x created on the first call. */
static PetscErrorCode Product(const char *opts, const char *want_type, Vec *x, Vec *y)
{
  UtNet         net;
  RmStorageType type;
  const char   *kernel;
  PetscBool     same;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(RmSynapsesGetType(net.syn, &type));
  PetscCall(PetscStrcmp(type, want_type, &same));
  PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] storage is %s, expected %s", opts, type, want_type);
  PetscCall(RmSynapsesGetKernelName(net.syn, &kernel));
  PetscCall(PetscStrcmp(want_type, "naive", &same));
  if (same) {
    PetscCall(PetscStrcmp(kernel, "naive-loop", &same));
    PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] kernel is %s, expected naive-loop", opts, kernel);
  }
  if (!*x) {
    PetscCall(MatCreateVecs(net.W, x, NULL));
    PetscCall(FillVec(*x));
  }
  PetscCall(VecDuplicate(*x, y));
  PetscCall(MatMult(net.W, *x, *y));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckAgainstDense(const char *base)
{
  char      opts[256];
  Vec       x = NULL, yd, yn, ys;
  PetscReal rel;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "%s -storage dense", base));
  PetscCall(Product(opts, RMSTORAGEDENSE, &x, &yd));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "%s -storage naive", base));
  PetscCall(PetscOptionsClearValue(NULL, "-naive_shift"));
  PetscCall(Product(opts, "naive", &x, &yn));
  PetscCall(UtRelDiff(yn, yd, &rel));
  PetscCheck(rel < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] naive W x differs from dense by %g (relative)", base, (double)rel);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t204 [%s] naive W x vs dense: %.2e relative\n", base, (double)rel));
  /* W + 0.5 I: the storage's own option reaches it through RmSynapsesSetFromOptions */
  PetscCall(PetscOptionsSetValue(NULL, "-naive_shift", "0.5"));
  PetscCall(Product(opts, "naive", &x, &ys));
  PetscCall(PetscOptionsClearValue(NULL, "-naive_shift"));
  PetscCall(VecAXPY(yd, 0.5, x));
  PetscCall(UtRelDiff(ys, yd, &rel));
  PetscCheck(rel < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] naive (W + 0.5 I) x differs from dense W x + 0.5 x by %g (relative)", base, (double)rel);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t204 [%s] naive -naive_shift 0.5 vs dense + 0.5 x: %.2e relative\n", base, (double)rel));
  PetscCall(VecDestroy(&yd));
  PetscCall(VecDestroy(&yn));
  PetscCall(VecDestroy(&ys));
  PetscCall(VecDestroy(&x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* RmSynapsesSetType with a name nobody registered, and an option of the naive storage given to the
   dense one: both must fail (errors returned, not printed: the return handler is pushed). */
static PetscErrorCode CheckErrors(void)
{
  RmSynapses     syn;
  PetscErrorCode ierr;
  RmStorageType  type;
  PetscBool      same;

  PetscFunctionBeginUser;
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = RmSynapsesSetType(syn, "no-such-storage");
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_ARG_UNKNOWN_TYPE, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "RmSynapsesSetType(no-such-storage) returned %d, not PETSC_ERR_ARG_UNKNOWN_TYPE",
             (int)ierr);
  PetscCall(RmSynapsesGetType(syn, &type));
  PetscCall(PetscStrcmp(type, RMSTORAGEDENSE, &same));
  PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "a failed RmSynapsesSetType changed the storage to %s", type);
  PetscCall(RmSynapsesSetType(syn, "naive"));
  PetscCall(RmSynapsesSetType(syn, RMSTORAGELOWRANK)); /* a storage replaced before set-up frees the old one's data */
  PetscCall(RmSynapsesDestroy(&syn));

  PetscCall(UtSetOptions("-storage dense -neurons 50 -memories 3"));
  PetscCall(PetscOptionsSetValue(NULL, "-naive_shift", "1"));
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
  PetscCall(RmSynapsesSetFromOptions(syn));
  PetscCall(RmSynapsesDestroy(&syn));
  {
    PetscBool used;
    PetscCall(PetscOptionsUsed(NULL, "-naive_shift", &used));
    PetscCheck(!used, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "-naive_shift was read with -storage dense");
  }
  PetscCall(PetscOptionsClearValue(NULL, "-naive_shift"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  PetscCall(RmSynapsesRegister("naive", RmSynapsesCreate_Naive)); /* the one line that adds a storage */
  PetscCall(CheckAgainstDense("-neurons 301 -memories 7 -seed 4 -design paper"));
  PetscCall(CheckAgainstDense("-neurons 301 -memories 7 -seed 4 -design paper -balance 0.4 -a 0.1"));
  PetscCall(CheckAgainstDense("-neurons 257 -memories 5 -seed 6 -design hebbian"));
  PetscCall(CheckErrors());
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char help[] = "t204: a weight storage registered by the test itself (RmSynapsesRegister).\n";

UT_MAIN(help, Run)
