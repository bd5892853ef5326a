#!/bin/sh
# Runs the Win32 example programs end to end, each in its own process, and checks their output:
# the multithreaded server (S1) serves the client (S4), the transaction client (S5a) and the
# CallNamedPipe client (S5b); the parent (S6, ANSI only) pipes a file through its child.
# Usage: run_scenarios.sh BIN_DIR ansi|unicode
set -eu
bin=$1
variant=$2
suffix=""
[ "$variant" = unicode ] && suffix=_w
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

# With no instance of the pipe, each client must fail with ERROR_FILE_NOT_FOUND and say so in its
# exit status: the retry below depends on it.
for name in pipe_client transact_client call_client; do
  if "$bin/$name$suffix" < /dev/null > "$work/$name-nopipe.out" 2>&1; then
    fail "$name without a server exited with 0"
  fi
  grep -q 'GLE=2' "$work/$name-nopipe.out" || fail "$name without a server: no GLE=2"
done

"$bin/pipe_server$suffix" 3 > "$work/server.out" 2>&1 &
server_pid=$!

# A client gets GLE=2 when no instance exists: before the server's first CreateNamedPipe, and
# after a client's instance closed while the server had not yet created the next (as on
# Windows, the name exists only while an instance does). Try again.
run_client() {
  name=$1
  tries=0
  until "$bin/$name$suffix" < /dev/null > "$work/$name.out" 2>&1; do
    tries=$((tries + 1))
    [ $tries -lt 200 ] || fail "$name never connected"
    sleep 0.05
  done
}
run_client pipe_client
run_client transact_client
run_client call_client

i=0
while kill -0 "$server_pid" 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 600 ] || fail "server did not exit after three clients"
  sleep 0.05
done
wait "$server_pid" || fail "server exit status"
server_pid=""

grep -q 'Message sent to server, receiving reply as follows:' "$work/pipe_client.out" ||
  fail "client did not send"
grep -q '"default answer from server"' "$work/pipe_client.out" || fail "client reply"
grep -q '^default answer from server$' "$work/transact_client.out" || fail "transact reply"
grep -q '^default answer from server$' "$work/call_client.out" || fail "call reply"
grep -q 'Client Request String:"Default message from client."' "$work/server.out" ||
  fail "server did not print the client's request"
grep -q 'Client Request String:"Default message from client"' "$work/server.out" ||
  fail "server did not print the transaction's request"
[ "$(grep -c 'ServeClient: client disconnected.' "$work/server.out")" = 3 ] ||
  fail "server did not see three clients leave"

if [ "$variant" = ansi ]; then
  printf 'hello from the file' > "$work/input.txt"
  "$bin/parent" "$work/input.txt" > "$work/parent.out" 2>&1 || fail "parent exit status"
  for line in '->Start of parent execution.' "->Contents of $work/input.txt written to child STDIN pipe." \
              '->Contents of child process STDOUT:' 'hello from the file' \
              ' ** This is a message from the child process. ** ' '->End of parent execution.'; do
    grep -qF -- "$line" "$work/parent.out" || fail "parent output lacks: $line"
  done
  # Without an argument the parent reports the error through MessageBox and exits with 1.
  if "$bin/parent" > "$work/parent-noarg.out" 2>&1; then fail "parent without a file succeeded"; fi
  grep -q 'Please specify an input file' "$work/parent-noarg.out" || fail "parent error text"
fi
echo "all scenarios passed ($variant)"
