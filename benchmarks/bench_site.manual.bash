#!/usr/bin/env bash
# The guide's manual procedure (istio-1.30-egress-gateway-guide.md §3.3, §4.1, §6.5, §7.4 A),
# as a person would type it, for benchmark 3 (bench_site.py): the baseline site.yml is
# measured against, on the same local plane. It creates the same objects site.yml does:
#   §3.3  helm upgrade --install istio-egressgateway (values of §3.2) --wait
#         + the access-log Telemetry for the gateway pods (the collection adds it: access
#           logs are off by default, NOTES.md; the guide's §7 log proof needs it)
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
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
k() { kubectl --context "$CTX" "$@"; }

apply() {
  # §3.2 values-egress-gateway.yaml
  cat > "$work/values-egress-gateway.yaml" <<'EOF'
name: istio-egressgateway
labels:
  app: istio-egressgateway
  istio: egressgateway
service:
  type: ClusterIP
  ports:
  - {name: status-port, port: 15021, targetPort: 15021}
  - {name: http2, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
  - {name: tls, port: 15443, targetPort: 15443}
autoscaling:
  enabled: false
replicaCount: 1
resources:
  requests: {cpu: 50m, memory: 128Mi}
EOF
  # §3.3
  helm --kube-context "$CTX" upgrade --install istio-egressgateway "$CHART" \
    -n "$NS" -f "$work/values-egress-gateway.yaml" --wait --timeout 3m >/dev/null
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
  cat > "$work/namespace.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: mesh-test
  labels:
    istio-injection: enabled
EOF
  cat > "$work/sleep.yaml" <<'EOF'
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sleep
  namespace: mesh-test
---
apiVersion: v1
kind: Service
metadata:
  name: sleep
  namespace: mesh-test
  labels: {app: sleep, service: sleep}
spec:
  ports:
  - name: http
    port: 80
  selector: {app: sleep}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sleep
  namespace: mesh-test
spec:
  replicas: 1
  selector:
    matchLabels: {app: sleep}
  template:
    metadata:
      labels: {app: sleep}
    spec:
      serviceAccountName: sleep
      containers:
      - name: sleep
        image: curlimages/curl
        command: ["/bin/sleep", "infinity"]
        imagePullPolicy: IfNotPresent
        resources:
          requests: {cpu: 10m, memory: 32Mi}
EOF
  k apply -f "$work/namespace.yaml" -f "$work/sleep.yaml" >/dev/null
  # §4.2: 2/2 Ready
  k -n "$APP_NS" wait --for=condition=Available deploy/sleep --timeout=180s >/dev/null
  k -n "$APP_NS" wait --for=condition=Ready pod -l app=sleep --timeout=180s >/dev/null
  # §6.1-§6.4
  cat > "$work/egress.yaml" <<'EOF'
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: httpbin-ext
  namespace: mesh-test
spec:
  hosts: [httpbin.org]
  ports:
  - {number: 443, name: tls, protocol: TLS}
  resolution: DNS
  location: MESH_EXTERNAL
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: istio-egressgateway
  namespace: mesh-test
spec:
  selector:
    istio: egressgateway
  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: [httpbin.org]
    tls:
      mode: PASSTHROUGH
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: egressgateway-for-httpbin
  namespace: mesh-test
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets:
  - name: httpbin
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: direct-httpbin-through-egress
  namespace: mesh-test
spec:
  hosts: [httpbin.org]
  gateways: [mesh, istio-egressgateway]
  tls:
  - match:
    - gateways: [mesh]
      port: 443
      sniHosts: [httpbin.org]
    route:
    - destination:
        host: istio-egressgateway.istio-system.svc.cluster.local
        subset: httpbin
        port: {number: 443}
  - match:
    - gateways: [istio-egressgateway]
      port: 443
      sniHosts: [httpbin.org]
    route:
    - destination:
        host: httpbin.org
        port: {number: 443}
      weight: 100
EOF
  # §6.5: server-side dry-run, apply, analyze
  k apply --dry-run=server -f "$work/egress.yaml" >/dev/null
  k apply -f "$work/egress.yaml" >/dev/null
  if [[ -n "${ISTIOCTL:-}" ]]; then
    "$ISTIOCTL" --context "$CTX" analyze -n "$APP_NS" >/dev/null
  fi
  # §7.4 method A
  k apply -f - >/dev/null <<'EOF'
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: mesh-test
spec:
  outboundTrafficPolicy:
    mode: REGISTRY_ONLY
EOF
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
