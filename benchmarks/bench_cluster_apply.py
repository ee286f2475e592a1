# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark 4: cluster_apply's engine on 300 objects (100 hosts' ServiceEntry, DestinationRule and
VirtualService in one namespace) against the local plane's kube-apiserver and istiod's webhook.

Figures (each a ratio of runs made side by side, same plane, same objects; docs/dev/benchmarks.md):

- ``cluster_apply_300_create``: the first apply of the 300 objects (a fresh namespace each round),
  as cluster_apply does it (one LIST per kind and namespace, writes over POOL_SIZE connections),
  against the same engine with both off (a GET and a write per object, one connection, in order:
  the request pattern cluster_apply had before them). Target <= 0.7.
- ``cluster_apply_300_rerun``: the same on the converged namespace (300 dry-runs, no write).
  Target <= 0.7.

Also printed (not a figure): k GETs against one LIST of the same k objects, for k = 1, 2, 4, 8, 16,
the measurement behind kube_rest_apply.LIST_MIN.

The engine runs in this process (as the action plugin runs it in the controller), with the guard
on as the roles call it. BENCH_APPLY_RUNS (default 3; BENCH_QUICK=1: 2) sets the rounds; even
rounds run the baseline first, odd ones last. Needs the plane up (hack/plane/up).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import benchlib
from plane_helpers import collections_path, plane_status

CREATE = ("cluster_apply_300_create", "0.7",
          "the same engine without LIST and pool (GET + write per object, one connection), 300 new objects")
RERUN = ("cluster_apply_300_rerun", "0.7",
         "the same engine without LIST and pool (GET + dry-run per object, one connection), 300 converged objects")
HOSTS = 100
LABELS = {"app.kubernetes.io/managed-by": "homelab.istio_egress", "app.kubernetes.io/part-of": "istio-egress",
          "istio-egress.homelab/role": "egress_routes"}


def objects(namespace: str) -> list:
    out = []
    for n in range(HOSTS):
        host = f"h{n:03d}.bench.example.org"
        meta = {"namespace": namespace, "labels": LABELS}
        out.append({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                    "metadata": dict(meta, name=f"h{n:03d}-ext"),
                    "spec": {"hosts": [host], "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
                             "resolution": "DNS", "location": "MESH_EXTERNAL"}})
        out.append({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                    "metadata": dict(meta, name=f"egressgateway-for-h{n:03d}"),
                    "spec": {"host": "istio-egressgateway.istio-system.svc.cluster.local",
                             "subsets": [{"name": f"h{n:03d}"}]}})
        out.append({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                    "metadata": dict(meta, name=f"direct-h{n:03d}-through-egress"),
                    "spec": {"hosts": [host],
                             "tls": [{"match": [{"port": 443, "sniHosts": [host]}],
                                      "route": [{"destination": {"host": host, "port": {"number": 443}}}]}]}})
    return out


class Engine:
    def __init__(self, work: str):
        sys.path.insert(0, collections_path())
        from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_rest, kube_rest_apply
        self.kube_rest, self.mod = kube_rest, kube_rest_apply
        self.params = {"kubeconfig": os.path.join(work, "kubeconfig"), "context": "istio-egress-plane", "timeout": 30,
                       "field_manager": "homelab.istio_egress", "guard": True, "adopt": False,
                       "owner_role": "egress_routes"}
        self.defaults = (kube_rest_apply.LIST_MIN, kube_rest_apply.POOL_MIN)

    def apply(self, objs: list, levers: bool) -> tuple:
        self.mod.LIST_MIN, self.mod.POOL_MIN = self.defaults if levers else (10 ** 9, 10 ** 9)
        try:
            started = time.perf_counter()
            result = self.mod.call(dict(self.params, objects=objs), in_controller=True, environ=dict(os.environ))
            elapsed = time.perf_counter() - started
        finally:
            self.mod.LIST_MIN, self.mod.POOL_MIN = self.defaults
        if result.get("failed"):
            raise RuntimeError(f"cluster_apply failed: {result.get('msg')}")
        return elapsed, result

    def list_vs_get(self, namespaces: dict) -> None:
        """k GETs against one LIST of the same k objects (``namespaces[k]`` holds exactly those)."""
        from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_auth
        environ = dict(os.environ)
        settings = self.kube_rest.settings_for(kube_auth.auth_from_params(self.params, environ), environ)
        client = self.kube_rest.Client(settings, 30)
        try:
            for k, namespace in sorted(namespaces.items()):
                base = f"/api/v1/namespaces/{namespace}/configmaps"
                gets, lists = [], []
                for _round in range(7):
                    started = time.perf_counter()
                    for n in range(k):
                        client.get_json(f"{base}/cm-{n:02d}")
                    gets.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    doc = client.get_json(base, params=[("limit", str(self.kube_rest.PAGE_LIMIT))])
                    lists.append(time.perf_counter() - started)
                    # kube-root-ca.crt and istiod's CA ConfigMaps live in every namespace: k and those.
                    if len([i for i in doc.get("items") or [] if i["metadata"]["name"].startswith("cm-")]) != k:
                        raise RuntimeError(f"the LIST of {namespace} does not hold the {k} objects")
                benchlib.note(f"k={k:2d}: {k} GETs {benchlib.stats(gets)['median'] * 1000:.1f} ms, "
                              f"one LIST {benchlib.stats(lists)['median'] * 1000:.1f} ms")
        finally:
            client.close()


def kubectl(*args: str) -> None:
    subprocess.run(["kubectl", *args], text=True, capture_output=True, check=True, timeout=120)


def main() -> int:
    work, why = plane_status()
    if work is None:
        for name, target, baseline in (CREATE, RERUN):
            benchlib.skip(name, target, baseline, why)
        return 0
    engine = Engine(work)
    os.environ.setdefault("KUBECONFIG", os.path.join(work, "kubeconfig"))
    n = benchlib.env_int("BENCH_APPLY_RUNS", 2 if benchlib.quick() else 3)
    print(f"bench 4: cluster_apply of {HOSTS * 3} objects, with and without LIST + pool, {n} round(s)", flush=True)
    created = {True: [], False: []}
    rerun = {True: [], False: []}
    namespaces = []
    try:
        for i in range(n):
            for levers in ((False, True) if i % 2 == 0 else (True, False)):
                ns = f"bench-apply-{uuid.uuid4().hex[:6]}"
                namespaces.append(ns)
                kubectl("create", "namespace", ns)
                objs = objects(ns)
                elapsed, result = engine.apply(objs, levers)
                if [o["action"] for o in result["objects"]] != ["created"] * len(objs):
                    raise RuntimeError("the first apply did not create every object")
                created[levers].append(elapsed)
                elapsed, result = engine.apply(objs, levers)
                if result["changed"]:
                    raise RuntimeError("the re-apply changed something")
                rerun[levers].append(elapsed)
                benchlib.note(f"round {i + 1}/{n} {'LIST+pool' if levers else 'baseline '}: create "
                              f"{created[levers][-1]:.2f}s, re-apply {rerun[levers][-1]:.2f}s, "
                              f"{result['requests']} requests on the re-apply")
                kubectl("delete", "namespace", ns, "--wait=false")
        lists = {}
        for k in (1, 2, 4, 8, 16):
            ns = f"bench-list-{k}-{uuid.uuid4().hex[:6]}"
            namespaces.append(ns)
            lists[k] = ns
            kubectl("create", "namespace", ns)
            for n in range(k):
                kubectl("create", "configmap", f"cm-{n:02d}", "-n", ns, "--from-literal=k=v")
        benchlib.note("k GETs vs one LIST of the same k ConfigMaps (kube_rest_apply.LIST_MIN):")
        engine.list_vs_get(lists)
    finally:
        for ns in namespaces:
            try:
                kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found")
            except (OSError, subprocess.SubprocessError):  # best effort: the benchmark's own namespaces
                pass
    for (name, target, baseline), data in ((CREATE, created), (RERUN, rerun)):
        st = benchlib.paired_ratio(data[True], data[False])
        benchlib.note(benchlib.fmt_stats(f"{name} with LIST+pool", benchlib.stats(data[True])))
        benchlib.note(benchlib.fmt_stats(f"{name} baseline", benchlib.stats(data[False])))
        benchlib.emit(name, st["median"], target, baseline, spread=st)
    return 0


if __name__ == "__main__":
    sys.exit(main())
