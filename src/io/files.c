/* The files of one subcommand, checked before any computing (include/ratemem/io.h): the inputs every
   subcommand may read (-options_file_yaml, -patterns) and the ones it names, against its outputs. */
#include <ratemem/io.h>

PetscErrorCode RmCheckRunFiles(MPI_Comm comm, const RmFileArg files[])
{
  RmFileSet      fs;
  char           patterns[PETSC_MAX_PATH_LEN];
  const char    *yaml;
  PetscBool      has_patterns;
  PetscErrorCode ierr = PETSC_SUCCESS;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-patterns", patterns, sizeof(patterns), &has_patterns));
  PetscCall(RmGetOptionsYAMLFile(&yaml));
  PetscCall(RmFileSetCreate(comm, &fs));
  PetscCall(RmFileSetAddInput(fs, "-options_file_yaml", yaml));
  PetscCall(RmFileSetAddInput(fs, "-patterns", has_patterns ? patterns : NULL));
  for (const RmFileArg *f = files; f->option && !ierr; f++) {
    if (f->kind == RM_FILE_INPUT) ierr = RmFileSetAddInput(fs, f->option, f->path);
    else ierr = RmFileSetAddOutput(fs, f->option, f->path);
  }
  if (!ierr) ierr = RmFileSetAllowSame(fs, "-checkpoint", "-restart"); /* the documented resume */
  if (!ierr) ierr = RmFileSetCheck(fs);
  PetscCall(RmFileSetDestroy(&fs));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}
