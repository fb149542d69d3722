/* Compressed storage of the diluted network (issue #4; format described in compressed.h).

   Weights. With c = κb − β' (paper design: κ = 1, β' = β; Hebbian: κ = 2, β' = 1, ξ = 2b − 1) the
   MATAIJ entry is W_ij = scale Σ_μ c_iμ c_jμ + shift (scale = α/K or 1/K, shift = γ/K or 0), and
     Σ_μ (κb_iμ − β')(κb_jμ − β') = κ² m_ij − κβ' a_i − κβ' a_j + Pβ'²,
   so W_ij = c_i + s_m m_ij + s_a a_j with c_i = scale (Pβ'² − κβ' a_i) + shift, s_m = scale κ²,
   s_a = −scale κβ'. The kernel forms each weight in float from the two bytes (m_ij, a_j) and
   multiplies it by the float copy of x_j, row by row; the partial sum of a row over one column
   block is float, the sum over blocks double: MATAIJ's sums to single-precision rounding
   (measured 1e-7 to 4e-7 relative, tests/unit/t203-compressed.c).

   Graph. connectivity.c draws the K inputs of neuron i: by default RmSampleInputs_Private() (aij.c),
   the same graph as the MATAIJ diluted network; with -connectivity ring|grid2d (-radius, -rewire)
   the graph of -storage spatial.

   Ghosts. With random inputs a rank reads nearly all of x, so the exchange moves about 8 n (1 -
   1/N) bytes per product in double; the kernel rounds x to float anyway, so the owners send
   floats (half the bytes, the same W x bit for bit), straight into the ghost part's float block.

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

static void MultPortable(const RmCompressed *c, const RmCompressedPart *part, PetscBool add, PetscScalar *y)
{
  const RmCompressedChunk *ch = part->chunks;
  const uint16_t          *nc = part->nchunk;
  const float             *xf = part->xf;
  const float              sm = c->s_m, sa = c->s_a;

  for (PetscInt p = 0; p < c->npanels; p++) {
    const PetscInt groups = (PanelRows(c, p) + RM_L - 1) / RM_L;
    PetscScalar   *yp     = y + p * c->panel_rows;
    const float   *cp     = c->row_const + p * c->panel_rows;
    if (!add)
      for (PetscInt i = 0; i < RM_L * groups; i++) yp[i] = 0;
    for (PetscInt b = 0; b < part->nblocks; b++) {
      const float *xb = xf + b * part->stride;
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

__attribute__((target("avx2,fma"))) static void MultAVX2(const RmCompressed *c, const RmCompressedPart *part, PetscBool add, PetscScalar *y)
{
  const RmCompressedChunk *ch  = part->chunks;
  const uint16_t          *nc  = part->nchunk;
  const float             *xf  = part->xf;
  const __m256             vsm = _mm256_set1_ps(c->s_m), vsa = _mm256_set1_ps(c->s_a);

  for (PetscInt p = 0; p < c->npanels; p++) {
    const PetscInt groups = (PanelRows(c, p) + RM_L - 1) / RM_L;
    PetscScalar   *yp     = y + p * c->panel_rows;
    const float   *cp     = c->row_const + p * c->panel_rows;
    if (!add)
      for (PetscInt i = 0; i < RM_L * groups; i++) yp[i] = 0;
    for (PetscInt b = 0; b < part->nblocks; b++) {
      const float *xb = xf + b * part->stride;
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

/* ---------------------------------------------------------------- MATSHELL
   The product in two parts, so the ghost values travel while the owned part is multiplied:
   start the exchange (single: the owned x in float, 4 bytes a ghost; double: x itself, 8 bytes),
   fill the owned part's float x block and multiply it, finish the exchange, multiply the ghost part
   (adding into y). RmGhostExchange times the two halves of the exchange, so with the overlap it
   counts what the product waits for, and with -compressed_ghost_overlap 0 the whole exchange. */
const char *const RmCompressedGhostPrecisions[] = {"single", "double", "RmCompressedGhostPrecision", "RM_COMPRESSED_GHOST_", NULL};

static PetscErrorCode GhostBegin(RmCompressed *c, const PetscScalar *xa)
{
  PetscFunctionBeginUser;
  if (!c->exchange) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscLogEventBegin(RM_EVENTS.ghost_exchange, 0, 0, 0, 0));
  if (c->ghost_precision == RM_COMPRESSED_GHOST_SINGLE) PetscCall(PetscSFBcastBegin(c->sf, MPI_FLOAT, c->xown, c->xrf, MPI_REPLACE));
  else PetscCall(PetscSFBcastBegin(c->sf, MPIU_SCALAR, xa, c->xg, MPI_REPLACE));
  PetscCall(PetscLogEventEnd(RM_EVENTS.ghost_exchange, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Finish the exchange and spread the received values (contiguous, so MPI writes them in place and
   PetscSF unpacks nothing) over the ghost part's blocks: a copy (single) or a conversion (double). */
static PetscErrorCode GhostEnd(RmCompressed *c, const PetscScalar *xa)
{
  const RmCompressedPart *gh = &c->part[1];

  PetscFunctionBeginUser;
  if (!c->exchange) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscLogEventBegin(RM_EVENTS.ghost_exchange, 0, 0, 0, 0));
  if (c->ghost_precision == RM_COMPRESSED_GHOST_SINGLE) PetscCall(PetscSFBcastEnd(c->sf, MPI_FLOAT, c->xown, c->xrf, MPI_REPLACE));
  else PetscCall(PetscSFBcastEnd(c->sf, MPIU_SCALAR, xa, c->xg, MPI_REPLACE));
  for (PetscInt b = 0; b < gh->nblocks; b++) { /* the zero slots are never written */
    float         *xb = gh->xf + b * gh->stride;
    const PetscInt q0 = b * gh->cb, len = PetscMin(gh->cb, gh->nx - q0);
    if (c->ghost_precision == RM_COMPRESSED_GHOST_SINGLE) memcpy(xb, c->xrf + q0, (size_t)len * sizeof(float));
    else
      for (PetscInt q = 0; q < len; q++) xb[q] = (float)c->xg[q0 + q];
  }
  PetscCall(PetscLogEventEnd(RM_EVENTS.ghost_exchange, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The owned part's float x block, block by block, from the float copy (single) or from x. */
static void FillOwned(RmCompressed *c, const PetscScalar *xa)
{
  const RmCompressedPart *own = &c->part[0];
  const PetscInt         *src = c->own_src;

  for (PetscInt b = 0; b < own->nblocks; b++) {
    float         *xb = own->xf + b * own->stride;
    const PetscInt q0 = b * own->cb, q1 = PetscMin(q0 + own->cb, own->nx);
    if (c->xown && src)
      for (PetscInt q = q0; q < q1; q++) xb[q - q0] = c->xown[src[q]];
    else if (c->xown) memcpy(xb, c->xown + q0, (size_t)(q1 - q0) * sizeof(float));
    else if (src)
      for (PetscInt q = q0; q < q1; q++) xb[q - q0] = (float)xa[src[q]];
    else
      for (PetscInt q = q0; q < q1; q++) xb[q - q0] = (float)xa[q];
  }
}

static PetscErrorCode MatMult_Compressed(Mat W, Vec x, Vec y)
{
  RmCompressed      *c;
  const PetscScalar *xa;
  PetscScalar       *ya, *yt;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &c));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayWrite(y, &ya));
  yt = c->ybuf ? c->ybuf : ya; /* nloc is not a multiple of 8: the last group writes 8 lanes */
  if (c->xown)
    for (PetscInt i = 0; i < c->nloc; i++) c->xown[i] = (float)xa[i];
  PetscCall(GhostBegin(c, xa));
  if (c->ghost_wait) PetscCall(GhostEnd(c, xa));
  FillOwned(c, xa);
  c->mult(c, &c->part[0], PETSC_FALSE, yt);
  if (!c->ghost_wait) PetscCall(GhostEnd(c, xa));
  c->mult(c, &c->part[1], PETSC_TRUE, yt);
  if (c->ybuf) PetscCall(PetscArraycpy(ya, c->ybuf, c->nloc));
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscCall(VecRestoreArrayRead(x, &xa));
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
  PetscCall(PetscSFDestroy(&c->sf));
  PetscCall(PetscFree(c->xg));
  PetscCall(PetscFree2(c->xown, c->xrf));
  for (int p = 0; p < 2; p++) {
    FreeLarge(c->part[p].xf);
    FreeLarge(c->part[p].chunks);
    PetscCall(PetscFree(c->part[p].nchunk));
  }
  PetscCall(PetscFree(c->own_src));
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

/* The buffers of one precision: single keeps a float copy of the owned x (the SF's roots), double a
   double copy of the ghost values (the SF's leaves); the other one is freed. */
static PetscErrorCode SetGhostPrecision(RmCompressed *c, RmCompressedGhostPrecision precision)
{
  PetscFunctionBeginUser;
  PetscCheck(precision == RM_COMPRESSED_GHOST_SINGLE || precision == RM_COMPRESSED_GHOST_DOUBLE, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "unknown compressed ghost precision %d", (int)precision);
  c->ghost_precision = precision;
  if (precision == RM_COMPRESSED_GHOST_SINGLE) {
    PetscCall(PetscFree(c->xg));
    if (!c->xown) PetscCall(PetscMalloc2(c->nloc + 1, &c->xown, c->part[1].nx + 1, &c->xrf));
  } else {
    PetscCall(PetscFree2(c->xown, c->xrf));
    if (!c->xg) PetscCall(PetscMalloc1(c->part[1].nx + 1, &c->xg));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCompressedSetGhostPrecision_Private(Mat W, RmCompressedGhostPrecision precision)
{
  RmCompressed *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &c));
  PetscCall(SetGhostPrecision(c, precision));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCompressedSetGhostOverlap_Private(Mat W, PetscBool overlap)
{
  RmCompressed *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &c));
  c->ghost_wait = (PetscBool)!overlap;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCompressedGetColumnCounts_Private(Mat W, PetscInt *nown, PetscInt *nghost)
{
  RmCompressed *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &c));
  if (nown) *nown = c->part[0].nx;
  if (nghost) *nghost = c->part[1].nx;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCompressedGetMemory_Private(Mat W, PetscInt64 *bytes)
{
  RmCompressed *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(W, &c));
  *bytes = RM_L * c->ngroups * (PetscInt64)(sizeof(float) + (c->ybuf ? sizeof(PetscScalar) : 0)) + (c->own_src ? c->part[0].nx * (PetscInt64)sizeof(PetscInt) : 0) +
           (c->xown ? (c->nloc + c->part[1].nx) * (PetscInt64)sizeof(float) : 0) + (c->xg ? c->part[1].nx * (PetscInt64)sizeof(PetscScalar) : 0);
  for (int p = 0; p < 2; p++) {
    const RmCompressedPart *part = &c->part[p];
    *bytes += part->nchunks * (PetscInt64)sizeof(RmCompressedChunk) + c->ngroups * part->nblocks * (PetscInt64)sizeof(uint16_t) +
              (PetscInt64)part->nblocks * part->stride * (PetscInt64)sizeof(float);
  }
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
  PetscBool overlap = (PetscBool)!opt->ghost_wait;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsInt("-compressed_block_cols", "Columns of x per block, <= 65535 (0: chosen from n and K)", "RmSynapsesSetFromOptions", opt->block_cols,
                            &opt->block_cols, NULL));
  PetscCall(PetscOptionsInt("-compressed_panel_rows", "Rows per panel, rounded up to a multiple of 8 (0: 131072)", "RmSynapsesSetFromOptions", opt->panel_rows,
                            &opt->panel_rows, NULL));
  PetscCall(PetscOptionsString("-compressed_kernel", "Kernel: avx2 or portable (default: avx2 where the CPU has AVX2 and FMA)", "RmSynapsesSetFromOptions",
                               opt->kernel, opt->kernel, sizeof(opt->kernel), NULL));
  PetscCall(PetscOptionsEnum("-compressed_ghost_precision", "Ghost values exchanged in single (4 bytes, what the kernel reads) or double (8 bytes) precision",
                             "RmSynapsesSetFromOptions", RmCompressedGhostPrecisions, (PetscEnum)opt->ghost_precision, (PetscEnum *)&opt->ghost_precision, NULL));
  PetscCall(PetscOptionsBool("-compressed_ghost_overlap", "Exchange the ghost values while the owned columns' part of the product runs", "RmSynapsesSetFromOptions",
                             overlap, &overlap, NULL));
  opt->ghost_wait = (PetscBool)!overlap;
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

/* Global-order number l (among all the columns this rank reads) of column q of part p: the owned
   columns are numbers [l0, l0 + nown), the ghost columns the others, in order. */
static inline PetscInt PartColumn(int p, PetscInt q, PetscInt l0, PetscInt nown)
{
  return p == 0 ? l0 + q : (q < l0 ? q : q + nown);
}

/* Blocks and panels of one part. A row's entries in one block should be many (>= ~16 on average, so
   the loop over a group's chunks amortises its exit and the padding is small), and a block of the
   float x should stay in L2 (<= 65535 columns, 256 KB). Measured on the Zen1 VM (8 lanes, float
   x, one rank: one part): n = 10⁵, K = 100 is fastest at cb = 16384 (8192 and 32768 ~10% slower);
   K = 1000 at 16384 or 32768 (4096 was 1.5x slower); n = 10⁶, K = 100 at 65535. entries is the
   part's synapse count on this rank (nloc K on one rank). */
static void ChooseBlocks(RmCompressedPart *part, PetscInt cb, PetscInt nloc, PetscInt64 entries)
{
  if (!cb) {
    PetscInt64 want = entries ? (16 * (PetscInt64)part->nx * nloc + entries - 1) / entries : 0;
    cb              = 16384;
    while (cb < want && cb < 32768) cb *= 2;
    if (want > 32768) cb = RM_COMPRESSED_MAX_CB; /* sparse rows (n = 10⁶, K = 100): longer rows per block (measured) */
  }
  part->cb      = PetscMax(1, PetscMin(cb, part->nx));
  part->stride  = ((part->cb + 1 + 15) / 16) * 16; /* zero slot at cb; float blocks start on 64-byte boundaries */
  part->nblocks = (part->nx + part->cb - 1) / part->cb;
}

/* Chunks of part p: row i's entries of the part are cols[i K + kbeg[i] .. i K + kend[i]) (part
   numbers, sorted). The chunks of a (panel, block, group) are as many as the longest of the group's 8
   rows in that block; lane r%8 of chunk t of a group is entry t of row r in that block, and the lanes
   of shorter rows read the block's zero slot. packed_g, a_g: bits and popcounts of the columns in
   global-order numbers (PartColumn). */
static PetscErrorCode LayoutPart(RmCompressed *c, int p, const PetscInt *cols, const PetscInt *kbeg, const PetscInt *kend, const uint64_t *packed_r,
                                 const uint64_t *packed_g, const uint8_t *a_g, PetscInt wpn, PetscInt l0, PetscInt nown)
{
  RmCompressedPart *part = &c->part[p];
  const PetscInt    cb = part->cb, K = c->K;

  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1((size_t)c->ngroups * part->nblocks + 1, &part->nchunk));
  part->nchunks = 0;
  for (PetscInt pn = 0; pn < c->npanels; pn++) {
    const PetscInt groups = (PanelRows(c, pn) + RM_L - 1) / RM_L;
    uint16_t      *ncp    = part->nchunk + (size_t)pn * (c->panel_rows / RM_L) * part->nblocks;
    for (PetscInt i = pn * c->panel_rows; i < pn * c->panel_rows + PanelRows(c, pn); i++) {
      const PetscInt *ci = cols + (size_t)i * K;
      const PetscInt  g  = (i - pn * c->panel_rows) / RM_L;
      for (PetscInt k = kbeg[i], b = 0, bend = cb; k < kend[i];) { /* runs of one block (the row is sorted) */
        PetscInt e = k + 1;
        while (ci[k] >= bend) b++, bend += cb;
        while (e < kend[i] && ci[e] < bend) e++;
        ncp[(size_t)b * groups + g] = (uint16_t)PetscMax(ncp[(size_t)b * groups + g], e - k);
        k                           = e;
      }
    }
    for (PetscInt q = 0; q < groups * part->nblocks; q++) part->nchunks += ncp[q];
  }
  PetscCall(AllocLarge((size_t)part->nchunks * sizeof(RmCompressedChunk), (void **)&part->chunks));
  {
    PetscInt64 *pos, start = 0;
    PetscCall(PetscMalloc1(part->nblocks + 1, &pos));
    for (PetscInt pn = 0; pn < c->npanels; pn++) {
      const PetscInt  groups = (PanelRows(c, pn) + RM_L - 1) / RM_L;
      const uint16_t *ncp    = part->nchunk + (size_t)pn * (c->panel_rows / RM_L) * part->nblocks;
      for (PetscInt b = 0; b < part->nblocks; b++) { /* where (pn, b) starts */
        pos[b] = start;
        for (PetscInt g = 0; g < groups; g++) start += ncp[(size_t)b * groups + g];
      }
      for (PetscInt g = 0; g < groups; g++) {
        for (PetscInt b = 0; b < part->nblocks; b++) { /* pad everything, then overwrite the real entries */
          RmCompressedChunk *out = part->chunks + pos[b];
          for (PetscInt t = 0; t < ncp[(size_t)b * groups + g]; t++)
            for (int lane = 0; lane < RM_L; lane++) out[t].off[lane] = (uint16_t)cb, out[t].m[lane] = 0, out[t].a[lane] = 0;
        }
        for (int lane = 0; lane < RM_L; lane++) {
          const PetscInt i = pn * c->panel_rows + RM_L * g + lane;
          if (i >= c->nloc) break;
          const PetscInt *ci = cols + (size_t)i * K;
          const uint64_t *pi = packed_r + (size_t)i * wpn;
          for (PetscInt k = kbeg[i], t = 0, b = 0, bend = cb; k < kend[i]; k++, t++) {
            const PetscInt  q  = ci[k], l = PartColumn(p, q, l0, nown);
            const uint64_t *pj = packed_g + (size_t)l * wpn;
            PetscInt        m  = 0;
            if (q >= bend) {
              while (q >= bend) b++, bend += cb;
              t = 0;
            }
            for (PetscInt w = 0; w < wpn; w++) m += PopCount64(pi[w] & pj[w]);
            part->chunks[pos[b] + t].off[lane] = (uint16_t)(q - (bend - cb));
            part->chunks[pos[b] + t].m[lane]   = (uint8_t)m;
            part->chunks[pos[b] + t].a[lane]   = a_g[l];
          }
        }
        for (PetscInt b = 0; b < part->nblocks; b++) pos[b] += ncp[(size_t)b * groups + g];
      }
    }
    PetscCheck(start == part->nchunks, PETSC_COMM_SELF, PETSC_ERR_PLIB, "compressed storage: laid out %" PetscInt64_FMT " chunks, counted %" PetscInt64_FMT, start,
               part->nchunks);
    PetscCall(PetscFree(pos));
  }
  PetscCall(AllocLarge((size_t)part->nblocks * part->stride * sizeof(float), (void **)&part->xf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmCompressedCreateMat_Private(MPI_Comm comm, RmMemories mem, RmDesignType design, const RmDesign *d, PetscInt K, PetscInt64 seed,
                                             const RmConnectivity *conn_in, const RmCompressedOptions *opt, Mat *W)
{
  RmCompressed  *c;
  RmConnectivity conn;
  PetscInt       n, P, rstart, rend, nloc, tsize, *table, *picks, *cols, *kmid, *kbeg0, *kend1, nwords, *prefix, wpn, *gcols, l0, nown, nghost_max;
  PetscInt       panel_rows = opt ? opt->panel_rows : 0;
  PetscInt64     entries[2] = {0, 0};
  uint64_t      *bitmap, *packed_g, *packed_r;
  uint8_t       *a_g;
  PetscReal      scale, shift, kappa, betap;
  PetscBool      kernel_set = (PetscBool)(opt && opt->kernel[0]);

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  nloc = rend - rstart;
  PetscCheck(K >= 1 && K < n, comm, PETSC_ERR_ARG_OUTOFRANGE, "compressed storage needs 1 <= indegree < neurons, got indegree %" PetscInt_FMT " with %" PetscInt_FMT " neurons", K, n);
  PetscCheck(P <= 255, comm, PETSC_ERR_SUP, "compressed storage keeps popcounts in one byte: it needs at most 255 memories, got %" PetscInt_FMT " (use -storage aij)", P);
  PetscCheck(K <= 65535, comm, PETSC_ERR_SUP, "compressed storage needs indegree <= 65535, got %" PetscInt_FMT, K);
  if (conn_in) conn = *conn_in;
  else {
    PetscCall(PetscMemzero(&conn, sizeof(conn)));
    conn.type = RM_CONNECTIVITY_RANDOM;
  }
  PetscCall(RmConnectivitySetUp_Private(comm, &conn, n, K, seed));

  PetscCall(PetscNew(&c));
  c->n         = n;
  c->nloc      = nloc;
  c->K         = K;
  c->P         = P;
  c->nsynapses = (PetscInt64)nloc * K;
  c->ngroups   = (nloc + RM_L - 1) / RM_L;
  PetscCall(SetKernel(c, kernel_set ? opt->kernel : (HaveAVX2FMA() ? "avx2" : "portable")));

  /* 1. Draw every local row once (connectivity.c: random is AssembleAIJ's graph, ring and grid2d
     AssembleSpatial's), mark the columns this rank reads, then number them in global order: l.
     The owned ones are the numbers [l0, l0 + nown) (owned columns are one global range). */
  tsize  = RmConnectivityTableSize_Private(K);
  nwords = (n + 63) / 64;
  PetscCall(PetscMalloc1((size_t)nloc * K + 1, &cols));
  PetscCall(PetscMalloc2(tsize, &table, K, &picks));
  PetscCall(PetscCalloc1(nwords, &bitmap));
  PetscCall(PetscMalloc1(nwords + 1, &prefix));
  for (PetscInt i = 0; i < nloc; i++) {
    PetscInt *ci = cols + (size_t)i * K;
    PetscCall(RmConnectivityRowColumns_Private(&conn, rstart + i, ci, picks, table, tsize));
    for (PetscInt k = 0; k < K; k++) bitmap[ci[k] >> 6] |= (uint64_t)1 << (ci[k] & 63);
  }
  PetscCall(PetscFree2(table, picks));
  prefix[0] = 0;
  for (PetscInt w = 0; w < nwords; w++) prefix[w + 1] = prefix[w] + PopCount64(bitmap[w]);
  PetscCall(PetscMalloc1(prefix[nwords] + 1, &gcols));
  for (PetscInt w = 0, l = 0; w < nwords; w++)
    for (uint64_t bits = bitmap[w]; bits; bits &= bits - 1) gcols[l++] = 64 * w + __builtin_ctzll(bits);
  l0   = rstart < n ? GhostIndex(bitmap, prefix, rstart) : prefix[nwords];
  nown = (rend < n ? GhostIndex(bitmap, prefix, rend) : prefix[nwords]) - l0;
  c->part[0].nx = nown;
  c->part[1].nx = prefix[nwords] - nown;
  /* 2. Split each sorted row into its owned run and its ghost runs (before and after it): row i
     becomes [owned (part numbers l - l0) | ghosts (part numbers l, or l - nown past the owned)],
     both sorted; kmid[i] is where its ghosts start. */
  PetscCall(PetscMalloc3(nloc + 1, &kmid, nloc + 1, &kbeg0, nloc + 1, &kend1));
  {
    PetscInt *tmp;
    PetscCall(PetscMalloc1(K, &tmp));
    for (PetscInt i = 0; i < nloc; i++) {
      PetscInt *ci = cols + (size_t)i * K, no = 0, ng = 0;
      for (PetscInt k = 0; k < K; k++) {
        const PetscInt l = GhostIndex(bitmap, prefix, ci[k]);
        if (l >= l0 && l < l0 + nown) ci[no++] = l - l0; /* no <= k: only entries already read are overwritten */
        else tmp[ng++] = l < l0 ? l : l - nown;
      }
      PetscCall(PetscArraycpy(ci + no, tmp, ng));
      kbeg0[i] = 0, kmid[i] = no, kend1[i] = K;
      entries[0] += no, entries[1] += ng;
    }
    PetscCall(PetscFree(tmp));
  }
  PetscCall(PetscFree(bitmap));
  PetscCall(PetscFree(prefix));

  /* 3. Blocks of each part, and the panels. A panel's y (1 MB at 131072 rows) should stay in L3
     while the blocks pass; each panel reads all of both parts' x once. */
  for (int p = 0; p < 2; p++) ChooseBlocks(&c->part[p], opt ? opt->block_cols : 0, nloc, entries[p]);
  c->panel_rows = panel_rows ? panel_rows : 131072;
  c->panel_rows = RM_L * ((PetscMax(1, PetscMin(c->panel_rows, nloc)) + RM_L - 1) / RM_L);
  c->npanels    = nloc ? (nloc + c->panel_rows - 1) / c->panel_rows : 0;

  /* 4. Memory bits: packed patterns and a_j of every column read, a_i and c_i of every row. */
  wpn = (P + 63) / 64;
  PetscCall(PetscCalloc2((size_t)(nown + c->part[1].nx) * wpn + 1, &packed_g, (size_t)nloc * wpn + 1, &packed_r));
  PetscCall(RmMemoriesGetNeuronBits(mem, nown + c->part[1].nx, gcols, packed_g)); /* only the columns this rank reads */
  {
    PetscInt *rows;
    PetscCall(PetscMalloc1(nloc + 1, &rows));
    for (PetscInt i = 0; i < nloc; i++) rows[i] = rstart + i;
    PetscCall(RmMemoriesGetNeuronBits(mem, nloc, rows, packed_r));
    PetscCall(PetscFree(rows));
  }
  PetscCall(PetscMalloc1(nown + c->part[1].nx + 1, &a_g));
  for (PetscInt l = 0; l < nown + c->part[1].nx; l++) {
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

  /* 5. Chunks of both parts. */
  PetscCall(LayoutPart(c, 0, cols, kbeg0, kmid, packed_r, packed_g, a_g, wpn, l0, nown));
  PetscCall(LayoutPart(c, 1, cols, kmid, kend1, packed_r, packed_g, a_g, wpn, l0, nown));
  PetscCall(PetscFree(cols));
  PetscCall(PetscFree3(kmid, kbeg0, kend1));
  PetscCall(PetscFree2(packed_g, packed_r));
  PetscCall(PetscFree(a_g));

  /* 6. The owned part's sources in x, and the exchange: a PetscSF whose leaves are the ghost
     columns in part order (contiguous, one range per neighbour: received in place) and whose roots
     are their owners' local values, so only the ranks that hold a rank's ghosts send to it. */
  if (nown < nloc) {
    PetscCall(PetscMalloc1(nown + 1, &c->own_src));
    for (PetscInt q = 0; q < nown; q++) c->own_src[q] = gcols[l0 + q] - rstart;
  }
  nghost_max = c->part[1].nx;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &nghost_max, 1, MPIU_INT, MPI_MAX, comm));
  c->exchange = (PetscBool)(nghost_max > 0);
  {
    const RmCompressedPart *gh = &c->part[1];
    PetscInt               *iglobal;
    PetscLayout             layout;
    PetscCall(PetscMalloc1(gh->nx + 1, &iglobal));
    for (PetscInt q = 0; q < gh->nx; q++) iglobal[q] = gcols[PartColumn(1, q, l0, nown)];
    PetscCall(PetscLayoutCreateFromSizes(comm, nloc, n, 1, &layout));
    PetscCall(PetscSFCreate(comm, &c->sf));
    PetscCall(PetscSFSetType(c->sf, PETSCSFBASIC));
    PetscCall(PetscSFSetGraphLayout(c->sf, layout, gh->nx, NULL, PETSC_COPY_VALUES, iglobal));
    PetscCall(PetscSFSetUp(c->sf));
    PetscCall(PetscLayoutDestroy(&layout));
    PetscCall(PetscFree(iglobal));
  }
  PetscCall(PetscFree(gcols));
  PetscCall(SetGhostPrecision(c, opt ? opt->ghost_precision : RM_COMPRESSED_GHOST_SINGLE));
  c->ghost_wait = opt ? opt->ghost_wait : PETSC_FALSE;
  PetscCall(PetscInfo(NULL, "compressed: %s, %" PetscInt_FMT " owned and %" PetscInt_FMT " ghost columns on this rank (blocks of %" PetscInt_FMT " and %" PetscInt_FMT "), %s ghosts\n",
                      RmConnectivityTypes[conn.type], nown, c->part[1].nx, c->part[0].cb, c->part[1].cb, RmCompressedGhostPrecisions[c->ghost_precision]));

  PetscCall(MatCreateShell(comm, nloc, nloc, n, n, c, W));
  PetscCall(MatShellSetOperation(*W, MATOP_MULT, (void (*)(void))MatMult_Compressed));
  PetscCall(MatShellSetOperation(*W, MATOP_GET_DIAGONAL, (void (*)(void))MatGetDiagonal_Compressed));
  PetscCall(MatShellSetOperation(*W, MATOP_DESTROY, (void (*)(void))MatDestroy_Compressed));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- -storage compressed */
typedef struct {
  RmCompressedOptions opt;
  RmConnectivity      conn;   /* -connectivity (default random: aij's graph), -radius, -rewire; connectivity.c, shared with spatial */
  PetscMPIInt         size;
  PetscInt           *ghosts; /* ghost columns of each rank (size entries, on every rank; set at assembly) */
} CompressedStorage;

static PetscErrorCode SetFromOptionsCompressed(PetscOptionItems *PetscOptionsObject, RmSynapses syn)
{
  CompressedStorage *st = (CompressedStorage *)syn->data;

  PetscFunctionBeginUser;
  PetscCall(RmCompressedOptionsSetFromOptions_Private(PetscOptionsObject, syn->comm, &st->opt));
  PetscCall(RmConnectivitySetFromOptions_Private(PetscOptionsObject, "compressed", &st->conn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckCompressed(RmSynapses syn)
{
  CompressedStorage *st = (CompressedStorage *)syn->data;

  PetscFunctionBeginUser;
  PetscCheck(syn->indegree > 0, syn->comm, PETSC_ERR_ARG_INCOMP, "-storage compressed needs -indegree K > 0");
  PetscCall(RmConnectivityCheck_Private(syn->comm, &st->conn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AssembleCompressed(RmSynapses syn, RmMemories mem)
{
  CompressedStorage *st = (CompressedStorage *)syn->data;
  PetscInt           n, P, nghost;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmConnectivitySetUp_Private(syn->comm, &st->conn, n, syn->indegree, syn->seed)); /* the radius used, for View */
  PetscCall(RmCompressedCreateMat_Private(syn->comm, mem, syn->design_type, &syn->design, syn->indegree, syn->seed, &st->conn, &st->opt, &syn->W));
  PetscCall(RmCompressedGetColumnCounts_Private(syn->W, NULL, &nghost));
  PetscCallMPI(MPI_Comm_size(syn->comm, &st->size));
  PetscCall(PetscFree(st->ghosts));
  PetscCall(PetscMalloc1(st->size, &st->ghosts));
  PetscCallMPI(MPI_Allgather(&nghost, 1, MPIU_INT, st->ghosts, 1, MPIU_INT, syn->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ", connectivity ..., ghosts single, off-rank columns per rank g0 g1 ..." after the generic line. */
static PetscErrorCode ViewCompressed(RmSynapses syn, PetscViewer viewer)
{
  CompressedStorage *st = (CompressedStorage *)syn->data;

  PetscFunctionBeginUser;
  PetscCall(RmConnectivityView_Private(&st->conn, viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, ", %s ghosts%s", RmCompressedGhostPrecisions[st->opt.ghost_precision], st->opt.ghost_wait ? " (no overlap)" : ""));
  if (st->ghosts) {
    PetscCall(PetscViewerASCIIPrintf(viewer, ", off-rank columns per rank"));
    for (PetscMPIInt r = 0; r < PetscMin(st->size, 16); r++) PetscCall(PetscViewerASCIIPrintf(viewer, " %" PetscInt_FMT, st->ghosts[r]));
    if (st->size > 16) PetscCall(PetscViewerASCIIPrintf(viewer, " ..."));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode KernelNameCompressed(RmSynapses syn, const char **name)
{
  PetscFunctionBeginUser;
  if (!syn->W) *name = "none"; /* chosen at assembly */
  else PetscCall(RmCompressedGetKernelName_Private(syn->W, name));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DestroyCompressedStorage(RmSynapses syn)
{
  CompressedStorage *st = (CompressedStorage *)syn->data;

  PetscFunctionBeginUser;
  if (st) PetscCall(PetscFree(st->ghosts));
  PetscCall(PetscFree(syn->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmSynapsesCreate_Compressed(RmSynapses syn)
{
  CompressedStorage *st;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&st));
  st->conn.type           = RM_CONNECTIVITY_RANDOM;
  syn->data               = st;
  syn->diluted            = PETSC_TRUE;
  syn->ops.setfromoptions = SetFromOptionsCompressed;
  syn->ops.check          = CheckCompressed;
  syn->ops.assemble       = AssembleCompressed;
  syn->ops.kernelname     = KernelNameCompressed;
  syn->ops.view           = ViewCompressed;
  syn->ops.destroy        = DestroyCompressedStorage;
  PetscFunctionReturn(PETSC_SUCCESS);
}
