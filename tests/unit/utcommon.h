/* Helpers shared by the unit tests in tests/unit/ (header-only, every helper static).
   Every check is made collective before it is asserted: a rank-local failure is reduced over
   PETSC_COMM_WORLD first, so a failing rank never leaves the others waiting in a collective. */
#pragma once
#include <math.h>
#include <ratemem/ratemem.h>
#include <string.h>

/* Options read by the objects under test; cleared before each network is built so that one
   network's settings never leak into the next. */
static const char *const UT_KEYS[] = {"-neurons",
                                      "-memories",
                                      "-seed",
                                      "-pattern_kind",
                                      "-coding",
                                      "-patterns",
                                      "-design",
                                      "-storage",
                                      "-indegree",
                                      "-connectivity",
                                      "-radius",
                                      "-rewire",
                                      "-a",
                                      "-b",
                                      "-balance",
                                      "-activation",
                                      "-gain",
                                      "-threshold",
                                      "-tau",
                                      "-input",
                                      "-cue",
                                      "-flip",
                                      "-mixture_count",
                                      "-integrator",
                                      "-rtol",
                                      "-atol",
                                      "-t_final",
                                      "-converge_tol",
                                      "-euler_dt",
                                      "-cvode_max_steps",
                                      "-cvode_krylov_dim",
                                      "-monitor",
                                      "-monitor_every",
                                      "-overlap_threshold",
                                      "-network",
                                      "-model_type",
                                      "-input_variant",
                                      "-stiffness",
                                      "-tau_i",
                                      "-pool_size",
                                      "-cvode_pc",
                                      "-cvode_ls",
                                      NULL};

/* Replace the options database's settings of every UT_KEYS entry with the ones in opts. */
static inline PetscErrorCode UtSetOptions(const char *opts)
{
  PetscFunctionBeginUser;
  for (const char *const *k = UT_KEYS; *k; k++) PetscCall(PetscOptionsClearValue(NULL, *k));
  if (opts && opts[0]) PetscCall(PetscOptionsInsertString(NULL, opts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Collective checks: reduce a local value over WORLD, then assert on the global one. */
static inline PetscErrorCode UtGlobalMax(PetscReal *v)
{
  PetscReal g;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(v, &g, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  *v = g;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static inline PetscErrorCode UtGlobalSum(PetscInt64 *v)
{
  PetscInt64 g;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(v, &g, 1, MPIU_INT64, MPI_SUM, PETSC_COMM_WORLD));
  *v = g;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A partition-independent pseudo-random value in [-0.5, 0.5) for global index gi. */
static inline PetscReal UtNoise(uint64_t salt, PetscInt gi)
{
  return RmRandomUniform(0x5EEDULL + salt, (RmStream)7, salt, (uint64_t)gi) - 0.5;
}

/* The table entry of an activation by name (NULL if there is none). */
static inline const RmActivationFunction *UtActivation(const char *name)
{
  for (const RmActivationFunction *f = RmActivationFunctions; f->name; f++)
    if (!strcmp(f->name, name)) return f;
  return NULL;
}

/* The activations of docs/model.md §3, written out independently of RmActivationEval. */
static inline PetscReal UtPhi(const RmActivation *act, PetscReal s)
{
  const PetscReal rho = act->gain, xs = act->threshold;
  if (act->fn == UtActivation(RMACTIVATIONSIGMOID)) return 1.0 / (1.0 + exp(-4.0 * rho * (s - xs - 1.0 / (2.0 * rho))));
  if (act->fn == UtActivation(RMACTIVATIONRECTANH)) return s >= xs ? tanh(rho * (s - xs)) : 0.0;
  return tanh(rho * s);
}

/* A memory network built the way the app builds it: synapses decide the model and encoding. */
typedef struct {
  MPI_Comm     comm;
  RmMemories   mem;
  RmSynapses   syn;
  RmModel      model;
  RmDesign     design;
  RmActivation act;
  Mat          W; /* borrowed from syn */
  PetscInt     n, P, rstart, rend;
} UtNet;

/* Build memories, synapses and model on comm from the options string opts. */
static inline PetscErrorCode UtNetCreate(MPI_Comm comm, const char *opts, UtNet *net)
{
  RmDesignType design;
  RmModelType  mtype;
  RmEncoding   enc;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(net, sizeof(*net)));
  net->comm = comm;
  PetscCall(UtSetOptions(opts));
  PetscCall(RmSynapsesCreate(comm, &net->syn));
  PetscCall(RmSynapsesSetFromOptions(net->syn));
  PetscCall(RmSynapsesGetDesignType(net->syn, &design));
  PetscCall(RmDesignTypeGetModel(design, &mtype, &enc));
  PetscCall(RmMemoriesCreate(comm, &net->mem));
  PetscCall(RmMemoriesSetEncoding(net->mem, enc));
  PetscCall(RmMemoriesSetFromOptions(net->mem));
  PetscCall(RmMemoriesSetUp(net->mem));
  PetscCall(RmMemoriesGetSizes(net->mem, &net->n, &net->P));
  PetscCall(RmMemoriesGetOwnershipRange(net->mem, &net->rstart, &net->rend));
  PetscCall(RmModelCreate(comm, &net->model));
  PetscCall(RmModelSetType(net->model, mtype));
  PetscCall(RmModelSetFromOptions(net->model));
  PetscCall(RmModelGetActivation(net->model, &net->act));
  PetscCall(RmSynapsesSetUp(net->syn, net->mem, &net->act));
  PetscCall(RmSynapsesGetDesign(net->syn, &net->design));
  PetscCall(RmSynapsesGetMat(net->syn, &net->W));
  PetscCall(RmModelSetWeights(net->model, net->W));
  PetscCall(RmModelSetUp(net->model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static inline PetscErrorCode UtNetDestroy(UtNet *net)
{
  PetscFunctionBeginUser;
  if (net->syn && net->W) PetscCall(RmSynapsesRestoreMat(net->syn, &net->W));
  PetscCall(RmModelDestroy(&net->model));
  PetscCall(RmSynapsesDestroy(&net->syn));
  PetscCall(RmMemoriesDestroy(&net->mem));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* x = lo + (hi - lo) ξ^μ on the local neurons (the rescaled memory of docs/model.md §2 when
   lo = φ_a, hi = φ_b; the ±1 memory when lo = -1, hi = 1). */
static inline PetscErrorCode UtMemoryState(RmMemories mem, PetscInt mu, PetscReal lo, PetscReal hi, Vec x)
{
  const uint8_t *bits;
  PetscScalar   *xa;
  PetscInt       rstart, rend;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetLocalBits(mem, &bits));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(VecGetArrayWrite(x, &xa));
  for (PetscInt i = 0; i < rend - rstart; i++) xa[i] = bits[mu * (rend - rstart) + i] ? hi : lo;
  PetscCall(VecRestoreArrayWrite(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Gather a distributed Vec into a newly allocated array of its global length on every rank. */
static inline PetscErrorCode UtGatherVec(Vec x, PetscScalar **all)
{
  VecScatter         sc;
  Vec                seq;
  const PetscScalar *a;
  PetscInt           N;

  PetscFunctionBeginUser;
  PetscCall(VecGetSize(x, &N));
  PetscCall(VecScatterCreateToAll(x, &sc, &seq));
  PetscCall(VecScatterBegin(sc, x, seq, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, x, seq, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(PetscMalloc1(N, all));
  PetscCall(VecGetArrayRead(seq, &a));
  PetscCall(PetscArraycpy(*all, a, N));
  PetscCall(VecRestoreArrayRead(seq, &a));
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&seq));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ‖x - y‖ / ‖y‖ in the 2-norm (y ≠ 0). */
static inline PetscErrorCode UtRelDiff(Vec x, Vec y, PetscReal *rel)
{
  Vec       d;
  PetscReal nd, ny;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(x, &d));
  PetscCall(VecWAXPY(d, -1.0, y, x));
  PetscCall(VecNorm(d, NORM_2, &nd));
  PetscCall(VecNorm(y, NORM_2, &ny));
  PetscCall(VecDestroy(&d));
  *rel = ny > 0 ? nd / ny : nd;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The common main(): initialise PETSc and ratemem, run the test body, finalise. Any error exits
   with status 1: PETSC_ERR_PLIB is 77, which meson would read as "test skipped". The one-line
   message has already been printed by ratemem's error handler where the error was raised. */
#define UT_MAIN(help, body)                              \
  static PetscErrorCode UtMain_(int *argc, char ***argv) \
  {                                                      \
    PetscFunctionBeginUser;                              \
    PetscCall(PetscInitialize(argc, argv, NULL, help));  \
    PetscCall(RmInitialize());                           \
    PetscCall(RmPushErrorHandler());                     \
    PetscCall(body());                                   \
    PetscCall(PetscFinalize());                          \
    PetscFunctionReturn(PETSC_SUCCESS);                  \
  }                                                      \
  int main(int argc, char **argv)                        \
  {                                                      \
    return UtMain_(&argc, &argv) ? 1 : 0;                \
  }
