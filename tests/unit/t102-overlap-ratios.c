/* t102-overlap-ratios: the measured pairwise overlap ratios of -balance auto (docs/model.md §2).
   (a) deterministic memories (n = 1000, q = 0.2): every pair shares q²N neurons, so r = q exactly for
       all 15 pairs, with no spread;
   (b) random memories: mean, min, max, std and the largest per-memory deviation equal a brute-force
       count over all bits (the same on 1, 2 and 3 ranks: this program runs at each);
   (c) -balance auto gives the design of RmSynapsesSetBalance(mean) coefficient for coefficient, and
       the overlap ratios are reported; without auto none are measured;
   (d) -balance auto with -design hebbian or projection is an error at set-up; "-balance x" is refused. */
#include "utcommon.h"

#define EXPECT_ERROR(call, code, what) \
  do { \
    PetscErrorCode e_; \
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); \
    e_ = (call); \
    PetscCall(PetscPopErrorHandler()); \
    PetscCheck(e_ == (code), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: returned %d, expected %d", what, (int)e_, (int)(code)); \
  } while (0)

static PetscErrorCode MakeMemories(const char *opts, RmMemories *mem)
{
  PetscFunctionBeginUser;
  PetscCall(UtSetOptions(opts));
  PetscCall(RmMemoriesCreate(PETSC_COMM_WORLD, mem));
  PetscCall(RmMemoriesSetFromOptions(*mem));
  PetscCall(RmMemoriesSetUp(*mem));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckDeterministic(void)
{
  RmMemories      mem;
  RmOverlapRatios st;

  PetscFunctionBeginUser;
  PetscCall(MakeMemories("-neurons 1000 -pattern_kind deterministic -coding 0.2 -memories 6", &mem));
  PetscCall(RmMemoriesComputeOverlapRatios(mem, &st));
  PetscCheck(st.pairs == 15 && PetscAbsReal(st.mean - 0.2) < 1e-14 && PetscAbsReal(st.min - 0.2) < 1e-14 && PetscAbsReal(st.max - 0.2) < 1e-14 && st.std < 1e-14 &&
               st.dev_max < 1e-14,
             PETSC_COMM_WORLD, PETSC_ERR_PLIB, "deterministic memories: pairs %" PetscInt_FMT ", r mean %g min %g max %g std %g dev %g (want 15 pairs at r = 0.2)",
             st.pairs, (double)st.mean, (double)st.min, (double)st.max, (double)st.std, (double)st.dev_max);
  PetscCall(RmMemoriesDestroy(&mem));
  PetscCall(MakeMemories("-neurons 100 -memories 1 -coding 0.3", &mem));
  PetscCall(RmMemoriesComputeOverlapRatios(mem, &st));
  PetscCheck(st.pairs == 0 && st.mean == 0.3 && st.std == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "one memory: pairs %" PetscInt_FMT ", mean %g (want 0, q)", st.pairs, (double)st.mean);
  PetscCall(RmMemoriesDestroy(&mem));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t102 deterministic: 15 pairs at r = q = 0.2, no spread; one memory: no pair, r = q\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckRandom(void)
{
  RmMemories      mem;
  RmOverlapRatios st;
  uint8_t        *bits;
  const PetscInt  n = 517, P = 13;
  const PetscReal q = 0.3;
  PetscReal       r[13][13], sum = 0, sq = 0, lo = 1e300, hi = -1e300, devmax = 0;
  PetscInt        pairs = 0, worst = -1;

  PetscFunctionBeginUser;
  PetscCall(MakeMemories("-neurons 517 -memories 13 -coding 0.3 -seed 5", &mem));
  PetscCall(RmMemoriesComputeOverlapRatios(mem, &st));
  PetscCall(RmMemoriesGetAllBits(mem, &bits));
  for (PetscInt mu = 0; mu < P; mu++)
    for (PetscInt nu = 0; nu < P; nu++) {
      PetscInt c = 0;
      for (PetscInt i = 0; i < n; i++) c += bits[mu * n + i] & bits[nu * n + i];
      r[mu][nu] = c / (q * n);
    }
  PetscCall(PetscFree(bits));
  for (PetscInt mu = 0; mu < P; mu++)
    for (PetscInt nu = 0; nu < mu; nu++) {
      sum += r[mu][nu];
      lo = PetscMin(lo, r[mu][nu]);
      hi = PetscMax(hi, r[mu][nu]);
      pairs++;
    }
  const PetscReal mean = sum / pairs;
  for (PetscInt mu = 0; mu < P; mu++) {
    PetscReal d = 0;
    for (PetscInt nu = 0; nu < P; nu++)
      if (nu != mu) d += PetscSqr(r[mu][nu] - mean);
    if (PetscSqrtReal(d) > devmax) devmax = PetscSqrtReal(d), worst = mu;
  }
  for (PetscInt mu = 0; mu < P; mu++)
    for (PetscInt nu = 0; nu < mu; nu++) sq += PetscSqr(r[mu][nu] - mean);
  PetscCheck(st.pairs == pairs && PetscAbsReal(st.mean - mean) < 1e-13 && st.min == lo && st.max == hi && PetscAbsReal(st.std - PetscSqrtReal(sq / pairs)) < 1e-13 &&
               PetscAbsReal(st.dev_max - devmax) < 1e-13 && st.dev_memory == worst,
             PETSC_COMM_WORLD, PETSC_ERR_PLIB, "random memories: measured mean %g min %g max %g std %g dev %g (memory %" PetscInt_FMT "), brute force %g %g %g %g %g (%" PetscInt_FMT ")",
             (double)st.mean, (double)st.min, (double)st.max, (double)st.std, (double)st.dev_max, st.dev_memory, (double)mean, (double)lo, (double)hi,
             (double)PetscSqrtReal(sq / pairs), (double)devmax, worst);
  PetscCheck(st.max > st.min, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "random memories should have a spread of overlap ratios");
  PetscCall(RmMemoriesDestroy(&mem));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t102 random: %" PetscInt_FMT " pairs, r = %.4f in [%.4f, %.4f], equal to the brute-force count\n", pairs, (double)mean, (double)lo,
                        (double)hi));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckDesign(void)
{
  UtNet           a, b;
  PetscBool       measured;
  RmOverlapRatios st;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, "-neurons 400 -memories 8 -coding 0.25 -seed 2 -storage lowrank -balance auto", &a));
  PetscCall(RmSynapsesGetOverlapRatios(a.syn, &measured, &st));
  PetscCheck(measured && st.pairs == 28 && a.design.balance == st.mean, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "-balance auto: measured %d, r %g, mean %g", (int)measured,
             (double)a.design.balance, (double)st.mean);
  {
    char opts[256];
    PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons 400 -memories 8 -coding 0.25 -seed 2 -storage lowrank -balance %.17g", (double)st.mean));
    PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &b));
  }
  PetscCheck(a.design.alpha == b.design.alpha && a.design.beta == b.design.beta && a.design.gamma == b.design.gamma, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "-balance auto differs from -balance <its r>: alpha %g/%g beta %g/%g gamma %g/%g", (double)a.design.alpha, (double)b.design.alpha, (double)a.design.beta,
             (double)b.design.beta, (double)a.design.gamma, (double)b.design.gamma);
  PetscCall(RmSynapsesGetOverlapRatios(b.syn, &measured, NULL));
  PetscCheck(!measured, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "a given -balance must not measure the overlaps");
  PetscCall(UtNetDestroy(&a));
  PetscCall(UtNetDestroy(&b));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t102 design: -balance auto = -balance <mean r>, coefficient for coefficient\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckErrors(void)
{
  RmSynapses syn;

  PetscFunctionBeginUser;
  PetscCall(UtSetOptions("-design hebbian -balance auto"));
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
  EXPECT_ERROR(RmSynapsesSetFromOptions(syn), PETSC_ERR_ARG_INCOMP, "-balance auto -design hebbian");
  PetscCall(RmSynapsesDestroy(&syn));
  PetscCall(UtSetOptions("-design projection -storage lowrank -balance auto"));
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
  EXPECT_ERROR(RmSynapsesSetFromOptions(syn), PETSC_ERR_ARG_INCOMP, "-balance auto -design projection");
  PetscCall(RmSynapsesDestroy(&syn));
  PetscCall(UtSetOptions("-balance 0.2x"));
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
  EXPECT_ERROR(RmSynapsesSetFromOptions(syn), PETSC_ERR_ARG_WRONG, "-balance 0.2x");
  PetscCall(RmSynapsesDestroy(&syn));
  PetscCall(UtSetOptions("-balance 1.5"));
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
  EXPECT_ERROR(RmSynapsesSetFromOptions(syn), PETSC_ERR_ARG_OUTOFRANGE, "-balance 1.5");
  PetscCall(RmSynapsesDestroy(&syn));
  PetscCall(UtSetOptions(NULL));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t102 errors: auto refused for hebbian and projection; a malformed or out-of-range -balance refused\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  PetscCall(CheckDeterministic());
  PetscCall(CheckRandom());
  PetscCall(CheckDesign());
  PetscCall(CheckErrors());
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char help[] = "t102: overlap ratios of the memories and -balance auto.\n";

UT_MAIN(help, Run)
