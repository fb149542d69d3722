/* Compressed sparse storage of a diluted network (issue #4, -storage compressed): the same graph
   and weights as the MATAIJ diluted matrix (-storage aij -indegree K), with every weight
   recomputed from two small integers instead of stored as a double:
     W_ij = c_i + s_m m_ij + s_a a_j,   m_ij = popcount(b_i & b_j),  a_j = popcount(b_j),
   where b_j are the P memory bits of neuron j and c_i depends on the row through a_i only.
   Layout: column-blocked, row-panelled sliced ELL. The columns a rank reads (own and ghost) are
   numbered in global order and cut into blocks of cb <= 65535 (the x block stays in L1/L2 while
   it is used).
   For each panel of rows, each block, each group of 4 consecutive rows, chunk t holds entry t of
   each of the 4 rows in that block (16 bytes: four 16-bit offsets into the block, four m, four a);
   the group has as many chunks as its longest row there, and shorter rows read the block's zero
   slot. 4.7-6 bytes per synapse instead of 12, and the random reads of x hit L1/L2, not L3/DRAM. */
#pragma once
#include <petscmat.h>
#include <ratemem/synapses.h>
#include <stdint.h>

/* Four synapses, one per row of a group of 4 rows, in one column block. Padding entries have
   off = cb (the block's zero slot), m = a = 0. */
typedef struct {
  uint16_t off[4];
  uint8_t  m[4];
  uint8_t  a[4];
} RmCompressedChunk;

typedef struct _RmCompressed RmCompressed;
typedef void (*RmCompressedKernel)(const RmCompressed *c, const PetscScalar *xg, PetscScalar *y);

struct _RmCompressed {
  PetscInt           n, nloc, K, P;
  PetscInt           nghost;     /* distinct columns this rank reads (own and remote) */
  PetscInt           cb, stride; /* columns per block; doubles per block in xg (cb + 1 rounded up to 8: zero slot at cb) */
  PetscInt           nblocks, panel_rows, npanels; /* panel_rows is a multiple of 4 */
  PetscInt           ngroups;    /* groups of 4 rows: ceil(nloc/4) */
  PetscInt64         nchunks;    /* stored chunks (4 entries each, padding included) */
  PetscInt64         nsynapses;  /* real entries: nloc*K */
  RmCompressedChunk *chunks;     /* panel-major, then block, then group of 4 rows */
  uint16_t          *nchunk;     /* [panel][block][group of the panel]: chunks of that group in that block */
  PetscReal         *row_const;  /* c_i, local rows (4*ngroups, 0 past nloc) */
  PetscScalar       *ybuf;       /* 4*ngroups, when nloc is not a multiple of 4 */
  PetscReal          s_m, s_a;
  PetscScalar       *xg;         /* ghost copy of x: nblocks*stride doubles */
  Vec                xg_vec;     /* sequential Vec over xg */
  VecScatter         scatter;    /* global x -> xg */
  const char        *kernel;     /* "avx2" or "portable": the kernel MatMult uses */
  RmCompressedKernel mult;
};

/* Collective. W (n x n, the rows of mem's ownership) of design `design` with coefficients d
   (RmDesignCompute), K inputs per neuron drawn exactly as the MATAIJ diluted network draws them
   (seed = the memories' seed). Needs P <= 255 and 1 <= K < n. Options (read here, listed by -help):
   -compressed_block_cols, -compressed_panel_rows, -compressed_kernel avx2|portable. */
/* The diluted graph shared by -storage aij and compressed (synapses.c): the K sorted presynaptic
   partners of neuron i, keyed by (seed, i, draw); table is scratch of tsize (a power of two >= 2K). */
PETSC_INTERN PetscErrorCode RmSampleInputs_Private(PetscInt64 seed, PetscInt i, PetscInt n, PetscInt K, PetscInt *cols, PetscInt *table, PetscInt tsize);
PETSC_INTERN PetscErrorCode RmCompressedCreateMat_Private(MPI_Comm comm, RmMemories mem, RmDesignType design, const RmDesign *d, PetscInt K,
                                                          PetscInt64 seed, Mat *W);
/* Not collective. The kernel in use ("avx2" or "portable"). */
PETSC_INTERN PetscErrorCode RmCompressedGetKernelName_Private(Mat W, const char **name);
/* Not collective. Select a kernel by name ("avx2" fails where the CPU lacks AVX2/FMA). */
PETSC_INTERN PetscErrorCode RmCompressedSetKernel_Private(Mat W, const char *name);
/* Not collective. Bytes held by the format on this rank (chunks, counts, row constants, ghost x). */
PETSC_INTERN PetscErrorCode RmCompressedGetMemory_Private(Mat W, PetscInt64 *bytes);
