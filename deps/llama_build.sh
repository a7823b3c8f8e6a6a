#!/usr/bin/env bash
# Build llama.cpp (CPU only) from the source bundle that the npm package
# node-llama-cpp ships (deps/decode.npm), once: the tests compare mg-decode with
# it and the benchmark measures beside it. Nothing here is committed.
#   build/llama.cpp/           the cloned tree (its gguf-py writes GGUF files)
#   build/llama.cpp/build/bin  libllama and llama-greedy (our token-id driver,
#                              tests/decode/llama_greedy.c); with the argument
#                              "bench" also llama-bench (it needs llama.cpp's
#                              common library, most of the build time)
# Prints the bin folder on stdout. If it cannot build, prints one line saying
# why on stderr and exits 1 (callers skip); the build log stays in
# build/llama.cpp/build.log.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUNDLE=$TOP/build/node/node-llama-cpp/node_modules/node-llama-cpp/llama/gitRelease.bundle
SRC=$TOP/build/llama.cpp
BLD=$SRC/build
LOG=$SRC/build.log
DRIVER=$TOP/tests/decode/llama_greedy.c

die() { echo "llama.cpp: $*" >&2; exit 1; }
[ -f "$BUNDLE" ] || die "no source bundle at $BUNDLE (make deps installs node-llama-cpp)"
for t in git cmake c++ cc flock; do
    command -v "$t" >/dev/null || die "$t is not installed"
done
mkdir -p "$TOP/build"
# Tests and benchmarks may ask at the same time: one builds, the others wait.
exec 9>"$TOP/build/.llama.cpp.lock"
flock 9

head=$(git bundle list-heads "$BUNDLE" 2>/dev/null | awk '$2 == "HEAD" {print $1}')
[ -n "$head" ] || die "$BUNDLE is not a git bundle"
targets=(llama)
[ "${1:-}" = bench ] && targets+=(llama-bench)
stamp=$BLD/.built-$head-${1:-lib}
if [ ! -f "$stamp" ]; then
    if [ ! -f "$BLD/.cloned-$head" ]; then
        rm -rf "$SRC"
        git clone -q "$BUNDLE" "$SRC" 2>/dev/null || die "cannot clone $BUNDLE"
        git -C "$SRC" -c advice.detachedHead=false checkout -q "$head" || die "cannot check out $head"
        mkdir -p "$BLD" && touch "$BLD/.cloned-$head"
    fi
    echo "llama.cpp: building ${targets[*]} of ${head:0:12} (CPU, once; log in $LOG)" >&2
    # Only what is asked for: no tests, examples, server, network code.
    if ! { cmake -S "$SRC" -B "$BLD" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
              -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
              -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
              -DGGML_BLAS=OFF -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF &&
           cmake --build "$BLD" -j "${MG_LLAMA_JOBS:-2}" --target "${targets[@]}"; } >"$LOG" 2>&1
    then
        die "build failed: $(grep -m1 -i 'error' "$LOG" | head -c 200)"
    fi
    touch "$stamp" "$BLD/.built-$head-lib"
fi
bin=$BLD/bin
if [ ! -x "$bin/llama-greedy" ] || [ "$DRIVER" -nt "$bin/llama-greedy" ]; then
    cc -std=c11 -O2 -Wall -Wextra -I"$SRC/include" -I"$SRC/ggml/include" -o "$bin/llama-greedy" \
        "$DRIVER" -L"$bin" -lllama -lggml -lggml-base -Wl,-rpath,"$bin" 2>>"$LOG" \
        || die "cannot compile $DRIVER: $(tail -n 3 "$LOG" | tr '\n' ' ' | head -c 200)"
fi
echo "$bin"
