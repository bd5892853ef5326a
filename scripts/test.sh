#!/usr/bin/env bash
# Builds and runs every test: the release preset, then the asan preset (AddressSanitizer and
# UndefinedBehaviorSanitizer), then the tsan preset (ThreadSanitizer). Exits non-zero if any build or test fails; ends with ctest's
# summary for each preset. Installs missing build tools first (needs root on Debian 12).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

scripts/install_deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
presets=(release asan tsan)

status=0
for preset in "${presets[@]}"; do
  echo
  echo "=== $preset: configure and build ==="
  cmake --preset "$preset"
  cmake --build --preset "$preset" -j "$jobs"
  echo
  echo "=== $preset: ctest ==="
  # Tests run one at a time: several measure time-outs, which a loaded 2-core machine stretches.
  if ! ctest --preset "$preset" 2>&1 | tee "build/$preset/ctest.log"; then
    status=1
  fi
done

echo
echo "=== summary ==="
for preset in "${presets[@]}"; do
  echo "[$preset]"
  grep -E "tests passed|tests failed|Total Test time|The following tests FAILED|^[[:space:]]+[0-9]+ - " \
    "build/$preset/ctest.log" || echo "  (no ctest summary: see build/$preset/ctest.log)"
done
exit "$status"
