#!/usr/bin/env bash
# The mgpipe demonstration: every step runs on data made here, in demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$MG_BIN:$PATH" PY=/usr/bin/python3
export DEMO=${DEMO:-$PWD/demo-out}
rm -rf "$DEMO"; mkdir -p "$DEMO"
for step in examples/demo.d/*.sh; do
    echo "== $(sed -n 's/^# demo: //p' "$step" | head -n1) ($step)"
    bash "$step"
done
echo "== demo finished; outputs in $DEMO"
