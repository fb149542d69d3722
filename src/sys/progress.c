/* Progress of the long stages (include/ratemem/sys.h): a line on stderr from rank 0 once a stage has
   run for the progress interval, then at most once per interval, and a closing line if any was
   printed. A short stage prints nothing, so small runs and their outputs are unchanged. Each rank
   reports nothing collective: rank 0 speaks for its own share of the work, which the row partition
   keeps balanced, so a call never waits for another rank. */
#include <ratemem/sys.h>

static PetscReal progress_interval = 10.0; /* seconds; 0 turns the lines off */

PetscErrorCode RmProgressSetInterval(PetscReal seconds)
{
  PetscFunctionBeginUser;
  PetscCheck(seconds >= 0 && PetscIsNormalReal(seconds + 1), PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "-progress_interval must be >= 0 seconds, got %g",
             (double)seconds);
  progress_interval = seconds;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmProgressGetInterval(PetscReal *seconds)
{
  PetscFunctionBeginUser;
  *seconds = progress_interval;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmProgressBegin(MPI_Comm comm, const char *stage, const char *unit, PetscInt64 total, RmProgress *p)
{
  PetscFunctionBeginUser;
  p->comm    = comm;
  p->stage   = stage;
  p->unit    = unit;
  p->total   = total;
  p->t0      = RmWallTime();
  p->last    = p->t0;
  p->printed = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmProgressUpdate(RmProgress *p, PetscInt64 done)
{
  const double now = RmWallTime(), elapsed = now - p->t0;

  PetscFunctionBeginUser;
  if (progress_interval <= 0 || now - p->last < progress_interval || done <= 0 || p->total <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  p->last    = now;
  p->printed = PETSC_TRUE;
  PetscCall(PetscFPrintf(p->comm, stderr, "[progress] %s: %.0f%% (%" PetscInt64_FMT " of %" PetscInt64_FMT " %s on rank 0), %.1f s, about %.1f s left\n", p->stage,
                         100.0 * (double)done / (double)p->total, done, p->total, p->unit, elapsed, elapsed * (double)(p->total - done) / (double)done));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmProgressEnd(RmProgress *p)
{
  PetscFunctionBeginUser;
  if (p->printed) PetscCall(PetscFPrintf(p->comm, stderr, "[progress] %s: done in %.1f s\n", p->stage, RmWallTime() - p->t0));
  p->printed = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmProgressSetFromOptions(MPI_Comm comm)
{
  PetscReal interval = progress_interval;

  PetscFunctionBeginUser;
  PetscOptionsBegin(comm, NULL, "Progress of long stages", "ratemem");
  PetscCall(PetscOptionsReal("-progress_interval", "Seconds between [progress] lines on stderr for long stages (weights, stability analysis, sweep points); 0: none",
                             "RmProgressSetInterval", interval, &interval, NULL));
  PetscOptionsEnd();
  PetscCall(RmProgressSetInterval(interval));
  PetscFunctionReturn(PETSC_SUCCESS);
}
