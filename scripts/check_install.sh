#!/usr/bin/env bash
# Installs the built library into a staging prefix and builds two consumers against it, as a user would:
# examples/embed with find_package(conveyor) (shared and static), and a one-file program with pkg-config.
# Usage: scripts/check_install.sh [BUILD_DIR]   (default: build, as left by scripts/test.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/${1:-build}
stage=$(mktemp -d /tmp/conveyor-stage.XXXXXX)
trap 'rm -rf "$stage"' EXIT

cmake --install "$build" --prefix "$stage/prefix" >/dev/null
echo "check_install: installed into $stage/prefix"

# The installed headers name no third-party type: all of them compile with every dependency's headers
# replaced by ones that fail.
mkdir -p "$stage"/poison/{nlohmann,onnx,yaml-cpp,oneapi/dnnl,opencv2,fmt}
for header in nlohmann/json.hpp onnx/onnx_pb.h yaml-cpp/yaml.h oneapi/dnnl/dnnl.hpp opencv2/core.hpp hwloc.h fmt/format.h; do
  echo "#error a public conveyor header includes <$header>" > "$stage/poison/$header"
done
(cd "$stage/prefix/include" && find conveyor -name '*.hpp' | sort | sed 's/.*/#include <&>/') > "$stage/all_headers.cpp"
c++ -std=c++20 -fsyntax-only -I "$stage/poison" -I "$stage/prefix/include" "$stage/all_headers.cpp"
echo "check_install: $(wc -l < "$stage/all_headers.cpp") public headers compile without any dependency's headers"

cmake -S "$root/examples/embed" -B "$stage/embed" -DCMAKE_PREFIX_PATH="$stage/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$stage/embed" --parallel "$(nproc)" >/dev/null
for program in classify classify_static; do
  echo "check_install: examples/embed $program"
  "$stage/embed/$program" "$stage/work-$program"
done

export PKG_CONFIG_PATH=$stage/prefix/lib/pkgconfig
echo "check_install: pkg-config --cflags --libs conveyor: $(pkg-config --cflags --libs conveyor)"
cat > "$stage/version.cpp" <<'CPP'
#include <conveyor/conveyor.hpp>
#include <cstdio>
#include <cstring>
int main() {
  std::printf("conveyor %s (headers %s), %d cores\n", conveyor::version(), CONVEYOR_VERSION,
              conveyor::Runtime().topology().core_count());
  return std::strcmp(conveyor::version(), CONVEYOR_VERSION) == 0 ? 0 : 1;
}
CPP
# shellcheck disable=SC2046  # pkg-config's output is meant to be split into arguments
c++ -std=c++20 "$stage/version.cpp" -o "$stage/version" $(pkg-config --cflags --libs conveyor) \
  -Wl,-rpath,"$stage/prefix/lib"
"$stage/version"
echo "check_install: ok"
