/* Low-rank storage (-storage lowrank). With t_μ = b^μᵀv and S = 1ᵀv (one MPI_Allreduce of P+1
   numbers), c_μ = s(κ t_μ − β'S) and
     (W v)_i = κ Σ_μ c_μ b_iμ + (g S − β' Σ_μ c_μ) − d v_i.
   Paper design (docs/model.md §2): s = α/N, κ = 1, β' = β, g = γ/N, d = 0.
   Hebbian (§3, ±1 memories ξ = 2b − 1, zero diagonal): s = 1/N, κ = 2, β' = 1, g = 0, d = P/N.
   The masked-sum kernels (avx2, portable) stream v and the bits once per product, in chunks that
   stay in L1: P masked adds per neuron and pass. The default byte-table kernels read the bits of
   8 memories at a time as one byte of a neuron-major copy and replace the 8 masked adds by one
   lookup: the expansion sums, per neuron, ceil(P/8) entries of tables T_k[m] = κ Σ_{j in m} c_{8k+j}
   (built per product, 256 ceil(P/8) entries), and the masked sums add v_i into 256-bin histograms
   H_k[byte] from which t_{8k+j} = Σ_{m with bit j} H_k[m]. Same sums in another order (rounding). */
#include "lowrank.h"
#include "synapsesimpl.h"
#include <ratemem/sys.h>
#if defined(__x86_64__)
  #include <immintrin.h>
#endif

#define CHUNK_WORDS 16 /* 1024 neurons: 8 KB of v per chunk */

/* ---------------------------------------------------------------- portable kernels */
static void MaskedSumsPortable(const RmLowRank *lr, const PetscScalar *v, PetscReal *t)
{
  for (PetscInt mu = 0; mu < lr->P; mu++) t[mu] = 0;
  for (PetscInt w0 = 0; w0 < lr->words; w0 += CHUNK_WORDS) {
    PetscInt wend = PetscMin(w0 + CHUNK_WORDS, lr->words);
    for (PetscInt mu = 0; mu < lr->P; mu++) {
      const uint64_t *b   = lr->bits + mu * lr->words;
      PetscReal       acc[4] = {0, 0, 0, 0};
      for (PetscInt w = w0; w < wend; w++) {
        uint64_t          word = b[w];
        const PetscScalar *vw  = v + 64 * w;
        PetscInt           len = PetscMin(64, lr->nloc - 64 * w);
        for (PetscInt k = 0; k < len; k++) acc[k & 3] += ((word >> k) & 1) ? vw[k] : 0.0;
      }
      t[mu] += (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
  }
}

static void ExpandPortable(const RmLowRank *lr, const PetscReal *coef, PetscReal shift, const PetscScalar *v, PetscScalar *y)
{
  for (PetscInt i = 0; i < lr->nloc; i++) y[i] = shift - lr->d * v[i];
  for (PetscInt w0 = 0; w0 < lr->words; w0 += CHUNK_WORDS) {
    PetscInt wend = PetscMin(w0 + CHUNK_WORDS, lr->words);
    for (PetscInt mu = 0; mu < lr->P; mu++) {
      const uint64_t *b = lr->bits + mu * lr->words;
      const PetscReal c = lr->kappa * coef[mu];
      for (PetscInt w = w0; w < wend; w++) {
        uint64_t     word = b[w];
        PetscScalar *yw   = y + 64 * w;
        PetscInt     len  = PetscMin(64, lr->nloc - 64 * w);
        for (PetscInt k = 0; k < len; k++) yw[k] += ((word >> k) & 1) ? c : 0.0;
      }
    }
  }
}

/* ---------------------------------------------------------------- byte-table kernels
   The per-neuron loops over the nb bytes are instantiated for nb = 1..8 (P <= 64) so that the
   compiler unrolls them; larger P takes the generic loop. */
static inline __attribute__((always_inline)) void HistogramRows(const uint8_t *r, const PetscScalar *v, PetscInt nloc, PetscInt nb, PetscReal *h)
{
  for (PetscInt i = 0; i < nloc; i++, r += nb) {
    const PetscReal vi = v[i];
    for (PetscInt k = 0; k < nb; k++) h[256 * k + r[k]] += vi;
  }
}

static inline __attribute__((always_inline)) void LookupRows(const uint8_t *r, const PetscReal *T, PetscReal shift, PetscReal d, const PetscScalar *v,
                                                               PetscInt nloc, PetscInt nb, PetscScalar *y)
{
  for (PetscInt i = 0; i < nloc; i++, r += nb) {
    PetscReal s0 = d != 0 ? shift - d * v[i] : shift, s1 = 0; /* two chains: half the add latency */
    for (PetscInt k = 0; k + 1 < nb; k += 2) s0 += T[256 * k + r[k]], s1 += T[256 * (k + 1) + r[k + 1]];
    if (nb & 1) s0 += T[256 * (nb - 1) + r[nb - 1]];
    y[i] = s0 + s1;
  }
}

#define RM_NB_CASES(CALL) \
  switch (nb) { \
  case 1: CALL(1); break; \
  case 2: CALL(2); break; \
  case 3: CALL(3); break; \
  case 4: CALL(4); break; \
  case 5: CALL(5); break; \
  case 6: CALL(6); break; \
  case 7: CALL(7); break; \
  case 8: CALL(8); break; \
  default: CALL(nb); \
  }

static void MaskedSumsTable(const RmLowRank *lr, const PetscScalar *v, PetscReal *t)
{
  const PetscInt nb = lr->nb;
  PetscReal     *h  = lr->tab;

  for (PetscInt k = 0; k < 256 * nb; k++) h[k] = 0;
#define RM_HIST(NB) HistogramRows(lr->rows, v, lr->nloc, NB, h)
  RM_NB_CASES(RM_HIST)
#undef RM_HIST
  for (PetscInt mu = 0; mu < lr->P; mu++) { /* t_mu = sum of the bins whose byte has bit j */
    const PetscReal *hk = h + 256 * (mu >> 3);
    const int        j  = (int)(mu & 7);
    PetscReal        s0 = 0, s1 = 0;
    for (int m = 0; m < 256; m += 2) {
      if ((m >> j) & 1) s0 += hk[m];
      if (((m + 1) >> j) & 1) s1 += hk[m + 1];
    }
    t[mu] = s0 + s1;
  }
}

static void ExpandTable(const RmLowRank *lr, const PetscReal *coef, PetscReal shift, const PetscScalar *v, PetscScalar *y)
{
  const PetscInt nb = lr->nb;
  PetscReal     *T  = lr->tab;

  for (PetscInt k = 0; k < nb; k++) { /* T_k[m] = T_k[m without its lowest bit] + κ c_(8k + lowest bit) */
    PetscReal *Tk = T + 256 * k;
    Tk[0]         = 0;
    for (int m = 1; m < 256; m++) {
      const PetscInt mu = 8 * k + __builtin_ctz((unsigned)m);
      Tk[m]             = Tk[m & (m - 1)] + (mu < lr->P ? lr->kappa * coef[mu] : 0.0);
    }
  }
#define RM_LOOKUP(NB) LookupRows(lr->rows, T, shift, lr->d, v, lr->nloc, NB, y)
  RM_NB_CASES(RM_LOOKUP)
#undef RM_LOOKUP
}
#undef RM_NB_CASES

/* The neuron-major copy of the memories for the table kernels. */
static PetscErrorCode CreateRows(RmLowRank *lr)
{
  PetscFunctionBeginUser;
  lr->nb = (lr->P + 7) / 8;
  PetscCall(PetscCalloc1((size_t)lr->nloc * lr->nb, &lr->rows));
  PetscCall(PetscMalloc1(256 * lr->nb, &lr->tab));
  for (PetscInt mu = 0; mu < lr->P; mu++)
    for (PetscInt w = 0; w < lr->words; w++)
      for (uint64_t word = lr->bits[mu * lr->words + w]; word; word &= word - 1) {
        const PetscInt i = 64 * w + __builtin_ctzll(word);
        if (i < lr->nloc) lr->rows[(size_t)i * lr->nb + (mu >> 3)] |= (uint8_t)(1u << (mu & 7));
      }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- AVX2 kernels */
#if defined(__x86_64__) && defined(__GNUC__)
static double mask_table[16][4] __attribute__((aligned(32))); /* nibble -> 4 lanes of all-ones/zero bits */

static void InitMaskTable(void)
{
  for (int m = 0; m < 16; m++)
    for (int k = 0; k < 4; k++) {
      uint64_t bitsv = ((m >> k) & 1) ? ~(uint64_t)0 : 0;
      PetscMemcpy(&mask_table[m][k], &bitsv, sizeof(bitsv));
    }
}

__attribute__((target("avx2"))) static void MaskedSumsAVX2(const RmLowRank *lr, const PetscScalar *v, PetscReal *t)
{
  const PetscInt full = lr->nloc / 64; /* whole words; the tail word goes through the portable path */
  for (PetscInt mu = 0; mu < lr->P; mu++) t[mu] = 0;
  for (PetscInt w0 = 0; w0 < full; w0 += CHUNK_WORDS) {
    PetscInt wend = PetscMin(w0 + CHUNK_WORDS, full);
    for (PetscInt mu = 0; mu < lr->P; mu++) {
      const uint64_t *b  = lr->bits + mu * lr->words;
      __m256d         a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), a2 = _mm256_setzero_pd(), a3 = _mm256_setzero_pd();
      for (PetscInt w = w0; w < wend; w++) {
        uint64_t           word = b[w];
        const PetscScalar *vw   = v + 64 * w;
        for (int k = 0; k < 16; k += 4) {
          a0 = _mm256_add_pd(a0, _mm256_and_pd(_mm256_load_pd(mask_table[(word >> (4 * k)) & 15]), _mm256_loadu_pd(vw + 4 * k)));
          a1 = _mm256_add_pd(a1, _mm256_and_pd(_mm256_load_pd(mask_table[(word >> (4 * k + 4)) & 15]), _mm256_loadu_pd(vw + 4 * k + 4)));
          a2 = _mm256_add_pd(a2, _mm256_and_pd(_mm256_load_pd(mask_table[(word >> (4 * k + 8)) & 15]), _mm256_loadu_pd(vw + 4 * k + 8)));
          a3 = _mm256_add_pd(a3, _mm256_and_pd(_mm256_load_pd(mask_table[(word >> (4 * k + 12)) & 15]), _mm256_loadu_pd(vw + 4 * k + 12)));
        }
      }
      double  lanes[4];
      __m256d s = _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3));
      _mm256_storeu_pd(lanes, s);
      t[mu] += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    }
  }
  if (full < lr->words) { /* tail: fewer than 64 neurons */
    for (PetscInt mu = 0; mu < lr->P; mu++) {
      uint64_t word = lr->bits[mu * lr->words + full];
      for (PetscInt k = 0; k < lr->nloc - 64 * full; k++) t[mu] += ((word >> k) & 1) ? v[64 * full + k] : 0.0;
    }
  }
}

__attribute__((target("avx2"))) static void ExpandAVX2(const RmLowRank *lr, const PetscReal *coef, PetscReal shift, const PetscScalar *v, PetscScalar *y)
{
  const PetscInt full = lr->nloc / 64;
  for (PetscInt i = 0; i < lr->nloc; i++) y[i] = shift - lr->d * v[i];
  for (PetscInt w0 = 0; w0 < full; w0 += CHUNK_WORDS) {
    PetscInt wend = PetscMin(w0 + CHUNK_WORDS, full);
    for (PetscInt mu = 0; mu < lr->P; mu++) {
      const uint64_t *b = lr->bits + mu * lr->words;
      const __m256d   c = _mm256_set1_pd(lr->kappa * coef[mu]);
      for (PetscInt w = w0; w < wend; w++) {
        uint64_t     word = b[w];
        PetscScalar *yw   = y + 64 * w;
        for (int k = 0; k < 16; k++)
          _mm256_storeu_pd(yw + 4 * k, _mm256_add_pd(_mm256_loadu_pd(yw + 4 * k), _mm256_and_pd(_mm256_load_pd(mask_table[(word >> (4 * k)) & 15]), c)));
      }
    }
  }
  if (full < lr->words) {
    for (PetscInt mu = 0; mu < lr->P; mu++) {
      uint64_t        word = lr->bits[mu * lr->words + full];
      const PetscReal c    = lr->kappa * coef[mu];
      for (PetscInt k = 0; k < lr->nloc - 64 * full; k++) y[64 * full + k] += ((word >> k) & 1) ? c : 0.0;
    }
  }
}

static PetscBool HaveAVX2(void)
{
  static int have = -1;
  if (have < 0) {
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx2") ? 1 : 0;
    if (have) InitMaskTable();
  }
  return have ? PETSC_TRUE : PETSC_FALSE;
}
#else
static PetscBool HaveAVX2(void) { return PETSC_FALSE; }
#endif

void RmLowRankMaskedSums(const RmLowRank *lr, const PetscScalar *v, PetscReal *t)
{
  if (lr->rows) {
    MaskedSumsTable(lr, v, t);
    return;
  }
#if defined(__x86_64__) && defined(__GNUC__)
  if (!lr->portable && HaveAVX2()) {
    MaskedSumsAVX2(lr, v, t);
    return;
  }
#endif
  MaskedSumsPortable(lr, v, t);
}

void RmLowRankExpand(const RmLowRank *lr, const PetscReal *coef, PetscReal shift, const PetscScalar *v, PetscScalar *y)
{
  if (lr->rows) {
    ExpandTable(lr, coef, shift, v, y);
    return;
  }
#if defined(__x86_64__) && defined(__GNUC__)
  if (!lr->portable && HaveAVX2()) {
    ExpandAVX2(lr, coef, shift, v, y);
    return;
  }
#endif
  ExpandPortable(lr, coef, shift, v, y);
}

/* ---------------------------------------------------------------- MATSHELL */
static PetscErrorCode MatMult_LowRank(Mat W, Vec v, Vec y)
{
  RmLowRank         *lr;
  const PetscScalar *va;
  PetscScalar       *ya;
  MPI_Comm           comm;
  PetscReal          S, sum_c = 0;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  PetscCall(PetscObjectGetComm((PetscObject)W, &comm));
  PetscCall(VecGetArrayRead(v, &va));
  RmLowRankMaskedSums(lr, va, lr->t);
  S = 0;
  for (PetscInt i = 0; i < lr->nloc; i++) S += va[i];
  lr->t[lr->P] = S;
  PetscCall(PetscLogEventBegin(RM_EVENTS.lowrank_reduce, 0, 0, 0, 0));
  PetscCallMPI(MPI_Allreduce(lr->t, lr->tsum, (PetscMPIInt)(lr->P + 1), MPIU_REAL, MPI_SUM, comm));
  PetscCall(PetscLogEventEnd(RM_EVENTS.lowrank_reduce, 0, 0, 0, 0));
  S = lr->tsum[lr->P];
  for (PetscInt mu = 0; mu < lr->P; mu++) {
    lr->tsum[mu] = lr->s * (lr->kappa * lr->tsum[mu] - lr->betap * S); /* c_μ */
    if (lr->wmu) lr->tsum[mu] *= lr->wmu[mu];                           /* input-driven weight α_μ(u) */
    sum_c += lr->tsum[mu];
  }
  PetscCall(VecGetArrayWrite(y, &ya));
  RmLowRankExpand(lr, lr->tsum, lr->g * S - lr->betap * sum_c, va, ya);
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscCall(VecRestoreArrayRead(v, &va));
  PetscCall(PetscLogFlops(4.0 * lr->P * lr->nloc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* diag(W)_i = s Σ_μ (κ b_iμ − β')² + g − d */
static PetscErrorCode MatGetDiagonal_LowRank(Mat W, Vec dg)
{
  RmLowRank   *lr;
  PetscScalar *da;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  PetscCall(VecGetArrayWrite(dg, &da));
  for (PetscInt i = 0; i < lr->nloc; i++) {
    PetscReal sum = 0;
    for (PetscInt mu = 0; mu < lr->P; mu++) {
      PetscReal c = lr->kappa * (PetscReal)((lr->bits[mu * lr->words + i / 64] >> (i % 64)) & 1) - lr->betap;
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
  PetscCall(PetscFree(lr->wmu));
  PetscCall(PetscFree(lr->rows));
  PetscCall(PetscFree(lr->tab));
  PetscCall(PetscFree(lr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetInput_LowRank(Mat W, Vec u, PetscInt *P, const PetscReal **alpha)
{
  RmLowRank         *lr;
  const PetscScalar *ua;
  MPI_Comm           comm;
  PetscReal          S = 0, sum = 0;
  PetscInt           nloc;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  PetscCall(PetscObjectGetComm((PetscObject)W, &comm));
  PetscCheck(lr->kappa == 2.0 && lr->betap == 1.0 && lr->g == 0.0, comm, PETSC_ERR_ARG_INCOMP,
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
  RmLowRankMaskedSums(lr, ua, lr->t);
  for (PetscInt i = 0; i < lr->nloc; i++) S += ua[i];
  PetscCall(VecRestoreArrayRead(u, &ua));
  lr->t[lr->P] = S;
  PetscCall(PetscLogEventBegin(RM_EVENTS.lowrank_reduce, 0, 0, 0, 0));
  PetscCallMPI(MPI_Allreduce(lr->t, lr->tsum, (PetscMPIInt)(lr->P + 1), MPIU_REAL, MPI_SUM, comm));
  PetscCall(PetscLogEventEnd(RM_EVENTS.lowrank_reduce, 0, 0, 0, 0));
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

PetscErrorCode RmLowRankCreateMat_Private(MPI_Comm comm, PetscInt nloc, PetscInt n, PetscInt P, const uint64_t *words, PetscReal s, PetscReal kappa,
                                          PetscReal betap, PetscReal g, PetscReal d, Mat *W)
{
  RmLowRank *lr;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&lr));
  lr->nloc  = nloc;
  lr->P     = P;
  lr->words = (nloc + 63) / 64;
  lr->s     = s;
  lr->kappa = kappa;
  lr->betap = betap;
  lr->g     = g;
  lr->d     = d;
  /* The memories' own packed storage has this layout: borrow it (it outlives W in every caller). */
  lr->bits = (uint64_t *)words;
  PetscCall(CreateRows(lr));
  lr->kernel = "table";
  PetscCall(PetscMalloc2(P + 1, &lr->t, P + 1, &lr->tsum));
  PetscCall(MatCreateShell(comm, nloc, nloc, n, n, lr, W));
  PetscCall(MatShellSetOperation(*W, MATOP_MULT, (void (*)(void))MatMult_LowRank));
  PetscCall(MatShellSetOperation(*W, MATOP_MULT_TRANSPOSE, (void (*)(void))MatMult_LowRank)); /* W is symmetric */
  PetscCall(MatShellSetOperation(*W, MATOP_GET_DIAGONAL, (void (*)(void))MatGetDiagonal_LowRank));
  PetscCall(MatShellSetOperation(*W, MATOP_DESTROY, (void (*)(void))MatDestroy_LowRank));
  PetscCall(MatSetOption(*W, MAT_SYMMETRIC, PETSC_TRUE));
  if (kappa == 2.0 && betap == 1.0 && g == 0.0) PetscCall(PetscObjectComposeFunction((PetscObject)*W, "RmLowRankSetInput_C", SetInput_LowRank));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmLowRankSetKernel_Private(Mat W, const char *name)
{
  RmLowRank *lr;
  PetscBool  table, avx2, portable;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &lr));
  PetscCall(PetscStrcmp(name, "table", &table));
  PetscCall(PetscStrcmp(name, "avx2", &avx2));
  PetscCall(PetscStrcmp(name, "portable", &portable));
  PetscCheck(table || avx2 || portable, PETSC_COMM_SELF, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown lowrank kernel %s: use table, avx2 or portable", name);
  PetscCheck(!avx2 || HaveAVX2(), PETSC_COMM_SELF, PETSC_ERR_SUP_SYS, "lowrank kernel avx2 needs a CPU with AVX2 (and x86-64 GCC/Clang)");
  lr->portable = portable;
  if (table) {
    if (!lr->rows) PetscCall(CreateRows(lr));
  } else { /* the masked-sum kernels read the pattern-major bits only */
    PetscCall(PetscFree(lr->rows));
    PetscCall(PetscFree(lr->tab));
  }
  lr->kernel = table ? "table" : avx2 ? "avx2" : "portable";
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
  PetscInt        n, P, rstart, rend, wpp;
  const uint64_t *bits;
  RmDesign       *d = &syn->design;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmMemoriesGetLocalPacked(mem, &bits, &wpp));
  if (syn->design_type == RM_DESIGN_HEBBIAN) /* ξ = 2b − 1; zero diagonal removes P/N */
    PetscCall(RmLowRankCreateMat_Private(syn->comm, rend - rstart, n, P, bits, 1.0 / n, 2.0, 1.0, 0.0, (PetscReal)P / n, &syn->W));
  else PetscCall(RmLowRankCreateMat_Private(syn->comm, rend - rstart, n, P, bits, d->alpha / n, 1.0, d->beta, d->gamma / n, 0.0, &syn->W));
  PetscCall(RmLowRankSetKernel_Private(syn->W, st->kernel));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode KernelNameLowRank(RmSynapses syn, const char **name)
{
  RmLowRank *lr;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(syn->W, &lr));
  *name = lr->kernel;
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
  syn->ops.setfromoptions = SetFromOptionsLowRank;
  syn->ops.assemble       = AssembleLowRank;
  syn->ops.kernelname     = KernelNameLowRank;
  syn->ops.destroy        = DestroyLowRankStorage;
  PetscFunctionReturn(PETSC_SUCCESS);
}
