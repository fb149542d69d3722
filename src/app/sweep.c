/* `ratemem sweep`: a grid of (design, activation, coding, n, P or load P/n, a, b, balance, gain,
   threshold, seed, cue corruption) with many trials per point, in one MPI job, one CSV row per point.

   Every point is run through the trial runner of `ratemem retrieve` (include/ratemem/run.h): the objects
   read the user's options, then the point's grid values go in through their setters (RmMemoriesSetSizes,
   RmModelSetGain, ...), so a point is exactly `ratemem retrieve` with those values as options. The
   activation axis applies to the rate model's points only; an -activation given as an option applies to
   every point (so it must suit every design of the grid). Trial t of a point cues
   memory t mod P with the cue of (seed, t) (docs/model.md §1; the flipped sets of one trial are nested as
   the flip fraction grows). Points that differ only in the flip fraction share the network.

   The CSV is resumable: a point whose grid coordinates (the first KEY_COLUMNS columns) are already in
   the file is skipped, and after each point the whole file is rewritten atomically (RmTable). */
#include <ratemem/run.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct {
  const char *name;   /* column and option suffix: -sweep_<name> */
  const char *option; /* the option it sets (load sets -memories = round(load n)) */
  RmValueKind kind;
} AxisInfo;

/* Loop order: the last axis varies fastest. flip is last so that consecutive points share the network. */
static const AxisInfo AXES[] = {
  {"design",    "-design",     RM_VALUE_STRING},
  {"activation", "-activation", RM_VALUE_STRING},
  {"coding",    "-coding",     RM_VALUE_REAL  },
  {"neurons",   "-neurons",    RM_VALUE_INT   },
  {"memories",  "-memories",   RM_VALUE_INT   },
  {"load",      "-memories",   RM_VALUE_REAL  },
  {"a",         "-a",          RM_VALUE_REAL  },
  {"b",         "-b",          RM_VALUE_REAL  },
  {"balance",   "-balance",    RM_VALUE_REAL  },
  {"gain",      "-gain",       RM_VALUE_REAL  },
  {"threshold", "-threshold",  RM_VALUE_REAL  },
  {"seed",      "-seed",       RM_VALUE_INT   },
  {"flip",      "-flip",       RM_VALUE_REAL  },
};
#define NAXES       ((PetscInt)(sizeof(AXES) / sizeof(AXES[0])))
#define AXIS_DESIGN    0
#define AXIS_ACT       1
#define AXIS_CODING    2
#define AXIS_NEURONS   3
#define AXIS_MEM       4
#define AXIS_LOAD      5
#define AXIS_A         6
#define AXIS_B         7
#define AXIS_BALANCE   8
#define AXIS_GAIN      9
#define AXIS_THRESHOLD 10
#define AXIS_SEED      11
#define AXIS_FLIP      12
#define MAX_VALUES  4096
#define FIELD_LEN   RM_VALUE_LEN

static const char KEY_HEADER[] = "design,activation,neurons,memories,load,coding,flip,gain,threshold,a,b,balance,seed,trials";
#define KEY_COLUMNS 14
static const char RESULT_HEADER[] = "retrieval_rate,final_rate,overlap_mean,overlap_std,frac_other,frac_spurious,frac_unconverged,frac_saturated,frac_quiescent,retrieval_ci_lo,retrieval_ci_hi,"
                                    "steps_mean,rhs_mean,"
                                    "products_per_trial,t_end_mean,wall_time,"
                                    /* the census of outcomes (docs/results.md "Global behaviour, measured"): a memory (retrieved or
                                       other), quiescent, saturated, spurious, unconverged, each with its 95% Wilson interval */
                                    "frac_memory,frac_memory_ci_lo,frac_memory_ci_hi,frac_quiescent_ci_lo,frac_quiescent_ci_hi,frac_saturated_ci_lo,"
                                    "frac_saturated_ci_hi,frac_spurious_ci_lo,frac_spurious_ci_hi,frac_unconverged_ci_lo,frac_unconverged_ci_hi";

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
  RmTable      table;         /* the CSV: one row per point, keyed by its first KEY_COLUMNS fields */
  RmRun        run;           /* the current network */
  char         net_key[1024];
  PetscInt     computed, skipped;
} Sweep;

/* ------------------------------------------------------------------ grid */

/* One axis of the grid from its -sweep_<name> list (canonical strings, also what goes into the options database). */
static PetscErrorCode ParseAxis(Sweep *sw, PetscInt a, const char *spec)
{
  char opt[64];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opt, sizeof(opt), "-sweep_%s", AXES[a].name));
  PetscCall(PetscMalloc1(MAX_VALUES, &sw->axes[a].values));
  PetscCall(RmParseValueList(sw->comm, opt, spec, AXES[a].kind, MAX_VALUES, sw->axes[a].values, &sw->axes[a].count));
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
  PetscOptionsBegin(sw->comm, NULL, "Parameter sweep", "ratemem sweep");
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
                                 AXES[a].kind == RM_VALUE_STRING ? "" : ", lo:hi:N = N values from lo to hi"));
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
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The design of a point (the design axis, or -design as given): set on the runner before its objects exist. */
static PetscErrorCode PointDesign(Sweep *sw, const PetscInt idx[], RmRun run)
{
  PetscFunctionBeginUser;
  if (!sw->axes[AXIS_DESIGN].count) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt d = 0; RmDesignTypes[d] && d < 3; d++) {
    PetscBool match;
    PetscCall(PetscStrcasecmp(sw->axes[AXIS_DESIGN].values[idx[AXIS_DESIGN]], RmDesignTypes[d], &match));
    if (match) PetscCall(RmRunSetDesignType(run, (RmDesignType)d));
    if (match) PetscFunctionReturn(PETSC_SUCCESS);
  }
  SETERRQ(sw->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "-sweep_design: unknown design %s (paper, hebbian or projection)", sw->axes[AXIS_DESIGN].values[idx[AXIS_DESIGN]]);
}

/* Axis value k of a point as a number (the canonical strings parse exactly). */
static double Value(Sweep *sw, const PetscInt idx[], PetscInt a)
{
  return strtod(sw->axes[a].values[idx[a]], NULL);
}

/* The point's grid values through the objects' setters, after they read the user's options. The
   activation axis applies to the rate model's points only (the Hebbian design uses tanh). */
static PetscErrorCode ConfigurePoint(Sweep *sw, const PetscInt idx[], RmRun run)
{
  RmMemories   mem;
  RmSynapses   syn;
  RmModel      model;
  RmCueOptions cue;
  RmDesignType design;
  RmDesign     d;
  PetscInt     n, P;

  PetscFunctionBeginUser;
  PetscCall(RmRunGetObjects(run, &mem, &syn, &model, NULL, NULL));
  PetscCall(RmSynapsesGetDesignType(syn, &design));
  if (sw->axes[AXIS_ACT].count && design != RM_DESIGN_HEBBIAN) PetscCall(RmModelSetActivation(model, sw->axes[AXIS_ACT].values[idx[AXIS_ACT]]));
  if (sw->axes[AXIS_CODING].count) PetscCall(RmMemoriesSetCoding(mem, Value(sw, idx, AXIS_CODING)));
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  if (sw->axes[AXIS_NEURONS].count) n = (PetscInt)Value(sw, idx, AXIS_NEURONS);
  if (sw->axes[AXIS_MEM].count) P = (PetscInt)Value(sw, idx, AXIS_MEM);
  if (sw->axes[AXIS_LOAD].count) P = PetscMax(1, (PetscInt)RmRoundHalfAway(Value(sw, idx, AXIS_LOAD) * n));
  if (sw->axes[AXIS_NEURONS].count || sw->axes[AXIS_MEM].count || sw->axes[AXIS_LOAD].count) PetscCall(RmMemoriesSetSizes(mem, n, P));
  PetscCall(RmSynapsesGetDesign(syn, &d));
  if (sw->axes[AXIS_A].count) d.a = Value(sw, idx, AXIS_A);
  if (sw->axes[AXIS_B].count) d.b = Value(sw, idx, AXIS_B);
  if (sw->axes[AXIS_A].count || sw->axes[AXIS_B].count) PetscCall(RmSynapsesSetCurrents(syn, d.a, d.b));
  if (sw->axes[AXIS_BALANCE].count) PetscCall(RmSynapsesSetBalance(syn, Value(sw, idx, AXIS_BALANCE)));
  if (sw->axes[AXIS_GAIN].count) PetscCall(RmModelSetGain(model, Value(sw, idx, AXIS_GAIN)));
  if (sw->axes[AXIS_THRESHOLD].count) PetscCall(RmModelSetThreshold(model, Value(sw, idx, AXIS_THRESHOLD)));
  if (sw->axes[AXIS_SEED].count) PetscCall(RmMemoriesSetSeed(mem, (PetscInt64)Value(sw, idx, AXIS_SEED)));
  PetscCall(RmRunGetCue(run, &cue));
  if (sw->axes[AXIS_FLIP].count) cue.flip = Value(sw, idx, AXIS_FLIP);
  PetscCall(RmRunSetCue(run, &cue));
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
  PetscBool     has_r;

  PetscFunctionBeginUser;
  PointIndices(sw, point, idx);
  { /* unset or q: r = q, the basic design (§2); auto: measured at set-up, keyed as "auto" */
    char      given[FIELD_LEN];
    PetscBool is_auto = PETSC_FALSE, is_q = PETSC_FALSE;
    PetscCall(PetscOptionsGetString(NULL, NULL, "-balance", given, sizeof(given), &has_r));
    if (has_r) PetscCall(PetscStrcasecmp(given, "auto", &is_auto));
    if (has_r) PetscCall(PetscStrcasecmp(given, "q", &is_q));
    if (is_auto) PetscCall(PetscStrncpy(balance, "auto", sizeof(balance)));
    else if (has_r && !is_q) PetscCall(PetscSNPrintf(balance, sizeof(balance), "%.8g", strtod(given, NULL)));
    if (sw->axes[AXIS_BALANCE].count) PetscCall(PetscSNPrintf(balance, sizeof(balance), "%.8g", Value(sw, idx, AXIS_BALANCE)));
  }
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
                          act.fn->name, n, P, load, (double)q, (double)act.gain, (double)act.threshold, (double)d.a, (double)d.b, balance, seed));
  PetscCall(PetscSNPrintf(key, len, "%s,%s,%" PetscInt_FMT ",%" PetscInt_FMT ",%s,%.8g,%.8g,%.8g,%.8g,%.8g,%.8g,%s,%" PetscInt64_FMT ",%" PetscInt_FMT,
                          RmDesignTypes[design], act.fn->name, n, P, load, (double)q, (double)cue->flip, (double)act.gain,
                          (double)act.threshold, (double)d.a, (double)d.b, balance, seed, sw->trials));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------ running a point */

/* Collective. A runner with the objects of the user's options and the point's grid values. */
static PetscErrorCode CreateRun(Sweep *sw, PetscInt point, RmRun *run)
{
  PetscInt idx[NAXES];

  PetscFunctionBeginUser;
  PointIndices(sw, point, idx);
  PetscCall(RmRunCreate(sw->comm, run));
  PetscCall(PointDesign(sw, idx, *run));
  PetscCall(RmRunSetFromOptions(*run));
  PetscCall(ConfigurePoint(sw, idx, *run));
  PetscCall(RmRunSetTrials(*run, sw->trials));
  PetscCall(RmRunSetBatch(*run, sw->batch));
  PetscCall(RmRunSetQuiet(*run, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Collective. Build (or reuse) the network of a point, run its trials, add its row. */
static PetscErrorCode RunPoint(Sweep *sw, PetscInt point, PetscBool validate_only)
{
  RmRun        run;
  RmMemories   mem;
  RmSynapses   syn;
  RmModel      model;
  RmCueOptions cue;
  char         key[1024], net_key[1024];
  PetscBool    done = PETSC_FALSE;
  double       t0   = RmWallTime();

  PetscFunctionBeginUser;
  PetscCall(CreateRun(sw, point, &run));
  if (validate_only) {
    PetscCall(RmRunDestroy(&run));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(RmRunGetObjects(run, &mem, &syn, &model, NULL, NULL));
  PetscCall(RmRunGetCue(run, &cue));
  PetscCall(PointKey(sw, point, mem, syn, model, &cue, key, sizeof(key), net_key, sizeof(net_key)));
  PetscCall(RmTableHasKey(sw->table, key, &done));
  if (done || !strcmp(net_key, sw->net_key)) { /* skipped, or the same network with another cue */
    PetscCall(RmRunDestroy(&run));
    if (!done) PetscCall(RmRunSetCue(sw->run, &cue));
  } else {
    PetscCall(RmRunDestroy(&sw->run));
    sw->run = run;
    PetscCall(RmRunSetUp(run));
    PetscCall(PetscStrncpy(sw->net_key, net_key, sizeof(sw->net_key)));
  }
  if (done) {
    sw->skipped++;
    if (!sw->quiet) PetscCall(PetscPrintf(sw->comm, "[%" PetscInt_FMT "/%" PetscInt_FMT "] %s: in the CSV, skipped\n", point + 1, sw->npoints, key));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  {
    RmRunStatistics st;
    PetscReal       T = (PetscReal)sw->trials;
    double          lo, hi; /* 95% Wilson intervals */
    char            row[2048];
    size_t          len;
    PetscCall(RmRunSolve(sw->run, NULL));
    PetscCall(RmRunGetStatistics(sw->run, &st));
    RmWilsonInterval(st.counts[RM_LABEL_RETRIEVED], sw->trials, 1.96, &lo, &hi);
    PetscCall(PetscSNPrintf(row, sizeof(row), "%s,%.6g,%.6g,%.6f,%.6f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.2f,%.2f,%.2f,%.4f,%.3f,%.6g", key, st.counts[RM_LABEL_RETRIEVED] / T,
                            st.final_ok / T, (double)st.overlap_mean, (double)st.overlap_sd, st.counts[RM_LABEL_OTHER] / T, st.counts[RM_LABEL_SPURIOUS] / T,
                            st.counts[RM_LABEL_UNCONVERGED] / T, st.counts[RM_LABEL_SATURATED] / T, st.counts[RM_LABEL_QUIESCENT] / T, lo, hi, (double)st.steps,
                            (double)st.rhs, (double)st.products, (double)st.t_end, RmWallTime() - t0, st.census[0] / T));
    for (int k = 0; k < 5; k++) { /* the census columns */
      RmWilsonInterval(st.census[k], sw->trials, 1.96, &lo, &hi);
      len = strlen(row);
      PetscCall(PetscSNPrintf(row + len, sizeof(row) - len, ",%.6g,%.6g", lo, hi));
    }
    PetscCall(RmTableAppend(sw->table, row));
    sw->computed++;
    if (!sw->quiet)
      PetscCall(PetscPrintf(sw->comm, "[%" PetscInt_FMT "/%" PetscInt_FMT "] %s: retrieved %" PetscInt_FMT "/%" PetscInt_FMT ", overlap %.4f +- %.4f, %.2f s\n",
                            point + 1, sw->npoints, key, st.counts[RM_LABEL_RETRIEVED], sw->trials, (double)st.overlap_mean, (double)st.overlap_sd, RmWallTime() - t0));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SweepRun(Sweep *sw)
{
  PetscInt nrows;

  PetscFunctionBeginUser;
  PetscCall(SweepSetFromOptions(sw));
  if (sw->help) { /* list the options of every object once */
    RmRun run;
    PetscCall(CreateRun(sw, 0, &run));
    PetscCall(RmRunDestroy(&run));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  /* Every point's options are checked before anything runs, and unknown options refused. */
  for (PetscInt p = 0; p < sw->npoints; p++) PetscCall(RunPoint(sw, p, PETSC_TRUE));
  PetscCall(RmCheckOptionsAllUsed(sw->comm));
  { /* the CSV is read and rewritten by design (resume): an output only */
    const RmFileArg files[] = {{"-sweep_csv", sw->csv, RM_FILE_OUTPUT}, {NULL, NULL, RM_FILE_INPUT}};
    PetscCall(RmCheckRunFiles(sw->comm, files));
  }
  {
    char header[1024];
    PetscCall(PetscSNPrintf(header, sizeof(header), "%s,%s", KEY_HEADER, RESULT_HEADER));
    PetscCall(RmTableCreate(sw->comm, sw->csv, header, KEY_COLUMNS, &sw->table));
    PetscCall(RmTableLoad(sw->table));
    PetscCall(RmTableGetRowCount(sw->table, &nrows));
  }
  if (!sw->quiet) {
    PetscCall(PetscPrintf(sw->comm, "ratemem sweep: %" PetscInt_FMT " grid points x %" PetscInt_FMT " trials, %d rank%s, CSV %s (%" PetscInt_FMT " rows already)\n",
                          sw->npoints, sw->trials, sw->size, sw->size > 1 ? "s" : "", sw->csv, nrows));
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
  PetscCall(RmRunDestroy(&sw.run));
  for (PetscInt a = 0; a < NAXES; a++) PetscCall(PetscFree(sw.axes[a].values));
  PetscCall(RmTableDestroy(&sw.table));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}
