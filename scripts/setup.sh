#!/usr/bin/env bash
# Installs every Debian 12 package conveyor needs to build, test and benchmark.
# Run as root (or with sudo available). Idempotent: installs only what is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libdnnl-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  libopencv-dev
  libicu-dev
  libhwloc-dev
  libtbb-dev
  libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  python3-torch python3-torchvision python3-numpy python3-pil
  libboost-dev libgrpc++-dev protobuf-compiler-grpc
  curl python3-requests python3-grpcio python3-protobuf python3-prometheus-client wrk nghttp2-client
  gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
