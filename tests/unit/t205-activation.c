/* t205-activation: every entry of the activation table RmActivationFunctions[] (src/dynamics/activation.c),
   at the gains and thresholds the models use, on inputs spanning both sides of the threshold:
   (a) the array routine (libmvec AVX2 where available, with a shift and an odd length so the padded
       tail is exercised) equals the scalar value to 1e-13 (libmvec is within 4 ulp), also in place;
   (b) the derivative equals a central finite difference of the value to 1e-6 relative (away from
       the rectified tanh's kink);
   (c) the derivative array equals the scalar derivative exactly, and, where the entry has one, the
       derivative through the value equals the derivative to 1e-12 (and its array form exactly);
   (d) lookup by name, in any case, finds the entry; an unknown name is an error that lists the
       known ones, never a fall-back to some default. */
#include "utcommon.h"

#define NS 1001 /* odd: the AVX2 routine's padded tail */

static PetscErrorCode CheckEntry(const RmActivationFunction *fn, PetscReal gain, PetscReal threshold)
{
  const RmActivation act = {fn, gain, threshold};
  PetscScalar        s[NS], v[NS], w[NS], d[NS], dv[NS];
  const PetscReal    shift = 0.125, h = 1e-6;
  PetscReal          err_arr = 0, err_fd = 0, err_fv = 0;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < NS; i++) s[i] = -1.5 + 3.0 * i / (NS - 1) + 1e-3 * PetscSinReal((PetscReal)i); /* [-1.5, 1.5] */
  fn->value_array(&act, NS, s, shift, v);
  PetscCall(PetscArraycpy(w, s, NS));
  fn->value_array(&act, NS, w, shift, w); /* in place */
  for (PetscInt i = 0; i < NS; i++) {
    const PetscReal ref = fn->value(&act, s[i] + shift);
    err_arr             = PetscMax(err_arr, PetscMax(PetscAbsReal(v[i] - ref), PetscAbsReal(w[i] - ref)));
  }
  PetscCheck(err_arr < 1e-13, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s (gain %g, x* %g): array value differs from the scalar value by %g", fn->name, (double)gain,
             (double)threshold, (double)err_arr);

  fn->derivative_array(&act, NS, s, 0.0, d);
  for (PetscInt i = 0; i < NS; i++) {
    const PetscReal dd = fn->derivative(&act, s[i]);
    PetscCheck(d[i] == dd, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: derivative array %g differs from the scalar derivative %g at s = %g", fn->name, (double)d[i],
               (double)dd, (double)s[i]);
    if (PetscAbsReal(s[i] - threshold) > 10 * h) { /* the rectified tanh has a kink at x* */
      const PetscReal fd = (fn->value(&act, s[i] + h) - fn->value(&act, s[i] - h)) / (2 * h);
      err_fd             = PetscMax(err_fd, PetscAbsReal(fd - dd) / PetscMax(1.0, PetscAbsReal(dd)));
    }
  }
  PetscCheck(err_fd < 1e-6, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s (gain %g, x* %g): derivative differs from the finite difference by %g (relative)", fn->name,
             (double)gain, (double)threshold, (double)err_fd);

  PetscCheck(!fn->derivative_from_value == !fn->derivative_from_value_array, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "%s: derivative from the value has a scalar or an array form but not both", fn->name);
  if (fn->derivative_from_value) {
    for (PetscInt i = 0; i < NS; i++) v[i] = fn->value(&act, s[i]);
    fn->derivative_from_value_array(&act, NS, v, dv);
    for (PetscInt i = 0; i < NS; i++) {
      const PetscReal dd = fn->derivative(&act, s[i]), fv = fn->derivative_from_value(&act, v[i]);
      PetscReal       dp = -1;
      PetscCheck(RmActivationDerivativeFromValue(&act, v[i], &dp) && dp == fv, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: RmActivationDerivativeFromValue disagrees",
                 fn->name);
      PetscCheck(dv[i] == fv, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: derivative-from-value array differs from its scalar form at s = %g", fn->name, (double)s[i]);
      err_fv = PetscMax(err_fv, PetscAbsReal(fv - dd));
    }
    PetscCheck(err_fv < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: derivative from the value differs from the derivative by %g", fn->name, (double)err_fv);
  } else {
    PetscReal dp = 7;
    PetscCheck(!RmActivationDerivativeFromValue(&act, 0.5, &dp) && dp == 7, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "%s: RmActivationDerivativeFromValue claims a derivative the entry does not have", fn->name);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t205 %-8s gain %5.2f x* %5.2f: array vs scalar %.1e, derivative vs finite difference %.1e, from value %.1e%s\n", fn->name,
                        (double)gain, (double)threshold, (double)err_arr, (double)err_fd, (double)err_fv, fn->derivative_from_value ? "" : " (none)"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckLookup(void)
{
  const RmActivationFunction *fn;
  PetscErrorCode              ierr;
  PetscInt                    count = 0;

  PetscFunctionBeginUser;
  for (const RmActivationFunction *f = RmActivationFunctions; f->name; f++, count++) {
    char upper[64];
    PetscCall(RmActivationFind(PETSC_COMM_WORLD, f->name, &fn));
    PetscCheck(fn == f, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "RmActivationFind(%s) found %s", f->name, fn->name);
    PetscCall(PetscStrncpy(upper, f->name, sizeof(upper)));
    for (char *c = upper; *c; c++) *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
    PetscCall(RmActivationFind(PETSC_COMM_WORLD, upper, &fn));
    PetscCheck(fn == f, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "RmActivationFind(%s) found %s", upper, fn ? fn->name : "nothing");
    PetscCheck(f->value && f->value_array && f->derivative && f->derivative_array, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "table entry %s lacks a function", f->name);
  }
  PetscCheck(count >= 3, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the table has %" PetscInt_FMT " entries, expected sigmoid, rectanh and tanh", count);
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  fn   = RmActivationFunctions;
  ierr = RmActivationFind(PETSC_COMM_WORLD, "no-such-activation", &fn);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_ARG_UNKNOWN_TYPE && fn == NULL, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "RmActivationFind(no-such-activation) returned %d and %s, not an error", (int)ierr, fn ? fn->name : "NULL");
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t205 lookup: %" PetscInt_FMT " entries (%s), any case; unknown names refused\n", count, RmActivationNames()));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A model told an unknown -activation must fail in RmModelSetFromOptions. */
static PetscErrorCode CheckModelOption(void)
{
  RmModel        model;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(UtSetOptions("-activation no-such-activation"));
  PetscCall(RmModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = RmModelSetFromOptions(model);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_ARG_UNKNOWN_TYPE, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "-activation no-such-activation: RmModelSetFromOptions returned %d", (int)ierr);
  PetscCall(RmModelDestroy(&model));
  PetscCall(UtSetOptions(NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Run(void)
{
  PetscFunctionBeginUser;
  for (const RmActivationFunction *f = RmActivationFunctions; f->name; f++) {
    PetscCall(CheckEntry(f, 4.8, f->default_threshold)); /* the authors' gain */
    PetscCall(CheckEntry(f, 10.0, 0.3));
    PetscCall(CheckEntry(f, 1.0, -0.2));
  }
  PetscCall(CheckLookup());
  PetscCall(CheckModelOption());
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char help[] = "t205: the activation table.\n";

UT_MAIN(help, Run)
