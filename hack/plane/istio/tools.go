//go:build tools

// Package tools pins the Istio commands this module builds.
package tools

import (
	_ "istio.io/istio/istioctl/cmd"
	_ "istio.io/istio/pilot/cmd/pilot-discovery/app"
)
