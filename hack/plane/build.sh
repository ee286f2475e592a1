#!/usr/bin/env bash
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Build (or reuse) every binary of the local plane into $HOMELAB_PLANE_BIN, from Go modules.
#
#   hack/plane/build.sh [--seed DIR] [--force] [component...]
#   hack/plane/build.sh --status [component...]   # one line: cache warm/cold, builds nothing
#
# Components: etcd kube-apiserver kube-controller-manager kube-scheduler kubectl
#             pilot-discovery istioctl xdsdump helm kwok helm-diff charts calicoctl
#             helm4 (Helm 4 as a second binary; not in the default set)
# (default: all but helm4). Each binary gets a stamp (recipe: version, ldflags, Go version, hash of
# its wrapper module); a binary whose stamp matches is not rebuilt. A binary named by
# $<NAME>_BIN (KUBE_APISERVER_BIN, ETCD_BIN, ISTIOCTL_BIN, PILOT_DISCOVERY_BIN, HELM_BIN,
# KWOK_BIN, ...) or found on PATH outside the bin dir is used instead and not built.
# --seed DIR copies a binary built elsewhere with the same recipe (e.g. by a running
# build) instead of building it; --force rebuilds even when the stamp matches.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

SEED="" FORCE=0 STATUS=0 WANT=()
while (($#)); do
  case "$1" in
    --seed) SEED="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    --status) STATUS=1; shift ;;
    -h|--help) sed -n '4,17p' "$0"; exit 0 ;;
    *) WANT+=("$1"); shift ;;
  esac
done
ALL=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl pilot-discovery istioctl
     xdsdump helm kwok helm-diff charts calicoctl)
((${#WANT[@]})) || WANT=("${ALL[@]}")

STAMPS="$HOMELAB_PLANE_BIN/.stamps"
mkdir -p "$HOMELAB_PLANE_BIN" "$STAMPS"
GOVER="$(go env GOVERSION)"
modhash() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

K8S_LDFLAGS="-s -w -checklinkname=0 \
-X k8s.io/component-base/version.gitVersion=$PLANE_K8S_VERSION \
-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=30 \
-X k8s.io/component-base/version.gitTreeState=clean \
-X k8s.io/component-base/version.buildDate=2024-08-14T19:00:00Z \
-X k8s.io/client-go/pkg/version.gitVersion=$PLANE_K8S_VERSION"
ETCD_LDFLAGS="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$PLANE_ETCD_VERSION"
ISTIO_LDFLAGS="-s -w -X istio.io/istio/pkg/version.buildVersion=$PLANE_ISTIO_VERSION \
-X istio.io/istio/pkg/version.buildGitRevision=$PLANE_ISTIO_COMMIT \
-X istio.io/istio/pkg/version.buildStatus=Clean -X istio.io/istio/pkg/version.buildTag=$PLANE_ISTIO_VERSION"
HELM_LDFLAGS="-s -w -X helm.sh/helm/v3/internal/version.version=$PLANE_HELM_VERSION \
-X helm.sh/helm/v3/internal/version.gitTreeState=clean"
HELM4_LDFLAGS="-s -w -X helm.sh/helm/v4/internal/version.version=$PLANE_HELM4_VERSION \
-X helm.sh/helm/v4/internal/version.gitTreeState=clean"
KWOK_LDFLAGS="-s -w"  # sigs.k8s.io/kwok/pkg/consts.Version is "0.6.1" in the tagged source
HELM_DIFF_LDFLAGS="-s -w -X github.com/databus23/helm-diff/v3/cmd.Version=${PLANE_HELM_DIFF_VERSION#v}"

# recipe <name>: one line that changes whenever the binary would come out different.
recipe() {
  case "$1" in
    etcd) echo "etcd $PLANE_ETCD_VERSION $GOVER [$ETCD_LDFLAGS] $(modhash "$PLANE_DIR"/etcd/{go.mod,go.sum,main.go})" ;;
    kube-*|kubectl) echo "$1 $PLANE_K8S_VERSION $GOVER [$K8S_LDFLAGS] $(modhash "$PLANE_DIR"/k8s/{go.mod,go.sum})" ;;
    pilot-discovery|istioctl) echo "$1 $PLANE_ISTIO_VERSION $GOVER [$ISTIO_LDFLAGS] $(modhash "$PLANE_DIR"/istio/{go.mod,go.sum,prepare-src.sh} "$PLANE_DIR"/istio/patches/*)" ;;
    xdsdump) echo "xdsdump $PLANE_ISTIO_VERSION $GOVER $(modhash "$PLANE_DIR"/istio/{go.mod,go.sum} "$PLANE_DIR"/istio/xdsdump/*.go)" ;;
    helm) echo "helm $PLANE_HELM_VERSION $GOVER [$HELM_LDFLAGS]" ;;
    helm4) echo "helm4 $PLANE_HELM4_VERSION $GOVER [$HELM4_LDFLAGS]" ;;
    kwok) echo "kwok $PLANE_KWOK_VERSION $GOVER [$KWOK_LDFLAGS]" ;;
    helm-diff) echo "helm-diff $PLANE_HELM_DIFF_VERSION $GOVER [$HELM_DIFF_LDFLAGS]" ;;
    *) plane_die "unknown component $1" ;;
  esac
}
fresh() { # fresh <name>: the binary exists and its stamp equals its recipe
  [[ $FORCE == 0 && -x "$HOMELAB_PLANE_BIN/$1" && "$(cat "$STAMPS/$1" 2>/dev/null)" == "$(recipe "$1")" ]]
}
stamp() { recipe "$1" > "$STAMPS/$1"; }
timed() { local t0=$SECONDS; "$@"; plane_log "  ... $((SECONDS - t0))s"; }

# --status: which binaries a build would reuse (stamp = recipe, or an override)
# and which it would build, so a slow CI run explains itself (.ci/run prints it).
if [[ $STATUS == 1 ]]; then
  warm=() cold=()
  for c in "${WANT[@]}"; do
    case "$c" in charts|calicoctl) continue ;; esac
    if plane_override "$c" >/dev/null || fresh "$c"; then warm+=("$c"); else cold+=("$c"); fi
  done
  if ((${#cold[@]} == 0)); then state=warm; elif ((${#warm[@]} == 0)); then state=cold; else state="partly warm"; fi
  echo "plane cache: $state (up to date: ${warm[*]:-none}; to build: ${cold[*]:-none}; in $HOMELAB_PLANE_BIN)"
  exit 0
fi

# go_install <module@version> <ldflags> <package-dir-in-module> <dest-name>: build a command
# of a downloaded module inside the module itself, so its own go.mod (and replaces) apply.
# Not `go install mod@version`: that also reads the module's version list for deprecations,
# which the proxy here answers with 403 for some modules (helm-diff).
go_install() {
  local dir
  dir="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || plane_die "go mod download $1 gave no source directory"
  (cd "$dir/$3" && go build -trimpath -ldflags "$2" -o "$HOMELAB_PLANE_BIN/$4.tmp" .)
  mv "$HOMELAB_PLANE_BIN/$4.tmp" "$HOMELAB_PLANE_BIN/$4"
}

# build_group <dir> <ldflags> <pkgdir-prefix> <names...>: one go build for several commands
build_group() {
  local dir="$1" ldflags="$2" prefix="$3"; shift 3
  local pkgs=() n tmp
  for n in "$@"; do pkgs+=("$prefix$n"); done
  tmp="$(mktemp -d)"
  (cd "$dir" && go mod download && go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}")
  for n in "$@"; do install -m 0755 "$tmp/$n" "$HOMELAB_PLANE_BIN/$n"; done
  rm -rf "$tmp"
}

declare -A todo=()
for c in "${WANT[@]}"; do
  case "$c" in charts|calicoctl) todo[$c]=1; continue ;; esac
  recipe "$c" >/dev/null
  if p="$(plane_override "$c")"; then
    plane_log "$c: using $p ($(plane_bin_var "$c") or PATH), not building"; continue
  fi
  if fresh "$c"; then plane_log "$c: up to date"; continue; fi
  if [[ -n "$SEED" && -x "$SEED/$c" ]]; then
    install -m 0755 "$SEED/$c" "$HOMELAB_PLANE_BIN/$c"; stamp "$c"
    plane_log "$c: seeded from $SEED"; continue
  fi
  todo[$c]=1
done

group=()
for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do [[ -n "${todo[$c]:-}" ]] && group+=("$c"); done
if ((${#group[@]})); then
  plane_log "building ${group[*]} $PLANE_K8S_VERSION (k8s.io/kubernetes, -checklinkname=0)"
  timed build_group "$PLANE_DIR/k8s" "$K8S_LDFLAGS" k8s.io/kubernetes/cmd/ "${group[@]}"
  for c in "${group[@]}"; do stamp "$c"; done
fi
if [[ -n "${todo[etcd]:-}" ]]; then
  plane_log "building etcd $PLANE_ETCD_VERSION (wrapper main around etcdmain)"
  timed bash -c 'cd "$1/etcd" && go mod download && go build -trimpath -ldflags "$2" -o "$3/etcd" .' _ \
    "$PLANE_DIR" "$ETCD_LDFLAGS" "$HOMELAB_PLANE_BIN"
  stamp etcd
fi
group=()
for c in pilot-discovery istioctl; do [[ -n "${todo[$c]:-}" ]] && group+=("$c"); done
if ((${#group[@]})) || [[ -n "${todo[xdsdump]:-}" ]]; then
  "$PLANE_DIR/istio/prepare-src.sh"
fi
if ((${#group[@]})); then
  plane_log "building ${group[*]} $PLANE_ISTIO_VERSION (istio.io/istio release-1.30 @$PLANE_ISTIO_COMMIT)"
  pk=(); for c in "${group[@]}"; do case $c in pilot-discovery) pk+=(pilot/cmd/pilot-discovery);; istioctl) pk+=(istioctl/cmd/istioctl);; esac; done
  tmp="$(mktemp -d)"
  timed bash -c 'cd "$1" && shift && tmp="$1" && shift && ld="$1" && shift && go mod download && go build -trimpath -ldflags "$ld" -o "$tmp/" "$@"' _ \
    "$PLANE_DIR/istio" "$tmp" "$ISTIO_LDFLAGS" "${pk[@]/#/istio.io/istio/}"
  for c in "${group[@]}"; do install -m 0755 "$tmp/$c" "$HOMELAB_PLANE_BIN/$c"; stamp "$c"; done
  rm -rf "$tmp"
fi
if [[ -n "${todo[xdsdump]:-}" ]]; then
  plane_log "building xdsdump (ADS client, istio.io/istio @$PLANE_ISTIO_COMMIT types)"
  timed bash -c 'cd "$1/istio" && go build -trimpath -ldflags "-s -w" -o "$2/xdsdump" ./xdsdump' _ "$PLANE_DIR" "$HOMELAB_PLANE_BIN"
  stamp xdsdump
fi
if [[ -n "${todo[helm]:-}" ]]; then
  plane_log "building helm $PLANE_HELM_VERSION"
  timed go_install "helm.sh/helm/v3@$PLANE_HELM_VERSION" "$HELM_LDFLAGS" cmd/helm helm; stamp helm
fi
if [[ -n "${todo[helm4]:-}" ]]; then
  plane_log "building helm4 $PLANE_HELM4_VERSION (Helm 4, as helm4)"
  timed go_install "helm.sh/helm/v4@$PLANE_HELM4_VERSION" "$HELM4_LDFLAGS" cmd/helm helm4; stamp helm4
fi
if [[ -n "${todo[kwok]:-}" ]]; then
  plane_log "building kwok $PLANE_KWOK_VERSION"
  timed go_install "sigs.k8s.io/kwok@$PLANE_KWOK_VERSION" "$KWOK_LDFLAGS" cmd/kwok kwok; stamp kwok
fi
if [[ -n "${todo[helm-diff]:-}" ]]; then
  plane_log "building helm-diff $PLANE_HELM_DIFF_VERSION"
  timed go_install "github.com/databus23/helm-diff/v3@$PLANE_HELM_DIFF_VERSION" "$HELM_DIFF_LDFLAGS" . helm-diff; stamp helm-diff
fi

# kwok's stages, taken from the kwok module (kustomize/stage): nodes become Ready and keep a
# lease, pods become Running/Ready (all containers, init containers completed), deleted pods go.
if [[ " ${WANT[*]} " == *" kwok "* ]]; then
  stages="$HOMELAB_CACHE/kwok-stages.yaml"
  if [[ $FORCE == 1 || ! -s "$stages" || "$(head -1 "$stages")" != "# kwok $PLANE_KWOK_VERSION stages"* ]]; then
    kdir="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kwok@$PLANE_KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    {
      echo "# kwok $PLANE_KWOK_VERSION stages from sigs.k8s.io/kwok@$PLANE_KWOK_VERSION/kustomize/stage (node/fast, node/heartbeat-with-lease, pod/fast)"
      for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
               pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
        echo "---"; cat "$kdir/kustomize/stage/$f"
      done
    } > "$stages.tmp"
    mv "$stages.tmp" "$stages"
    plane_log "kwok stages in $stages"
  fi
fi

# The helm-diff plugin: what `helm plugin install` would leave, minus its download hooks.
if [[ " ${WANT[*]} " == *" helm-diff "* ]]; then
  diffbin="$(plane_bin helm-diff)"
  pdir="$HELM_PLUGINS/diff"
  mkdir -p "$pdir/bin"
  if ! cmp -s "$diffbin" "$pdir/bin/diff"; then install -m 0755 "$diffbin" "$pdir/bin/diff"; fi
  cat > "$pdir/plugin.yaml.tmp" <<YAML
name: "diff"
version: "${PLANE_HELM_DIFF_VERSION#v}"
usage: "Preview helm upgrade changes as a diff"
description: "Preview helm upgrade changes as a diff"
useTunnel: true
command: "\$HELM_PLUGIN_DIR/bin/diff"
YAML
  mv "$pdir/plugin.yaml.tmp" "$pdir/plugin.yaml"
  plane_log "helm-diff plugin in $pdir (HELM_PLUGINS=$HELM_PLUGINS)"
fi

# Charts from the istio.io/istio module on disk, stamped like istio's release-builder does:
# version/appVersion and the default image tag = $PLANE_ISTIO_VERSION.
if [[ -n "${todo[charts]:-}" ]]; then
  "$PLANE_DIR/istio/prepare-src.sh"
  src="$PLANE_DIR/istio/.istio-src/manifests/charts"
  want="charts $PLANE_ISTIO_VERSION $(modhash "$PLANE_DIR/istio/.istio-src/.homelab-stamp" "$0")"
  if [[ $FORCE == 1 || "$(cat "$PLANE_CHARTS/.stamp" 2>/dev/null)" != "$want" ]]; then
    rm -rf "$PLANE_CHARTS.tmp" && mkdir -p "$PLANE_CHARTS.tmp"
    cp -a "$src/base" "$PLANE_CHARTS.tmp/base"
    cp -a "$src/istio-control/istio-discovery" "$PLANE_CHARTS.tmp/istiod"
    cp -a "$src/gateway" "$PLANE_CHARTS.tmp/gateway"
    for ch in base istiod gateway; do
      sed -i -E "s/^version: .*/version: $PLANE_ISTIO_VERSION/; s/^appVersion: .*/appVersion: $PLANE_ISTIO_VERSION/" "$PLANE_CHARTS.tmp/$ch/Chart.yaml"
    done
    # The charts' default hub/tag point at istio's dev registry; use the release hub and our tag.
    sed -i -E "s|^(    hub: ).*|\1docker.io/istio|; s|^(    tag: ).*|\1$PLANE_ISTIO_VERSION|" "$PLANE_CHARTS.tmp/istiod/values.yaml"
    echo "$want" > "$PLANE_CHARTS.tmp/.stamp"
    rm -rf "$PLANE_CHARTS" && mv "$PLANE_CHARTS.tmp" "$PLANE_CHARTS"
    plane_log "charts base, istiod, gateway ($PLANE_ISTIO_VERSION) in $PLANE_CHARTS"
  else
    plane_log "charts: up to date"
  fi
  ln -sfn "$PLANE_CHARTS" "$PLANE_DIR/charts"
fi

# calicoctl: see docs/dev/plane.md; tried with a short time budget, skipped when it does not resolve.
if [[ -n "${todo[calicoctl]:-}" ]]; then
  if p="$(plane_override calicoctl)"; then plane_log "calicoctl: using $p"
  elif [[ -x "$HOMELAB_PLANE_BIN/calicoctl" ]]; then plane_log "calicoctl: present"
  else plane_log "calicoctl: not built (see docs/dev/plane.md: Calico's module cannot be go-installed here)"
  fi
fi
plane_log "bin dir: $HOMELAB_PLANE_BIN"
