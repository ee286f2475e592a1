# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Istio's own routing simulation as an oracle (hack/plane/istio/oracle, docs/scenarios.md).

``oracle_binary()`` compiles the Go test once per checkout (``go test -c -trimpath``: the Go build
cache makes it a link when nothing changed, and ``-trimpath`` shares the compiled Istio packages
with the plane's own pilot-discovery build); ``run_oracle(cases)`` runs it on a list of cases and
returns its results. A case names the Istio objects, the Kubernetes objects (the gateway Service and
pods), the proxies and the calls; the oracle answers per call with the listener, filter chain and
cluster Envoy would pick, and per proxy (``dump: true``) with the generated config as an Envoy
config dump, which our own matcher (plugins/module_utils/envoy_config.py) can read.

``verdict(...)`` reduces either side to what the differential tests compare: the destination
cluster, whether it was built, and whether the call goes through the egress gateway.
"""

import hashlib
import json
import os
import subprocess
import tempfile
import time

import yaml

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ISTIO_DIR = os.path.join(REPO_ROOT, "hack", "plane", "istio")
ORACLE_DIR = os.path.join(ISTIO_DIR, "oracle")


class OracleError(Exception):
    """The oracle could not be built or run; str() says why."""


def _cache_dir():
    cache = os.environ.get("HOMELAB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "homelab-istio-egress")
    return os.path.join(cache, "oracle")


def oracle_binary(timeout=3600):
    """Build (or re-link) the oracle test binary; return (path, seconds it took)."""
    start = time.time()
    env = dict(os.environ)
    env.setdefault("GOFLAGS", "-buildvcs=false")
    try:
        prep = subprocess.run(["bash", os.path.join(ISTIO_DIR, "prepare-src.sh")], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OracleError("hack/plane/istio/prepare-src.sh did not finish: %s" % exc)
    if prep.returncode != 0:
        raise OracleError("hack/plane/istio/prepare-src.sh failed (rc=%s): %s" % (prep.returncode, prep.stdout[-2000:]))
    out_dir = _cache_dir()
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "istio-oracle.test")
    # go test -c links again every time (about a minute here): a stamp of the inputs skips that.
    stamp = _stamp(env)
    try:
        with open(out + ".stamp") as handle:
            if handle.read() == stamp and os.access(out, os.X_OK):
                return out, time.time() - start
    except OSError:
        pass
    try:
        proc = subprocess.run(["go", "test", "-c", "-trimpath", "-o", out, "."], cwd=ORACLE_DIR, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                              timeout=timeout, check=False)
    except OSError as exc:
        raise OracleError("cannot run go (%s): the oracle needs the Go toolchain of hack/bootstrap-system" % exc)
    except subprocess.TimeoutExpired:
        raise OracleError("go test -c of hack/plane/istio/oracle took longer than %ss" % timeout)
    if proc.returncode != 0:
        raise OracleError("go test -c of hack/plane/istio/oracle failed (rc=%s): %s" % (proc.returncode, proc.stdout[-3000:]))
    with open(out + ".stamp", "w") as handle:
        handle.write(stamp)
    return out, time.time() - start


def _stamp(env):
    """Go version + the oracle's sources + the prepared Istio source's stamp."""
    digest = hashlib.sha256()
    version = subprocess.run(["go", "env", "GOVERSION"], env=env, stdout=subprocess.PIPE, universal_newlines=True,
                             timeout=60, check=False).stdout
    digest.update(version.encode())
    for name in sorted(os.listdir(ORACLE_DIR)):
        if name.endswith((".go", ".mod", ".sum")):
            with open(os.path.join(ORACLE_DIR, name), "rb") as handle:
                digest.update(name.encode() + b"\0" + handle.read())
    with open(os.path.join(ISTIO_DIR, ".istio-src", ".homelab-stamp"), "rb") as handle:
        digest.update(handle.read())
    return digest.hexdigest()


def run_oracle(binary, cases, timeout=900):
    """Simulate every call of every case; return {case name: result} (see oracle_test.go)."""
    with tempfile.TemporaryDirectory(prefix="oracle-") as tmp:
        src, dst = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        with open(src, "w") as handle:
            json.dump({"cases": cases}, handle)
        env = dict(os.environ, ORACLE_IN=src, ORACLE_OUT=dst)
        try:
            proc = subprocess.run([binary, "-test.run", "^TestOracle$", "-test.count", "1"], cwd=ORACLE_DIR, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise OracleError("the oracle ran longer than %ss on %d cases" % (timeout, len(cases)))
        if not os.path.isfile(dst):
            raise OracleError("the oracle wrote no results (rc=%s): %s" % (proc.returncode, proc.stdout[-3000:]))
        with open(dst) as handle:
            results = json.load(handle)["cases"]
    out = {r["name"]: r for r in results}
    failed = [r["name"] for r in results if r.get("error")]
    if failed:
        raise OracleError("the oracle could not set up %s: %s" % (
            ", ".join(failed), "; ".join(out[n]["error"] for n in failed)) + "\n" + proc.stdout[-3000:])
    return out


def yaml_docs(objects):
    """Objects (dicts) as one multi-document YAML string for the oracle."""
    return "\n---\n".join(yaml.safe_dump(o, default_flow_style=False) for o in objects)


def is_hop1(cluster, gateway_fqdn):
    """outbound|<port>|<subset>|<gateway service FQDN>: the client's call goes to the gateway."""
    parts = (cluster or "").split("|")
    return len(parts) == 4 and parts[0] == "outbound" and parts[3] == gateway_fqdn


def oracle_verdict(call, gateway_fqdn):
    """(cluster or the simulation's error, cluster built?, via the gateway?) of one oracle call."""
    cluster = call.get("cluster") or ""
    if call.get("error") and not cluster:
        return ("error: %s" % call["error"], False, False)
    built = bool(call.get("cluster_exists"))
    return (cluster, built, is_hop1(cluster, gateway_fqdn) and built)


def our_verdict(destination, gateway_fqdn, cluster_names):
    """The same triple from envoy_config's destination facts and the dump's cluster names."""
    if not destination.get("matched") and not destination.get("cluster"):
        return ("error: no route", False, False)
    cluster = destination.get("cluster") or ""
    built = cluster in cluster_names
    via = bool(destination.get("via_egress_gateway")) and built and is_hop1(cluster, gateway_fqdn)
    return (cluster, built, via)
