/* t206-setters: the objects configured without the options database, and with options prefixes.
   (a) memories from RmMemoriesSetSizes/SetCoding/SetSeed equal those from -neurons/-memories/-coding/-seed,
       and a setter called after SetFromOptions overrides the option;
   (b) synapses from RmSynapsesSetType/SetDesignType/SetCurrents/SetBalance/SetIndegree give the design
       coefficients and the W x of the same network built from options (aij diluted, lowrank hebbian);
   (c) RmModelSetActivation/SetGain/SetThreshold: a new activation takes its default threshold unless
       one was set; the setters override -activation/-gain/-threshold;
   (d) RmXxxSetOptionsPrefix: -t206_storage, -t206_neurons, -t206_activation, -t206_overlap_threshold,
       -t206_integrator reach the prefixed objects and not the others;
   (e) bad settings are errors: an unknown activation, one that does not fit the model kind, -indegree
       with a storage that is not diluted (at set-up), a setter after set-up. */
#include "utcommon.h"

/* Expect call to fail with code (errors returned, not printed). */
#define EXPECT_ERROR(call, code, what) \
  do { \
    PetscErrorCode e_; \
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); \
    e_ = (call); \
    PetscCall(PetscPopErrorHandler()); \
    PetscCheck(e_ == (code), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: returned %d, expected %d", what, (int)e_, (int)(code)); \
  } while (0)

static PetscErrorCode CheckMemories(void)
{
  RmMemories     a, b;
  const uint8_t *ba, *bb;
  PetscInt       n, P, rs, re;
  PetscReal      q;
  PetscInt64     seed;

  PetscFunctionBeginUser;
  PetscCall(UtSetOptions("-neurons 300 -memories 6 -coding 0.3 -seed 17"));
  PetscCall(RmMemoriesCreate(PETSC_COMM_WORLD, &a));
  PetscCall(RmMemoriesSetFromOptions(a));
  PetscCall(RmMemoriesSetUp(a));
  PetscCall(UtSetOptions("-neurons 50 -memories 2 -coding 0.4 -seed 3")); /* overridden below */
  PetscCall(RmMemoriesCreate(PETSC_COMM_WORLD, &b));
  PetscCall(RmMemoriesSetFromOptions(b));
  PetscCall(RmMemoriesSetSizes(b, 300, 6));
  PetscCall(RmMemoriesSetCoding(b, 0.3));
  PetscCall(RmMemoriesSetSeed(b, 17));
  PetscCall(RmMemoriesSetUp(b));
  PetscCall(RmMemoriesGetSizes(b, &n, &P));
  PetscCall(RmMemoriesGetCoding(b, &q));
  PetscCall(RmMemoriesGetSeed(b, &seed));
  PetscCheck(n == 300 && P == 6 && q == 0.3 && seed == 17, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "setters did not override the options: n %" PetscInt_FMT " P %" PetscInt_FMT " q %g seed %" PetscInt64_FMT, n, P, (double)q, seed);
  PetscCall(RmMemoriesGetOwnershipRange(b, &rs, &re));
  PetscCall(RmMemoriesGetLocalBits(a, &ba));
  PetscCall(RmMemoriesGetLocalBits(b, &bb));
  PetscCheck(!memcmp(ba, bb, (size_t)P * (re - rs)), PETSC_COMM_SELF, PETSC_ERR_PLIB, "memories from setters differ from memories from options");
  EXPECT_ERROR(RmMemoriesSetSeed(b, 5), PETSC_ERR_ORDER, "RmMemoriesSetSeed after set-up");
  EXPECT_ERROR(RmMemoriesSetCoding(a, 1.5), PETSC_ERR_ORDER, "RmMemoriesSetCoding after set-up");
  PetscCall(RmMemoriesDestroy(&a));
  PetscCall(RmMemoriesDestroy(&b));
  PetscCall(RmMemoriesCreate(PETSC_COMM_WORLD, &a));
  EXPECT_ERROR(RmMemoriesSetCoding(a, 1.5), PETSC_ERR_ARG_OUTOFRANGE, "RmMemoriesSetCoding(1.5)");
  EXPECT_ERROR(RmMemoriesSetSizes(a, 10, 0), PETSC_ERR_ARG_OUTOFRANGE, "RmMemoriesSetSizes(10, 0)");
  PetscCall(RmMemoriesDestroy(&a));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t206 memories: setters equal options, override them, and refuse bad values\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A network built by setters only: the same objects UtNetCreate builds from options. */
static PetscErrorCode NetFromSetters(RmStorageType storage, RmDesignType design, PetscInt K, PetscReal a, PetscReal b, PetscReal r, UtNet *net)
{
  RmModelType mtype;
  RmEncoding  enc;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(net, sizeof(*net)));
  net->comm = PETSC_COMM_WORLD;
  PetscCall(UtSetOptions(NULL));
  PetscCall(RmSynapsesCreate(net->comm, &net->syn));
  PetscCall(RmSynapsesSetFromOptions(net->syn));
  PetscCall(RmSynapsesSetType(net->syn, storage));
  PetscCall(RmSynapsesSetDesignType(net->syn, design));
  PetscCall(RmSynapsesSetIndegree(net->syn, K));
  PetscCall(RmSynapsesSetCurrents(net->syn, a, b));
  if (r >= 0) PetscCall(RmSynapsesSetBalance(net->syn, r));
  PetscCall(RmDesignTypeGetModel(design, &mtype, &enc));
  PetscCall(RmMemoriesCreate(net->comm, &net->mem));
  PetscCall(RmMemoriesSetEncoding(net->mem, enc));
  PetscCall(RmMemoriesSetFromOptions(net->mem));
  PetscCall(RmMemoriesSetSizes(net->mem, 400, 7));
  PetscCall(RmMemoriesSetSeed(net->mem, 8));
  PetscCall(RmMemoriesSetUp(net->mem));
  PetscCall(RmModelCreate(net->comm, &net->model));
  PetscCall(RmModelSetType(net->model, mtype));
  PetscCall(RmModelSetFromOptions(net->model));
  PetscCall(RmModelGetActivation(net->model, &net->act));
  PetscCall(RmSynapsesSetUp(net->syn, net->mem, &net->act));
  PetscCall(RmSynapsesGetDesign(net->syn, &net->design));
  PetscCall(RmSynapsesGetMat(net->syn, &net->W));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CompareNets(const char *opts, RmStorageType storage, RmDesignType design, PetscInt K, PetscReal a, PetscReal b, PetscReal r)
{
  UtNet     x, y;
  Vec       v, wx, wy;
  PetscReal rel = -1;

  PetscFunctionBeginUser;
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &x));
  PetscCall(NetFromSetters(storage, design, K, a, b, r, &y));
  PetscCheck(x.design.alpha == y.design.alpha && x.design.beta == y.design.beta && x.design.gamma == y.design.gamma, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "[%s] the design from setters differs from the design from options", opts);
  PetscCall(MatCreateVecs(x.W, &v, &wx));
  PetscCall(VecDuplicate(wx, &wy));
  PetscCall(VecSet(v, 0.3));
  PetscCall(VecSetValue(v, 0, 1.0, INSERT_VALUES));
  PetscCall(VecAssemblyBegin(v));
  PetscCall(VecAssemblyEnd(v));
  PetscCall(MatMult(x.W, v, wx));
  PetscCall(MatMult(y.W, v, wy));
  PetscCall(UtRelDiff(wy, wx, &rel));
  PetscCheck(rel == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] W x from setters differs from options by %g", opts, (double)rel);
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&wx));
  PetscCall(VecDestroy(&wy));
  PetscCall(UtNetDestroy(&x));
  PetscCall(UtNetDestroy(&y));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t206 synapses: setters equal [%s]\n", opts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSynapses(void)
{
  RmSynapses syn;
  UtNet      net;

  PetscFunctionBeginUser;
  PetscCall(CompareNets("-neurons 400 -memories 7 -seed 8 -storage aij -indegree 30 -a -0.2 -b 0.9 -balance 0.3", RMSTORAGEAIJ, RM_DESIGN_PAPER, 30, -0.2, 0.9, 0.3));
  PetscCall(CompareNets("-neurons 400 -memories 7 -seed 8 -storage lowrank -design hebbian", RMSTORAGELOWRANK, RM_DESIGN_HEBBIAN, 0, -0.3, 0.95, -1));
  PetscCall(CompareNets("-neurons 400 -memories 7 -seed 8 -storage dense", RMSTORAGEDENSE, RM_DESIGN_PAPER, 0, -0.3, 0.95, -1));
  /* -indegree with a storage that is not diluted, and a < b, are checked at set-up for setters */
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, "-neurons 100 -memories 3", &net));
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
  PetscCall(RmSynapsesSetIndegree(syn, 5));
  EXPECT_ERROR(RmSynapsesSetUp(syn, net.mem, &net.act), PETSC_ERR_ARG_INCOMP, "dense storage with indegree 5");
  PetscCall(RmSynapsesSetIndegree(syn, 0));
  PetscCall(RmSynapsesSetCurrents(syn, 0.5, 0.1));
  EXPECT_ERROR(RmSynapsesSetUp(syn, net.mem, &net.act), PETSC_ERR_ARG_OUTOFRANGE, "design with a > b");
  PetscCall(RmSynapsesDestroy(&syn));
  EXPECT_ERROR(RmSynapsesSetIndegree(net.syn, 3), PETSC_ERR_ORDER, "RmSynapsesSetIndegree after set-up");
  EXPECT_ERROR(RmSynapsesSetType(net.syn, RMSTORAGEAIJ), PETSC_ERR_ORDER, "RmSynapsesSetType after set-up");
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckModel(void)
{
  RmModel      model;
  RmActivation act;

  PetscFunctionBeginUser;
  PetscCall(UtSetOptions("-activation sigmoid -gain 3 -threshold 0.1"));
  PetscCall(RmModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(RmModelSetType(model, RMMODELRATE));
  PetscCall(RmModelSetFromOptions(model));
  PetscCall(RmModelSetGain(model, 6.0));
  PetscCall(RmModelSetActivation(model, RMACTIVATIONRECTANH)); /* -threshold 0.1 was given: kept */
  PetscCall(RmModelGetActivation(model, &act));
  PetscCheck(act.fn == UtActivation(RMACTIVATIONRECTANH) && act.gain == 6.0 && act.threshold == 0.1, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "setters after options: %s gain %g threshold %g", act.fn->name, (double)act.gain, (double)act.threshold);
  PetscCall(RmModelSetThreshold(model, 0.33));
  PetscCall(RmModelGetActivation(model, &act));
  PetscCheck(act.threshold == 0.33, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "RmModelSetThreshold did not set it");
  EXPECT_ERROR(RmModelSetActivation(model, RMACTIVATIONTANH), PETSC_ERR_ARG_INCOMP, "tanh on the rate model");
  EXPECT_ERROR(RmModelSetActivation(model, "no-such-activation"), PETSC_ERR_ARG_UNKNOWN_TYPE, "an unknown activation");
  EXPECT_ERROR(RmModelSetGain(model, -1.0), PETSC_ERR_ARG_OUTOFRANGE, "a negative gain");
  PetscCall(RmModelDestroy(&model));
  PetscCall(UtSetOptions(NULL));
  PetscCall(RmModelCreate(PETSC_COMM_WORLD, &model)); /* no threshold set: a new activation takes its default */
  PetscCall(RmModelSetActivation(model, RMACTIVATIONRECTANH));
  PetscCall(RmModelGetActivation(model, &act));
  PetscCheck(act.threshold == UtActivation(RMACTIVATIONRECTANH)->default_threshold, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "rectanh took threshold %g, not its default",
             (double)act.threshold);
  PetscCall(RmModelDestroy(&model));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t206 model: activation, gain and threshold setters override the options; bad values refused\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckPrefixes(void)
{
  RmSynapses    syn, plain;
  RmMemories    mem;
  RmModel       model;
  RmClassifier  cl;
  RmIntegrator  integ;
  RmStorageType type;
  RmActivation  act;
  RmIntegratorType itype;
  PetscInt      n, P;
  PetscReal     thr;
  PetscBool     same;

  PetscFunctionBeginUser;
  PetscCall(UtSetOptions(NULL));
  PetscCall(PetscOptionsInsertString(NULL, "-t206_storage aij -t206_neurons 64 -t206_memories 4 -t206_activation rectanh -t206_overlap_threshold 0.8 -t206_integrator euler"));
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
  PetscCall(RmSynapsesSetOptionsPrefix(syn, "t206_"));
  PetscCall(RmSynapsesSetFromOptions(syn));
  PetscCall(RmSynapsesGetType(syn, &type));
  PetscCall(PetscStrcmp(type, RMSTORAGEAIJ, &same));
  PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "-t206_storage aij gave storage %s", type);
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &plain));
  PetscCall(RmSynapsesSetFromOptions(plain));
  PetscCall(RmSynapsesGetType(plain, &type));
  PetscCall(PetscStrcmp(type, RMSTORAGEDENSE, &same));
  PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "an unprefixed synapses object read -t206_storage (storage %s)", type);
  PetscCall(RmMemoriesCreate(PETSC_COMM_WORLD, &mem));
  PetscCall(RmMemoriesSetOptionsPrefix(mem, "t206_"));
  PetscCall(RmMemoriesSetFromOptions(mem));
  PetscCall(RmMemoriesSetUp(mem));
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCheck(n == 64 && P == 4, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "prefixed memories have n %" PetscInt_FMT ", P %" PetscInt_FMT, n, P);
  PetscCall(RmModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(RmModelSetOptionsPrefix(model, "t206_"));
  PetscCall(RmModelSetFromOptions(model));
  PetscCall(RmModelGetActivation(model, &act));
  PetscCheck(act.fn == UtActivation(RMACTIVATIONRECTANH), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "prefixed model has activation %s", act.fn->name);
  PetscCall(RmClassifierCreate(mem, &cl));
  PetscCall(RmClassifierSetOptionsPrefix(cl, "t206_"));
  PetscCall(RmClassifierSetFromOptions(cl));
  PetscCall(RmClassifierGetThreshold(cl, &thr));
  PetscCheck(thr == 0.8, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "prefixed classifier has threshold %g", (double)thr);
  PetscCall(RmIntegratorCreate(PETSC_COMM_WORLD, &integ));
  PetscCall(RmIntegratorSetOptionsPrefix(integ, "t206_"));
  PetscCall(RmIntegratorSetFromOptions(integ));
  PetscCall(RmIntegratorGetType(integ, &itype));
  PetscCall(PetscStrcmp(itype, RMINTEGRATOREULER, &same));
  PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "prefixed integrator is %s", itype);
  PetscCall(RmIntegratorDestroy(&integ));
  PetscCall(RmClassifierDestroy(&cl));
  PetscCall(RmModelDestroy(&model));
  PetscCall(RmMemoriesDestroy(&mem));
  PetscCall(RmSynapsesDestroy(&plain));
  PetscCall(RmSynapsesDestroy(&syn));
  for (const char *const *k = (const char *const[]){"-t206_storage", "-t206_neurons", "-t206_memories", "-t206_activation", "-t206_overlap_threshold", "-t206_integrator", NULL}; *k; k++)
    PetscCall(PetscOptionsClearValue(NULL, *k));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t206 prefixes: memories, synapses, model, classifier and integrator read their prefixed options only\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  PetscCall(CheckMemories());
  PetscCall(CheckSynapses());
  PetscCall(CheckModel());
  PetscCall(CheckPrefixes());
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char help[] = "t206: setters and options prefixes.\n";

UT_MAIN(help, Run)
