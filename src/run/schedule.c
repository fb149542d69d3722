/* The input schedule of docs/model.md §7 (-input_schedule, -input_file): y(0) ~ N(0, I), then each
   presentation's input for its duration, state carried over; after each one the overlaps
   m_μ = |ξ^μᵀ tanh(δy)|/N and a label (retrieved when the largest overlap is the input's dominant
   memory and >= the overlap threshold). With -overlap_history, a CSV of the overlaps along the way. */
#include "runimpl.h"
#include <ratemem/input.h>

typedef struct {
  RmRun                       run;
  const RmScheduleRunOptions *opts;
  PetscInt                    P, presentation, every;
  PetscReal                   t_offset, *m; /* time at the start of the presentation; overlaps (P) */
  PetscReal                  *hist;         /* rank 0: rows (t, presentation, m_0..m_{P-1}) */
  PetscInt                    rows, cap;
} History;

/* One row per recorded step, kept on rank 0 and written at the end. */
static PetscErrorCode RecordHistory(void *ctx, PetscReal t, PetscInt64 steps, Vec x)
{
  History    *h = (History *)ctx;
  PetscInt    P = h->P;
  PetscMPIInt rank;
  PetscReal   tg = h->t_offset + t, *row;

  PetscFunctionBeginUser;
  if (steps % h->every) PetscFunctionReturn(PETSC_SUCCESS); /* the end of a presentation is recorded by RmRunSchedule */
  PetscCall(RmModelReadout(h->run->model, x, h->run->r));
  PetscCall(RmInputOverlaps(h->run->mem, h->run->r, h->m));
  PetscCallMPI(MPI_Comm_rank(h->run->comm, &rank));
  if (rank || !h->opts->history) PetscFunctionReturn(PETSC_SUCCESS);
  if (h->rows > 0) {
    PetscReal *last = h->hist + (h->rows - 1) * (P + 2);
    if (last[0] == tg && last[1] == h->presentation) PetscFunctionReturn(PETSC_SUCCESS); /* the same point twice */
  }
  if (h->rows == h->cap) {
    PetscReal *nh;
    h->cap = PetscMax(1024, 2 * h->cap);
    PetscCall(PetscMalloc1(h->cap * (P + 2), &nh));
    if (h->rows) PetscCall(PetscArraycpy(nh, h->hist, h->rows * (P + 2)));
    PetscCall(PetscFree(h->hist));
    h->hist = nh;
  }
  row    = h->hist + h->rows * (P + 2);
  row[0] = tg;
  row[1] = h->presentation;
  for (PetscInt mu = 0; mu < P; mu++) row[2 + mu] = h->m[mu];
  h->rows++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode HistoryWriter(void *ctx, FILE *fp)
{
  History *h = (History *)ctx;

  PetscFunctionBeginUser;
  fprintf(fp, "t,presentation");
  for (PetscInt mu = 0; mu < h->P; mu++) fprintf(fp, ",m_%" PetscInt_FMT, mu);
  fprintf(fp, "\n");
  for (PetscInt k = 0; k < h->rows; k++) {
    const PetscReal *row = h->hist + k * (h->P + 2);
    fprintf(fp, "%.10g,%d", (double)row[0], (int)row[1]);
    for (PetscInt mu = 0; mu < h->P; mu++) fprintf(fp, ",%.6f", (double)row[2 + mu]);
    fprintf(fp, "\n");
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The label of a presentation's end state (docs/model.md §7). */
static const char *PresentationLabel(const PetscReal *m, PetscInt P, PetscInt dom, PetscReal thr, PetscInt *best, PetscBool *ok)
{
  PetscInt  nabove = 0; /* a union of memories (every overlap high) is not a retrieval */
  PetscReal mmax   = 0; /* every overlap near 0: the quiescent state, not a mixture */

  *best = 0;
  for (PetscInt mu = 1; mu < P; mu++)
    if (m[mu] > m[*best]) *best = mu;
  for (PetscInt mu = 0; mu < P; mu++) nabove += m[mu] >= thr;
  for (PetscInt mu = 0; mu < P; mu++) mmax = PetscMax(mmax, PetscAbsReal(m[mu]));
  *ok = (PetscBool)(dom >= 0 && *best == dom && m[*best] >= thr && nabove == 1);
  return *ok ? "retrieved" : (dom < 0 ? "-" : (mmax < 1 - thr ? "quiescent" : (m[*best] >= thr && nabove == 1 ? "other" : "mixture")));
}

/* Every item's input is built once before integrating, so a bad one fails before any work. */
static PetscErrorCode CheckItems(RmRun run, const RmScheduleRunOptions *o, RmSchedule *s, PetscInt64 seed, Vec u, PetscReal *c)
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < s->count; k++) PetscCall(RmScheduleGetInput(run->mem, s, k, (uint64_t)seed, o->weights, o->nweights, u, c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PrintHeader(RmRun run, PetscInt n, PetscInt P)
{
  RmInputMode      mode;
  RmIntegratorType method;
  PetscReal        sigma;

  PetscFunctionBeginUser;
  if (run->quiet) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(RmModelGetInputMode(run->model, &mode));
  PetscCall(RmIntegratorGetType(run->integ, &method));
  PetscCall(RmIntegratorGetNoise(run->integ, &sigma, NULL));
  PetscCall(PetscPrintf(run->comm, "ratemem retrieve (input schedule): n = %" PetscInt_FMT ", P = %" PetscInt_FMT ", input %s, integrator %s, noise %g, %d rank%s\n\n", n, P,
                        RmInputModes[mode], method, (double)sigma, run->size, run->size > 1 ? "s" : ""));
  PetscCall(PetscPrintf(run->comm, "%4s %-12s %8s %8s %7s %8s %8s %8s %-10s\n", "pres", "input", "duration", "dominant", "nearest", "overlap", "m_dom", "steps", "label"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Presentation k: its input for its duration from the state x, then its row of the table. */
static PetscErrorCode Present(History *h, RmSchedule *s, PetscInt k, PetscInt64 seed, Vec x, Vec u, PetscReal *c, PetscReal thr, PetscInt *retrieved)
{
  RmRun                 run = h->run;
  const RmPresentation *pr  = &s->items[k];
  PetscInt              dom = -1, best, every = h->every;
  PetscBool             ok;
  RmIntegratorStats     st;
  const char           *what;
  char                  name[32];

  PetscFunctionBeginUser;
  PetscCall(RmScheduleGetInput(run->mem, s, k, (uint64_t)seed, h->opts->weights, h->opts->nweights, u, c));
  if (pr->kind != RM_PRESENT_OFF) {
    dom = 0;
    for (PetscInt mu = 1; mu < h->P; mu++)
      if (c[mu] > c[dom]) dom = mu;
  }
  PetscCall(RmModelSetInputVector(run->model, u));
  PetscCall(RmIntegratorSetFinalTime(run->integ, pr->duration));
  h->presentation = k;
  if (k == 0) PetscCall(RecordHistory(h, 0.0, 0, x));
  PetscCall(PetscLogStagePush(RM_EVENTS.stage_integrate));
  PetscCall(RmIntegratorSolve(run->integ, x, &st));
  PetscCall(PetscLogStagePop());
  PetscCall(RmModelReadout(run->model, x, run->r));
  PetscCall(RmInputOverlaps(run->mem, run->r, h->m));
  h->every = 1; /* the end of a presentation is always recorded */
  PetscCall(RecordHistory(h, st.t_end, 0, x));
  h->every = every;
  h->t_offset += pr->duration;
  what = PresentationLabel(h->m, h->P, dom, thr, &best, &ok);
  *retrieved += ok;
  PetscCall(RmScheduleGetItemName(s, k, name, sizeof(name)));
  if (!run->quiet)
    PetscCall(PetscPrintf(run->comm, "%4" PetscInt_FMT " %-12s %8.3g %8" PetscInt_FMT " %7" PetscInt_FMT " %8.4f %8.4f %8" PetscInt64_FMT " %-10s\n", k, name,
                          (double)pr->duration, dom, best, (double)h->m[best], dom >= 0 ? (double)h->m[dom] : 0.0, st.steps, what));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunSchedule(RmRun run, const RmScheduleRunOptions *opts)
{
  History        h = {.run = run, .opts = opts};
  RmSchedule     s = {0};
  PetscInt       n, retrieved = 0;
  PetscInt64     seed;
  PetscReal     *c = NULL, thr;
  Vec            x = NULL, u = NULL;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(RmRunSetUp(run));
  PetscCall(RmMemoriesGetSizes(run->mem, &n, &h.P));
  PetscCall(RmMemoriesGetSeed(run->mem, &seed));
  h.every = opts->overlap_every;
  if (opts->spec) PetscCall(RmScheduleParse(run->comm, opts->spec, h.P, &s));
  if (opts->input_file) PetscCall(RmScheduleSetInputFile(run->mem, opts->input_file, opts->input_dataset, &s));
  PetscCall(RmModelSetInputMemories(run->model, run->mem)); /* §7 rate variant: W(u) from the memories (no-op otherwise) */
  PetscCall(RmClassifierGetThreshold(run->cl, &thr));
  PetscCall(PetscMalloc2(h.P, &c, h.P, &h.m));
  PetscCall(RmModelCreateState(run->model, &x));
  PetscCall(RmModelCreateNeuronVec(run->model, &u));
  ierr = CheckItems(run, opts, &s, seed, u, c);
  if (!ierr) ierr = RmInputInitialState(run->mem, (uint64_t)seed, x);
  if (!ierr) ierr = RmIntegratorSetStepCallback(run->integ, RecordHistory, &h);
  if (!ierr) ierr = PrintHeader(run, n, h.P);
  h.t_offset = 0;
  for (PetscInt k = 0; k < s.count && !ierr; k++) ierr = Present(&h, &s, k, seed, x, u, c, thr, &retrieved);
  if (!ierr && !run->quiet)
    ierr = PetscPrintf(run->comm, "\nschedule: %" PetscInt_FMT "/%" PetscInt_FMT " presentations retrieved their dominant memory\n", retrieved, s.count);
  if (!ierr && opts->history) ierr = RmWriteFileAtomic(run->comm, opts->history, HistoryWriter, &h);
  PetscCall(RmIntegratorSetStepCallback(run->integ, NULL, NULL));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&u));
  PetscCall(PetscFree2(c, h.m));
  PetscCall(PetscFree(h.hist));
  PetscCall(RmScheduleDestroy(&s));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}
