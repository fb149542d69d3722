/* Memory estimate of a run, per rank, before anything large is allocated: a run that cannot fit is
   refused with "needs about X GB per rank, Y GB available" instead of failing in an allocation deep
   inside PETSc. The estimate counts the large arrays (weights, memories, state vectors of the
   integrator, per-trial results) plus the resident size of an empty process; it is reported in the
   summary next to the measured peak. */
#include <ctype.h>
#include <ratemem/sys.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RM_BASELINE_BYTES 50e6 /* PETSc, MPI, HDF5, SUNDIALS and SLEPc loaded: the measured peak of a tiny run */

static PetscReal memory_limit = 0; /* -memory_limit, bytes per rank (0: /proc/meminfo) */

/* "8G", "512M", "1.5g", "64k" or plain bytes. */
static PetscErrorCode ParseBytes(MPI_Comm comm, const char *s, PetscReal *bytes)
{
  char  *end;
  double v = strtod(s, &end), unit = 1;

  PetscFunctionBeginUser;
  switch (toupper((unsigned char)*end)) {
  case 'K': unit = 1024.0, end++; break;
  case 'M': unit = 1024.0 * 1024, end++; break;
  case 'G': unit = 1024.0 * 1024 * 1024, end++; break;
  case 'T': unit = 1024.0 * 1024 * 1024 * 1024, end++; break;
  default: break;
  }
  if (toupper((unsigned char)*end) == 'B') end++;
  PetscCheck(end != s && !*end && v > 0 && !PetscIsInfOrNanReal(v), comm, PETSC_ERR_ARG_WRONG,
             "-memory_limit must be a positive number of bytes per rank, optionally with a unit K, M, G or T (e.g. 8G), got %s", s);
  *bytes = v * unit;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoryLimitSetFromOptions(MPI_Comm comm)
{
  char      s[64];
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-memory_limit", s, sizeof(s), &set));
  memory_limit = 0;
  if (set) PetscCall(ParseBytes(comm, s, &memory_limit));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* State vectors: the integrator's (as it counts them) and those of the model and the run (RHS,
   Jacobian and readout work; cues, states). */
static PetscReal StateVectors(const RmMemoryPlan *p)
{
  return (PetscReal)(p->state_vectors > 0 ? p->state_vectors : 10) + (PetscReal)p->integrator_vectors;
}

PetscErrorCode RmMemoryEstimate(MPI_Comm comm, const RmMemoryPlan *p, PetscReal *bytes)
{
  PetscMPIInt size;
  PetscReal   n = (PetscReal)p->n, P = (PetscReal)p->P, K = (PetscReal)p->K, B = (PetscReal)PetscMax(p->batch, 1), nloc, units, w = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  nloc  = PetscCeilReal(n / size);
  units = (nloc + PetscCeilReal((PetscReal)p->extra_units / size)) * B;
  if (!strcmp(p->storage, "dense")) w = 8 * nloc * n + 8 * n * B; /* local rows of W, and x gathered for the product */
  else if (!strcmp(p->storage, "aij")) w = (K > 0 ? 12 * nloc * K : 12 * nloc * n) + 8 * n * B;
  else if (!strcmp(p->storage, "compressed")) w = 6 * nloc * K + 8 * n * B;
  w += (PetscReal)(p->bit_copies > 0 ? p->bit_copies : 2) * P * nloc / 8 + 65536.0 * PetscCeilReal(P / 64) * 8; /* the memories' bits (pattern- and neuron-major) and one assembly block of fetched bits */
  *bytes = RM_BASELINE_BYTES + w + 8 * units * StateVectors(p) + (PetscReal)p->trials * (p->bytes_per_trial + p->local_bytes_per_trial * nloc);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, bytes, 1, MPIU_REAL, MPI_MAX, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* MemAvailable of this node (bytes), shared by the ranks on it. */
static PetscReal NodeAvailable(void)
{
  FILE     *f = fopen("/proc/meminfo", "r");
  char      line[256];
  long long kb = -1;

  if (!f) return -1;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
  fclose(f);
  return kb < 0 ? -1 : 1024.0 * (PetscReal)kb;
}

/* Bytes per rank a run may use: -memory_limit, else the node's MemAvailable shared by its ranks. */
static PetscErrorCode Available(MPI_Comm comm, PetscReal *bytes)
{
  PetscReal   avail = memory_limit;
  MPI_Comm    node;
  PetscMPIInt on_node;

  PetscFunctionBeginUser;
  if (avail <= 0) {
    PetscCallMPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    PetscCallMPI(MPI_Comm_size(node, &on_node));
    PetscCallMPI(MPI_Comm_free(&node));
    avail = NodeAvailable();
    if (avail > 0) avail /= on_node;
    else avail = PETSC_MAX_REAL; /* no /proc/meminfo: no check */
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &avail, 1, MPIU_REAL, MPI_MIN, comm));
  *bytes = avail;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoryFits(MPI_Comm comm, PetscReal need, PetscBool *fits)
{
  PetscReal avail;

  PetscFunctionBeginUser;
  PetscCall(Available(comm, &avail));
  *fits = (PetscBool)(need <= avail);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoryCheck(MPI_Comm comm, PetscReal need)
{
  PetscReal avail;

  PetscFunctionBeginUser;
  PetscCall(Available(comm, &avail));
  PetscCheck(need <= avail, comm, PETSC_ERR_MEM, "this run needs about %.3g GB per rank, %.3g GB available (%s); use more ranks or nodes, or a smaller run",
             need / 1e9, avail / 1e9, memory_limit > 0 ? "-memory_limit" : "MemAvailable of /proc/meminfo shared by the ranks of the node; -memory_limit sets another limit");
  PetscFunctionReturn(PETSC_SUCCESS);
}
