# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Differential test: our routing matcher against Istio's own simulation (issue 11.2).

``plugins/module_utils/envoy_config.py`` decides from a config dump where Envoy sends a TLS call
(our reading of Envoy's filter-chain matching). Istio's ``pilot/pkg/simulation`` decides the same
on the config its generator builds (hack/plane/istio/oracle, docs/scenarios.md). Here generated
variations of the collection's objects (rendered from roles/egress_routes/templates/routes.yaml.j2
with random host sets, ports, placements and gateways, plus wildcard hosts and several gateways
written on top) go through the oracle, which answers per call AND writes the config it generated
as an Envoy config dump; our matcher reads that very dump. Both must name the same destination
cluster, agree whether it was built, and agree whether the call goes through the egress gateway.

No plane is needed (the generator runs in the Go test); the Go toolchain and the Istio source
(hack/plane/istio/prepare-src.sh) are. Seeded (HOMELAB_ORACLE_SEED, HOMELAB_ORACLE_CASES).
The scenario matrix (test_scenario_matrix.py) compares the oracle with the real istiod's dumps.
"""

import os
import random
import shutil
import sys

import pytest
from oracle_helpers import OracleError, oracle_binary, oracle_verdict, our_verdict, run_oracle, yaml_docs

from ansible_collections.homelab.istio_egress.plugins.module_utils.envoy_config import analyse_config_dump

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "roles"))
from rolerender import render  # the roles' own renderer (tests/unit/roles)

SEED = int(os.environ.get("HOMELAB_ORACLE_SEED", "20261202"))
COUNT = int(os.environ.get("HOMELAB_ORACLE_CASES", "30"))
CLIENT_NS = "mesh-test"
OTHER_NS = "other-apps"
ROOT_NS = "istio-system"
POOL = ["httpbin.org", "api.github.com", "pypi.org", "files.example.net", "registry.npmjs.org", "docs.python.org"]
UNREGISTERED = "example.com"


def gateway_kube(release, labels, ip):
    """A gateway as the istio/gateway chart installs it with the guide's values: Service + one pod."""
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": release, "namespace": ROOT_NS, "labels": dict(labels)},
           "spec": {"selector": dict(labels), "ports": [
               {"name": "status-port", "port": 15021, "targetPort": 15021, "protocol": "TCP"},
               {"name": "http2", "port": 80, "targetPort": 8080, "protocol": "TCP"},
               {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"},
               {"name": "tls", "port": 15443, "targetPort": 15443, "protocol": "TCP"}]}}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": release + "-0", "namespace": ROOT_NS, "labels": dict(labels)},
           "spec": {"containers": [{"name": "istio-proxy", "image": "proxyv2"}]},
           "status": {"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready", "status": "True"}]}}
    return [svc, pod]


def routes(hosts, placement, release, labels, gateway_name):
    """The egress_routes role's objects for these variables (its own template)."""
    return render("egress_routes", "routes.yaml.j2", {
        "egress_routes_hosts": hosts, "egress_routes_placement": placement,
        "egress_routes_client_namespace": CLIENT_NS, "egress_routes_gateway_service": release,
        "egress_routes_gateway_selector": labels, "egress_routes_gateway_name": gateway_name})


def wildcard(objects, pattern):
    """Make the first host of the objects a wildcard (the role refuses wildcards; users write them)."""
    first = next(o for o in objects if o["kind"] == "ServiceEntry")
    host = first["spec"]["hosts"][0]
    for o in objects:
        spec = o["spec"]
        if o["kind"] == "ServiceEntry" and spec["hosts"] == [host]:
            spec["hosts"] = [pattern]
            spec["resolution"] = "NONE"  # DNS resolution cannot resolve a wildcard
        elif o["kind"] == "Gateway":
            spec["servers"][0]["hosts"] = [pattern if h == host else h for h in spec["servers"][0]["hosts"]]
        elif o["kind"] == "VirtualService" and spec["hosts"] == [host]:
            spec["hosts"] = [pattern]
            for r in spec["tls"]:
                r["match"][0]["sniHosts"] = [pattern]
    return host


def _pick(objects, kind, rng):
    return rng.choice([o for o in objects if o["kind"] == kind])


def _drop_route(index):
    def drop(objects, rng):
        vs = _pick(objects, "VirtualService", rng)
        del vs["spec"]["tls"][index]
    return drop


def _set_selector(objects, rng):
    _pick(objects, "Gateway", rng)["spec"]["selector"] = {"istio": "nobody"}


def _move_dr(objects, rng):
    _pick(objects, "DestinationRule", rng)["metadata"]["namespace"] = "elsewhere"


def _rename_subset(objects, rng):
    _pick(objects, "DestinationRule", rng)["spec"]["subsets"][0]["name"] = "renamed"


def _no_export(objects, rng):
    for vs in objects:
        if vs["kind"] == "VirtualService":
            vs["spec"].pop("exportTo", None)


def _protocol(value):
    def set_protocol(objects, rng):
        _pick(objects, "ServiceEntry", rng)["spec"]["ports"][0]["protocol"] = value
    return set_protocol


def _hide(objects, rng):
    objects.append({"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
                    "metadata": {"name": "hide", "namespace": CLIENT_NS},
                    "spec": {"egress": [{"hosts": ["istio-system/*"]}]}})


# What a user breaks (docs/scenarios.md), applied at random on top of the role's objects.
BREAKS = {"no-hop1": _drop_route(0), "no-hop2": _drop_route(1), "selector": _set_selector, "dr-away": _move_dr,
          "subset": _rename_subset, "no-export": _no_export, "http": _protocol("HTTP"), "https": _protocol("HTTPS"),
          "hide": _hide}


def generate(rng, index):
    """One random variation: objects, kube objects, proxies, calls and who is the gateway of what."""
    placement = rng.choice(["guide", "canonical"])
    n_gw = rng.choice([1, 1, 2])
    names = rng.sample(POOL, rng.randint(1, 4))
    hosts = [{"host": h, "port": rng.choice([443, 443, 8443])} for h in names]
    objects, kube, proxies, gw_of = [], [], {}, {}
    groups = [hosts] if n_gw == 1 else [hosts[: max(1, len(hosts) // 2)], hosts[max(1, len(hosts) // 2):]]
    groups = [g for g in groups if g]
    for gi, group in enumerate(groups):
        release = "istio-egressgateway" if gi == 0 and rng.random() < 0.5 else "egw-%d-%d" % (index, gi)
        labels = {"istio": release[6:] if release.startswith("istio-") else release}
        gateway_name = "egress-gw-%d" % gi
        objs = routes(group, placement, release, labels, gateway_name)
        objects += objs
        ip = "10.233.65.%d" % (10 + gi)
        kube += gateway_kube(release, labels, ip)
        proxies["gateway%d" % gi] = {"type": "router", "namespace": ROOT_NS, "labels": labels, "ip": ip,
                                     "name": release + "-0", "dump": True}
        fqdn = "%s.%s.svc.cluster.local" % (release, ROOT_NS)
        for h in group:
            gw_of[h["host"]] = ("gateway%d" % gi, fqdn)
    # Every other case is broken, cycling through every kind of break so each one is compared.
    broken = sorted(BREAKS)[(index // 2) % len(BREAKS)] if index % 2 else ""
    if broken:
        BREAKS[broken](objects, rng)
    wild = None
    if rng.random() < 0.25:
        host = wildcard(objects, "*.wild.example")
        wild = host
    registry_only = rng.random() < 0.6
    if registry_only:
        objects.append({"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
                        "metadata": {"name": "default", "namespace": CLIENT_NS},
                        "spec": {"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}})
    proxies["client"] = {"type": "sidecar", "namespace": CLIENT_NS, "labels": {"app": "sleep"}, "ip": "10.233.64.5",
                         "name": "sleep-0", "dump": True}
    proxies["other"] = {"type": "sidecar", "namespace": OTHER_NS, "labels": {"app": "sleep"}, "ip": "10.233.64.6",
                        "name": "sleep-1", "dump": True}
    calls = []
    for h in hosts:
        sni = "a.wild.example" if h["host"] == wild else h["host"]
        gw, fqdn = gw_of[h["host"]]
        for proxy in ("client", "other"):
            calls.append({"name": "%s %s:%s" % (proxy, sni, h["port"]), "proxy": proxy, "address": "203.0.113.7",
                          "port": h["port"], "sni": sni, "_host_port": h["port"], "_fqdn": fqdn})
        calls.append({"name": "%s %s" % (gw, sni), "proxy": gw, "address": proxies[gw]["ip"], "port": 8443,
                      "sni": sni, "_host_port": h["port"], "_fqdn": fqdn})
    calls.append({"name": "client %s" % UNREGISTERED, "proxy": "client", "address": "203.0.113.8", "port": 443,
                  "sni": UNREGISTERED, "_host_port": 443, "_fqdn": gw_of[hosts[0]["host"]][1]})
    label = "%02d-%s-%dgw-%dhosts%s%s%s" % (index, placement, len(groups), len(hosts), "-wild" if wild else "",
                                            "-registry-only" if registry_only else "", "-" + broken if broken else "")
    return {"name": label, "config": yaml_docs(objects), "kube": yaml_docs(kube), "proxies": proxies,
            "calls": [{k: v for k, v in c.items() if not k.startswith("_")} for c in calls],
            "_calls": calls}


@pytest.fixture(scope="module")
def oracle():
    if not shutil.which("go"):
        if os.environ.get("CI") == "true":
            pytest.fail("go is not on PATH: the oracle needs the Go toolchain (hack/bootstrap-system)")
        pytest.skip("go is not on PATH: the oracle needs the Go toolchain (hack/bootstrap-system)")
    try:
        return oracle_binary()[0]
    except OracleError as exc:
        pytest.fail(str(exc))


def test_builtin_cases_of_the_oracle_pass(oracle):
    """The oracle itself: the guide's objects route through the gateway (oracle/builtin_test.go)."""
    import subprocess

    from oracle_helpers import ORACLE_DIR
    env = {k: v for k, v in os.environ.items() if k not in ("ORACLE_IN", "ORACLE_OUT")}
    proc = subprocess.run([oracle, "-test.run", "^TestOracle$", "-test.count", "1", "-test.v"], cwd=ORACLE_DIR, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "--- PASS: TestOracle/guide-REGISTRY_ONLY" in proc.stdout, proc.stdout[-2000:]


def test_our_matcher_agrees_with_istios_simulation(oracle):
    rng = random.Random(SEED)
    cases = [generate(rng, i) for i in range(COUNT)]
    results = run_oracle(oracle, [{k: v for k, v in c.items() if not k.startswith("_")} for c in cases])
    disagreements, compared = [], 0
    for case in cases:
        res = results[case["name"]]
        for meta, call in zip(case["_calls"], res["calls"]):
            text = res["dumps"][call["proxy"]]
            facts = analyse_config_dump(text, host=call["sni"], port=meta["_host_port"], egress_gateway_service=meta["_fqdn"],
                                        protocol="tls")
            names = {c["name"] for c in facts.get("clusters") or []}
            want = oracle_verdict(call, meta["_fqdn"])
            got = our_verdict(facts["destination"], meta["_fqdn"], names)
            want = ("no route",) + want[1:] if want[0].startswith("error") else want
            got = ("no route",) + got[1:] if got[0].startswith("error") or not got[0] else got
            compared += 1
            if want != got:
                disagreements.append("seed %s case %s / %s: oracle %s (listener %s, chain %r, error %r), ours %s (%s)" % (
                    SEED, case["name"], call["name"], want, call["listener"], call["filter_chain"], call["error"], got,
                    facts["destination"].get("evidence")))
    print("compared %d calls of %d cases (seed %s)" % (compared, COUNT, SEED))
    assert compared >= COUNT * 3
    assert not disagreements, "%d of %d calls disagree:\n%s" % (len(disagreements), compared, "\n".join(disagreements))
