/* `ratemem sweep` (issue #8): a grid of (design, activation, coding, n, P or load P/n, a, b, balance, gain,
   threshold, seed, cue corruption) with many trials per point, in one MPI job, one CSV row per point.

   Every point is run through the pipeline of `ratemem retrieve` (setup.c): its grid values are put in
   the options database (-design, -neurons, -flip, ...), the objects read them in their own
   SetFromOptions, so a point is exactly `ratemem retrieve` with those options. Trial t of a point cues
   memory t mod P with the cue of (seed, t) (docs/model.md §1; the flipped sets of one trial are nested as
   the flip fraction grows). Points that differ only in the flip fraction share the network.

   The CSV is resumable: a point whose grid coordinates (the first KEY_COLUMNS columns) are already in
   the file is skipped, and after each point the whole file is rewritten to a unique temporary name and renamed. */
#include "appimpl.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { AXIS_STRING, AXIS_INT, AXIS_REAL } AxisKind;

typedef struct {
  const char *name;   /* column and option suffix: -sweep_<name> */
  const char *option; /* the option it sets (load sets -memories = round(load n)) */
  AxisKind    kind;
} AxisInfo;

/* Loop order: the last axis varies fastest. flip is last so that consecutive points share the network. */
static const AxisInfo AXES[] = {
  {"design",    "-design",     AXIS_STRING},
  {"activation", "-activation", AXIS_STRING},
  {"coding",    "-coding",     AXIS_REAL  },
  {"neurons",   "-neurons",    AXIS_INT   },
  {"memories",  "-memories",   AXIS_INT   },
  {"load",      "-memories",   AXIS_REAL  },
  {"a",         "-a",          AXIS_REAL  },
  {"b",         "-b",          AXIS_REAL  },
  {"balance",   "-balance",    AXIS_REAL  },
  {"gain",      "-gain",       AXIS_REAL  },
  {"threshold", "-threshold",  AXIS_REAL  },
  {"seed",      "-seed",       AXIS_INT   },
  {"flip",      "-flip",       AXIS_REAL  },
};
#define NAXES       ((PetscInt)(sizeof(AXES) / sizeof(AXES[0])))
#define AXIS_DESIGN 0
#define AXIS_ACT    1
#define AXIS_MEM    4
#define AXIS_LOAD   5
#define AXIS_FLIP   12
#define MAX_VALUES  4096
#define FIELD_LEN   64

static const char KEY_HEADER[] = "design,activation,neurons,memories,load,coding,flip,gain,threshold,a,b,balance,seed,trials";
#define KEY_COLUMNS 14
static const char RESULT_HEADER[] = "retrieval_rate,final_rate,overlap_mean,overlap_std,frac_other,frac_spurious,frac_unconverged,steps_mean,rhs_mean,"
                                    "products_per_trial,t_end_mean,wall_time";

typedef struct {
  PetscInt count;            /* 0: not swept */
  char (*values)[FIELD_LEN]; /* canonical strings, also what goes into the options database */
} Axis;

typedef struct {
  MPI_Comm     comm;
  PetscMPIInt  rank, size;
  Axis         axes[NAXES];
  PetscInt     trials, batch, npoints;
  char         csv[PETSC_MAX_PATH_LEN];
  PetscBool    quiet, help;
  char         activation0[64]; /* -activation as given (restored at rate-model points) */
  PetscBool    has_activation0;
  /* rank 0: the CSV rows (existing and new), the first KEY_COLUMNS fields of each are its key */
  char       **rows;
  PetscInt     nrows, cap;
  /* the current network */
  RmMemories   mem;
  RmSynapses   syn;
  RmModel      model;
  RmIntegrator integ;
  RmClassifier cl;
  char         net_key[1024];
  Vec          x0, x, x0n, r, col;
  PetscInt     computed, skipped;
} Sweep;

/* ------------------------------------------------------------------ grid */

static double RoundHalfAway(double v)
{
  return v < 0 ? -PetscFloorReal(-v + 0.5) : PetscFloorReal(v + 0.5);
}

/* Parse one numeric value of an axis into its canonical string. */
static PetscErrorCode FormatValue(Sweep *sw, PetscInt a, double v, char *out)
{
  PetscFunctionBeginUser;
  if (AXES[a].kind == AXIS_INT) {
    PetscCheck(PetscAbsReal(v - RoundHalfAway(v)) < 1e-9 * PetscMax(1.0, PetscAbsReal(v)), sw->comm, PETSC_ERR_ARG_WRONG,
               "-sweep_%s takes integers, got %g", AXES[a].name, v);
    PetscCall(PetscSNPrintf(out, FIELD_LEN, "%lld", (long long)RoundHalfAway(v)));
  } else PetscCall(PetscSNPrintf(out, FIELD_LEN, "%.8g", v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ParseNumber(Sweep *sw, PetscInt a, const char *s, double *v)
{
  char *end;

  PetscFunctionBeginUser;
  *v = strtod(s, &end);
  while (*end == ' ') end++;
  PetscCheck(end != s && *end == 0 && !PetscIsInfOrNanReal((PetscReal)*v), sw->comm, PETSC_ERR_ARG_WRONG, "-sweep_%s: '%s' is not a number",
             AXES[a].name, s);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A list: items separated by commas; a numeric item lo:hi:N stands for N equally spaced values. */
static PetscErrorCode ParseAxis(Sweep *sw, PetscInt a, const char *spec)
{
  Axis *ax = &sw->axes[a];
  char  buf[8192], *item, *save = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(buf, spec, sizeof(buf)));
  PetscCall(PetscMalloc1(MAX_VALUES, &ax->values));
  ax->count = 0;
  for (item = strtok_r(buf, ",[] ", &save); item; item = strtok_r(NULL, ",[] ", &save)) {
    if (AXES[a].kind == AXIS_STRING) {
      PetscCheck(ax->count < MAX_VALUES, sw->comm, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_%s: too many values", AXES[a].name);
      PetscCall(PetscStrncpy(ax->values[ax->count++], item, FIELD_LEN));
      continue;
    }
    char *c1 = strchr(item, ':');
    if (!c1) {
      double v;
      PetscCheck(ax->count < MAX_VALUES, sw->comm, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_%s: too many values", AXES[a].name);
      PetscCall(ParseNumber(sw, a, item, &v));
      PetscCall(FormatValue(sw, a, v, ax->values[ax->count++]));
    } else {
      char  *c2 = strchr(c1 + 1, ':');
      double lo, hi, nv;
      PetscCheck(c2, sw->comm, PETSC_ERR_ARG_WRONG, "-sweep_%s: a range is lo:hi:N, got '%s'", AXES[a].name, item);
      *c1 = *c2 = 0;
      PetscCall(ParseNumber(sw, a, item, &lo));
      PetscCall(ParseNumber(sw, a, c1 + 1, &hi));
      PetscCall(ParseNumber(sw, a, c2 + 1, &nv));
      PetscCheck(nv >= 1 && nv == PetscFloorReal(nv), sw->comm, PETSC_ERR_ARG_WRONG, "-sweep_%s: N in lo:hi:N must be a positive integer", AXES[a].name);
      PetscCheck(ax->count + (PetscInt)nv <= MAX_VALUES, sw->comm, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_%s: too many values", AXES[a].name);
      for (PetscInt k = 0; k < (PetscInt)nv; k++) {
        double v = nv > 1 ? lo + (hi - lo) * k / (nv - 1) : lo;
        PetscCall(FormatValue(sw, a, v, ax->values[ax->count++]));
      }
    }
  }
  PetscCheck(ax->count > 0, sw->comm, PETSC_ERR_ARG_WRONG, "-sweep_%s needs at least one value", AXES[a].name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Grid index -> value index per axis (last axis fastest). */
static void PointIndices(Sweep *sw, PetscInt point, PetscInt idx[])
{
  for (PetscInt a = NAXES - 1; a >= 0; a--) {
    PetscInt c = PetscMax(sw->axes[a].count, 1);
    idx[a]     = point % c;
    point /= c;
  }
}

/* ------------------------------------------------------------------ options */

static PetscErrorCode SweepSetFromOptions(Sweep *sw)
{
  char      spec[8192];
  PetscBool set, has_csv = PETSC_FALSE;

  PetscFunctionBeginUser;
  sw->trials = 10;
  sw->batch  = 1;
  PetscCall(PetscOptionsHasHelp(NULL, &sw->help));
  PetscOptionsBegin(sw->comm, NULL, "Parameter sweep (issue #8)", "ratemem sweep");
  PetscCall(PetscOptionsString("-sweep_csv", "CSV file, one row per grid point; points already in it are skipped (rewritten atomically after each point)",
                               "ratemem sweep", sw->csv, sw->csv, sizeof(sw->csv), &has_csv));
  PetscCall(PetscOptionsInt("-trials", "Trials per grid point (trial t cues memory t mod P)", "ratemem sweep", sw->trials, &sw->trials, NULL));
  PetscCall(PetscOptionsInt("-batch", "Integrate this many trials together (each weight product serves all of them)", "ratemem sweep", sw->batch,
                            &sw->batch, NULL));
  PetscCall(PetscOptionsBool("-quiet", "Do not print a line per grid point", "ratemem sweep", sw->quiet, &sw->quiet, NULL));
  for (PetscInt a = 0; a < NAXES; a++) {
    char opt[64], text[256];
    PetscCall(PetscSNPrintf(opt, sizeof(opt), "-sweep_%s", AXES[a].name));
    if (a == AXIS_LOAD) PetscCall(PetscSNPrintf(text, sizeof(text), "Loads P/n of the grid (sets -memories = max(1, round(load n))); comma list, lo:hi:N = N values"));
    else PetscCall(PetscSNPrintf(text, sizeof(text), "Values of %s in the grid (override %s); comma list%s", AXES[a].option, AXES[a].option,
                                 AXES[a].kind == AXIS_STRING ? "" : ", lo:hi:N = N values from lo to hi"));
    spec[0] = 0;
    PetscCall(PetscOptionsString(opt, text, "ratemem sweep", spec, spec, sizeof(spec), &set));
    if (set) PetscCall(ParseAxis(sw, a, spec));
  }
  PetscOptionsEnd();
  if (sw->help) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(has_csv && sw->csv[0], sw->comm, PETSC_ERR_ARG_WRONG, "ratemem sweep needs -sweep_csv FILE");
  PetscCheck(sw->trials > 0, sw->comm, PETSC_ERR_ARG_OUTOFRANGE, "trials must be > 0, got %" PetscInt_FMT, sw->trials);
  PetscCheck(sw->batch > 0, sw->comm, PETSC_ERR_ARG_OUTOFRANGE, "batch must be > 0, got %" PetscInt_FMT, sw->batch);
  PetscCheck(!(sw->axes[AXIS_MEM].count && sw->axes[AXIS_LOAD].count), sw->comm, PETSC_ERR_ARG_INCOMP, "give -sweep_memories or -sweep_load, not both");
  if (sw->axes[AXIS_LOAD].count) {
    PetscCall(PetscOptionsHasName(NULL, NULL, "-patterns", &set));
    PetscCheck(!set, sw->comm, PETSC_ERR_ARG_INCOMP, "-sweep_load needs generated memories, not -patterns");
  }
  sw->batch   = PetscMin(sw->batch, sw->trials);
  sw->npoints = 1;
  for (PetscInt a = 0; a < NAXES; a++) sw->npoints *= PetscMax(sw->axes[a].count, 1);
  PetscCall(PetscOptionsGetString(NULL, NULL, "-activation", sw->activation0, sizeof(sw->activation0), &sw->has_activation0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Put point's grid values in the options database. The Hebbian design has no choice of activation
   (tanh): -activation is removed at its points, and restored at the rate model's. */
static PetscErrorCode ApplyPoint(Sweep *sw, PetscInt point)
{
  PetscInt  idx[NAXES];
  char      design[64] = "paper";
  PetscBool set, hebbian;

  PetscFunctionBeginUser;
  PointIndices(sw, point, idx);
  for (PetscInt a = 0; a < NAXES; a++) {
    if (!sw->axes[a].count || a == AXIS_LOAD || a == AXIS_ACT) continue;
    PetscCall(PetscOptionsSetValue(NULL, AXES[a].option, sw->axes[a].values[idx[a]]));
  }
  PetscCall(PetscOptionsGetString(NULL, NULL, "-design", design, sizeof(design), &set));
  PetscCall(PetscStrcasecmp(design, "hebbian", &hebbian));
  if (hebbian) PetscCall(PetscOptionsClearValue(NULL, "-activation"));
  else if (sw->axes[AXIS_ACT].count) PetscCall(PetscOptionsSetValue(NULL, "-activation", sw->axes[AXIS_ACT].values[idx[AXIS_ACT]]));
  else if (sw->has_activation0) PetscCall(PetscOptionsSetValue(NULL, "-activation", sw->activation0));
  if (sw->axes[AXIS_LOAD].count) { /* P = max(1, round(load n)), with n as the memories object reads it */
    RmMemories tmp;
    PetscInt   n;
    double     load;
    char       val[32];
    PetscCall(PetscOptionsSetValue(NULL, "-memories", "1"));
    PetscCall(RmMemoriesCreate(sw->comm, &tmp));
    PetscCall(RmMemoriesSetFromOptions(tmp));
    PetscCall(RmMemoriesGetSizes(tmp, &n, NULL));
    PetscCall(RmMemoriesDestroy(&tmp));
    load = strtod(sw->axes[AXIS_LOAD].values[idx[AXIS_LOAD]], NULL);
    PetscCall(PetscSNPrintf(val, sizeof(val), "%" PetscInt_FMT, PetscMax(1, (PetscInt)RoundHalfAway(load * n))));
    PetscCall(PetscOptionsSetValue(NULL, "-memories", val));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The grid coordinates of a point as CSV fields (its key), from the objects as they read the options
   (memories loaded from a file are set up first: n, P and q come from the file). */
static PetscErrorCode PointKey(Sweep *sw, PetscInt point, RmMemories mem, RmSynapses syn, RmModel model, const RmCueOptions *cue, char *key, size_t len,
                               char *net_key, size_t net_len)
{
  PetscInt      idx[NAXES], n, P;
  PetscInt64    seed;
  PetscReal     q;
  RmPatternKind kind;
  RmDesignType  design;
  RmActivation  act;
  RmDesign      d;
  char          load[FIELD_LEN], balance[FIELD_LEN] = "q";
  PetscReal     r;
  PetscBool     has_r;

  PetscFunctionBeginUser;
  PointIndices(sw, point, idx);
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-balance", &r, &has_r)); /* unset: r = q, the basic design (§2) */
  if (has_r) PetscCall(PetscSNPrintf(balance, sizeof(balance), "%.8g", (double)r));
  PetscCall(RmMemoriesGetKind(mem, &kind));
  if (kind == RM_PATTERNS_FILE) PetscCall(RmMemoriesSetUp(mem));
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetSeed(mem, &seed));
  PetscCall(RmMemoriesGetCoding(mem, &q));
  PetscCall(RmSynapsesGetDesignType(syn, &design));
  PetscCall(RmSynapsesGetDesign(syn, &d));
  PetscCall(RmModelGetActivation(model, &act));
  if (sw->axes[AXIS_LOAD].count) PetscCall(PetscStrncpy(load, sw->axes[AXIS_LOAD].values[idx[AXIS_LOAD]], sizeof(load)));
  else PetscCall(PetscSNPrintf(load, sizeof(load), "%.8g", (double)P / n));
  /* the network: everything but the cue */
  PetscCall(PetscSNPrintf(net_key, net_len, "%s,%s,%" PetscInt_FMT ",%" PetscInt_FMT ",%s,%.8g,%.8g,%.8g,%.8g,%.8g,%s,%" PetscInt64_FMT, RmDesignTypes[design],
                          RmActivationTypes[act.type], n, P, load, (double)q, (double)act.gain, (double)act.threshold, (double)d.a, (double)d.b, balance, seed));
  PetscCall(PetscSNPrintf(key, len, "%s,%s,%" PetscInt_FMT ",%" PetscInt_FMT ",%s,%.8g,%.8g,%.8g,%.8g,%.8g,%.8g,%s,%" PetscInt64_FMT ",%" PetscInt_FMT,
                          RmDesignTypes[design], RmActivationTypes[act.type], n, P, load, (double)q, (double)cue->flip, (double)act.gain,
                          (double)act.threshold, (double)d.a, (double)d.b, balance, seed, sw->trials));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------ CSV (rank 0) */

static PetscErrorCode AddRow(Sweep *sw, const char *row)
{
  PetscFunctionBeginUser;
  if (sw->nrows == sw->cap) {
    char **rows;
    sw->cap = PetscMax(64, 2 * sw->cap);
    PetscCall(PetscMalloc1(sw->cap, &rows));
    if (sw->nrows) PetscCall(PetscArraycpy(rows, sw->rows, sw->nrows));
    PetscCall(PetscFree(sw->rows));
    sw->rows = rows;
  }
  PetscCall(PetscStrallocpy(row, &sw->rows[sw->nrows++]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Length of the key prefix of a row: up to (not including) its KEY_COLUMNS-th comma. */
static size_t KeyLength(const char *row)
{
  size_t   i      = 0;
  PetscInt commas = 0;
  for (; row[i]; i++)
    if (row[i] == ',' && ++commas == KEY_COLUMNS) break;
  return i;
}

/* Collective. Is key already in the CSV? (rank 0 decides) */
static PetscErrorCode KeyDone(Sweep *sw, const char *key, PetscBool *done)
{
  int d = 0;

  PetscFunctionBeginUser;
  if (!sw->rank) {
    size_t len = strlen(key);
    for (PetscInt i = 0; i < sw->nrows && !d; i++) d = KeyLength(sw->rows[i]) == len && !strncmp(sw->rows[i], key, len);
  }
  PetscCallMPI(MPI_Bcast(&d, 1, MPI_INT, 0, sw->comm));
  *done = d ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadCSV(Sweep *sw)
{
  int  status = 0; /* 1: bad header, 2: bad row */
  char line[8192], header[1024];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(header, sizeof(header), "%s,%s", KEY_HEADER, RESULT_HEADER));
  if (!sw->rank) {
    FILE *fp = fopen(sw->csv, "r");
    if (fp) {
      PetscInt lineno = 0;
      while (fgets(line, sizeof(line), fp)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        if (lineno++ == 0) {
          if (strcmp(line, header)) status = 1;
        } else {
          PetscInt commas = 0;
          for (size_t i = 0; i < len; i++) commas += line[i] == ',';
          if (commas != KEY_COLUMNS + 11) status = 2;
          else PetscCall(AddRow(sw, line));
        }
        if (status) break;
      }
      fclose(fp);
    }
  }
  PetscCallMPI(MPI_Bcast(&status, 1, MPI_INT, 0, sw->comm));
  PetscCheck(status != 1, sw->comm, PETSC_ERR_FILE_UNEXPECTED, "%s is not a ratemem sweep CSV (its header differs); use another -sweep_csv", sw->csv);
  PetscCheck(status != 2, sw->comm, PETSC_ERR_FILE_UNEXPECTED, "%s has a malformed row; fix or remove it", sw->csv);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Rank 0 (RmWriteFileAtomic): the whole CSV into fp. */
static PetscErrorCode WriteCSVRows(void *ctx, FILE *fp)
{
  Sweep *sw = (Sweep *)ctx;

  PetscFunctionBeginUser;
  fprintf(fp, "%s,%s\n", KEY_HEADER, RESULT_HEADER);
  for (PetscInt i = 0; i < sw->nrows; i++) fprintf(fp, "%s\n", sw->rows[i]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Collective. Rewrite the whole CSV under a unique temporary name, then rename it over FILE. */
static PetscErrorCode WriteCSV(Sweep *sw)
{
  PetscFunctionBeginUser;
  PetscCall(RmWriteFileAtomic(sw->comm, sw->csv, WriteCSVRows, sw)); /* src/io/atomic.c */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------ running a point */

static PetscErrorCode DestroyNetwork(Sweep *sw)
{
  PetscFunctionBeginUser;
  PetscCall(RmAppDestroyObjects_Private(&sw->mem, &sw->syn, &sw->model, &sw->integ, &sw->cl));
  PetscCall(VecDestroy(&sw->x0));
  PetscCall(VecDestroy(&sw->x));
  PetscCall(VecDestroy(&sw->x0n));
  PetscCall(VecDestroy(&sw->r));
  PetscCall(VecDestroy(&sw->col));
  sw->net_key[0] = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  PetscInt  counts[RM_LABEL_COUNT]; /* per RmLabel */
  PetscInt  final_ok;  /* cued memory's normalised overlap and amplitude >= threshold at the end, converged or not */
  PetscReal ov_sum, ov_sq, steps, rhs, products, t_end;
} PointStats;

/* All trials of the current point, B at a time (the last batch repeats its last cue). */
static PetscErrorCode RunTrials(Sweep *sw, const RmCueOptions *cue, PointStats *ps)
{
  PetscInt  B = sw->batch;
  PetscReal thr;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(ps, sizeof(*ps)));
  PetscCall(RmClassifierGetThreshold(sw->cl, &thr));
  for (PetscInt t0 = 0; t0 < sw->trials; t0 += B) {
    PetscInt          count = PetscMin(B, sw->trials - t0), cue_memory[1024];
    RmIntegratorStats st;
    PetscCheck(B <= 1024, sw->comm, PETSC_ERR_SUP, "batch must be <= 1024");
    for (PetscInt b = 0; b < B; b++) {
      PetscInt mu;
      PetscCall(RmAppColumnView_Private(sw->col, sw->x0n, b, PETSC_TRUE));
      PetscCall(RmMemoriesCreateCue(sw->mem, cue, t0 + PetscMin(b, count - 1), sw->col, &mu));
      PetscCall(RmAppColumnView_Private(sw->col, sw->x0n, b, PETSC_FALSE));
      cue_memory[b] = mu;
    }
    PetscCall(RmModelStateFromNeurons(sw->model, sw->x0n, sw->x0));
    PetscCall(VecCopy(sw->x0, sw->x));
    PetscCall(PetscLogStagePush(RM_EVENTS.stage_integrate));
    PetscCall(RmIntegratorSolve(sw->integ, sw->x, &st));
    PetscCall(PetscLogStagePop());
    PetscCall(PetscLogStagePush(RM_EVENTS.stage_classify));
    PetscCall(RmModelReadout(sw->model, sw->x, sw->r));
    for (PetscInt b = 0; b < count; b++) {
      RmOverlaps ov;
      RmLabel    label;
      PetscInt   nearest;
      PetscCall(RmAppColumnView_Private(sw->col, sw->r, b, PETSC_TRUE));
      PetscCall(RmClassifierComputeOverlaps(sw->cl, sw->col, &ov));
      PetscCall(RmAppColumnView_Private(sw->col, sw->r, b, PETSC_FALSE));
      PetscCall(RmClassifierLabel(sw->cl, &ov, cue_memory[b], st.converged, &label, &nearest));
      PetscReal m = ov.normalised[cue_memory[b]];
      ps->counts[label]++;
      ps->final_ok += m >= thr && ov.amplitude[cue_memory[b]] >= thr;
      ps->ov_sum += m;
      ps->ov_sq += m * m;
      ps->steps += (PetscReal)st.steps;
      ps->rhs += (PetscReal)st.rhs_evals;
      ps->t_end += st.t_end;
    }
    PetscCall(PetscLogStagePop());
    ps->products += (PetscReal)st.weight_products; /* one pass serves the whole batch */
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Collective. Build (or reuse) the network of a point, run its trials, add its row. */
static PetscErrorCode RunPoint(Sweep *sw, PetscInt point, PetscBool validate_only)
{
  RmMemories   mem;
  RmSynapses   syn;
  RmModel      model;
  RmIntegrator integ;
  RmClassifier cl;
  RmCueOptions cue = {RM_CUE_FLIP, 0.1, 3, 0.6}; /* the defaults of ratemem retrieve */
  char         key[1024], net_key[1024];
  PetscBool    done = PETSC_FALSE;
  double       t0   = RmWallTime();

  PetscFunctionBeginUser;
  PetscCall(ApplyPoint(sw, point));
  PetscCall(RmAppCreateObjects_Private(sw->comm, &mem, &syn, &model, &integ, &cl));
  PetscCall(RmCueOptionsSetFromOptions(sw->comm, &cue));
  if (validate_only) {
    PetscCall(RmAppDestroyObjects_Private(&mem, &syn, &model, &integ, &cl));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PointKey(sw, point, mem, syn, model, &cue, key, sizeof(key), net_key, sizeof(net_key)));
  PetscCall(KeyDone(sw, key, &done));
  if (done || !strcmp(net_key, sw->net_key)) { /* skipped, or the same network with another cue */
    PetscCall(RmAppDestroyObjects_Private(&mem, &syn, &model, &integ, &cl));
  } else {
    PetscInt n, rstart, rend;
    PetscCall(DestroyNetwork(sw));
    sw->mem   = mem;
    sw->syn   = syn;
    sw->model = model;
    sw->integ = integ;
    sw->cl    = cl;
    PetscCall(RmAppSetUpObjects_Private(mem, syn, model, integ, cl, sw->batch, NULL, NULL));
    PetscCall(RmModelCreateState(model, &sw->x0));
    PetscCall(VecDuplicate(sw->x0, &sw->x));
    PetscCall(RmModelCreateNeuronVec(model, &sw->x0n));
    PetscCall(RmModelCreateNeuronVec(model, &sw->r));
    PetscCall(RmMemoriesGetSizes(mem, &n, NULL));
    PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
    PetscCall(VecCreateMPIWithArray(sw->comm, 1, rend - rstart, n, NULL, &sw->col));
    PetscCall(PetscStrncpy(sw->net_key, net_key, sizeof(sw->net_key)));
  }
  if (done) {
    sw->skipped++;
    if (!sw->quiet) PetscCall(PetscPrintf(sw->comm, "[%" PetscInt_FMT "/%" PetscInt_FMT "] %s: in the CSV, skipped\n", point + 1, sw->npoints, key));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  {
    PointStats ps;
    PetscReal  T = (PetscReal)sw->trials, mean, sd;
    char       row[2048];
    PetscCall(RunTrials(sw, &cue, &ps));
    mean = ps.ov_sum / T;
    sd   = sw->trials > 1 ? PetscSqrtReal(PetscMax(0.0, (ps.ov_sq - T * mean * mean) / (T - 1))) : 0.0;
    PetscCall(PetscSNPrintf(row, sizeof(row), "%s,%.6g,%.6g,%.6f,%.6f,%.6g,%.6g,%.6g,%.2f,%.2f,%.2f,%.4f,%.3f", key, ps.counts[RM_LABEL_RETRIEVED] / T,
                            ps.final_ok / T, (double)mean, (double)sd, ps.counts[RM_LABEL_OTHER] / T, ps.counts[RM_LABEL_SPURIOUS] / T,
                            ps.counts[RM_LABEL_UNCONVERGED] / T, (double)(ps.steps / T), (double)(ps.rhs / T), (double)(ps.products / T),
                            (double)(ps.t_end / T), RmWallTime() - t0));
    if (!sw->rank) PetscCall(AddRow(sw, row));
    PetscCall(WriteCSV(sw));
    sw->computed++;
    if (!sw->quiet)
      PetscCall(PetscPrintf(sw->comm, "[%" PetscInt_FMT "/%" PetscInt_FMT "] %s: retrieved %" PetscInt_FMT "/%" PetscInt_FMT ", overlap %.4f +- %.4f, %.2f s\n",
                            point + 1, sw->npoints, key, ps.counts[RM_LABEL_RETRIEVED], sw->trials, (double)mean, (double)sd, RmWallTime() - t0));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The sweep's files, checked before anything is computed (src/io/atomic.c). The CSV is read and
   rewritten by design (resume), so it is an output only. */
static PetscErrorCode CheckFiles(Sweep *sw)
{
  RmFileSet   fs;
  char        patterns[PETSC_MAX_PATH_LEN];
  const char *yaml;
  PetscBool   has_patterns;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-patterns", patterns, sizeof(patterns), &has_patterns));
  PetscCall(RmGetOptionsYAMLFile(&yaml));
  PetscCall(RmFileSetCreate(sw->comm, &fs));
  PetscCall(RmFileSetAddInput(fs, "-options_file_yaml", yaml));
  PetscCall(RmFileSetAddInput(fs, "-patterns", has_patterns ? patterns : NULL));
  PetscCall(RmFileSetAddOutput(fs, "-sweep_csv", sw->csv));
  PetscErrorCode ierr = RmFileSetCheck(fs);
  PetscCall(RmFileSetDestroy(&fs));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SweepRun(Sweep *sw)
{
  PetscFunctionBeginUser;
  PetscCall(SweepSetFromOptions(sw));
  if (sw->help) { /* list the options of every object once */
    RmMemories   mem;
    RmSynapses   syn;
    RmModel      model;
    RmIntegrator integ;
    RmClassifier cl;
    RmCueOptions cue = {RM_CUE_FLIP, 0.1, 3, 0.6};
    PetscCall(RmAppCreateObjects_Private(sw->comm, &mem, &syn, &model, &integ, &cl));
    PetscCall(RmCueOptionsSetFromOptions(sw->comm, &cue));
    PetscCall(RmAppDestroyObjects_Private(&mem, &syn, &model, &integ, &cl));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  /* Every point's options are checked before anything runs, and unknown options refused. */
  for (PetscInt p = 0; p < sw->npoints; p++) PetscCall(RunPoint(sw, p, PETSC_TRUE));
  PetscCall(RmCheckOptionsAllUsed(sw->comm));
  PetscCall(CheckFiles(sw));
  PetscCall(ReadCSV(sw));
  if (!sw->quiet) {
    PetscCall(PetscPrintf(sw->comm, "ratemem sweep: %" PetscInt_FMT " grid points x %" PetscInt_FMT " trials, %d rank%s, CSV %s (%" PetscInt_FMT " rows already)\n",
                          sw->npoints, sw->trials, sw->size, sw->size > 1 ? "s" : "", sw->csv, sw->nrows));
    PetscCall(PetscPrintf(sw->comm, "columns: %s\n", KEY_HEADER));
  }
  for (PetscInt p = 0; p < sw->npoints; p++) PetscCall(RunPoint(sw, p, PETSC_FALSE));
  if (!sw->quiet) /* (nothing computed: every point was in the file, which is left untouched) */
    PetscCall(PetscPrintf(sw->comm, "sweep done: %" PetscInt_FMT " points computed, %" PetscInt_FMT " skipped (already in %s)\n", sw->computed, sw->skipped,
                          sw->csv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmSweepMain(MPI_Comm comm)
{
  Sweep          sw = {0};
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  sw.comm = comm;
  PetscCallMPI(MPI_Comm_rank(comm, &sw.rank));
  PetscCallMPI(MPI_Comm_size(comm, &sw.size));
  ierr = SweepRun(&sw);
  PetscCall(DestroyNetwork(&sw));
  for (PetscInt a = 0; a < NAXES; a++) PetscCall(PetscFree(sw.axes[a].values));
  for (PetscInt i = 0; i < sw.nrows; i++) PetscCall(PetscFree(sw.rows[i]));
  PetscCall(PetscFree(sw.rows));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}
