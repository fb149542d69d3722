/* The activations of docs/model.md §3: one table, RmActivationFunctions[], with each function's
   value, value on a whole array, derivative and derivative through the value. Adding an activation
   is one set of these functions and one table line; nothing else switches on the kind.

   Why an array routine per function: with the weight product at memory or popcount speed (low-rank
   storage reads 2P/8 bytes per neuron), the scalar libm exp/tanh per neuron cost about 10 ns and
   made an RHS evaluation 1.4× a weight product. Here the AVX2 variants of glibc's libmvec
   (_ZGVdN4v_exp, _ZGVdN4v_tanh; ≤ 4 ulp) evaluate four neurons at once, and the function is chosen
   once per array instead of once per neuron.

   Rank independence: every element goes through the same vector routine, including the last
   (n mod 4) ones, which are padded into a full vector. So φ of a given input is the same bits
   whatever position the neuron has in its rank's local array. */
#include <ratemem/activation.h>

/* ---------------------------------------------------------------- scalar values and derivatives */
static PetscReal SigmoidValue(const RmActivation *act, PetscReal s)
{
  return 1.0 / (1.0 + PetscExpReal(-4.0 * act->gain * (s - act->threshold - 0.5 / act->gain)));
}

static PetscReal SigmoidDerivativeFromValue(const RmActivation *act, PetscReal p)
{
  return 4.0 * act->gain * p * (1.0 - p);
}

static PetscReal SigmoidDerivative(const RmActivation *act, PetscReal s)
{
  return SigmoidDerivativeFromValue(act, SigmoidValue(act, s));
}

static PetscReal RecTanhValue(const RmActivation *act, PetscReal s)
{
  return s >= act->threshold ? PetscTanhReal(act->gain * (s - act->threshold)) : 0.0;
}

static PetscReal RecTanhDerivative(const RmActivation *act, PetscReal s)
{
  PetscReal p;
  if (s < act->threshold) return 0.0;
  p = PetscTanhReal(act->gain * (s - act->threshold));
  return act->gain * (1.0 - p * p);
}

static PetscReal TanhValue(const RmActivation *act, PetscReal s)
{
  return PetscTanhReal(act->gain * s);
}

static PetscReal TanhDerivative(const RmActivation *act, PetscReal s)
{
  const PetscReal p = PetscTanhReal(act->gain * s);
  return act->gain * (1.0 - p * p);
}

/* ---------------------------------------------------------------- arrays */
#if defined(RM_HAVE_LIBMVEC) && defined(__x86_64__) && defined(__GNUC__)
  #include <immintrin.h>

__attribute__((target("avx2"))) __m256d _ZGVdN4v_exp(__m256d);
__attribute__((target("avx2"))) __m256d _ZGVdN4v_tanh(__m256d);

static PetscBool HaveAVX2(void)
{
  static int have = -1;
  if (have < 0) {
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  return have ? PETSC_TRUE : PETSC_FALSE;
}

/* Four lanes of each function, in the same operation order as its scalar value. */
__attribute__((target("avx2"))) static inline __m256d Sigmoid4(const RmActivation *act, __m256d s)
{
  const __m256d t = _mm256_sub_pd(_mm256_sub_pd(s, _mm256_set1_pd(act->threshold)), _mm256_set1_pd(0.5 / act->gain));
  const __m256d e = _ZGVdN4v_exp(_mm256_mul_pd(_mm256_set1_pd(-4.0 * act->gain), t));
  return _mm256_div_pd(_mm256_set1_pd(1.0), _mm256_add_pd(_mm256_set1_pd(1.0), e));
}

__attribute__((target("avx2"))) static inline __m256d RecTanh4(const RmActivation *act, __m256d s)
{
  const __m256d thr  = _mm256_set1_pd(act->threshold);
  const __m256d th   = _ZGVdN4v_tanh(_mm256_mul_pd(_mm256_set1_pd(act->gain), _mm256_sub_pd(s, thr)));
  const __m256d keep = _mm256_cmp_pd(s, thr, _CMP_GE_OQ);
  return _mm256_and_pd(th, keep);
}

__attribute__((target("avx2"))) static inline __m256d Tanh4(const RmActivation *act, __m256d s)
{
  return _ZGVdN4v_tanh(_mm256_mul_pd(_mm256_set1_pd(act->gain), s));
}

  /* out[i] = F4(s[i] + shift), four at a time; the tail padded into a full vector. */
  #define RM_ARRAY_AVX2(F4) \
    do { \
      const __m256d sh = _mm256_set1_pd(shift); \
      PetscInt      i  = 0; \
      for (; i + 4 <= n; i += 4) _mm256_storeu_pd(out + i, F4(act, _mm256_add_pd(_mm256_loadu_pd(s + i), sh))); \
      if (i < n) { \
        double pad[4] = {0, 0, 0, 0}; \
        for (PetscInt k = 0; i + k < n; k++) pad[k] = s[i + k]; \
        _mm256_storeu_pd(pad, F4(act, _mm256_add_pd(_mm256_loadu_pd(pad), sh))); \
        for (PetscInt k = 0; i + k < n; k++) out[i + k] = pad[k]; \
      } \
    } while (0)

__attribute__((target("avx2"))) static void SigmoidArrayAVX2(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out)
{
  RM_ARRAY_AVX2(Sigmoid4);
}
__attribute__((target("avx2"))) static void RecTanhArrayAVX2(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out)
{
  RM_ARRAY_AVX2(RecTanh4);
}
__attribute__((target("avx2"))) static void TanhArrayAVX2(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out)
{
  RM_ARRAY_AVX2(Tanh4);
}
  #undef RM_ARRAY_AVX2
  #define RM_ARRAY(NAME, VALUE) \
    static void NAME##Array(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out) \
    { \
      if (HaveAVX2()) NAME##ArrayAVX2(act, n, s, shift, out); \
      else \
        for (PetscInt i = 0; i < n; i++) out[i] = VALUE(act, s[i] + shift); \
    }
#else
static PetscBool HaveAVX2(void) { return PETSC_FALSE; }
  #define RM_ARRAY(NAME, VALUE) \
    static void NAME##Array(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out) \
    { \
      for (PetscInt i = 0; i < n; i++) out[i] = VALUE(act, s[i] + shift); \
    }
#endif
RM_ARRAY(Sigmoid, SigmoidValue)
RM_ARRAY(RecTanh, RecTanhValue)
RM_ARRAY(Tanh, TanhValue)
#undef RM_ARRAY

/* The derivatives on arrays: the scalar functions in loops of their own, so that they inline (the
   Jacobian set-up's loop over neurons would otherwise make one indirect call per neuron: measured
   +45% set-up time at n = 2·10⁵). */
#define RM_DERIVATIVE_ARRAY(NAME, DERIVATIVE) \
  static void NAME##DerivativeArray(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out) \
  { \
    const RmActivation a = *act; /* a local copy: the stores to out cannot alias it, so gain stays in a register */ \
    for (PetscInt i = 0; i < n; i++) out[i] = DERIVATIVE(&a, s[i] + shift); \
  }
#define RM_DERIVATIVE_FROM_VALUE_ARRAY(NAME, FROM_VALUE) \
  static void NAME##DerivativeFromValueArray(const RmActivation *act, PetscInt n, const PetscScalar *p, PetscScalar *dp) \
  { \
    const RmActivation a = *act; \
    for (PetscInt i = 0; i < n; i++) dp[i] = FROM_VALUE(&a, p[i]); \
  }
RM_DERIVATIVE_ARRAY(Sigmoid, SigmoidDerivative)
RM_DERIVATIVE_ARRAY(RecTanh, RecTanhDerivative)
RM_DERIVATIVE_ARRAY(Tanh, TanhDerivative)
RM_DERIVATIVE_FROM_VALUE_ARRAY(Sigmoid, SigmoidDerivativeFromValue)
#undef RM_DERIVATIVE_ARRAY
#undef RM_DERIVATIVE_FROM_VALUE_ARRAY

/* ---------------------------------------------------------------- the table */
const RmActivationFunction RmActivationFunctions[] = {
  {RMACTIVATIONSIGMOID, SigmoidValue, SigmoidArray, SigmoidDerivative, SigmoidDerivativeArray, SigmoidDerivativeFromValue, SigmoidDerivativeFromValueArray, PETSC_TRUE, 0.2},
  {RMACTIVATIONRECTANH, RecTanhValue, RecTanhArray, RecTanhDerivative, RecTanhDerivativeArray, NULL, NULL, PETSC_TRUE, 0.75}, /* the authors' x* for the rectified tanh */
  {RMACTIVATIONTANH, TanhValue, TanhArray, TanhDerivative, TanhDerivativeArray, NULL, NULL, PETSC_FALSE, 0.0},
  {NULL, NULL, NULL, NULL, NULL, NULL, NULL, PETSC_FALSE, 0.0},
};

const char *RmActivationNames(void)
{
  static char names[256] = "";
  if (!names[0])
    for (const RmActivationFunction *f = RmActivationFunctions; f->name; f++) {
      if (f != RmActivationFunctions) (void)PetscStrlcat(names, ", ", sizeof(names));
      (void)PetscStrlcat(names, f->name, sizeof(names));
    }
  return names;
}

PetscErrorCode RmActivationFind(MPI_Comm comm, const char name[], const RmActivationFunction **fn)
{
  PetscBool same = PETSC_FALSE;

  PetscFunctionBeginUser;
  *fn = NULL;
  for (const RmActivationFunction *f = RmActivationFunctions; f->name && !same; f++) {
    PetscCall(PetscStrcasecmp(f->name, name, &same));
    if (same) *fn = f;
  }
  PetscCheck(*fn, comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown activation '%s' (known: %s)", name, RmActivationNames());
  PetscFunctionReturn(PETSC_SUCCESS);
}

const char *RmActivationKernel(void) { return HaveAVX2() ? "avx2-libmvec" : "scalar-libm"; }
