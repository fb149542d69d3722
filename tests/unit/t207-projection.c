/* t207: the projection design (-design projection, docs/model.md §2 "Projection design").
   (a) correlated memories (a common base pattern, each memory a few percent of its entries flipped, so
       sizes and pairwise overlaps all differ): every rescaled memory x^μ = φ_a 1 + (φ_b − φ_a) ξ^μ gets
       exactly its designed currents, ‖W x^μ − (a 1 + (b − a) ξ^μ)‖∞ ≤ 1e-10, and W 1 = λ 1, for
       -storage lowrank and dense; the two storages apply the same W and Wᵀ;
   (b) rank invariance: K is bitwise the same on the world communicator as on one rank alone, and W v
       agrees to rounding;
   (c) two identical memories make G singular: refused with PETSC_ERR_ARG_OUTOFRANGE;
   (d) -storage aij is refused;
   (e) on the deterministic memories (equal sizes, r = q) it is the paper design. */
#include "utcommon.h"
#include <hdf5.h>
#include <unistd.h>

#define EXPECT_ERROR(call, code, what) \
  do { \
    PetscErrorCode e_; \
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); \
    e_ = (call); \
    PetscCall(PetscPopErrorHandler()); \
    PetscCheck(e_ == (code), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: returned %d, expected %d", what, (int)e_, (int)(code)); \
  } while (0)

/* Rank 0 writes P x n uint8 memories to a fresh HDF5 file; every rank gets the path. */
static PetscErrorCode WritePatterns(const char *tag, PetscInt P, PetscInt n, const uint8_t *bits, char path[PETSC_MAX_PATH_LEN])
{
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (rank == 0) {
    hsize_t dims[2] = {(hsize_t)P, (hsize_t)n};
    hid_t   file, space, dset;
    PetscCall(PetscSNPrintf(path, PETSC_MAX_PATH_LEN, "/tmp/ratemem-t207-%s-%d.h5", tag, (int)getpid()));
    file  = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    space = H5Screate_simple(2, dims, NULL);
    dset  = H5Dcreate2(file, "patterns", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    PetscCheck(file >= 0 && space >= 0 && dset >= 0 && H5Dwrite(dset, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bits) >= 0, PETSC_COMM_SELF,
               PETSC_ERR_FILE_WRITE, "cannot write %s", path);
    H5Dclose(dset);
    H5Sclose(space);
    H5Fclose(file);
  }
  PetscCallMPI(MPI_Bcast(path, PETSC_MAX_PATH_LEN, MPI_CHAR, 0, PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RemovePatterns(const char *path)
{
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (rank == 0) (void)unlink(path);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Base pattern with q = 0.3, memory μ = base with ~ (3 + μ)% of its entries flipped. */
static void Correlated(PetscInt P, PetscInt n, uint8_t *bits)
{
  for (PetscInt i = 0; i < n; i++) {
    const uint8_t base = (uint8_t)(UtNoise(1, i) + 0.5 < 0.3);
    for (PetscInt mu = 0; mu < P; mu++) bits[mu * n + i] = (uint8_t)(base ^ (UtNoise(100 + mu, i) + 0.5 < 0.03 + 0.01 * mu));
  }
}

static PetscErrorCode FillNoise(Vec x, uint64_t salt)
{
  PetscScalar *xa;
  PetscInt     rstart, rend;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(x, &rstart, &rend));
  PetscCall(VecGetArrayWrite(x, &xa));
  for (PetscInt i = rstart; i < rend; i++) xa[i - rstart] = UtNoise(salt, i);
  PetscCall(VecRestoreArrayWrite(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* max over μ of ‖W x^μ − h^μ‖∞, and ‖W 1 − λ 1‖∞ */
static PetscErrorCode Residuals(UtNet *net, PetscReal *field, PetscReal *uniform)
{
  Vec            x, y, h;
  const RmDesign d = net->design;
  PetscReal      e;

  PetscFunctionBeginUser;
  *field = 0;
  PetscCall(MatCreateVecs(net->W, &x, &y));
  PetscCall(VecDuplicate(x, &h));
  for (PetscInt mu = 0; mu < net->P; mu++) {
    PetscCall(UtMemoryState(net->mem, mu, d.phi_a, d.phi_b, x));
    PetscCall(UtMemoryState(net->mem, mu, d.a, d.b, h));
    PetscCall(MatMult(net->W, x, y));
    PetscCall(VecAXPY(y, -1.0, h));
    PetscCall(VecNorm(y, NORM_INFINITY, &e));
    *field = PetscMax(*field, e);
  }
  PetscCall(VecSet(x, 1.0));
  PetscCall(MatMult(net->W, x, y));
  PetscCall(VecShift(y, -d.lambda));
  PetscCall(VecNorm(y, NORM_INFINITY, uniform));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&h));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckExact(const char *path)
{
  const char *storages[] = {"lowrank", "dense", "lowrank -lowrank_kernel portable"};
  Vec         v = NULL, y[3], yt[3];
  char        opts[PETSC_MAX_PATH_LEN + 128];

  PetscFunctionBeginUser;
  for (int k = 0; k < 3; k++) {
    UtNet     net;
    PetscReal field, uniform;
    PetscCall(PetscSNPrintf(opts, sizeof(opts), "-patterns %s -design projection -storage %s", path, storages[k]));
    PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
    PetscCall(Residuals(&net, &field, &uniform));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t207 %s: cond(G) %.3g, lambda %.6g: max_mu |W x^mu - h^mu|_inf = %.2e, |W 1 - lambda 1|_inf = %.2e\n", storages[k],
                          (double)net.design.gram_cond, (double)net.design.lambda, (double)field, (double)uniform));
    PetscCheck(field <= 1e-10 && uniform <= 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] projection design not exact: field %g, uniform %g", storages[k],
               (double)field, (double)uniform);
    PetscCheck(PetscAbsReal(net.design.lambda - net.design.gamma) < 1e-15, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "lambda %g is not the basic gamma %g",
               (double)net.design.lambda, (double)net.design.gamma);
    if (!v) {
      PetscCall(MatCreateVecs(net.W, &v, NULL));
      PetscCall(FillNoise(v, 3));
    }
    PetscCall(VecDuplicate(v, &y[k]));
    PetscCall(VecDuplicate(v, &yt[k]));
    PetscCall(MatMult(net.W, v, y[k]));
    PetscCall(MatMultTranspose(net.W, v, yt[k]));
    PetscCall(UtNetDestroy(&net));
  }
  for (int k = 1; k < 3; k++) {
    PetscReal r = 0, rt = 0;
    PetscCall(UtRelDiff(y[k], y[0], &r));
    PetscCall(UtRelDiff(yt[k], yt[0], &rt));
    PetscCheck(r < 1e-12 && rt < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s vs lowrank: W v differs by %g, W^T v by %g", storages[k], (double)r, (double)rt);
  }
  {
    PetscReal asym = 0;
    PetscCall(UtRelDiff(yt[0], y[0], &asym));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t207 storages agree on W v and W^T v; W is not symmetric here (|W^T v - W v|/|W v| = %.2e)\n", (double)asym));
  }
  for (int k = 0; k < 3; k++) {
    PetscCall(VecDestroy(&y[k]));
    PetscCall(VecDestroy(&yt[k]));
  }
  PetscCall(VecDestroy(&v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckRanks(const char *path)
{
  UtNet         world, self;
  RmFactors     f;
  RmLowRankForm fw, fs;
  Vec           v, yw, ys;
  PetscScalar  *all;
  PetscReal     diff = 0, scale = 0;
  PetscInt64    differ = 0;
  char          opts[PETSC_MAX_PATH_LEN + 128];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-patterns %s -design projection -storage lowrank", path));
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &world));
  PetscCall(UtNetCreate(PETSC_COMM_SELF, opts, &self));
  PetscCall(RmSynapsesMatGetFactors(world.W, &f, &fw));
  PetscCall(RmSynapsesMatGetFactors(self.W, &f, &fs));
  for (PetscInt k = 0; k < (world.P + 1) * (world.P + 1); k++) differ += fw.K[k] != fs.K[k];
  PetscCall(UtGlobalSum(&differ));
  PetscCheck(differ == 0 && world.design.gram_cond == self.design.gram_cond, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "K differs from the one-rank K in %" PetscInt64_FMT " entries", differ);
  PetscCall(MatCreateVecs(world.W, &v, &yw));
  PetscCall(FillNoise(v, 9));
  PetscCall(MatMult(world.W, v, yw));
  PetscCall(UtGatherVec(yw, &all));
  PetscCall(VecDestroy(&v));
  PetscCall(MatCreateVecs(self.W, &v, &ys));
  PetscCall(FillNoise(v, 9));
  PetscCall(MatMult(self.W, v, ys));
  {
    const PetscScalar *a;
    PetscCall(VecGetArrayRead(ys, &a));
    for (PetscInt i = 0; i < self.n; i++) {
      diff  = PetscMax(diff, PetscAbsReal(a[i] - all[i]));
      scale = PetscMax(scale, PetscAbsReal(a[i]));
    }
    PetscCall(VecRestoreArrayRead(ys, &a));
  }
  PetscCall(UtGlobalMax(&diff));
  PetscCheck(diff <= 1e-12 * scale, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "W v on all ranks differs from one rank by %g (scale %g)", (double)diff, (double)scale);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t207 ranks: K bitwise equal to the one-rank K, W v within %.2e of one rank\n", (double)(diff / scale)));
  PetscCall(PetscFree(all));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&yw));
  PetscCall(VecDestroy(&ys));
  PetscCall(UtNetDestroy(&world));
  PetscCall(UtNetDestroy(&self));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ConfigureAndSetUp(RmSynapses syn, RmMemories mem, const RmActivation *act)
{
  PetscFunctionBeginUser;
  PetscCall(RmSynapsesSetFromOptions(syn));
  PetscCall(RmSynapsesSetUp(syn, mem, act));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (e) memories of equal sizes and one overlap ratio r = q (the deterministic ones): the projection design
   is the paper's (both equal the unique W on span U with these equilibria and W 1 = γ 1). */
static PetscErrorCode CheckPaperLimit(void)
{
  UtNet     pr, pa;
  Vec       v, yr, ya;
  PetscReal rel = 0;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, "-pattern_kind deterministic -neurons 500 -coding 0.2 -design projection -storage lowrank", &pr));
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, "-pattern_kind deterministic -neurons 500 -coding 0.2 -design paper -storage dense", &pa));
  PetscCall(MatCreateVecs(pr.W, &v, &yr));
  PetscCall(VecDuplicate(yr, &ya));
  PetscCall(FillNoise(v, 21));
  PetscCall(MatMult(pr.W, v, yr));
  PetscCall(MatMult(pa.W, v, ya));
  PetscCall(UtRelDiff(yr, ya, &rel));
  PetscCheck(rel < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "deterministic memories: projection W v differs from the paper design's by %g", (double)rel);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t207 deterministic memories: projection W = paper W (relative %.2e)\n", (double)rel));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&yr));
  PetscCall(VecDestroy(&ya));
  PetscCall(UtNetDestroy(&pr));
  PetscCall(UtNetDestroy(&pa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A network whose set-up is expected to fail (the objects are freed either way). */
static PetscErrorCode ExpectSetUpError(const char *opts, PetscErrorCode code, const char *what)
{
  RmSynapses   syn;
  RmMemories   mem;
  RmModel      model;
  RmActivation act;

  PetscFunctionBeginUser;
  PetscCall(UtSetOptions(opts));
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
  PetscCall(RmMemoriesCreate(PETSC_COMM_WORLD, &mem));
  PetscCall(RmMemoriesSetEncoding(mem, RM_ENCODING_BINARY));
  PetscCall(RmMemoriesSetFromOptions(mem));
  PetscCall(RmMemoriesSetUp(mem));
  PetscCall(RmModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(RmModelSetFromOptions(model));
  PetscCall(RmModelGetActivation(model, &act));
  EXPECT_ERROR(ConfigureAndSetUp(syn, mem, &act), code, what);
  PetscCall(RmModelDestroy(&model));
  PetscCall(RmSynapsesDestroy(&syn));
  PetscCall(RmMemoriesDestroy(&mem));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  const PetscInt n = 601, P = 8;
  uint8_t       *bits;
  char           path[PETSC_MAX_PATH_LEN] = "", dup[PETSC_MAX_PATH_LEN] = "", opts[PETSC_MAX_PATH_LEN + 128];

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1((size_t)P * n, &bits));
  Correlated(P, n, bits);
  PetscCall(WritePatterns("corr", P, n, bits, path));
  PetscCall(CheckExact(path));
  PetscCall(CheckRanks(path));
  PetscCall(CheckPaperLimit());
  PetscCall(PetscArraycpy(bits + 3 * n, bits + 5 * n, n)); /* memory 3 = memory 5 */
  PetscCall(WritePatterns("dup", P, n, bits, dup));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-patterns %s -design projection -storage lowrank", dup));
  PetscCall(ExpectSetUpError(opts, PETSC_ERR_ARG_OUTOFRANGE, "two identical memories"));
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-patterns %s -design projection -storage aij", path));
  PetscCall(ExpectSetUpError(opts, PETSC_ERR_SUP, "projection with -storage aij"));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t207 refusals: identical memories (singular G) and -storage aij\n"));
  PetscCall(RemovePatterns(path));
  PetscCall(RemovePatterns(dup));
  PetscCall(PetscFree(bits));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char help[] = "t207: the projection design.\n";

UT_MAIN(help, Run)
