#!/usr/bin/env bash
# One command from a fresh clone: install, build, run every test.
# Usage: scripts/test.sh [--sanitizer address|thread] [--label REGEX]
#   address: ASan + UBSan build in build-asan/;  thread: TSan build in build-tsan/.
#   With --label, only the test binaries of the matching layers are built (test_<layer>).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sanitizer=""
label=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitizer) sanitizer=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    *) echo "usage: $0 [--sanitizer address|thread] [--label REGEX]" >&2; exit 2 ;;
  esac
done
build_dir=build
args=()
if [ -n "$sanitizer" ]; then
  build_dir=build-$([ "$sanitizer" = address ] && echo asan || echo tsan)
  args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVEYOR_SANITIZER="$sanitizer" -DCONVEYOR_BUILD_BENCH=OFF)
fi
if [ -n "$label" ]; then
  targets=""
  [[ cli =~ ^($label)$ || plan =~ ^($label)$ || graph =~ ^($label)$ || serve =~ ^($label)$ ]] && targets="conveyor"
  for layer in tensor kernels graph engine ops runtime plan config api serve cli; do
    [[ $layer =~ ^($label)$ ]] && [ -d "$root/tests/$layer" ] && targets+=" test_$layer"
  done
  export BUILD_TARGETS=$targets
fi
"$root/scripts/build.sh" "$build_dir" "${args[@]}"
ctest_args=(--test-dir "$root/$build_dir" --output-on-failure --parallel "$(nproc)")
[ -n "$label" ] && ctest_args+=(--label-regex "$label")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1}
ctest "${ctest_args[@]}"
