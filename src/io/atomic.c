/* The one rank-0 writer of text outputs (JSON summaries, CSV tables): written under a temporary name
   and renamed over the target only when complete, so readers see the old file or the new one. */
#include <ratemem/io.h>
#include <stdio.h>

PetscErrorCode RmWriteFileAtomic(MPI_Comm comm, const char *path, PetscErrorCode (*writer)(void *ctx, FILE *fp), void *ctx)
{
  PetscMPIInt    rank;
  char           tmp[PETSC_MAX_PATH_LEN + 16];
  int            failed = 0;
  PetscErrorCode ierr   = PETSC_SUCCESS;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.partial", path));
  if (!rank) {
    FILE *fp = fopen(tmp, "w");
    if (!fp) failed = 1;
    else {
      ierr   = writer(ctx, fp);
      failed = ierr || ferror(fp) != 0;
      failed |= fclose(fp) != 0;
      if (failed) remove(tmp);
    }
  }
  PetscCallMPI(MPI_Bcast(&failed, 1, MPI_INT, 0, comm));
  PetscCall(ierr);
  PetscCheck(!failed, comm, PETSC_ERR_FILE_WRITE, "cannot write %s", path);
  PetscCall(RmAtomicRename(comm, tmp, path));
  PetscFunctionReturn(PETSC_SUCCESS);
}
