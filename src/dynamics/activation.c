/* The activation applied to a whole local array: out[i] = φ(s[i] + shift) (docs/model.md §3).

   Why a separate array routine: with the weight product at memory or popcount speed (low-rank
   storage reads 2P/8 bytes per neuron), the scalar libm exp/tanh per neuron cost about 10 ns and
   made an RHS evaluation 1.4× a weight product. Here the AVX2 variants of glibc's libmvec
   (_ZGVdN4v_exp, _ZGVdN4v_tanh; ≤ 4 ulp) evaluate four neurons at once, with the activation type
   switched once per array instead of once per neuron.

   Rank independence: every element goes through the same vector routine, including the last
   (n mod 4) ones, which are padded into a full vector. So φ of a given input is the same bits
   whatever position the neuron has in its rank's local array. */
#include <ratemem/dynamics.h>

#if defined(RM_HAVE_LIBMVEC) && defined(__x86_64__) && defined(__GNUC__)
  #include <immintrin.h>

__attribute__((target("avx2"))) __m256d _ZGVdN4v_exp(__m256d);
__attribute__((target("avx2"))) __m256d _ZGVdN4v_tanh(__m256d);

__attribute__((target("avx2"))) static inline __m256d Eval4(const RmActivation *act, __m256d s)
{
  const __m256d g = _mm256_set1_pd(act->gain), thr = _mm256_set1_pd(act->threshold);
  switch (act->type) {
  case RM_ACTIVATION_SIGMOID: { /* same operation order as RmActivationEval */
    const __m256d t = _mm256_sub_pd(_mm256_sub_pd(s, thr), _mm256_set1_pd(0.5 / act->gain));
    const __m256d e = _ZGVdN4v_exp(_mm256_mul_pd(_mm256_set1_pd(-4.0 * act->gain), t));
    return _mm256_div_pd(_mm256_set1_pd(1.0), _mm256_add_pd(_mm256_set1_pd(1.0), e));
  }
  case RM_ACTIVATION_RECTANH: {
    const __m256d th   = _ZGVdN4v_tanh(_mm256_mul_pd(g, _mm256_sub_pd(s, thr)));
    const __m256d keep = _mm256_cmp_pd(s, thr, _CMP_GE_OQ);
    return _mm256_and_pd(th, keep);
  }
  default:
    return _ZGVdN4v_tanh(_mm256_mul_pd(g, s));
  }
}

__attribute__((target("avx2"))) static void EvalArrayAVX2(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out)
{
  const __m256d sh = _mm256_set1_pd(shift);
  PetscInt      i  = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(out + i, Eval4(act, _mm256_add_pd(_mm256_loadu_pd(s + i), sh)));
  if (i < n) {
    double pad[4] = {0, 0, 0, 0};
    for (PetscInt k = 0; i + k < n; k++) pad[k] = s[i + k];
    _mm256_storeu_pd(pad, Eval4(act, _mm256_add_pd(_mm256_loadu_pd(pad), sh)));
    for (PetscInt k = 0; i + k < n; k++) out[i + k] = pad[k];
  }
}

static PetscBool HaveAVX2(void)
{
  static int have = -1;
  if (have < 0) {
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  return have ? PETSC_TRUE : PETSC_FALSE;
}
#else
static PetscBool HaveAVX2(void) { return PETSC_FALSE; }
static void      EvalArrayAVX2(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out) { }
#endif

void RmActivationEvalArray(const RmActivation *act, PetscInt n, const PetscScalar *s, PetscReal shift, PetscScalar *out)
{
  if (HaveAVX2()) {
    EvalArrayAVX2(act, n, s, shift, out);
    return;
  }
  for (PetscInt i = 0; i < n; i++) out[i] = RmActivationEval(act, s[i] + shift);
}

const char *RmActivationKernel(void) { return HaveAVX2() ? "avx2-libmvec" : "scalar-libm"; }
