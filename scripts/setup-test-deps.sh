#!/usr/bin/env bash
# Installs what the test suite needs from Debian (bookworm): Debian's own /usr/bin/python3 with grpcio,
# protobuf and numpy, and protoc for the Python message stubs. Idempotent: when everything is already
# present it touches nothing (no apt). Used by `npm run setup:test` and CI.
#
# Always Debian's /usr/bin/python3: a `python3` earlier on PATH (pyenv, venv) has none of these packages.
# protoc comes from protobuf-compiler (3.21), not python3-grpc-tools: bookworm's grpc-tools 1.14 bundles
# protoc 3.6, which rejects the proto3 `optional` fields of sidecar.proto. The Python test client builds
# its gRPC method handles from the service descriptor, so it needs no *_pb2_grpc.py.
set -euo pipefail

PY=/usr/bin/python3

# One row per requirement: "<check> <debian package>", where <check> is "py:<module importable by $PY>",
# "bin:<command on PATH>" or "deb:<installed package>". A new dependency is one row
# (e.g. "py:torch python3-torch").
REQUIREMENTS=(
  "py:grpc python3-grpcio"
  "py:google.protobuf python3-protobuf"
  "py:numpy python3-numpy"
  "bin:protoc protobuf-compiler"
  # numpy's BLAS: the reference BLAS that python3-numpy pulls in is ~10x slower for the float64
  # reference kernels of test/python (seconds per snapshot instead of a fraction).
  "deb:libopenblas0-pthread libopenblas0-pthread"
  # clients/python (ntk_sidecar): the PyTorch adapter and its tests, the digits example's data.
  "py:torch python3-torch"
  "py:sklearn python3-sklearn"
  # clients/python: the Optuna integration (ntk_sidecar.optuna) and its real-study test.
  "py:optuna python3-optuna"
  # bench/stopping: Fashion-MNIST (idx files under /usr/share/datasets/fashion-mnist).
  "deb:dataset-fashion-mnist dataset-fashion-mnist"
  # test/deploy: promtool (check config/rules/metrics, test rules) and a real Prometheus for the end-to-end
  # scrape; both binaries come from Debian's prometheus package.
  "bin:promtool prometheus"
  "bin:prometheus prometheus"
  # test/cohort and bench/cohortStore.bench.ts: a real PostgreSQL 15 started per test in a temp dir with
  # initdb/pg_ctl from /usr/lib/postgresql/15/bin (not on PATH; the cluster wrapper pg_ctlcluster is).
  "bin:pg_ctlcluster postgresql"
  "deb:postgresql-15 postgresql-15"
  # test/ui: the run pages in a real browser, Debian's headless chromium driven by playwright-core
  # (executablePath /usr/bin/chromium; no browser download).
  "bin:chromium chromium"
)

present() {
  case "$1" in
    py:*) [[ -x "$PY" ]] && "$PY" -c "import ${1#py:}" >/dev/null 2>&1 ;;
    bin:*) command -v "${1#bin:}" >/dev/null 2>&1 ;;
    deb:*) [[ $(dpkg-query -W -f='${Status}' "${1#deb:}" 2>/dev/null) == "install ok installed" ]] ;;
    *) echo "setup-test-deps: bad requirement '$1'" >&2; exit 2 ;;
  esac
}

# Prints the Debian packages of the requirements that are not present, one per line.
missing_packages() {
  local row check pkg
  for row in "${REQUIREMENTS[@]}"; do
    read -r check pkg <<<"$row"
    present "$check" || printf '%s\n' "$pkg"
  done
}

report_found() {
  "$PY" -c 'import sys, grpc, google.protobuf, numpy
print(f"python {sys.version.split()[0]} ({sys.executable}): grpcio {grpc.__version__}, "
      f"protobuf {google.protobuf.__version__}, numpy {numpy.__version__}")'
  echo "protoc: $(command -v protoc) ($(protoc --version))"
}

MISSING=()
mapfile -t MISSING < <(missing_packages)

if [[ ${#MISSING[@]} -eq 0 ]]; then
  echo "setup-test-deps: everything already present; nothing to install."
  report_found
  exit 0
fi

# Debian's python3 itself when /usr/bin/python3 is absent.
[[ -x "$PY" ]] || MISSING=(python3 "${MISSING[@]}")

if [[ $(id -u) -ne 0 ]]; then
  echo "setup-test-deps: missing for $PY: ${MISSING[*]}" >&2
  echo "Run as root:  apt-get update && apt-get install -y --no-install-recommends ${MISSING[*]}" >&2
  echo "(or: sudo npm run setup:test)" >&2
  exit 1
fi

echo "setup-test-deps: installing ${MISSING[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${MISSING[@]}"

STILL=()
mapfile -t STILL < <(missing_packages)
if [[ ${#STILL[@]} -ne 0 ]]; then
  echo "setup-test-deps: still missing after apt-get install: ${STILL[*]}" >&2
  exit 1
fi
report_found
