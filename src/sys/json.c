/* Minimal streaming JSON writer for the run summary. */
#include <ratemem/io.h>

static PetscErrorCode Key(RmJSON *j, const char *key)
{
  PetscFunctionBeginUser;
  if (j->need_comma[j->depth]) fputc(',', j->fp);
  fputc('\n', j->fp);
  for (int d = 0; d < j->depth; d++) fputs("  ", j->fp);
  if (key) fprintf(j->fp, "\"%s\": ", key);
  j->need_comma[j->depth] = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmJSONBegin(RmJSON *j, FILE *fp)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(j, sizeof(*j)));
  j->fp = fp;
  fputc('{', fp);
  j->depth = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmJSONEnd(RmJSON *j)
{
  PetscFunctionBeginUser;
  PetscCheck(j->depth == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "unbalanced JSON");
  fputs("\n}\n", j->fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Open(RmJSON *j, const char *key, char c)
{
  PetscFunctionBeginUser;
  PetscCheck(j->depth < 31, PETSC_COMM_SELF, PETSC_ERR_PLIB, "JSON too deep");
  PetscCall(Key(j, key));
  fputc(c, j->fp);
  j->depth++;
  j->need_comma[j->depth] = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Close(RmJSON *j, char c)
{
  PetscFunctionBeginUser;
  j->depth--;
  fputc('\n', j->fp);
  for (int d = 0; d < j->depth; d++) fputs("  ", j->fp);
  fputc(c, j->fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmJSONBeginObject(RmJSON *j, const char *key) { return Open(j, key, '{'); }
PetscErrorCode RmJSONEndObject(RmJSON *j) { return Close(j, '}'); }
PetscErrorCode RmJSONBeginArray(RmJSON *j, const char *key) { return Open(j, key, '['); }
PetscErrorCode RmJSONEndArray(RmJSON *j) { return Close(j, ']'); }

PetscErrorCode RmJSONString(RmJSON *j, const char *key, const char *value)
{
  PetscFunctionBeginUser;
  PetscCall(Key(j, key));
  fputc('"', j->fp);
  for (const char *c = value; *c; c++) {
    if (*c == '"' || *c == '\\') fprintf(j->fp, "\\%c", *c);
    else if ((unsigned char)*c < 0x20) fprintf(j->fp, "\\u%04x", (unsigned)*c);
    else fputc(*c, j->fp);
  }
  fputc('"', j->fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmJSONReal(RmJSON *j, const char *key, PetscReal value)
{
  PetscFunctionBeginUser;
  PetscCall(Key(j, key));
  if (PetscIsInfOrNanReal(value)) fputs("null", j->fp);
  else fprintf(j->fp, "%.17g", (double)value);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmJSONInt(RmJSON *j, const char *key, PetscInt64 value)
{
  PetscFunctionBeginUser;
  PetscCall(Key(j, key));
  fprintf(j->fp, "%lld", (long long)value);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmJSONBool(RmJSON *j, const char *key, PetscBool value)
{
  PetscFunctionBeginUser;
  PetscCall(Key(j, key));
  fputs(value ? "true" : "false", j->fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}
