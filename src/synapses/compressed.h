/* Compressed sparse storage of a diluted network (issue #4, -storage compressed): the same graph
   and weights as the MATAIJ diluted matrix (-storage aij -indegree K), with every weight
   recomputed from two small integers instead of stored as a double:
     W_ij = c_i + s_m m_ij + s_a a_j,   m_ij = popcount(b_i & b_j),  a_j = popcount(b_j),
   where b_j are the P memory bits of neuron j and c_i depends on the row through a_i only.
   Layout: column-blocked, row-panelled sliced ELL. The columns a rank reads are two parts, the
   ones it owns and its ghosts (RmCompressedPart), so the owned part's product can run while the
   ghost values travel; each part's columns are numbered in global order and cut into blocks of
   cb <= 65535 (the x block stays in L1/L2 while it is used).
   For each panel of rows, each block, each group of 8 consecutive rows, chunk t holds entry t of
   each of the 8 rows in that block (32 bytes: eight 16-bit offsets into the block, eight m, eight
   a); the group has as many chunks as its longest row there, and shorter rows read the block's
   zero slot. 4.5-6 bytes per synapse instead of 12, and the random reads of x hit L1/L2, not L3/DRAM.
   Single precision (issue #4 allows single-precision values): the product reads x as a float
   copy (4 bytes per column, so a block of 65535 columns fits L2) and forms each weight and the
   partial sum of a row in one block in float; the row sums over blocks are double. W x agrees
   with MATAIJ to about 1e-7 relative (float rounding), not 1e-15. */
#pragma once
#include <petscmat.h>
#include <petscsf.h>
#include "connectivity.h"
#include <stdint.h>

#define RM_COMPRESSED_LANES 8 /* rows per group: the 8 float lanes of an AVX2 register */

/* Eight synapses, one per row of a group of 8 rows, in one column block. Padding entries have
   off = cb (the block's zero slot), m = a = 0. */
typedef struct {
  uint16_t off[RM_COMPRESSED_LANES];
  uint8_t  m[RM_COMPRESSED_LANES];
  uint8_t  a[RM_COMPRESSED_LANES];
} RmCompressedChunk;

/* The ghost values a rank receives in each product (-compressed_ghost_precision): single (4 bytes,
   the float the kernel reads anyway) or double (8 bytes, converted after arrival; for comparison). */
typedef enum { RM_COMPRESSED_GHOST_SINGLE, RM_COMPRESSED_GHOST_DOUBLE } RmCompressedGhostPrecision;
PETSC_INTERN const char *const RmCompressedGhostPrecisions[];

/* One part of a rank's product: the columns it owns (the diagonal block, part 0) or its ghost
   columns (the off-diagonal block, part 1), each laid out as above with blocks of its own, so the
   product of part 0 runs while the ghost values of part 1 are on their way. */
typedef struct {
  PetscInt           nx;         /* distinct columns of the part this rank reads, numbered in global order */
  PetscInt           cb, stride; /* columns per block; entries per block in xf (cb + 1 rounded up to 16: zero slot at cb) */
  PetscInt           nblocks;
  PetscInt64         nchunks;    /* stored chunks (8 entries each, padding included) */
  RmCompressedChunk *chunks;     /* panel-major, then block, then group of 8 rows */
  uint16_t          *nchunk;     /* [panel][block][group of the panel]: chunks of that group in that block */
  float             *xf;         /* nblocks*stride floats, what the kernels read (zero slots stay 0) */
} RmCompressedPart;

typedef struct _RmCompressed RmCompressed;
/* y = (add ? y : 0) + the part's product; y has room for a whole last group. */
typedef void (*RmCompressedKernel)(const RmCompressed *c, const RmCompressedPart *part, PetscBool add, PetscScalar *y);

struct _RmCompressed {
  PetscInt           n, nloc, K, P;
  PetscInt           panel_rows, npanels; /* panel_rows is a multiple of 8; the panels are shared by both parts */
  PetscInt           ngroups;    /* groups of 8 rows: ceil(nloc/8) */
  PetscInt64         nsynapses;  /* real entries: nloc*K */
  RmCompressedPart   part[2];    /* 0: owned columns, 1: ghost columns */
  PetscInt          *own_src;    /* part 0's column q is local entry own_src[q] of x (NULL: q itself, every owned column is read) */
  float             *row_const;  /* c_i in float, local rows (8*ngroups, 0 past nloc) */
  PetscScalar       *ybuf;       /* 8*ngroups, when nloc is not a multiple of 8 */
  float              s_m, s_a;
  /* The ghost exchange: a PetscSF from the owners' values (roots, nloc per rank) to the ghost
     columns in part 1's order (contiguous leaves), neighbours only; MPI_FLOAT from xown into xrf
     (single) or MPIU_SCALAR from x itself into xg (double), then spread over part 1's blocks.
     Event RmGhostExchange. */
  PetscSF                    sf;
  PetscBool                  exchange;  /* some rank has ghost columns (the same on every rank) */
  RmCompressedGhostPrecision ghost_precision;
  PetscBool                  ghost_wait; /* finish the exchange before the owned part's product (no overlap) */
  float                     *xown, *xrf; /* single: the owned x in float (the SF's roots, nloc) and the ghosts received (part[1].nx) */
  PetscScalar               *xg;         /* double: the ghosts received (part[1].nx) */
  const char                *kernel;    /* "avx2" or "portable": the kernel MatMult uses */
  RmCompressedKernel         mult;
};

/* The format's own options (-compressed_block_cols, -compressed_panel_rows, -compressed_kernel,
   -compressed_ghost_precision, -compressed_ghost_overlap), read by the storage's SetFromOptions
   (RmCompressedOptionsSetFromOptions_Private, inside an options block); all zero / empty: the
   defaults (block and panel sizes chosen from n and K, kernel avx2 where the CPU has AVX2 and FMA,
   single-precision ghosts exchanged while the owned part is multiplied). */
typedef struct {
  PetscInt                   block_cols, panel_rows;
  char                       kernel[16];
  RmCompressedGhostPrecision ghost_precision;
  PetscBool                  ghost_wait; /* -compressed_ghost_overlap 0 */
} RmCompressedOptions;
PETSC_INTERN PetscErrorCode RmCompressedOptionsSetFromOptions_Private(PetscOptionItems *PetscOptionsObject, MPI_Comm comm, RmCompressedOptions *opt);
/* Collective. The same in an options block of its own (tests that build the matrix without RmSynapses). */
PETSC_INTERN PetscErrorCode RmCompressedOptionsGet_Private(MPI_Comm comm, RmCompressedOptions *opt);
/* Collective. W (n x n, the rows of mem's ownership) of design `design` with coefficients d
   (RmDesignCompute), K inputs per neuron on the graph conn describes (connectivity.h; NULL: random,
   the graph of the MATAIJ diluted network; seed = the memories' seed), laid out and applied as opt
   says (NULL: the defaults). Needs P <= 255 and 1 <= K < n. */
PETSC_INTERN PetscErrorCode RmCompressedCreateMat_Private(MPI_Comm comm, RmMemories mem, RmDesignType design, const RmDesign *d, PetscInt K,
                                                          PetscInt64 seed, const RmConnectivity *conn, const RmCompressedOptions *opt, Mat *W);
/* Not collective. The kernel in use ("avx2" or "portable"). */
PETSC_INTERN PetscErrorCode RmCompressedGetKernelName_Private(Mat W, const char **name);
/* Not collective. Select a kernel by name ("avx2" fails where the CPU lacks AVX2/FMA). */
PETSC_INTERN PetscErrorCode RmCompressedSetKernel_Private(Mat W, const char *name);
/* Collective (the ranks of W). Ghost values in single or double precision from the next product on. */
PETSC_INTERN PetscErrorCode RmCompressedSetGhostPrecision_Private(Mat W, RmCompressedGhostPrecision precision);
/* Collective (the ranks of W). Overlap the exchange with the owned part's product (PETSC_TRUE, the
   default) or finish it first (PETSC_FALSE: the exchange alone, as RmGhostExchange then times it). */
PETSC_INTERN PetscErrorCode RmCompressedSetGhostOverlap_Private(Mat W, PetscBool overlap);
/* Not collective. Columns of each part on this rank: owned and ghost (either may be NULL). */
PETSC_INTERN PetscErrorCode RmCompressedGetColumnCounts_Private(Mat W, PetscInt *nown, PetscInt *nghost);
/* Not collective. Bytes held by the format on this rank (chunks, counts, row constants, ghost x). */
PETSC_INTERN PetscErrorCode RmCompressedGetMemory_Private(Mat W, PetscInt64 *bytes);
