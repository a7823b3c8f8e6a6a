#!/usr/bin/env bash
# mg-score report and vqa: BLEU, ROUGE-L, CIDEr-D against a Python
# transcription of the pycocoevalcap formulas; CheXpert F1 against
# scikit-learn; RadGraph-style set F1; SQuAD token F1 and exact match.
source "$(dirname "$0")/../lib.sh"
if ! have_py sklearn; then skip text_vs_python "python3-sklearn not installed"; exit 0; fi
"$PY" "$TOP/tests/score/ref_text.py" "$T" || fail text_reference_script "exited $?"
