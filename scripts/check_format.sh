#!/usr/bin/env bash
# Fails (listing the files) when a C or C++ file of the repository differs from what
# clang-format makes of it (.clang-format; examples/win32 keeps the layout of Microsoft's
# samples). To fix: clang-format -i FILE. Needs clang-format (scripts/install_deps.sh).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

mapfile -t files < <(git ls-files '*.c' '*.h' '*.cpp' '*.hpp')
unformatted=()
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then unformatted+=("$f"); fi
done
if ((${#unformatted[@]} > 0)); then
  echo "check_format: ${#unformatted[@]} file(s) differ from clang-format's layout:" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files follow .clang-format"
