#!/usr/bin/env bash
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The guide's manual procedure (istio-1.30-egress-gateway-guide.md §3.3, §4.1, §6.5, §7.4 A),
# as a person would type it, for benchmark 3 (bench_site.py): the baseline site.yml is
# measured against, on the same local plane. It creates the same objects site.yml does:
#   §3.3  helm upgrade --install istio-egressgateway (values of §3.2) --wait
#         + the access-log Telemetry for the gateway pods (the collection adds it: access
#           logs are off by default, docs/upstream-facts.md; the guide's §7 log proof needs it)
#   §4.1  kubectl apply namespace.yaml sleep.yaml; kubectl wait (2/2 Ready, §4.2)
#   §6.5  kubectl apply --dry-run=server, then kubectl apply of the four objects of §6.1-§6.4;
#         istioctl analyze -n mesh-test (warnings 0)
#   §7.4  kubectl apply sidecar-registry-only.yaml (method A)
#
#   bench_site.manual.bash apply      # the procedure (idempotent: a re-run is the "re-run" side)
#   bench_site.manual.bash cleanup    # guide §10 plus the gateway release: back to a bare plane
#
# Environment: KUBECONFIG, CTX (context), CHART (the gateway chart directory), ISTIOCTL
# (istioctl to run analyze with; empty: skipped). Not part of the collection.
set -euo pipefail
: "${KUBECONFIG:?KUBECONFIG must name the kubeconfig of the plane}"
: "${CTX:?CTX must name the kube context}"
: "${CHART:?CHART must name the gateway chart directory}"
NS=istio-system
APP_NS=mesh-test
# The guide's own YAML blocks, the copies the role tests compare with
# (tests/unit/roles/guide/PROVENANCE.md): written once in the repository.
GUIDE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/unit/roles/guide" && pwd)"
k() { kubectl --context "$CTX" "$@"; }

apply() {
  # §3.2 values-egress-gateway.yaml
  # §3.3
  helm --kube-context "$CTX" upgrade --install istio-egressgateway "$CHART" \
    -n "$NS" -f "$GUIDE/values-egress-gateway.yaml" --wait --timeout 3m >/dev/null
  k apply -f - >/dev/null <<'EOF'
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: istio-egressgateway-access-log
  namespace: istio-system
spec:
  selector:
    matchLabels: {istio: egressgateway}
  accessLogging:
  - providers:
    - name: envoy
EOF
  # §4.1 namespace.yaml, sleep.yaml
  k apply -f "$GUIDE/namespace.yaml" -f "$GUIDE/sleep.yaml" >/dev/null
  # §4.2: 2/2 Ready
  k -n "$APP_NS" wait --for=condition=Available deploy/sleep --timeout=180s >/dev/null
  k -n "$APP_NS" wait --for=condition=Ready pod -l app=sleep --timeout=180s >/dev/null
  # §6.1-§6.4
  local egress=(-f "$GUIDE/serviceentry-httpbin-ext.yaml" -f "$GUIDE/gateway-egress.yaml"
                -f "$GUIDE/destinationrule-egress.yaml" -f "$GUIDE/virtualservice-egress.yaml")
  # §6.5: server-side dry-run, apply, analyze
  k apply --dry-run=server "${egress[@]}" >/dev/null
  k apply "${egress[@]}" >/dev/null
  if [[ -n "${ISTIOCTL:-}" ]]; then
    "$ISTIOCTL" --context "$CTX" analyze -n "$APP_NS" >/dev/null
  fi
  # §7.4 method A
  k apply -f "$GUIDE/sidecar-registry-only.yaml" >/dev/null
}

cleanup() {
  # §10 (the scenario's objects go with their namespace) and the gateway release.
  k delete namespace "$APP_NS" --ignore-not-found --wait=true --timeout=180s >/dev/null
  k -n "$NS" delete telemetry istio-egressgateway-access-log --ignore-not-found >/dev/null
  if helm --kube-context "$CTX" status istio-egressgateway -n "$NS" >/dev/null 2>&1; then
    helm --kube-context "$CTX" uninstall istio-egressgateway -n "$NS" --wait >/dev/null
  fi
  k -n "$NS" wait --for=delete pod -l istio=egressgateway --timeout=120s >/dev/null 2>&1 || true
}

case "${1:-}" in
  apply) apply ;;
  cleanup) cleanup ;;
  *) echo "usage: $0 apply|cleanup" >&2; exit 2 ;;
esac
