#!/usr/bin/env bash
# The server's front-end throughput measured by outside tools: starts `conveyor serve` on a no-op-like
# pipeline (one post.softmax stage, cores: none, on an FP32 [4] `logits`) on free loopback ports, then runs
#   wrk     over HTTP/1.1 (keep-alive, binary tensor data extension), one connection and CONNECTIONS,
#   h2load  over gRPC (HTTP/2 with a framed ModelInferRequest body, raw_input_contents), one stream,
#           CONNECTIONS streams on one connection, and CONNECTIONS connections,
#   conveyor bench --url, over both, for comparison with conveyor's own client,
# each for about DURATION seconds, prints their numbers and the server's success/failure counters, and
# stops the server. With two or more CPUs the server is pinned to CPU 0 (front end and pipeline together:
# "the front end on one core") and every client to the others.
# Usage: scripts/bench_serve.sh   env: CONVEYOR (default build/conveyor), DURATION (5), CONNECTIONS (8)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
conveyor=${CONVEYOR:-$root/build/conveyor}
duration=${DURATION:-5}
connections=${CONNECTIONS:-8}
for tool in wrk h2load protoc curl; do
  command -v "$tool" >/dev/null || { echo "bench_serve.sh needs $tool (apt-get install wrk nghttp2-client protobuf-compiler curl)" >&2; exit 1; }
done
[ -x "$conveyor" ] || { echo "no conveyor binary at $conveyor (build it, or set CONVEYOR)" >&2; exit 1; }

work=$(mktemp -d /tmp/conveyor-bench-serve.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" && wait "$server_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

server_cpus=() client_cpus=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  server_cpus=(taskset -c 0)
  client_cpus=(taskset -c "1-$(($(nproc) - 1))")
  echo "server on CPU 0, clients on CPUs 1-$(($(nproc) - 1)) ($(nproc) CPUs)"
else
  echo "server and clients share $(nproc) CPU(s): the numbers include the client's cost"
fi
idle() {  # percent of CPU time idle over the next second: other processes' load, measured
  local a b
  a=$(head -1 /proc/stat); sleep 1; b=$(head -1 /proc/stat)
  echo "$a $b" | awk '{t0=0; for (i=2;i<=11;i++) t0+=$i; t1=0; for (i=13;i<=22;i++) t1+=$i;
                       printf "%.0f", 100 * (($16+$17) - ($5+$6)) / (t1 - t0)}'
}
echo "CPUs $(idle)% idle before the run (numbers are worth little when well under 90%)"

cat >"$work/noop.yaml" <<'EOF'
name: noop
max_in_flight: 64
queue_capacity: 64
stages:
  - name: softmax
    op: post.softmax
    cores: none
    args: {input: logits, output: probs}
EOF

# The HTTP body: JSON header, then FP32 [1, 2, 3, 4] little-endian (binary tensor data extension).
header='{"inputs":[{"name":"logits","shape":[4],"datatype":"FP32","parameters":{"binary_data_size":16}}],"parameters":{"binary_data_output":true}}'
floats='\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40'
{ printf '%s' "$header"; printf "$floats"; } >"$work/http_body.bin"
cat >"$work/post.lua" <<EOF
local f = assert(io.open("$work/http_body.bin", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/octet-stream"
wrk.headers["Inference-Header-Content-Length"] = "${#header}"
EOF

# The gRPC body: a ModelInferRequest (protoc --encode from text), framed: 1 byte uncompressed, 4 bytes
# big-endian length, the message.
protoc --encode=inference.ModelInferRequest -I "$root/src/serve/proto" "$root/src/serve/proto/grpc_service.proto" \
  >"$work/request.pb" <<'EOF'
model_name: "noop"
inputs { name: "logits" datatype: "FP32" shape: 4 }
raw_input_contents: "\000\000\200?\000\000\000@\000\000@@\000\000\200@"
EOF
size=$(stat -c %s "$work/request.pb")
{ printf '\x00'; printf "\\x$(printf %02x $((size >> 24 & 255)))\\x$(printf %02x $((size >> 16 & 255)))\\x$(printf %02x $((size >> 8 & 255)))\\x$(printf %02x $((size & 255)))"; cat "$work/request.pb"; } >"$work/grpc_body.bin"
python_free_npy() {  # an FP32 [4] .npy for conveyor bench -i, written without numpy
  local npy_header="{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"
  while [ $(((10 + ${#npy_header} + 1) % 64)) -ne 0 ]; do npy_header+=" "; done
  { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $(((${#npy_header} + 1) & 255)))\\x$(printf %02x $(((${#npy_header} + 1) >> 8)))"
    printf '%s\n' "$npy_header"; printf "$floats"; } >"$1"
}
python_free_npy "$work/logits.npy"

"${server_cpus[@]}" "$conveyor" serve "$work/noop.yaml" --http-port 0 --grpc-port 0 >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 600); do
  grep -q "ready;" "$work/serve.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
http_port=$(sed -n 's/.*HTTP on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$work/serve.log")
grpc_port=$(sed -n 's/.*gRPC on [0-9.]*:\([0-9]*\).*/\1/p' "$work/serve.log")
[ -n "$http_port" ] && [ -n "$grpc_port" ] || { cat "$work/serve.log" >&2; exit 1; }
echo "conveyor serve: HTTP port $http_port, gRPC port $grpc_port (front ends one thread each)"

counters() {  # the model's successes and failures so far
  curl -s "http://127.0.0.1:$http_port/metrics" |
    awk '/^conveyor_request_successes_total\{model="noop"\}/ {s=$2} /^conveyor_request_failures_total\{model="noop"\}/ {f=$2}
         /^conveyor_request_rejections_total\{model="noop"\}/ {r=$2} END {printf "%d %d %d", s, f, r}'
}
run() {  # TITLE COMMAND...: runs it, then the server's counts of what it answered meanwhile
  local title=$1
  shift
  read -r s0 f0 r0 <<<"$(counters)"
  echo
  echo "== $title"
  echo "\$ $*"
  "${client_cpus[@]}" "$@"
  read -r s1 f1 r1 <<<"$(counters)"
  echo "server counted: $((s1 - s0)) succeeded, $((f1 - f0)) failed, $((r1 - r0)) rejected"
}

# A first request of each kind, checked: a tool's throughput over failing requests would mean nothing.
curl -sf -o /dev/null -H "Inference-Header-Content-Length: ${#header}" --data-binary "@$work/http_body.bin" \
  "http://127.0.0.1:$http_port/v2/models/noop/infer" || { echo "the HTTP request body is refused" >&2; exit 1; }

run "wrk: HTTP/1.1 keep-alive, one connection (one request at a time: the round trip), ${duration}s" \
  wrk -t1 -c1 -d"${duration}s" --latency -s "$work/post.lua" "http://127.0.0.1:$http_port/v2/models/noop/infer"
run "wrk: HTTP/1.1 keep-alive, $connections connections, one thread, ${duration}s" \
  wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$work/post.lua" "http://127.0.0.1:$http_port/v2/models/noop/infer"
run "h2load: gRPC, one HTTP/2 connection, one stream (one request at a time), ${duration}s" \
  h2load -c1 -m1 -D"$duration" -d "$work/grpc_body.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
  "http://127.0.0.1:$grpc_port/inference.GRPCInferenceService/ModelInfer"
run "h2load: gRPC, one HTTP/2 connection, $connections streams, ${duration}s" \
  h2load -c1 -m"$connections" -D"$duration" -d "$work/grpc_body.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
  "http://127.0.0.1:$grpc_port/inference.GRPCInferenceService/ModelInfer"
run "h2load: gRPC, $connections HTTP/2 connections, one stream each, ${duration}s" \
  h2load -c"$connections" -m1 -D"$duration" -d "$work/grpc_body.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
  "http://127.0.0.1:$grpc_port/inference.GRPCInferenceService/ModelInfer"
requests=${REQUESTS:-$((duration * 20000))}
run "conveyor bench --url http://: its own client (one event-loop thread), concurrency $connections" \
  "$conveyor" bench --url "http://127.0.0.1:$http_port/noop" -i "$work/logits.npy" -n "$requests" --warmup 1000 -c "$connections"
run "conveyor bench --url grpc://: its own client (one completion-queue thread), concurrency $connections" \
  "$conveyor" bench --url "grpc://127.0.0.1:$grpc_port/noop" --metrics-url "http://127.0.0.1:$http_port" \
  -i "$work/logits.npy" -n "$((requests / 2))" --warmup 1000 -c "$connections"
echo
echo "CPUs $(idle)% idle after the run (the server idle)"
