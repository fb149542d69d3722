/* What a run of trials reports: the results table (stdout), the JSON summary (docs/output.md) and
   -ratemem_view; the "model" and "network" objects are shared with the other subcommands' summaries. */
#include "runimpl.h"
#include <ratemem/ratemem.h>
#include "ratemem_version.h"

/* The table's title and column header, printed before the first trial runs. */
PetscErrorCode RmRunPrintTableHeader_Private(RmRun run)
{
  PetscInt         n, P, K;
  RmDesignType     design;
  RmStorageType    storage;
  RmIntegratorType method;

  PetscFunctionBeginUser;
  if (run->quiet) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmMemoriesGetSizes(run->mem, &n, &P));
  PetscCall(RmSynapsesGetDesignType(run->syn, &design));
  PetscCall(RmSynapsesGetType(run->syn, &storage));
  PetscCall(RmSynapsesGetIndegree(run->syn, &K));
  PetscCall(RmIntegratorGetType(run->integ, &method));
  PetscCall(PetscPrintf(run->comm, "ratemem retrieve: n = %" PetscInt_FMT ", P = %" PetscInt_FMT ", design %s, storage %s", n, P, RmDesignTypes[design],
                        storage));
  if (K) PetscCall(PetscPrintf(run->comm, " (indegree %" PetscInt_FMT ")", K));
  {
    PetscBool chosen;
    PetscCall(RmIntegratorGetAuto(run->integ, &chosen, NULL));
    PetscCall(PetscPrintf(run->comm, ", integrator %s%s, %d rank%s\n\n", chosen ? "auto -> " : "", method, run->size, run->size > 1 ? "s" : ""));
  }
  PetscCall(PetscPrintf(run->comm, "%6s %4s %6s  %-12s %7s %8s %9s %7s %7s %10s\n", "trial", "cue", "flip", "label", "nearest", "overlap", "t_end", "steps",
                        "rhs", "residual"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One trial's row, printed as soon as the trial is classified. */
PetscErrorCode RmRunPrintTableRow_Private(RmRun run, PetscInt t)
{
  const RmTrialResult *r = &run->results[t];

  PetscFunctionBeginUser;
  if (run->quiet) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscPrintf(run->comm, "%6" PetscInt_FMT " %4" PetscInt_FMT " %6.3f  %-12s %7" PetscInt_FMT " %8.4f %9.3f %7" PetscInt64_FMT " %7" PetscInt64_FMT " %10.2e\n", t,
                        r->cue_memory, (double)run->cue.flip, RmLabels[r->label], r->nearest, (double)r->overlap, (double)r->stats.t_end, r->stats.steps,
                        r->stats.rhs_evals, (double)r->stats.residual));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunPrintTotals(RmRun run)
{
  PetscInt n, ok;

  PetscFunctionBeginUser;
  if (run->quiet) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmMemoriesGetSizes(run->mem, &n, NULL));
  ok = RmRunCountLabel(run, RM_LABEL_RETRIEVED);
  PetscCall(PetscPrintf(run->comm, "\nretrieval rate: %" PetscInt_FMT "/%" PetscInt_FMT " = %.3f  (retrieved %" PetscInt_FMT ", other %" PetscInt_FMT
                                   ", saturated %" PetscInt_FMT ", quiescent %" PetscInt_FMT ", spurious %" PetscInt_FMT ", unconverged %" PetscInt_FMT ")\n",
                        ok, run->trials, (double)ok / run->trials, ok, RmRunCountLabel(run, RM_LABEL_OTHER), RmRunCountLabel(run, RM_LABEL_SATURATED),
                        RmRunCountLabel(run, RM_LABEL_QUIESCENT), RmRunCountLabel(run, RM_LABEL_SPURIOUS), RmRunCountLabel(run, RM_LABEL_UNCONVERGED)));
  PetscCall(PetscPrintf(run->comm, "wall time (s): generate %.3f, assemble %.3f, integrate %.3f, classify %.3f, output %.3f, total %.3f\n",
                        run->t_generate, run->t_assemble, run->t_integrate, run->t_classify, run->t_output, run->t_total));
  PetscCall(PetscPrintf(run->comm, "peak memory: %.1f MB on the largest rank, %.1f MB in all (%.1f bytes per neuron); estimated %.1f MB per rank\n",
                        run->peak_max_rank / 1048576.0, run->peak_total / 1048576.0, run->peak_total / n, run->memory_estimate / 1048576.0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The settings of the run: model, network, cue, integrator, overlap threshold. */
static PetscErrorCode WriteSummarySettings(RmRun run, RmJSON *j)
{
  RmIntegratorType method;
  PetscReal        rtol, atol, t_final, ctol, dt, thr;
  PetscBool        fixed;

  PetscFunctionBeginUser;
  PetscCall(RmRunJSONModel(j, run->model, run->syn, PETSC_FALSE));
  PetscCall(RmRunJSONNetwork(j, run->mem, run->syn));
  PetscCall(RmJSONBeginObject(j, "cue"));
  PetscCall(RmJSONString(j, "kind", RmCueKinds[run->cue.kind]));
  PetscCall(RmJSONReal(j, "flip", run->cue.flip));
  PetscCall(RmJSONInt(j, "mixture_count", run->cue.mixture_count));
  PetscCall(RmJSONReal(j, "keep", run->cue.keep));
  PetscCall(RmJSONEndObject(j));
  PetscCall(RmIntegratorGetType(run->integ, &method));
  PetscCall(RmIntegratorGetTolerances(run->integ, &rtol, &atol));
  PetscCall(RmIntegratorGetSettings(run->integ, &t_final, &ctol, &dt));
  PetscCall(RmJSONBeginObject(j, "integrator"));
  PetscCall(RmJSONString(j, "method", method));
  {
    PetscBool   chosen;
    const char *reason;
    PetscCall(RmIntegratorGetAuto(run->integ, &chosen, &reason));
    if (chosen) { /* -integrator auto: method is its choice */
      PetscCall(RmJSONString(j, "requested", RMINTEGRATORAUTO));
      PetscCall(RmJSONString(j, "auto_reason", reason));
    }
  }
  PetscCall(RmJSONReal(j, "rtol", rtol));
  PetscCall(RmJSONReal(j, "atol", atol));
  PetscCall(RmJSONReal(j, "t_final", t_final));
  PetscCall(RmJSONReal(j, "converge_tol", ctol));
  PetscCall(RmJSONInt(j, "batch", run->batch));
  PetscCall(RmIntegratorIsFixedStep(run->integ, &fixed));
  if (fixed) PetscCall(RmJSONReal(j, "dt", dt)); /* euler, em */
  PetscCall(RmJSONEndObject(j));
  PetscCall(RmClassifierGetThreshold(run->cl, &thr));
  PetscCall(RmJSONReal(j, "overlap_threshold", thr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteSummaryTrial(RmJSON *j, PetscInt t, const RmTrialResult *r, PetscReal flip)
{
  const RmIntegratorStats *s = &r->stats;

  PetscFunctionBeginUser;
  PetscCall(RmJSONBeginObject(j, NULL));
  PetscCall(RmJSONInt(j, "trial", t));
  PetscCall(RmJSONInt(j, "cue_memory", r->cue_memory));
  PetscCall(RmJSONReal(j, "flip_fraction", flip));
  PetscCall(RmJSONBool(j, "converged", s->converged));
  PetscCall(RmJSONString(j, "label", RmLabels[r->label]));
  PetscCall(RmJSONInt(j, "nearest_memory", r->nearest));
  PetscCall(RmJSONReal(j, "overlap", r->overlap));
  PetscCall(RmJSONReal(j, "overlap_cue", r->overlap_cue));
  PetscCall(RmJSONReal(j, "overlap_raw", r->overlap_raw));
  PetscCall(RmJSONReal(j, "overlap_uncentred", r->overlap_uncentred));
  PetscCall(RmJSONReal(j, "amplitude", r->amplitude));
  PetscCall(RmJSONReal(j, "t_end", s->t_end));
  PetscCall(RmJSONInt(j, "steps", s->steps));
  PetscCall(RmJSONInt(j, "rhs_evals", s->rhs_evals));
  PetscCall(RmJSONInt(j, "prec_setups", s->prec_setups));
  PetscCall(RmJSONInt(j, "prec_solves", s->prec_solves));
  PetscCall(RmJSONInt(j, "weight_products", s->weight_products));
  PetscCall(RmJSONReal(j, "residual", s->residual));
  PetscCall(RmJSONInt(j, "jtimes_evals", s->jtimes_evals));
  PetscCall(RmJSONInt(j, "jac_setups", s->jac_setups));
  PetscCall(RmJSONInt(j, "nonlin_iters", s->nonlin_iters));
  PetscCall(RmJSONInt(j, "lin_iters", s->lin_iters));
  PetscCall(RmJSONInt(j, "err_test_fails", s->err_test_fails));
  PetscCall(RmJSONInt(j, "nonlin_conv_fails", s->nonlin_conv_fails));
  PetscCall(RmJSONInt(j, "lin_conv_fails", s->lin_conv_fails));
  PetscCall(RmJSONReal(j, "wall_time", s->wall_time));
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Collective. Each rank's host name, gathered on rank 0 (*hosts: size blocks of MPI_MAX_PROCESSOR_NAME
   chars there, NULL elsewhere): the summary's "hosts" says where the ranks ran, e.g. on how many nodes. */
static PetscErrorCode GatherHosts(RmRun run, char **hosts)
{
  char        name[MPI_MAX_PROCESSOR_NAME] = {0};
  int         len;
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  *hosts = NULL;
  PetscCallMPI(MPI_Comm_rank(run->comm, &rank));
  PetscCallMPI(MPI_Get_processor_name(name, &len));
  name[MPI_MAX_PROCESSOR_NAME - 1] = 0;
  if (!rank) PetscCall(PetscCalloc1((size_t)run->size * MPI_MAX_PROCESSOR_NAME, hosts));
  PetscCallMPI(MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, *hosts, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, run->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  RmRun run;
  char *hosts;
} SummaryCtx;

static PetscErrorCode SummaryWriter(void *ctx, FILE *fp)
{
  SummaryCtx *sc  = (SummaryCtx *)ctx;
  RmRun       run = sc->run;
  RmJSON      j;
  PetscReal   passes = 0; /* each batch's products are shared by its trials */

  PetscFunctionBeginUser;
  PetscCall(RmJSONBegin(&j, fp));
  PetscCall(RmJSONString(&j, "ratemem_version", RATEMEM_VERSION));
  PetscCall(RmJSONString(&j, "ratemem_commit", RATEMEM_COMMIT));
  PetscCall(RmJSONString(&j, "command", "retrieve"));
  PetscCall(RmJSONInt(&j, "ranks", run->size));
  PetscCall(RmJSONBeginArray(&j, "hosts"));
  for (PetscMPIInt r = 0; r < run->size; r++) PetscCall(RmJSONString(&j, NULL, sc->hosts + (size_t)r * MPI_MAX_PROCESSOR_NAME));
  PetscCall(RmJSONEndArray(&j));
  PetscCall(WriteSummarySettings(run, &j));
  PetscCall(RmJSONBeginArray(&j, "trials"));
  for (PetscInt t = 0; t < run->trials; t++) PetscCall(WriteSummaryTrial(&j, t, &run->results[t], run->cue.flip));
  PetscCall(RmJSONEndArray(&j));
  PetscCall(RmJSONReal(&j, "retrieval_rate", (PetscReal)RmRunCountLabel(run, RM_LABEL_RETRIEVED) / run->trials));
  for (PetscInt t = 0; t < run->trials; t += run->batch) passes += (PetscReal)run->results[t].stats.weight_products;
  PetscCall(RmJSONReal(&j, "weight_passes_per_trial", passes / run->trials));
  PetscCall(RmJSONBeginObject(&j, "counts"));
  for (RmLabel l = RM_LABEL_RETRIEVED; l < RM_LABEL_COUNT; l++) PetscCall(RmJSONInt(&j, RmLabels[l], RmRunCountLabel(run, l)));
  PetscCall(RmJSONEndObject(&j));
  PetscCall(RmJSONBeginObject(&j, "memory"));
  PetscCall(RmJSONReal(&j, "peak_rss_max_rank", run->peak_max_rank));
  PetscCall(RmJSONReal(&j, "peak_rss_total", run->peak_total));
  PetscCall(RmJSONReal(&j, "estimate_per_rank", run->memory_estimate));
  PetscCall(RmJSONEndObject(&j));
  PetscCall(RmJSONBeginObject(&j, "timings"));
  PetscCall(RmJSONReal(&j, "generate", run->t_generate));
  PetscCall(RmJSONReal(&j, "assemble", run->t_assemble));
  PetscCall(RmJSONReal(&j, "integrate", run->t_integrate));
  PetscCall(RmJSONReal(&j, "classify", run->t_classify));
  PetscCall(RmJSONReal(&j, "output", run->t_output));
  PetscCall(RmJSONReal(&j, "total", run->t_total));
  PetscCall(RmJSONEndObject(&j));
  PetscCall(RmJSONEnd(&j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunWriteSummary(RmRun run, const char *path)
{
  SummaryCtx sc = {run, NULL};

  PetscFunctionBeginUser;
  PetscCall(GatherHosts(run, &sc.hosts));
  PetscCall(RmWriteFileAtomic(run->comm, path, SummaryWriter, &sc));
  PetscCall(PetscFree(sc.hosts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunView(RmRun run, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "RmRun: %" PetscInt_FMT " trials, batch %" PetscInt_FMT ", cue %s (flip %g, keep %g, mixture of %" PetscInt_FMT ")\n",
                                   run->trials, run->batch, RmCueKinds[run->cue.kind], (double)run->cue.flip, (double)run->cue.keep, run->cue.mixture_count));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(RmMemoriesView(run->mem, viewer));
  PetscCall(RmSynapsesView(run->syn, viewer));
  PetscCall(RmModelView(run->model, viewer));
  PetscCall(RmIntegratorView(run->integ, viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- JSON summary sections
   The "model" and "network" objects of the retrieve and stability summaries: one schema for both. */
PetscErrorCode RmRunJSONModel(RmJSON *j, RmModel model, RmSynapses syn, PetscBool per_point)
{
  RmActivation act;
  RmDesign     d;
  RmModelKind  kind;
  PetscReal    tau;

  PetscFunctionBeginUser;
  PetscCall(RmModelGetActivation(model, &act));
  PetscCall(RmModelGetKind(model, &kind));
  PetscCall(RmModelGetTau(model, &tau));
  PetscCall(RmSynapsesGetDesign(syn, &d));
  PetscCall(RmJSONBeginObject(j, "model"));
  PetscCall(RmJSONString(j, "kind", RmModelKinds[kind]));
  PetscCall(RmJSONString(j, "activation", act.fn->name));
  if (!per_point) {
    PetscCall(RmJSONReal(j, "gain", act.gain));
    PetscCall(RmJSONReal(j, "threshold", act.threshold));
  }
  PetscCall(RmJSONReal(j, "a", d.a));
  PetscCall(RmJSONReal(j, "b", d.b));
  PetscCall(RmJSONReal(j, "coding", d.coding));
  PetscCall(RmJSONReal(j, "balance", d.balance));
  PetscCall(RmJSONReal(j, "tau", tau));
  if (kind == RM_MODEL_EI) {
    PetscReal tau_i;
    PetscInt  pool_size;
    PetscCall(RmModelGetInhibition(model, &tau_i, &pool_size));
    PetscCall(RmJSONReal(j, "tau_i", tau_i));
    PetscCall(RmJSONReal(j, "stiffness", tau / tau_i));
    PetscCall(RmJSONInt(j, "pool_size", pool_size));
  }
  if (!per_point) { /* the design coefficients depend on the activation */
    PetscCall(RmJSONReal(j, "alpha", d.alpha));
    PetscCall(RmJSONReal(j, "alpha_basic", d.alpha_basic));
    PetscCall(RmJSONReal(j, "beta", d.beta));
    PetscCall(RmJSONReal(j, "gamma", d.gamma));
    PetscCall(RmJSONReal(j, "phi_a", d.phi_a));
    PetscCall(RmJSONReal(j, "phi_b", d.phi_b));
  }
  if (d.gram_cond > 0) { /* -design projection (docs/model.md §2): W 1 = λ 1 and cond(G), G = UᵀU */
    PetscCall(RmJSONReal(j, "lambda", d.lambda));
    PetscCall(RmJSONReal(j, "gram_cond", d.gram_cond));
    PetscCall(RmJSONReal(j, "weight_norm", d.weight_norm));
  }
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunJSONNetwork(RmJSON *j, RmMemories mem, RmSynapses syn)
{
  PetscInt      n, P, K;
  PetscInt64    seed;
  RmDesignType  design;
  RmStorageType storage;
  RmPatternKind pkind;
  const char   *kernel;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetSeed(mem, &seed));
  PetscCall(RmMemoriesGetKind(mem, &pkind));
  PetscCall(RmSynapsesGetDesignType(syn, &design));
  PetscCall(RmSynapsesGetType(syn, &storage));
  PetscCall(RmSynapsesGetIndegree(syn, &K));
  PetscCall(RmSynapsesGetKernelName(syn, &kernel));
  PetscCall(RmJSONBeginObject(j, "network"));
  PetscCall(RmJSONInt(j, "n", n));
  PetscCall(RmJSONInt(j, "memories", P));
  PetscCall(RmJSONString(j, "design", RmDesignTypes[design]));
  PetscCall(RmJSONString(j, "storage", storage));
  PetscCall(RmJSONInt(j, "indegree", K));
  PetscCall(RmJSONString(j, "kernel", kernel));
  PetscCall(RmJSONInt(j, "seed", seed));
  PetscCall(RmJSONString(j, "patterns", RmPatternKinds[pkind]));
  PetscCall(RmJSONEndObject(j));
  PetscFunctionReturn(PETSC_SUCCESS);
}
