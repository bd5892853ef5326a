#!/usr/bin/env bash
# Builds sluice (release preset) and runs the demo, then the quick benchmark when there is one.
# Installs missing build tools first (scripts/install_deps.sh; needs root on Debian 12).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

scripts/install_deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

cmake --preset release
targets=(--target sluice-demo)
# The benchmark is optional: build it only where the tree has it. (The target list is captured
# first: `grep -q` in a pipe would quit early and, with pipefail, fail on make's broken pipe.)
target_list=$(cmake --build --preset release --target help)
if grep -qw 'sluice-bench' <<<"$target_list"; then
  targets+=(--target sluice-bench)
fi
cmake --build --preset release -j "$jobs" "${targets[@]}"

echo
build/release/examples/sluice-demo

if [[ -x build/release/bench/sluice-bench ]]; then
  echo
  echo "Quick benchmark (build/release/bench/sluice-bench --quick):"
  build/release/bench/sluice-bench --quick
fi
