// Wrapper module: builds istioctl and pilot-discovery (istiod) from the
// istio.io/istio module. The Go module proxy here refuses the 1.30.0 tag's
// pseudo-version, so this pins the newest release-1.30 branch commit it serves
// (VERSION file "1.30", 2026-08-26, 9739e10e). See README "The local plane".
module homelab.local/plane/istio

go 1.25.9

require istio.io/istio v0.0.0-20260826214018-9739e10eb9d7
