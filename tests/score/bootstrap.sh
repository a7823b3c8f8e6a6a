#!/usr/bin/env bash
# mg-score bootstrap: intervals equal to a Python transcription of the
# documented resampling with scikit-learn metrics; identical for any -@.
source "$(dirname "$0")/../lib.sh"
if ! have_py sklearn; then skip bootstrap_vs_python "python3-sklearn not installed"; exit 0; fi
"$PY" "$TOP/tests/score/ref_bootstrap.py" "$T" || fail bootstrap_reference_script "exited $?"
