/* Vector inputs and input schedules (model.md §7): see include/ratemem/input.h for the syntax. */
#include <ctype.h>
#include <ratemem/input.h>
#include <stdlib.h>
#include <string.h>

/* One ITEM:DURATION (item is modified in place). */
static PetscErrorCode ParseItem(MPI_Comm comm, char *item, PetscInt index, PetscInt P, RmPresentation *pr)
{
  char     *colon = strrchr(item, ':'), *end;
  double    dur;
  PetscBool ok;

  PetscFunctionBeginUser;
  PetscCheck(colon, comm, PETSC_ERR_ARG_WRONG, "input schedule item %" PetscInt_FMT " '%s' has no ':DURATION' (syntax ITEM:DURATION, e.g. dominant0:10)",
             index, item);
  *colon = 0;
  dur    = strtod(colon + 1, &end);
  PetscCheck(end != colon + 1 && *end == 0, comm, PETSC_ERR_ARG_WRONG, "input schedule item %" PetscInt_FMT " '%s': duration '%s' is not a number", index,
             item, colon + 1);
  PetscCheck(dur > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "input schedule item %" PetscInt_FMT " '%s': duration must be > 0, got %g", index, item, dur);
  pr->duration = dur;
  pr->memory   = -1;
  if (!strncmp(item, "dominant", 8)) {
    long m = strtol(item + 8, &end, 10);
    PetscCheck(end != item + 8 && *end == 0, comm, PETSC_ERR_ARG_WRONG, "input schedule item %" PetscInt_FMT " '%s': expected dominantJ with J a memory index",
               index, item);
    PetscCheck(m >= 0 && m < P, comm, PETSC_ERR_ARG_OUTOFRANGE, "input schedule item %" PetscInt_FMT ": unknown memory %ld in '%s' (memories are 0..%" PetscInt_FMT ")",
               index, m, item, P - 1);
    pr->kind   = RM_PRESENT_DOMINANT;
    pr->memory = (PetscInt)m;
  } else {
    PetscCall(PetscStrcmp(item, "weights", &ok));
    if (ok) pr->kind = RM_PRESENT_WEIGHTS;
    else {
      PetscCall(PetscStrcmp(item, "off", &ok));
      PetscCheck(ok, comm, PETSC_ERR_ARG_WRONG, "input schedule item %" PetscInt_FMT ": unknown input '%s' (use dominantJ, weights or off)", index, item);
      pr->kind = RM_PRESENT_OFF;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmScheduleParse(MPI_Comm comm, const char *spec, PetscInt P, RmSchedule *sched)
{
  char          *buf, *item, *save = NULL;
  PetscInt       cap = 1;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCheck(spec && spec[0], comm, PETSC_ERR_ARG_WRONG, "-input_schedule is empty: give ITEM:DURATION[,ITEM:DURATION...]");
  for (const char *p = spec; *p; p++) cap += *p == ',';
  PetscCall(PetscStrallocpy(spec, &buf));
  PetscCall(PetscCalloc1(cap, &sched->items));
  sched->count = 0;
  for (item = strtok_r(buf, ",", &save); item && !ierr; item = strtok_r(NULL, ",", &save)) {
    ierr = ParseItem(comm, item, sched->count, P, &sched->items[sched->count]);
    if (!ierr) sched->count++;
  }
  PetscCall(PetscFree(buf));
  if (ierr) { /* a bad schedule leaves nothing allocated behind */
    PetscCall(RmScheduleDestroy(sched));
    PetscCall(ierr);
  }
  if (!sched->count) {
    PetscCall(RmScheduleDestroy(sched));
    SETERRQ(comm, PETSC_ERR_ARG_WRONG, "-input_schedule '%s' has no presentations", spec);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmScheduleDestroy(RmSchedule *sched)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(sched->items));
  sched->count = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static inline PetscReal Uniform(uint64_t seed, PetscInt k, PetscInt mu, PetscReal lo, PetscReal hi)
{
  return lo + (hi - lo) * RmRandomUniform(seed, RM_STREAM_INPUT, (uint64_t)k, (uint64_t)mu);
}

PetscErrorCode RmScheduleGetWeights(MPI_Comm comm, const RmSchedule *sched, PetscInt k, PetscInt P, PetscInt N, uint64_t seed, const PetscReal *weights,
                                    PetscInt nweights, PetscReal *c)
{
  const RmPresentation *pr = &sched->items[k];

  PetscFunctionBeginUser;
  switch (pr->kind) {
  case RM_PRESENT_OFF:
    for (PetscInt mu = 0; mu < P; mu++) c[mu] = 0;
    break;
  case RM_PRESENT_WEIGHTS:
    PetscCheck(nweights == P, comm, PETSC_ERR_ARG_SIZ, "input schedule item %" PetscInt_FMT " 'weights' needs -input_weights with %" PetscInt_FMT " numbers (one per memory), got %" PetscInt_FMT,
               k, P, nweights);
    for (PetscInt mu = 0; mu < P; mu++) c[mu] = weights[mu];
    break;
  case RM_PRESENT_DOMINANT: {
    PetscInt  prev = -1;
    PetscReal sum  = 0;
    if (k > 0 && sched->items[k - 1].kind == RM_PRESENT_DOMINANT && sched->items[k - 1].memory != pr->memory) prev = sched->items[k - 1].memory;
    for (PetscInt mu = 0; mu < P; mu++) {
      if (mu == pr->memory) c[mu] = Uniform(seed, k, mu, 2.0, 3.5);
      else if (mu == prev) c[mu] = Uniform(seed, k, mu, 0.2, 0.6);
      else c[mu] = Uniform(seed, k, mu, 0.8, 1.5);
      sum += c[mu];
    }
    for (PetscInt mu = 0; mu < P; mu++) c[mu] *= PetscSqrtReal((PetscReal)P * N) / sum;
  } break;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmInputBuildVector(RmMemories mem, const PetscReal *c, Vec u)
{
  const uint64_t *words;
  PetscInt        wpp, P, rstart, rend;
  PetscScalar    *ua;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, NULL, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmMemoriesGetLocalPacked(mem, &words, &wpp));
  PetscCall(VecGetArrayWrite(u, &ua));
  for (PetscInt i = 0; i < rend - rstart; i++) {
    PetscReal s = 0;
    for (PetscInt mu = 0; mu < P; mu++) s += RmPackedBit(words, wpp, mu, i) ? c[mu] : -c[mu];
    ua[i] = s;
  }
  PetscCall(VecRestoreArrayWrite(u, &ua));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmInputOverlaps(RmMemories mem, Vec r, PetscReal *m)
{
  const uint64_t    *words;
  const PetscScalar *ra;
  PetscInt           wpp, P, n, rstart, rend;
  PetscReal         *loc;
  MPI_Comm           comm;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetComm(mem, &comm));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(RmMemoriesGetLocalPacked(mem, &words, &wpp));
  PetscCall(PetscCalloc1(P, &loc));
  PetscCall(VecGetArrayRead(r, &ra));
  for (PetscInt mu = 0; mu < P; mu++)
    for (PetscInt i = 0; i < rend - rstart; i++) loc[mu] += RmPackedBit(words, wpp, mu, i) ? ra[i] : -ra[i];
  PetscCall(VecRestoreArrayRead(r, &ra));
  PetscCallMPI(MPI_Allreduce(loc, m, (PetscMPIInt)P, MPIU_REAL, MPI_SUM, comm));
  for (PetscInt mu = 0; mu < P; mu++) m[mu] = PetscAbsReal(m[mu]) / n;
  PetscCall(PetscFree(loc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmInputInitialState(RmMemories mem, uint64_t seed, Vec y)
{
  PetscInt     rstart, rend;
  PetscScalar *ya;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  PetscCall(VecGetArrayWrite(y, &ya));
  for (PetscInt i = rstart; i < rend; i++) ya[i - rstart] = RmRandomNormal(seed, RM_STREAM_INPUT, (uint64_t)1 << 40, (uint64_t)i);
  PetscCall(VecRestoreArrayWrite(y, &ya));
  PetscFunctionReturn(PETSC_SUCCESS);
}
