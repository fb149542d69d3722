/* A resumable results table (include/ratemem/io.h): a CSV file with one header line and one row per
   computed item, keyed by its first key_columns fields. Rank 0 holds the rows; after each new row the
   whole file is rewritten through the atomic writer, so a killed study loses at most the row in
   progress and resumes by skipping the keys already in the file. */
#include <ratemem/io.h>
#include <string.h>

struct _p_RmTable {
  MPI_Comm    comm;
  PetscMPIInt rank;
  char        path[PETSC_MAX_PATH_LEN];
  char       *header;
  PetscInt    key_columns, columns; /* fields per row */
  char      **rows;                 /* rank 0 */
  PetscInt    nrows, cap;
};

PetscErrorCode RmTableCreate(MPI_Comm comm, const char *path, const char *header, PetscInt key_columns, RmTable *table)
{
  RmTable t;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&t));
  t->comm        = comm;
  t->key_columns = key_columns;
  t->columns     = 1;
  for (const char *c = header; *c; c++) t->columns += *c == ',';
  PetscCallMPI(MPI_Comm_rank(comm, &t->rank));
  PetscCall(PetscStrncpy(t->path, path, sizeof(t->path)));
  PetscCall(PetscStrallocpy(header, &t->header));
  *table = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AddRow(RmTable t, const char *row)
{
  PetscFunctionBeginUser;
  if (t->nrows == t->cap) {
    char **rows;
    t->cap = PetscMax(64, 2 * t->cap);
    PetscCall(PetscMalloc1(t->cap, &rows));
    if (t->nrows) PetscCall(PetscArraycpy(rows, t->rows, t->nrows));
    PetscCall(PetscFree(t->rows));
    t->rows = rows;
  }
  PetscCall(PetscStrallocpy(row, &t->rows[t->nrows++]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Length of the key prefix of a row: up to (not including) its key_columns-th comma. */
static size_t KeyLength(RmTable t, const char *row)
{
  size_t   i      = 0;
  PetscInt commas = 0;
  for (; row[i]; i++)
    if (row[i] == ',' && ++commas == t->key_columns) break;
  return i;
}

/* Rank 0: 0 read (or no file), 1 bad header, 2 bad row. */
static PetscErrorCode ReadFile(RmTable t, int *status)
{
  char     line[8192];
  FILE    *fp = fopen(t->path, "r");
  PetscInt lineno = 0;

  PetscFunctionBeginUser;
  *status = 0;
  if (!fp) PetscFunctionReturn(PETSC_SUCCESS);
  while (!*status && fgets(line, sizeof(line), fp)) {
    size_t   len = strlen(line);
    PetscInt fields = 1;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    if (!len) continue;
    if (lineno++ == 0) {
      if (strcmp(line, t->header)) *status = 1;
      continue;
    }
    for (size_t i = 0; i < len; i++) fields += line[i] == ',';
    if (fields != t->columns) *status = 2;
    else PetscCall(AddRow(t, line));
  }
  fclose(fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmTableLoad(RmTable t)
{
  int status = 0;

  PetscFunctionBeginUser;
  if (!t->rank) PetscCall(ReadFile(t, &status));
  PetscCallMPI(MPI_Bcast(&status, 1, MPI_INT, 0, t->comm));
  PetscCheck(status != 1, t->comm, PETSC_ERR_FILE_UNEXPECTED, "%s is not a table of this kind (its header differs); use another file", t->path);
  PetscCheck(status != 2, t->comm, PETSC_ERR_FILE_UNEXPECTED, "%s has a malformed row; fix or remove it", t->path);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmTableHasKey(RmTable t, const char *key, PetscBool *has)
{
  int d = 0;

  PetscFunctionBeginUser;
  if (!t->rank) {
    size_t len = strlen(key);
    for (PetscInt i = 0; i < t->nrows && !d; i++) d = KeyLength(t, t->rows[i]) == len && !strncmp(t->rows[i], key, len);
  }
  PetscCallMPI(MPI_Bcast(&d, 1, MPI_INT, 0, t->comm));
  *has = d ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TableWriter(void *ctx, FILE *fp)
{
  RmTable t = (RmTable)ctx;

  PetscFunctionBeginUser;
  fprintf(fp, "%s\n", t->header);
  for (PetscInt i = 0; i < t->nrows; i++) fprintf(fp, "%s\n", t->rows[i]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmTableAppend(RmTable t, const char *row)
{
  PetscFunctionBeginUser;
  if (!t->rank) PetscCall(AddRow(t, row));
  PetscCall(RmWriteFileAtomic(t->comm, t->path, TableWriter, t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmTableGetRowCount(RmTable t, PetscInt *nrows)
{
  PetscFunctionBeginUser;
  *nrows = t->nrows;
  PetscCallMPI(MPI_Bcast(nrows, 1, MPIU_INT, 0, t->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmTableDestroy(RmTable *table)
{
  RmTable t = *table;

  PetscFunctionBeginUser;
  if (!t) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < t->nrows; i++) PetscCall(PetscFree(t->rows[i]));
  PetscCall(PetscFree(t->rows));
  PetscCall(PetscFree(t->header));
  PetscCall(PetscFree(*table));
  PetscFunctionReturn(PETSC_SUCCESS);
}
