# shellcheck shell=bash
# Shared helpers of the local plane's scripts (build.sh, up, down, env). Source it.
PLANE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../env.sh
source "$PLANE_DIR/../env.sh"
PLANE_WORK="${HOMELAB_PLANE_WORK:-$PLANE_DIR/.work}"
PLANE_RUN="$PLANE_WORK/run"        # pid files, one per component
PLANE_LOGS="$PLANE_WORK/logs"      # one log per component, kept after down
PLANE_PKI="$PLANE_WORK/pki"
PLANE_KUBECONFIG="$PLANE_WORK/kubeconfig"
PLANE_CONTEXT="istio-egress-plane"

# Versions, one place. The reasons are in docs/dev/plane.md.
PLANE_K8S_VERSION=v1.30.4
PLANE_ETCD_VERSION=v3.5.15
PLANE_ISTIO_COMMIT=9739e10eb9d7
# Honest version of the istio.io/istio release-1.30 branch build: used for the binaries'
# buildVersion, the charts' version/appVersion and the image tags.
PLANE_ISTIO_VERSION=1.30-9739e10e
PLANE_HELM_VERSION=v3.18.6
# Helm 4, a second binary `helm4` (build.sh helm4) for the Helm 4 tests (docs/dev/plane.md).
PLANE_HELM4_VERSION=v4.3.2
PLANE_KWOK_VERSION=v0.6.1
PLANE_HELM_DIFF_VERSION=v3.9.11
PLANE_CHARTS="$HOMELAB_CACHE/istio-charts/$PLANE_ISTIO_VERSION"

plane_log() { printf '%s plane: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
plane_die() { printf 'plane: ERROR: %s\n' "$*" >&2; exit 1; }

# KUBE_APISERVER_BIN for kube-apiserver, HELM_DIFF_BIN for helm-diff, ...
plane_bin_var() { local v="${1^^}"; printf '%s_BIN' "${v//-/_}"; }

# An executable for <name> given by the user: $<NAME>_BIN, or one on PATH outside our bin dir.
plane_override() {
  local name="$1" var path d
  var="$(plane_bin_var "$name")"
  if [[ -n "${!var:-}" ]]; then
    [[ -x "${!var}" ]] || plane_die "$var=${!var} is not an executable file"
    printf '%s' "${!var}"; return 0
  fi
  local IFS=:
  for d in $PATH; do
    [[ -z "$d" || "$(cd "$d" 2>/dev/null && pwd -P)" == "$(cd "$HOMELAB_PLANE_BIN" 2>/dev/null && pwd -P)" ]] && continue
    path="$d/$name"
    if [[ -x "$path" && ! -d "$path" ]]; then printf '%s' "$path"; return 0; fi
  done
  return 1
}

# The executable the plane runs for <name>: an override, else the one build.sh put in the bin dir.
plane_bin() {
  local name="$1" p
  if p="$(plane_override "$name")"; then printf '%s' "$p"; return 0; fi
  p="$HOMELAB_PLANE_BIN/$name"
  [[ -x "$p" ]] || plane_die "$name not found: run hack/plane/build.sh (or set $(plane_bin_var "$name"))"
  printf '%s' "$p"
}
