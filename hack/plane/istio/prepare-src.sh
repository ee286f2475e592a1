#!/usr/bin/env bash
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Prepare the istio.io/istio source this wrapper module builds (replace => ./.istio-src).
#
# The Go module proxy reachable here refuses several module versions that the
# release-1.30 commit 9739e10e pins (403 "This module version is not available"):
#   istio.io/api and istio.io/client-go v1.30.4-0.20260824...      -> v1.30.8 (tagged, served)
#   github.com/envoyproxy/go-control-plane/envoy v1.37.1-0.20260409 -> v1.38.0 (tagged, served)
#   github.com/envoyproxy/go-control-plane/contrib v1.36.1-0.20260409 -> v1.36.1-0.20260729 (served)
#   github.com/agentgateway/agentgateway/api (not served at any version) -> compiled out by
#   patches/0001-compile-out-agentgateway.patch (experimental, off by default).
# So the source is copied from the module cache, its go.mod re-pinned and the patch applied.
# Idempotent: a stamp records the inputs; an up-to-date copy is left alone.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ISTIO_MOD=istio.io/istio
ISTIO_VERSION=v0.0.0-20260826214018-9739e10eb9d7
dst="$here/.istio-src"
stamp_want="$ISTIO_VERSION $(cat "$here/prepare-src.sh" "$here"/patches/*.patch | sha256sum | cut -c1-16)"
if [[ -f "$dst/.homelab-stamp" && "$(cat "$dst/.homelab-stamp")" == "$stamp_want" ]]; then
  exit 0
fi
dir="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$ISTIO_MOD@$ISTIO_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "$dir" ]] || { echo "prepare-src: go mod download of $ISTIO_MOD@$ISTIO_VERSION gave no source dir" >&2; exit 1; }
rm -rf "$dst.tmp" && mkdir -p "$dst.tmp"
cp -a "$dir/." "$dst.tmp/"
chmod -R u+w "$dst.tmp"
(
  cd "$dst.tmp"
  rm -rf pilot/pkg/config/kube/agentgateway
  for p in "$here"/patches/*.patch; do patch -s -p1 < "$p"; done
  go mod edit -droprequire=github.com/agentgateway/agentgateway/api \
    -require=istio.io/api@v1.30.8 -require=istio.io/client-go@v1.30.8 \
    -require=github.com/envoyproxy/go-control-plane/envoy@v1.38.0 \
    -require=github.com/envoyproxy/go-control-plane/contrib@v1.36.1-0.20260729145720-a2d8c7492908
)
echo "$stamp_want" > "$dst.tmp/.homelab-stamp"
rm -rf "$dst" && mv "$dst.tmp" "$dst"
