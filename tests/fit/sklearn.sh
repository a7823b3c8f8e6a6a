#!/usr/bin/env bash
# mg-fit against scikit-learn, live: LogisticRegression (newton-cg, tol 1e-10)
# binary, multinomial and one-vs-rest, class_weight="balanced", Ridge, and the
# cross-validated choice against LogisticRegressionCV / GridSearchCV given the
# folds mg-fit used (--folds-out). Probabilities within 1e-6, coefficients on
# standardised inputs within 1e-4.
source "$(dirname "$0")/../lib.sh"
if ! have_py sklearn; then skip fit_vs_sklearn "python3-sklearn not installed"; exit 0; fi
"$PY" "$TOP/tests/fit/ref_fit.py" "$T" || fail fit_reference_script "exited $?"
