/* t201-synapses: synaptic designs (docs/model.md §2) and their storage.
   (a) deterministic memories (q = 0.2, n = 1000, P = 6, a = -0.3, b = 0.95): every rescaled memory
       x^μ = φ_a + (φ_b - φ_a) ξ^μ receives exactly the design field a + (b-a) ξ^μ and is a fixed
       point, ‖f(x^μ)‖∞ < 1e-10, for dense and aij storage, sigmoid (ρ 4.8, x* 0.2) and rectified tanh
       (ρ 4.8, x* 0.75); the design coefficients match the formulas of §2;
   (b) random memories (q = 0.2, P = 10): the crosstalk ‖W x^μ - (a1 + (b-a)ξ^μ)‖∞ is smaller at
       n = 4000 than at n = 500, and ‖f(x^μ)‖∞ <= ρ · crosstalk (φ is ρ-Lipschitz);
   (c) the locally owned rows of the WORLD matrix equal bit-for-bit the same rows of the matrix each
       rank builds on PETSC_COMM_SELF (dense, aij, aij -indegree 50; paper and hebbian), and every
       entry equals the §2 formula (scaled by 1/K for a diluted network);
   (d) dense and aij (fully connected) give the same W v to 1e-12; the Hebbian W has a zero diagonal
       and is exactly symmetric, the paper W is symmetric to rounding;
   (e) the general design (§2, balance r = 0.4): correlated memories read from an HDF5 file (qN active
       each, every pair sharing q r N) are exact fixed points with -balance 0.4, and are not with the
       basic design (r = q). */
#include <hdf5.h>
#include <stdio.h>
#include <unistd.h>
#include "utcommon.h"

static const char help[] = "Unit test of RmSynapses (docs/model.md §2).\n";

/* The §2 coefficients, recomputed here; r_expect is the balance the design must use (q by default). */
static PetscErrorCode CheckDesignCoefficients(const UtNet *net, const char *opts, PetscReal r_expect)
{
  const RmDesign *d = &net->design;
  PetscReal       q = d->coding, r = d->balance, pa = UtPhi(&net->act, d->a), pb = UtPhi(&net->act, d->b);
  PetscReal       den   = (1 - q) * pa + q * pb;
  PetscReal       alpha = (d->b - d->a) / (q * (1 - r) * (pb - pa)), beta = q * ((1 - r) * pa + r * pb) / den;
  PetscReal       gamma = ((1 - beta) * d->a + beta * d->b) / den, alpha_basic = (d->b - d->a) / (pb - pa);
  PetscReal       err = 0;

  PetscFunctionBeginUser;
  err = PetscMax(err, PetscAbsReal(d->phi_a - pa));
  err = PetscMax(err, PetscAbsReal(d->phi_b - pb));
  err = PetscMax(err, PetscAbsReal(d->alpha - alpha) / PetscAbsReal(alpha));
  err = PetscMax(err, PetscAbsReal(d->beta - beta) / PetscAbsReal(beta));
  err = PetscMax(err, PetscAbsReal(d->gamma - gamma) / PetscAbsReal(gamma));
  err = PetscMax(err, PetscAbsReal(d->alpha_basic - alpha_basic) / PetscAbsReal(alpha_basic));
  PetscCheck(err < 1e-13, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] design coefficients differ from docs/model.md §2 by %g: got alpha %g beta %g gamma %g phi_a %g phi_b %g, expected %g %g %g %g %g", opts,
             (double)err, (double)d->alpha, (double)d->beta, (double)d->gamma, (double)d->phi_a, (double)d->phi_b, (double)alpha, (double)beta,
             (double)gamma, (double)pa, (double)pb);
  PetscCheck(PetscAbsReal(r - r_expect) < 1e-15, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] balance r = %g, expected %g (q = %g)", opts, (double)r,
             (double)r_expect, (double)q);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* max over μ of ‖W x^μ - (a + (b-a) ξ^μ)‖∞ and of ‖f(x^μ)‖∞ / ‖W x^μ - (a + (b-a) ξ^μ)‖∞ (Lipschitz ratio). */
static PetscErrorCode FieldErrors(UtNet *net, PetscReal *crosstalk, PetscReal *residual, PetscReal *lipschitz_excess)
{
  Vec x, h, target;

  PetscFunctionBeginUser;
  *crosstalk = *residual = 0;
  *lipschitz_excess      = -PETSC_MAX_REAL;
  PetscCall(RmModelCreateState(net->model, &x));
  PetscCall(VecDuplicate(x, &h));
  PetscCall(VecDuplicate(x, &target));
  for (PetscInt mu = 0; mu < net->P; mu++) {
    PetscReal e, res;
    PetscCall(UtMemoryState(net->mem, mu, net->design.phi_a, net->design.phi_b, x));
    PetscCall(UtMemoryState(net->mem, mu, net->design.a, net->design.b, target));
    PetscCall(MatMult(net->W, x, h));
    PetscCall(VecAXPY(h, -1.0, target));
    PetscCall(VecNorm(h, NORM_INFINITY, &e));
    PetscCall(RmModelResidualNorm(net->model, x, &res));
    *crosstalk = PetscMax(*crosstalk, e);
    *residual  = PetscMax(*residual, res);
    /* φ is ρ-Lipschitz and φ(a) = φ_a, φ(b) = φ_b, so |f_i| <= ρ |h_i - target_i|. */
    *lipschitz_excess = PetscMax(*lipschitz_excess, res - (net->act.gain * e + 1e-14));
  }
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&h));
  PetscCall(VecDestroy(&target));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (a) */
static PetscErrorCode CheckFixedPoints(const char *opts)
{
  UtNet     net;
  PetscReal crosstalk, residual, excess;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(CheckDesignCoefficients(&net, opts, net.design.coding));
  PetscCheck(net.design.phi_b > net.design.phi_a, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] phi_b = %g is not > phi_a = %g", opts,
             (double)net.design.phi_b, (double)net.design.phi_a);
  PetscCall(FieldErrors(&net, &crosstalk, &residual, &excess));
  PetscCheck(crosstalk < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] field error at a memory %g, expected the exact design field a + (b-a) xi (< 1e-12)", opts, (double)crosstalk);
  PetscCheck(residual < 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] memory is not a fixed point: max ||f(x^mu)||_inf = %g, expected < 1e-10", opts,
             (double)residual);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t201 (a) %-75s phi_a %.3e phi_b %.4f alpha %.4f beta %.4f gamma %+.4f: field error %.1e, residual %.1e\n",
                        opts, (double)net.design.phi_a, (double)net.design.phi_b, (double)net.design.alpha, (double)net.design.beta,
                        (double)net.design.gamma, (double)crosstalk, (double)residual));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (b) */
static PetscErrorCode CheckCrosstalk(void)
{
  const char *opts[2] = {"-pattern_kind random -coding 0.2 -memories 10 -seed 21 -neurons 500",
                         "-pattern_kind random -coding 0.2 -memories 10 -seed 21 -neurons 4000"};
  PetscReal   ct[2], res[2], excess[2];

  PetscFunctionBeginUser;
  for (int k = 0; k < 2; k++) {
    UtNet net;
    PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts[k], &net));
    PetscCall(FieldErrors(&net, &ct[k], &res[k], &excess[k]));
    PetscCheck(excess[k] <= 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] residual exceeds gain x crosstalk by %g (residual %g, crosstalk %g, gain %g)",
               opts[k], (double)excess[k], (double)res[k], (double)ct[k], (double)net.act.gain);
    PetscCheck(ct[k] > 1e-6, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] crosstalk %g of random memories is implausibly small", opts[k], (double)ct[k]);
    PetscCall(UtNetDestroy(&net));
  }
  PetscCheck(ct[1] < ct[0], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "crosstalk at n = 4000 (%g) is not smaller than at n = 500 (%g)", (double)ct[1],
             (double)ct[0]);
  /* O(sqrt(P/N)) crosstalk (docs/model.md §2) predicts a ratio of sqrt(8) = 2.83; 3.17 measured at seed 21. */
  PetscCheck(ct[0] / ct[1] > 2.0, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "crosstalk shrinks by only %g from n = 500 to n = 4000, expected about sqrt(8) = 2.83 (> 2)", (double)(ct[0] / ct[1]));
  PetscCall(PetscPrintf(
      PETSC_COMM_WORLD,
      "t201 (b) random q=0.2 P=10: crosstalk n=500 %.4f, n=4000 %.4f (ratio %.2f, sqrt(8) = 2.83); residual %.2e, %.2e <= gain x crosstalk\n",
      (double)ct[0], (double)ct[1], (double)(ct[0] / ct[1]), (double)res[0], (double)res[1]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (c) rows of the WORLD matrix vs the SELF matrix, and every entry vs the §2 formula. */
static PetscErrorCode CheckRows(const char *opts)
{
  UtNet        nw, ns;
  uint8_t     *all;
  PetscInt     K, inputs, *rows = NULL;
  PetscInt64   mismatch = 0, bad_pattern = 0, nnz = 0, shared[2] = {0, 0}, pairs[2] = {0, 0};
  PetscReal    balance   = -1;
  PetscReal    value_err = 0, scale_ref;
  RmDesignType type;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &nw));
  PetscCall(UtNetCreate(PETSC_COMM_SELF, opts, &ns));
  PetscCall(RmSynapsesGetIndegree(nw.syn, &K));
  PetscCall(RmSynapsesGetDesignType(nw.syn, &type));
  PetscCall(RmMemoriesGetAllBits(nw.mem, &all));
  inputs = K > 0 ? K : nw.n;
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-balance", &balance, NULL));
  if (type == RM_DESIGN_PAPER) PetscCall(CheckDesignCoefficients(&nw, opts, balance >= 0 ? balance : nw.design.coding));
  if (K > 0) PetscCall(PetscMalloc1((size_t)K * (nw.rend - nw.rstart), &rows));
  const RmDesign d = nw.design;
  scale_ref        = type == RM_DESIGN_HEBBIAN ? (PetscReal)nw.P / inputs : (PetscAbsReal(d.alpha) * nw.P + PetscAbsReal(d.gamma)) / inputs;
  for (PetscInt gi = nw.rstart; gi < nw.rend; gi++) {
    PetscInt           nc_w, nc_s;
    const PetscInt    *c_w, *c_s;
    const PetscScalar *v_w, *v_s;
    PetscCall(MatGetRow(nw.W, gi, &nc_w, &c_w, &v_w));
    PetscCall(MatGetRow(ns.W, gi, &nc_s, &c_s, &v_s));
    if (nc_w != nc_s)
      mismatch++;
    else {
      for (PetscInt k = 0; k < nc_w; k++) mismatch += c_w[k] != c_s[k] || v_w[k] != v_s[k];
    }
    /* Sparsity: a diluted row has exactly K distinct inputs, none from the neuron itself. */
    if (K > 0) {
      PetscInt count = 0;
      for (PetscInt k = 0; k < nc_w; k++) {
        if (c_w[k] == gi || (k > 0 && c_w[k] <= c_w[k - 1])) bad_pattern++;
        if (count < K) rows[(gi - nw.rstart) * K + count] = c_w[k];
        count++;
      }
      if (count != K) bad_pattern++;
    } else if (nc_w != nw.n && !(type == RM_DESIGN_HEBBIAN && nc_w == nw.n - 1))
      bad_pattern++;
    for (PetscInt k = 0; k < nc_w; k++) {
      PetscInt  j   = c_w[k];
      PetscReal sum = 0, ref;
      for (PetscInt mu = 0; mu < nw.P; mu++) {
        if (type == RM_DESIGN_HEBBIAN)
          sum += (2.0 * all[mu * nw.n + gi] - 1) * (2.0 * all[mu * nw.n + j] - 1);
        else
          sum += (all[mu * nw.n + gi] - d.beta) * (all[mu * nw.n + j] - d.beta);
      }
      if (type == RM_DESIGN_HEBBIAN)
        ref = j == gi ? 0.0 : sum / inputs;
      else
        ref = d.alpha * sum / inputs + d.gamma / inputs;
      value_err = PetscMax(value_err, PetscAbsReal(v_w[k] - ref));
      nnz++;
    }
    PetscCall(MatRestoreRow(ns.W, gi, &nc_s, &c_s, &v_s));
    PetscCall(MatRestoreRow(nw.W, gi, &nc_w, &c_w, &v_w));
  }
  /* Diluted rows are drawn independently: rows i and i+d share about K^2/(n-1) inputs (d = 1, 7). */
  for (int t = 0; t < 2 && K > 0; t++) {
    const PetscInt dist = t ? 7 : 1;
    for (PetscInt i = 0; i + dist < nw.rend - nw.rstart; i++) {
      const PetscInt *a = rows + i * K, *b = rows + (i + dist) * K;
      for (PetscInt p = 0, q = 0; p < K && q < K;) { /* both sorted */
        if (a[p] == b[q])
          shared[t]++, p++, q++;
        else if (a[p] < b[q])
          p++;
        else
          q++;
      }
      pairs[t]++;
    }
    PetscCall(UtGlobalSum(&shared[t]));
    PetscCall(UtGlobalSum(&pairs[t]));
    const PetscReal mean = (PetscReal)shared[t] / (PetscReal)pairs[t], expect = (PetscReal)K * K / (nw.n - 1);
    PetscCheck(mean < 2 * expect + 2, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] rows i and i+%" PetscInt_FMT " share %g inputs on average, expected about K^2/(n-1) = %g for independent rows", opts, dist,
               (double)mean, (double)expect);
  }
  PetscCall(PetscFree(rows));
  PetscCall(UtGlobalSum(&mismatch));
  PetscCall(UtGlobalSum(&bad_pattern));
  PetscCall(UtGlobalSum(&nnz));
  PetscCall(UtGlobalMax(&value_err));
  PetscCheck(mismatch == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] %" PetscInt64_FMT " rows/entries of the WORLD matrix differ from the SELF matrix (expected bit-identical)", opts, mismatch);
  PetscCheck(bad_pattern == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] %" PetscInt64_FMT " rows have a wrong sparsity pattern (indegree %" PetscInt_FMT ")", opts, bad_pattern, K);
  PetscCheck(value_err <= 1e-14 * scale_ref, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] entries differ from the docs/model.md §2 formula by %g (scale %g)",
             opts, (double)value_err, (double)scale_ref);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t201 (c) %-85s rows WORLD == SELF bit-for-bit, %" PetscInt64_FMT " entries, max |W - formula| %.1e\n",
                        opts, nnz, (double)value_err));
  PetscCall(PetscFree(all));
  PetscCall(UtNetDestroy(&nw));
  PetscCall(UtNetDestroy(&ns));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ‖W - Wᵀ‖_F / ‖W‖_F */
static PetscErrorCode Asymmetry(Mat W, PetscReal *rel)
{
  Mat       T;
  PetscReal nw, nd;

  PetscFunctionBeginUser;
  PetscCall(MatNorm(W, NORM_FROBENIUS, &nw));
  PetscCall(MatTranspose(W, MAT_INITIAL_MATRIX, &T));
  PetscCall(MatAXPY(T, -1.0, W, DIFFERENT_NONZERO_PATTERN));
  PetscCall(MatNorm(T, NORM_FROBENIUS, &nd));
  PetscCall(MatDestroy(&T));
  *rel = nd / nw;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (d) */
static PetscErrorCode CheckDenseVsAIJ(const char *base)
{
  char         od[256], oa[256];
  UtNet        nd, na;
  Vec          v, yd, ya, diag;
  PetscReal    rel = 0, asym_d = 0, asym_a = 0, dmax_d = 0, dmax_a = 0;
  RmDesignType type;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(od, sizeof(od), "%s -storage dense", base));
  PetscCall(PetscSNPrintf(oa, sizeof(oa), "%s -storage aij", base));
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, od, &nd));
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, oa, &na));
  PetscCall(RmSynapsesGetDesignType(nd.syn, &type));
  PetscCall(RmModelCreateState(nd.model, &v));
  PetscCall(VecDuplicate(v, &yd));
  PetscCall(VecDuplicate(v, &ya));
  PetscCall(VecDuplicate(v, &diag));
  {
    PetscScalar *va;
    PetscCall(VecGetArrayWrite(v, &va));
    for (PetscInt i = 0; i < nd.rend - nd.rstart; i++) va[i] = 0.5 + UtNoise(1, nd.rstart + i);
    PetscCall(VecRestoreArrayWrite(v, &va));
  }
  PetscCall(MatMult(nd.W, v, yd));
  PetscCall(MatMult(na.W, v, ya));
  PetscCall(UtRelDiff(ya, yd, &rel));
  PetscCheck(rel < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] dense and aij W v differ: relative %g, expected < 1e-12", base, (double)rel);
  PetscCall(Asymmetry(nd.W, &asym_d));
  PetscCall(Asymmetry(na.W, &asym_a));
  PetscCall(MatGetDiagonal(nd.W, diag));
  PetscCall(VecNorm(diag, NORM_INFINITY, &dmax_d));
  PetscCall(MatGetDiagonal(na.W, diag));
  PetscCall(VecNorm(diag, NORM_INFINITY, &dmax_a));
  if (type == RM_DESIGN_HEBBIAN) {
    PetscCheck(dmax_d == 0 && dmax_a == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] Hebbian diagonal is not zero: max |W_ii| = %g (dense), %g (aij)",
               base, (double)dmax_d, (double)dmax_a);
    PetscCheck(asym_d == 0 && asym_a == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] Hebbian W is not symmetric: ||W - W^T||/||W|| = %g (dense), %g (aij)", base, (double)asym_d, (double)asym_a);
  } else {
    PetscCheck(asym_d < 1e-14 && asym_a < 1e-14, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] paper W is not symmetric: ||W - W^T||/||W|| = %g (dense), %g (aij)", base, (double)asym_d, (double)asym_a);
    PetscCheck(dmax_d > 0 && PetscAbsReal(dmax_d - dmax_a) <= 1e-14 * dmax_d, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] paper W diagonal: max |W_ii| = %g (dense), %g (aij), expected equal and nonzero", base, (double)dmax_d, (double)dmax_a);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t201 (d) %-70s dense vs aij W v: rel %.1e; ||W-W^T||/||W|| %.1e (dense) %.1e (aij); max|diag| %.3e\n",
                        base, (double)rel, (double)asym_d, (double)asym_a, (double)dmax_d));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&yd));
  PetscCall(VecDestroy(&ya));
  PetscCall(VecDestroy(&diag));
  PetscCall(UtNetDestroy(&nd));
  PetscCall(UtNetDestroy(&na));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (e) Correlated memories: q r n neurons active in every memory, then P private blocks of q (1-r) n. */
static PetscErrorCode CheckCorrelated(void)
{
  const PetscInt n = 1000, P = 5, common = 80, priv = 120; /* q = 0.2, r = 0.4 */
  char           path[PETSC_MAX_PATH_LEN] = "", opts[PETSC_MAX_PATH_LEN + 128];
  PetscMPIInt    rank;
  uint8_t       *ref, *all;
  const char    *variants[] = {"-balance 0.4 -storage dense", "-balance 0.4 -storage aij", "-balance 0.4 -storage dense -activation rectanh",
                               "-storage dense"};

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(PetscMalloc1((size_t)P * n, &ref));
  for (PetscInt mu = 0; mu < P; mu++)
    for (PetscInt i = 0; i < n; i++) ref[mu * n + i] = (uint8_t)(i < common || (i >= common + mu * priv && i < common + (mu + 1) * priv));
  if (rank == 0) {
    hsize_t dims[2] = {(hsize_t)P, (hsize_t)n};
    hid_t   file, space, dset;
    PetscCall(PetscSNPrintf(path, sizeof(path), "/tmp/ratemem-t201-%d.h5", (int)getpid()));
    file  = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    space = H5Screate_simple(2, dims, NULL);
    dset  = H5Dcreate2(file, "patterns", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    PetscCheck(file >= 0 && space >= 0 && dset >= 0 && H5Dwrite(dset, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, ref) >= 0, PETSC_COMM_SELF,
               PETSC_ERR_FILE_WRITE, "cannot write %s", path);
    H5Dclose(dset);
    H5Sclose(space);
    H5Fclose(file);
  }
  PetscCallMPI(MPI_Bcast(path, sizeof(path), MPI_CHAR, 0, PETSC_COMM_WORLD));
  for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
    UtNet      net;
    PetscReal  crosstalk, residual, excess;
    PetscInt64 mismatch = 0;
    PetscBool  balanced = (PetscBool)(strstr(variants[v], "-balance") != NULL);
    PetscCall(PetscSNPrintf(opts, sizeof(opts), "-patterns %s %s", path, variants[v]));
    PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
    PetscCall(RmMemoriesGetAllBits(net.mem, &all));
    for (PetscInt k = 0; k < P * n; k++) mismatch += all[k] != ref[k];
    PetscCall(PetscFree(all));
    PetscCheck(net.n == n && net.P == P && mismatch == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "[%s] loaded %" PetscInt_FMT " x %" PetscInt_FMT " memories, %" PetscInt64_FMT " bits differ from the file", variants[v], net.P, net.n,
               mismatch);
    PetscCall(CheckDesignCoefficients(&net, variants[v], balanced ? 0.4 : net.design.coding));
    PetscCall(FieldErrors(&net, &crosstalk, &residual, &excess));
    if (balanced) {
      PetscCheck(crosstalk < 1e-12 && residual < 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
                 "[%s] correlated memories (r = 0.4) are not exact fixed points of the general design: field error %g, residual %g", variants[v],
                 (double)crosstalk, (double)residual);
    } else {
      PetscCheck(crosstalk > 1e-3 && excess <= 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
                 "[%s] correlated memories with the basic design (r = q): field error %g, expected a clear crosstalk (> 1e-3) bounded by the "
                 "Lipschitz estimate",
                 variants[v], (double)crosstalk);
    }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t201 (e) correlated r=0.4 from HDF5, %-50s beta %.4f gamma %+.4f: field error %.1e, residual %.1e\n",
                          variants[v], (double)net.design.beta, (double)net.design.gamma, (double)crosstalk, (double)residual));
    PetscCall(UtNetDestroy(&net));
  }
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  if (rank == 0) (void)remove(path);
  PetscCall(PetscFree(ref));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckDestroyTwice(void)
{
  RmSynapses syn;

  PetscFunctionBeginUser;
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
  PetscCall(RmSynapsesDestroy(&syn));
  PetscCheck(syn == NULL, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "RmSynapsesDestroy did not set the handle to NULL");
  PetscCall(RmSynapsesDestroy(&syn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  /* (a) the authors' examples: γ < 0 (a = -0.3) and γ > 0 (a = 0.1), sigmoid and rectified tanh. */
  PetscCall(CheckFixedPoints("-pattern_kind deterministic -coding 0.2 -neurons 1000 -storage dense"));
  PetscCall(CheckFixedPoints("-pattern_kind deterministic -coding 0.2 -neurons 1000 -storage aij"));
  PetscCall(CheckFixedPoints("-pattern_kind deterministic -coding 0.2 -neurons 1000 -storage dense -a 0.1 -b 0.95"));
  PetscCall(CheckFixedPoints("-pattern_kind deterministic -coding 0.2 -neurons 1000 -storage dense -activation rectanh"));
  PetscCall(CheckFixedPoints("-pattern_kind deterministic -coding 0.2 -neurons 1000 -storage aij -activation rectanh"));
  /* Binary Hadamard memories: n/2 active each, pairs share n/4, i.e. the basic design with q = r = 1/2. */
  PetscCall(CheckFixedPoints("-pattern_kind hadamard -neurons 1024 -memories 8 -coding 0.5 -storage dense"));
  /* (b) */
  PetscCall(CheckCrosstalk());
  /* (c) */
  PetscCall(CheckRows("-pattern_kind random -neurons 400 -memories 10 -seed 5 -storage dense"));
  PetscCall(CheckRows("-pattern_kind random -neurons 400 -memories 10 -seed 5 -storage aij"));
  PetscCall(CheckRows("-pattern_kind random -neurons 400 -memories 10 -seed 5 -storage aij -indegree 50"));
  PetscCall(CheckRows("-pattern_kind random -neurons 400 -memories 10 -seed 5 -storage dense -design hebbian"));
  PetscCall(CheckRows("-pattern_kind random -neurons 400 -memories 10 -seed 5 -storage aij -design hebbian"));
  PetscCall(CheckRows("-pattern_kind random -neurons 400 -memories 10 -seed 5 -storage aij -indegree 50 -design hebbian"));
  /* (d) */
  PetscCall(CheckDenseVsAIJ("-pattern_kind random -neurons 600 -memories 10 -seed 9"));
  PetscCall(CheckDenseVsAIJ("-pattern_kind random -neurons 600 -memories 10 -seed 9 -design hebbian"));
  PetscCall(CheckRows("-pattern_kind random -neurons 400 -memories 10 -seed 5 -storage aij -indegree 50 -balance 0.4"));
  /* (e) */
  PetscCall(CheckCorrelated());
  PetscCall(CheckDestroyTwice());
  PetscFunctionReturn(PETSC_SUCCESS);
}

UT_MAIN(help, Run)
