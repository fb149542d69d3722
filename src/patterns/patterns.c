/* Memories (docs/model.md §1): generated from a counter-based generator or loaded from HDF5,
   and cues built from them. Every random choice is keyed by global indices, so the result
   is independent of the number of ranks. */
#include "patternsimpl.h"
#include <petscsf.h>

const char *const RmPatternKinds[] = {"random", "deterministic", "hadamard", "file", "RmPatternKind", "RM_PATTERNS_", NULL};
const char *const RmEncodings[]    = {"binary", "spin", "RmEncoding", "RM_ENCODING_", NULL};
const char *const RmCueKinds[]     = {"flip", "mixture", "delete", "unstored", "random", "RmCueKind", "RM_CUE_", NULL};

PetscErrorCode RmMemoriesCreate(MPI_Comm comm, RmMemories *mem)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(mem));
  (*mem)->comm     = comm;
  (*mem)->kind     = RM_PATTERNS_RANDOM;
  (*mem)->encoding = RM_ENCODING_BINARY;
  (*mem)->n        = 1000;
  (*mem)->P        = 10;
  (*mem)->seed     = 1;
  (*mem)->coding   = -1; /* unset: 0.2 for binary memories, 0.5 for spin memories */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesSetEncoding(RmMemories mem, RmEncoding enc)
{
  PetscFunctionBeginUser;
  mem->encoding = enc;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesSetOptionsPrefix(RmMemories mem, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(mem->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &mem->prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesSetSizes(RmMemories mem, PetscInt n, PetscInt P)
{
  PetscFunctionBeginUser;
  PetscCheck(!mem->setup_called, mem->comm, PETSC_ERR_ORDER, "set the sizes of the memories before RmMemoriesSetUp()");
  PetscCheck(n > 0, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "neurons must be > 0, got %" PetscInt_FMT, n);
  PetscCheck(P > 0, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "memories must be > 0, got %" PetscInt_FMT, P);
  mem->n            = n;
  mem->P            = P;
  mem->memories_set = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesSetCoding(RmMemories mem, PetscReal q)
{
  PetscFunctionBeginUser;
  PetscCheck(!mem->setup_called, mem->comm, PETSC_ERR_ORDER, "set the coding level before RmMemoriesSetUp()");
  PetscCall(RmCheckFinite(mem->comm, "coding", q));
  PetscCheck(q > 0 && q < 1, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "coding level q must be in (0,1), got %g", (double)q);
  mem->coding = q;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesSetSeed(RmMemories mem, PetscInt64 seed)
{
  PetscFunctionBeginUser;
  PetscCheck(!mem->setup_called, mem->comm, PETSC_ERR_ORDER, "set the seed before RmMemoriesSetUp()");
  PetscCheck(seed >= 0, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "seed must be >= 0, got %" PetscInt64_FMT, seed);
  mem->seed = seed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Checks of settings that setters may change after SetFromOptions (which derives the defaults). */
static PetscErrorCode CheckSizes(RmMemories mem)
{
  PetscFunctionBeginUser;
  if (mem->kind == RM_PATTERNS_FILE) PetscFunctionReturn(PETSC_SUCCESS); /* the file sets them */
  PetscCheck(mem->P <= mem->n, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "memories (%" PetscInt_FMT ") must not exceed neurons (%" PetscInt_FMT ")", mem->P,
             mem->n);
  if (mem->kind == RM_PATTERNS_HADAMARD)
    PetscCheck(mem->coding < 0 || mem->coding == 0.5, mem->comm, PETSC_ERR_ARG_INCOMP, "hadamard memories have coding 0.5, got %g", (double)mem->coding);
  if (mem->kind == RM_PATTERNS_DETERMINISTIC && mem->coding > 0) {
    PetscInt P = (PetscInt)PetscFloorReal(1.0 + 1.0 / mem->coding + 1e-9);
    PetscCheck(mem->P == P, mem->comm, PETSC_ERR_ARG_INCOMP, "deterministic memories with coding %g have P = floor(1+1/q) = %" PetscInt_FMT ", not %" PetscInt_FMT,
               (double)mem->coding, P, mem->P);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesSetFromOptions(RmMemories mem)
{
  PetscBool has_file = PETSC_FALSE, has_kind = PETSC_FALSE, has_coding = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscOptionsBegin(mem->comm, mem->prefix, "Memories (docs/model.md §1)", "RmMemories");
  PetscCall(PetscOptionsInt("-neurons", "Number of neurons n", "RmMemoriesSetFromOptions", mem->n, &mem->n, &mem->neurons_set));
  PetscCall(PetscOptionsInt("-memories", "Number of stored memories P", "RmMemoriesSetFromOptions", mem->P, &mem->P, &mem->memories_set));
  PetscInt seed = (PetscInt)mem->seed;
  PetscCall(PetscOptionsInt("-seed", "Seed of the counter-based generator (>= 0)", "RmMemoriesSetFromOptions", seed, &seed, NULL));
  mem->seed = seed;
  PetscCall(PetscOptionsEnum("-pattern_kind", "Memories: random (coding q), deterministic (§1 exact construction), hadamard (orthogonal ±1)",
                             "RmMemoriesSetFromOptions", RmPatternKinds, (PetscEnum)mem->kind, (PetscEnum *)&mem->kind, &has_kind));
  { /* -help shows the default this encoding gets (0.2 binary, 0.5 ±1), not the "unset" marker */
    PetscReal q = mem->coding < 0 ? (mem->encoding == RM_ENCODING_SPIN ? 0.5 : 0.2) : mem->coding;
    PetscCall(PetscOptionsReal("-coding", "Coding level q: fraction of active neurons per memory (default 0.2, or 0.5 for ±1 designs)",
                               "RmMemoriesSetFromOptions", q, &q, &has_coding));
    if (has_coding) mem->coding = q;
  }
  PetscCall(PetscOptionsString("-patterns", "HDF5 file with dataset /patterns (uint8 0/1, P x n); sets n and P", "RmMemoriesSetFromOptions",
                               mem->file, mem->file, sizeof(mem->file), &has_file));
  PetscOptionsEnd();
  /* 64-bit reads: PetscInt wraps 2147483648 to -2147483648; a given -coding is checked, never taken for "unset" */
  PetscCall(RmOptionsCheckIntRange(mem->comm, "-neurons", 1, PETSC_MAX_INT));
  PetscCall(RmOptionsCheckIntRange(mem->comm, "-memories", 1, PETSC_MAX_INT));
  PetscCall(RmOptionsCheckIntRange(mem->comm, "-seed", 0, PETSC_MAX_INT));
  if (has_coding) {
    PetscCall(RmCheckFinite(mem->comm, "coding", mem->coding));
    PetscCheck(mem->coding > 0 && mem->coding < 1, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "coding level q must be in (0,1), got %g", (double)mem->coding);
  }
  if (has_file) {
    PetscCheck(!has_kind || mem->kind == RM_PATTERNS_FILE, mem->comm, PETSC_ERR_ARG_INCOMP, "-patterns and -pattern_kind %s are exclusive",
               RmPatternKinds[mem->kind]);
    mem->kind = RM_PATTERNS_FILE;
  }
  PetscCheck(mem->kind != RM_PATTERNS_FILE || mem->file[0], mem->comm, PETSC_ERR_ARG_WRONG, "-pattern_kind file needs -patterns FILE");
  if (mem->kind == RM_PATTERNS_HADAMARD) { /* Sylvester-Hadamard columns 1.. are balanced: exactly half active */
    PetscCheck(mem->coding < 0 || mem->coding == 0.5, mem->comm, PETSC_ERR_ARG_INCOMP, "hadamard memories have coding 0.5, but -coding %g was given",
               (double)mem->coding);
    mem->coding = 0.5;
  }
  if (mem->coding < 0) mem->coding = mem->encoding == RM_ENCODING_SPIN ? 0.5 : 0.2;
  PetscCall(RmCheckFinite(mem->comm, "coding", mem->coding));
  PetscCheck(mem->coding > 0 && mem->coding < 1, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "coding level q must be in (0,1), got %g", (double)mem->coding);
  if (mem->kind != RM_PATTERNS_FILE) {
    PetscCheck(mem->n > 0, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "neurons must be > 0, got %" PetscInt_FMT, mem->n);
    PetscCheck(mem->seed >= 0, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "seed must be >= 0, got %" PetscInt64_FMT, mem->seed);
    if (mem->kind == RM_PATTERNS_DETERMINISTIC) {
      /* §1: P = floor(1 + 1/q) is fixed by q. */
      PetscInt P = (PetscInt)PetscFloorReal(1.0 + 1.0 / mem->coding + 1e-9);
      PetscCheck(!mem->memories_set || mem->P == P, mem->comm, PETSC_ERR_ARG_INCOMP,
                 "deterministic memories with coding %g have P = floor(1+1/q) = %" PetscInt_FMT ", but -memories %" PetscInt_FMT " was given",
                 (double)mem->coding, P, mem->P);
      mem->P = P;
    }
    PetscCheck(mem->P > 0, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "memories must be > 0, got %" PetscInt_FMT, mem->P);
    PetscCheck(mem->P <= mem->n, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "memories (%" PetscInt_FMT ") must not exceed neurons (%" PetscInt_FMT ")",
               mem->P, mem->n);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RmMemoriesSetLayout_Private(RmMemories mem)
{
  PetscLayout map;

  PetscFunctionBeginUser;
  PetscCall(PetscLayoutCreate(mem->comm, &map));
  PetscCall(PetscLayoutSetSize(map, mem->n));
  PetscCall(PetscLayoutSetUp(map));
  PetscCall(PetscLayoutGetRange(map, &mem->rstart, &mem->rend));
  PetscCall(PetscLayoutDestroy(&map));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* §1 deterministic construction: floor(q^2 n) neurons active in every memory, then
   floor(q(1-q) n) blocks each holding the P x P identity, the rest inactive. */
static uint8_t DeterministicBit(PetscInt i, PetscInt mu, PetscInt P, PetscInt n_common, PetscInt n_blocks)
{
  if (i < n_common) return 1;
  i -= n_common;
  if (i >= n_blocks * P) return 0;
  return (uint8_t)(i % P == mu);
}

/* Sylvester-Hadamard column mu+1 (column 0 is all ones, not a useful memory). */
static uint8_t HadamardBit(PetscInt i, PetscInt mu)
{
  return (uint8_t)(__builtin_popcountll((unsigned long long)i & (unsigned long long)(mu + 1)) % 2 == 0);
}

static PetscErrorCode RmMemoriesGenerate_Private(RmMemories mem)
{
  PetscInt   nloc = mem->rend - mem->rstart, n_common = 0, n_blocks = 0;
  RmProgress progress;

  PetscFunctionBeginUser;
  if (mem->kind == RM_PATTERNS_DETERMINISTIC) {
    n_common = (PetscInt)PetscFloorReal(mem->coding * mem->coding * mem->n + 1e-9);
    n_blocks = (PetscInt)PetscFloorReal(mem->coding * (1 - mem->coding) * mem->n + 1e-9);
    PetscCheck(n_common + n_blocks * mem->P <= mem->n, mem->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "deterministic memories do not fit in %" PetscInt_FMT " neurons", mem->n);
  }
  if (mem->kind == RM_PATTERNS_HADAMARD) {
    PetscCheck((mem->n & (mem->n - 1)) == 0, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "hadamard memories need n a power of two, got %" PetscInt_FMT,
               mem->n);
    PetscCheck(mem->P < mem->n, mem->comm, PETSC_ERR_ARG_OUTOFRANGE, "hadamard memories need P < n");
  }
  PetscCall(RmProgressBegin(mem->comm, "memories", "memories", mem->P, &progress));
  for (PetscInt mu = 0; mu < mem->P; mu++) {
    const uint64_t prefix = RmRandomPrefix((uint64_t)mem->seed, RM_STREAM_PATTERNS, (uint64_t)mu);
    /* bit = 1 iff the 53-bit uniform (word >> 11) * 2^-53 < q, compared in integers */
    const uint64_t cut = (uint64_t)PetscCeilReal(mem->coding * 0x1.0p53);
    if (mem->kind == RM_PATTERNS_RANDOM) { /* a whole word of bits in a register, then one store (the same bits) */
      uint64_t *words = mem->words + mu * mem->wpp;
      for (PetscInt w = 0; w < mem->wpp; w++) {
        const PetscInt i0 = 64 * w, len = PetscMin(64, nloc - i0);
        uint64_t       word = 0;
        for (PetscInt k = 0; k < len; k++) word |= (uint64_t)((RmRandomFromPrefix(prefix, (uint64_t)(mem->rstart + i0 + k)) >> 11) < cut) << k;
        words[w] = word;
      }
      PetscCall(RmProgressUpdate(&progress, mu + 1));
      continue;
    }
    for (PetscInt i = 0; i < nloc; i++) {
      PetscInt gi = mem->rstart + i;
      uint8_t  b;
      switch (mem->kind) {
      case RM_PATTERNS_RANDOM:
        b = (uint8_t)((RmRandomFromPrefix(prefix, (uint64_t)gi) >> 11) < cut);
        break;
      case RM_PATTERNS_DETERMINISTIC:
        b = DeterministicBit(gi, mu, mem->P, n_common, n_blocks);
        break;
      case RM_PATTERNS_HADAMARD:
        b = HadamardBit(gi, mu);
        break;
      default:
        SETERRQ(mem->comm, PETSC_ERR_PLIB, "unreachable pattern kind");
      }
      if (b) RmPackedSet(mem, mu, i);
    }
    PetscCall(RmProgressUpdate(&progress, mu + 1));
  }
  PetscCall(RmProgressEnd(&progress));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesSetUp(RmMemories mem)
{
  PetscFunctionBeginUser;
  if (mem->setup_called) PetscFunctionReturn(PETSC_SUCCESS);
  if (mem->coding < 0 && mem->kind != RM_PATTERNS_FILE) mem->coding = mem->kind == RM_PATTERNS_HADAMARD || mem->encoding == RM_ENCODING_SPIN ? 0.5 : 0.2; /* SetFromOptions not called */
  PetscCall(CheckSizes(mem));
  PetscCall(PetscLogEventBegin(RM_EVENTS.generate, 0, 0, 0, 0));
  if (mem->kind == RM_PATTERNS_FILE) {
    PetscCall(RmMemoriesLoadHDF5_Private(mem)); /* sets n, P, layout, bits, coding */
  } else {
    PetscCall(RmMemoriesSetLayout_Private(mem));
    PetscCall(RmMemoriesAllocate_Private(mem));
    PetscCall(RmMemoriesGenerate_Private(mem));
  }
  PetscCall(PetscLogEventEnd(RM_EVENTS.generate, 0, 0, 0, 0));
  mem->setup_called = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmMemoriesSetLayoutFromFile_Private(RmMemories mem, PetscInt n, PetscInt P)
{
  PetscFunctionBeginUser;
  PetscCheck(!mem->neurons_set || mem->n == n, mem->comm, PETSC_ERR_ARG_INCOMP,
             "-neurons %" PetscInt_FMT " differs from the %" PetscInt_FMT " neurons of patterns file %s (leave -neurons out: the file sets n)", mem->n, n, mem->file);
  PetscCheck(!mem->memories_set || mem->P == P, mem->comm, PETSC_ERR_ARG_INCOMP,
             "-memories %" PetscInt_FMT " differs from the %" PetscInt_FMT " memories of patterns file %s (leave -memories out: the file sets P)", mem->P, P, mem->file);
  mem->n = n;
  mem->P = P;
  PetscCheck(P > 0 && n > 0, mem->comm, PETSC_ERR_FILE_UNEXPECTED, "patterns file %s: /patterns is empty", mem->file);
  PetscCheck(P <= n, mem->comm, PETSC_ERR_FILE_UNEXPECTED, "patterns file %s: memories (%" PetscInt_FMT ") must not exceed neurons (%" PetscInt_FMT ")",
             mem->file, P, n);
  PetscCall(RmMemoriesSetLayout_Private(mem));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesView(RmMemories mem, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "Memories: %" PetscInt_FMT " x %" PetscInt_FMT " (%s, %s, coding %g, seed %" PetscInt64_FMT ")\n", mem->P,
                                   mem->n, RmPatternKinds[mem->kind], RmEncodings[mem->encoding], (double)mem->coding, mem->seed));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesDestroy(RmMemories *mem)
{
  PetscFunctionBeginUser;
  if (!*mem) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree((*mem)->words));
  PetscCall(PetscFree((*mem)->bytes));
  PetscCall(PetscFree((*mem)->neuron_major));
  PetscCall(PetscFree((*mem)->prefix));
  PetscCall(PetscFree(*mem));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetSizes(RmMemories mem, PetscInt *n, PetscInt *P)
{
  PetscFunctionBeginUser;
  if (n) *n = mem->n;
  if (P) *P = mem->P;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetOwnershipRange(RmMemories mem, PetscInt *rstart, PetscInt *rend)
{
  PetscFunctionBeginUser;
  if (rstart) *rstart = mem->rstart;
  if (rend) *rend = mem->rend;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetComm(RmMemories mem, MPI_Comm *comm)
{
  PetscFunctionBeginUser;
  *comm = mem->comm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetSeed(RmMemories mem, PetscInt64 *seed)
{
  PetscFunctionBeginUser;
  *seed = mem->seed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetKind(RmMemories mem, RmPatternKind *kind)
{
  PetscFunctionBeginUser;
  *kind = mem->kind;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetEncoding(RmMemories mem, RmEncoding *enc)
{
  PetscFunctionBeginUser;
  *enc = mem->encoding;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetCoding(RmMemories mem, PetscReal *q)
{
  PetscFunctionBeginUser;
  *q = mem->coding;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesAllocate_Private(RmMemories mem)
{
  PetscFunctionBeginUser;
  mem->wpp = (mem->rend - mem->rstart + 63) / 64;
  PetscCall(PetscCalloc1((size_t)mem->P * mem->wpp + 1, &mem->words));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetLocalPacked(RmMemories mem, const uint64_t **words, PetscInt *wpp)
{
  PetscFunctionBeginUser;
  PetscCheck(mem->setup_called, PETSC_COMM_SELF, PETSC_ERR_ORDER, "call RmMemoriesSetUp() first");
  *words = mem->words;
  *wpp   = mem->wpp;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetLocalPattern(RmMemories mem, PetscInt mu, uint8_t *bytes)
{
  PetscFunctionBeginUser;
  PetscCheck(mem->setup_called, PETSC_COMM_SELF, PETSC_ERR_ORDER, "call RmMemoriesSetUp() first");
  for (PetscInt i = 0; i < mem->rend - mem->rstart; i++) bytes[i] = RmPackedBit(mem->words, mem->wpp, mu, i);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetLocalBits(RmMemories mem, const uint8_t **bits)
{
  PetscInt nloc = mem->rend - mem->rstart;

  PetscFunctionBeginUser;
  PetscCheck(mem->setup_called, PETSC_COMM_SELF, PETSC_ERR_ORDER, "call RmMemoriesSetUp() first");
  if (!mem->bytes) {
    PetscCall(PetscMalloc1((size_t)mem->P * nloc + 1, &mem->bytes));
    for (PetscInt mu = 0; mu < mem->P; mu++) PetscCall(RmMemoriesGetLocalPattern(mem, mu, mem->bytes + mu * nloc));
  }
  *bits = mem->bytes;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetAllBits(RmMemories mem, uint8_t **all)
{
  PetscMPIInt size, *counts, *displs;
  PetscInt    nloc = mem->rend - mem->rstart;
  uint8_t    *pattern_major;

  PetscFunctionBeginUser;
  /* Gather neuron blocks per pattern: all[mu*n + i]. */
  PetscCallMPI(MPI_Comm_size(mem->comm, &size));
  PetscCall(PetscMalloc2(size, &counts, size, &displs));
  PetscMPIInt nloc_mpi = (PetscMPIInt)nloc;
  PetscCallMPI(MPI_Allgather(&nloc_mpi, 1, MPI_INT, counts, 1, MPI_INT, mem->comm));
  displs[0] = 0;
  for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
  PetscCall(PetscMalloc1((size_t)mem->P * mem->n, &pattern_major));
  uint8_t *local;
  PetscCall(PetscMalloc1(nloc + 1, &local));
  for (PetscInt mu = 0; mu < mem->P; mu++) {
    PetscCall(RmMemoriesGetLocalPattern(mem, mu, local));
    PetscCallMPI(MPI_Allgatherv(local, nloc_mpi, MPI_UINT8_T, pattern_major + mu * mem->n, counts, displs, MPI_UINT8_T, mem->comm));
  }
  PetscCall(PetscFree(local));
  PetscCall(PetscFree2(counts, displs));
  *all = pattern_major;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Neuron-major copy of the local bits: what a weight entry W_ij needs of neuron j is its P bits. */
static PetscErrorCode NeuronMajor(RmMemories mem, const uint64_t **lp)
{
  const PetscInt nloc = mem->rend - mem->rstart, wpn = (mem->P + 63) / 64;

  PetscFunctionBeginUser;
  if (!mem->neuron_major) {
    PetscCall(PetscCalloc1((size_t)nloc * wpn + 1, &mem->neuron_major));
    for (PetscInt mu = 0; mu < mem->P; mu++)
      for (PetscInt i = 0; i < nloc; i++)
        if (RmPackedBit(mem->words, mem->wpp, mu, i)) mem->neuron_major[(size_t)i * wpn + mu / 64] |= (uint64_t)1 << (mu % 64);
  }
  *lp = mem->neuron_major;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesGetNeuronBits(RmMemories mem, PetscInt m, const PetscInt cols[], uint64_t packed[])
{
  const PetscInt  wpn = (mem->P + 63) / 64;
  const uint64_t *lp  = NULL;
  PetscLayout     layout;
  PetscSF         sf;
  MPI_Datatype    unit;

  PetscFunctionBeginUser;
  PetscCheck(mem->setup_called, PETSC_COMM_SELF, PETSC_ERR_ORDER, "call RmMemoriesSetUp() first");
  for (PetscInt l = 0; l < m; l++)
    PetscCheck(cols[l] >= 0 && cols[l] < mem->n, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "neuron %" PetscInt_FMT " outside [0, %" PetscInt_FMT ")",
               cols[l], mem->n);
  PetscCall(NeuronMajor(mem, &lp));
  PetscCall(PetscLayoutCreateFromSizes(mem->comm, mem->rend - mem->rstart, mem->n, 1, &layout));
  PetscCall(PetscSFCreate(mem->comm, &sf));
  PetscCall(PetscSFSetGraphLayout(sf, layout, m, NULL, PETSC_OWN_POINTER, cols));
  PetscCall(PetscSFSetUp(sf));
  PetscCallMPI(MPI_Type_contiguous((PetscMPIInt)wpn, MPI_UINT64_T, &unit));
  PetscCallMPI(MPI_Type_commit(&unit));
  PetscCall(PetscSFBcastBegin(sf, unit, lp, packed, MPI_REPLACE));
  PetscCall(PetscSFBcastEnd(sf, unit, lp, packed, MPI_REPLACE));
  PetscCallMPI(MPI_Type_free(&unit));
  PetscCall(PetscSFDestroy(&sf));
  PetscCall(PetscLayoutDestroy(&layout));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesCreateVec(RmMemories mem, Vec *v)
{
  PetscFunctionBeginUser;
  PetscCall(VecCreateMPI(mem->comm, mem->rend - mem->rstart, mem->n, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------- cues */

PetscErrorCode RmCueOptionsSetFromOptions(MPI_Comm comm, RmCueOptions *opts)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(comm, NULL, "Cues", "RmCueOptions");
  if (!(opts->keep > 0)) opts->keep = 0.6; /* the authors' deletion cue keeps 60% of the active neurons */
  PetscCall(PetscOptionsEnum("-cue",
                             "Cue: flip (a memory with -flip of its entries flipped), mixture (majority of -mixture_count memories), delete (each active "
                             "neuron of a memory kept with probability -keep), unstored (a fresh random pattern at coding q, stored nowhere) or random "
                             "(uniform initial values, for a census)",
                             "RmCueOptionsSetFromOptions", RmCueKinds, (PetscEnum)opts->kind, (PetscEnum *)&opts->kind, NULL));
  PetscCall(PetscOptionsReal("-flip", "Fraction of cue entries flipped, in [0,1]", "RmCueOptionsSetFromOptions", opts->flip, &opts->flip, NULL));
  PetscCall(PetscOptionsInt("-mixture_count", "Memories mixed in a mixture cue (cue memory and the next ones)", "RmCueOptionsSetFromOptions",
                            opts->mixture_count, &opts->mixture_count, NULL));
  PetscCall(PetscOptionsReal("-keep", "Delete cue: probability that an active neuron of the memory stays active, in [0,1]", "RmCueOptionsSetFromOptions",
                             opts->keep, &opts->keep, NULL));
  PetscOptionsEnd();
  PetscCall(RmCheckFinite(comm, "keep", opts->keep));
  PetscCheck(opts->keep >= 0 && opts->keep <= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "keep must be in [0,1], got %g", (double)opts->keep);
  PetscCall(RmCheckFinite(comm, "flip", opts->flip));
  PetscCheck(opts->flip >= 0 && opts->flip <= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "flip must be in [0,1], got %g", (double)opts->flip);
  PetscCheck(opts->mixture_count >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "mixture_count must be >= 1, got %" PetscInt_FMT, opts->mixture_count);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The smallest key threshold t with #{i : key_i <= t} >= k, found by bisection over the
   64-bit key range with one reduction per bit: exactly k entries are selected, and which ones
   does not depend on the partition (keys are pure functions of (seed, trial, neuron)). */
/* The k-th smallest of the keys RmRandomFromPrefix(prefix, rstart + i) of all ranks' neurons (the
   smallest thr with at least k keys <= thr): a radix selection, 16 bits per pass, that regenerates
   the keys in every pass instead of storing them (8 bytes per neuron at 10⁹ neurons). */
static PetscErrorCode SelectThreshold(MPI_Comm comm, uint64_t prefix, PetscInt rstart, PetscInt nloc, PetscInt64 k, uint64_t *thr)
{
  PetscInt64 *hist;
  uint64_t    high = 0; /* the selected key's digits found so far, above bit `shift + 16` */

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(65536, &hist));
  for (int shift = 48; shift >= 0; shift -= 16) {
    const uint64_t above = shift == 48 ? 0 : ~(uint64_t)0 << (shift + 16); /* the digits fixed already */
    PetscCall(PetscArrayzero(hist, 65536));
    for (PetscInt i = 0; i < nloc; i++) {
      const uint64_t key = RmRandomFromPrefix(prefix, (uint64_t)(rstart + i));
      if ((key & above) == high) hist[(key >> shift) & 0xffff]++;
    }
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, hist, 65536, MPIU_INT64, MPI_SUM, comm));
    PetscInt digit = 0;
    while (digit < 65535 && hist[digit] < k) k -= hist[digit++]; /* k: the rank within the keys of this digit */
    high |= (uint64_t)digit << shift;
  }
  PetscCall(PetscFree(hist));
  *thr = high;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 2^64 p, saturated: a key k < KeyThreshold(p) happens with probability p. */
static uint64_t KeyThreshold(PetscReal p)
{
  if (p >= 1) return UINT64_MAX;
  if (p <= 0) return 0;
  return (uint64_t)(p * 18446744073709551616.0);
}

/* Delete cue: each active neuron stays active with probability keep, by a key of (seed, trial, neuron)
   alone, so the same neurons are kept on any number of ranks. */
static PetscErrorCode DeleteActive(RmMemories mem, PetscReal keep, PetscInt trial, uint8_t *cue)
{
  const uint64_t prefix = RmRandomPrefix((uint64_t)mem->seed, RM_STREAM_CUE_KEEP, (uint64_t)trial), thr = KeyThreshold(keep);

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < mem->rend - mem->rstart; i++)
    if (cue[i] && RmRandomFromPrefix(prefix, (uint64_t)(mem->rstart + i)) >= thr) cue[i] = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Unstored cue: a fresh pattern with each neuron active with probability q (the memories' coding). */
static PetscErrorCode UnstoredPattern(RmMemories mem, PetscInt trial, uint8_t *cue)
{
  PetscReal q;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetCoding(mem, &q));
  const uint64_t prefix = RmRandomPrefix((uint64_t)mem->seed, RM_STREAM_UNSTORED, (uint64_t)trial), thr = KeyThreshold(q);
  for (PetscInt i = 0; i < mem->rend - mem->rstart; i++) cue[i] = (uint8_t)(RmRandomFromPrefix(prefix, (uint64_t)(mem->rstart + i)) < thr);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Random cue: uniform in [0,1) for rates, [-1,1) for voltages, keyed by (seed, trial, neuron). */
static PetscErrorCode RandomState(RmMemories mem, PetscInt trial, Vec x)
{
  PetscScalar *xa;

  PetscFunctionBeginUser;
  PetscCall(VecGetArrayWrite(x, &xa));
  for (PetscInt i = 0; i < mem->rend - mem->rstart; i++) {
    const double u = RmRandomUniform((uint64_t)mem->seed, RM_STREAM_CUE_RANDOM, (uint64_t)trial, (uint64_t)(mem->rstart + i));
    xa[i]          = mem->encoding == RM_ENCODING_SPIN ? 2 * u - 1 : u;
  }
  PetscCall(VecRestoreArrayWrite(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesCreateCue(RmMemories mem, const RmCueOptions *opts, PetscInt trial, Vec x, PetscInt *cue_memory)
{
  PetscInt     nloc = mem->rend - mem->rstart, mu = trial % mem->P;
  PetscInt64   nflip = (PetscInt64)PetscFloorReal(opts->flip * mem->n + 0.5);
  uint8_t     *cue;
  uint64_t     thr = 0;
  PetscScalar *xa;

  PetscFunctionBeginUser;
  if (opts->kind == RM_CUE_RANDOM) {
    PetscCall(RandomState(mem, trial, x));
    *cue_memory = -1;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscMalloc1(nloc + 1, &cue));
  if (opts->kind == RM_CUE_FLIP) {
    PetscCall(RmMemoriesGetLocalPattern(mem, mu, cue));
  } else if (opts->kind == RM_CUE_DELETE) {
    PetscCall(RmMemoriesGetLocalPattern(mem, mu, cue));
    PetscCall(DeleteActive(mem, opts->keep, trial, cue));
  } else if (opts->kind == RM_CUE_UNSTORED) {
    PetscCall(UnstoredPattern(mem, trial, cue));
    mu = -1;
  } else {
    /* Majority vote of memories mu, mu+1, ..., ties broken towards the cue memory. */
    PetscInt m = PetscMin(opts->mixture_count, mem->P);
    for (PetscInt i = 0; i < nloc; i++) {
      PetscInt votes = 0;
      for (PetscInt j = 0; j < m; j++) votes += RmPackedBit(mem->words, mem->wpp, (mu + j) % mem->P, i);
      cue[i] = (uint8_t)(2 * votes > m || (2 * votes == m && RmPackedBit(mem->words, mem->wpp, mu, i)));
    }
  }
  const uint64_t prefix = RmRandomPrefix((uint64_t)mem->seed, RM_STREAM_CUE_FLIP, (uint64_t)trial);
  if (nflip > 0) PetscCall(SelectThreshold(mem->comm, prefix, mem->rstart, nloc, nflip, &thr));
  PetscCall(VecGetArrayWrite(x, &xa));
  for (PetscInt i = 0; i < nloc; i++) {
    uint8_t b = cue[i];
    if (nflip > 0 && RmRandomFromPrefix(prefix, (uint64_t)(mem->rstart + i)) <= thr) b = (uint8_t)!b;
    xa[i] = mem->encoding == RM_ENCODING_SPIN ? 2.0 * b - 1.0 : (PetscScalar)b;
  }
  PetscCall(VecRestoreArrayWrite(x, &xa));
  PetscCall(PetscFree(cue));
  *cue_memory = mu;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode RmMemoriesComputeOverlapRatios(RmMemories mem, RmOverlapRatios *st)
{
  const PetscInt P = mem->P;
  PetscInt64     npairs, *cl, *cg;
  PetscReal      qN, sum = 0, sq = 0, *dev;

  PetscFunctionBeginUser;
  PetscCheck(mem->setup_called, mem->comm, PETSC_ERR_ORDER, "call RmMemoriesSetUp() first");
  PetscCheck(mem->encoding == RM_ENCODING_BINARY, mem->comm, PETSC_ERR_SUP, "overlap ratios are defined for {0,1} memories (design paper)");
  PetscCall(PetscMemzero(st, sizeof(*st)));
  st->mean = st->min = st->max = mem->coding; /* no pair: independent memories' value, the basic design */
  if (P < 2) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscLogEventBegin(RM_EVENTS.overlap_ratios, 0, 0, 0, 0));
  npairs = (PetscInt64)P * (P - 1) / 2;
  PetscCall(PetscMalloc2(npairs, &cl, npairs, &cg));
  for (PetscInt mu = 1, k = 0; mu < P; mu++) { /* lower triangle, row by row: pair (mu, nu < mu) at k */
    const uint64_t *bm = mem->words + (size_t)mu * mem->wpp;
    for (PetscInt nu = 0; nu < mu; nu++, k++) {
      const uint64_t *bn = mem->words + (size_t)nu * mem->wpp;
      PetscInt64      c  = 0;
      for (PetscInt w = 0; w < mem->wpp; w++) c += __builtin_popcountll(bm[w] & bn[w]);
      cl[k] = c;
    }
  }
  /* counts are integers: the sum is exact, so every rank gets the same numbers on any partition */
  for (PetscInt64 off = 0; off < npairs; off += (PetscInt64)1 << 28) {
    PetscMPIInt cnt = (PetscMPIInt)PetscMin(npairs - off, (PetscInt64)1 << 28);
    PetscCallMPI(MPI_Allreduce(cl + off, cg + off, cnt, MPIU_INT64, MPI_SUM, mem->comm));
  }
  qN      = mem->coding * mem->n;
  st->min = PETSC_MAX_REAL;
  st->max = -PETSC_MAX_REAL;
  for (PetscInt64 k = 0; k < npairs; k++) {
    PetscReal r = (PetscReal)cg[k] / qN;
    sum += r;
    st->min = PetscMin(st->min, r);
    st->max = PetscMax(st->max, r);
  }
  st->pairs = (PetscInt)npairs;
  st->mean  = sum / (PetscReal)npairs;
  PetscCall(PetscCalloc1(P, &dev));
  for (PetscInt mu = 1, k = 0; mu < P; mu++)
    for (PetscInt nu = 0; nu < mu; nu++, k++) {
      PetscReal d2 = PetscSqr((PetscReal)cg[k] / qN - st->mean);
      sq += d2;
      dev[mu] += d2;
      dev[nu] += d2;
    }
  st->std = PetscSqrtReal(sq / (PetscReal)npairs);
  for (PetscInt mu = 0; mu < P; mu++)
    if (PetscSqrtReal(dev[mu]) > st->dev_max) {
      st->dev_max    = PetscSqrtReal(dev[mu]);
      st->dev_memory = mu;
    }
  PetscCall(PetscFree(dev));
  PetscCall(PetscFree2(cl, cg));
  PetscCall(PetscLogEventEnd(RM_EVENTS.overlap_ratios, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
