#!/bin/sh
# Runs the asynchronous servers end to end against client processes and checks their output:
# the overlapped-I/O server (S2), the completion-routine server (S3) and the completion-port
# server each serve pipe_client (S4) three times, one after the other and then at once.
# Usage: run_async_scenarios.sh BIN_DIR
set -eu
bin=$1
work=$(mktemp -d)
SLUICE_PIPE_DIR=$work/pipes
export SLUICE_PIPE_DIR
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  # A child that is still exiting may create a file meanwhile: cleanup must not fail the run.
  rm -rf "$work" 2>/dev/null || rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

fail() {
  echo "FAILED: $1"
  for f in "$work"/*.out; do echo "--- $f"; cat "$f"; done
  exit 1
}

# A client started before the server created the pipe gets GLE=2: try again.
run_client() {
  out=$1
  message=$2
  tries=0
  until "$bin/pipe_client" "$message" < /dev/null > "$out" 2>&1; do
    tries=$((tries + 1))
    [ $tries -lt 200 ] || fail "client never connected ($out)"
    sleep 0.05
  done
}

for server in overlapped_server completion_server iocp_server; do
  "$bin/$server" 6 > "$work/$server.out" 2>&1 &
  server_pid=$!
  for i in 1 2 3; do run_client "$work/$server-seq$i.out" "sequential $i"; done
  for i in 1 2 3; do run_client "$work/$server-par$i.out" "parallel $i" & done
  wait_clients=0
  while [ "$(grep -l '"Default answer from server"' "$work/$server-par"*.out 2>/dev/null | wc -l)" -lt 3 ]; do
    wait_clients=$((wait_clients + 1))
    [ $wait_clients -lt 600 ] || fail "$server: parallel clients got no reply"
    sleep 0.05
  done
  i=0
  while kill -0 "$server_pid" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 600 ] || fail "$server did not exit after six clients"
    sleep 0.05
  done
  wait "$server_pid" || fail "$server exit status"
  server_pid=""
  grep -q '^Served 6 clients.$' "$work/$server.out" || fail "$server client count"
  for kind in seq par; do
    for i in 1 2 3; do
      grep -q '"Default answer from server"' "$work/$server-$kind$i.out" || fail "$server: $kind client $i reply"
    done
  done
  for i in 1 2 3; do
    grep -q "\] sequential $i\$" "$work/$server.out" || fail "$server did not print request $i"
    grep -q "\] parallel $i\$" "$work/$server.out" || fail "$server did not print parallel request $i"
  done
done
echo "all asynchronous scenarios passed"
