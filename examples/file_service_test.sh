#!/usr/bin/env bash
# Runs examples/file_service as a root service for group 1500 and asks it as two users:
# Alice (1001, not in the group) is refused at the pipe; Carol (1003, in group 1500) reads a
# file she may read, and is refused one only root may read. Exit 77 (skipped) when not root.
set -euo pipefail
service=${1:?usage: file_service_test.sh path/to/file_service}
if [[ $(id -u) != 0 ]]; then
  echo "skipped: needs root to run the service and ask as users 1001 and 1003"
  exit 77
fi
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
chmod 755 "$work"
export SLUICE_PIPE_DIR=$work/pipes
mkdir -m 1777 "$SLUICE_PIPE_DIR"
cp "$service" "$work/file_service" && chmod 755 "$work/file_service"
echo "for everyone" > "$work/public.txt" && chmod 644 "$work/public.txt"
echo "for root only" > "$work/secret.txt" && chmod 600 "$work/secret.txt"

"$work/file_service" serve 1500 2 > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q serving "$work/server.log" && break; sleep 0.1; done

as() { setpriv --reuid="$1" --regid="$1" --groups="$2" -- "$work/file_service" ask "$3" 2>&1; }

check() {  # what, expected, actual
  if [[ $3 != *"$2"* ]]; then echo "FAIL: $1: expected '$2', got '$3'"; exit 1; fi
  echo "ok: $1: $3"
}
check "a non-member is refused at the pipe" "Access is denied" "$(as 1001 1001 "$work/public.txt" || true)"
check "a member reads a file she may read" "for everyone" "$(as 1003 1500 "$work/public.txt")"
check "a member cannot read root's file through the service" "Permission denied" \
  "$(as 1003 1500 "$work/secret.txt")"
wait "$server"
