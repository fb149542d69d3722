/* The exact low-rank Newton solver (include/ratemem/woodbury.h, docs/model.md §3): M = I − γJ
   inverted by the Woodbury identity over the factors of W, and its SUNDIALS linear solver
   (-cvode_ls woodbury: an exact one-iteration SUNLinearSolver, set up through CVODE's preconditioner
   set-up) and preconditioner (-cvode_pc woodbury). The E/I network (§5) eliminates its pool units
   first (SolveEI).

   S, the (P+1) × (P+1) coefficients of W = U S Uᵀ − d I: with κb^μ − β'1 = U (κ e_μ − β' e_P),
     S_μν = s κ² δ_μν,  S_μP = S_Pμ = −s κ β',  S_PP = s P β'² + g      (μ, ν < P).
   K = Uᵀ diag(w) U, w = D/A (w = D when d = 0, K then rescaled by 1/(1 + c)), from nibble histograms: the bits of 4 memories of a neuron form a nibble
   q_k (13 nibbles for P = 50); per neuron, w is added to one bin of the 16-bin histogram H_k[q_k] and
   of the 256-bin histogram H_kl[16 q_k + q_l] (k < l) of each of its nonzero nibbles and pairs of
   them (a zero nibble adds nothing to K): at coding 0.2 about 8 of 13 nibbles, 36 adds per neuron
   for P = 50 (91 at coding 0.5), all histograms (160 KB) in L2.
   K_μν = the sum of the bins whose nibbles have both bits; K_μP from H_k, K_PP = Σ w. */
#include "integrateimpl.h"
#include <ratemem/woodbury.h>
#include <ratemem/synapses.h>
#include <ratemem/factors.h>
#include <cvode/cvode.h>
#include <nvector/nvector_petsc.h>

struct _p_RmWoodbury {
  MPI_Comm      comm;
  RmModel       model;
  RmJacobianForm form_j; /* D W (rate), W D (voltage) or the pools of §5 */
  RmFactors     fac;
  RmLowRankForm form;
  PetscReal     tau;
  /* E/I network (docs/model.md §5): column stride L = nloc + mloc, first local pool unit, units per pool,
     N, τ_I, α/N, αβ, c1 */
  PetscInt      L, mloc, ustart, pool_size, N;
  PetscReal     tau_i, a_over_n, ab, c1;
  PetscInt      nloc, P, k, B, nn; /* local neurons, memories, k = P+1, batch columns, nibbles per neuron */
  uint16_t     *nz;                /* per neuron, its nonzero nibbles as 16 a + q_a (a: the nibble's index) */
  size_t       *nzoff;             /* neuron i's are nz[nzoff[i] .. nzoff[i+1]) */
  PetscInt     *pairoff;           /* nn × nn: the 256-bin histogram of the nibble pair a < b */
  PetscReal    *S;                 /* k × k */
  PetscReal    *K, *C;             /* B × k × k: the reduced Gram matrices, the LU factors of the capacitances */
  PetscReal    *K0;                /* d = 0 (A = (1 + c) I): the reduced Uᵀ D U, from which K = K0/(1 + c) at any γ */
  PetscBool     have_K0;
  PetscInt     *piv;               /* B × k */
  PetscReal    *hist, *t, *tsum;   /* histogram work; B × k sums */
  PetscReal     gamma, c;          /* of the last set-up; c = γ/τ */
  Vec           ainv, wa, q, e;    /* 1/A; D/A (rate) or D (voltage); work */
  PetscInt64    setups, solves, grams;
};

PetscErrorCode RmWoodburyApplicable(RmModel model, PetscBool *ok, const char **why)
{
  Mat         W;
  RmFactors      fac = NULL;
  RmJacobianForm form;
  RmInputMode    mode;

  PetscFunctionBeginUser;
  *ok = PETSC_FALSE;
  PetscCall(RmModelGetJacobianForm(model, &form));
  PetscCall(RmModelGetInputMode(model, &mode));
  PetscCall(RmModelGetJacobianFactors(model, &W, NULL));
  if (W) PetscCall(RmSynapsesMatGetFactors(W, &fac, NULL));
  if (form == RM_JACOBIAN_OPAQUE) {
    if (why) *why = "a model whose Jacobian is not of the D W, W D or pools form";
  } else if (!W) {
    if (why) *why = "-input_variant rate";
  } else if (!fac) {
    if (why) *why = "weights without factors (not -storage lowrank)";
  } else if (mode == RM_INPUT_MULTIPLICATIVE) {
    if (why) *why = "-input_mode multiplicative";
  } else {
    *ok = PETSC_TRUE;
    if (why) *why = "";
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmWoodburyCreate(RmModel model, RmWoodbury *wbp)
{
  RmWoodbury      wb;
  Mat             W;
  PetscBool       ok;
  const char     *why;
  const uint64_t *bits;
  PetscInt        words, P, k, npairs;

  PetscFunctionBeginUser;
  PetscCall(RmWoodburyApplicable(model, &ok, &why));
  PetscCall(RmModelGetJacobianFactors(model, &W, NULL));
  PetscCheck(ok, W ? PetscObjectComm((PetscObject)W) : PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP,
             "the low-rank Newton solver (woodbury) needs -storage lowrank and additive input, not %s", why);
  PetscCall(PetscNew(&wb));
  wb->comm  = PetscObjectComm((PetscObject)W);
  wb->model = model;
  PetscCall(RmModelGetJacobianForm(model, &wb->form_j));
  PetscCall(RmModelGetTau(model, &wb->tau));
  PetscCall(RmModelGetBatch(model, &wb->B));
  PetscCall(RmSynapsesMatGetFactors(W, &wb->fac, &wb->form));
  PetscCall(RmFactorsGetSizes(wb->fac, &wb->nloc, &P));
  wb->P  = P;
  wb->k  = k = P + 1;
  wb->nn = (P + 3) / 4;
  npairs = wb->nn * (wb->nn - 1) / 2;
  {
    uint8_t *nib; /* nloc × nn nibbles, neuron-major, then the nonzero ones listed */
    size_t   cnt = 0;
    PetscCall(PetscCalloc1((size_t)wb->nloc * wb->nn + 1, &nib));
    PetscCall(RmFactorsGetLocalPacked(wb->fac, &bits, &words));
    for (PetscInt mu = 0; mu < P; mu++)
      for (PetscInt w = 0; w < words; w++)
        for (uint64_t word = bits[mu * words + w]; word; word &= word - 1) {
          const PetscInt i = 64 * w + __builtin_ctzll(word);
          if (i < wb->nloc) nib[(size_t)i * wb->nn + (mu >> 2)] |= (uint8_t)(1u << (mu & 3));
        }
    for (size_t j = 0; j < (size_t)wb->nloc * wb->nn; j++) cnt += nib[j] != 0;
    PetscCall(PetscMalloc2(cnt + 1, &wb->nz, wb->nloc + 1, &wb->nzoff));
    cnt = 0;
    for (PetscInt i = 0; i < wb->nloc; i++) {
      wb->nzoff[i] = cnt;
      for (PetscInt a = 0; a < wb->nn; a++)
        if (nib[(size_t)i * wb->nn + a]) wb->nz[cnt++] = (uint16_t)(16 * a + nib[(size_t)i * wb->nn + a]);
    }
    wb->nzoff[wb->nloc] = cnt;
    PetscCall(PetscFree(nib));
    PetscCall(PetscMalloc1(wb->nn * wb->nn, &wb->pairoff));
    for (PetscInt a = 0, p = 0; a < wb->nn; a++)
      for (PetscInt b = a + 1; b < wb->nn; b++) wb->pairoff[a * wb->nn + b] = 256 * p++;
  }
  PetscCall(PetscCalloc1(k * k, &wb->S));
  for (PetscInt mu = 0; mu < P; mu++) {
    wb->S[mu * k + mu] = wb->form.s * wb->form.kappa * wb->form.kappa;
    wb->S[mu * k + P] = wb->S[P * k + mu] = -wb->form.s * wb->form.kappa * wb->form.betap;
  }
  wb->S[P * k + P] = wb->form.s * P * wb->form.betap * wb->form.betap + wb->form.g;
  PetscCall(PetscMalloc4(wb->B * k * k, &wb->K, wb->B * k * k, &wb->C, wb->B * k, &wb->piv, 16 * wb->nn + 256 * npairs, &wb->hist));
  PetscCall(PetscMalloc1(wb->B * k * k, &wb->K0));
  PetscCall(PetscMalloc2(wb->B * k, &wb->t, wb->B * k, &wb->tsum));
  wb->L = wb->nloc;
  if (wb->form_j == RM_JACOBIAN_POOLS) { /* the pools' coefficients G replace S (built at each set-up: they depend on γ) */
    Vec      x;
    PetscInt len;
    PetscCall(RmModelCreateState(model, &x));
    PetscCall(VecGetLocalSize(x, &len));
    PetscCall(VecDestroy(&x));
    wb->L    = len / wb->B;
    wb->mloc = wb->L - wb->nloc;
    PetscCallMPI(MPI_Scan(&wb->mloc, &wb->ustart, 1, MPIU_INT, MPI_SUM, wb->comm));
    wb->ustart -= wb->mloc;
    PetscCall(RmModelGetInhibition(model, &wb->tau_i, &wb->pool_size));
    PetscCall(MatGetSize(W, &wb->N, NULL));
    wb->a_over_n = wb->form.s;
    wb->ab       = wb->form.s * wb->N * wb->form.betap;
    wb->c1       = wb->ab * wb->form.betap * P + wb->form.g * wb->N;
    PetscCall(PetscFree2(wb->t, wb->tsum));
    PetscCall(PetscMalloc2(2 * wb->B * k, &wb->t, 2 * wb->B * k, &wb->tsum)); /* masked sums and pool sums */
  }
  PetscCall(RmModelCreateNeuronVec(model, &wb->ainv));
  PetscCall(VecDuplicate(wb->ainv, &wb->wa));
  PetscCall(VecDuplicate(wb->ainv, &wb->q));
  PetscCall(VecDuplicate(wb->ainv, &wb->e));
  *wbp = wb;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmWoodburyDestroy(RmWoodbury *wb)
{
  PetscFunctionBeginUser;
  if (!*wb) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree2((*wb)->nz, (*wb)->nzoff));
  PetscCall(PetscFree((*wb)->pairoff));
  PetscCall(PetscFree((*wb)->S));
  PetscCall(PetscFree4((*wb)->K, (*wb)->C, (*wb)->piv, (*wb)->hist));
  PetscCall(PetscFree((*wb)->K0));
  PetscCall(PetscFree2((*wb)->t, (*wb)->tsum));
  PetscCall(VecDestroy(&(*wb)->ainv));
  PetscCall(VecDestroy(&(*wb)->wa));
  PetscCall(VecDestroy(&(*wb)->q));
  PetscCall(VecDestroy(&(*wb)->e));
  PetscCall(PetscFree(*wb));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The local Gram matrix G = Uᵀ diag(w) U (k × k, full) of one column's weights w. */
static void LocalGram(RmWoodbury wb, const PetscScalar *w, PetscReal *G)
{
  const PetscInt nn = wb->nn, P = wb->P, k = wb->k, npairs = nn * (nn - 1) / 2;
  PetscReal     *H1 = wb->hist, *H2 = wb->hist + 16 * nn, sum = 0;

  for (PetscInt j = 0; j < 16 * nn + 256 * npairs; j++) wb->hist[j] = 0;
  for (PetscInt i = 0; i < wb->nloc; i++) { /* only the nonzero nibbles: a zero one adds to no entry of K */
    const PetscReal wi = w[i];
    const uint16_t *e = wb->nz + wb->nzoff[i], *end = wb->nz + wb->nzoff[i + 1];
    sum += wi;
    if (wi == 0) continue;
    for (; e < end; e++) {
      const PetscInt  a = e[0] >> 4, qa = 16 * (e[0] & 15);
      const PetscInt *po = wb->pairoff + a * nn;
      H1[e[0]] += wi;
      for (const uint16_t *f = e + 1; f < end; f++) H2[po[f[0] >> 4] + qa + (f[0] & 15)] += wi;
    }
  }
  for (PetscInt j = 0; j < k * k; j++) G[j] = 0;
  G[P * k + P] = sum;
  for (PetscInt a = 0; a < nn; a++) { /* within nibble a, and with the ones column */
    const PetscReal *h = H1 + 16 * a;
    for (PetscInt m = 0; m < 16; m++) {
      if (h[m] == 0) continue;
      for (PetscInt j1 = 0; j1 < 4; j1++) {
        const PetscInt mu = 4 * a + j1;
        if (mu >= P || !((m >> j1) & 1)) continue;
        G[mu * k + P] += h[m];
        for (PetscInt j2 = 0; j2 < 4; j2++) {
          const PetscInt nu = 4 * a + j2;
          if (nu < P && ((m >> j2) & 1)) G[mu * k + nu] += h[m];
        }
      }
    }
  }
  {
    const PetscReal *h = H2;
    for (PetscInt a = 0; a < nn; a++)
      for (PetscInt b = a + 1; b < nn; b++, h += 256)
        for (PetscInt m = 0; m < 256; m++) {
          const PetscInt ma = m >> 4, mb = m & 15;
          if (h[m] == 0) continue;
          for (PetscInt j1 = 0; j1 < 4; j1++) {
            const PetscInt mu = 4 * a + j1;
            if (mu >= P || !((ma >> j1) & 1)) continue;
            for (PetscInt j2 = 0; j2 < 4; j2++) {
              const PetscInt nu = 4 * b + j2;
              if (nu < P && ((mb >> j2) & 1)) G[mu * k + nu] += h[m];
            }
          }
        }
  }
  for (PetscInt mu = 0; mu < k; mu++) /* symmetric: fill the lower triangle and the ones row */
    for (PetscInt nu = mu + 1; nu < k; nu++) G[nu * k + mu] = G[mu * k + nu];
}

/* LU with partial pivoting of the k × k row-major A, in place. */
static PetscErrorCode LUFactor(PetscInt k, PetscReal *A, PetscInt *piv)
{
  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < k; j++) {
    PetscInt  p   = j;
    PetscReal big = PetscAbsReal(A[j * k + j]);
    for (PetscInt i = j + 1; i < k; i++)
      if (PetscAbsReal(A[i * k + j]) > big) big = PetscAbsReal(A[i * k + j]), p = i;
    PetscCheck(big > 0 && PetscIsNormalReal(big), PETSC_COMM_SELF, PETSC_ERR_MAT_LU_ZRPVT, "the capacitance matrix of the low-rank Newton solver is singular (column %" PetscInt_FMT ")", j);
    piv[j] = p;
    if (p != j)
      for (PetscInt c = 0; c < k; c++) {
        PetscReal tmp = A[j * k + c];
        A[j * k + c]  = A[p * k + c];
        A[p * k + c]  = tmp;
      }
    for (PetscInt i = j + 1; i < k; i++) {
      const PetscReal l = A[i * k + j] / A[j * k + j];
      A[i * k + j]      = l;
      for (PetscInt c = j + 1; c < k; c++) A[i * k + c] -= l * A[j * k + c];
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void LUSolve(PetscInt k, const PetscReal *A, const PetscInt *piv, PetscReal *x)
{
  for (PetscInt j = 0; j < k; j++)
    if (piv[j] != j) {
      PetscReal tmp = x[j];
      x[j]          = x[piv[j]];
      x[piv[j]]     = tmp;
    }
  for (PetscInt i = 0; i < k; i++)
    for (PetscInt j = 0; j < i; j++) x[i] -= A[i * k + j] * x[j];
  for (PetscInt i = k - 1; i >= 0; i--) {
    for (PetscInt j = i + 1; j < k; j++) x[i] -= A[i * k + j] * x[j];
    x[i] /= A[i * k + i];
  }
}

static PetscErrorCode SetUp(RmWoodbury wb, PetscReal gamma, PetscBool same_D)
{
  const PetscInt     k = wb->k, nloc = wb->nloc;
  const PetscReal    c = gamma / wb->tau, d = wb->form.d;
  Vec                dphi;
  const PetscScalar *da;
  PetscScalar       *ai, *wa;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.wb_setup, 0, 0, 0, 0));
  if (wb->form_j == RM_JACOBIAN_POOLS) { /* G: δh = U (G Uᵀv + y0(r_z)) once the pools are eliminated (docs/model.md §3) */
    const PetscReal cI = gamma / wb->tau_i, sigma = cI / (wb->N * (1.0 + cI));
    const PetscInt  P  = wb->P;
    PetscCall(PetscArrayzero(wb->S, k * k));
    for (PetscInt mu = 0; mu < P; mu++) {
      wb->S[mu * k + mu] = wb->a_over_n;
      wb->S[mu * k + P] = wb->S[P * k + mu] = -wb->ab * sigma;
    }
    wb->S[P * k + P] = wb->c1 >= 0 ? wb->c1 / wb->N : wb->c1 * sigma;
  }
  PetscCall(RmModelGetJacobianFactors(wb->model, NULL, &dphi));
  PetscCall(VecGetArrayRead(dphi, &da));
  PetscCall(VecGetArrayWrite(wb->ainv, &ai));
  PetscCall(VecGetArrayWrite(wb->wa, &wa));
  for (PetscInt j = 0; j < nloc * wb->B; j++) {
    ai[j] = 1.0 / (1.0 + c + c * d * da[j]);
    wa[j] = wb->form_j != RM_JACOBIAN_WD ? da[j] * ai[j] : da[j];
  }
  if (d == 0 && !(same_D && wb->have_K0)) { /* A = (1 + c) I: the Gram of D, reusable at any γ */
    for (PetscInt b = 0; b < wb->B; b++) LocalGram(wb, da + b * nloc, wb->C + b * k * k);
    PetscCallMPI(MPI_Allreduce(wb->C, wb->K0, (PetscMPIInt)(wb->B * k * k), MPIU_REAL, MPI_SUM, wb->comm));
    wb->have_K0 = PETSC_TRUE;
    wb->grams++;
  }
  if (d == 0)
    for (PetscInt j = 0; j < wb->B * k * k; j++) wb->K[j] = wb->K0[j] / (1.0 + c);
  else for (PetscInt b = 0; b < wb->B; b++) { /* Gram of D/A */
    if (wb->form_j != RM_JACOBIAN_WD) LocalGram(wb, wa + b * nloc, wb->C + b * k * k);
    else {
      PetscScalar *tmp;
      PetscCall(VecGetArrayWrite(wb->q, &tmp));
      for (PetscInt i = 0; i < nloc; i++) tmp[i] = da[b * nloc + i] * ai[b * nloc + i];
      LocalGram(wb, tmp, wb->C + b * k * k);
      PetscCall(VecRestoreArrayWrite(wb->q, &tmp));
    }
  }
  PetscCall(VecRestoreArrayWrite(wb->wa, &wa));
  PetscCall(VecRestoreArrayWrite(wb->ainv, &ai));
  PetscCall(VecRestoreArrayRead(dphi, &da));
  if (d != 0) {
    PetscCallMPI(MPI_Allreduce(wb->C, wb->K, (PetscMPIInt)(wb->B * k * k), MPIU_REAL, MPI_SUM, wb->comm));
    wb->grams++;
  }
  for (PetscInt b = 0; b < wb->B; b++) { /* C = I − c S K, factored redundantly on every rank */
    const PetscReal *K = wb->K + b * k * k;
    PetscReal       *C = wb->C + b * k * k;
    for (PetscInt i = 0; i < k; i++)
      for (PetscInt j = 0; j < k; j++) {
        PetscReal sk = 0;
        for (PetscInt l = 0; l < k; l++) sk += wb->S[i * k + l] * K[l * k + j];
        C[i * k + j] = (i == j ? 1.0 : 0.0) - c * sk;
      }
    PetscCall(LUFactor(k, C, wb->piv + b * k));
  }
  wb->gamma = gamma;
  wb->c     = c;
  wb->setups++;
  PetscCall(PetscLogEventEnd(RM_EVENTS.wb_setup, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* E/I (docs/model.md §3): the pool rows give v_z = ρ (r_z + c_I in_p(Uᵀv_x)/N), ρ = 1/(1 + c_I); with
   them the neuron rows are A v_x − c_E D U (G Uᵀ v_x + y0) = r_x (A = 1 + c_E), y0 from the pool means
   of r_z. So v_x = A⁻¹r_x + c_E A⁻¹ D U w with w = y0 + C⁻¹ G (Uᵀ A⁻¹ r_x + c_E K y0), and
   Uᵀ v_x = Uᵀ A⁻¹ r_x + c_E K w needs no second pass. */
static PetscErrorCode SolveEI(RmWoodbury wb, Vec r, Vec z)
{
  const PetscInt     k = wb->k, nloc = wb->nloc, P = wb->P, L = wb->L;
  const PetscReal    cE = wb->c, cI = wb->gamma / wb->tau_i, rho = 1.0 / (1.0 + cI);
  const PetscScalar *ra, *ai, *wa;
  PetscScalar       *qa, *ea, *za;
  PetscReal          y0[1024], tmp[1024], u[1024];

  PetscFunctionBeginUser;
  PetscCheck(k <= 1024, PETSC_COMM_SELF, PETSC_ERR_SUP, "the E/I low-rank Newton solver supports up to 1023 memories");
  PetscCall(VecGetArrayRead(r, &ra));
  PetscCall(VecGetArrayRead(wb->ainv, &ai));
  PetscCall(VecGetArrayRead(wb->wa, &wa));
  PetscCall(VecGetArrayWrite(wb->q, &qa));
  PetscCall(VecGetArrayWrite(wb->e, &ea));
  for (PetscInt b = 0; b < wb->B; b++) {
    const PetscScalar *rx = ra + b * L, *rz = rx + nloc;
    PetscReal         *t  = wb->t + 2 * b * k;
    for (PetscInt i = 0; i < nloc; i++) qa[b * nloc + i] = ai[b * nloc + i] * rx[i];
    PetscCall(RmFactorsMaskedSums(wb->fac, qa + b * nloc, t));
    for (PetscInt p = 0; p < k; p++) t[k + p] = 0;
    for (PetscInt j = 0; j < wb->mloc; j++) t[k + (wb->ustart + j) / wb->pool_size] += rz[j];
  }
  PetscCall(PetscLogEventBegin(RM_EVENTS.lowrank_reduce, 0, 0, 0, 0));
  PetscCallMPI(MPI_Allreduce(wb->t, wb->tsum, (PetscMPIInt)(2 * wb->B * k), MPIU_REAL, MPI_SUM, wb->comm));
  PetscCall(PetscLogEventEnd(RM_EVENTS.lowrank_reduce, 0, 0, 0, 0));
  PetscCall(VecGetArrayWrite(z, &za));
  for (PetscInt b = 0; b < wb->B; b++) {
    const PetscReal *tr = wb->tsum + 2 * b * k, *rbar = tr + k, *K = wb->K + b * k * k, inv = 1.0 / wb->pool_size;
    PetscReal        sum_rbar = 0, *w = wb->t + 2 * b * k;
    const PetscScalar *rz = ra + b * L + nloc;
    for (PetscInt mu = 0; mu < P; mu++) sum_rbar += rbar[1 + mu] * inv;
    for (PetscInt mu = 0; mu < P; mu++) y0[mu] = -wb->ab * rho * rbar[0] * inv;
    y0[P] = -wb->ab * rho * sum_rbar + (wb->c1 < 0 ? wb->c1 * rho * rbar[0] * inv : 0.0);
    for (PetscInt i = 0; i < k; i++) { /* tmp = tr + c_E K y0 */
      PetscReal s = 0;
      for (PetscInt l = 0; l < k; l++) s += K[i * k + l] * y0[l];
      tmp[i] = tr[i] + cE * s;
    }
    for (PetscInt i = 0; i < k; i++) { /* w = G tmp, then C⁻¹, then + y0 */
      PetscReal s = 0;
      for (PetscInt l = 0; l < k; l++) s += wb->S[i * k + l] * tmp[l];
      w[i] = s;
    }
    LUSolve(k, wb->C + b * k * k, wb->piv + b * k, w);
    for (PetscInt i = 0; i < k; i++) w[i] += y0[i];
    for (PetscInt i = 0; i < k; i++) { /* u = Uᵀ v_x = tr + c_E K w */
      PetscReal s = 0;
      for (PetscInt l = 0; l < k; l++) s += K[i * k + l] * w[l];
      u[i] = tr[i] + cE * s;
    }
    PetscCall(RmFactorsExpand(wb->fac, w, 1.0, w[P], 0.0, NULL, ea + b * nloc));
    for (PetscInt i = 0; i < nloc; i++) za[b * L + i] = qa[b * nloc + i] + cE * wa[b * nloc + i] * ea[b * nloc + i];
    for (PetscInt j = 0; j < wb->mloc; j++) {
      const PetscInt p = (wb->ustart + j) / wb->pool_size;
      za[b * L + nloc + j] = rho * (rz[j] + cI * (p == 0 ? u[P] : u[p - 1]) / wb->N);
    }
  }
  PetscCall(VecRestoreArrayWrite(z, &za));
  PetscCall(VecRestoreArrayWrite(wb->e, &ea));
  PetscCall(VecRestoreArrayWrite(wb->q, &qa));
  PetscCall(VecRestoreArrayRead(wb->wa, &wa));
  PetscCall(VecRestoreArrayRead(wb->ainv, &ai));
  PetscCall(VecRestoreArrayRead(r, &ra));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmWoodburySetUp(RmWoodbury wb, PetscReal gamma)
{
  PetscFunctionBeginUser;
  PetscCall(SetUp(wb, gamma, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmWoodburySetGamma(RmWoodbury wb, PetscReal gamma)
{
  PetscFunctionBeginUser;
  PetscCheck(wb->setups, wb->comm, PETSC_ERR_ORDER, "RmWoodburySetUp() before RmWoodburySetGamma()");
  PetscCall(SetUp(wb, gamma, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmWoodburySolve(RmWoodbury wb, Vec r, Vec z)
{
  const PetscInt     k = wb->k, nloc = wb->nloc, P = wb->P;
  const PetscScalar *ra, *ai, *wa;
  PetscScalar       *qa, *ea, *za;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.wb_solve, 0, 0, 0, 0));
  PetscCheck(wb->setups, wb->comm, PETSC_ERR_ORDER, "RmWoodburySetUp() before RmWoodburySolve()");
  if (wb->form_j == RM_JACOBIAN_POOLS) {
    PetscCall(SolveEI(wb, r, z));
    wb->solves++;
    PetscCall(PetscLogEventEnd(RM_EVENTS.wb_solve, 0, 0, 0, 0));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecGetArrayRead(r, &ra));
  PetscCall(VecGetArrayRead(wb->ainv, &ai));
  PetscCall(VecGetArrayRead(wb->wa, &wa));
  PetscCall(VecGetArrayWrite(wb->q, &qa));
  PetscCall(VecGetArrayWrite(wb->e, &ea));
  for (PetscInt j = 0; j < nloc * wb->B; j++) qa[j] = ai[j] * ra[j];
  PetscCall(VecRestoreArrayRead(r, &ra));
  for (PetscInt b = 0; b < wb->B; b++) { /* t = Uᵀ q (rate) or Uᵀ D q (voltage) */
    const PetscScalar *src = qa + b * nloc;
    if (wb->form_j != RM_JACOBIAN_DW) {
      for (PetscInt i = 0; i < nloc; i++) ea[b * nloc + i] = wa[b * nloc + i] * qa[b * nloc + i];
      src = ea + b * nloc;
    }
    PetscCall(RmFactorsMaskedSums(wb->fac, src, wb->t + b * k));
  }
  PetscCall(PetscLogEventBegin(RM_EVENTS.lowrank_reduce, 0, 0, 0, 0));
  PetscCallMPI(MPI_Allreduce(wb->t, wb->tsum, (PetscMPIInt)(wb->B * k), MPIU_REAL, MPI_SUM, wb->comm));
  PetscCall(PetscLogEventEnd(RM_EVENTS.lowrank_reduce, 0, 0, 0, 0));
  for (PetscInt b = 0; b < wb->B; b++) { /* y = C⁻¹ S t, then e = U y */
    PetscReal *y = wb->t + b * k, *tb = wb->tsum + b * k;
    for (PetscInt i = 0; i < k; i++) {
      PetscReal s = 0;
      for (PetscInt l = 0; l < k; l++) s += wb->S[i * k + l] * tb[l];
      y[i] = s;
    }
    LUSolve(k, wb->C + b * k * k, wb->piv + b * k, y);
    PetscCall(RmFactorsExpand(wb->fac, y, 1.0, y[P], 0.0, NULL, ea + b * nloc));
  }
  PetscCall(VecGetArrayWrite(z, &za));
  if (wb->form_j == RM_JACOBIAN_DW) /* z = q + c (D/A) ⊙ e */
    for (PetscInt j = 0; j < nloc * wb->B; j++) za[j] = qa[j] + wb->c * wa[j] * ea[j];
  else /* z = q + c A⁻¹ ⊙ e */
    for (PetscInt j = 0; j < nloc * wb->B; j++) za[j] = qa[j] + wb->c * ai[j] * ea[j];
  PetscCall(VecRestoreArrayWrite(z, &za));
  PetscCall(VecRestoreArrayWrite(wb->e, &ea));
  PetscCall(VecRestoreArrayWrite(wb->q, &qa));
  PetscCall(VecRestoreArrayRead(wb->wa, &wa));
  PetscCall(VecRestoreArrayRead(wb->ainv, &ai));
  PetscCall(PetscLogFlops(4.0 * P * nloc * wb->B));
  wb->solves++;
  PetscCall(PetscLogEventEnd(RM_EVENTS.wb_solve, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmWoodburyGetInfo(RmWoodbury wb, PetscReal *gamma, PetscInt64 *setups, PetscInt64 *grams, PetscInt64 *solves)
{
  PetscFunctionBeginUser;
  if (grams) *grams = wb->grams;
  if (gamma) *gamma = wb->gamma;
  if (setups) *setups = wb->setups;
  if (solves) *solves = wb->solves;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- -cvode_ls woodbury
   A SUNLinearSolver of the "iterative" kind whose one iteration is exact, so that CVODE drives it as
   it drives SPGMR with a preconditioner: the set-up (SUNLinSolSetup -> the integrator's
   preconditioner set-up, with CVODE's rules: every 20 steps, after a change of γ by more than 30% or
   a failure; jok says whether D may be kept) refactors C at the current γ, and each Newton iteration
   calls one solve. (A matrix-embedded solver would lose CVODE's convergence-rate memory: with no
   set-up CVODE resets it to 1 every step and takes more Newton iterations.) Between set-ups γ may
   drift; the solution is scaled by 2/(1 + γ/γ_setup), as CVODE does for a direct solver with BDF. */
typedef struct {
  RmWoodbury       wb;
  void            *cvode;
  RmCallbackError *cb;
  void            *P_data;
  SUNPSetupFn      pset;
  int              last_flag;
} WoodburyLS;

static SUNLinearSolver_Type WbGetType(SUNLinearSolver S) { return SUNLINEARSOLVER_ITERATIVE; }
static SUNLinearSolver_ID   WbGetID(SUNLinearSolver S) { return SUNLINEARSOLVER_CUSTOM; }
static int                  WbSetATimes(SUNLinearSolver S, void *A_data, SUNATimesFn ATimes) { return SUNLS_SUCCESS; } /* never used: M⁻¹ is exact */
static int                  WbSetScaling(SUNLinearSolver S, N_Vector s1, N_Vector s2) { return SUNLS_SUCCESS; }         /* nothing to scale */
static int                  WbNumIters(SUNLinearSolver S) { return 1; }
static sunindextype         WbLastFlag(SUNLinearSolver S) { return ((WoodburyLS *)S->content)->last_flag; }

static int WbSetPreconditioner(SUNLinearSolver S, void *P_data, SUNPSetupFn Pset, SUNPSolveFn Psol)
{
  WoodburyLS *ls = (WoodburyLS *)S->content;
  ls->P_data     = P_data;
  ls->pset       = Pset;
  return SUNLS_SUCCESS;
}

static int WbSetup(SUNLinearSolver S, SUNMatrix A)
{
  WoodburyLS *ls = (WoodburyLS *)S->content;
  int         ret;

  if (!ls->pset) return (ls->last_flag = SUNLS_SUCCESS);
  ret           = ls->pset(ls->P_data);
  ls->last_flag = ret == 0 ? SUNLS_SUCCESS : ret < 0 ? SUNLS_PSET_FAIL_UNREC : SUNLS_PSET_FAIL_REC;
  return ls->last_flag;
}

static PetscErrorCode WbSolve(WoodburyLS *ls, Vec x, Vec b)
{
  realtype gamma;

  PetscFunctionBeginUser;
  RmCallCVODE(CVodeGetCurrentGamma(ls->cvode, &gamma));
  PetscCall(RmWoodburySolve(ls->wb, b, x));
  if (gamma != ls->wb->gamma) PetscCall(VecScale(x, 2.0 / (1.0 + gamma / ls->wb->gamma)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int WbSolveCallback(SUNLinearSolver S, SUNMatrix A, N_Vector x, N_Vector b, realtype tol)
{
  WoodburyLS *ls = (WoodburyLS *)S->content;
  realtype    t  = NAN;

  (void)CVodeGetCurrentTime(ls->cvode, &t);
  if (RmIntegratorCallbackStore_Private(ls->cb, WbSolve(ls, N_VGetVector_Petsc(x), N_VGetVector_Petsc(b)), "low-rank Newton solve", t))
    return (ls->last_flag = SUNLS_PACKAGE_FAIL_UNREC);
  return (ls->last_flag = SUNLS_SUCCESS);
}

static int WbFree(SUNLinearSolver S)
{
  if (!S) return SUNLS_SUCCESS;
  if (S->content) {
    (void)RmWoodburyDestroy(&((WoodburyLS *)S->content)->wb);
    free(S->content);
    S->content = NULL;
  }
  SUNLinSolFreeEmpty(S);
  return SUNLS_SUCCESS;
}

PetscErrorCode RmWoodburyLinSolCreate_Private(RmModel model, void *cvode, RmCallbackError *cb, SUNContext sunctx, SUNLinearSolver *S, RmWoodbury *wb)
{
  WoodburyLS *ls;

  PetscFunctionBeginUser;
  *S = SUNLinSolNewEmpty(sunctx);
  PetscCheck(*S, PETSC_COMM_SELF, PETSC_ERR_MEM, "SUNLinSolNewEmpty failed");
  ls = (WoodburyLS *)calloc(1, sizeof(*ls));
  PetscCheck(ls, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory");
  (*S)->content                 = ls;
  (*S)->ops->gettype            = WbGetType;
  (*S)->ops->getid              = WbGetID;
  (*S)->ops->setatimes          = WbSetATimes;
  (*S)->ops->setpreconditioner  = WbSetPreconditioner;
  (*S)->ops->setscalingvectors  = WbSetScaling;
  (*S)->ops->setup              = WbSetup;
  (*S)->ops->solve              = WbSolveCallback;
  (*S)->ops->numiters           = WbNumIters;
  (*S)->ops->lastflag           = WbLastFlag;
  (*S)->ops->free               = WbFree;
  ls->cvode                     = cvode;
  ls->cb                        = cb;
  PetscCall(RmWoodburyCreate(model, &ls->wb));
  *wb = ls->wb;
  PetscFunctionReturn(PETSC_SUCCESS);
}
