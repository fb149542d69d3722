/* t302-model-register: a model kind added from outside the library, with one RmModelRegister call.
   The test kind "relax" is linear relaxation towards the constant input, τ ẋ = −k (x − u·1), with
   k its own option -relax_rate (read by its SetFromOptions) and u the generic -input: its state
   at time t is u + (x₀ − u) e^{−k t/τ}, so the equilibrium is x = u·1 exactly. Its Jacobian is
   −k/τ I, of none of the D W / W D / pools forms. Checks, on any number of ranks:
   (a) -model_type relax selects it (RmModelGetType), -relax_rate reaches it, and its RHS equals the
       formula at a partition-independent state;
   (b) bdf (Newton-Krylov with its J v and diagonal), adams and euler integrate it to u·1 (to the
       convergence tolerance) with no weight product, and bdf's Krylov solver is not Woodbury's;
   (c) the solvers that need a Jacobian form refuse it by a query, not a guess: RmWoodburyApplicable
       is false with a reason, -cvode_ls woodbury is an error, RmModelGetInhibition is an error;
   (d) an unknown -model_type (or RmModelSetType name) is PETSC_ERR_ARG_UNKNOWN_TYPE, a kind that
       disagrees with the design's memories (-design hebbian -model_type rate) or with -network ei is
       PETSC_ERR_ARG_INCOMP, and -relax_rate with another kind is left unread (an unknown option). */
#include "utcommon.h"
#include "dynamics/dynamicsimpl.h"

#define EXPECT_ERROR(call, code, what) \
  do { \
    PetscErrorCode e_; \
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); \
    e_ = (call); \
    PetscCall(PetscPopErrorHandler()); \
    PetscCheck(e_ == (code), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: returned %d, expected %d", what, (int)e_, (int)(code)); \
  } while (0)

typedef struct {
  PetscReal k; /* -relax_rate */
} Relax;

static PetscErrorCode SetFromOptions_Relax(PetscOptionItems *PetscOptionsObject, RmModel model)
{
  Relax *rx = (Relax *)model->data;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsReal("-relax_rate", "t302's relax model: rate k of tau x' = -k (x - input)", "t302", rx->k, &rx->k, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Check_Relax(RmModel model)
{
  Relax *rx = (Relax *)model->data;

  PetscFunctionBeginUser;
  PetscCheck(rx->k > 0, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "relax_rate must be > 0, got %g", (double)rx->k);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RHS_Relax(RmModel model, Vec x, Vec f)
{
  Relax *rx = (Relax *)model->data;

  PetscFunctionBeginUser;
  PetscCall(VecCopy(x, f));
  PetscCall(VecShift(f, -model->input));
  PetscCall(VecScale(f, -rx->k / model->tau));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* J = −k/τ I: its diagonal for the preconditioner; dphi is not meaningful for this kind (0). */
static PetscErrorCode JacobianSetUp_Relax(RmModel model, Vec x, Vec f)
{
  Relax *rx = (Relax *)model->data;

  PetscFunctionBeginUser;
  (void)x;
  (void)f;
  PetscCall(VecSet(model->diag, -rx->k / model->tau));
  PetscCall(VecSet(model->dphi, 0.0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode JacobianMult_Relax(RmModel model, Vec v, Vec Jv)
{
  Relax *rx = (Relax *)model->data;

  PetscFunctionBeginUser;
  PetscCall(VecAXPBY(Jv, -rx->k / model->tau, 0.0, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Destroy_Relax(RmModel model)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(model->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RmModelCreate_Relax(RmModel model)
{
  Relax *rx;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&rx));
  rx->k                     = 1.0;
  model->data               = rx;
  model->jacobian_form      = RM_JACOBIAN_OPAQUE;
  model->encoding           = RM_ENCODING_BINARY; /* works with the rate designs' memories (it ignores them) */
  model->ops.setfromoptions = SetFromOptions_Relax;
  model->ops.check          = Check_Relax;
  model->ops.rhs            = RHS_Relax;
  model->ops.jacobiansetup  = JacobianSetUp_Relax;
  model->ops.jacobianmult   = JacobianMult_Relax;
  model->ops.destroy        = Destroy_Relax;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* x_i: a partition-independent function of the global index. */
static PetscErrorCode FillVec(Vec x)
{
  PetscInt     rstart, rend;
  PetscScalar *xa;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(x, &rstart, &rend));
  PetscCall(VecGetArrayWrite(x, &xa));
  for (PetscInt i = rstart; i < rend; i++) xa[i - rstart] = 0.5 + 0.4 * PetscSinReal(0.37 * i);
  PetscCall(VecRestoreArrayWrite(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (a) and (b): select, check the RHS, integrate with one method. */
static PetscErrorCode CheckRelax(const char *integrator)
{
  UtNet             net;
  RmModelType       type;
  RmJacobianForm    form;
  RmIntegrator      integ;
  RmIntegratorStats st;
  Vec               x, f, ref;
  PetscReal         err = 0, tau = 0.5, k = 2.0, u = 0.3, dist = 0;
  PetscBool         same, ok;
  const char       *why;
  char              opts[256];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opts, sizeof(opts), "-neurons 200 -memories 4 -seed 3 -model_type relax -tau %g -input %g -integrator %s -converge_tol 1e-8 -t_final 200 -rtol 1e-8 -atol 1e-10 -euler_dt 0.01",
                          (double)tau, (double)u, integrator));
  PetscCall(PetscOptionsSetValue(NULL, "-relax_rate", "2"));
  PetscCall(UtNetCreate(PETSC_COMM_WORLD, opts, &net));
  PetscCall(PetscOptionsClearValue(NULL, "-relax_rate"));
  PetscCall(RmModelGetType(net.model, &type));
  PetscCall(PetscStrcmp(type, "relax", &same));
  PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "-model_type relax gave model type %s", type);
  PetscCall(RmModelGetJacobianForm(net.model, &form));
  PetscCheck(form == RM_JACOBIAN_OPAQUE, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "relax reports Jacobian form %s", RmJacobianForms[form]);
  /* (a) RHS = −k (x − u)/τ, with k = 2 from -relax_rate */
  PetscCall(RmModelCreateState(net.model, &x));
  PetscCall(VecDuplicate(x, &f));
  PetscCall(VecDuplicate(x, &ref));
  PetscCall(FillVec(x));
  PetscCall(RmModelRHS(net.model, x, f));
  PetscCall(VecCopy(x, ref));
  PetscCall(VecShift(ref, -u));
  PetscCall(VecScale(ref, -k / tau));
  PetscCall(UtRelDiff(f, ref, &err));
  PetscCheck(err < 1e-14, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "relax RHS differs from -k (x - u)/tau by %g (relative): -relax_rate not read?", (double)err);
  /* (c) refusals by query */
  PetscCall(RmWoodburyApplicable(net.model, &ok, &why));
  PetscCheck(!ok && why && why[0], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "Woodbury accepted a model without a D W / W D / pools Jacobian");
  EXPECT_ERROR(RmModelGetInhibition(net.model, NULL, NULL), PETSC_ERR_ARG_INCOMP, "RmModelGetInhibition of a model without pools");
  /* (b) integrate to the equilibrium u·1 */
  PetscCall(RmIntegratorCreate(PETSC_COMM_WORLD, &integ));
  PetscCall(RmIntegratorSetFromOptions(integ));
  PetscCall(RmIntegratorSetModel(integ, net.model));
  PetscCall(RmIntegratorSetUp(integ));
  PetscCall(RmIntegratorSolve(integ, x, &st));
  PetscCall(VecSet(ref, u));
  PetscCall(VecAXPY(ref, -1.0, x));
  PetscCall(VecNorm(ref, NORM_INFINITY, &dist));
  PetscCheck(st.converged, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] relax did not converge (t_end %g, residual %g)", integrator, (double)st.t_end, (double)st.residual);
  /* converged: τ‖f‖∞ = k‖x − u‖∞ < 1e-8 */
  PetscCheck(dist < 1e-8 / k * 1.0001, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] relax ended %g from its equilibrium u", integrator, (double)dist);
  PetscCheck(st.weight_products == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] relax made %" PetscInt64_FMT " weight products (it has none)", integrator,
             st.weight_products);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t302 relax %-5s t_end %8.3f steps %5" PetscInt64_FMT " rhs %5" PetscInt64_FMT " |x - u|_inf %.1e\n", integrator,
                        (double)st.t_end, st.steps, st.rhs_evals, (double)dist));
  PetscCall(RmIntegratorDestroy(&integ));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&f));
  PetscCall(VecDestroy(&ref));
  PetscCall(UtNetDestroy(&net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The model set-up of UtNetCreate with the options opts, returning its error (the handler pushed). */
static PetscErrorCode NetError(const char *opts, PetscErrorCode *ierr)
{
  RmSynapses   syn;
  RmModel      model;
  RmDesignType design;
  RmModelType  mtype;

  PetscFunctionBeginUser;
  PetscCall(UtSetOptions(opts));
  PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
  PetscCall(RmSynapsesSetFromOptions(syn));
  PetscCall(RmSynapsesGetDesignType(syn, &design));
  PetscCall(RmDesignTypeGetModel(design, &mtype, NULL));
  PetscCall(RmModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(RmModelSetType(model, mtype));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  *ierr = RmModelSetFromOptions(model);
  PetscCall(PetscPopErrorHandler());
  PetscCall(RmModelDestroy(&model));
  PetscCall(RmSynapsesDestroy(&syn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (c) -cvode_ls woodbury and (d) the refusals. */
static PetscErrorCode CheckErrors(void)
{
  RmModel        model;
  RmModelType    type;
  PetscErrorCode ierr = PETSC_SUCCESS;
  PetscBool      same, used;
  static const struct {
    const char    *opts;
    PetscErrorCode code;
  } cases[] = {
    {"-model_type no-such-model",                     PETSC_ERR_ARG_UNKNOWN_TYPE},
    {"-design hebbian -model_type rate",              PETSC_ERR_ARG_INCOMP      },
    {"-design paper -model_type voltage",             PETSC_ERR_ARG_INCOMP      },
    {"-design paper -model_type relax -network ei",   PETSC_ERR_ARG_INCOMP      },
    {"-design paper -model_type rate -network ei",    PETSC_ERR_ARG_INCOMP      },
    {"-design hebbian -network ei",                   PETSC_ERR_ARG_INCOMP      },
    {"-design paper -model_type ei -input_variant rate", PETSC_ERR_ARG_INCOMP   },
  };

  PetscFunctionBeginUser;
  PetscCall(RmModelCreate(PETSC_COMM_WORLD, &model));
  EXPECT_ERROR(RmModelSetType(model, "no-such-model"), PETSC_ERR_ARG_UNKNOWN_TYPE, "RmModelSetType(no-such-model)");
  PetscCall(RmModelGetType(model, &type));
  PetscCall(PetscStrcmp(type, RMMODELRATE, &same));
  PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "a failed RmModelSetType changed the model to %s", type);
  PetscCall(RmModelSetType(model, "relax"));
  PetscCall(RmModelSetType(model, RMMODELEI)); /* a kind replaced before set-up frees the old one's data */
  PetscCall(RmModelDestroy(&model));
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    PetscCall(NetError(cases[c].opts, &ierr));
    PetscCheck(ierr == cases[c].code, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] RmModelSetFromOptions returned %d, expected %d", cases[c].opts, (int)ierr,
               (int)cases[c].code);
  }
  for (const char *const *k = (const char *const[]){"-model_type", "-input_variant", "-relax_rate", NULL}; *k; k++) PetscCall(PetscOptionsClearValue(NULL, *k));
  /* the kinds the design picks, and the older switches, still give the same kinds */
  {
    static const struct {
      const char *opts, *type;
    } sel[] = {
      {"-design paper",                                  RMMODELRATE     },
      {"-design projection",                             RMMODELRATE     },
      {"-design hebbian",                                RMMODELVOLTAGE  },
      {"-design paper -network ei",                      RMMODELEI       },
      {"-design paper -input_variant rate",              RMMODELINPUTRATE},
      {"-design paper -model_type inputrate",            RMMODELINPUTRATE},
      {"-design hebbian -model_type voltage",            RMMODELVOLTAGE  },
    };
    for (size_t c = 0; c < sizeof(sel) / sizeof(sel[0]); c++) {
      RmSynapses   syn;
      RmDesignType design;
      RmModelType  mtype;
      PetscCall(UtSetOptions(sel[c].opts));
      PetscCall(RmSynapsesCreate(PETSC_COMM_WORLD, &syn));
      PetscCall(RmSynapsesSetFromOptions(syn));
      PetscCall(RmSynapsesGetDesignType(syn, &design));
      PetscCall(RmDesignTypeGetModel(design, &mtype, NULL));
      PetscCall(RmModelCreate(PETSC_COMM_WORLD, &model));
      PetscCall(RmModelSetType(model, mtype));
      PetscCall(RmModelSetFromOptions(model));
      PetscCall(RmModelGetType(model, &type));
      PetscCall(PetscStrcmp(type, sel[c].type, &same));
      PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "[%s] gave model type %s, expected %s", sel[c].opts, type, sel[c].type);
      PetscCall(RmModelDestroy(&model));
      PetscCall(RmSynapsesDestroy(&syn));
      PetscCall(PetscOptionsClearValue(NULL, "-model_type"));
      PetscCall(PetscOptionsClearValue(NULL, "-input_variant"));
    }
  }
  /* -relax_rate belongs to relax: the rate model leaves it unread */
  PetscCall(UtSetOptions("-design paper"));
  PetscCall(PetscOptionsSetValue(NULL, "-relax_rate", "3"));
  PetscCall(RmModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(RmModelSetFromOptions(model));
  PetscCall(RmModelDestroy(&model));
  PetscCall(PetscOptionsUsed(NULL, "-relax_rate", &used));
  PetscCheck(!used, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "-relax_rate was read by the rate model");
  PetscCall(PetscOptionsClearValue(NULL, "-relax_rate"));
  /* -cvode_ls woodbury on relax: refused at the integrator's set-up */
  {
    UtNet        net;
    RmIntegrator integ;
    PetscCall(UtNetCreate(PETSC_COMM_WORLD, "-neurons 60 -memories 3 -model_type relax -integrator bdf -cvode_ls woodbury", &net));
    PetscCall(RmIntegratorCreate(PETSC_COMM_WORLD, &integ));
    PetscCall(RmIntegratorSetFromOptions(integ));
    PetscCall(RmIntegratorSetModel(integ, net.model));
    EXPECT_ERROR(RmIntegratorSetUp(integ), PETSC_ERR_ARG_INCOMP, "-cvode_ls woodbury with the relax model");
    PetscCall(RmIntegratorDestroy(&integ));
    PetscCall(UtNetDestroy(&net));
  }
  PetscCall(UtSetOptions(NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  PetscCall(RmModelRegister("relax", RmModelCreate_Relax)); /* the one line that adds a model kind */
  PetscCall(CheckRelax(RMINTEGRATORBDF));
  PetscCall(CheckRelax(RMINTEGRATORADAMS));
  PetscCall(CheckRelax(RMINTEGRATOREULER));
  PetscCall(CheckErrors());
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char help[] = "t302: a model kind registered by the test itself (RmModelRegister).\n";

UT_MAIN(help, Run)
