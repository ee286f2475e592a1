# shellcheck shell=bash
# Common environment for the project's scripts: source it, do not run it.
# - a Python venv with requirements-dev.txt (HOMELAB_VENV)
# - the collection visible to Ansible as homelab.istio_egress through a
#   symlink farm (ANSIBLE_COLLECTIONS_PATH), so a clone anywhere works
# - the local plane's binaries on PATH (HOMELAB_PLANE_BIN)
HOMELAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOMELAB_CACHE="${HOMELAB_CACHE:-$HOME/.cache/homelab-istio-egress}"
HOMELAB_VENV="${HOMELAB_VENV:-$HOMELAB_CACHE/venv}"
HOMELAB_PLANE_BIN="${HOMELAB_PLANE_BIN:-$HOMELAB_CACHE/bin}"
# One collections path per checkout: a shared symlink would be re-pointed by
# whichever checkout (a clone, CI, a second worktree) sourced this file last.
HOMELAB_COLLECTIONS="$HOMELAB_CACHE/collections/$(printf '%s' "$HOMELAB_ROOT" | sha256sum | cut -c1-12)"
export HOMELAB_ROOT HOMELAB_CACHE HOMELAB_VENV HOMELAB_PLANE_BIN HOMELAB_COLLECTIONS

mkdir -p "$HOMELAB_COLLECTIONS/ansible_collections/homelab"
ln -sfn "$HOMELAB_ROOT" "$HOMELAB_COLLECTIONS/ansible_collections/homelab/istio_egress"
export ANSIBLE_COLLECTIONS_PATH="$HOMELAB_COLLECTIONS${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}"
export PATH="$HOMELAB_VENV/bin:$HOMELAB_PLANE_BIN:$PATH"
export HELM_PLUGINS="${HELM_PLUGINS:-$HOMELAB_CACHE/helm-plugins}"
export PYTHONPATH="$HOMELAB_COLLECTIONS${PYTHONPATH:+:$PYTHONPATH}"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 LC_ALL=C.UTF-8 LANG=C.UTF-8
