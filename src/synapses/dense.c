/* -storage dense: W as MATDENSE, every rank's rows filled block by block of presynaptic neurons
   whose memory bits are fetched from their owners (-assembly_block), so no rank holds all n x P bits. */
#include "synapsesimpl.h"

typedef struct {
  PetscInt block; /* presynaptic neurons per assembly block; 0: RM_ASSEMBLY_COLUMNS */
} Dense;

/* A block costs one PetscSF set-up (a few collectives), so blocks are large: 65536 columns. */
#define RM_ASSEMBLY_COLUMNS 65536

static PetscErrorCode SetFromOptionsDense(PetscOptionItems *PetscOptionsObject, RmSynapses syn)
{
  Dense *d = (Dense *)syn->data;

  PetscFunctionBeginUser;
  PetscCall(RmSynapsesAssemblyBlockOption_Private(PetscOptionsObject, syn, &d->block));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AssembleDense(RmSynapses syn, RmMemories mem)
{
  Dense       *d = (Dense *)syn->data;
  PetscInt     n, P, rstart, rend, nloc, lda, *ra, *cols;
  uint64_t    *rb, *cb;
  PetscScalar *w;
  RmEntryRule  e;
  RmProgress   progress;

  PetscFunctionBeginUser;
  PetscCall(RmMemoriesGetSizes(mem, &n, &P));
  PetscCall(RmMemoriesGetOwnershipRange(mem, &rstart, &rend));
  nloc = rend - rstart;
  e    = RmEntryRuleMake(syn, P, n);
  PetscCall(MatCreateDense(syn->comm, nloc, nloc, n, n, NULL, &syn->W));
  PetscCall(RmSynapsesLocalRowBits_Private(mem, &e, &rb, &ra));
  const PetscInt bcols = d->block ? d->block : RM_ASSEMBLY_COLUMNS;
  PetscCall(PetscInfo(NULL, "dense assembly in %" PetscInt_FMT " column blocks of %" PetscInt_FMT "\n", (n + bcols - 1) / bcols, bcols));
  PetscCall(PetscMalloc2((size_t)bcols * e.wpn, &cb, bcols, &cols));
  PetscCall(MatDenseGetLDA(syn->W, &lda));
  PetscCall(MatDenseGetArrayWrite(syn->W, &w));
  PetscCall(RmProgressBegin(syn->comm, "dense weights", "columns", n, &progress));
  if (syn->design_type == RM_DESIGN_PROJECTION) { /* W_ij = u_iᵀ K u_j = r_iᵀ u_j with r_i = Kᵀ u_i, u_i = (b_i, 1) */
    const PetscInt m = P + 1;
    PetscReal     *R;
    PetscInt      *on;
    PetscCall(PetscCalloc2((size_t)nloc * m + 1, &R, m, &on));
    for (PetscInt i = 0; i < nloc; i++)
      for (PetscInt mu = 0; mu < m; mu++) {
        if (mu < P && !((rb[(size_t)i * e.wpn + mu / 64] >> (mu % 64)) & 1)) continue;
        for (PetscInt nu = 0; nu < m; nu++) R[(size_t)i * m + nu] += syn->projK[mu * m + nu];
      }
    for (PetscInt j0 = 0; j0 < n; j0 += bcols) {
      const PetscInt nb = PetscMin(bcols, n - j0);
      for (PetscInt l = 0; l < nb; l++) cols[l] = j0 + l;
      PetscCall(RmMemoriesGetNeuronBits(mem, nb, cols, cb));
      for (PetscInt l = 0; l < nb; l++) {
        const uint64_t *bj  = cb + (size_t)l * e.wpn;
        PetscScalar    *col = w + (size_t)(j0 + l) * lda;
        PetscInt        non = 0;
        for (PetscInt nu = 0; nu < P; nu++)
          if ((bj[nu / 64] >> (nu % 64)) & 1) on[non++] = nu;
        for (PetscInt i = 0; i < nloc; i++) {
          const PetscReal *ri = R + (size_t)i * m;
          PetscReal        s  = ri[P];
          for (PetscInt k = 0; k < non; k++) s += ri[on[k]];
          col[i] = s;
        }
      }
      PetscCall(RmProgressUpdate(&progress, j0 + nb));
    }
    PetscCall(PetscFree2(R, on));
  } else
  for (PetscInt j0 = 0; j0 < n; j0 += bcols) { /* same block count on every rank: n is global */
    const PetscInt nb = PetscMin(bcols, n - j0);
    for (PetscInt l = 0; l < nb; l++) cols[l] = j0 + l;
    PetscCall(RmMemoriesGetNeuronBits(mem, nb, cols, cb));
    for (PetscInt l = 0; l < nb; l++) { /* column-major local block: the inner loop runs down a column */
      const uint64_t *bj  = cb + (size_t)l * e.wpn;
      const PetscInt  aj  = RmPopCount(bj, e.wpn);
      PetscScalar    *col = w + (size_t)(j0 + l) * lda;
      for (PetscInt i = 0; i < nloc; i++) col[i] = RmEntryValue(&e, rb + (size_t)i * e.wpn, ra[i], bj, aj);
    }
    PetscCall(RmProgressUpdate(&progress, j0 + nb));
  }
  PetscCall(RmProgressEnd(&progress));
  if (syn->design_type == RM_DESIGN_HEBBIAN)
    for (PetscInt i = 0; i < nloc; i++) w[(size_t)(rstart + i) * lda + i] = 0.0; /* zero diagonal (§3) */
  PetscCall(MatDenseRestoreArrayWrite(syn->W, &w));
  PetscCall(PetscFree2(cb, cols));
  PetscCall(PetscFree2(rb, ra));
  PetscCall(MatAssemblyBegin(syn->W, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(syn->W, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode KernelNameDense(RmSynapses syn, const char **name)
{
  PetscFunctionBeginUser;
  *name = "matdense-blas";
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DestroyDense(RmSynapses syn)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(syn->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode RmSynapsesCreate_Dense(RmSynapses syn)
{
  Dense *d;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&d));
  syn->data               = d;
  syn->ops.setfromoptions = SetFromOptionsDense;
  syn->ops.assemble       = AssembleDense;
  syn->ops.kernelname     = KernelNameDense;
  syn->ops.destroy        = DestroyDense;
  PetscFunctionReturn(PETSC_SUCCESS);
}
