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
# A line is a package, optionally followed by npm install options. A package with
# options gets a folder of its own (build/node/NAME), so that later installs into
# build/node, which reify the whole tree, do not undo those options.
npm_want=$(cat deps/*.npm 2>/dev/null | sed 's/#.*//' | sed '/^[[:space:]]*$/d' || true)
if [ -n "$npm_want" ]; then
    echo "$npm_want" | while read -r p opts; do
        name=${p%@*}; [ -n "$name" ] || name=$p
        dir=build/node; [ -z "$opts" ] || dir=build/node/$name
        [ -d "$dir/node_modules/$name" ] && continue
        echo "deps: npm install $p${opts:+ $opts}" >&2
        mkdir -p "$dir"
        # shellcheck disable=SC2086 # opts are separate words
        npm install --prefix "$dir" --silent --no-audit --no-fund $opts "$p" >&2 || exit 1
    done
fi
exit 0
