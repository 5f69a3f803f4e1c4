#!/usr/bin/env bash
# Regenerates the protobuf message module of ntk_sidecar from proto/ntksidecar/v1/sidecar.proto:
#   src/ntk_sidecar/_proto/ntksidecar/v1/sidecar_pb2.py  (protoc --python_out) and its .pyi (--pyi_out).
# `--check` regenerates into a temporary directory and exits 1 when the committed files differ (the test
# suite runs this).
#
# protoc must be Debian's protobuf-compiler 3.21 (`npm run setup:test`): bookworm's python3-grpc-tools bundles
# protoc 3.6, which rejects the proto3 `optional` fields of sidecar.proto. No *_pb2_grpc.py is generated
# (neither has a Python gRPC plugin here): ntk_sidecar/_proto/stub.py builds the method handles from the
# service descriptor inside sidecar_pb2, so the gRPC side cannot drift from the messages.
set -euo pipefail

HERE="$(cd "$(dirname "$0")/.." && pwd)"          # clients/python
REPO="$(cd "$HERE/../.." && pwd)"
PROTO_ROOT="$REPO/proto"
PROTO_REL="ntksidecar/v1/sidecar.proto"
DEST="$HERE/src/ntk_sidecar/_proto"
GENERATED=("ntksidecar/v1/sidecar_pb2.py" "ntksidecar/v1/sidecar_pb2.pyi")

PROTOC="${PROTOC:-protoc}"
command -v "$PROTOC" >/dev/null || { echo "gen_proto: protoc not found (install protobuf-compiler: npm run setup:test)" >&2; exit 2; }
VERSION="$("$PROTOC" --version | awk '{print $2}')"
case "$VERSION" in
  3.21.*) ;;
  *) echo "gen_proto: protoc $VERSION; the committed code is from protoc 3.21 (Debian bookworm protobuf-compiler)" >&2; exit 2 ;;
esac

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PROTOC" -I"$PROTO_ROOT" --python_out="$TMP" --pyi_out="$TMP" "$PROTO_ROOT/$PROTO_REL"

if [[ "${1:-}" == "--check" ]]; then
  stale=0
  for f in "${GENERATED[@]}"; do
    if ! cmp -s "$TMP/$f" "$DEST/$f"; then
      echo "gen_proto: $DEST/$f is stale or missing; run clients/python/scripts/gen_proto.sh" >&2
      stale=1
    fi
  done
  exit "$stale"
fi

mkdir -p "$DEST/ntksidecar/v1"
for f in "${GENERATED[@]}"; do cp "$TMP/$f" "$DEST/$f"; done
echo "gen_proto: wrote ${GENERATED[*]/#/$DEST/} (protoc $VERSION)"
