/* The native N_Vector of CVODE and ARKODE (-integrator_nvector native, the default): ratemem's own,
   over the local array of a PETSc Vec. Why not NVECTOR_PETSC: each of its operations is a PETSc call
   (VecAXPBYPCZ, VecMAXPY, ...) and its vector-array operations are loops over one vector at a time,
   so a linear combination of k vectors passes over the memory up to k times; at n = 10^6 every
   pass costs about as much as a weight product's share of a step (docs/benchmark.md "Integrator
   vector work"). Here every operation is one pass over memory:

     - the fused operations are native: N_VLinearCombination reads its k vectors block by block and
       writes z once, N_VScaleAddMulti reads x once for all k sums, N_VDotProdMulti reads x once and
       reduces its k dot products with one MPI_Allreduce;
     - the vector-array norms (N_VWrmsNormVectorArray, ...) reduce the whole group at once;
     - the "local" reductions (N_VDotProdLocal, N_VWSqrSumLocal, ..., N_VDotProdMultiLocal and
       N_VDotProdMultiAllReduce) let SUNDIALS batch its reductions;
     - sums use 8 partial sums, so the loop is vectorised (the rounding differs from a sequential sum
       in the last bits, as BLAS's does).

   Blocks of RM_NV_BLOCK entries stay in L1 while the k vectors of a fused operation are read, so an
   output may alias an input (CVODE updates its history in place).

   Each vector keeps a PETSc Vec over the same memory, for the RHS, J·v, preconditioner and Newton
   callbacks (RmNVectorGetVec_Private): the vector made from the integrator's state Vec borrows its
   array (VecGetArray until N_VDestroy; the Vec's layout is fixed, so the pointer stays valid), and a
   clone is a VecDuplicate of it, borrowed the same way. Every operation that writes a vector
   increases its Vec's state, so PETSc never reuses a cached norm of an older value. Every operation
   is logged in the event RmIntegVec and counted (nvlog.c). */
#include "integrateimpl.h"
#include <nvector/nvector_petsc.h>
#include <string.h>

#define RM_NV_BLOCK 256 /* entries per block of a fused operation: 2 KB per vector */
#define RM_NV_STACK 32  /* vectors of a fused operation whose pointers fit on the stack */

typedef struct {
  Vec          vec; /* the PETSc Vec over a, for the callbacks */
  PetscScalar *a;   /* its local array, borrowed from vec (VecGetArray) until N_VDestroy */
  PetscInt     n;   /* local length */
  PetscInt     N;   /* global length */
  MPI_Comm     comm;
} RmNVContent;

#define NV(v)       ((RmNVContent *)(v)->content)
#define ARR(v)      (NV(v)->a)
#define LEN(v)      (NV(v)->n)
#define WROTE(v)    Wrote(NV(v)->vec)
#define BEGIN       RmNVLogBegin_Private()
#define END(op, np) RmNVLogEnd_Private(op, np)

static PetscErrorCode CreateFromVec(Vec vec, SUNContext sunctx, N_Vector tmpl, N_Vector *nv);

/* The array of vec was written: a balanced get/restore increases its state (PETSc's public way; the
   pointer is the one held already). */
static inline void Wrote(Vec vec)
{
  PetscScalar *a;
  (void)VecGetArray(vec, &a);
  (void)VecRestoreArray(vec, &a);
}

/* ---------------------------------------------------------------- kernels (local, no logging) */
/* sum over i of the 8 partial sums: s[i % 8] collects the entries i, vectorisable without reassociation */
#define RM_NV_REDUCE(n, init, expr, result) \
  do { \
    PetscReal s_[8] = {init, init, init, init, init, init, init, init}, r_ = init; \
    PetscInt  m_    = (n) - (n) % 8, i; \
    for (PetscInt b_ = 0; b_ < m_; b_ += 8) \
      for (int l_ = 0; l_ < 8; l_++) { \
        i = b_ + l_; \
        s_[l_] += (expr); \
      } \
    for (i = m_; i < (n); i++) r_ += (expr); \
    result = ((s_[0] + s_[1]) + (s_[2] + s_[3])) + ((s_[4] + s_[5]) + (s_[6] + s_[7])) + r_; \
  } while (0)

static PetscReal KDot(PetscInt n, const PetscScalar *x, const PetscScalar *y)
{
  PetscReal s;
  RM_NV_REDUCE(n, 0.0, x[i] * y[i], s);
  return s;
}

static PetscReal KWSqrSum(PetscInt n, const PetscScalar *x, const PetscScalar *w)
{
  PetscReal s;
  RM_NV_REDUCE(n, 0.0, (x[i] * w[i]) * (x[i] * w[i]), s);
  return s;
}

static PetscReal KWSqrSumMask(PetscInt n, const PetscScalar *x, const PetscScalar *w, const PetscScalar *id)
{
  PetscReal s;
  RM_NV_REDUCE(n, 0.0, id[i] > 0 ? (x[i] * w[i]) * (x[i] * w[i]) : 0.0, s);
  return s;
}

static PetscReal KMaxAbs(PetscInt n, const PetscScalar *x)
{
  PetscReal m = 0;
  for (PetscInt i = 0; i < n; i++) m = PetscMax(m, PetscAbsScalar(x[i]));
  return m;
}

/* z = sum_j c[j] x[j], j < k: one pass (a block of the k inputs, then the block of z) */
static void KLinComb(PetscInt n, int k, const PetscReal *c, const PetscScalar *const *x, PetscScalar *z)
{
  PetscScalar t[RM_NV_BLOCK];
  for (PetscInt b = 0; b < n; b += RM_NV_BLOCK) {
    const PetscInt m = PetscMin(RM_NV_BLOCK, n - b);
    const PetscScalar *x0 = x[0] + b;
    for (PetscInt i = 0; i < m; i++) t[i] = c[0] * x0[i];
    for (int j = 1; j < k; j++) {
      const PetscScalar *xj = x[j] + b;
      const PetscReal    cj = c[j];
      for (PetscInt i = 0; i < m; i++) t[i] += cj * xj[i];
    }
    memcpy(z + b, t, (size_t)m * sizeof(*t));
  }
}

/* z[j] = a[j] x + y[j], j < k: x read once (its block copied first: a z[j] may be x) */
static void KScaleAddMulti(PetscInt n, int k, const PetscReal *a, const PetscScalar *x, const PetscScalar *const *y, PetscScalar *const *z)
{
  PetscScalar t[RM_NV_BLOCK];
  for (PetscInt b = 0; b < n; b += RM_NV_BLOCK) {
    const PetscInt m = PetscMin(RM_NV_BLOCK, n - b);
    memcpy(t, x + b, (size_t)m * sizeof(*t));
    for (int j = 0; j < k; j++) {
      const PetscScalar *yj = y[j] + b;
      PetscScalar       *zj = z[j] + b;
      const PetscReal    aj = a[j];
      for (PetscInt i = 0; i < m; i++) zj[i] = aj * t[i] + yj[i];
    }
  }
}

/* d[j] = x·y[j] (local), j < k: x read once; each sum over i in the order of KDot */
static void KDotMulti(PetscInt n, int k, const PetscScalar *x, const PetscScalar *const *y, PetscReal *d)
{
  if (k == 1) {
    d[0] = KDot(n, x, y[0]);
    return;
  }
  /* 8 partial sums per product, kept across the blocks: the same rounding as KDot, vector by vector */
  PetscReal s[RM_NV_STACK][8], *sp = &s[0][0], *heap = NULL;
  PetscReal r[RM_NV_STACK], *rp = r;
  PetscInt  m8 = n - n % 8;
  if (k > RM_NV_STACK) {
    if (PetscMalloc1((size_t)k * 9, &heap)) {
      for (int j = 0; j < k; j++) d[j] = KDot(n, x, y[j]);
      return;
    }
    sp = heap, rp = heap + 8 * k;
  }
  for (int j = 0; j < k; j++) {
    rp[j] = 0;
    for (int l = 0; l < 8; l++) sp[8 * j + l] = 0;
  }
  for (PetscInt b = 0; b < m8; b += RM_NV_BLOCK) {
    const PetscInt e = PetscMin(m8, b + RM_NV_BLOCK);
    for (int j = 0; j < k; j++) {
      const PetscScalar *yj = y[j];
      PetscReal         *sj = sp + 8 * j;
      for (PetscInt i = b; i < e; i += 8)
        for (int l = 0; l < 8; l++) sj[l] += x[i + l] * yj[i + l];
    }
  }
  for (int j = 0; j < k; j++) {
    const PetscReal *sj = sp + 8 * j;
    for (PetscInt i = m8; i < n; i++) rp[j] += x[i] * y[j][i];
    d[j] = ((sj[0] + sj[1]) + (sj[2] + sj[3])) + ((sj[4] + sj[5]) + (sj[6] + sj[7])) + rp[j];
  }
  (void)PetscFree(heap);
}

static void AllSum(MPI_Comm comm, PetscReal *v, int k)
{
  PetscMPIInt size;
  MPI_Comm_size(comm, &size);
  if (size > 1) MPI_Allreduce(MPI_IN_PLACE, v, k, MPIU_REAL, MPI_SUM, comm);
}

static PetscReal AllOp(MPI_Comm comm, PetscReal v, MPI_Op op)
{
  PetscMPIInt size;
  MPI_Comm_size(comm, &size);
  if (size > 1) MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPIU_REAL, op, comm);
  return v;
}

/* The raw arrays of k N_Vectors, on the stack or (k > RM_NV_STACK) on the heap. */
typedef struct {
  PetscScalar *stack[RM_NV_STACK], **p;
} RmNVArrays;

static int GetArrays(int k, N_Vector *X, RmNVArrays *A)
{
  A->p = A->stack;
  if (k > RM_NV_STACK && PetscMalloc1(k, &A->p)) return -1;
  for (int j = 0; j < k; j++) A->p[j] = ARR(X[j]);
  return 0;
}

static void RestoreArrays(RmNVArrays *A)
{
  if (A->p != A->stack) (void)PetscFree(A->p);
}

/* ---------------------------------------------------------------- required operations */
static N_Vector_ID GetVectorID(N_Vector v) { return SUNDIALS_NVEC_CUSTOM; }

static void Destroy(N_Vector v)
{
  if (!v) return;
  if (v->content) {
    RmNVContent *c = NV(v);
    if (c->vec) {
      (void)VecRestoreArray(c->vec, &c->a);
      (void)VecDestroy(&c->vec);
    }
    (void)PetscFree(v->content);
  }
  N_VFreeEmpty(v);
}

static N_Vector Clone(N_Vector w)
{
  Vec      dup = NULL;
  N_Vector v   = NULL;

  if (VecDuplicate(NV(w)->vec, &dup)) return NULL; /* zeroed, same layout and type */
  if (CreateFromVec(dup, w->sunctx, w, &v)) {
    Destroy(v);
    v = NULL;
  }
  (void)VecDestroy(&dup); /* v holds its own reference */
  return v;
}

static void Space(N_Vector v, sunindextype *lrw, sunindextype *liw)
{
  *lrw = (sunindextype)NV(v)->N;
  *liw = 2;
}

static realtype    *GetArrayPointer(N_Vector v) { return ARR(v); }
static void        *GetCommunicator(N_Vector v) { return &NV(v)->comm; }
static sunindextype GetLength(N_Vector v) { return (sunindextype)NV(v)->N; }
static sunindextype GetLocalLength(N_Vector v) { return (sunindextype)NV(v)->n; }

static void LinearSum(realtype a, N_Vector x, realtype b, N_Vector y, N_Vector z)
{
  const PetscScalar *xa = ARR(x), *ya = ARR(y);
  PetscScalar       *za = ARR(z);
  const PetscInt     n  = LEN(z);
  BEGIN;
  for (PetscInt i = 0; i < n; i++) za[i] = a * xa[i] + b * ya[i];
  WROTE(z);
  END(RM_NVOP_LINEARSUM, 3);
}

static void Const(realtype c, N_Vector z)
{
  PetscScalar   *za = ARR(z);
  const PetscInt n  = LEN(z);
  BEGIN;
  for (PetscInt i = 0; i < n; i++) za[i] = c;
  WROTE(z);
  END(RM_NVOP_CONST, 1);
}

static void Prod(N_Vector x, N_Vector y, N_Vector z)
{
  const PetscScalar *xa = ARR(x), *ya = ARR(y);
  PetscScalar       *za = ARR(z);
  const PetscInt     n  = LEN(z);
  BEGIN;
  for (PetscInt i = 0; i < n; i++) za[i] = xa[i] * ya[i];
  WROTE(z);
  END(RM_NVOP_PROD, 3);
}

static void Div(N_Vector x, N_Vector y, N_Vector z)
{
  const PetscScalar *xa = ARR(x), *ya = ARR(y);
  PetscScalar       *za = ARR(z);
  const PetscInt     n  = LEN(z);
  BEGIN;
  for (PetscInt i = 0; i < n; i++) za[i] = xa[i] / ya[i];
  WROTE(z);
  END(RM_NVOP_DIV, 3);
}

static void Scale(realtype c, N_Vector x, N_Vector z)
{
  const PetscScalar *xa = ARR(x);
  PetscScalar       *za = ARR(z);
  const PetscInt     n  = LEN(z);
  BEGIN;
  if (c == 1.0) {
    if (za != xa) memcpy(za, xa, (size_t)n * sizeof(*za));
  } else
    for (PetscInt i = 0; i < n; i++) za[i] = c * xa[i];
  WROTE(z);
  END(RM_NVOP_SCALE, 2);
}

static void Abs(N_Vector x, N_Vector z)
{
  const PetscScalar *xa = ARR(x);
  PetscScalar       *za = ARR(z);
  const PetscInt     n  = LEN(z);
  BEGIN;
  for (PetscInt i = 0; i < n; i++) za[i] = PetscAbsScalar(xa[i]);
  WROTE(z);
  END(RM_NVOP_ABS, 2);
}

static void Inv(N_Vector x, N_Vector z)
{
  const PetscScalar *xa = ARR(x);
  PetscScalar       *za = ARR(z);
  const PetscInt     n  = LEN(z);
  BEGIN;
  for (PetscInt i = 0; i < n; i++) za[i] = 1.0 / xa[i];
  WROTE(z);
  END(RM_NVOP_INV, 2);
}

static void AddConst(N_Vector x, realtype b, N_Vector z)
{
  const PetscScalar *xa = ARR(x);
  PetscScalar       *za = ARR(z);
  const PetscInt     n  = LEN(z);
  BEGIN;
  for (PetscInt i = 0; i < n; i++) za[i] = xa[i] + b;
  WROTE(z);
  END(RM_NVOP_ADDCONST, 2);
}

static realtype DotProdLocal(N_Vector x, N_Vector y)
{
  PetscReal s;
  BEGIN;
  s = KDot(LEN(x), ARR(x), ARR(y));
  END(RM_NVOP_DOTPRODLOCAL, 2);
  return s;
}

static realtype DotProd(N_Vector x, N_Vector y)
{
  PetscReal s;
  BEGIN;
  s = KDot(LEN(x), ARR(x), ARR(y));
  AllSum(NV(x)->comm, &s, 1);
  END(RM_NVOP_DOTPROD, 2);
  return s;
}

static realtype MaxNormLocal(N_Vector x)
{
  PetscReal m;
  BEGIN;
  m = KMaxAbs(LEN(x), ARR(x));
  END(RM_NVOP_MAXNORMLOCAL, 1);
  return m;
}

static realtype MaxNorm(N_Vector x)
{
  PetscReal m;
  BEGIN;
  m = AllOp(NV(x)->comm, KMaxAbs(LEN(x), ARR(x)), MPI_MAX);
  END(RM_NVOP_MAXNORM, 1);
  return m;
}

static realtype WSqrSumLocal(N_Vector x, N_Vector w)
{
  PetscReal s;
  BEGIN;
  s = KWSqrSum(LEN(x), ARR(x), ARR(w));
  END(RM_NVOP_WSQRSUMLOCAL, 2);
  return s;
}

static realtype WSqrSumMaskLocal(N_Vector x, N_Vector w, N_Vector id)
{
  PetscReal s;
  BEGIN;
  s = KWSqrSumMask(LEN(x), ARR(x), ARR(w), ARR(id));
  END(RM_NVOP_WSQRSUMMASKLOCAL, 3);
  return s;
}

static realtype WrmsNorm(N_Vector x, N_Vector w)
{
  PetscReal s;
  BEGIN;
  s = KWSqrSum(LEN(x), ARR(x), ARR(w));
  AllSum(NV(x)->comm, &s, 1);
  END(RM_NVOP_WRMSNORM, 2);
  return PetscSqrtReal(s / (PetscReal)NV(x)->N);
}

static realtype WrmsNormMask(N_Vector x, N_Vector w, N_Vector id)
{
  PetscReal s;
  BEGIN;
  s = KWSqrSumMask(LEN(x), ARR(x), ARR(w), ARR(id));
  AllSum(NV(x)->comm, &s, 1);
  END(RM_NVOP_WRMSNORMMASK, 3);
  return PetscSqrtReal(s / (PetscReal)NV(x)->N);
}

static realtype WL2Norm(N_Vector x, N_Vector w)
{
  PetscReal s;
  BEGIN;
  s = KWSqrSum(LEN(x), ARR(x), ARR(w));
  AllSum(NV(x)->comm, &s, 1);
  END(RM_NVOP_WL2NORM, 2);
  return PetscSqrtReal(s);
}

static PetscReal KMin(PetscInt n, const PetscScalar *x)
{
  PetscReal m = PETSC_MAX_REAL;
  for (PetscInt i = 0; i < n; i++) m = PetscMin(m, x[i]);
  return m;
}

static realtype MinLocal(N_Vector x)
{
  PetscReal m;
  BEGIN;
  m = KMin(LEN(x), ARR(x));
  END(RM_NVOP_MINLOCAL, 1);
  return m;
}

static realtype Min(N_Vector x)
{
  PetscReal m;
  BEGIN;
  m = AllOp(NV(x)->comm, KMin(LEN(x), ARR(x)), MPI_MIN);
  END(RM_NVOP_MIN, 1);
  return m;
}

static realtype L1NormLocal(N_Vector x)
{
  PetscReal s;
  BEGIN;
  RM_NV_REDUCE(LEN(x), 0.0, PetscAbsScalar(ARR(x)[i]), s);
  END(RM_NVOP_L1NORMLOCAL, 1);
  return s;
}

static realtype L1Norm(N_Vector x)
{
  PetscReal s;
  BEGIN;
  RM_NV_REDUCE(LEN(x), 0.0, PetscAbsScalar(ARR(x)[i]), s);
  AllSum(NV(x)->comm, &s, 1);
  END(RM_NVOP_L1NORM, 1);
  return s;
}

static void Compare(realtype c, N_Vector x, N_Vector z)
{
  const PetscScalar *xa = ARR(x);
  PetscScalar       *za = ARR(z);
  const PetscInt     n  = LEN(z);
  BEGIN;
  for (PetscInt i = 0; i < n; i++) za[i] = PetscAbsScalar(xa[i]) >= c ? 1.0 : 0.0;
  WROTE(z);
  END(RM_NVOP_COMPARE, 2);
}

/* z = 1/x where x != 0; whether no entry is zero (local) */
static PetscReal KInvTest(N_Vector x, N_Vector z)
{
  const PetscScalar *xa = ARR(x);
  PetscScalar       *za = ARR(z);
  PetscReal          ok = 1;
  for (PetscInt i = 0; i < LEN(z); i++) {
    if (xa[i] == 0.0) ok = 0;
    else za[i] = 1.0 / xa[i];
  }
  WROTE(z);
  return ok;
}

static booleantype InvTestLocal(N_Vector x, N_Vector z)
{
  PetscReal ok;
  BEGIN;
  ok = KInvTest(x, z);
  END(RM_NVOP_INVTESTLOCAL, 2);
  return ok > 0 ? SUNTRUE : SUNFALSE;
}

static booleantype InvTest(N_Vector x, N_Vector z)
{
  PetscReal ok;
  BEGIN;
  ok = AllOp(NV(x)->comm, KInvTest(x, z), MPI_MIN);
  END(RM_NVOP_INVTEST, 2);
  return ok > 0 ? SUNTRUE : SUNFALSE;
}

/* m_i = 1 where x_i violates the constraint c_i (SUNDIALS' convention: |c| > 1.5 means x c > 0, |c| > 0.5
   means x c >= 0); whether none is violated (local) */
static PetscReal KConstrMask(N_Vector c, N_Vector x, N_Vector m)
{
  const PetscScalar *ca = ARR(c), *xa = ARR(x);
  PetscScalar       *ma = ARR(m);
  PetscReal          ok = 1;
  for (PetscInt i = 0; i < LEN(m); i++) {
    ma[i] = 0;
    if (ca[i] == 0.0) continue;
    if ((PetscAbsScalar(ca[i]) > 1.5 && xa[i] * ca[i] <= 0) || (PetscAbsScalar(ca[i]) > 0.5 && xa[i] * ca[i] < 0)) ok = 0, ma[i] = 1;
  }
  WROTE(m);
  return ok;
}

static booleantype ConstrMaskLocal(N_Vector c, N_Vector x, N_Vector m)
{
  PetscReal ok;
  BEGIN;
  ok = KConstrMask(c, x, m);
  END(RM_NVOP_CONSTRMASKLOCAL, 3);
  return ok > 0 ? SUNTRUE : SUNFALSE;
}

static booleantype ConstrMask(N_Vector c, N_Vector x, N_Vector m)
{
  PetscReal ok;
  BEGIN;
  ok = AllOp(NV(x)->comm, KConstrMask(c, x, m), MPI_MIN);
  END(RM_NVOP_CONSTRMASK, 3);
  return ok > 0 ? SUNTRUE : SUNFALSE;
}

/* min over denom_i != 0 of num_i/denom_i (BIG_REAL if none; local) */
static PetscReal KMinQuotient(N_Vector num, N_Vector denom)
{
  const PetscScalar *na = ARR(num), *da = ARR(denom);
  PetscReal          m = BIG_REAL;
  for (PetscInt i = 0; i < LEN(num); i++)
    if (da[i] != 0.0) m = PetscMin(m, na[i] / da[i]);
  return m;
}

static realtype MinQuotientLocal(N_Vector num, N_Vector denom)
{
  PetscReal m;
  BEGIN;
  m = KMinQuotient(num, denom);
  END(RM_NVOP_MINQUOTIENTLOCAL, 2);
  return m;
}

static realtype MinQuotient(N_Vector num, N_Vector denom)
{
  PetscReal m;
  BEGIN;
  m = AllOp(NV(num)->comm, KMinQuotient(num, denom), MPI_MIN);
  END(RM_NVOP_MINQUOTIENT, 2);
  return m;
}

/* ---------------------------------------------------------------- fused operations */
static int LinearCombination(int k, realtype *c, N_Vector *X, N_Vector z)
{
  RmNVArrays A;
  if (k < 1) return -1;
  if (GetArrays(k, X, &A)) return -1;
  BEGIN;
  KLinComb(LEN(z), k, c, (const PetscScalar *const *)A.p, ARR(z));
  WROTE(z);
  END(RM_NVOP_LINEARCOMBINATION, k + 1);
  RestoreArrays(&A);
  return 0;
}

static int ScaleAddMulti(int k, realtype *a, N_Vector x, N_Vector *Y, N_Vector *Z)
{
  RmNVArrays Ya, Za;
  if (k < 1) return -1;
  if (GetArrays(k, Y, &Ya)) return -1;
  if (GetArrays(k, Z, &Za)) {
    RestoreArrays(&Ya);
    return -1;
  }
  BEGIN;
  KScaleAddMulti(LEN(x), k, a, ARR(x), (const PetscScalar *const *)Ya.p, Za.p);
  for (int j = 0; j < k; j++) WROTE(Z[j]);
  END(RM_NVOP_SCALEADDMULTI, 2 * k + 1);
  RestoreArrays(&Za);
  RestoreArrays(&Ya);
  return 0;
}

static int DotProdMultiLocal(int k, N_Vector x, N_Vector *Y, realtype *d)
{
  RmNVArrays A;
  if (k < 1) return -1;
  if (GetArrays(k, Y, &A)) return -1;
  BEGIN;
  KDotMulti(LEN(x), k, ARR(x), (const PetscScalar *const *)A.p, d);
  END(RM_NVOP_DOTPRODMULTILOCAL, k + 1);
  RestoreArrays(&A);
  return 0;
}

static int DotProdMultiAllReduce(int k, N_Vector x, realtype *d)
{
  BEGIN;
  AllSum(NV(x)->comm, d, k);
  END(RM_NVOP_DOTPRODMULTIALLREDUCE, 0);
  return 0;
}

static int DotProdMulti(int k, N_Vector x, N_Vector *Y, realtype *d)
{
  RmNVArrays A;
  if (k < 1) return -1;
  if (GetArrays(k, Y, &A)) return -1;
  BEGIN;
  KDotMulti(LEN(x), k, ARR(x), (const PetscScalar *const *)A.p, d);
  AllSum(NV(x)->comm, d, k); /* one reduction for the group */
  END(RM_NVOP_DOTPRODMULTI, k + 1);
  RestoreArrays(&A);
  return 0;
}

/* ---------------------------------------------------------------- vector-array operations */
static int LinearSumVectorArray(int k, realtype a, N_Vector *X, realtype b, N_Vector *Y, N_Vector *Z)
{
  BEGIN;
  for (int j = 0; j < k; j++) {
    const PetscScalar *xa = ARR(X[j]), *ya = ARR(Y[j]);
    PetscScalar       *za = ARR(Z[j]);
    for (PetscInt i = 0; i < LEN(Z[j]); i++) za[i] = a * xa[i] + b * ya[i];
    WROTE(Z[j]);
  }
  END(RM_NVOP_LINEARSUMVECTORARRAY, 3 * k);
  return 0;
}

static int ScaleVectorArray(int k, realtype *c, N_Vector *X, N_Vector *Z)
{
  BEGIN;
  for (int j = 0; j < k; j++) {
    const PetscScalar *xa = ARR(X[j]);
    PetscScalar       *za = ARR(Z[j]);
    for (PetscInt i = 0; i < LEN(Z[j]); i++) za[i] = c[j] * xa[i];
    WROTE(Z[j]);
  }
  END(RM_NVOP_SCALEVECTORARRAY, 2 * k);
  return 0;
}

static int ConstVectorArray(int k, realtype c, N_Vector *Z)
{
  BEGIN;
  for (int j = 0; j < k; j++) {
    PetscScalar *za = ARR(Z[j]);
    for (PetscInt i = 0; i < LEN(Z[j]); i++) za[i] = c;
    WROTE(Z[j]);
  }
  END(RM_NVOP_CONSTVECTORARRAY, k);
  return 0;
}

static int WrmsNormVectorArray(int k, N_Vector *X, N_Vector *W, realtype *nrm)
{
  BEGIN;
  for (int j = 0; j < k; j++) nrm[j] = KWSqrSum(LEN(X[j]), ARR(X[j]), ARR(W[j]));
  if (k > 0) AllSum(NV(X[0])->comm, nrm, k); /* one reduction for the group */
  for (int j = 0; j < k; j++) nrm[j] = PetscSqrtReal(nrm[j] / (PetscReal)NV(X[j])->N);
  END(RM_NVOP_WRMSNORMVECTORARRAY, 2 * k);
  return 0;
}

static int WrmsNormMaskVectorArray(int k, N_Vector *X, N_Vector *W, N_Vector id, realtype *nrm)
{
  BEGIN;
  for (int j = 0; j < k; j++) nrm[j] = KWSqrSumMask(LEN(X[j]), ARR(X[j]), ARR(W[j]), ARR(id));
  if (k > 0) AllSum(NV(X[0])->comm, nrm, k);
  for (int j = 0; j < k; j++) nrm[j] = PetscSqrtReal(nrm[j] / (PetscReal)NV(X[j])->N);
  END(RM_NVOP_WRMSNORMMASKVECTORARRAY, 2 * k + 1);
  return 0;
}

/* Z[j][i] = a[j] X[i] + Y[j][i]: for each i one ScaleAddMulti pass */
static int ScaleAddMultiVectorArray(int nvec, int nsum, realtype *a, N_Vector *X, N_Vector **Y, N_Vector **Z)
{
  PetscScalar *ys[RM_NV_STACK], *zs[RM_NV_STACK];
  if (nsum < 1 || nsum > RM_NV_STACK) return -1;
  BEGIN;
  for (int i = 0; i < nvec; i++) {
    for (int j = 0; j < nsum; j++) ys[j] = ARR(Y[j][i]), zs[j] = ARR(Z[j][i]);
    KScaleAddMulti(LEN(X[i]), nsum, a, ARR(X[i]), (const PetscScalar *const *)ys, zs);
    for (int j = 0; j < nsum; j++) WROTE(Z[j][i]);
  }
  END(RM_NVOP_SCALEADDMULTIVECTORARRAY, nvec * (2 * nsum + 1));
  return 0;
}

/* Z[i] = sum_j c[j] X[j][i]: for each i one LinearCombination pass */
static int LinearCombinationVectorArray(int nvec, int nsum, realtype *c, N_Vector **X, N_Vector *Z)
{
  PetscScalar *xs[RM_NV_STACK];
  if (nsum < 1 || nsum > RM_NV_STACK) return -1;
  BEGIN;
  for (int i = 0; i < nvec; i++) {
    for (int j = 0; j < nsum; j++) xs[j] = ARR(X[j][i]);
    KLinComb(LEN(Z[i]), nsum, c, (const PetscScalar *const *)xs, ARR(Z[i]));
    WROTE(Z[i]);
  }
  END(RM_NVOP_LINEARCOMBINATIONVECTORARRAY, nvec * (nsum + 1));
  return 0;
}

/* ---------------------------------------------------------------- construction */
/* A native vector over vec's array, with the ops of tmpl (NULL: none yet) */
static PetscErrorCode CreateFromVec(Vec vec, SUNContext sunctx, N_Vector tmpl, N_Vector *nv)
{
  RmNVContent *c;
  N_Vector     v;

  PetscFunctionBeginUser;
  *nv = NULL;
  v   = N_VNewEmpty(sunctx);
  PetscCheck(v, PetscObjectComm((PetscObject)vec), PETSC_ERR_MEM, "N_VNewEmpty failed");
  if (tmpl && N_VCopyOps(tmpl, v)) {
    N_VFreeEmpty(v);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "N_VCopyOps failed");
  }
  *nv = v; /* from here on N_VDestroy frees what exists */
  PetscCall(PetscNew(&c));
  v->content = c;
  PetscCall(PetscObjectReference((PetscObject)vec));
  c->vec  = vec;
  c->comm = PetscObjectComm((PetscObject)vec);
  PetscCall(VecGetLocalSize(vec, &c->n));
  PetscCall(VecGetSize(vec, &c->N));
  PetscCall(VecGetArray(vec, &c->a)); /* borrowed until Destroy */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmNVectorCreateNative_Private(Vec vec, SUNContext sunctx, PetscBool fused, N_Vector *nv)
{
  N_Vector v;

  PetscFunctionBeginUser;
  *nv = NULL;
  PetscCall(CreateFromVec(vec, sunctx, NULL, &v));
  v->ops->nvgetvectorid     = GetVectorID;
  v->ops->nvclone           = Clone;
  v->ops->nvdestroy         = Destroy;
  v->ops->nvspace           = Space;
  v->ops->nvgetarraypointer = GetArrayPointer;
  v->ops->nvgetcommunicator = GetCommunicator;
  v->ops->nvgetlength       = GetLength;
  v->ops->nvgetlocallength  = GetLocalLength;
  v->ops->nvlinearsum       = LinearSum;
  v->ops->nvconst           = Const;
  v->ops->nvprod            = Prod;
  v->ops->nvdiv             = Div;
  v->ops->nvscale           = Scale;
  v->ops->nvabs             = Abs;
  v->ops->nvinv             = Inv;
  v->ops->nvaddconst        = AddConst;
  v->ops->nvdotprod         = DotProd;
  v->ops->nvmaxnorm         = MaxNorm;
  v->ops->nvwrmsnorm        = WrmsNorm;
  v->ops->nvwrmsnormmask    = WrmsNormMask;
  v->ops->nvmin             = Min;
  v->ops->nvwl2norm         = WL2Norm;
  v->ops->nvl1norm          = L1Norm;
  v->ops->nvcompare         = Compare;
  v->ops->nvinvtest         = InvTest;
  v->ops->nvconstrmask      = ConstrMask;
  v->ops->nvminquotient     = MinQuotient;
  /* the local reductions, so that SUNDIALS can batch its reductions */
  v->ops->nvdotprodlocal          = DotProdLocal;
  v->ops->nvmaxnormlocal          = MaxNormLocal;
  v->ops->nvminlocal              = MinLocal;
  v->ops->nvl1normlocal           = L1NormLocal;
  v->ops->nvinvtestlocal          = InvTestLocal;
  v->ops->nvconstrmasklocal       = ConstrMaskLocal;
  v->ops->nvminquotientlocal      = MinQuotientLocal;
  v->ops->nvwsqrsumlocal          = WSqrSumLocal;
  v->ops->nvwsqrsummasklocal      = WSqrSumMaskLocal;
  v->ops->nvdotprodmultilocal     = DotProdMultiLocal;
  v->ops->nvdotprodmultiallreduce = DotProdMultiAllReduce;
  if (fused) { /* else SUNDIALS composes them of the single operations above */
    v->ops->nvlinearcombination            = LinearCombination;
    v->ops->nvscaleaddmulti                = ScaleAddMulti;
    v->ops->nvdotprodmulti                 = DotProdMulti;
    v->ops->nvlinearsumvectorarray         = LinearSumVectorArray;
    v->ops->nvscalevectorarray             = ScaleVectorArray;
    v->ops->nvconstvectorarray             = ConstVectorArray;
    v->ops->nvwrmsnormvectorarray          = WrmsNormVectorArray;
    v->ops->nvwrmsnormmaskvectorarray      = WrmsNormMaskVectorArray;
    v->ops->nvscaleaddmultivectorarray     = ScaleAddMultiVectorArray;
    v->ops->nvlinearcombinationvectorarray = LinearCombinationVectorArray;
  }
  *nv = v;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscBool RmNVectorIsNative_Private(N_Vector v) { return (PetscBool)(v && v->ops && v->ops->nvclone == Clone); }

Vec RmNVectorGetVec_Private(N_Vector v) { return RmNVectorIsNative_Private(v) ? NV(v)->vec : N_VGetVector_Petsc(v); }
