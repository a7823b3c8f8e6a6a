#!/usr/bin/env bash
# The mgpipe demonstration: every step runs on data made here, in demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$MG_BIN:$PATH" PY=/usr/bin/python3
export DEMO=${DEMO:-$PWD/demo-out} EXAMPLES=$PWD/examples
rm -rf "$DEMO"; mkdir -p "$DEMO"
mkdir -p "$DEMO/sections"
for step in ${DEMO_STEPS:-examples/demo.d/*.sh}; do
    echo "== $(sed -n 's/^# demo: //p' "$step" | head -n1) ($step)"
    bash "$step"
done
page=$("$PY" examples/report/page.py build "$DEMO")
echo "== demo finished; outputs in $DEMO"
if [ -s "$DEMO/polygenic/result.tsv" ]; then
    echo "Med-Gemini-Polygenic, in simulation (test-set AUC; see $DEMO/polygenic/params.txt):"
    column -t -s $'\t' "$DEMO/polygenic/result.tsv" | sed 's/^/  /'
fi
echo "summary page: $page"
