#!/bin/sh
# Install the Debian and npm packages mgpipe, its tests and its demo need and
# that are missing. Package lists: deps/*.debian and deps/*.npm (one per line).
set -eu
cd "$(dirname "$0")/.."
want=$(cat deps/*.debian 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n\n' | sed '/^$/d' | sort -u)
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "deps: installing$missing" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
    else
        echo "deps: missing Debian packages; run:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
        exit 1
    fi
fi
npm_want=$(cat deps/*.npm 2>/dev/null | sed 's/#.*//' | sed '/^[[:space:]]*$/d' || true)
if [ -n "$npm_want" ]; then
    mkdir -p build/node
    for p in $npm_want; do
        name=${p%@*}; [ -n "$name" ] || name=$p
        [ -d "build/node/node_modules/$name" ] && continue
        echo "deps: npm install $p" >&2
        (cd build/node && npm install --silent --no-audit --no-fund "$p" >&2)
    done
fi
exit 0
