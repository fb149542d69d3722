/* Synaptic designs (docs/model.md §2 and the Hebbian baseline of §3) and the generic RmSynapses:
   its registry of weight storages, the design coefficients and the options common to all storages.
   The storages are dense.c, aij.c, lowrank.c, compressed.c and spatial.c, registered in synapsesregi.c. */
#include "synapsesimpl.h"
#include <stdlib.h>

const char *const RmDesignTypes[] = {"paper", "hebbian", "projection", "RmDesignType", "RM_DESIGN_", NULL};

static PetscFunctionList RmSynapsesList = NULL;

PetscErrorCode RmSynapsesRegister(const char name[], PetscErrorCode (*create)(RmSynapses))
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListAdd(&RmSynapsesList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesListDestroy_Private(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListDestroy(&RmSynapsesList));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -storage was an enum option, which matched names regardless of case (keep accepting "DENSE") and
   refused others with PETSc's message (kept: scripts and the Python wrapper match it). */
static PetscErrorCode CanonicalName(MPI_Comm comm, const char *given, char *name, size_t len)
{
  const char **names;
  int          n;
  PetscBool    same = PETSC_FALSE;
  char         list[256] = "";

  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListGet(RmSynapsesList, &names, &n));
  for (int k = 0; k < n && !same; k++) {
    if (!names[k]) continue;
    PetscCall(PetscStrcasecmp(names[k], given, &same));
    if (same) PetscCall(PetscStrncpy(name, names[k], len));
  }
  PetscCall(PetscFree(names));
  if (!same) PetscCall(RmFunctionListNames(RmSynapsesList, " ", list, sizeof(list)));
  PetscCheck(same, comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown option %s for -storage. Available options: %s", given, list);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesCreate(MPI_Comm comm, RmSynapses *syn)
{
  PetscFunctionBeginUser;
  PetscCall(RmSynapsesRegisterAll());
  PetscCall(PetscNew(syn));
  (*syn)->comm     = comm;
  (*syn)->design.a = -0.3; /* the authors' example (docs/model.md §2) */
  (*syn)->design.b = 0.95;
  (*syn)->proj_maxcond = 1e8;
  PetscCall(RmSynapsesSetType(*syn, RMSTORAGEDENSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetType(RmSynapses syn, RmStorageType type)
{
  PetscErrorCode (*create)(RmSynapses) = NULL;
  PetscBool same = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (syn->type_name) PetscCall(PetscStrcmp(syn->type_name, type, &same));
  if (same) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(!syn->setup_called, syn->comm, PETSC_ERR_ORDER, "set the storage before RmSynapsesSetUp()");
  PetscCall(PetscFunctionListFind(RmSynapsesList, type, &create));
  if (!create) {
    char list[256];
    PetscCall(RmFunctionListNames(RmSynapsesList, ", ", list, sizeof(list)));
    SETERRQ(syn->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown storage '%s' (known: %s)", type, list);
  }
  if (syn->ops.destroy) PetscCall(syn->ops.destroy(syn));
  PetscCall(PetscMemzero(&syn->ops, sizeof(syn->ops)));
  syn->data    = NULL;
  syn->diluted = PETSC_FALSE;
  PetscCall(PetscFree(syn->type_name));
  PetscCall(PetscStrallocpy(type, &syn->type_name));
  PetscCall(create(syn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetOptionsPrefix(RmSynapses syn, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(syn->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &syn->prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The setters only store: RmSynapsesSetUp checks the combination (CheckSettings), as SetFromOptions does. */
PetscErrorCode RmSynapsesSetDesignType(RmSynapses syn, RmDesignType type)
{
  PetscFunctionBeginUser;
  PetscCheck(!syn->setup_called, syn->comm, PETSC_ERR_ORDER, "set the design before RmSynapsesSetUp()");
  PetscCheck(type == RM_DESIGN_PAPER || type == RM_DESIGN_HEBBIAN || type == RM_DESIGN_PROJECTION, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "unknown design type %d", (int)type);
  syn->design_type = type;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetCurrents(RmSynapses syn, PetscReal a, PetscReal b)
{
  PetscFunctionBeginUser;
  PetscCheck(!syn->setup_called, syn->comm, PETSC_ERR_ORDER, "set the design currents before RmSynapsesSetUp()");
  syn->design.a = a;
  syn->design.b = b;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetBalance(RmSynapses syn, PetscReal r)
{
  PetscFunctionBeginUser;
  PetscCheck(!syn->setup_called, syn->comm, PETSC_ERR_ORDER, "set the balance before RmSynapsesSetUp()");
  syn->design.balance = r;
  syn->balance_set    = PETSC_TRUE;
  syn->balance_auto   = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetBalanceAuto(RmSynapses syn)
{
  PetscFunctionBeginUser;
  PetscCheck(!syn->setup_called, syn->comm, PETSC_ERR_ORDER, "set the balance before RmSynapsesSetUp()");
  syn->balance_set  = PETSC_FALSE;
  syn->balance_auto = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetOverlapRatios(RmSynapses syn, PetscBool *measured, RmOverlapRatios *ratios)
{
  PetscFunctionBeginUser;
  if (measured) *measured = syn->ratios_measured;
  if (ratios) *ratios = syn->ratios;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetProjection(RmSynapses syn, PetscReal maxcond, PetscBool lambda_set, PetscReal lambda)
{
  PetscFunctionBeginUser;
  PetscCheck(!syn->setup_called, syn->comm, PETSC_ERR_ORDER, "set the projection design before RmSynapsesSetUp()");
  syn->proj_maxcond    = maxcond;
  syn->proj_lambda_set = lambda_set;
  if (lambda_set) syn->proj_lambda = lambda;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetIndegree(RmSynapses syn, PetscInt K)
{
  PetscFunctionBeginUser;
  PetscCheck(!syn->setup_called, syn->comm, PETSC_ERR_ORDER, "set the indegree before RmSynapsesSetUp()");
  syn->indegree = K;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetType(RmSynapses syn, RmStorageType *type)
{
  PetscFunctionBeginUser;
  *type = syn->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Checks of the generic settings and the storage's own; after SetFromOptions and again at SetUp. */
static PetscErrorCode CheckSettings(RmSynapses syn)
{
  PetscFunctionBeginUser;
  PetscCall(RmCheckFinite(syn->comm, "a", syn->design.a));
  PetscCall(RmCheckFinite(syn->comm, "b", syn->design.b));
  PetscCall(RmCheckFinite(syn->comm, "balance", syn->design.balance));
  PetscCheck(syn->indegree >= 0, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "indegree must be >= 0, got %" PetscInt_FMT, syn->indegree);
  PetscCheck(syn->indegree == 0 || syn->diluted, syn->comm, PETSC_ERR_ARG_INCOMP, "-indegree needs -storage aij, compressed or spatial (storage %s is not diluted)",
             syn->type_name);
  if (syn->ops.check) PetscCall(syn->ops.check(syn));
  if (syn->design_type == RM_DESIGN_PROJECTION) {
    PetscBool ok_storage = PETSC_FALSE, t;
    PetscCall(PetscStrcmp(syn->type_name, RMSTORAGELOWRANK, &t));
    ok_storage = t;
    PetscCall(PetscStrcmp(syn->type_name, RMSTORAGEDENSE, &t));
    ok_storage = (PetscBool)(ok_storage || t);
    PetscCheck(ok_storage, syn->comm, PETSC_ERR_SUP, "-design projection needs -storage lowrank (or dense); storage %s is not supported", syn->type_name);
    PetscCheck(!syn->balance_set && !syn->balance_auto, syn->comm, PETSC_ERR_ARG_INCOMP, "-balance is the paper design's overlap ratio; -design projection uses the measured overlaps (drop -balance)");
    PetscCheck(syn->proj_maxcond >= 1, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "projection_max_cond must be >= 1, got %g", (double)syn->proj_maxcond);
    PetscCall(RmCheckFinite(syn->comm, "projection_lambda", syn->proj_lambda));
  }
  PetscCheck(!syn->balance_auto || syn->design_type == RM_DESIGN_PAPER, syn->comm, PETSC_ERR_ARG_INCOMP,
             "-balance auto measures the overlaps of {0,1} memories for -design paper, not -design %s", RmDesignTypes[syn->design_type]);
  if (syn->design_type == RM_DESIGN_PAPER || syn->design_type == RM_DESIGN_PROJECTION) {
    PetscCheck(syn->design.a < syn->design.b, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "design needs a < b, got a = %g, b = %g", (double)syn->design.a,
               (double)syn->design.b);
    PetscCheck(!syn->balance_set || (syn->design.balance >= 0 && syn->design.balance < 1), syn->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "balance r must be in [0,1), got %g", (double)syn->design.balance);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -balance VALUE: auto, q, or a real number (range checked with the other settings). */
static PetscErrorCode RmBalanceParse(RmSynapses syn, const char *val)
{
  PetscBool is_auto, is_q;
  char     *end;
  double    r;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcasecmp(val, "auto", &is_auto));
  PetscCall(PetscStrcasecmp(val, "q", &is_q));
  if (is_auto) PetscCall(RmSynapsesSetBalanceAuto(syn));
  else if (is_q) syn->balance_set = syn->balance_auto = PETSC_FALSE;
  else {
    r = strtod(val, &end);
    PetscCheck(val[0] && end != val && !*end, syn->comm, PETSC_ERR_ARG_WRONG, "-balance must be a number in [0,1), q or auto, got '%s'", val);
    PetscCall(RmSynapsesSetBalance(syn, (PetscReal)r));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetFromOptions(RmSynapses syn)
{
  char      given[64], type[64];
  char      balance[64] = "";
  PetscBool set, balance_set = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(RmSynapsesRegisterAll());
  PetscOptionsBegin(syn->comm, syn->prefix, "Synapses (docs/model.md §2)", "RmSynapses");
  PetscCall(PetscOptionsEnum("-design",
                             "Synaptic design: paper (docs/model.md §2, rate model), hebbian (Hopfield baseline, ±1 memories) or projection (rate model, "
                             "every memory an exact equilibrium whatever its overlaps; -storage lowrank or dense)",
                             "RmSynapsesSetDesignType", RmDesignTypes, (PetscEnum)syn->design_type, (PetscEnum *)&syn->design_type, NULL));
  PetscCall(PetscOptionsFList("-storage",
                              "Weight storage: dense (MATDENSE), aij (MATAIJ, diluted with -indegree), lowrank (factored, bit-packed memories, W never "
                              "formed), compressed (diluted, weights recomputed from the memories, ~5 bytes/synapse), spatial (diluted MATAIJ on ring/grid2d "
                              "connectivity, -connectivity -radius -rewire)",
                              "RmSynapsesSetType", RmSynapsesList, syn->type_name, given, sizeof(given), &set));
  if (set) {
    PetscCall(CanonicalName(syn->comm, given, type, sizeof(type)));
    PetscCall(RmSynapsesSetType(syn, type));
  }
  PetscCall(PetscOptionsInt("-indegree", "Inputs per neuron K of a diluted aij, compressed or spatial network (0: fully connected)", "RmSynapsesSetIndegree",
                            syn->indegree, &syn->indegree, NULL));
  PetscCall(PetscOptionsReal("-a", "Design current a of an inactive neuron at a memory", "RmSynapsesSetCurrents", syn->design.a, &syn->design.a, NULL));
  PetscCall(PetscOptionsReal("-b", "Design current b of an active neuron at a memory", "RmSynapsesSetCurrents", syn->design.b, &syn->design.b, NULL));
  { /* a number, q or auto; -help shows the current setting, "q" (r = q, the basic design) unless given */
    char cur[64];
    if (syn->balance_auto) PetscCall(PetscStrncpy(cur, "auto", sizeof(cur)));
    else if (syn->balance_set) PetscCall(PetscSNPrintf(cur, sizeof(cur), "%g", (double)syn->design.balance));
    else PetscCall(PetscStrncpy(cur, "q", sizeof(cur)));
    PetscCall(PetscStrncpy(balance, cur, sizeof(balance)));
    PetscCall(PetscOptionsString("-balance",
                                 "Pairwise overlap ratio r of the memories for the general design: a number in [0,1), q (r = q, the basic design; the "
                                 "default) or auto (r = the mean measured overlap ratio, its spread in the summary)",
                                 "RmSynapsesSetBalance", cur, balance, sizeof(balance), &balance_set));
  }
  PetscCall(PetscOptionsReal("-projection_max_cond", "-design projection: refuse a Gram matrix of the memories with a larger condition number",
                             "RmSynapsesSetProjection", syn->proj_maxcond, &syn->proj_maxcond, NULL));
  PetscCall(PetscOptionsReal("-projection_lambda", "-design projection: eigenvalue lambda of W on 1 (default: gamma of the basic paper design)",
                             "RmSynapsesSetProjection", syn->proj_lambda, &syn->proj_lambda, &set));
  if (set) syn->proj_lambda_set = PETSC_TRUE;
  if (syn->ops.setfromoptions) PetscCall(syn->ops.setfromoptions(PetscOptionsObject, syn));
  PetscOptionsEnd();
  if (balance_set) PetscCall(RmBalanceParse(syn, balance)); /* after the options block: an error inside it would leak the block */
  PetscCall(CheckSettings(syn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmDesignTypeGetEncoding(RmDesignType type, RmEncoding *enc)
{
  PetscFunctionBeginUser;
  *enc = type == RM_DESIGN_HEBBIAN ? RM_ENCODING_SPIN : RM_ENCODING_BINARY;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmDesignCompute(MPI_Comm comm, RmDesignType type, const RmActivation *act, RmDesign *d)
{
  PetscReal q = d->coding, r = d->balance;

  PetscFunctionBeginUser;
  if (type == RM_DESIGN_HEBBIAN) {
    d->alpha = d->alpha_basic = 1.0;
    d->beta = d->gamma = 0.0;
    d->phi_a           = -1.0;
    d->phi_b           = 1.0;
    d->lambda = d->gram_cond = 0.0;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  d->phi_a = RmActivationEval(act, d->a);
  d->phi_b = RmActivationEval(act, d->b);
  PetscCheck(d->phi_b - d->phi_a > 1e-12, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "design needs phi(b) > phi(a), got phi(%g) = %g and phi(%g) = %g: change -a, -b, -gain or -threshold", (double)d->a, (double)d->phi_a,
             (double)d->b, (double)d->phi_b);
  /* docs/model.md §2, general design. */
  PetscReal denom = (1 - q) * d->phi_a + q * d->phi_b;
  PetscCheck(denom > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "design undefined: (1-q) phi(a) + q phi(b) = 0");
  d->alpha_basic = (d->b - d->a) / (d->phi_b - d->phi_a);
  d->alpha       = (d->b - d->a) / (q * (1 - r) * (d->phi_b - d->phi_a));
  d->beta        = q * ((1 - r) * d->phi_a + r * d->phi_b) / denom;
  d->gamma       = ((1 - d->beta) * d->a + d->beta * d->b) / denom;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesLocalRowBits_Private(RmMemories mem, const RmEntryRule *e, uint64_t **rb, PetscInt **ra)
{
  PetscInt rstart, rend, *rows;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(PetscMalloc2((size_t)(rend - rstart) * e->wpn + 1, rb, rend - rstart + 1, ra));
  PetscCall(PetscMalloc1(rend - rstart + 1, &rows));
  for (PetscInt i = 0; i < rend - rstart; i++) rows[i] = rstart + i;
  PetscCall(RmMemoriesGetNeuronBits(mem, rend - rstart, rows, *rb));
  for (PetscInt i = 0; i < rend - rstart; i++) (*ra)[i] = RmPopCount(*rb + (size_t)i * e->wpn, e->wpn);
  PetscCall(PetscFree(rows));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesAssemblyBlockOption_Private(PetscOptionItems *PetscOptionsObject, RmSynapses syn, PetscInt *block)
{
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsInt("-assembly_block", "Explicit storage: presynaptic neurons (dense) or synapses (aij) whose memory bits are fetched per assembly block; 0 = 65536 / 2^20",
                            "RmSynapsesSetFromOptions", *block, block, NULL));
  PetscCheck(*block >= 0, syn->comm, PETSC_ERR_ARG_OUTOFRANGE, "assembly_block must be >= 0, got %" PetscInt_FMT, *block);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesSetUp(RmSynapses syn, RmMemories mem, const RmActivation *act)
{
  RmEncoding enc, want;

  PetscFunctionBeginUser;
  if (syn->setup_called) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(CheckSettings(syn)); /* setters may have changed what SetFromOptions checked */
  PetscCall(RmMemoriesGetEncoding(mem, &enc));
  PetscCall(RmDesignTypeGetEncoding(syn->design_type, &want));
  PetscCheck(enc == want, syn->comm, PETSC_ERR_ARG_INCOMP, "design %s needs %s memories", RmDesignTypes[syn->design_type], RmEncodings[want]);
  PetscCall(RmMemoriesGetCoding(mem, &syn->design.coding));
  PetscCall(RmMemoriesGetSeed(mem, &syn->seed));
  syn->ratios_measured = PETSC_FALSE;
  if (syn->balance_auto) { /* docs/model.md §2 "-balance auto": r = mean_{μ<ν} ξ^μᵀξ^ν/(qN) */
    PetscReal crosstalk;
    PetscCall(RmMemoriesComputeOverlapRatios(mem, &syn->ratios));
    syn->ratios_measured = PETSC_TRUE;
    syn->design.balance  = syn->ratios.mean;
    PetscCheck(syn->ratios.mean < 1, syn->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "-balance auto: the mean overlap ratio of the memories is %g, the general design needs r < 1 (nearly identical memories; try -design projection)",
               (double)syn->ratios.mean);
    crosstalk = syn->ratios.dev_max / (1 - syn->ratios.mean);
    if (crosstalk > RM_BALANCE_CROSSTALK_WARN)
      PetscCall(PetscFPrintf(syn->comm, PETSC_STDERR,
                             "ratemem: warning: -balance auto: the memories' overlap ratios spread from %.3g to %.3g around r = %.3g (std %.2g); the crosstalk at "
                             "memory %" PetscInt_FMT " is %.2g of b - a (> %.2g), so the general design cannot make every memory an equilibrium: use -design projection\n",
                             (double)syn->ratios.min, (double)syn->ratios.max, (double)syn->ratios.mean, (double)syn->ratios.std, syn->ratios.dev_memory,
                             (double)crosstalk, (double)RM_BALANCE_CROSSTALK_WARN));
  } else if (!syn->balance_set) syn->design.balance = syn->design.coding; /* basic design */
  PetscCall(RmDesignCompute(syn->comm, syn->design_type, act, &syn->design));
  if (syn->design_type == RM_DESIGN_PROJECTION) PetscCall(RmProjectionCompute_Private(syn, mem));
  PetscCall(PetscLogEventBegin(RM_EVENTS.assemble, 0, 0, 0, 0));
  PetscCall(syn->ops.assemble(syn, mem));
  PetscCall(PetscLogEventEnd(RM_EVENTS.assemble, 0, 0, 0, 0));
  syn->setup_called = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesView(RmSynapses syn, PetscViewer viewer)
{
  RmDesign *d = &syn->design;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "Synapses: design %s, storage %s", RmDesignTypes[syn->design_type], syn->type_name));
  if (syn->indegree) PetscCall(PetscViewerASCIIPrintf(viewer, ", indegree %" PetscInt_FMT, syn->indegree));
  if (syn->ops.view) PetscCall(syn->ops.view(syn, viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  if (syn->design_type == RM_DESIGN_PROJECTION)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  a %g, b %g, q %g -> alpha' %g, lambda %g, cond(G) %g (phi(a) %g, phi(b) %g)\n", (double)d->a, (double)d->b,
                                     (double)d->coding, (double)d->alpha_basic, (double)d->lambda, (double)d->gram_cond, (double)d->phi_a, (double)d->phi_b));
  if (syn->design_type == RM_DESIGN_PAPER)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  a %g, b %g, q %g, r %g -> alpha %g, beta %g, gamma %g (phi(a) %g, phi(b) %g)\n", (double)d->a,
                                     (double)d->b, (double)d->coding, (double)d->balance, (double)d->alpha, (double)d->beta, (double)d->gamma,
                                     (double)d->phi_a, (double)d->phi_b));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesDestroy(RmSynapses *syn)
{
  PetscFunctionBeginUser;
  if (!*syn) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(MatDestroy(&(*syn)->W)); /* first: W may read the storage's data */
  if ((*syn)->ops.destroy) PetscCall((*syn)->ops.destroy(*syn));
  PetscCall(PetscFree((*syn)->projK));
  PetscCall(PetscFree((*syn)->type_name));
  PetscCall(PetscFree((*syn)->prefix));
  PetscCall(PetscFree(*syn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetDesignType(RmSynapses syn, RmDesignType *type)
{
  PetscFunctionBeginUser;
  *type = syn->design_type;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesIsFactored(RmSynapses syn, PetscBool *factored)
{
  PetscFunctionBeginUser;
  *factored = syn->factored;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetIndegree(RmSynapses syn, PetscInt *K)
{
  PetscFunctionBeginUser;
  *K = syn->indegree;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetDesign(RmSynapses syn, RmDesign *design)
{
  PetscFunctionBeginUser;
  *design = syn->design;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetKernelName(RmSynapses syn, const char **name)
{
  PetscFunctionBeginUser;
  if (syn->ops.kernelname) PetscCall(syn->ops.kernelname(syn, name)); /* before assembly too: the kernel it will take */
  else *name = "none";
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesGetMat(RmSynapses syn, Mat *W)
{
  PetscFunctionBeginUser;
  PetscCheck(syn->setup_called, PETSC_COMM_SELF, PETSC_ERR_ORDER, "call RmSynapsesSetUp() first");
  *W = syn->W;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSynapsesRestoreMat(RmSynapses syn, Mat *W)
{
  PetscFunctionBeginUser;
  *W = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}
