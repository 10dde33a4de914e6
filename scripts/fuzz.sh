#!/usr/bin/env bash
# Builds the ONNX loader fuzzer (clang, ASan) and runs it for SECONDS (default 60), seeded with the ONNX
# backend test models from libonnx-testdata. Exits non-zero when the fuzzer finds a crash.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
"$root/scripts/setup.sh"
CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-fuzz" -G Ninja -DCONVEYOR_BUILD_FUZZ=ON \
  -DCONVEYOR_SANITIZER=address -DCONVEYOR_BUILD_TESTS=OFF -DCONVEYOR_BUILD_BENCH=OFF >/dev/null
cmake --build "$root/build-fuzz" --target onnx_loader_fuzz --parallel "$(nproc)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/seeds"
for d in /usr/share/libonnx-testdata/data/node/*/; do cp "$d/model.onnx" "$work/seeds/$(basename "$d").onnx"; done
cd "$work"
"$root/build-fuzz/fuzz/onnx_loader_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 corpus seeds
