/* Low-rank storage (-storage lowrank). With t_μ = b^μᵀv and S = 1ᵀv (one MPI_Allreduce of P+1
   numbers), c_μ = s(κ t_μ − β'S) and
     (W v)_i = κ Σ_μ c_μ b_iμ + (g S − β' Σ_μ c_μ) − d v_i.
   Paper design (docs/model.md §2): s = α/N, κ = 1, β' = β, g = γ/N, d = 0.
   Hebbian (§3, ±1 memories ξ = 2b − 1, zero diagonal): s = 1/N, κ = 2, β' = 1, g = 0, d = P/N.
   The sums and the expansion are the factor operator's (src/factors/factors.c, its kernels). */
#include "lowrank.h"
#include "synapsesimpl.h"

/* Exported by libpetsc, declared in PETSc 3.18's private petscimpl.h only: the state a Vec's write
   access increases, which tells a fused pass's cached sums still belong to the vector. */
PETSC_EXTERN PetscErrorCode PetscObjectStateGet(PetscObject, PetscObjectState *);

/* ---------------------------------------------------------------- MATSHELL */
/* The expansion's coefficients c_μ (into lr->tsum) and shift from the reduced sums in lr->tsum. */
static void LowRankCoefficients(RmLowRank *lr, PetscReal *shift)
{
  const PetscReal S     = lr->tsum[lr->P];
  PetscReal       sum_c = 0;

  for (PetscInt mu = 0; mu < lr->P; mu++) {
    lr->tsum[mu] = lr->s * (lr->kappa * lr->tsum[mu] - lr->betap * S); /* c_μ */
    if (lr->wmu) lr->tsum[mu] *= lr->wmu[mu];                           /* input-driven weight α_μ(u) */
    sum_c += lr->tsum[mu];
  }
  *shift = lr->g * S - lr->betap * sum_c;
}

static PetscErrorCode MatMult_LowRank(Mat W, Vec v, Vec y)
{
  RmLowRank         *lr;
  const PetscScalar *va;
  PetscScalar       *ya;
  PetscReal          shift;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  PetscCall(VecGetArrayRead(v, &va));
  PetscCall(RmFactorsMaskedSums(lr->fac, va, lr->t));
  PetscCall(RmFactorsReduce(lr->fac, lr->t, lr->tsum));
  LowRankCoefficients(lr, &shift);
  PetscCall(VecGetArrayWrite(y, &ya));
  PetscCall(RmFactorsExpand(lr->fac, lr->tsum, lr->kappa, shift, lr->d, va, ya));
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscCall(VecRestoreArrayRead(v, &va));
  PetscCall(PetscLogFlops(4.0 * lr->P * lr->nloc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The local sums t = Uᵀv of v into lr->t: those the last fused pass left for this very vector in
   this very state (its masked sums of the updated v), else a pass of their own. */
static PetscErrorCode LocalSums(RmLowRank *lr, Vec v)
{
  PetscObjectId      id;
  PetscObjectState   state;
  const PetscScalar *va;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetId((PetscObject)v, &id));
  PetscCall(PetscObjectStateGet((PetscObject)v, &state));
  if (lr->next_valid && id == lr->next_id && state == lr->next_state) {
    PetscCall(PetscArraycpy(lr->t, lr->tnext, lr->P + 1));
  } else {
    PetscCall(VecGetArrayRead(v, &va));
    PetscCall(RmFactorsMaskedSums(lr->fac, va, lr->t));
    PetscCall(VecRestoreArrayRead(v, &va));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Exposed as "RmSynapsesMatMultUpdate_C": v <- fn(v, W v) in one pass over the bits, which also
   leaves Uᵀv of the updated v for the next product of the same vector. */
static PetscErrorCode MatMultUpdate_LowRank(Mat W, Vec v, RmFactorsBlockFn fn, void *ctx)
{
  RmLowRank   *lr;
  PetscScalar *va;
  PetscReal    shift, kappa, d;
  PetscInt     mm;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  mm = lr->P + 1;
  if (!lr->tnext) PetscCall(PetscMalloc1(mm, &lr->tnext));
  PetscCall(LocalSums(lr, v));
  PetscCall(RmFactorsReduce(lr->fac, lr->t, lr->tsum));
  if (lr->K) { /* projection design: c = K t, y = Σ_μ c_μ b^μ + c_P 1 */
    PetscReal *c = lr->t;
    for (PetscInt i = 0; i < mm; i++) {
      PetscReal s = 0;
      for (PetscInt k = 0; k < mm; k++) s += lr->K[i * mm + k] * lr->tsum[k];
      c[i] = s;
    }
    PetscCall(PetscArraycpy(lr->tsum, c, mm));
    shift = lr->tsum[lr->P], kappa = 1.0, d = 0.0;
  } else {
    LowRankCoefficients(lr, &shift);
    kappa = lr->kappa, d = lr->d;
  }
  PetscCall(VecGetArray(v, &va));
  PetscCall(RmFactorsExpandUpdate(lr->fac, lr->tsum, kappa, shift, d, va, fn, ctx, lr->tnext));
  PetscCall(VecRestoreArray(v, &va));
  PetscCall(PetscObjectGetId((PetscObject)v, &lr->next_id));
  PetscCall(PetscObjectStateGet((PetscObject)v, &lr->next_state));
  lr->next_valid = PETSC_TRUE;
  PetscCall(PetscLogFlops(4.0 * lr->P * lr->nloc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Projection design: t = Uᵀv (one MPI_Allreduce of P+1 numbers), c = K t (or Kᵀ t for Wᵀ),
   y = Σ_μ c_μ b^μ + c_P 1. */
static PetscErrorCode ProjectionApply(Mat W, const PetscReal *K, Vec v, Vec y)
{
  RmLowRank         *lr;
  const PetscScalar *va;
  PetscScalar       *ya;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  const PetscInt mm = lr->P + 1;
  PetscReal     *c  = lr->t; /* the local sums are consumed by the reduction: reuse them for c */
  PetscCall(VecGetArrayRead(v, &va));
  PetscCall(RmFactorsMaskedSums(lr->fac, va, lr->t));
  PetscCall(RmFactorsReduce(lr->fac, lr->t, lr->tsum));
  for (PetscInt i = 0; i < mm; i++) {
    PetscReal s = 0;
    for (PetscInt k = 0; k < mm; k++) s += K[i * mm + k] * lr->tsum[k];
    c[i] = s;
  }
  PetscCall(VecGetArrayWrite(y, &ya));
  PetscCall(RmFactorsExpand(lr->fac, c, 1.0, c[lr->P], 0.0, va, ya));
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscCall(VecRestoreArrayRead(v, &va));
  PetscCall(PetscLogFlops(2.0 * lr->P * lr->nloc + 2.0 * mm * mm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatMult_Projection(Mat W, Vec v, Vec y)
{
  RmLowRank *lr;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  PetscCall(ProjectionApply(W, lr->K, v, y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatMultTranspose_Projection(Mat W, Vec v, Vec y)
{
  RmLowRank *lr;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  PetscCall(ProjectionApply(W, lr->Kt, v, y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* diag(W)_i = u_iᵀ K u_i, u_i = (b_i0 … b_i,P−1, 1) */
static PetscErrorCode MatGetDiagonal_Projection(Mat W, Vec dg)
{
  RmLowRank      *lr;
  PetscScalar    *da;
  const uint64_t *bits;
  PetscInt        words;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  const PetscInt mm = lr->P + 1;
  PetscInt      *act;
  PetscCall(PetscMalloc1(mm, &act));
  PetscCall(RmFactorsGetLocalPacked(lr->fac, &bits, &words));
  PetscCall(VecGetArrayWrite(dg, &da));
  for (PetscInt i = 0; i < lr->nloc; i++) {
    PetscInt  na  = 0;
    PetscReal sum = 0;
    for (PetscInt mu = 0; mu < lr->P; mu++)
      if ((bits[mu * words + i / 64] >> (i % 64)) & 1) act[na++] = mu;
    act[na++] = lr->P;
    for (PetscInt a = 0; a < na; a++)
      for (PetscInt b = 0; b < na; b++) sum += lr->K[act[a] * mm + act[b]];
    da[i] = sum;
  }
  PetscCall(VecRestoreArrayWrite(dg, &da));
  PetscCall(PetscFree(act));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* diag(W)_i = s Σ_μ (κ b_iμ − β')² + g − d */
static PetscErrorCode MatGetDiagonal_LowRank(Mat W, Vec dg)
{
  RmLowRank      *lr;
  PetscScalar    *da;
  const uint64_t *bits;
  PetscInt        words;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  PetscCall(RmFactorsGetLocalPacked(lr->fac, &bits, &words));
  PetscCall(VecGetArrayWrite(dg, &da));
  for (PetscInt i = 0; i < lr->nloc; i++) {
    PetscReal sum = 0;
    for (PetscInt mu = 0; mu < lr->P; mu++) {
      PetscReal c = lr->kappa * (PetscReal)((bits[mu * words + i / 64] >> (i % 64)) & 1) - lr->betap;
      sum += (lr->wmu ? lr->wmu[mu] : 1.0) * c * c;
    }
    da[i] = lr->s * sum + lr->g - lr->d;
  }
  PetscCall(VecRestoreArrayWrite(dg, &da));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatDestroy_LowRank(Mat W)
{
  RmLowRank *lr;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  PetscCall(PetscFree2(lr->t, lr->tsum));
  PetscCall(PetscFree(lr->tnext));
  PetscCall(PetscFree(lr->wmu));
  PetscCall(PetscFree2(lr->K, lr->Kt));
  PetscCall(RmFactorsDestroy(&lr->fac));
  PetscCall(PetscFree(lr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetInput_LowRank(Mat W, Vec u, PetscInt *P, const PetscReal **alpha)
{
  RmLowRank         *lr;
  const PetscScalar *ua;
  MPI_Comm           comm;
  PetscReal          S, sum = 0;
  PetscInt           nloc;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  PetscCall(PetscObjectGetComm((PetscObject)W, &comm));
  PetscCheck(lr->design == RM_DESIGN_HEBBIAN, comm, PETSC_ERR_ARG_INCOMP,
             "input-driven synapses need the Hebbian low-rank factors (-design hebbian -storage lowrank)");
  if (!u) {
    PetscCall(PetscFree(lr->wmu));
    lr->d = lr->s * lr->P;
    if (P) *P = lr->P;
    if (alpha) *alpha = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecGetLocalSize(u, &nloc));
  PetscCheck(nloc == lr->nloc, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "input vector has %" PetscInt_FMT " local entries, W has %" PetscInt_FMT " rows",
             nloc, lr->nloc);
  if (!lr->wmu) PetscCall(PetscMalloc1(lr->P, &lr->wmu));
  PetscCall(VecGetArrayRead(u, &ua));
  PetscCall(RmFactorsMaskedSums(lr->fac, ua, lr->t));
  PetscCall(VecRestoreArrayRead(u, &ua));
  PetscCall(RmFactorsReduce(lr->fac, lr->t, lr->tsum));
  S = lr->tsum[lr->P];
  for (PetscInt mu = 0; mu < lr->P; mu++) {
    lr->wmu[mu] = lr->s * (lr->kappa * lr->tsum[mu] - lr->betap * S); /* α_μ = ξ^μᵀu/N */
    sum += lr->wmu[mu];
  }
  lr->d = lr->s * sum; /* zero diagonal: Σ_μ α_μ ξ_iμ²/N */
  if (P) *P = lr->P;
  if (alpha) *alpha = lr->wmu;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Exposed as "RmSynapsesMatGetFactors_C" on the Mat: the factors and the form of W (RmSynapsesMatGetFactors). */
static PetscErrorCode GetFactors_LowRank(Mat W, RmFactors *f, RmLowRankForm *form)
{
  RmLowRank *lr;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  if (f) *f = lr->fac;
  if (form) {
    form->design = lr->design;
    form->s      = lr->s;
    form->kappa  = lr->kappa;
    form->betap  = lr->betap;
    form->g      = lr->g;
    form->d      = lr->d;
    form->K      = lr->K;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmLowRankCreateMat_Private(MPI_Comm comm, RmMemories mem, RmDesignType design, PetscReal s, PetscReal kappa, PetscReal betap, PetscReal g,
                                          PetscReal d, Mat *W)
{
  RmLowRank *lr;
  PetscInt   n, P, nloc;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&lr));
  PetscCall(RmFactorsCreate(mem, &lr->fac));
  PetscCall(RmFactorsGetSizes(lr->fac, &nloc, &P));
  PetscCall(RmMemoriesGetSizes(mem, &n, NULL));
  lr->nloc   = nloc;
  lr->P      = P;
  lr->design = design;
  lr->s      = s;
  lr->kappa  = kappa;
  lr->betap  = betap;
  lr->g      = g;
  lr->d      = d;
  PetscCall(PetscMalloc2(P + 1, &lr->t, P + 1, &lr->tsum));
  PetscCall(MatCreateShell(comm, nloc, nloc, n, n, lr, W));
  PetscCall(MatShellSetOperation(*W, MATOP_MULT, (void (*)(void))MatMult_LowRank));
  PetscCall(MatShellSetOperation(*W, MATOP_MULT_TRANSPOSE, (void (*)(void))MatMult_LowRank)); /* W is symmetric */
  PetscCall(MatShellSetOperation(*W, MATOP_GET_DIAGONAL, (void (*)(void))MatGetDiagonal_LowRank));
  PetscCall(MatShellSetOperation(*W, MATOP_DESTROY, (void (*)(void))MatDestroy_LowRank));
  PetscCall(MatSetOption(*W, MAT_SYMMETRIC, PETSC_TRUE));
  PetscCall(PetscObjectComposeFunction((PetscObject)*W, "RmSynapsesMatGetFactors_C", GetFactors_LowRank));
  PetscCall(PetscObjectComposeFunction((PetscObject)*W, "RmSynapsesMatMultUpdate_C", MatMultUpdate_LowRank));
  if (design == RM_DESIGN_HEBBIAN) PetscCall(PetscObjectComposeFunction((PetscObject)*W, "RmSynapsesMatSetInput_C", SetInput_LowRank));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmLowRankCreateProjectionMat_Private(MPI_Comm comm, RmMemories mem, const PetscReal K[], Mat *W)
{
  RmLowRank *lr;
  PetscInt   n, P, nloc, m;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&lr));
  PetscCall(RmFactorsCreate(mem, &lr->fac));
  PetscCall(RmFactorsGetSizes(lr->fac, &nloc, &P));
  PetscCall(RmMemoriesGetSizes(mem, &n, NULL));
  m          = P + 1;
  lr->nloc   = nloc;
  lr->P      = P;
  lr->design = RM_DESIGN_PROJECTION;
  PetscCall(PetscMalloc2(m * m, &lr->K, m * m, &lr->Kt));
  for (PetscInt i = 0; i < m; i++)
    for (PetscInt j = 0; j < m; j++) {
      lr->K[i * m + j]  = K[i * m + j];
      lr->Kt[j * m + i] = K[i * m + j];
    }
  PetscCall(PetscMalloc2(m, &lr->t, m, &lr->tsum));
  PetscCall(MatCreateShell(comm, nloc, nloc, n, n, lr, W));
  PetscCall(MatShellSetOperation(*W, MATOP_MULT, (void (*)(void))MatMult_Projection));
  PetscCall(MatShellSetOperation(*W, MATOP_MULT_TRANSPOSE, (void (*)(void))MatMultTranspose_Projection)); /* W is not symmetric in general */
  PetscCall(MatShellSetOperation(*W, MATOP_GET_DIAGONAL, (void (*)(void))MatGetDiagonal_Projection));
  PetscCall(MatShellSetOperation(*W, MATOP_DESTROY, (void (*)(void))MatDestroy_LowRank));
  PetscCall(PetscObjectComposeFunction((PetscObject)*W, "RmSynapsesMatGetFactors_C", GetFactors_LowRank));
  PetscCall(PetscObjectComposeFunction((PetscObject)*W, "RmSynapsesMatMultUpdate_C", MatMultUpdate_LowRank));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmLowRankSetKernel_Private(Mat W, const char *name)
{
  RmLowRank *lr;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  PetscCall(RmFactorsSetKernel(lr->fac, name));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- public queries on a Mat */
PetscErrorCode RmSynapsesMatGetFactors(Mat W, RmFactors *f, RmLowRankForm *form)
{
  PetscErrorCode (*get)(Mat, RmFactors *, RmLowRankForm *) = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectQueryFunction((PetscObject)W, "RmSynapsesMatGetFactors_C", &get));
  if (!get) {
    if (f) *f = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(get(W, f, form));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesMatHasMultUpdate(Mat W, PetscBool *has)
{
  PetscErrorCode (*update)(Mat, Vec, RmFactorsBlockFn, void *) = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectQueryFunction((PetscObject)W, "RmSynapsesMatMultUpdate_C", &update));
  *has = (PetscBool)(update != NULL);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesMatMultUpdate(Mat W, Vec v, RmFactorsBlockFn fn, void *ctx)
{
  PetscErrorCode (*update)(Mat, Vec, RmFactorsBlockFn, void *) = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectQueryFunction((PetscObject)W, "RmSynapsesMatMultUpdate_C", &update));
  PetscCheck(update, PetscObjectComm((PetscObject)W), PETSC_ERR_SUP, "this weight storage has no fused product and update (-storage lowrank has)");
  PetscCall(update(W, v, fn, ctx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesMatSetInput(Mat W, Vec u, PetscInt *P, const PetscReal **alpha)
{
  PetscErrorCode (*set)(Mat, Vec, PetscInt *, const PetscReal **) = NULL;
  MPI_Comm comm;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectQueryFunction((PetscObject)W, "RmSynapsesMatSetInput_C", &set));
  PetscCall(PetscObjectGetComm((PetscObject)W, &comm));
  PetscCheck(set, comm, PETSC_ERR_ARG_INCOMP, "-input_mode multiplicative needs -design hebbian -storage lowrank (input-driven synapses W(u))");
  PetscCall(set(W, u, P, alpha));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- -storage lowrank */
typedef struct {
  char kernel[16]; /* -lowrank_kernel */
} LowRankStorage;

static PetscErrorCode SetFromOptionsLowRank(PetscOptionItems *PetscOptionsObject, RmSynapses syn)
{
  LowRankStorage *st = (LowRankStorage *)syn->data;
  PetscBool       ok = PETSC_FALSE, t;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsString("-lowrank_kernel", "Kernel of -storage lowrank: table (byte lookup tables, 8 memories per lookup), avx2 or portable (one masked add per memory)",
                               "RmSynapsesSetFromOptions", st->kernel, st->kernel, sizeof(st->kernel), NULL));
  for (const char *const *k = (const char *const[]){"table", "avx2", "portable", NULL}; *k; k++) {
    PetscCall(PetscStrcmp(st->kernel, *k, &t));
    ok = (PetscBool)(ok || t);
  }
  PetscCheck(ok, syn->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown -lowrank_kernel %s: use table, avx2 or portable", st->kernel);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* W as factors of the local bit-packed memories: no gather, no n x n storage. */
static PetscErrorCode AssembleLowRank(RmSynapses syn, RmMemories mem)
{
  LowRankStorage *st = (LowRankStorage *)syn->data;
  PetscInt        n, P;
  RmDesign       *d = &syn->design;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  if (syn->design_type == RM_DESIGN_PROJECTION) PetscCall(RmLowRankCreateProjectionMat_Private(syn->comm, mem, syn->projK, &syn->W));
  else if (syn->design_type == RM_DESIGN_HEBBIAN) /* ξ = 2b − 1; zero diagonal removes P/N */
    PetscCall(RmLowRankCreateMat_Private(syn->comm, mem, RM_DESIGN_HEBBIAN, 1.0 / n, 2.0, 1.0, 0.0, (PetscReal)P / n, &syn->W));
  else PetscCall(RmLowRankCreateMat_Private(syn->comm, mem, RM_DESIGN_PAPER, d->alpha / n, 1.0, d->beta, d->gamma / n, 0.0, &syn->W));
  PetscCall(RmLowRankSetKernel_Private(syn->W, st->kernel));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode KernelNameLowRank(RmSynapses syn, const char **name)
{
  RmLowRank *lr;

  PetscFunctionBeginUser;
  if (!syn->W) { /* before assembly: the one it will take */
    *name = ((LowRankStorage *)syn->data)->kernel;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(MatShellGetContext(syn->W, &lr));
  PetscCall(RmFactorsGetKernel(lr->fac, name));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DestroyLowRankStorage(RmSynapses syn)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(syn->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmSynapsesCreate_LowRank(RmSynapses syn)
{
  LowRankStorage *st;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&st));
  PetscCall(PetscStrncpy(st->kernel, "table", sizeof(st->kernel)));
  syn->data               = st;
  syn->factored           = PETSC_TRUE;
  syn->ops.setfromoptions = SetFromOptionsLowRank;
  syn->ops.assemble       = AssembleLowRank;
  syn->ops.kernelname     = KernelNameLowRank;
  syn->ops.destroy        = DestroyLowRankStorage;
  PetscFunctionReturn(PETSC_SUCCESS);
}
