/* t701: inputs and noise (issue #7, docs/model.md §7), on 1-3 ranks.
   (a) multiplicative input-driven synapses: the low-rank W(u) x equals an explicitly formed
       (1/N) Ξ diag(α(u)) Ξᵀ with zero diagonal, α_μ = ξ^μᵀu/N, to 1e-12; diag(W(u)) = 0;
   (b) Euler–Maruyama noise: the increments are bit-identical on any partition, and a noisy path on
       this communicator matches a serial run of the same network (to round-off);
   (c) σ = 0 reproduces the explicit Euler trajectory exactly;
   (d) weak order on Ornstein–Uhlenbeck dy = −y dt + σ dW: mean and variance at t = 1 over many paths;
   (e) bad input schedules give their one-line errors. */
#include "utcommon.h"
#include <ratemem/input.h>

static const char *NET = "-neurons 997 -memories 7 -seed 5 -design hebbian -storage lowrank -input_mode multiplicative";

static PetscErrorCode Fill(Vec x, uint64_t salt, PetscReal scale)
{
  PetscScalar *xa;
  PetscInt     rstart, rend;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(x, &rstart, &rend));
  PetscCall(VecGetArrayWrite(x, &xa));
  for (PetscInt i = rstart; i < rend; i++) xa[i - rstart] = scale * UtNoise(salt, i);
  PetscCall(VecRestoreArrayWrite(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckProduct(void)
{
  UtNet            net;
  Vec              u, x, y, dg;
  PetscScalar     *ua, *xa;
  const PetscScalar *ya, *da;
  uint8_t         *bits;
  const PetscReal *alpha;
  PetscReal       *a, err = 0, scale = 0, dmax = 0, aerr = 0;
  PetscInt         P;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, NET, &net));
  PetscCall(MatCreateVecs(net.W, &u, &y));
  PetscCall(VecDuplicate(u, &x));
  PetscCall(VecDuplicate(u, &dg));
  PetscCall(Fill(u, 3, 4.0));
  PetscCall(Fill(x, 4, 2.0));
  PetscCall(RmModelSetInputVector(net.model, u));
  PetscCall(RmModelGetInputWeights(net.model, &alpha, &P));
  PetscCheck(alpha && P == net.P, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "no input weights after RmModelSetInputVector");
  PetscCall(MatMult(net.W, x, y));
  PetscCall(MatGetDiagonal(net.W, dg));
  PetscCall(RmMemoriesGetAllBits(net.mem, &bits));
  PetscCall(UtGatherVec(u, &ua));
  PetscCall(UtGatherVec(x, &xa));
  PetscCall(PetscCalloc1(net.P, &a));
  for (PetscInt mu = 0; mu < net.P; mu++) {
    for (PetscInt j = 0; j < net.n; j++) a[mu] += (bits[mu * net.n + j] ? 1.0 : -1.0) * ua[j];
    a[mu] /= net.n;
    aerr = PetscMax(aerr, PetscAbsReal(a[mu] - alpha[mu]) / PetscAbsReal(a[mu]));
  }
  PetscCall(VecGetArrayRead(y, &ya));
  PetscCall(VecGetArrayRead(dg, &da));
  for (PetscInt i = net.rstart; i < net.rend; i++) { /* row i of the explicitly formed W(u), zero diagonal */
    PetscReal yi = 0;
    for (PetscInt j = 0; j < net.n; j++) {
      PetscReal wij = 0;
      if (j == i) continue;
      for (PetscInt mu = 0; mu < net.P; mu++) wij += (bits[mu * net.n + i] ? 1.0 : -1.0) * a[mu] * (bits[mu * net.n + j] ? 1.0 : -1.0);
      yi += wij / net.n * xa[j];
    }
    err   = PetscMax(err, PetscAbsReal(ya[i - net.rstart] - yi));
    scale = PetscMax(scale, PetscAbsReal(yi));
    dmax  = PetscMax(dmax, PetscAbsReal(da[i - net.rstart]));
  }
  PetscCall(VecRestoreArrayRead(y, &ya));
  PetscCall(VecRestoreArrayRead(dg, &da));
  PetscCall(UtGlobalMax(&err));
  PetscCall(UtGlobalMax(&scale));
  PetscCall(UtGlobalMax(&dmax));
  err /= scale;
  PetscCheck(aerr < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "alpha(u) differs from xi^T u/N by %g (relative)", (double)aerr);
  PetscCheck(err < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "W(u) x differs from the explicit (1/N) Xi diag(alpha) Xi^T x by %g (relative)", (double)err);
  PetscCheck(dmax < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "diag W(u) is not zero: max %g", (double)dmax);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t701 (a) W(u) x vs explicit: %.2e relative, alpha %.2e, max |diag W(u)| %.2e\n", (double)err, (double)aerr, (double)dmax));
  PetscCall(RmModelSetInputVector(net.model, NULL)); /* u = 0: α = 0 */
  PetscCall(MatMult(net.W, x, y));
  PetscCall(VecNorm(y, NORM_INFINITY, &err));
  PetscCheck(err < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "W(0) x is not 0: %g", (double)err);
  PetscCall(PetscFree(a));
  PetscCall(PetscFree(ua));
  PetscCall(PetscFree(xa));
  PetscCall(PetscFree(bits));
  PetscCall(VecDestroy(&u));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&dg));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A noisy (or Euler) path of the multiplicative network on comm, from y(0) ~ N(0,1), input dominant0. */
static PetscErrorCode RunPath(MPI_Comm comm, RmIntegratorType type, PetscReal sigma, PetscScalar **all)
{
  UtNet             net;
  RmIntegrator      integ;
  RmIntegratorStats st;
  RmSchedule        sched;
  PetscReal         c[7];
  Vec               u, x;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(comm, NET, &net));
  PetscCall(UtSetOptions("-euler_dt 0.01 -t_final 2 -converge_tol 1e-300"));
  PetscCall(RmScheduleParse(comm, "dominant3:2", net.P, &sched));
  PetscCall(RmScheduleGetWeights(comm, &sched, 0, net.P, net.n, 5, NULL, 0, c));
  PetscCall(RmScheduleDestroy(&sched));
  PetscCall(MatCreateVecs(net.W, &u, &x));
  PetscCall(RmInputBuildVector(net.mem, c, u));
  PetscCall(VecScale(u, 0.05)); /* α_3 ≈ 1.5, others ≈ 0.5: a non-trivial path */
  PetscCall(RmModelSetInputVector(net.model, u));
  PetscCall(RmInputInitialState(net.mem, 5, x));
  PetscCall(RmIntegratorCreate(comm, &integ));
  PetscCall(RmIntegratorSetFromOptions(integ));
  PetscCall(RmIntegratorSetType(integ, type));
  PetscCall(RmIntegratorSetNoise(integ, sigma, 42));
  PetscCall(RmIntegratorSetModel(integ, net.model));
  PetscCall(RmIntegratorSolve(integ, x, &st));
  PetscCheck(st.steps == 200, comm, PETSC_ERR_PLIB, "expected 200 steps, got %" PetscInt64_FMT, st.steps);
  PetscCall(UtGatherVec(x, all));
  PetscCall(RmIntegratorDestroy(&integ));
  PetscCall(VecDestroy(&u));
  PetscCall(VecDestroy(&x));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckNoise(void)
{
  PetscScalar *par, *ser, *eul, *em0;
  PetscReal    diff = 0, diff0 = 0, spread = 0;
  PetscInt     n = 997, rstart, rend, bad = 0;
  PetscMPIInt  rank, size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  /* increments: the kernel on this rank's block equals the kernel on the whole range, bit for bit */
  rstart = (n * rank) / size;
  rend   = (n * (rank + 1)) / size;
  {
    PetscScalar yl[997], yw[997], f[997];
    for (PetscInt i = 0; i < n; i++) yw[i] = f[i] = UtNoise(9, i);
    for (PetscInt i = rstart; i < rend; i++) yl[i - rstart] = yw[i];
    RmEulerMaruyamaStep(rend - rstart, rstart, yl, f + rstart, 0.01, 3.0, 42, 17);
    RmEulerMaruyamaStep(n, 0, yw, f, 0.01, 3.0, 42, 17);
    for (PetscInt i = rstart; i < rend; i++) bad += memcmp(&yl[i - rstart], &yw[i], sizeof(PetscScalar)) != 0;
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  PetscCheck(bad == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%" PetscInt_FMT " noise increments depend on the partition", bad);
  PetscCall(RunPath(PETSC_COMM_WORLD, RMINTEGRATOREM, 2.0, &par));
  PetscCall(RunPath(PETSC_COMM_SELF, RMINTEGRATOREM, 2.0, &ser));
  PetscCall(RunPath(PETSC_COMM_WORLD, RMINTEGRATOREULER, 0.0, &eul));
  PetscCall(RunPath(PETSC_COMM_WORLD, RMINTEGRATOREM, 0.0, &em0));
  for (PetscInt i = 0; i < n; i++) {
    diff   = PetscMax(diff, PetscAbsReal(par[i] - ser[i]));
    diff0  = PetscMax(diff0, PetscAbsReal(em0[i] - eul[i]));
    spread = PetscMax(spread, PetscAbsReal(par[i] - eul[i]));
  }
  PetscCall(UtGlobalMax(&diff));
  PetscCall(UtGlobalMax(&diff0));
  PetscCheck(spread > 0.1, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the noisy path does not differ from the deterministic one (%g)", (double)spread);
  PetscCheck(diff < 1e-9, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "noisy path on %d ranks differs from the serial one by %g", size, (double)diff);
  PetscCheck(diff0 == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "em with sigma = 0 differs from euler by %g", (double)diff0);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t701 (b) noisy path, %d ranks vs serial: max diff %.2e (noise moves it by %.2f); (c) em sigma=0 vs euler: %g\n", size,
                        (double)diff, (double)spread, (double)diff0));
  PetscCall(PetscFree(par));
  PetscCall(PetscFree(ser));
  PetscCall(PetscFree(eul));
  PetscCall(PetscFree(em0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* OU: y_{k+1} = (1 − h) y_k + σ √h z_k, y_0 = 1, K = 1/h steps; M independent paths (global indices). */
static PetscErrorCode CheckOU(void)
{
  const PetscInt  M = 200000, K = 100;
  const PetscReal h = 1.0 / K, sigma = 1.0;
  PetscInt        rstart, rend;
  PetscMPIInt     rank, size;
  PetscScalar    *y, *f;
  PetscReal       s[2] = {0, 0}, g[2];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  rstart = (M * rank) / size;
  rend   = (M * (rank + 1)) / size;
  PetscCall(PetscMalloc2(rend - rstart, &y, rend - rstart, &f));
  for (PetscInt i = 0; i < rend - rstart; i++) y[i] = 1.0;
  for (PetscInt k = 0; k < K; k++) {
    for (PetscInt i = 0; i < rend - rstart; i++) f[i] = -y[i];
    RmEulerMaruyamaStep(rend - rstart, rstart, y, f, h, sigma, 2024, (uint64_t)k);
  }
  for (PetscInt i = 0; i < rend - rstart; i++) {
    s[0] += y[i];
    s[1] += y[i] * y[i];
  }
  PetscCallMPI(MPI_Allreduce(s, g, 2, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  PetscReal mean = g[0] / M, var = g[1] / M - mean * mean;
  /* exact moments of the EM recursion and of the SDE at t = 1 */
  PetscReal a = 1 - h, mean_em = PetscPowReal(a, K), var_em = sigma * sigma * h * (1 - PetscPowReal(a, 2 * K)) / (1 - a * a);
  PetscReal mean_ex = PetscExpReal(-1.0), var_ex = sigma * sigma * (1 - PetscExpReal(-2.0)) / 2;
  PetscReal se_mean = PetscSqrtReal(var_em / M), se_var = var_em * PetscSqrtReal(2.0 / M);
  PetscCheck(PetscAbsReal(mean - mean_em) < 5 * se_mean && PetscAbsReal(var - var_em) < 5 * se_var, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "OU: sample mean %g, variance %g; EM moments %g, %g (5 SE: %g, %g)", (double)mean, (double)var, (double)mean_em, (double)var_em,
             (double)(5 * se_mean), (double)(5 * se_var));
  /* weak order 1: the bias is O(h) (here |mean_em - mean_ex| = 1.8e-3, |var_em - var_ex| = 2.9e-3) */
  PetscCheck(PetscAbsReal(mean - mean_ex) < h + 5 * se_mean && PetscAbsReal(var - var_ex) < h + 5 * se_var, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "OU: sample mean %g, variance %g vs exact %g, %g beyond O(h) + 5 SE", (double)mean, (double)var, (double)mean_ex, (double)var_ex);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t701 (d) OU at t=1, %" PetscInt_FMT " paths, h=%g: mean %.5f (EM %.5f, exact %.5f, SE %.1e), var %.5f (EM %.5f, exact %.5f, SE %.1e)\n", M,
                        (double)h, (double)mean, (double)mean_em, (double)mean_ex, (double)se_mean, (double)var, (double)var_em, (double)var_ex, (double)se_var));
  PetscCall(PetscFree2(y, f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ExpectError(const char *spec, PetscInt P, PetscInt nweights, PetscBool draw)
{
  RmSchedule     sched = {0};
  PetscErrorCode ierr;
  PetscReal      c[4], w[4] = {1, 1, 1, 1};

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = RmScheduleParse(PETSC_COMM_WORLD, spec, P, &sched);
  if (!ierr && draw)
    for (PetscInt k = 0; k < sched.count && !ierr; k++) ierr = RmScheduleGetWeights(PETSC_COMM_WORLD, &sched, k, P, 100, 1, w, nweights, c);
  PetscCall(PetscPopErrorHandler());
  PetscCall(RmScheduleDestroy(&sched));
  PetscCheck(ierr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "bad schedule '%s' was accepted", spec);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSchedules(void)
{
  RmSchedule sched;

  PetscFunctionBeginUser;
  PetscCall(RmScheduleParse(PETSC_COMM_WORLD, "dominant0:10,dominant3:2.5,weights:1,off:0.5", 4, &sched));
  PetscCheck(sched.count == 4 && sched.items[1].memory == 3 && sched.items[1].duration == 2.5 && sched.items[2].kind == RM_PRESENT_WEIGHTS &&
               sched.items[3].kind == RM_PRESENT_OFF, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "schedule parsed wrongly");
  {
    PetscReal c[4], sum = 0;
    PetscCall(RmScheduleGetWeights(PETSC_COMM_WORLD, &sched, 1, 4, 100, 1, NULL, 0, c));
    for (int mu = 0; mu < 4; mu++) sum += c[mu];
    PetscCheck(PetscAbsReal(sum - 20.0) < 1e-12 && c[3] > c[1] && c[3] > c[2] && c[0] < c[1] && c[0] < c[2], PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "paper draw: sum %g (want sqrt(PN) = 20), c = %g %g %g %g", (double)sum, (double)c[0], (double)c[1], (double)c[2], (double)c[3]);
  }
  PetscCall(RmScheduleDestroy(&sched));
  PetscCall(ExpectError("dominant0:-1", 4, 0, PETSC_FALSE));   /* negative duration */
  PetscCall(ExpectError("dominant0:0", 4, 0, PETSC_FALSE));    /* zero duration */
  PetscCall(ExpectError("dominant4:1", 4, 0, PETSC_FALSE));    /* unknown memory */
  PetscCall(ExpectError("dominantx:1", 4, 0, PETSC_FALSE));    /* not a memory index */
  PetscCall(ExpectError("dominant0", 4, 0, PETSC_FALSE));      /* no duration */
  PetscCall(ExpectError("dominant0:1x", 4, 0, PETSC_FALSE));   /* not a number */
  PetscCall(ExpectError("mystery:1", 4, 0, PETSC_FALSE));      /* unknown item */
  PetscCall(ExpectError("weights:1", 4, 3, PETSC_TRUE));       /* wrong number of weights */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t701 (e) schedules: parsed, paper draw rescaled, 8 bad schedules rejected\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Body(void)
{
  PetscFunctionBeginUser;
  PetscCall(CheckProduct());
  PetscCall(CheckNoise());
  PetscCall(CheckOU());
  PetscCall(CheckSchedules());
  PetscCall(PetscOptionsClearValue(NULL, "-input_mode"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

UT_MAIN("t701: input-driven synapses, schedules and Euler–Maruyama noise", Body)
