/* The factor operator (include/ratemem/factors.h): masked sums and expansion over the memories'
   bit-packed patterns, and their one reduction. The masked-sum kernels (avx2, portable) stream v and
   the bits once, in chunks that stay in L1: P masked adds per neuron and pass. The byte-table kernels
   read the bits of 8 memories at a time as one byte of a neuron-major copy and replace the 8 masked
   adds by one lookup: the expansion sums, per neuron, ceil(P/8) entries of tables
   T_k[m] = κ Σ_{j in m} c_{8k+j} (built per call, 256 ceil(P/8) entries), and the masked sums add v_i
   into 256-bin histograms H_k[byte] from which t_{8k+j} = Σ_{m with bit j} H_k[m]. Same sums in
   another order (rounding). */
#include <ratemem/factors.h>
#if defined(__x86_64__)
  #include <immintrin.h>
#endif

struct _p_RmFactors {
  MPI_Comm    comm;
  PetscInt    nloc, P, words; /* local neurons, memories, 64-bit words per memory (padded) */
  uint64_t   *bits;           /* the memories' own: pattern-major, bits[mu*words + i/64] bit i%64 */
  const char *kernel;         /* "table", "avx2" or "portable" */
  /* table kernels (rows != NULL): nb = ceil(P/8) bytes per neuron, bits 8k..8k+7 of neuron i in
     rows[i*nb + k], and a work area of nb tables of 256 doubles */
  uint8_t    *rows;
  PetscInt    nb;
  PetscReal  *tab;
  PetscBool   portable; /* without rows: the portable kernels even where AVX2 runs */
};

#define CHUNK_WORDS 16 /* 1024 neurons: 8 KB of v per chunk */

/* ---------------------------------------------------------------- portable kernels
   The masked-sum and expansion kernels work on a range of whole words [w0, wend) of the local
   neurons, i.e. on neurons 64 w0 .. min(64 wend, nloc) − 1: the full operators run them chunk by
   chunk, and the fused update (RmFactorsExpandUpdate) runs them into one L1-sized block at a time. */
static inline PetscInt WordLength(const struct _p_RmFactors *lr, PetscInt w)
{
  return PetscMin(64, lr->nloc - 64 * w);
}

/* t[μ] += Σ_i b^μ_i v_i over the range (v indexed by local neuron) */
static void MaskedSumsPortableRange(const struct _p_RmFactors *lr, const PetscScalar *v, PetscInt w0, PetscInt wend, PetscReal *t)
{
  for (PetscInt mu = 0; mu < lr->P; mu++) {
    const uint64_t *b      = lr->bits + mu * lr->words;
    PetscReal       acc[4] = {0, 0, 0, 0};
    for (PetscInt w = w0; w < wend; w++) {
      uint64_t           word = b[w];
      const PetscScalar *vw   = v + 64 * w;
      PetscInt           len  = WordLength(lr, w);
      for (PetscInt k = 0; k < len; k++) acc[k & 3] += ((word >> k) & 1) ? vw[k] : 0.0;
    }
    t[mu] += (acc[0] + acc[1]) + (acc[2] + acc[3]);
  }
}

/* y[i − 64 w0] = shift − d v_i + κ Σ_μ c_μ b^μ_i over the range (v is not read when d = 0) */
static void ExpandPortableRange(const struct _p_RmFactors *lr, const PetscReal *coef, PetscReal kappa, PetscReal shift, PetscReal d, const PetscScalar *v,
                                PetscInt w0, PetscInt wend, PetscScalar *y)
{
  const PetscInt i0 = 64 * w0, i1 = PetscMin(64 * wend, lr->nloc);
  if (d != 0)
    for (PetscInt i = i0; i < i1; i++) y[i - i0] = shift - d * v[i];
  else
    for (PetscInt i = i0; i < i1; i++) y[i - i0] = shift;
  for (PetscInt mu = 0; mu < lr->P; mu++) {
    const uint64_t *b = lr->bits + mu * lr->words;
    const PetscReal c = kappa * coef[mu];
    for (PetscInt w = w0; w < wend; w++) {
      uint64_t     word = b[w];
      PetscScalar *yw   = y + 64 * (w - w0);
      PetscInt     len  = WordLength(lr, w);
      for (PetscInt k = 0; k < len; k++) yw[k] += ((word >> k) & 1) ? c : 0.0;
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

/* h += the histograms of neurons [i0, i0 + len) */
static void HistogramRange(const struct _p_RmFactors *lr, const PetscScalar *v, PetscInt i0, PetscInt len, PetscReal *h)
{
  const PetscInt nb = lr->nb;
#define RM_HIST(NB) HistogramRows(lr->rows + (size_t)i0 * nb, v + i0, len, NB, h)
  RM_NB_CASES(RM_HIST)
#undef RM_HIST
}

/* t_μ = the sum of the bins whose byte has bit μ mod 8 */
static void HistogramToSums(const struct _p_RmFactors *lr, const PetscReal *h, PetscReal *t)
{
  for (PetscInt mu = 0; mu < lr->P; mu++) {
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

static void MaskedSumsTable(const struct _p_RmFactors *lr, const PetscScalar *v, PetscReal *t)
{
  PetscReal *h = lr->tab;

  for (PetscInt k = 0; k < 256 * lr->nb; k++) h[k] = 0;
  HistogramRange(lr, v, 0, lr->nloc, h);
  HistogramToSums(lr, h, t);
}

/* T_k[m] = T_k[m without its lowest bit] + κ c_(8k + lowest bit), into lr->tab */
static void BuildTables(const struct _p_RmFactors *lr, const PetscReal *coef, PetscReal kappa)
{
  for (PetscInt k = 0; k < lr->nb; k++) {
    PetscReal *Tk = lr->tab + 256 * k;
    Tk[0]         = 0;
    for (int m = 1; m < 256; m++) {
      const PetscInt mu = 8 * k + __builtin_ctz((unsigned)m);
      Tk[m]             = Tk[m & (m - 1)] + (mu < lr->P ? kappa * coef[mu] : 0.0);
    }
  }
}

/* y[i − i0] for neurons [i0, i0 + len), from the tables BuildTables made */
static void LookupRange(const struct _p_RmFactors *lr, PetscReal shift, PetscReal d, const PetscScalar *v, PetscInt i0, PetscInt len, PetscScalar *y)
{
  const PetscInt nb = lr->nb;
#define RM_LOOKUP(NB) LookupRows(lr->rows + (size_t)i0 * nb, lr->tab, shift, d, v + i0, len, NB, y)
  RM_NB_CASES(RM_LOOKUP)
#undef RM_LOOKUP
}
#undef RM_NB_CASES

static void ExpandTable(const struct _p_RmFactors *lr, const PetscReal *coef, PetscReal kappa, PetscReal shift, PetscReal d, const PetscScalar *v, PetscScalar *y)
{
  BuildTables(lr, coef, kappa);
  LookupRange(lr, shift, d, v, 0, lr->nloc, y);
}

/* The neuron-major copy of the memories for the table kernels, and their work area: the expansion's
   tables, then the histograms (separate, so that the fused update can build both in one pass). */
static PetscErrorCode CreateRows(struct _p_RmFactors *lr)
{
  PetscFunctionBeginUser;
  lr->nb = (lr->P + 7) / 8;
  PetscCall(PetscCalloc1((size_t)lr->nloc * lr->nb, &lr->rows));
  PetscCall(PetscMalloc1(2 * 256 * lr->nb, &lr->tab));
  for (PetscInt mu = 0; mu < lr->P; mu++)
    for (PetscInt w = 0; w < lr->words; w++)
      for (uint64_t word = lr->bits[mu * lr->words + w]; word; word &= word - 1) {
        const PetscInt i = 64 * w + __builtin_ctzll(word);
        if (i < lr->nloc) lr->rows[(size_t)i * lr->nb + (mu >> 3)] |= (uint8_t)(1u << (mu & 7));
      }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- AVX2 kernels
   Whole words of the range go through the vector loops; a partial last word (fewer than 64 neurons
   at the end of the local block) through scalar code. */
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

__attribute__((target("avx2"))) static void MaskedSumsAVX2Range(const struct _p_RmFactors *lr, const PetscScalar *v, PetscInt w0, PetscInt wend, PetscReal *t)
{
  const PetscInt full = PetscMin(wend, lr->nloc / 64);
  for (PetscInt mu = 0; mu < lr->P; mu++) {
    const uint64_t *b  = lr->bits + mu * lr->words;
    __m256d         a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), a2 = _mm256_setzero_pd(), a3 = _mm256_setzero_pd();
    for (PetscInt w = w0; w < full; w++) {
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
  if (full < wend) MaskedSumsPortableRange(lr, v, PetscMax(full, w0), wend, t); /* the partial last word */
}

__attribute__((target("avx2"))) static void ExpandAVX2Range(const struct _p_RmFactors *lr, const PetscReal *coef, PetscReal kappa, PetscReal shift, PetscReal d,
                                                            const PetscScalar *v, PetscInt w0, PetscInt wend, PetscScalar *y)
{
  const PetscInt full = PetscMin(wend, lr->nloc / 64);
  if (full <= w0) { /* only the partial last word */
    ExpandPortableRange(lr, coef, kappa, shift, d, v, w0, wend, y);
    return;
  }
  const PetscInt i0 = 64 * w0, i1 = 64 * full;
  if (d != 0) /* v is not read when d = 0 (factors.h) */
    for (PetscInt i = i0; i < i1; i++) y[i - i0] = shift - d * v[i];
  else
    for (PetscInt i = i0; i < i1; i++) y[i - i0] = shift;
  for (PetscInt mu = 0; mu < lr->P; mu++) {
    const uint64_t *b = lr->bits + mu * lr->words;
    const __m256d   c = _mm256_set1_pd(kappa * coef[mu]);
    for (PetscInt w = w0; w < full; w++) {
      uint64_t     word = b[w];
      PetscScalar *yw   = y + 64 * (w - w0);
      for (int k = 0; k < 16; k++)
        _mm256_storeu_pd(yw + 4 * k, _mm256_add_pd(_mm256_loadu_pd(yw + 4 * k), _mm256_and_pd(_mm256_load_pd(mask_table[(word >> (4 * k)) & 15]), c)));
    }
  }
  if (full < wend) ExpandPortableRange(lr, coef, kappa, shift, d, v, full, wend, y + 64 * (full - w0));
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

/* ---------------------------------------------------------------- dispatch */
static PetscBool UseAVX2(const struct _p_RmFactors *lr)
{
#if defined(__x86_64__) && defined(__GNUC__)
  return (PetscBool)(!lr->portable && HaveAVX2());
#else
  (void)lr;
  return PETSC_FALSE;
#endif
}

/* t[μ] += the range's masked sums (avx2 or portable) */
static void MaskedSumsRange(const struct _p_RmFactors *lr, PetscBool avx2, const PetscScalar *v, PetscInt w0, PetscInt wend, PetscReal *t)
{
#if defined(__x86_64__) && defined(__GNUC__)
  if (avx2) {
    MaskedSumsAVX2Range(lr, v, w0, wend, t);
    return;
  }
#endif
  (void)avx2;
  MaskedSumsPortableRange(lr, v, w0, wend, t);
}

static void ExpandRange(const struct _p_RmFactors *lr, PetscBool avx2, const PetscReal *coef, PetscReal kappa, PetscReal shift, PetscReal d, const PetscScalar *v,
                        PetscInt w0, PetscInt wend, PetscScalar *y)
{
#if defined(__x86_64__) && defined(__GNUC__)
  if (avx2) {
    ExpandAVX2Range(lr, coef, kappa, shift, d, v, w0, wend, y);
    return;
  }
#endif
  (void)avx2;
  ExpandPortableRange(lr, coef, kappa, shift, d, v, w0, wend, y);
}

static void MaskedSums(const struct _p_RmFactors *lr, const PetscScalar *v, PetscReal *t)
{
  const PetscBool avx2 = UseAVX2(lr);

  if (lr->rows) {
    MaskedSumsTable(lr, v, t);
    return;
  }
  for (PetscInt mu = 0; mu < lr->P; mu++) t[mu] = 0;
  for (PetscInt w0 = 0; w0 < lr->words; w0 += CHUNK_WORDS) MaskedSumsRange(lr, avx2, v, w0, PetscMin(w0 + CHUNK_WORDS, lr->words), t);
}

static void Expand(const struct _p_RmFactors *lr, const PetscReal *coef, PetscReal kappa, PetscReal shift, PetscReal d, const PetscScalar *v, PetscScalar *y)
{
  const PetscBool avx2 = UseAVX2(lr);

  if (lr->rows) {
    ExpandTable(lr, coef, kappa, shift, d, v, y);
    return;
  }
  for (PetscInt w0 = 0; w0 < lr->words; w0 += CHUNK_WORDS) ExpandRange(lr, avx2, coef, kappa, shift, d, v, w0, PetscMin(w0 + CHUNK_WORDS, lr->words), y + 64 * w0);
}

/* The fused pass: block by block, the expansion into an L1 buffer, the caller's update of v's block,
   and the masked sums of the updated block (tnew, when given). */
static void ExpandUpdate(const struct _p_RmFactors *lr, const PetscReal *coef, PetscReal kappa, PetscReal shift, PetscReal d, PetscScalar *v, RmFactorsBlockFn fn,
                         void *ctx, PetscReal *tnew)
{
  const PetscBool avx2 = UseAVX2(lr);
  PetscScalar     y[64 * CHUNK_WORDS];
  PetscReal       S = 0, *hist = lr->rows ? lr->tab + 256 * lr->nb : NULL;

  if (lr->rows) BuildTables(lr, coef, kappa);
  if (tnew) {
    for (PetscInt mu = 0; mu < lr->P; mu++) tnew[mu] = 0;
    if (hist)
      for (PetscInt k = 0; k < 256 * lr->nb; k++) hist[k] = 0;
  }
  for (PetscInt w0 = 0; w0 < lr->words; w0 += CHUNK_WORDS) {
    const PetscInt wend = PetscMin(w0 + CHUNK_WORDS, lr->words), i0 = 64 * w0, len = PetscMin(64 * wend, lr->nloc) - i0;
    if (len <= 0) break;
    if (lr->rows) LookupRange(lr, shift, d, v, i0, len, y);
    else ExpandRange(lr, avx2, coef, kappa, shift, d, v, w0, wend, y);
    fn(ctx, i0, len, y, v + i0);
    if (!tnew) continue;
    if (hist) HistogramRange(lr, v, i0, len, hist);
    else MaskedSumsRange(lr, avx2, v, w0, wend, tnew);
    for (PetscInt i = i0; i < i0 + len; i++) S += v[i];
  }
  if (tnew) {
    if (hist) HistogramToSums(lr, hist, tnew);
    tnew[lr->P] = S;
  }
}

/* ---------------------------------------------------------------- the object */
PetscErrorCode RmFactorsCreate(RmMemories mem, RmFactors *f)
{
  const uint64_t *words;
  PetscInt        n, rstart, rend, wpp;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(f));
  PetscCall(RmMemoriesGetComm(mem, &(*f)->comm));
  PetscCall(RmMemoriesGetSizes(mem, &n, &(*f)->P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmMemoriesGetLocalPacked(mem, &words, &wpp));
  (*f)->nloc   = rend - rstart;
  (*f)->words  = wpp;
  (*f)->bits   = (uint64_t *)words; /* borrowed: the memories outlive their factors in every caller */
  (*f)->kernel = HaveAVX2() ? "avx2" : "portable";
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFactorsDestroy(RmFactors *f)
{
  PetscFunctionBeginUser;
  if (!*f) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree((*f)->rows));
  PetscCall(PetscFree((*f)->tab));
  PetscCall(PetscFree(*f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFactorsSetKernel(RmFactors f, const char name[])
{
  PetscBool table, avx2, portable;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(name, "table", &table));
  PetscCall(PetscStrcmp(name, "avx2", &avx2));
  PetscCall(PetscStrcmp(name, "portable", &portable));
  PetscCheck(table || avx2 || portable, PETSC_COMM_SELF, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown lowrank kernel %s: use table, avx2 or portable", name);
  PetscCheck(!avx2 || HaveAVX2(), PETSC_COMM_SELF, PETSC_ERR_SUP_SYS, "lowrank kernel avx2 needs a CPU with AVX2 (and x86-64 GCC/Clang)");
  f->portable = portable;
  if (table) {
    if (!f->rows) PetscCall(CreateRows(f));
  } else { /* the masked-sum kernels read the pattern-major bits only */
    PetscCall(PetscFree(f->rows));
    PetscCall(PetscFree(f->tab));
  }
  f->kernel = table ? "table" : avx2 ? "avx2" : "portable";
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFactorsGetKernel(RmFactors f, const char **name)
{
  PetscFunctionBeginUser;
  *name = f->kernel;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFactorsGetSizes(RmFactors f, PetscInt *nloc, PetscInt *P)
{
  PetscFunctionBeginUser;
  if (nloc) *nloc = f->nloc;
  if (P) *P = f->P;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFactorsGetLocalPacked(RmFactors f, const uint64_t **bits, PetscInt *words)
{
  PetscFunctionBeginUser;
  *bits  = f->bits;
  *words = f->words;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFactorsGetCounts(RmFactors f, PetscReal counts[])
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < f->nloc; i++) {
    PetscInt c = 0;
    for (PetscInt mu = 0; mu < f->P; mu++) c += (PetscInt)((f->bits[mu * f->words + i / 64] >> (i % 64)) & 1);
    counts[i] = (PetscReal)c;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFactorsMaskedSums(RmFactors f, const PetscScalar v[], PetscReal t[])
{
  PetscReal S = 0;

  PetscFunctionBeginUser;
  MaskedSums(f, v, t);
  for (PetscInt i = 0; i < f->nloc; i++) S += v[i];
  t[f->P] = S;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFactorsReduce(RmFactors f, const PetscReal t[], PetscReal tsum[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(RM_EVENTS.lowrank_reduce, 0, 0, 0, 0));
  PetscCallMPI(MPI_Allreduce(t, tsum, (PetscMPIInt)(f->P + 1), MPIU_REAL, MPI_SUM, f->comm));
  PetscCall(PetscLogEventEnd(RM_EVENTS.lowrank_reduce, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFactorsExpand(RmFactors f, const PetscReal c[], PetscReal kappa, PetscReal shift, PetscReal d, const PetscScalar v[], PetscScalar y[])
{
  PetscFunctionBeginUser;
  Expand(f, c, kappa, shift, d, v, y);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFactorsExpandUpdate(RmFactors f, const PetscReal c[], PetscReal kappa, PetscReal shift, PetscReal d, PetscScalar v[], RmFactorsBlockFn fn, void *ctx,
                                     PetscReal tnew[])
{
  PetscFunctionBeginUser;
  ExpandUpdate(f, c, kappa, shift, d, v, fn, ctx, tnew);
  PetscFunctionReturn(PETSC_SUCCESS);
}
