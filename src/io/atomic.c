/* The single output policy of ratemem (docs/design.md, "Safety of outputs"):
   * only a regular file, or nothing, is ever replaced: devices, directories, FIFOs, sockets and
     symbolic links to them are refused (a symbolic link to a regular file is written through);
   * a file is written under a temporary name unique to the run, FILE.partial.<pid>.<hex>, in the
     target's directory, synced, and renamed over the target only when complete; the temporary
     file is removed on every error path (and temporaries of dead runs on this machine are swept
     up by the next writer of the same file);
   * every decision (can the file be created, did a write fail, did the rename succeed) is taken
     on rank 0 or agreed by all ranks and then raised on every rank, so no rank is left waiting
     in a collective call;
   * a run's inputs and outputs are registered in an RmFileSet and checked before any computing.
   Open MPI's MPI-IO (sharedfp "lockedfile" component) copies the file name into a fixed buffer of
   256 bytes with a suffix: a longer name aborts the process. MPI-IO therefore opens long names
   through /proc/self/fd/N/NAME, N an O_PATH descriptor of the parent directory (RmHDF5Path). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <ratemem/io.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef O_PATH
  #define O_PATH O_RDONLY
#endif

/* Longest file name handed to MPI-IO as is; Open MPI 4.1 aborts from about 241 characters on. */
#define RM_MPIIO_NAME_MAX 200
/* At most this many characters of the target's name start the temporary name, so that the
   short form /proc/self/fd/N/TEMP of a long path stays below RM_MPIIO_NAME_MAX. */
#define RM_TEMP_STEM_MAX 100

typedef struct {
  int  err;
  char msg[3 * PETSC_MAX_PATH_LEN];
} Decision;

/* Collective. Rank 0's decision d (err != 0: msg says why) becomes an error on every rank. */
static PetscErrorCode RaiseDecision(MPI_Comm comm, Decision *d)
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Bcast(d, (int)sizeof(*d), MPI_BYTE, 0, comm));
  PetscCheck(!d->err, comm, PETSC_ERR_FILE_WRITE, "%s", d->msg);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmAgree(MPI_Comm comm, PetscBool *ok)
{
  int mine = *ok ? 1 : 0, all;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm));
  *ok = all ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- paths */
static void SplitPath(const char *path, char *dir, size_t dlen, char *base, size_t blen)
{
  const char *slash = strrchr(path, '/');
  if (!slash) {
    snprintf(dir, dlen, ".");
    snprintf(base, blen, "%s", path);
  } else if (slash == path) {
    snprintf(dir, dlen, "/");
    snprintf(base, blen, "%s", slash + 1);
  } else {
    snprintf(dir, dlen, "%.*s", (int)(slash - path), path);
    snprintf(base, blen, "%s", slash + 1);
  }
}

static const char *TypeName(mode_t m)
{
  if (S_ISDIR(m)) return "a directory";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

/* Not collective. Why path may not be replaced by an output ("" when it may): it must be absent,
   a regular file, or a symbolic link to a regular file; its directory must exist and be writable.
   resolved: the file really written (the target of a symbolic link), or NULL. */
static void ReplaceCheck(const char *path, char *why, size_t wlen, char *resolved)
{
  struct stat st;
  char        dir[PETSC_MAX_PATH_LEN], base[PETSC_MAX_PATH_LEN];

  why[0] = 0;
  if (resolved) snprintf(resolved, PETSC_MAX_PATH_LEN, "%s", path);
  if (!path[0]) {
    snprintf(why, wlen, "an empty file name");
    return;
  }
  if (lstat(path, &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      char real[PATH_MAX];
      if (stat(path, &st) != 0) {
        snprintf(why, wlen, "%s is a symbolic link to a missing file (refusing to replace the link)", path);
        return;
      }
      if (!S_ISREG(st.st_mode)) {
        snprintf(why, wlen, "%s is a symbolic link to %s, not a regular file: refusing to replace it", path, TypeName(st.st_mode));
        return;
      }
      if (!realpath(path, real)) {
        snprintf(why, wlen, "cannot resolve the symbolic link %s: %s", path, strerror(errno));
        return;
      }
      if (resolved) snprintf(resolved, PETSC_MAX_PATH_LEN, "%s", real);
      path = resolved ? resolved : path;
    } else if (!S_ISREG(st.st_mode)) {
      snprintf(why, wlen, "%s is %s, not a regular file: refusing to replace it", path, TypeName(st.st_mode));
      return;
    }
  } else if (errno != ENOENT) {
    snprintf(why, wlen, "cannot write %s: %s", path, strerror(errno));
    return;
  }
  SplitPath(path, dir, sizeof(dir), base, sizeof(base));
  if (!base[0]) {
    snprintf(why, wlen, "%s names a directory, not a file", path);
    return;
  }
  if (stat(dir, &st) != 0) {
    snprintf(why, wlen, "cannot write %s: directory %s: %s", path, dir, strerror(errno));
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(why, wlen, "cannot write %s: %s is not a directory", path, dir);
    return;
  }
  if (access(dir, W_OK | X_OK) != 0) snprintf(why, wlen, "cannot write %s: directory %s is not writable (%s)", path, dir, strerror(errno));
}

PetscErrorCode RmCheckReplaceable(MPI_Comm comm, const char *path)
{
  PetscMPIInt rank;
  Decision    d = {0};

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    ReplaceCheck(path, d.msg, sizeof(d.msg), NULL);
    d.err = d.msg[0] != 0;
  }
  PetscCall(RaiseDecision(comm, &d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 16 hex digits: 8 of a hash of this boot (so that only temporaries of this machine are swept
   up) and 8 random. */
static uint32_t BootTag(void)
{
  static uint32_t tag = 0;
  if (!tag) {
    char  id[64] = "";
    FILE *f      = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
      if (!fgets(id, sizeof(id), f)) id[0] = 0;
      fclose(f);
    }
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = id; *p && *p != '\n'; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    tag = (uint32_t)(RmMix64(h) | 1);
  }
  return tag;
}

static uint32_t Random32(void)
{
  static uint64_t counter = 0;
  uint32_t        r;
  struct timespec ts;
  if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r)) return r;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint32_t)RmMix64(((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec ^ ++counter);
}

PetscErrorCode RmTempName(const char *path, char *tmp, size_t len)
{
  char dir[PETSC_MAX_PATH_LEN], base[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  SplitPath(path, dir, sizeof(dir), base, sizeof(base));
  PetscCall(PetscSNPrintf(tmp, len, "%s/%.*s.partial.%ld.%08x%08x", dir, RM_TEMP_STEM_MAX, base, (long)getpid(), BootTag(), Random32()));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The process is gone: no such pid, or a zombie that its parent has not reaped yet (an MPI rank
   killed by SIGKILL stays one until mpiexec collects it). */
static int ProcessGone(long pid)
{
  char  stat[64], buf[256], *paren;
  FILE *fp;

  if (kill((pid_t)pid, 0) != 0) return errno == ESRCH;
  snprintf(stat, sizeof(stat), "/proc/%ld/stat", pid);
  if (!(fp = fopen(stat, "r"))) return 0;
  paren = fgets(buf, sizeof(buf), fp) ? strrchr(buf, ')') : NULL; /* "pid (comm) S ...": the state follows the last ')' */
  fclose(fp);
  return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* Rank 0: remove BASE.partial.<pid>.<tag><random> of this machine whose process is gone (killed
   by SIGKILL, which leaves no chance to clean up). Others' live temporaries are left alone. */
static void SweepStale(const char *path)
{
  char           dir[PETSC_MAX_PATH_LEN], base[PETSC_MAX_PATH_LEN], stem[PETSC_MAX_PATH_LEN], tag[16];
  DIR           *d;
  struct dirent *e;
  size_t         slen;

  SplitPath(path, dir, sizeof(dir), base, sizeof(base));
  snprintf(stem, sizeof(stem), "%.*s.partial.", RM_TEMP_STEM_MAX, base);
  snprintf(tag, sizeof(tag), "%08x", BootTag());
  slen = strlen(stem);
  if (!(d = opendir(dir))) return;
  while ((e = readdir(d))) {
    char *end, full[2 * PETSC_MAX_PATH_LEN];
    long  pid;
    if (strncmp(e->d_name, stem, slen)) continue;
    pid = strtol(e->d_name + slen, &end, 10);
    if (end == e->d_name + slen || *end != '.' || strlen(end + 1) != 16 || strncmp(end + 1, tag, 8)) continue;
    if (pid <= 0 || pid == (long)getpid() || !ProcessGone(pid)) continue;
    snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
    unlink(full);
  }
  closedir(d);
}

/* ---------------------------------------------------------------- temporaries removed on a signal
   SIGINT, SIGHUP and SIGTERM (when no checkpoint handler has taken SIGTERM over) remove the open
   temporaries of this process, then take their previous action. unlink() is async-signal-safe. */
#define RM_MAX_TEMPS 16
static char             temps[RM_MAX_TEMPS][PETSC_MAX_PATH_LEN + 64];
static volatile int     temp_used[RM_MAX_TEMPS];
static struct sigaction old_actions[3];
static const int        cleanup_signals[3] = {SIGINT, SIGHUP, SIGTERM};
static PetscBool        cleanup_installed  = PETSC_FALSE;

static void CleanupHandler(int sig)
{
  for (int k = 0; k < RM_MAX_TEMPS; k++)
    if (temp_used[k]) unlink(temps[k]);
  for (int s = 0; s < 3; s++)
    if (cleanup_signals[s] == sig) sigaction(sig, &old_actions[s], NULL);
  raise(sig);
}

PetscErrorCode RmInstallTempCleanup(void)
{
  struct sigaction sa;

  PetscFunctionBeginUser;
  if (cleanup_installed) PetscFunctionReturn(PETSC_SUCCESS);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = CleanupHandler;
  sigemptyset(&sa.sa_mask);
  for (int s = 0; s < 3; s++) PetscCheck(sigaction(cleanup_signals[s], &sa, &old_actions[s]) == 0, PETSC_COMM_SELF, PETSC_ERR_SYS, "sigaction failed");
  cleanup_installed = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int RegisterTemp(const char *tmp)
{
  for (int k = 0; k < RM_MAX_TEMPS; k++)
    if (!temp_used[k]) {
      snprintf(temps[k], sizeof(temps[k]), "%s", tmp);
      temp_used[k] = 1;
      return k;
    }
  return -1;
}

static void UnregisterTemp(int k)
{
  if (k >= 0) temp_used[k] = 0;
}

/* ---------------------------------------------------------------- long names for MPI-IO */
PetscErrorCode RmHDF5Path(const char *path, char *buf, size_t len, int *fd)
{
  char dir[PETSC_MAX_PATH_LEN], base[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  *fd = -1;
  if (strlen(path) < RM_MPIIO_NAME_MAX) {
    PetscCall(PetscStrncpy(buf, path, len));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  SplitPath(path, dir, sizeof(dir), base, sizeof(base));
  if (strlen(base) + 32 < RM_MPIIO_NAME_MAX && (*fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0) {
    PetscCall(PetscSNPrintf(buf, len, "/proc/self/fd/%d/%s", *fd, base));
  } else PetscCall(PetscStrncpy(buf, path, len)); /* refused by the callers' up-front check (RmFileSetCheck) */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmHDF5PathRestore(int *fd)
{
  PetscFunctionBeginUser;
  if (*fd >= 0) close(*fd);
  *fd = -1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The file name part must fit the MPI-IO limit even through /proc/self/fd/N/ (the directory
   part may be of any length). */
static void MPIIONameCheck(const char *path, char *why, size_t wlen)
{
  char dir[PETSC_MAX_PATH_LEN], base[PETSC_MAX_PATH_LEN];
  SplitPath(path, dir, sizeof(dir), base, sizeof(base));
  if (strlen(path) >= RM_MPIIO_NAME_MAX && strlen(base) + 32 >= RM_MPIIO_NAME_MAX)
    snprintf(why, wlen, "the file name %.40s... is %zu characters long; HDF5 files (MPI-IO) need names (the part after the last '/') of at most %d characters",
             base, strlen(base), RM_MPIIO_NAME_MAX - 33);
}

/* ---------------------------------------------------------------- RmAtomicFile */
struct _p_RmAtomicFile {
  MPI_Comm  comm;
  PetscBool root;
  char      path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 64], open_path[PETSC_MAX_PATH_LEN + 64];
  int       fd, dirfd, slot; /* rank 0: the temporary's descriptor; every rank: the directory's (long names) */
  FILE     *fp;
  mode_t    mode; /* of the file replaced (kept), or -1 */
};

PetscErrorCode RmAtomicFileOpen(MPI_Comm comm, const char *path, RmAtomicFile *afp)
{
  RmAtomicFile af;
  PetscMPIInt  rank;
  Decision     d = {0};

  PetscFunctionBeginUser;
  *afp = NULL;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscNew(&af));
  af->comm  = comm;
  af->root  = (PetscBool)(rank == 0);
  af->fd    = af->dirfd = af->slot = -1;
  af->mode  = (mode_t)-1;
  if (af->root) {
    ReplaceCheck(path, d.msg, sizeof(d.msg), af->path);
    if (!d.msg[0]) {
      struct stat st;
      SweepStale(af->path);
      if (stat(af->path, &st) == 0) af->mode = st.st_mode & 07777;
      for (int attempt = 0; attempt < 8 && af->fd < 0; attempt++) {
        PetscCall(RmTempName(af->path, af->tmp, sizeof(af->tmp)));
        af->fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (af->fd < 0 && errno != EEXIST) break;
      }
      if (af->fd < 0) snprintf(d.msg, sizeof(d.msg), "cannot create %s: %s", af->tmp, strerror(errno));
      else {
        af->slot = RegisterTemp(af->tmp);
        if (af->mode != (mode_t)-1) (void)fchmod(af->fd, af->mode); /* the new file keeps the permissions of the one it replaces */
      }
    }
    d.err = d.msg[0] != 0;
  }
  PetscCallMPI(MPI_Bcast(&d, (int)sizeof(d), MPI_BYTE, 0, comm));
  if (d.err) {
    PetscCall(PetscFree(af));
    SETERRQ(comm, PETSC_ERR_FILE_OPEN, "%s", d.msg);
  }
  PetscCallMPI(MPI_Bcast(af->path, (int)sizeof(af->path), MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(af->tmp, (int)sizeof(af->tmp), MPI_CHAR, 0, comm));
  PetscCall(RmHDF5Path(af->tmp, af->open_path, sizeof(af->open_path), &af->dirfd));
  *afp = af;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmAtomicFileGetFILE(RmAtomicFile af, FILE **fp)
{
  PetscFunctionBeginUser;
  *fp = NULL;
  if (!af->root) PetscFunctionReturn(PETSC_SUCCESS);
  if (!af->fp) {
    af->fp = fdopen(af->fd, "w");
    PetscCheck(af->fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot open a stream on %s: %s", af->tmp, strerror(errno));
  }
  *fp = af->fp;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmAtomicFileGetPath(RmAtomicFile af, const char **open_path)
{
  PetscFunctionBeginUser;
  *open_path = af->open_path;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmAtomicFileCheckSpace(RmAtomicFile af, PetscInt64 bytes)
{
  Decision d = {0};

  PetscFunctionBeginUser;
  if (getenv("RATEMEM_TEST_NO_RESERVE")) PetscFunctionReturn(PETSC_SUCCESS); /* tests: let the writes themselves fail */
  if (af->root && bytes > 0) {
    int r = posix_fallocate(af->fd, 0, (off_t)bytes);
    if (r == ENOSPC || r == EDQUOT || r == EFBIG)
      snprintf(d.msg, sizeof(d.msg), "not enough space for %s: it needs about %.3g MB (%s)", af->path, (double)bytes / 1e6, strerror(r));
    if (ftruncate(af->fd, 0) != 0 && !d.msg[0]) snprintf(d.msg, sizeof(d.msg), "cannot write %s: %s", af->tmp, strerror(errno));
    d.err = d.msg[0] != 0;
  }
  PetscCall(RaiseDecision(af->comm, &d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmAtomicFileDiscardData(RmAtomicFile af)
{
  PetscFunctionBeginUser;
  if (af->root && ftruncate(af->fd, 0) != 0) { /* nothing more to do: the file is removed anyway */
  }
  PetscCallMPI(MPI_Barrier(af->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void CloseRoot(RmAtomicFile af)
{
  if (af->fp) fclose(af->fp);
  else if (af->fd >= 0) close(af->fd);
  af->fp = NULL;
  af->fd = -1;
}

PetscErrorCode RmAtomicFileCommit(RmAtomicFile *afp)
{
  RmAtomicFile af = *afp;
  MPI_Comm     comm;
  Decision     d = {0};

  PetscFunctionBeginUser;
  comm = af->comm;
  if (af->root) {
    int err = 0;
    if (af->fp) {
      if (fflush(af->fp) != 0 || ferror(af->fp)) err = errno ? errno : EIO;
      if (!err && fsync(af->fd) != 0) err = errno;
      if (fclose(af->fp) != 0 && !err) err = errno ? errno : EIO;
      af->fp = NULL;
      af->fd = -1;
    } else {
      if (fsync(af->fd) != 0) err = errno; /* (data written through MPI-IO: syncs the file, whichever descriptor) */
      if (close(af->fd) != 0 && !err) err = errno;
      af->fd = -1;
    }
    if (err) snprintf(d.msg, sizeof(d.msg), "cannot write %s: %s", af->path, strerror(err));
    else {
      ReplaceCheck(af->path, d.msg, sizeof(d.msg), NULL); /* the target may have changed during the run */
      if (!d.msg[0] && rename(af->tmp, af->path) != 0) snprintf(d.msg, sizeof(d.msg), "cannot rename %s to %s: %s", af->tmp, af->path, strerror(errno));
    }
    if (d.msg[0]) unlink(af->tmp);
    else { /* the rename itself reaches the disk */
      char dir[PETSC_MAX_PATH_LEN], base[PETSC_MAX_PATH_LEN];
      int  dfd;
      SplitPath(af->path, dir, sizeof(dir), base, sizeof(base));
      if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(dfd);
        close(dfd);
      }
    }
    UnregisterTemp(af->slot);
    d.err = d.msg[0] != 0;
  }
  PetscCall(RmHDF5PathRestore(&af->dirfd));
  PetscCall(PetscFree(*afp));
  PetscCall(RaiseDecision(comm, &d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmAtomicFileDestroy(RmAtomicFile *afp)
{
  RmAtomicFile af = *afp;

  PetscFunctionBeginUser;
  if (!af) PetscFunctionReturn(PETSC_SUCCESS);
  if (af->root) {
    CloseRoot(af);
    unlink(af->tmp);
    UnregisterTemp(af->slot);
  }
  PetscCall(RmHDF5PathRestore(&af->dirfd));
  PetscCall(PetscFree(*afp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmWriteFileAtomic(MPI_Comm comm, const char *path, PetscErrorCode (*writer)(void *ctx, FILE *fp), void *ctx)
{
  RmAtomicFile   af;
  FILE          *fp;
  PetscErrorCode ierr = PETSC_SUCCESS;
  Decision       d    = {0};

  PetscFunctionBeginUser;
  PetscCall(RmAtomicFileOpen(comm, path, &af));
  PetscCall(RmAtomicFileGetFILE(af, &fp));
  if (fp) { /* rank 0 only: a failure must not leave the other ranks waiting, so it is broadcast, not returned */
    char *specific = NULL;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = writer(ctx, fp);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      PetscErrorMessage(ierr, NULL, &specific);
      snprintf(d.msg, sizeof(d.msg), "cannot write %s: %s", path, specific && specific[0] ? specific : "the writer failed");
      d.err = 1;
    }
  }
  PetscCallMPI(MPI_Bcast(&d, (int)sizeof(d), MPI_BYTE, 0, comm));
  if (d.err) {
    PetscCall(RmAtomicFileDestroy(&af));
    SETERRQ(comm, PETSC_ERR_FILE_WRITE, "%s", d.msg);
  }
  PetscCall(RmAtomicFileCommit(&af));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- RmFileSet */
typedef struct {
  char      option[64], path[PETSC_MAX_PATH_LEN], canon[PATH_MAX + PETSC_MAX_PATH_LEN];
  PetscBool output, exists;
  dev_t     dev;
  ino_t     ino;
} FileEntry;

struct _p_RmFileSet {
  MPI_Comm   comm;
  FileEntry *files;
  PetscInt   n, cap;
  char     (*allow)[2][64];
  PetscInt   nallow;
};

PetscErrorCode RmFileSetCreate(MPI_Comm comm, RmFileSet *fs)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(fs));
  (*fs)->comm = comm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFileSetDestroy(RmFileSet *fs)
{
  PetscFunctionBeginUser;
  if (!*fs) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree((*fs)->files));
  PetscCall(PetscFree((*fs)->allow));
  PetscCall(PetscFree(*fs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode FileSetAdd(RmFileSet fs, const char *option, const char *path, PetscBool output)
{
  PetscFunctionBeginUser;
  if (!path) PetscFunctionReturn(PETSC_SUCCESS);
  if (fs->n == fs->cap) {
    FileEntry *f;
    fs->cap = PetscMax(8, 2 * fs->cap);
    PetscCall(PetscCalloc1(fs->cap, &f));
    if (fs->n) PetscCall(PetscArraycpy(f, fs->files, fs->n));
    PetscCall(PetscFree(fs->files));
    fs->files = f;
  }
  PetscCall(PetscStrncpy(fs->files[fs->n].option, option, sizeof(fs->files[fs->n].option)));
  PetscCall(PetscStrncpy(fs->files[fs->n].path, path, sizeof(fs->files[fs->n].path)));
  fs->files[fs->n].output = output;
  fs->n++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFileSetAddInput(RmFileSet fs, const char *option, const char *path)
{
  PetscFunctionBeginUser;
  PetscCall(FileSetAdd(fs, option, path, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFileSetAddOutput(RmFileSet fs, const char *option, const char *path)
{
  PetscFunctionBeginUser;
  PetscCall(FileSetAdd(fs, option, path, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmFileSetAllowSame(RmFileSet fs, const char *output_option, const char *input_option)
{
  char(*a)[2][64];

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(fs->nallow + 1, &a));
  if (fs->nallow) PetscCall(PetscArraycpy(a, fs->allow, fs->nallow));
  PetscCall(PetscStrncpy(a[fs->nallow][0], output_option, 64));
  PetscCall(PetscStrncpy(a[fs->nallow][1], input_option, 64));
  PetscCall(PetscFree(fs->allow));
  fs->allow = a;
  fs->nallow++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The identity of a file: device and inode where it exists; its resolved path in every case
   (realpath of the file, or of its directory + its name when it does not exist yet). */
static void Identify(FileEntry *f)
{
  struct stat st;
  char        dir[PETSC_MAX_PATH_LEN], base[PETSC_MAX_PATH_LEN], real[PATH_MAX];

  f->exists = (PetscBool)(stat(f->path, &st) == 0);
  if (f->exists) {
    f->dev = st.st_dev;
    f->ino = st.st_ino;
  }
  if (realpath(f->path, real)) {
    snprintf(f->canon, sizeof(f->canon), "%s", real);
    return;
  }
  SplitPath(f->path, dir, sizeof(dir), base, sizeof(base));
  if (realpath(dir, real)) snprintf(f->canon, sizeof(f->canon), "%s/%s", strcmp(real, "/") ? real : "", base);
  else snprintf(f->canon, sizeof(f->canon), "%s", f->path);
}

static PetscBool Allowed(RmFileSet fs, const FileEntry *out, const FileEntry *in)
{
  for (PetscInt k = 0; k < fs->nallow; k++)
    if (!strcmp(fs->allow[k][0], out->option) && !strcmp(fs->allow[k][1], in->option)) return PETSC_TRUE;
  return PETSC_FALSE;
}

static PetscBool Same(const FileEntry *a, const FileEntry *b)
{
  if (a->exists && b->exists) return (PetscBool)(a->dev == b->dev && a->ino == b->ino);
  return (PetscBool)!strcmp(a->canon, b->canon);
}

/* Files read or written through MPI-IO (HDF5). */
static PetscBool IsHDF5(const FileEntry *f)
{
  const char *const options[] = {"-output", "-checkpoint", "-restart", "-patterns", "-input_file"};
  for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++)
    if (!strcmp(f->option, options[k])) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* Rank 0: the first problem of the set, or "". */
static void FileSetProblem(RmFileSet fs, char *why, size_t wlen)
{
  why[0] = 0;
  for (PetscInt i = 0; i < fs->n; i++) {
    char msg[PETSC_MAX_PATH_LEN + 256] = "";
    Identify(&fs->files[i]);
    if (IsHDF5(&fs->files[i])) MPIIONameCheck(fs->files[i].path, msg, sizeof(msg));
    if (msg[0]) {
      snprintf(why, wlen, "%s: %s", fs->files[i].option, msg);
      return;
    }
  }
  for (PetscInt i = 0; i < fs->n && !why[0]; i++) {
    FileEntry *f = &fs->files[i];
    char       msg[PETSC_MAX_PATH_LEN + 256] = "";
    if (!f->output) continue;
    ReplaceCheck(f->path, msg, sizeof(msg), NULL);
    if (msg[0]) {
      snprintf(why, wlen, "%s %s: %s", f->option, f->path, msg);
      return;
    }
    for (PetscInt j = 0; j < fs->n; j++) {
      FileEntry *g = &fs->files[j];
      if (j == i || (g->output && j < i) || !Same(f, g)) continue;
      if (!g->output && Allowed(fs, f, g)) continue;
      if (g->output)
        snprintf(why, wlen, "%s %s and %s %s name the same file: one output would overwrite the other", g->option, g->path, f->option, f->path);
      else snprintf(why, wlen, "output %s %s is the input %s %s: refusing to overwrite an input", f->option, f->path, g->option, g->path);
      return;
    }
  }
}

PetscErrorCode RmFileSetCheck(RmFileSet fs)
{
  PetscMPIInt rank;
  Decision    d = {0};

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(fs->comm, &rank));
  if (!rank) {
    FileSetProblem(fs, d.msg, sizeof(d.msg));
    d.err = d.msg[0] != 0;
  }
  PetscCallMPI(MPI_Bcast(&d, (int)sizeof(d), MPI_BYTE, 0, fs->comm));
  PetscCheck(!d.err, fs->comm, PETSC_ERR_ARG_INCOMP, "%s", d.msg);
  PetscFunctionReturn(PETSC_SUCCESS);
}
