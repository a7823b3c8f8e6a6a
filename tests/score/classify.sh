#!/usr/bin/env bash
# mg-score classify: every metric against scikit-learn on random data with
# ties, multilabel and absent classes; DeLong against a direct O(n^2) form.
source "$(dirname "$0")/../lib.sh"
if ! have_py sklearn; then skip classify_vs_sklearn "python3-sklearn not installed"; exit 0; fi
"$PY" "$TOP/tests/score/ref_classify.py" "$T" || fail classify_reference_script "exited $?"
