#!/usr/bin/env bash
# Installs ONNX Runtime for the comparison benchmark (bench/ort_comparison_bench), not for the build or tests:
# Debian's nodejs and npm when node is missing, then the npm package onnxruntime-node@1.30.0 into
# ${CONVEYOR_ORT_DIR:-~/.cache/conveyor/onnxruntime-node}. --ignore-scripts: the package's install script
# fetches GPU files from a host outside npm's registry; the CPU library ships inside the package.
set -euo pipefail

version=1.30.0
dir=${CONVEYOR_ORT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/conveyor/onnxruntime-node}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nodejs npm
fi

installed=$(node -p "require('$dir/node_modules/onnxruntime-node/package.json').version" 2>/dev/null || true)
if [ "$installed" = "$version" ]; then
  echo "setup_ort_bench: onnxruntime-node $version present in $dir"
  exit 0
fi
mkdir -p "$dir"
npm install --ignore-scripts --no-audit --no-fund --prefix "$dir" "onnxruntime-node@$version"
node -e "require('$dir/node_modules/onnxruntime-node')" # the CPU binding loads
echo "setup_ort_bench: onnxruntime-node $version installed in $dir"
