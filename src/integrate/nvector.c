/* The native N_Vector of CVODE and ARKODE (-integrator_nvector native, the default): ratemem's own,
   over the local array of a PETSc Vec. Why not NVECTOR_PETSC: each of its operations is a PETSc call
   (VecAXPBYPCZ, VecMAXPY, ...) and its vector-array operations are loops over one vector at a time,
   so a linear combination of k vectors passes over the memory up to k times; at n = 10^6 every
   pass costs about as much as a weight product's share of a step (docs/benchmark.md "Integrator
   vector work"). Here every operation is one pass over memory:

     - the elementwise operations are deferred and run together, block by block, when a value is
       needed (see "deferred elementwise operations" below): CVODE's predictor, its copies and the
       Newton iterate become one pass over the vectors they touch;
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

/* ---------------------------------------------------------------- deferred elementwise operations
   An operation that only writes (z_i from the i-th entries of its inputs: LinearSum, Scale, Const,
   LinearCombination, ScaleAddMulti, ...) is not done at once but queued; the queue is run block by
   block, every queued operation on one block of RM_NV_BLOCK entries before the next block, when
   anything needs the values: a reduction, a callback's Vec (RmNVectorGetVec_Private), the array
   pointer, N_VDestroy, or RmNVectorFlush_Private (after every SUNDIALS call, cvode.c, erk.c). Each
   entry i sees the same operations in the same order, so the result is the one of running them
   one after the other, bit for bit; but an array touched by several of them is read and written once
   per pass instead of once per operation. Why: CVODE's predictor is q(q+1)/2 calls of
   zn[j-1] += zn[j] (15 passes over 3 vectors at order 5), then a copy, a constant and the Newton
   iterate's y = zn[0] + ycor before the RHS reads y; queued, they are one pass over the q+3 vectors. */
typedef enum { OP_LINEARSUM, OP_CONST, OP_PROD, OP_DIV, OP_SCALE, OP_ABS, OP_INV, OP_ADDCONST, OP_COMPARE, OP_LINCOMB, OP_SCALEADDMULTI } OpKind;

typedef struct {
  OpKind             kind;
  int                k;                  /* vectors of a fused operation */
  PetscReal          c[RM_NV_STACK];     /* its coefficients (copied: SUNDIALS reuses its arrays) */
  const PetscScalar *x[RM_NV_STACK];     /* inputs */
  PetscScalar       *z[RM_NV_STACK];     /* outputs */
} DeferredOp;

#define RM_NV_QUEUE 48 /* queued operations before a pass is forced */
static struct {
  DeferredOp op[RM_NV_QUEUE];
  int        nops;
  PetscInt   n; /* local length of the queued operations' vectors */
} Queue;

/* One queued operation on the block [b, b + m). Compiled twice (portable and AVX2, chosen at run time):
   at 10^5..10^6 entries a pass of CVODE's 15 predictor sums is bound by arithmetic, not memory. No FMA
   (target avx2 does not enable it), so both give the same bits. */
static inline __attribute__((always_inline)) void RunBlockBody(const DeferredOp *o, PetscInt b, PetscInt m)
{
  PetscScalar t[RM_NV_BLOCK];
  switch (o->kind) {
  case OP_LINEARSUM: { /* multiplications by 1 and -1 are exact: left out (CVODE's predictor is all x + y) */
    const PetscScalar *x = o->x[0] + b, *y = o->x[1] + b;
    PetscScalar       *z = o->z[0] + b;
    const PetscReal    a = o->c[0], c = o->c[1];
    if (a == 1.0 && c == 1.0)
      for (PetscInt i = 0; i < m; i++) z[i] = x[i] + y[i];
    else if (a == 1.0 && c == -1.0)
      for (PetscInt i = 0; i < m; i++) z[i] = x[i] - y[i];
    else if (a == 1.0)
      for (PetscInt i = 0; i < m; i++) z[i] = x[i] + c * y[i];
    else if (c == 1.0)
      for (PetscInt i = 0; i < m; i++) z[i] = a * x[i] + y[i];
    else
      for (PetscInt i = 0; i < m; i++) z[i] = a * x[i] + c * y[i];
  } break;
  case OP_CONST: {
    PetscScalar    *z = o->z[0] + b;
    const PetscReal c = o->c[0];
    for (PetscInt i = 0; i < m; i++) z[i] = c;
  } break;
  case OP_PROD: {
    const PetscScalar *x = o->x[0] + b, *y = o->x[1] + b;
    PetscScalar       *z = o->z[0] + b;
    for (PetscInt i = 0; i < m; i++) z[i] = x[i] * y[i];
  } break;
  case OP_DIV: {
    const PetscScalar *x = o->x[0] + b, *y = o->x[1] + b;
    PetscScalar       *z = o->z[0] + b;
    for (PetscInt i = 0; i < m; i++) z[i] = x[i] / y[i];
  } break;
  case OP_SCALE: {
    const PetscScalar *x = o->x[0] + b;
    PetscScalar       *z = o->z[0] + b;
    const PetscReal    c = o->c[0];
    if (c == 1.0) {
      if (z != x) memcpy(z, x, (size_t)m * sizeof(*z));
    } else
      for (PetscInt i = 0; i < m; i++) z[i] = c * x[i];
  } break;
  case OP_ABS: {
    const PetscScalar *x = o->x[0] + b;
    PetscScalar       *z = o->z[0] + b;
    for (PetscInt i = 0; i < m; i++) z[i] = PetscAbsScalar(x[i]);
  } break;
  case OP_INV: {
    const PetscScalar *x = o->x[0] + b;
    PetscScalar       *z = o->z[0] + b;
    for (PetscInt i = 0; i < m; i++) z[i] = 1.0 / x[i];
  } break;
  case OP_ADDCONST: {
    const PetscScalar *x = o->x[0] + b;
    PetscScalar       *z = o->z[0] + b;
    const PetscReal    c = o->c[0];
    for (PetscInt i = 0; i < m; i++) z[i] = x[i] + c;
  } break;
  case OP_COMPARE: {
    const PetscScalar *x = o->x[0] + b;
    PetscScalar       *z = o->z[0] + b;
    const PetscReal    c = o->c[0];
    for (PetscInt i = 0; i < m; i++) z[i] = PetscAbsScalar(x[i]) >= c ? 1.0 : 0.0;
  } break;
  case OP_LINCOMB: { /* z = sum_j c_j x_j: the block of z is written after all inputs are read (z may be an x_j) */
    const PetscScalar *x0 = o->x[0] + b;
    for (PetscInt i = 0; i < m; i++) t[i] = o->c[0] * x0[i];
    for (int j = 1; j < o->k; j++) {
      const PetscScalar *xj = o->x[j] + b;
      const PetscReal    cj = o->c[j];
      for (PetscInt i = 0; i < m; i++) t[i] += cj * xj[i];
    }
    memcpy(o->z[0] + b, t, (size_t)m * sizeof(*t));
  } break;
  case OP_SCALEADDMULTI: { /* z_j = c_j x + y_j; x = o->x[k], y_j = o->x[j]; x's block copied first (a z_j may be x) */
    memcpy(t, o->x[o->k] + b, (size_t)m * sizeof(*t));
    for (int j = 0; j < o->k; j++) {
      const PetscScalar *yj = o->x[j] + b;
      PetscScalar       *zj = o->z[j] + b;
      const PetscReal    cj = o->c[j];
      for (PetscInt i = 0; i < m; i++) zj[i] = cj * t[i] + yj[i];
    }
  } break;
  }
}

static void RunBlockPortable(const DeferredOp *o, PetscInt b, PetscInt m) { RunBlockBody(o, b, m); }
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void RunBlockAVX2(const DeferredOp *o, PetscInt b, PetscInt m) { RunBlockBody(o, b, m); }
#endif

static void (*RunBlockKernel(void))(const DeferredOp *, PetscInt, PetscInt)
{
#if defined(__x86_64__) && defined(__GNUC__)
  static int have = -1;
  if (have < 0) have = __builtin_cpu_supports("avx2") ? 1 : 0;
  if (have) return RunBlockAVX2;
#endif
  return RunBlockPortable;
}

/* The number of distinct arrays a pass touches (for -integrator_vec_view's operands). */
static int PassOperands(void)
{
  const PetscScalar *seen[RM_NV_QUEUE * (2 * RM_NV_STACK + 1)];
  int                ns = 0;
#define SEE(p) \
  do { \
    int f_ = 0; \
    for (int q_ = 0; q_ < ns && !f_; q_++) f_ = seen[q_] == (p); \
    if (!f_) seen[ns++] = (p); \
  } while (0)
  for (int q = 0; q < Queue.nops; q++) {
    const DeferredOp *o   = &Queue.op[q];
    int               nin = 0, nout = 1;
    switch (o->kind) {
    case OP_CONST: nin = 0; break;
    case OP_LINEARSUM:
    case OP_PROD:
    case OP_DIV: nin = 2; break;
    case OP_LINCOMB: nin = o->k; break;
    case OP_SCALEADDMULTI: nin = o->k + 1, nout = o->k; break;
    default: nin = 1;
    }
    for (int j = 0; j < nin; j++) SEE(o->x[j]);
    for (int j = 0; j < nout; j++) SEE((const PetscScalar *)o->z[j]);
  }
#undef SEE
  return ns;
}

/* Runs the queued operations: one pass over their vectors. */
static void Flush(void)
{
  int operands;
  void (*run)(const DeferredOp *, PetscInt, PetscInt);
  if (!Queue.nops) return;
  RmNVLogBegin_Private();
  run = RunBlockKernel();
  for (PetscInt b = 0; b < Queue.n; b += RM_NV_BLOCK) {
    const PetscInt m = PetscMin(RM_NV_BLOCK, Queue.n - b);
    for (int q = 0; q < Queue.nops; q++) run(&Queue.op[q], b, m);
  }
  operands   = RmNVLogTiming_Private() ? PassOperands() : 0;
  Queue.nops = 0;
  RmNVLogEnd_Private(RM_NVOP_PASS, operands);
}

void RmNVectorFlush_Private(void) { Flush(); }

/* A new queued operation on vectors of local length n (a pass first if the queue is full or holds
   vectors of another length). */
static DeferredOp *Push(OpKind kind, PetscInt n)
{
  DeferredOp *o;
  if (Queue.nops == RM_NV_QUEUE || (Queue.nops && Queue.n != n)) Flush();
  Queue.n = n;
  o       = &Queue.op[Queue.nops++];
  o->kind = kind;
  o->k    = 1;
  return o;
}

/* ---------------------------------------------------------------- required operations */
static N_Vector_ID GetVectorID(N_Vector v) { return SUNDIALS_NVEC_CUSTOM; }

static void Destroy(N_Vector v)
{
  if (!v) return;
  Flush(); /* the queue may refer to its array */
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

static realtype    *GetArrayPointer(N_Vector v)
{
  Flush();
  return ARR(v);
}
static void        *GetCommunicator(N_Vector v) { return &NV(v)->comm; }
static sunindextype GetLength(N_Vector v) { return (sunindextype)NV(v)->N; }
static sunindextype GetLocalLength(N_Vector v) { return (sunindextype)NV(v)->n; }

static void LinearSum(realtype a, N_Vector x, realtype b, N_Vector y, N_Vector z)
{
  DeferredOp *o;
  BEGIN;
  o       = Push(OP_LINEARSUM, LEN(z));
  o->c[0] = a, o->c[1] = b, o->x[0] = ARR(x), o->x[1] = ARR(y), o->z[0] = ARR(z);
  WROTE(z);
  END(RM_NVOP_LINEARSUM, 3);
}

static void Const(realtype c, N_Vector z)
{
  DeferredOp *o;
  BEGIN;
  o       = Push(OP_CONST, LEN(z));
  o->c[0] = c, o->z[0] = ARR(z);
  WROTE(z);
  END(RM_NVOP_CONST, 1);
}

static void Prod(N_Vector x, N_Vector y, N_Vector z)
{
  DeferredOp *o;
  BEGIN;
  o       = Push(OP_PROD, LEN(z));
  o->x[0] = ARR(x), o->x[1] = ARR(y), o->z[0] = ARR(z);
  WROTE(z);
  END(RM_NVOP_PROD, 3);
}

static void Div(N_Vector x, N_Vector y, N_Vector z)
{
  DeferredOp *o;
  BEGIN;
  o       = Push(OP_DIV, LEN(z));
  o->x[0] = ARR(x), o->x[1] = ARR(y), o->z[0] = ARR(z);
  WROTE(z);
  END(RM_NVOP_DIV, 3);
}

static void Scale(realtype c, N_Vector x, N_Vector z)
{
  DeferredOp *o;
  BEGIN;
  o       = Push(OP_SCALE, LEN(z));
  o->c[0] = c, o->x[0] = ARR(x), o->z[0] = ARR(z);
  WROTE(z);
  END(RM_NVOP_SCALE, 2);
}

static void Abs(N_Vector x, N_Vector z)
{
  DeferredOp *o;
  BEGIN;
  o       = Push(OP_ABS, LEN(z));
  o->x[0] = ARR(x), o->z[0] = ARR(z);
  WROTE(z);
  END(RM_NVOP_ABS, 2);
}

static void Inv(N_Vector x, N_Vector z)
{
  DeferredOp *o;
  BEGIN;
  o       = Push(OP_INV, LEN(z));
  o->x[0] = ARR(x), o->z[0] = ARR(z);
  WROTE(z);
  END(RM_NVOP_INV, 2);
}

static void AddConst(N_Vector x, realtype b, N_Vector z)
{
  DeferredOp *o;
  BEGIN;
  o       = Push(OP_ADDCONST, LEN(z));
  o->c[0] = b, o->x[0] = ARR(x), o->z[0] = ARR(z);
  WROTE(z);
  END(RM_NVOP_ADDCONST, 2);
}

static realtype DotProdLocal(N_Vector x, N_Vector y)
{
  PetscReal s;
  Flush();
  BEGIN;
  s = KDot(LEN(x), ARR(x), ARR(y));
  END(RM_NVOP_DOTPRODLOCAL, 2);
  return s;
}

static realtype DotProd(N_Vector x, N_Vector y)
{
  PetscReal s;
  Flush();
  BEGIN;
  s = KDot(LEN(x), ARR(x), ARR(y));
  AllSum(NV(x)->comm, &s, 1);
  END(RM_NVOP_DOTPROD, 2);
  return s;
}

static realtype MaxNormLocal(N_Vector x)
{
  PetscReal m;
  Flush();
  BEGIN;
  m = KMaxAbs(LEN(x), ARR(x));
  END(RM_NVOP_MAXNORMLOCAL, 1);
  return m;
}

static realtype MaxNorm(N_Vector x)
{
  PetscReal m;
  Flush();
  BEGIN;
  m = AllOp(NV(x)->comm, KMaxAbs(LEN(x), ARR(x)), MPI_MAX);
  END(RM_NVOP_MAXNORM, 1);
  return m;
}

static realtype WSqrSumLocal(N_Vector x, N_Vector w)
{
  PetscReal s;
  Flush();
  BEGIN;
  s = KWSqrSum(LEN(x), ARR(x), ARR(w));
  END(RM_NVOP_WSQRSUMLOCAL, 2);
  return s;
}

static realtype WSqrSumMaskLocal(N_Vector x, N_Vector w, N_Vector id)
{
  PetscReal s;
  Flush();
  BEGIN;
  s = KWSqrSumMask(LEN(x), ARR(x), ARR(w), ARR(id));
  END(RM_NVOP_WSQRSUMMASKLOCAL, 3);
  return s;
}

static realtype WrmsNorm(N_Vector x, N_Vector w)
{
  PetscReal s;
  Flush();
  BEGIN;
  s = KWSqrSum(LEN(x), ARR(x), ARR(w));
  AllSum(NV(x)->comm, &s, 1);
  END(RM_NVOP_WRMSNORM, 2);
  return PetscSqrtReal(s / (PetscReal)NV(x)->N);
}

static realtype WrmsNormMask(N_Vector x, N_Vector w, N_Vector id)
{
  PetscReal s;
  Flush();
  BEGIN;
  s = KWSqrSumMask(LEN(x), ARR(x), ARR(w), ARR(id));
  AllSum(NV(x)->comm, &s, 1);
  END(RM_NVOP_WRMSNORMMASK, 3);
  return PetscSqrtReal(s / (PetscReal)NV(x)->N);
}

static realtype WL2Norm(N_Vector x, N_Vector w)
{
  PetscReal s;
  Flush();
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
  Flush();
  BEGIN;
  m = KMin(LEN(x), ARR(x));
  END(RM_NVOP_MINLOCAL, 1);
  return m;
}

static realtype Min(N_Vector x)
{
  PetscReal m;
  Flush();
  BEGIN;
  m = AllOp(NV(x)->comm, KMin(LEN(x), ARR(x)), MPI_MIN);
  END(RM_NVOP_MIN, 1);
  return m;
}

static realtype L1NormLocal(N_Vector x)
{
  PetscReal s;
  Flush();
  BEGIN;
  RM_NV_REDUCE(LEN(x), 0.0, PetscAbsScalar(ARR(x)[i]), s);
  END(RM_NVOP_L1NORMLOCAL, 1);
  return s;
}

static realtype L1Norm(N_Vector x)
{
  PetscReal s;
  Flush();
  BEGIN;
  RM_NV_REDUCE(LEN(x), 0.0, PetscAbsScalar(ARR(x)[i]), s);
  AllSum(NV(x)->comm, &s, 1);
  END(RM_NVOP_L1NORM, 1);
  return s;
}

static void Compare(realtype c, N_Vector x, N_Vector z)
{
  DeferredOp *o;
  BEGIN;
  o       = Push(OP_COMPARE, LEN(z));
  o->c[0] = c, o->x[0] = ARR(x), o->z[0] = ARR(z);
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
  Flush();
  BEGIN;
  ok = KInvTest(x, z);
  END(RM_NVOP_INVTESTLOCAL, 2);
  return ok > 0 ? SUNTRUE : SUNFALSE;
}

static booleantype InvTest(N_Vector x, N_Vector z)
{
  PetscReal ok;
  Flush();
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
  Flush();
  BEGIN;
  ok = KConstrMask(c, x, m);
  END(RM_NVOP_CONSTRMASKLOCAL, 3);
  return ok > 0 ? SUNTRUE : SUNFALSE;
}

static booleantype ConstrMask(N_Vector c, N_Vector x, N_Vector m)
{
  PetscReal ok;
  Flush();
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
  Flush();
  BEGIN;
  m = KMinQuotient(num, denom);
  END(RM_NVOP_MINQUOTIENTLOCAL, 2);
  return m;
}

static realtype MinQuotient(N_Vector num, N_Vector denom)
{
  PetscReal m;
  Flush();
  BEGIN;
  m = AllOp(NV(num)->comm, KMinQuotient(num, denom), MPI_MIN);
  END(RM_NVOP_MINQUOTIENT, 2);
  return m;
}

/* ---------------------------------------------------------------- fused operations */
static int LinearCombination(int k, realtype *c, N_Vector *X, N_Vector z)
{
  DeferredOp *o;
  if (k < 1) return -1;
  BEGIN;
  if (k > RM_NV_STACK) { /* too many to queue: at once */
    RmNVArrays A;
    Flush();
    if (GetArrays(k, X, &A)) {
      END(RM_NVOP_LINEARCOMBINATION, k + 1);
      return -1;
    }
    KLinComb(LEN(z), k, c, (const PetscScalar *const *)A.p, ARR(z));
    RestoreArrays(&A);
  } else {
    o    = Push(OP_LINCOMB, LEN(z));
    o->k = k;
    for (int j = 0; j < k; j++) o->c[j] = c[j], o->x[j] = ARR(X[j]);
    o->z[0] = ARR(z);
  }
  WROTE(z);
  END(RM_NVOP_LINEARCOMBINATION, k + 1);
  return 0;
}

/* z_j = a_j x + y_j as k LinearSums (a_j x + 1 y_j: the same rounding) when k does not fit one queued
   operation; a z_j that is x comes last, so every sum reads the old x */
static void QueueScaleAddAsSums(int k, const realtype *a, N_Vector x, N_Vector *Y, N_Vector *Z)
{
  for (int last = 0; last < 2; last++)
    for (int j = 0; j < k; j++) {
      DeferredOp *o;
      if ((Z[j] == x) != last) continue;
      o       = Push(OP_LINEARSUM, LEN(x));
      o->c[0] = a[j], o->c[1] = 1.0, o->x[0] = ARR(x), o->x[1] = ARR(Y[j]), o->z[0] = ARR(Z[j]);
    }
}

static int ScaleAddMulti(int k, realtype *a, N_Vector x, N_Vector *Y, N_Vector *Z)
{
  if (k < 1) return -1;
  BEGIN;
  if (k >= RM_NV_STACK ) QueueScaleAddAsSums(k, a, x, Y, Z);
  else {
    DeferredOp *o = Push(OP_SCALEADDMULTI, LEN(x));
    o->k          = k;
    for (int j = 0; j < k; j++) o->c[j] = a[j], o->x[j] = ARR(Y[j]), o->z[j] = ARR(Z[j]);
    o->x[k] = ARR(x);
  }
  for (int j = 0; j < k; j++) WROTE(Z[j]);
  END(RM_NVOP_SCALEADDMULTI, 2 * k + 1);
  return 0;
}

static int DotProdMultiLocal(int k, N_Vector x, N_Vector *Y, realtype *d)
{
  RmNVArrays A;
  if (k < 1) return -1;
  if (GetArrays(k, Y, &A)) return -1;
  Flush();
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
  Flush();
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
    DeferredOp *o = Push(OP_LINEARSUM, LEN(Z[j]));
    o->c[0] = a, o->c[1] = b, o->x[0] = ARR(X[j]), o->x[1] = ARR(Y[j]), o->z[0] = ARR(Z[j]);
    WROTE(Z[j]);
  }
  END(RM_NVOP_LINEARSUMVECTORARRAY, 3 * k);
  return 0;
}

static int ScaleVectorArray(int k, realtype *c, N_Vector *X, N_Vector *Z)
{
  BEGIN;
  for (int j = 0; j < k; j++) {
    DeferredOp *o = Push(OP_SCALE, LEN(Z[j]));
    o->c[0] = c[j], o->x[0] = ARR(X[j]), o->z[0] = ARR(Z[j]);
    WROTE(Z[j]);
  }
  END(RM_NVOP_SCALEVECTORARRAY, 2 * k);
  return 0;
}

static int ConstVectorArray(int k, realtype c, N_Vector *Z)
{
  BEGIN;
  for (int j = 0; j < k; j++) {
    DeferredOp *o = Push(OP_CONST, LEN(Z[j]));
    o->c[0] = c, o->z[0] = ARR(Z[j]);
    WROTE(Z[j]);
  }
  END(RM_NVOP_CONSTVECTORARRAY, k);
  return 0;
}

static int WrmsNormVectorArray(int k, N_Vector *X, N_Vector *W, realtype *nrm)
{
  Flush();
  BEGIN;
  for (int j = 0; j < k; j++) nrm[j] = KWSqrSum(LEN(X[j]), ARR(X[j]), ARR(W[j]));
  if (k > 0) AllSum(NV(X[0])->comm, nrm, k); /* one reduction for the group */
  for (int j = 0; j < k; j++) nrm[j] = PetscSqrtReal(nrm[j] / (PetscReal)NV(X[j])->N);
  END(RM_NVOP_WRMSNORMVECTORARRAY, 2 * k);
  return 0;
}

static int WrmsNormMaskVectorArray(int k, N_Vector *X, N_Vector *W, N_Vector id, realtype *nrm)
{
  Flush();
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
  N_Vector ys[RM_NV_STACK], zs[RM_NV_STACK];
  if (nsum < 1) return -1;
  BEGIN;
  for (int i = 0; i < nvec; i++) {
    if (nsum >= RM_NV_STACK) {
      for (int last = 0; last < 2; last++)
        for (int j = 0; j < nsum; j++) {
          DeferredOp *o;
          if ((Z[j][i] == X[i]) != last) continue;
          o       = Push(OP_LINEARSUM, LEN(X[i]));
          o->c[0] = a[j], o->c[1] = 1.0, o->x[0] = ARR(X[i]), o->x[1] = ARR(Y[j][i]), o->z[0] = ARR(Z[j][i]);
        }
    } else {
      for (int j = 0; j < nsum; j++) ys[j] = Y[j][i], zs[j] = Z[j][i];
      DeferredOp *o = Push(OP_SCALEADDMULTI, LEN(X[i]));
      o->k          = nsum;
      for (int j = 0; j < nsum; j++) o->c[j] = a[j], o->x[j] = ARR(ys[j]), o->z[j] = ARR(zs[j]);
      o->x[nsum] = ARR(X[i]);
    }
    for (int j = 0; j < nsum; j++) WROTE(Z[j][i]);
  }
  END(RM_NVOP_SCALEADDMULTIVECTORARRAY, nvec * (2 * nsum + 1));
  return 0;
}

/* Z[i] = sum_j c[j] X[j][i]: for each i one LinearCombination pass */
static int LinearCombinationVectorArray(int nvec, int nsum, realtype *c, N_Vector **X, N_Vector *Z)
{
  if (nsum < 1) return -1;
  BEGIN;
  if (nsum > RM_NV_STACK) Flush(); /* at once, below */
  for (int i = 0; i < nvec; i++) {
    if (nsum > RM_NV_STACK) {
      PetscScalar **xs;
      if (PetscMalloc1(nsum, &xs)) {
        END(RM_NVOP_LINEARCOMBINATIONVECTORARRAY, nvec * (nsum + 1));
        return -1;
      }
      for (int j = 0; j < nsum; j++) xs[j] = ARR(X[j][i]);
      KLinComb(LEN(Z[i]), nsum, c, (const PetscScalar *const *)xs, ARR(Z[i]));
      (void)PetscFree(xs);
    } else {
      DeferredOp *o = Push(OP_LINCOMB, LEN(Z[i]));
      o->k          = nsum;
      for (int j = 0; j < nsum; j++) o->c[j] = c[j], o->x[j] = ARR(X[j][i]);
      o->z[0] = ARR(Z[i]);
    }
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

Vec RmNVectorGetVec_Private(N_Vector v)
{
  if (!RmNVectorIsNative_Private(v)) return N_VGetVector_Petsc(v);
  Flush(); /* a callback reads or writes it through PETSc */
  return NV(v)->vec;
}
