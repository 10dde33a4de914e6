#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan) and runs each for SECONDS (default 60): the ONNX loader, seeded
# with the ONNX backend test models from libonnx-testdata, and the server's request decoding, seeded with
# KServe v2 bodies. Exits non-zero when a fuzzer finds a crash.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
"$root/scripts/setup.sh"
CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-fuzz" -G Ninja -DCONVEYOR_BUILD_FUZZ=ON \
  -DCONVEYOR_SANITIZER=address -DCONVEYOR_BUILD_TESTS=OFF -DCONVEYOR_BUILD_BENCH=OFF >/dev/null
cmake --build "$root/build-fuzz" --target onnx_loader_fuzz serve_request_fuzz --parallel "$(nproc)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/seeds"
for d in /usr/share/libonnx-testdata/data/node/*/; do cp "$d/model.onnx" "$work/seeds/$(basename "$d").onnx"; done
cd "$work"
"$root/build-fuzz/fuzz/onnx_loader_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 corpus seeds

# Serve seeds: a mode byte (even: REST body, 2 mod 4: with binary data after the JSON length in the next two
# bytes; odd: a gRPC ModelInferRequest), two length bytes, then the body.
mkdir -p serve-corpus serve-seeds
printf '\x00\x00\x00{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2],[3,4]]}],"outputs":[{"name":"y","parameters":{"binary_data":true}}]}' > serve-seeds/json
printf '\x00\x00\x00{"id":"a","parameters":{"priority":3,"timeout":1000},"inputs":[{"name":"t","shape":[2],"datatype":"BYTES","data":["ab","c"]}]}' > serve-seeds/bytes
header='{"inputs":[{"name":"b","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":7}}]}'
{ printf '\x02\x00'; printf "\\x$(printf %02x "${#header}")"; printf '%s\x03\x00\x00\x00abc' "$header"; } > serve-seeds/binary
printf '\x01\x00\x00\x0a\x01m\x2a\x0f\x0a\x01x\x12\x04INT8\x1a\x01\x02\x2a\x02\x10\x01' > serve-seeds/grpc
"$root/build-fuzz/fuzz/serve_request_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 serve-corpus serve-seeds
