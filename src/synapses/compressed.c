/* Compressed storage of the diluted network (issue #4; format described in compressed.h).

   Weights. With c = κb − β' (paper design: κ = 1, β' = β; Hebbian: κ = 2, β' = 1, ξ = 2b − 1) the
   MATAIJ entry is W_ij = scale Σ_μ c_iμ c_jμ + shift (scale = α/K or 1/K, shift = γ/K or 0), and
     Σ_μ (κb_iμ − β')(κb_jμ − β') = κ² m_ij − κβ' a_i − κβ' a_j + Pβ'²,
   so W_ij = c_i + s_m m_ij + s_a a_j with c_i = scale (Pβ'² − κβ' a_i) + shift, s_m = scale κ²,
   s_a = −scale κβ'. The kernel forms each weight in float from the two bytes (m_ij, a_j) and
   multiplies it by the float copy of x_j, row by row; the partial sum of a row over one column
   block is float, the sum over blocks double: MATAIJ's sums to single-precision rounding
   (measured 1e-7 to 4e-7 relative, tests/unit/t203-compressed.c).

   Graph. RmSampleInputs_Private() (synapses.c) draws
   the K inputs of neuron i, the same graph as the MATAIJ diluted network.

   Why this layout (measured on the 2-core Zen1 VM, 32 KB L1d and 512 KB L2 per core, 8 MB L3;
   scripts/bench_sparse.sh, tests/unit/t203-compressed.c -bench_n): a gather of x costs about 1
   cycle from L1, 2–2.5 from L2, 3.7 from L3 and 13 from DRAM (n = 10⁶, TLB misses included).
   MATAIJ reads x at random over all n columns, so it pays the L3/DRAM price per synapse. Here the
   entries are split by column block: while one block of x (cb ≤ 65535 columns) sits in L1/L2,
   every row of a panel takes its entries from that block. Slices of 8 rows (SELL-8) instead of
   rows: no horizontal sums, no per-row loop exit. A chunk is one 32-byte record, so the synapse
   data are one sequential stream (on huge pages, see AllocLarge).
   The earlier double-precision SELL-4 kernel (4 lanes of doubles, x in double) was bound by
   instruction throughput, not bytes: with every x read forced to hit L1 it still took 85% of its
   time, and removing the weight arithmetic or the gathers each left ~70%. Zen1 splits 256-bit
   operations into two 128-bit ones, so 8 float lanes do twice the synapses per instruction of 4
   double lanes; a float x block of 65535 columns (256 KB) also stays in L2, where a double block
   overflowed it at n = 10⁶. Measured, 1 rank, P = 5, min of 8–20 products, t203 -bench_n:
   n = 10⁵, K = 100: 12.5–12.8 ms -> 9.7–10.1 ms; n = 10⁶, K = 100: 274 ms -> 160 ms;
   n = 10⁵, K = 1000: 149 ms -> 80 ms. Tried and dropped (no gain or slower): offsets unpacked
   from one 64-bit load (fewer loads, more ALU work), vgatherdps (2x slower), float weights
   stored per synapse instead of (m, a) (6 bytes per synapse: bandwidth-bound), groups sorted by
   length in each block (predictable loop exits, but y updated out of order), huge pages with
   the double kernel (no change). The portable C kernel does the same float arithmetic without
   FMA. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
  #define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */
#endif
#include "compressed.h"
#include <ratemem/sys.h>
#include <stdlib.h>
#if defined(__linux__)
  #include <sys/mman.h>
#endif
#if defined(__x86_64__)
  #include <immintrin.h>
#endif

#define RM_COMPRESSED_MAX_CB 65535 /* offsets, and the zero slot at offset cb, fit in 16 bits */

/* ---------------------------------------------------------------- kernels
   Sliced ELL with slices of 8 rows (the 8 float lanes) inside each (panel, block): chunk t of a
   group holds entry t of each of its 8 rows, so one chunk updates 8 row sums, with no horizontal
   sum and no per-row loop. Weights and the sums of one group in one block are float; y (double)
   takes one add per row and block. y must have room for a whole last group (ypad). */
#define RM_L RM_COMPRESSED_LANES
static inline PetscInt PanelRows(const RmCompressed *c, PetscInt p)
{
  return PetscMin(c->panel_rows, c->nloc - p * c->panel_rows);
}

static void MultPortable(const RmCompressed *c, const float *xf, PetscScalar *y)
{
  const RmCompressedChunk *ch = c->chunks;
  const uint16_t          *nc = c->nchunk;
  const float              sm = c->s_m, sa = c->s_a;

  for (PetscInt p = 0; p < c->npanels; p++) {
    const PetscInt groups = (PanelRows(c, p) + RM_L - 1) / RM_L;
    PetscScalar   *yp     = y + p * c->panel_rows;
    const float   *cp     = c->row_const + p * c->panel_rows;
    for (PetscInt i = 0; i < RM_L * groups; i++) yp[i] = 0;
    for (PetscInt b = 0; b < c->nblocks; b++) {
      const float *xb = xf + b * c->stride;
      for (PetscInt g = 0; g < groups; g++) {
        const float *cg = cp + RM_L * g;
        float        s[RM_L] = {0};
        for (PetscInt q = nc[g]; q > 0; q--, ch++)
          for (int l = 0; l < RM_L; l++) s[l] += (cg[l] + sm * ch->m[l] + sa * ch->a[l]) * xb[ch->off[l]];
        for (int l = 0; l < RM_L; l++) yp[RM_L * g + l] += s[l];
      }
      nc += groups;
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
/* One chunk: w = c + s_m m + s_a a in 8 float lanes (8 rows), times the 8 gathered x (scalar
   loads and inserts: vgatherdps/vgatherdpd are slower than scalar loads on Zen1, measured). */
  #define RM_CHUNK_FMA(ch, acc) \
    do { \
      const __m128i codes_ = _mm_loadu_si128((const __m128i *)(ch)->m); \
      const __m256  md_    = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(codes_)); \
      const __m256  ad_    = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(codes_, 8))); \
      const __m256  x_     = _mm256_set_ps(xb[(ch)->off[7]], xb[(ch)->off[6]], xb[(ch)->off[5]], xb[(ch)->off[4]], xb[(ch)->off[3]], xb[(ch)->off[2]], \
                                           xb[(ch)->off[1]], xb[(ch)->off[0]]); \
      acc                  = _mm256_fmadd_ps(_mm256_fmadd_ps(vsa, ad_, _mm256_fmadd_ps(vsm, md_, vc)), x_, acc); \
    } while (0)

__attribute__((target("avx2,fma"))) static void MultAVX2(const RmCompressed *c, const float *xf, PetscScalar *y)
{
  const RmCompressedChunk *ch  = c->chunks;
  const uint16_t          *nc  = c->nchunk;
  const __m256             vsm = _mm256_set1_ps(c->s_m), vsa = _mm256_set1_ps(c->s_a);

  for (PetscInt p = 0; p < c->npanels; p++) {
    const PetscInt groups = (PanelRows(c, p) + RM_L - 1) / RM_L;
    PetscScalar   *yp     = y + p * c->panel_rows;
    const float   *cp     = c->row_const + p * c->panel_rows;
    for (PetscInt i = 0; i < RM_L * groups; i++) yp[i] = 0;
    for (PetscInt b = 0; b < c->nblocks; b++) {
      const float *xb = xf + b * c->stride;
      for (PetscInt g = 0; g < groups; g++) {
        const __m256 vc   = _mm256_loadu_ps(cp + RM_L * g);
        __m256       acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps(), s;
        PetscInt     q    = nc[g];
        for (; q >= 4; q -= 4, ch += 4) { /* four chains: FMA latency (5 cycles on Zen1) and loop overhead */
          RM_CHUNK_FMA(ch, acc0);
          RM_CHUNK_FMA(ch + 1, acc1);
          RM_CHUNK_FMA(ch + 2, acc2);
          RM_CHUNK_FMA(ch + 3, acc3);
        }
        for (; q > 0; q--, ch++) RM_CHUNK_FMA(ch, acc0);
        s = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
        _mm256_storeu_pd(yp + RM_L * g, _mm256_add_pd(_mm256_loadu_pd(yp + RM_L * g), _mm256_cvtps_pd(_mm256_castps256_ps128(s))));
        _mm256_storeu_pd(yp + RM_L * g + 4, _mm256_add_pd(_mm256_loadu_pd(yp + RM_L * g + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1))));
      }
      nc += groups;
    }
  }
}
  #undef RM_CHUNK_FMA

static PetscBool HaveAVX2FMA(void)
{
  static int have = -1;
  if (have < 0) {
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
  }
  return have ? PETSC_TRUE : PETSC_FALSE;
}
#else
static PetscBool HaveAVX2FMA(void) { return PETSC_FALSE; }
#endif

static PetscErrorCode SetKernel(RmCompressed *c, const char *name)
{
  PetscBool avx2, portable;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(name, "avx2", &avx2));
  PetscCall(PetscStrcmp(name, "portable", &portable));
  PetscCheck(avx2 || portable, PETSC_COMM_SELF, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown compressed kernel %s: use avx2 or portable", name);
  if (avx2) {
#if defined(__x86_64__) && defined(__GNUC__)
    PetscCheck(HaveAVX2FMA(), PETSC_COMM_SELF, PETSC_ERR_SUP_SYS, "compressed kernel avx2 needs a CPU with AVX2 and FMA");
    c->mult   = MultAVX2;
    c->kernel = "avx2";
#else
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_SUP_SYS, "compressed kernel avx2 was not compiled in (needs x86-64 and GCC/Clang)");
#endif
  } else {
    c->mult   = MultPortable;
    c->kernel = "portable";
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- large arrays
   The chunk stream and the float x are aligned to 2 MB and, on Linux, asked to live on
   transparent huge pages (madvise: the system's setting here is "madvise"): the hardware
   prefetchers stop at 4 KB page boundaries and the gathers of x miss the L1 TLB (measured, float
   kernel, n = 10⁵, K = 100, 1 rank: 13.7–14.2 ms per product without, 9.7–10.1 ms with; the
   earlier double kernel did not gain). Zeroed. Freed with FreeLarge. */
static PetscErrorCode AllocLarge(size_t bytes, void **p)
{
  const size_t align = bytes >= ((size_t)2 << 20) ? ((size_t)2 << 20) : 64;
  size_t       size  = ((bytes ? bytes : 1) + align - 1) / align * align;

  PetscFunctionBeginUser;
  PetscCheck(!posix_memalign(p, align, size), PETSC_COMM_SELF, PETSC_ERR_MEM, "compressed storage: out of memory allocating %zu bytes", size);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (align > 64) (void)madvise(*p, size, MADV_HUGEPAGE); /* advice only: ignore failure */
#endif
  memset(*p, 0, size);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void FreeLarge(void *p)
{
  free(p);
}

/* ---------------------------------------------------------------- MATSHELL */
static PetscErrorCode MatMult_Compressed(Mat W, Vec x, Vec y)
{
  RmCompressed *c;
  PetscScalar  *ya;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &c));
  PetscCall(VecScatterBegin(c->scatter, x, c->xg_vec, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(c->scatter, x, c->xg_vec, INSERT_VALUES, SCATTER_FORWARD));
  for (PetscInt64 l = 0, nx = (PetscInt64)c->nblocks * c->stride; l < nx; l++) c->xf[l] = (float)c->xg[l]; /* zero slots stay 0 */
  PetscCall(VecGetArrayWrite(y, &ya));
  if (c->ybuf) { /* nloc is not a multiple of 8: the last group writes 8 lanes */
    c->mult(c, c->xf, c->ybuf);
    PetscCall(PetscArraycpy(ya, c->ybuf, c->nloc));
  } else c->mult(c, c->xf, ya);
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscCall(PetscLogFlops(2.0 * (PetscLogDouble)c->nsynapses));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A diluted neuron never receives its own output: diag(W) = 0, as in the MATAIJ matrix. */
static PetscErrorCode MatGetDiagonal_Compressed(Mat W, Vec d)
{
  PetscFunctionBeginUser;
  PetscCall(VecSet(d, 0.0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatDestroy_Compressed(Mat W)
{
  RmCompressed *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &c));
  PetscCall(VecScatterDestroy(&c->scatter));
  PetscCall(VecDestroy(&c->xg_vec));
  PetscCall(PetscFree(c->xg));
  FreeLarge(c->xf);
  FreeLarge(c->chunks);
  PetscCall(PetscFree(c->nchunk));
  PetscCall(PetscFree(c->row_const));
  PetscCall(PetscFree(c->ybuf));
  PetscCall(PetscFree(c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCompressedGetKernelName_Private(Mat W, const char **name)
{
  RmCompressed *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &c));
  *name = c->kernel;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCompressedSetKernel_Private(Mat W, const char *name)
{
  RmCompressed *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &c));
  PetscCall(SetKernel(c, name));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCompressedGetMemory_Private(Mat W, PetscInt64 *bytes)
{
  RmCompressed *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &c));
  *bytes = c->nchunks * (PetscInt64)sizeof(RmCompressedChunk) + c->ngroups * c->nblocks * (PetscInt64)sizeof(uint16_t) +
           RM_L * c->ngroups * (PetscInt64)(sizeof(float) + (c->ybuf ? sizeof(PetscScalar) : 0)) +
           (PetscInt64)c->nblocks * c->stride * (PetscInt64)(sizeof(PetscScalar) + sizeof(float));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- set-up */
/* Branch-free popcount (the generic x86-64 target has no POPCNT; __builtin_popcountll would call libgcc). */
static inline PetscInt PopCount64(uint64_t w)
{
  w -= (w >> 1) & 0x5555555555555555ULL;
  w = (w & 0x3333333333333333ULL) + ((w >> 2) & 0x3333333333333333ULL);
  w = (w + (w >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
  return (PetscInt)((w * 0x0101010101010101ULL) >> 56);
}

/* Local (ghost) index of needed global column g: its rank among the set bits of the bitmap. */
static inline PetscInt GhostIndex(const uint64_t *bitmap, const PetscInt *prefix, PetscInt g)
{
  const uint64_t below = ((uint64_t)1 << (g & 63)) - 1;
  return prefix[g >> 6] + PopCount64(bitmap[g >> 6] & below);
}

PetscErrorCode RmCompressedOptionsSetFromOptions_Private(PetscOptionItems *PetscOptionsObject, MPI_Comm comm, RmCompressedOptions *opt)
{
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsInt("-compressed_block_cols", "Columns of x per block, <= 65535 (0: chosen from n and K)", "RmSynapsesSetFromOptions", opt->block_cols,
                            &opt->block_cols, NULL));
  PetscCall(PetscOptionsInt("-compressed_panel_rows", "Rows per panel, rounded up to a multiple of 8 (0: 131072)", "RmSynapsesSetFromOptions", opt->panel_rows,
                            &opt->panel_rows, NULL));
  PetscCall(PetscOptionsString("-compressed_kernel", "Kernel: avx2 or portable (default: avx2 where the CPU has AVX2 and FMA)", "RmSynapsesSetFromOptions",
                               opt->kernel, opt->kernel, sizeof(opt->kernel), NULL));
  PetscCheck(opt->block_cols >= 0 && opt->block_cols <= RM_COMPRESSED_MAX_CB, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-compressed_block_cols must be in [0, %d], got %" PetscInt_FMT, RM_COMPRESSED_MAX_CB, opt->block_cols);
  PetscCheck(opt->panel_rows >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-compressed_panel_rows must be >= 0, got %" PetscInt_FMT, opt->panel_rows);
  if (opt->kernel[0]) {
    PetscBool avx2, portable;
    PetscCall(PetscStrcmp(opt->kernel, "avx2", &avx2));
    PetscCall(PetscStrcmp(opt->kernel, "portable", &portable));
    PetscCheck(avx2 || portable, comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown -compressed_kernel %s: use avx2 or portable", opt->kernel);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCompressedOptionsGet_Private(MPI_Comm comm, RmCompressedOptions *opt)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(opt, sizeof(*opt)));
  PetscOptionsBegin(comm, NULL, "Compressed synapse storage (-storage compressed)", "RmSynapses");
  PetscCall(RmCompressedOptionsSetFromOptions_Private(PetscOptionsObject, comm, opt));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCompressedCreateMat_Private(MPI_Comm comm, RmMemories mem, RmDesignType design, const RmDesign *d, PetscInt K, PetscInt64 seed,
                                             const RmCompressedOptions *opt, Mat *W)
{
  RmCompressed *c;
  PetscInt      n, P, rstart, rend, nloc, tsize = 1, *table, *cols, nwords, *prefix, wpn, *gcols, *gpos;
  PetscInt      cb = opt ? opt->block_cols : 0, panel_rows = opt ? opt->panel_rows : 0;
  uint64_t     *bitmap, *packed_g, *packed_r;
  uint8_t      *a_g;
  PetscReal     scale, shift, kappa, betap;
  PetscBool     kernel_set = (PetscBool)(opt && opt->kernel[0]);
  Vec           xtemplate;
  IS            is_from, is_to;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  nloc = rend - rstart;
  PetscCheck(K >= 1 && K < n, comm, PETSC_ERR_ARG_OUTOFRANGE, "compressed storage needs 1 <= indegree < neurons, got indegree %" PetscInt_FMT " with %" PetscInt_FMT " neurons", K, n);
  PetscCheck(P <= 255, comm, PETSC_ERR_SUP, "compressed storage keeps popcounts in one byte: it needs at most 255 memories, got %" PetscInt_FMT " (use -storage aij)", P);
  PetscCheck(K <= 65535, comm, PETSC_ERR_SUP, "compressed storage needs indegree <= 65535, got %" PetscInt_FMT, K);


  PetscCall(PetscNew(&c));
  c->n         = n;
  c->nloc      = nloc;
  c->K         = K;
  c->P         = P;
  c->nsynapses = (PetscInt64)nloc * K;
  c->ngroups   = (nloc + RM_L - 1) / RM_L;
  PetscCall(SetKernel(c, kernel_set ? opt->kernel : (HaveAVX2FMA() ? "avx2" : "portable")));

  /* 1. Draw every local row once (the same draws as AssembleAIJ), mark the columns this rank
     reads, then number them: local column l of global column g is its rank among the marked ones. */
  while (tsize < 2 * K) tsize *= 2;
  nwords = (n + 63) / 64;
  PetscCall(PetscMalloc1((size_t)nloc * K, &cols));
  PetscCall(PetscMalloc1(tsize, &table));
  PetscCall(PetscCalloc1(nwords, &bitmap));
  PetscCall(PetscMalloc1(nwords + 1, &prefix));
  for (PetscInt i = 0; i < nloc; i++) {
    PetscInt *ci = cols + (size_t)i * K;
    PetscCall(RmSampleInputs_Private(seed, rstart + i, n, K, ci, table, tsize));
    for (PetscInt k = 0; k < K; k++) bitmap[ci[k] >> 6] |= (uint64_t)1 << (ci[k] & 63);
  }
  PetscCall(PetscFree(table));
  prefix[0] = 0;
  for (PetscInt w = 0; w < nwords; w++) prefix[w + 1] = prefix[w] + PopCount64(bitmap[w]);
  c->nghost = prefix[nwords];
  PetscCall(PetscMalloc1(c->nghost, &gcols));
  for (PetscInt w = 0, l = 0; w < nwords; w++)
    for (uint64_t bits = bitmap[w]; bits; bits &= bits - 1) gcols[l++] = 64 * w + __builtin_ctzll(bits);
  for (size_t e = 0; e < (size_t)nloc * K; e++) cols[e] = GhostIndex(bitmap, prefix, cols[e]); /* sorted rows stay sorted */
  PetscCall(PetscFree(bitmap));
  PetscCall(PetscFree(prefix));

  /* 2. Blocks and panels. A row's entries in one block should be many (>= ~16 on average, so the
     loop over a group's chunks amortises its exit and the padding is small), and a block of the
     float x should stay in L2 (<= 65535 columns, 256 KB). Measured on the Zen1 VM (8 lanes, float
     x): n = 10⁵, K = 100 is fastest at cb = 16384 (8192 and 32768 ~10% slower); K = 1000 at 16384
     or 32768 (4096 was 1.5x slower); n = 10⁶, K = 100 at 65535. A panel's y (1 MB at 131072 rows)
     should stay in L3 while the blocks pass; each panel reads all of xf once. */
  if (!cb) {
    PetscInt64 want = (16 * (PetscInt64)c->nghost + K - 1) / K;
    cb              = 16384;
    while (cb < want && cb < 32768) cb *= 2;
    if (want > 32768) cb = RM_COMPRESSED_MAX_CB; /* sparse rows (n = 10⁶, K = 100): longer rows per block (measured) */
  }
  cb            = PetscMax(1, PetscMin(cb, c->nghost));
  c->cb         = cb;
  c->stride     = ((cb + 1 + 15) / 16) * 16; /* zero slot at cb; float blocks start on 64-byte boundaries */
  c->nblocks    = (c->nghost + cb - 1) / cb;
  c->panel_rows = panel_rows ? panel_rows : 131072;
  c->panel_rows = RM_L * ((PetscMax(1, PetscMin(c->panel_rows, nloc)) + RM_L - 1) / RM_L);
  c->npanels    = nloc ? (nloc + c->panel_rows - 1) / c->panel_rows : 0;

  /* 3. Memory bits: packed patterns and a_j of every local column, a_i and c_i of every row. */
  wpn = (P + 63) / 64;
  PetscCall(PetscCalloc2((size_t)c->nghost * wpn + 1, &packed_g, (size_t)nloc * wpn + 1, &packed_r));
  PetscCall(RmMemoriesGetNeuronBits(mem, c->nghost, gcols, packed_g)); /* only the columns this rank reads */
  {
    PetscInt *rows;
    PetscCall(PetscMalloc1(nloc + 1, &rows));
    for (PetscInt i = 0; i < nloc; i++) rows[i] = rstart + i;
    PetscCall(RmMemoriesGetNeuronBits(mem, nloc, rows, packed_r));
    PetscCall(PetscFree(rows));
  }
  PetscCall(PetscMalloc1(c->nghost, &a_g));
  for (PetscInt l = 0; l < c->nghost; l++) {
    PetscInt a = 0;
    for (PetscInt w = 0; w < wpn; w++) a += PopCount64(packed_g[(size_t)l * wpn + w]);
    a_g[l] = (uint8_t)a;
  }
  if (design == RM_DESIGN_HEBBIAN) {
    scale = 1.0 / K, shift = 0, kappa = 2, betap = 1;
  } else {
    scale = d->alpha / K, shift = d->gamma / K, kappa = 1, betap = d->beta;
  }
  c->s_m = (float)(scale * kappa * kappa);
  c->s_a = (float)(-scale * kappa * betap);
  PetscCall(PetscCalloc1(RM_L * c->ngroups, &c->row_const)); /* lanes past nloc: 0 */
  for (PetscInt i = 0; i < nloc; i++) {
    PetscInt ai = 0;
    for (PetscInt w = 0; w < wpn; w++) ai += PopCount64(packed_r[(size_t)i * wpn + w]);
    c->row_const[i] = (float)(scale * (P * betap * betap - kappa * betap * ai) + shift);
  }
  if (nloc % RM_L) PetscCall(PetscMalloc1(RM_L * c->ngroups, &c->ybuf));

  /* 4. Chunks of every (panel, block, group): the longest of the group's 8 rows in that block. */
  PetscCall(PetscCalloc1((size_t)c->ngroups * c->nblocks, &c->nchunk));
  c->nchunks = 0;
  for (PetscInt p = 0; p < c->npanels; p++) {
    const PetscInt groups = (PanelRows(c, p) + RM_L - 1) / RM_L;
    uint16_t      *ncp    = c->nchunk + (size_t)p * (c->panel_rows / RM_L) * c->nblocks;
    for (PetscInt i = p * c->panel_rows; i < p * c->panel_rows + PanelRows(c, p); i++) {
      const PetscInt *ci = cols + (size_t)i * K;
      const PetscInt  g  = (i - p * c->panel_rows) / RM_L;
      for (PetscInt k = 0, b = 0, bend = cb; k < K;) { /* runs of one block (the row is sorted) */
        PetscInt e = k + 1;
        while (ci[k] >= bend) b++, bend += cb;
        while (e < K && ci[e] < bend) e++;
        ncp[(size_t)b * groups + g] = (uint16_t)PetscMax(ncp[(size_t)b * groups + g], e - k);
        k                           = e;
      }
    }
    for (PetscInt q = 0; q < groups * c->nblocks; q++) c->nchunks += ncp[q];
  }

  /* 5. Fill: lane r%8 of chunk t of a group is entry t of row r in that block; the lanes of
     shorter rows read the block's zero slot. */
  PetscCall(AllocLarge((size_t)c->nchunks * sizeof(RmCompressedChunk), (void **)&c->chunks));
  {
    PetscInt64 *pos, start = 0;
    PetscCall(PetscMalloc1(c->nblocks, &pos));
    for (PetscInt p = 0; p < c->npanels; p++) {
      const PetscInt  groups = (PanelRows(c, p) + RM_L - 1) / RM_L;
      const uint16_t *ncp    = c->nchunk + (size_t)p * (c->panel_rows / RM_L) * c->nblocks;
      for (PetscInt b = 0; b < c->nblocks; b++) { /* where (p, b) starts */
        pos[b] = start;
        for (PetscInt g = 0; g < groups; g++) start += ncp[(size_t)b * groups + g];
      }
      for (PetscInt g = 0; g < groups; g++) {
        for (PetscInt b = 0; b < c->nblocks; b++) { /* pad everything, then overwrite the real entries */
          RmCompressedChunk *out = c->chunks + pos[b];
          for (PetscInt t = 0; t < ncp[(size_t)b * groups + g]; t++)
            for (int lane = 0; lane < RM_L; lane++) out[t].off[lane] = (uint16_t)cb, out[t].m[lane] = 0, out[t].a[lane] = 0;
        }
        for (int lane = 0; lane < RM_L; lane++) {
          const PetscInt i = p * c->panel_rows + RM_L * g + lane;
          if (i >= nloc) break;
          const PetscInt *ci = cols + (size_t)i * K;
          const uint64_t *pi = packed_r + (size_t)i * wpn;
          for (PetscInt k = 0, t = 0, b = 0, bend = cb; k < K; k++, t++) {
            const PetscInt  l  = ci[k];
            const uint64_t *pj = packed_g + (size_t)l * wpn;
            PetscInt        m  = 0;
            if (l >= bend) {
              while (l >= bend) b++, bend += cb;
              t = 0;
            }
            for (PetscInt w = 0; w < wpn; w++) m += PopCount64(pi[w] & pj[w]);
            c->chunks[pos[b] + t].off[lane] = (uint16_t)(l - (bend - cb));
            c->chunks[pos[b] + t].m[lane]   = (uint8_t)m;
            c->chunks[pos[b] + t].a[lane]   = a_g[l];
          }
        }
        for (PetscInt b = 0; b < c->nblocks; b++) pos[b] += ncp[(size_t)b * groups + g];
      }
    }
    PetscCheck(start == c->nchunks, PETSC_COMM_SELF, PETSC_ERR_PLIB, "compressed storage: laid out %" PetscInt64_FMT " chunks, counted %" PetscInt64_FMT, start, c->nchunks);
    PetscCall(PetscFree(pos));
  }
  PetscCall(PetscFree(cols));
  PetscCall(PetscFree2(packed_g, packed_r));
  PetscCall(PetscFree(a_g));

  /* 6. Ghost vector and the scatter that fills it (zero slots are never written). */
  PetscCall(PetscMalloc1(c->nghost, &gpos));
  for (PetscInt l = 0; l < c->nghost; l++) gpos[l] = (l / cb) * c->stride + l % cb;
  PetscCall(PetscCalloc1((size_t)c->nblocks * c->stride, &c->xg));
  PetscCall(AllocLarge((size_t)c->nblocks * c->stride * sizeof(float), (void **)&c->xf));
  PetscCall(VecCreateSeqWithArray(PETSC_COMM_SELF, 1, c->nblocks * c->stride, c->xg, &c->xg_vec));
  PetscCall(VecCreateMPIWithArray(comm, 1, nloc, n, NULL, &xtemplate));
  PetscCall(ISCreateGeneral(PETSC_COMM_SELF, c->nghost, gcols, PETSC_USE_POINTER, &is_from));
  PetscCall(ISCreateGeneral(PETSC_COMM_SELF, c->nghost, gpos, PETSC_USE_POINTER, &is_to));
  PetscCall(VecScatterCreate(xtemplate, is_from, c->xg_vec, is_to, &c->scatter));
  PetscCall(ISDestroy(&is_from));
  PetscCall(ISDestroy(&is_to));
  PetscCall(VecDestroy(&xtemplate));
  PetscCall(PetscFree(gcols));
  PetscCall(PetscFree(gpos));

  PetscCall(MatCreateShell(comm, nloc, nloc, n, n, c, W));
  PetscCall(MatShellSetOperation(*W, MATOP_MULT, (void (*)(void))MatMult_Compressed));
  PetscCall(MatShellSetOperation(*W, MATOP_GET_DIAGONAL, (void (*)(void))MatGetDiagonal_Compressed));
  PetscCall(MatShellSetOperation(*W, MATOP_DESTROY, (void (*)(void))MatDestroy_Compressed));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- -storage compressed */
typedef struct {
  RmCompressedOptions opt;
} CompressedStorage;

static PetscErrorCode SetFromOptionsCompressed(PetscOptionItems *PetscOptionsObject, RmSynapses syn)
{
  CompressedStorage *st = (CompressedStorage *)syn->data;

  PetscFunctionBeginUser;
  PetscCall(RmCompressedOptionsSetFromOptions_Private(PetscOptionsObject, syn->comm, &st->opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckCompressed(RmSynapses syn)
{
  PetscFunctionBeginUser;
  PetscCheck(syn->indegree > 0, syn->comm, PETSC_ERR_ARG_INCOMP, "-storage compressed needs -indegree K > 0");
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AssembleCompressed(RmSynapses syn, RmMemories mem)
{
  CompressedStorage *st = (CompressedStorage *)syn->data;

  PetscFunctionBeginUser;
  PetscCall(RmCompressedCreateMat_Private(syn->comm, mem, syn->design_type, &syn->design, syn->indegree, syn->seed, &st->opt, &syn->W));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode KernelNameCompressed(RmSynapses syn, const char **name)
{
  PetscFunctionBeginUser;
  PetscCall(RmCompressedGetKernelName_Private(syn->W, name));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DestroyCompressedStorage(RmSynapses syn)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(syn->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmSynapsesCreate_Compressed(RmSynapses syn)
{
  CompressedStorage *st;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&st));
  syn->data               = st;
  syn->diluted            = PETSC_TRUE;
  syn->ops.setfromoptions = SetFromOptionsCompressed;
  syn->ops.check          = CheckCompressed;
  syn->ops.assemble       = AssembleCompressed;
  syn->ops.kernelname     = KernelNameCompressed;
  syn->ops.destroy        = DestroyCompressedStorage;
  PetscFunctionReturn(PETSC_SUCCESS);
}
