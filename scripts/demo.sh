#!/usr/bin/env bash
# One command from a fresh clone: install, build, run the demo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" build
exec "$root/build/conveyor" demo "$@"
