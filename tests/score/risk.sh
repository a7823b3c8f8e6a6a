#!/usr/bin/env bash
# mg-score risk: OR per SD against scikit-learn's unpenalised logistic
# regression; Nagelkerke R^2, top-decile OR, Harrell's C against direct forms.
source "$(dirname "$0")/../lib.sh"
if ! have_py sklearn; then skip risk_vs_sklearn "python3-sklearn not installed"; exit 0; fi
"$PY" "$TOP/tests/score/ref_risk.py" "$T" || fail risk_reference_script "exited $?"
