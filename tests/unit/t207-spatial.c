/* t207-spatial: -storage spatial (src/synapses/spatial.c), diluted W on structured connectivity.
   On any number of ranks:
   (a) rank invariance: the locally owned rows of the WORLD matrix equal bit-for-bit (columns and
       values) the same rows of the matrix each rank builds on PETSC_COMM_SELF, for ring and grid2d at
       p = 0, 0.1 and 1, paper and hebbian; W x for a fixed x agrees to rounding with the SELF product;
       -connectivity random equals -storage aij -indegree K bit-for-bit;
   (b) p = 0: every row has exactly K distinct inputs, none the neuron itself, all within the radius
       (ring: min(|i-j|, n-|i-j|) <= R; grid2d: Chebyshev distance on the torus <= R);
   (c) p = 0: the off-rank columns of each rank (the ghost values of a product), counted from the rows
       and equal to the columns of MATMPIAIJ's off-diagonal block, number <= 2R on the ring and
       <= 2(R+1) rows on the grid (a band may start and end inside a row);
   (d) p = 1: the mean input distance is within 5% of that of the random graph (n/4 on the ring),
       and p = 0.1 moves about 10% of the inputs out of the radius;
   (e) errors: grid2d on a non-square n, and K above the candidates within the radius. */
#include "utcommon.h"

static const char help[] = "Unit test of -storage spatial (ring and grid2d connectivity, rewiring).\n";

static PetscInt RingDist(PetscInt i, PetscInt j, PetscInt n)
{
  PetscInt d = PetscAbsInt(i - j);
  return PetscMin(d, n - d);
}

static PetscInt GridDist(PetscInt i, PetscInt j, PetscInt s)
{
  return PetscMax(RingDist(i / s, j / s, s), RingDist(i % s, j % s, s));
}

typedef struct {
  PetscReal mean_dist;  /* over all inputs */
  PetscReal frac_out;   /* inputs beyond the radius */
  PetscInt  max_ghosts; /* over ranks, counted from the rows */
} Stats;

/* Build opts on WORLD and SELF, compare, check the row structure; grid: s > 0 is the side. */
static PetscErrorCode CheckNetwork(const char *opts, PetscInt K, PetscInt R, PetscInt s, PetscBool exact_radius, Stats *st)
{
  UtNet       nw, ns;
  PetscInt64  mismatch = 0, bad = 0, out = 0, total = 0, dsum = 0;
  PetscInt    nghost = 0, nghost_mat = 0;
  PetscBool  *seen, mpi;
  Vec         x, yw, ys;
  PetscReal   rel;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &nw));
  PetscCall(UtNetCreate(PETSC_COMM_SELF, opts, &ns));
  PetscCall(PetscCalloc1(nw.n, &seen));
  for (PetscInt gi = nw.rstart; gi < nw.rend; gi++) {
    PetscInt           nc_w, nc_s;
    const PetscInt    *c_w, *c_s;
    const PetscScalar *v_w, *v_s;
    PetscCall(MatGetRow(nw.W, gi, &nc_w, &c_w, &v_w));
    PetscCall(MatGetRow(ns.W, gi, &nc_s, &c_s, &v_s));
    if (nc_w != nc_s) mismatch++;
    else
      for (PetscInt k = 0; k < nc_w; k++) mismatch += c_w[k] != c_s[k] || v_w[k] != v_s[k];
    if (nc_w != K) bad++;
    for (PetscInt k = 0; k < nc_w; k++) {
      const PetscInt j = c_w[k], d = s > 0 ? GridDist(gi, j, s) : RingDist(gi, j, nw.n);
      if (j == gi || (k > 0 && j <= c_w[k - 1])) bad++;
      if (d > R) out++;
      dsum += d;
      total++;
      if ((j < nw.rstart || j >= nw.rend) && !seen[j]) {
        seen[j] = PETSC_TRUE;
        nghost++;
      }
    }
    PetscCall(MatRestoreRow(ns.W, gi, &nc_s, &c_s, &v_s));
    PetscCall(MatRestoreRow(nw.W, gi, &nc_w, &c_w, &v_w));
  }
  PetscCall(PetscObjectTypeCompare((PetscObject)nw.W, MATMPIAIJ, &mpi));
  if (mpi) {
    Mat Ad, Ao;
    PetscCall(MatMPIAIJGetSeqAIJ(nw.W, &Ad, &Ao, NULL));
    PetscCall(MatGetSize(Ao, NULL, &nghost_mat));
  }
  if (nghost_mat != nghost) bad++;
  PetscCall(UtGlobalSum(&mismatch));
  PetscCall(UtGlobalSum(&bad));
  PetscCall(UtGlobalSum(&out));
  PetscCall(UtGlobalSum(&total));
  PetscCall(UtGlobalSum(&dsum));
  PetscCallMPI(MPI_Allreduce(&nghost, &st->max_ghosts, 1, MPIU_INT, MPI_MAX, PETSC_COMM_WORLD));
  PetscCheck(mismatch == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] %" PetscInt64_FMT " entries of the WORLD matrix differ from the SELF one", opts, mismatch);
  PetscCheck(bad == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] %" PetscInt64_FMT " rows/entries break the pattern (K inputs, sorted, distinct, not self; ghost count)", opts,
             bad);
  PetscCheck(!exact_radius || out == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] %" PetscInt64_FMT " inputs beyond radius %" PetscInt_FMT, opts, out, R);
  st->mean_dist = (PetscReal)dsum / (PetscReal)total;
  st->frac_out  = (PetscReal)out / (PetscReal)total;
  /* W x against the SELF product (each rank's whole matrix), for a fixed x */
  PetscCall(MatCreateVecs(nw.W, &x, &yw));
  {
    PetscInt     rs, re;
    PetscScalar *xa;
    PetscCall(VecGetOwnershipRange(x, &rs, &re));
    PetscCall(VecGetArrayWrite(x, &xa));
    for (PetscInt i = rs; i < re; i++) xa[i - rs] = PetscSinReal(0.37 * i) + 0.25;
    PetscCall(VecRestoreArrayWrite(x, &xa));
  }
  PetscCall(MatMult(nw.W, x, yw));
  {
    Vec          xs;
    PetscScalar *xa, *yall;
    PetscReal    err = 0, ref = 0;
    PetscCall(MatCreateVecs(ns.W, &xs, &ys));
    PetscCall(VecGetArrayWrite(xs, &xa));
    for (PetscInt i = 0; i < nw.n; i++) xa[i] = PetscSinReal(0.37 * i) + 0.25;
    PetscCall(VecRestoreArrayWrite(xs, &xa));
    PetscCall(MatMult(ns.W, xs, ys));
    PetscCall(UtGatherVec(yw, &yall));
    {
      const PetscScalar *ya;
      PetscCall(VecGetArrayRead(ys, &ya));
      for (PetscInt i = 0; i < nw.n; i++) {
        err = PetscMax(err, PetscAbsScalar(yall[i] - ya[i]));
        ref = PetscMax(ref, PetscAbsScalar(ya[i]));
      }
      PetscCall(VecRestoreArrayRead(ys, &ya));
    }
    rel = ref > 0 ? err / ref : err;
    PetscCall(UtGlobalMax(&rel));
    PetscCall(PetscFree(yall));
    PetscCall(VecDestroy(&xs));
  }
  PetscCheck(rel < 1e-13, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] W x on WORLD differs from SELF by %g (relative)", opts, (double)rel);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t207 [%s] rows identical to 1 rank, W x %.1e; mean input distance %.1f, beyond radius %.3f, off-rank columns <= %" PetscInt_FMT "\n",
                        opts, (double)rel, (double)st->mean_dist, (double)st->frac_out, st->max_ghosts));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&yw));
  PetscCall(VecDestroy(&ys));
  PetscCall(PetscFree(seen));
  PetscCall(UtNetDestroy(&ns));
  PetscCall(UtNetDestroy(&nw));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -connectivity random is aij's diluted graph: the same W bit for bit. */
static PetscErrorCode CheckRandomIsAIJ(const char *base)
{
  UtNet      na, nr;
  char       opts[256];
  PetscInt64 mismatch = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "%s -storage aij", base));
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &na));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "%s -storage spatial -connectivity random", base));
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &nr));
  for (PetscInt gi = na.rstart; gi < na.rend; gi++) {
    PetscInt           nc_a, nc_r;
    const PetscInt    *c_a, *c_r;
    const PetscScalar *v_a, *v_r;
    PetscCall(MatGetRow(na.W, gi, &nc_a, &c_a, &v_a));
    PetscCall(MatGetRow(nr.W, gi, &nc_r, &c_r, &v_r));
    if (nc_a != nc_r) mismatch++;
    else
      for (PetscInt k = 0; k < nc_a; k++) mismatch += c_a[k] != c_r[k] || v_a[k] != v_r[k];
    PetscCall(MatRestoreRow(nr.W, gi, &nc_r, &c_r, &v_r));
    PetscCall(MatRestoreRow(na.W, gi, &nc_a, &c_a, &v_a));
  }
  PetscCall(UtGlobalSum(&mismatch));
  PetscCheck(mismatch == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] spatial -connectivity random differs from aij in %" PetscInt64_FMT " entries", base, mismatch);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t207 [%s] spatial -connectivity random == aij\n", base));
  PetscCall(UtNetDestroy(&nr));
  PetscCall(UtNetDestroy(&na));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ExpectError(const char *opts)
{
  UtNet          net;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = UtNetCreate(PETSC_COMM_WORLD, opts, &net);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr != PETSC_SUCCESS, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] was accepted", opts);
  PetscCall(UtNetDestroy(&net));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t207 [%s] refused (error %d)\n", opts, (int)ierr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  const PetscInt n = 1200, K = 30, R = 40, side = 35, Rg = 3;
  char           opts[256];
  Stats          st, st_rand;
  PetscMPIInt    size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  /* ring */
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons %d -memories 6 -seed 3 -storage spatial -connectivity ring -indegree %d -radius %d", (int)n, (int)K, (int)R));
  PetscCall(CheckNetwork(opts, K, R, 0, PETSC_TRUE, &st));
  PetscCheck(st.max_ghosts <= 2 * R, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] %" PetscInt_FMT " off-rank columns on a rank, more than 2R = %" PetscInt_FMT, opts, st.max_ghosts,
             2 * R);
  if (size > 1)
    PetscCheck(st.max_ghosts > R, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] only %" PetscInt_FMT " off-rank columns: expected about 2R", opts, st.max_ghosts);
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons %d -memories 6 -seed 3 -storage spatial -connectivity ring -indegree %d -radius %d -design hebbian", (int)n,
                          (int)K, (int)R));
  PetscCall(CheckNetwork(opts, K, R, 0, PETSC_TRUE, &st));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons %d -memories 6 -seed 3 -storage spatial -connectivity ring -indegree %d -radius %d -rewire 0.1", (int)n, (int)K,
                          (int)R));
  PetscCall(CheckNetwork(opts, K, R, 0, PETSC_FALSE, &st));
  PetscCheck(st.frac_out > 0.07 && st.frac_out < 0.13, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] %.3f of the inputs beyond the radius, expected about 0.1 (1 - 2R/n)", opts,
             (double)st.frac_out);
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons %d -memories 6 -seed 3 -storage spatial -connectivity ring -indegree %d -radius %d -rewire 1", (int)n, (int)K,
                          (int)R));
  PetscCall(CheckNetwork(opts, K, R, 0, PETSC_FALSE, &st));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons %d -memories 6 -seed 3 -storage spatial -connectivity random -indegree %d", (int)n, (int)K));
  PetscCall(CheckNetwork(opts, K, n, 0, PETSC_FALSE, &st_rand));
  PetscCheck(PetscAbsReal(st.mean_dist / st_rand.mean_dist - 1) < 0.05 && PetscAbsReal(st_rand.mean_dist / (n / 4.0) - 1) < 0.05, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "ring -rewire 1: mean input distance %.1f, random graph %.1f, n/4 = %.1f", (double)st.mean_dist, (double)st_rand.mean_dist, n / 4.0);
  PetscCall(CheckRandomIsAIJ("-neurons 500 -memories 6 -seed 5 -indegree 40"));
  /* grid2d, 35 x 35, Chebyshev radius 3 (48 candidates) */
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons %d -memories 6 -seed 4 -storage spatial -connectivity grid2d -indegree %d -radius %d", (int)(side * side), (int)K,
                          (int)Rg));
  PetscCall(CheckNetwork(opts, K, Rg, side, PETSC_TRUE, &st));
  /* a band of rows may start and end inside a row: the ghosts lie in the R rows (and the partial row) on each side */
  PetscCheck(st.max_ghosts <= 2 * (Rg + 1) * side, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] %" PetscInt_FMT " off-rank columns, more than 2(R+1) rows", opts, st.max_ghosts);
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons %d -memories 6 -seed 4 -storage spatial -connectivity grid2d -indegree 48 -radius %d -rewire 0.3 -design hebbian",
                          (int)(side * side), (int)Rg));
  PetscCall(CheckNetwork(opts, 48, Rg, side, PETSC_FALSE, &st));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons %d -memories 6 -seed 4 -storage spatial -connectivity grid2d -indegree %d -radius %d -rewire 1", (int)(side * side),
                          (int)K, (int)Rg));
  PetscCall(CheckNetwork(opts, K, Rg, side, PETSC_FALSE, &st));
  /* errors */
  PetscCall(ExpectError("-neurons 1000 -memories 4 -storage spatial -connectivity grid2d -indegree 20 -radius 3"));
  PetscCall(ExpectError("-neurons 1000 -memories 4 -storage spatial -connectivity ring -indegree 20 -radius 9"));
  PetscCall(ExpectError("-neurons 1000 -memories 4 -storage spatial -connectivity ring -indegree 20 -rewire 1.5"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

UT_MAIN(help, Run)
