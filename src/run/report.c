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
  if (run->cue.kind == RM_CUE_RANDOM) { /* a census of random initial states: where they end, with 95% Wilson intervals */
    PetscInt counts[5];
    PetscCall(RmRunGetCensus(run, counts));
    PetscCall(PetscPrintf(run->comm, "census (95%% Wilson):"));
    for (int k = 0; k < 5; k++) {
      double lo, hi;
      RmWilsonInterval(counts[k], run->trials, 1.96, &lo, &hi);
      PetscCall(PetscPrintf(run->comm, "%s %s %.3f [%.3f, %.3f]", k ? "," : "", RmCensusOutcomes[k], (double)counts[k] / run->trials, lo, hi));
    }
    PetscCall(PetscPrintf(run->comm, "\n"));
  }
  PetscCall(PetscPrintf(run->comm, "wall time (s): generate %.3f, assemble %.3f, integrate %.3f, classify %.3f, output %.3f, total %.3f\n",
                        run->t_generate, run->t_assemble, run->t_integrate, run->t_classify, run->t_output, run->t_total));
  PetscCall(PetscPrintf(run->comm, "peak memory: %.1f MB on the largest rank, %.1f MB in all (%.1f bytes per neuron); estimated %.1f MB per rank\n",
                        run->peak_max_rank / 1048576.0, run->peak_total / 1048576.0, run->peak_total / n, run->memory_estimate / 1048576.0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

const char *const RmCensusOutcomes[] = {"memory", "quiescent", "saturated", "spurious", "unconverged", NULL};

PetscErrorCode RmRunGetCensus(RmRun run, PetscInt counts[5])
{
  PetscFunctionBeginUser;
  counts[0] = RmRunCountLabel(run, RM_LABEL_RETRIEVED) + RmRunCountLabel(run, RM_LABEL_OTHER);
  counts[1] = RmRunCountLabel(run, RM_LABEL_QUIESCENT);
  counts[2] = RmRunCountLabel(run, RM_LABEL_SATURATED);
  counts[3] = RmRunCountLabel(run, RM_LABEL_SPURIOUS);
  counts[4] = RmRunCountLabel(run, RM_LABEL_UNCONVERGED);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunGetStatistics(RmRun run, RmRunStatistics *st)
{
  const PetscReal T = (PetscReal)run->trials;
  PetscReal       thr, ov_sum = 0, ov_sq = 0, steps = 0, rhs = 0, t_end = 0, products = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(st, sizeof(*st)));
  PetscCall(RmClassifierGetThreshold(run->cl, &thr));
  st->trials = run->trials;
  for (PetscInt t = 0; t < run->trials; t++) {
    const RmTrialResult *r = &run->results[t];
    st->counts[r->label]++;
    st->final_ok += r->overlap_cue >= thr && r->amplitude_cue >= thr;
    ov_sum += r->overlap_cue;
    ov_sq += r->overlap_cue * r->overlap_cue;
    steps += (PetscReal)r->stats.steps;
    rhs += (PetscReal)r->stats.rhs_evals;
    t_end += r->stats.t_end;
    if (t % run->batch == 0) products += (PetscReal)r->stats.weight_products; /* one pass serves the whole batch */
  }
  st->overlap_mean = ov_sum / T;
  st->overlap_sd   = run->trials > 1 ? PetscSqrtReal(PetscMax(0.0, (ov_sq - T * st->overlap_mean * st->overlap_mean) / (T - 1))) : 0.0;
  st->steps = steps / T, st->rhs = rhs / T, st->t_end = t_end / T, st->products = products / T;
  PetscCall(RmRunGetCensus(run, st->census));
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
PetscErrorCode RmRunGatherHosts_Private(RmRun run, char **hosts)
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
  {
    RmKV kv;
    PetscCall(RmKVFromJSON(&j, &kv));
    PetscCall(RmRunDescribe(run, &kv)); /* model, network, cue, integrator, overlap threshold */
  }
  PetscCall(RmJSONBeginArray(&j, "trials"));
  for (PetscInt t = 0; t < run->trials; t++) PetscCall(WriteSummaryTrial(&j, t, &run->results[t], run->cue.flip));
  PetscCall(RmJSONEndArray(&j));
  PetscCall(RmJSONReal(&j, "retrieval_rate", (PetscReal)RmRunCountLabel(run, RM_LABEL_RETRIEVED) / run->trials));
  for (PetscInt t = 0; t < run->trials; t += run->batch) passes += (PetscReal)run->results[t].stats.weight_products;
  PetscCall(RmJSONReal(&j, "weight_passes_per_trial", passes / run->trials));
  PetscCall(RmJSONBeginObject(&j, "counts"));
  for (RmLabel l = RM_LABEL_RETRIEVED; l < RM_LABEL_COUNT; l++) PetscCall(RmJSONInt(&j, RmLabels[l], RmRunCountLabel(run, l)));
  PetscCall(RmJSONEndObject(&j));
  PetscCall(RmJSONBeginObject(&j, "fractions_ci95")); /* each label's fraction of the trials, 95% Wilson interval */
  for (RmLabel l = RM_LABEL_RETRIEVED; l < RM_LABEL_COUNT; l++) {
    double lo, hi;
    RmWilsonInterval(RmRunCountLabel(run, l), run->trials, 1.96, &lo, &hi);
    PetscCall(RmJSONBeginArray(&j, RmLabels[l]));
    PetscCall(RmJSONReal(&j, NULL, lo));
    PetscCall(RmJSONReal(&j, NULL, hi));
    PetscCall(RmJSONEndArray(&j));
  }
  PetscCall(RmJSONEndObject(&j));
  { /* the census of outcomes (docs/output.md): a memory (retrieved or other), quiescent, saturated copy, spurious, unconverged */
    PetscInt counts[5];
    PetscCall(RmRunGetCensus(run, counts));
    PetscCall(RmJSONBeginObject(&j, "census"));
    for (int k = 0; k < 5; k++) {
      double lo, hi;
      RmWilsonInterval(counts[k], run->trials, 1.96, &lo, &hi);
      PetscCall(RmJSONBeginObject(&j, RmCensusOutcomes[k]));
      PetscCall(RmJSONInt(&j, "count", counts[k]));
      PetscCall(RmJSONReal(&j, "fraction", (PetscReal)counts[k] / run->trials));
      PetscCall(RmJSONBeginArray(&j, "ci95"));
      PetscCall(RmJSONReal(&j, NULL, lo));
      PetscCall(RmJSONReal(&j, NULL, hi));
      PetscCall(RmJSONEndArray(&j));
      PetscCall(RmJSONEndObject(&j));
    }
    PetscCall(RmJSONEndObject(&j));
  }
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
  PetscCall(RmRunGatherHosts_Private(run, &sc.hosts));
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

/* ---------------------------------------------------------------- descriptions of the set-up
   The "model" and "network" objects of every summary, and the same settings as the HDF5 output's
   attributes: one list of settings (RmRunDescribe*), written through an RmKV. */
static PetscErrorCode DescribeModel(RmKV *kv, RmModel model, RmSynapses syn, PetscBool per_point)
{
  RmActivation act;
  RmDesign     d;
  RmModelType  type;
  RmJacobianForm form;
  PetscReal    tau;

  PetscFunctionBeginUser;
  PetscCall(RmModelGetActivation(model, &act));
  PetscCall(RmModelGetType(model, &type));
  PetscCall(RmModelGetJacobianForm(model, &form));
  PetscCall(RmModelGetTau(model, &tau));
  PetscCall(RmSynapsesGetDesign(syn, &d));
  PetscCall(kv->begin(kv->ctx, "model"));
  PetscCall(kv->string(kv->ctx, "kind", type));
  PetscCall(kv->string(kv->ctx, "activation", act.fn->name));
  if (!per_point) {
    PetscCall(kv->real(kv->ctx, "gain", act.gain));
    PetscCall(kv->real(kv->ctx, "threshold", act.threshold));
  }
  PetscCall(kv->real(kv->ctx, "a", d.a));
  PetscCall(kv->real(kv->ctx, "b", d.b));
  PetscCall(kv->real(kv->ctx, "coding", d.coding));
  PetscCall(kv->real(kv->ctx, "balance", d.balance));
  {
    PetscBool       measured;
    RmOverlapRatios ratios;
    PetscCall(RmSynapsesGetOverlapRatios(syn, &measured, &ratios));
    if (measured) { /* -balance auto: r = the mean measured overlap ratio, and its spread (docs/model.md §2) */
      PetscCall(kv->string(kv->ctx, "balance_mode", "auto"));
      PetscCall(kv->integer(kv->ctx, "overlap_ratio_pairs", ratios.pairs));
      PetscCall(kv->real(kv->ctx, "overlap_ratio_min", ratios.min));
      PetscCall(kv->real(kv->ctx, "overlap_ratio_max", ratios.max));
      PetscCall(kv->real(kv->ctx, "overlap_ratio_std", ratios.std));
      PetscCall(kv->real(kv->ctx, "balance_crosstalk", ratios.dev_max / (1 - ratios.mean)));
    }
  }
  PetscCall(kv->real(kv->ctx, "tau", tau));
  if (form == RM_JACOBIAN_POOLS) { /* the inhibitory pools' parameters */
    PetscReal tau_i;
    PetscInt  pool_size;
    PetscCall(RmModelGetInhibition(model, &tau_i, &pool_size));
    PetscCall(kv->real(kv->ctx, "tau_i", tau_i));
    PetscCall(kv->real(kv->ctx, "stiffness", tau / tau_i));
    PetscCall(kv->integer(kv->ctx, "pool_size", pool_size));
  }
  if (!per_point) { /* the design coefficients depend on the activation */
    PetscCall(kv->real(kv->ctx, "alpha", d.alpha));
    PetscCall(kv->real(kv->ctx, "alpha_basic", d.alpha_basic));
    PetscCall(kv->real(kv->ctx, "beta", d.beta));
    PetscCall(kv->real(kv->ctx, "gamma", d.gamma));
    PetscCall(kv->real(kv->ctx, "phi_a", d.phi_a));
    PetscCall(kv->real(kv->ctx, "phi_b", d.phi_b));
  }
  if (d.gram_cond > 0) { /* -design projection (docs/model.md §2): W 1 = λ 1 and cond(G), G = UᵀU */
    PetscCall(kv->real(kv->ctx, "lambda", d.lambda));
    PetscCall(kv->real(kv->ctx, "gram_cond", d.gram_cond));
    PetscCall(kv->real(kv->ctx, "weight_norm", d.weight_norm));
  }
  PetscCall(kv->end(kv->ctx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DescribeNetwork(RmKV *kv, RmMemories mem, RmSynapses syn)
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
  PetscCall(kv->begin(kv->ctx, "network"));
  PetscCall(kv->integer(kv->ctx, "n", n));
  PetscCall(kv->integer(kv->ctx, "memories", P));
  PetscCall(kv->string(kv->ctx, "design", RmDesignTypes[design]));
  PetscCall(kv->string(kv->ctx, "storage", storage));
  PetscCall(kv->integer(kv->ctx, "indegree", K));
  PetscCall(kv->string(kv->ctx, "kernel", kernel));
  PetscCall(kv->integer(kv->ctx, "seed", seed));
  PetscCall(kv->string(kv->ctx, "patterns", RmPatternKinds[pkind]));
  PetscCall(kv->end(kv->ctx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Collective-free: everything a run was set up with (model, network, cue, integrator, threshold). */
PetscErrorCode RmRunDescribe(RmRun run, RmKV *kv)
{
  RmIntegratorType method;
  PetscReal        rtol, atol, t_final, ctol, dt, thr;
  PetscBool        fixed;

  PetscFunctionBeginUser;
  PetscCall(DescribeModel(kv, run->model, run->syn, PETSC_FALSE));
  PetscCall(DescribeNetwork(kv, run->mem, run->syn));
  PetscCall(kv->begin(kv->ctx, "cue"));
  PetscCall(kv->string(kv->ctx, "kind", RmCueKinds[run->cue.kind]));
  PetscCall(kv->real(kv->ctx, "flip", run->cue.flip));
  PetscCall(kv->integer(kv->ctx, "mixture_count", run->cue.mixture_count));
  PetscCall(kv->real(kv->ctx, "keep", run->cue.keep));
  PetscCall(kv->end(kv->ctx));
  PetscCall(RmIntegratorGetType(run->integ, &method));
  PetscCall(RmIntegratorGetTolerances(run->integ, &rtol, &atol));
  PetscCall(RmIntegratorGetSettings(run->integ, &t_final, &ctol, &dt));
  PetscCall(kv->begin(kv->ctx, "integrator"));
  PetscCall(kv->string(kv->ctx, "method", method));
  {
    PetscBool   chosen;
    const char *reason;
    PetscCall(RmIntegratorGetAuto(run->integ, &chosen, &reason));
    if (chosen) { /* -integrator auto: method is its choice */
      PetscCall(kv->string(kv->ctx, "requested", RMINTEGRATORAUTO));
      PetscCall(kv->string(kv->ctx, "auto_reason", reason));
    }
  }
  PetscCall(kv->real(kv->ctx, "rtol", rtol));
  PetscCall(kv->real(kv->ctx, "atol", atol));
  PetscCall(kv->real(kv->ctx, "t_final", t_final));
  PetscCall(kv->real(kv->ctx, "converge_tol", ctol));
  PetscCall(kv->integer(kv->ctx, "batch", run->batch));
  PetscCall(RmIntegratorIsFixedStep(run->integ, &fixed));
  if (fixed) PetscCall(kv->real(kv->ctx, "dt", dt)); /* euler, em */
  PetscCall(kv->end(kv->ctx));
  PetscCall(RmClassifierGetThreshold(run->cl, &thr));
  PetscCall(kv->real(kv->ctx, "overlap_threshold", thr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* RmKV over the JSON writer: groups are objects. */
static PetscErrorCode JSONBegin(void *ctx, const char *key)
{
  return RmJSONBeginObject((RmJSON *)ctx, key);
}
static PetscErrorCode JSONEnd(void *ctx)
{
  return RmJSONEndObject((RmJSON *)ctx);
}
static PetscErrorCode JSONString(void *ctx, const char *key, const char *v)
{
  return RmJSONString((RmJSON *)ctx, key, v);
}
static PetscErrorCode JSONReal(void *ctx, const char *key, PetscReal v)
{
  return RmJSONReal((RmJSON *)ctx, key, v);
}
static PetscErrorCode JSONInt(void *ctx, const char *key, PetscInt64 v)
{
  return RmJSONInt((RmJSON *)ctx, key, v);
}

PetscErrorCode RmKVFromJSON(RmJSON *j, RmKV *kv)
{
  PetscFunctionBeginUser;
  *kv = (RmKV){j, JSONBegin, JSONEnd, JSONString, JSONReal, JSONInt};
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunJSONModel(RmJSON *j, RmModel model, RmSynapses syn, PetscBool per_point)
{
  RmKV kv;

  PetscFunctionBeginUser;
  PetscCall(RmKVFromJSON(j, &kv));
  PetscCall(DescribeModel(&kv, model, syn, per_point));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunJSONNetwork(RmJSON *j, RmMemories mem, RmSynapses syn)
{
  RmKV kv;

  PetscFunctionBeginUser;
  PetscCall(RmKVFromJSON(j, &kv));
  PetscCall(DescribeNetwork(&kv, mem, syn));
  PetscFunctionReturn(PETSC_SUCCESS);
}
