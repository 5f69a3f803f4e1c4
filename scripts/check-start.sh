#!/usr/bin/env bash
# CI: the README's first fresh-machine command (`npm ci && npm start`) really serves. Starts the sidecar with its
# embedded defaults, waits (bounded) for /healthz on the default metrics address, then stops it with SIGTERM and
# expects exit 0. `npm ci` has already run in .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
npm start >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  if curl -fsS http://127.0.0.1:9464/healthz >/dev/null 2>&1; then
    # npm runs the server in a child shell: signal the server itself, as a process manager would.
    pkill -TERM -f "^node dist/cli/main.js serve" || true
    wait "$pid" && status=0 || status=$?
    trap - EXIT
    if [[ $status -ne 0 ]]; then cat "$log"; echo "check-start: npm start exited $status after SIGTERM" >&2; exit 1; fi
    echo "check-start: npm start served /healthz and stopped cleanly"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "check-start: npm start exited before serving" >&2; exit 1; fi
  sleep 1
done
cat "$log"
echo "check-start: no /healthz on 127.0.0.1:9464 within 120 s" >&2
exit 1
