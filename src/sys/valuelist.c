/* Lists of option values (include/ratemem/sys.h): "v1,v2,..." with numeric items lo:hi:N standing
   for N equally spaced values, each turned into its canonical string. */
#include <ratemem/sys.h>
#include <stdlib.h>
#include <string.h>

/* Parse one numeric value of an axis into its canonical string. */
static PetscErrorCode FormatValue(MPI_Comm comm, const char *opt, RmValueKind kind, double v, char *out)
{
  PetscFunctionBeginUser;
  if (kind == RM_VALUE_INT) {
    PetscCheck(PetscAbsReal(v - RmRoundHalfAway(v)) < 1e-9 * PetscMax(1.0, PetscAbsReal(v)), comm, PETSC_ERR_ARG_WRONG,
               "%s takes integers, got %g", opt, v);
    PetscCall(PetscSNPrintf(out, RM_VALUE_LEN, "%lld", (long long)RmRoundHalfAway(v)));
  } else PetscCall(PetscSNPrintf(out, RM_VALUE_LEN, "%.8g", v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ParseNumber(MPI_Comm comm, const char *opt, const char *s, double *v)
{
  char *end;

  PetscFunctionBeginUser;
  *v = strtod(s, &end);
  while (*end == ' ') end++;
  PetscCheck(end != s && *end == 0 && !PetscIsInfOrNanReal((PetscReal)*v), comm, PETSC_ERR_ARG_WRONG, "%s: '%s' is not a number", opt, s);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A list: items separated by commas; a numeric item lo:hi:N stands for N equally spaced values. */
PetscErrorCode RmParseValueList(MPI_Comm comm, const char *opt, const char *spec, RmValueKind kind, PetscInt max, char (*values)[RM_VALUE_LEN], PetscInt *count)
{
  char buf[8192], *item, *save = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(buf, spec, sizeof(buf)));
  *count = 0;
  for (item = strtok_r(buf, ",[] ", &save); item; item = strtok_r(NULL, ",[] ", &save)) {
    if (kind == RM_VALUE_STRING) {
      PetscCheck(*count < max, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: too many values", opt);
      PetscCall(PetscStrncpy(values[(*count)++], item, RM_VALUE_LEN));
      continue;
    }
    char *c1 = strchr(item, ':');
    if (!c1) {
      double v;
      PetscCheck(*count < max, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: too many values", opt);
      PetscCall(ParseNumber(comm, opt, item, &v));
      PetscCall(FormatValue(comm, opt, kind, v, values[(*count)++]));
    } else {
      char  *c2 = strchr(c1 + 1, ':');
      double lo, hi, nv;
      PetscCheck(c2, comm, PETSC_ERR_ARG_WRONG, "%s: a range is lo:hi:N, got '%s'", opt, item);
      *c1 = *c2 = 0;
      PetscCall(ParseNumber(comm, opt, item, &lo));
      PetscCall(ParseNumber(comm, opt, c1 + 1, &hi));
      PetscCall(ParseNumber(comm, opt, c2 + 1, &nv));
      PetscCheck(nv >= 1 && nv == PetscFloorReal(nv), comm, PETSC_ERR_ARG_WRONG, "%s: N in lo:hi:N must be a positive integer", opt);
      PetscCheck(*count + (PetscInt)nv <= max, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: too many values", opt);
      for (PetscInt k = 0; k < (PetscInt)nv; k++) {
        double v = nv > 1 ? lo + (hi - lo) * k / (nv - 1) : lo;
        PetscCall(FormatValue(comm, opt, kind, v, values[(*count)++]));
      }
    }
  }
  PetscCheck(*count > 0, comm, PETSC_ERR_ARG_WRONG, "%s needs at least one value", opt);
  PetscFunctionReturn(PETSC_SUCCESS);
}
