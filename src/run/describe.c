/* The HDF5 files of a run describe the run that wrote them: every setting of RmRunDescribe as an
   attribute ("model.gain", "network.seed", ...), the options as given, the version, commit, date,
   ranks and hosts, and "rerun", the subcommand and options that reproduce it (`ratemem rerun
   FILE.h5`). The output and every checkpoint carry the same set. */
#include "runimpl.h"
#include <ratemem/ratemem.h>
#include "ratemem_version.h"
#include <string.h>
#include <time.h>

typedef struct {
  RmOutput     out; /* the target: the output, or else the checkpoint */
  RmCheckpoint ck;
  char         prefix[64];
} Attributes;

static PetscErrorCode Name(Attributes *a, const char *key, char name[128])
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(name, 128, "%s%s", a->prefix, key));
  PetscFunctionReturn(PETSC_SUCCESS);
}
static PetscErrorCode AttrBegin(void *ctx, const char *group)
{
  Attributes *a = (Attributes *)ctx;
  return PetscSNPrintf(a->prefix, sizeof(a->prefix), "%s.", group);
}
static PetscErrorCode AttrEnd(void *ctx)
{
  ((Attributes *)ctx)->prefix[0] = 0;
  return PETSC_SUCCESS;
}
static PetscErrorCode AttrString(void *ctx, const char *key, const char *v)
{
  char name[128];
  PetscFunctionBeginUser;
  PetscCall(Name((Attributes *)ctx, key, name));
  if (((Attributes *)ctx)->out) PetscCall(RmOutputSetAttributeString(((Attributes *)ctx)->out, name, v));
  else PetscCall(RmCheckpointSetAttributeString(((Attributes *)ctx)->ck, name, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}
static PetscErrorCode AttrReal(void *ctx, const char *key, PetscReal v)
{
  char name[128];
  PetscFunctionBeginUser;
  PetscCall(Name((Attributes *)ctx, key, name));
  if (((Attributes *)ctx)->out) PetscCall(RmOutputSetAttributeReal(((Attributes *)ctx)->out, name, v));
  else PetscCall(RmCheckpointSetAttributeReal(((Attributes *)ctx)->ck, name, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}
static PetscErrorCode AttrInt(void *ctx, const char *key, PetscInt64 v)
{
  char name[128];
  PetscFunctionBeginUser;
  PetscCall(Name((Attributes *)ctx, key, name));
  if (((Attributes *)ctx)->out) PetscCall(RmOutputSetAttributeInt(((Attributes *)ctx)->out, name, v));
  else PetscCall(RmCheckpointSetAttributeInt(((Attributes *)ctx)->ck, name, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Options that name this run's own files or only change what it prints: not part of a rerun. */
static PetscBool RerunDrops(const char *key)
{
  static const char *const drop[] = {"output", "summary", "checkpoint", "checkpoint_interval", "checkpoint_stop_after_steps", "restart", "quiet", "monitor",
                                     "monitor_every", "ratemem_view", "overlap_history", "help", "help_petsc", NULL};
  static const char *const prefixes[] = {"log", "options_", "malloc", "history", NULL};
  for (int k = 0; drop[k]; k++)
    if (!strcmp(key, drop[k])) return PETSC_TRUE;
  for (int k = 0; prefixes[k]; k++)
    if (!strncmp(key, prefixes[k], strlen(prefixes[k]))) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* "retrieve -neurons 2000 ..." from the options database ("-key value" tokens; a value may itself start
   with '-' when it is a number). PetscOptionsGetAll joins keys and values with spaces, so a value that
   holds spaces arrives as several tokens after its key: they are joined again and the value is
   written in double quotes, which `ratemem rerun` reads as one argument. */
static PetscBool IsKey(const char *tok)
{
  return (PetscBool)(tok[0] == '-' && tok[1] && !(tok[1] >= '0' && tok[1] <= '9') && tok[1] != '.');
}

static PetscErrorCode AppendValue(char *line, size_t len, const char *value)
{
  PetscFunctionBeginUser;
  PetscCheck(!strchr(value, '"'), PETSC_COMM_SELF, PETSC_ERR_SUP, "an option value with a double quote cannot be stored for a rerun: %s", value);
  PetscCall(PetscStrlcat(line, strchr(value, ' ') ? " \"" : " ", len));
  PetscCall(PetscStrlcat(line, value, len));
  if (strchr(value, ' ')) PetscCall(PetscStrlcat(line, "\"", len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RerunLine(const char *all, char *line, size_t len)
{
  char     *copy, *tok, *save = NULL, value[PETSC_MAX_PATH_LEN] = "";
  PetscBool keep = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(line, "retrieve", len));
  PetscCall(PetscStrallocpy(all, &copy));
  for (tok = strtok_r(copy, " ", &save);; tok = strtok_r(NULL, " ", &save)) {
    if (!tok || IsKey(tok)) { /* the previous key's value is complete */
      if (keep && value[0]) PetscCall(AppendValue(line, len, value));
      value[0] = 0;
      if (!tok) break;
      keep = (PetscBool)!RerunDrops(tok + 1);
      if (keep) {
        PetscCall(PetscStrlcat(line, " ", len));
        PetscCall(PetscStrlcat(line, tok, len));
      }
      continue;
    }
    if (value[0]) PetscCall(PetscStrlcat(value, " ", sizeof(value)));
    PetscCall(PetscStrlcat(value, tok, sizeof(value)));
  }
  PetscCall(PetscFree(copy));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Rank 0's date and hosts, the same string on every rank (attributes are written collectively). */
static PetscErrorCode SharedStrings(RmRun run, char date[32], char *hosts, size_t len)
{
  PetscMPIInt rank;
  char       *all;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(run->comm, &rank));
  PetscCall(RmRunGatherHosts_Private(run, &all));
  if (!rank) {
    time_t    now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    hosts[0] = 0;
    for (PetscMPIInt r = 0; r < run->size; r++) {
      if (r) PetscCall(PetscStrlcat(hosts, ",", len));
      PetscCall(PetscStrlcat(hosts, all + (size_t)r * MPI_MAX_PROCESSOR_NAME, len));
    }
  }
  PetscCall(PetscFree(all));
  PetscCallMPI(MPI_Bcast(date, 32, MPI_CHAR, 0, run->comm));
  PetscCallMPI(MPI_Bcast(hosts, (PetscMPIInt)len, MPI_CHAR, 0, run->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DescribeInto(RmRun run, Attributes *a)
{
  RmKV kv = {a, AttrBegin, AttrEnd, AttrString, AttrReal, AttrInt};
  char *all, date[32] = "", hosts[4096] = "", line[8192];

  PetscFunctionBeginUser;
  PetscCall(RmRunDescribe(run, &kv));
  PetscCall(AttrInt(a, "trials", run->trials));
  PetscCall(AttrString(a, "ratemem_version", RATEMEM_VERSION));
  PetscCall(AttrString(a, "ratemem_commit", RATEMEM_COMMIT));
  PetscCall(SharedStrings(run, date, hosts, sizeof(hosts)));
  PetscCall(AttrString(a, "date", date));
  PetscCall(AttrInt(a, "ranks", run->size));
  PetscCall(AttrString(a, "hosts", hosts));
  PetscCall(PetscOptionsGetAll(NULL, &all));
  PetscCall(AttrString(a, "options", all));
  PetscCall(RerunLine(all, line, sizeof(line)));
  PetscCall(PetscFree(all));
  PetscCall(AttrString(a, "rerun", line));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunOutputAttributes_Private(RmRun run)
{
  Attributes a = {run->out, NULL, ""};

  PetscFunctionBeginUser;
  PetscCall(DescribeInto(run, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmRunCheckpointAttributes_Private(RmRun run)
{
  Attributes a = {NULL, run->ck, ""};

  PetscFunctionBeginUser;
  PetscCall(DescribeInto(run, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}
