# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grow a real Envoy config dump into a large SYNTHETIC one (thousands of external services).

Source, first found wins:
1. an istiod-generated dump under tests/unit/plugins/module_utils/fixtures/generated/
   (real xDS for the collection's objects; the sleep sidecar's preferred);
2. BENCH_DUMP_SRC (a path);
3. the real full sidecar dump istio-1.1.1-productpage (shared fixtures).

For every added service the dump gets what istiod generates for one more TLS
ServiceEntry seen by a sidecar: a copy of a real `outbound|443||<host>` cluster
with the host renamed and, for listeners, either one more SNI filter chain on
the `0.0.0.0_443` listener (copied from a real chain that has server_names) or,
for dumps without one, one more VIP listener `<vip>_443` copied from a real one
(VIPs from 240.240.0.0/16, the range Istio auto-allocates for ServiceEntries).
Nothing else changes. A `<file>.README` next to the output says it is
synthetic, which source it was grown from and how.

    python3 benchmarks/gen_config_dump.py OUT.json --mb 100
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The shared captured fixtures, next to the checkout (../shared/fixtures), only
# if the repository's own copies (tests/unit/**) are missing; BENCH_FIXTURES
# overrides. Missing everywhere: the generator exits saying so (never skips).
FIXTURES = os.environ.get("BENCH_FIXTURES") or os.path.join(os.path.dirname(ROOT), "shared", "fixtures")
GENERATED = os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "fixtures", "generated")
FALLBACK = "istio-1.1.1-productpage-sidecar-full-config_dump.json"

CLUSTER_RE = re.compile(r"^outbound\|443\|[^|]*\|(?P<host>[^|]+)$")


def pick_source():
    generated = sorted(glob.glob(os.path.join(GENERATED, "**", "*.json"), recursive=True))

    # The client sidecar's dump with the egress route is what the module reads
    # in the hop-1 check; the gateway's or a broken variant only as fallbacks.
    def rank(path):
        name = os.path.basename(path)
        if "no-hop1" in name:
            return 3
        if "via-egress" in name:
            return 0
        return 1 if ("sleep" in name or "sidecar" in name) else 2
    generated.sort(key=lambda p: (rank(p), p))
    for path in generated:
        if _is_full_dump(path):
            return path, "istiod-generated"
    env_src = os.environ.get("BENCH_DUMP_SRC")
    if env_src:
        return env_src, "BENCH_DUMP_SRC"
    for base in (os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "fixtures", "config_dumps"),
                 os.path.join(FIXTURES, "config_dumps")):
        path = os.path.join(base, FALLBACK)
        if os.path.exists(path):
            return path, "real fixture"
    raise SystemExit("gen_config_dump: no source dump found (generated fixtures, BENCH_DUMP_SRC or "
                     f"{FALLBACK})")


def _is_full_dump(path):
    try:
        with open(path, encoding="utf-8") as handle:
            dump = json.load(handle)
    except (OSError, ValueError):
        return False
    kinds = {str(e.get("@type", "")).rsplit(".", 1)[-1] for e in dump.get("configs", []) if isinstance(e, dict)}
    return {"ClustersConfigDump", "ListenersConfigDump"} <= kinds


def _entry(dump, kind):
    for entry in dump.get("configs", []):
        if isinstance(entry, dict) and str(entry.get("@type", "")).endswith("." + kind):
            return entry
    raise SystemExit(f"gen_config_dump: the source has no {kind}")


def _listener_of(wrapper):
    if "active_state" in wrapper:
        return wrapper["active_state"].get("listener", {})
    return wrapper.get("listener", wrapper)


def _cluster_of(wrapper):
    return wrapper.get("cluster", wrapper)


def _server_names(chain):
    match = chain.get("filter_chain_match") or chain.get("filterChainMatch") or {}
    return match.get("server_names") or match.get("serverNames") or []


def find_templates(dump):
    clusters = _entry(dump, "ClustersConfigDump")
    listeners = _entry(dump, "ListenersConfigDump")
    c_key = "dynamic_active_clusters" if "dynamic_active_clusters" in clusters else "dynamicActiveClusters"
    l_key = next((k for k in ("dynamic_listeners", "dynamic_active_listeners", "dynamicListeners")
                  if k in listeners), None)
    if not clusters.get(c_key) or not l_key:
        raise SystemExit("gen_config_dump: the source has no dynamic clusters/listeners to copy")
    # Prefer an external host's cluster; the egress gateway's own one otherwise.
    cands = []
    for wrapper in clusters[c_key]:
        m = CLUSTER_RE.match(_cluster_of(wrapper).get("name", ""))
        if m:
            host = m.group("host")
            cands.append((host.endswith(".svc.cluster.local"), "egressgateway" in host, host, wrapper))
    if not cands:
        raise SystemExit("gen_config_dump: the source has no outbound|443 cluster to copy")
    cands.sort(key=lambda c: c[:3])
    c_host, c_tpl = cands[0][2], cands[0][3]

    chain_tpl = sni_listener = None
    vip_tpl = None
    for wrapper in listeners[l_key]:
        lst = _listener_of(wrapper)
        name = lst.get("name", "")
        if name.endswith("_443"):
            for chain in lst.get("filter_chains", []) or lst.get("filterChains", []):
                names = _server_names(chain)
                if len(names) == 1 and "*" not in names[0] and chain_tpl is None:
                    chain_tpl, sni_listener = chain, lst
            if vip_tpl is None and not name.startswith("0.0.0.0"):
                vip_tpl = wrapper
    # The hop-1 cluster a chain routes to (outbound|443|<subset>|<gateway>): one
    # per host in what the collection generates (a DestinationRule subset each).
    subset_tpl = subset_name = None
    if chain_tpl is not None:
        m = re.search(r"outbound\|\d+\|([^|\"]+)\|([^|\"]+)", json.dumps(chain_tpl))
        if m:
            wanted = m.group(0)
            for wrapper in clusters[c_key]:
                if _cluster_of(wrapper).get("name") == wanted:
                    subset_tpl, subset_name = wrapper, wanted
                    break
    return {
        "clusters": clusters[c_key], "cluster_tpl": c_tpl, "cluster_host": c_host,
        "listeners": listeners[l_key], "chain_tpl": chain_tpl, "sni_listener": sni_listener,
        "vip_tpl": vip_tpl, "subset_tpl": subset_tpl, "subset_name": subset_name,
    }


def grow(src, out_path, target_mb, host_fmt="svc-{i:05d}.ext{m:02d}.example.net"):
    with open(src, encoding="utf-8") as handle:
        raw = handle.read()
    dump = json.loads(raw)
    indent_match = re.match(r"\{\s*\n( +)\"", raw)
    indent = len(indent_match.group(1)) if indent_match else None
    t = find_templates(dump)
    c_text = json.dumps(t["cluster_tpl"])
    c_host = t["cluster_host"]
    mode = None
    if t["chain_tpl"] is not None:
        mode = "sni-chain"
        chain_text = json.dumps(t["chain_tpl"])
        subset_text = json.dumps(t["subset_tpl"]) if t["subset_tpl"] is not None else None
        subset_name = t["subset_name"]
        chain_host = _server_names(t["chain_tpl"])[0]
        chains = t["sni_listener"].setdefault("filter_chains", [])
    elif t["vip_tpl"] is not None:
        mode = "vip-listener"
        vip_text = json.dumps(t["vip_tpl"])
        vip_name = _listener_of(t["vip_tpl"]).get("name", "")
        vip_ip = vip_name.rsplit("_", 1)[0]
        vip_host = _vip_host(t["vip_tpl"])
    else:
        raise SystemExit("gen_config_dump: the source has neither an SNI filter chain nor a VIP _443 listener")

    base_size = len(raw)
    target = int(target_mb * 1024 * 1024)
    i = 0
    added_bytes = 0
    per_service = None
    while base_size + added_bytes < target:
        new_host = host_fmt.format(i=i, m=i % 97)
        c_new = c_text.replace(c_host, new_host)
        c_obj = json.loads(c_new)
        t["clusters"].append(c_obj)
        added = [c_obj]
        if mode == "sni-chain":
            ch_new = chain_text.replace(chain_host, new_host).replace(c_host, new_host)
            if subset_text is not None:
                new_subset = subset_name.replace("|" + subset_name.split("|")[2] + "|", f"|svc-{i:05d}|")
                ch_new = ch_new.replace(subset_name, new_subset)
                sc_obj = json.loads(subset_text.replace(subset_name, new_subset))
                t["clusters"].append(sc_obj)
                added.append(sc_obj)
            ch_obj = json.loads(ch_new)
            chains.insert(len(chains) - 1 if chains else 0, ch_obj)
            added.append(ch_obj)
        else:
            new_ip = f"240.240.{i // 250 % 256}.{1 + i % 250}"
            l_new = vip_text.replace(vip_name, f"{new_ip}_443").replace(f'"{vip_ip}"', f'"{new_ip}"')
            if vip_host:
                l_new = l_new.replace(vip_host, new_host)
            l_obj = json.loads(l_new)
            t["listeners"].append(l_obj)
            added.append(l_obj)
        if per_service is None:
            per_service = sum(_printed_size(o, indent) for o in added)
        added_bytes += per_service
        i += 1
    # istioctl proxy-config all refuses a dump without a SecretsConfigDump
    # section; istiod-generated dumps (an ADS client, no SDS) have none. An
    # empty one is what Envoy prints for a proxy without secrets.
    added_secrets = False
    kinds = {str(e.get("@type", "")).rsplit(".", 1)[-1] for e in dump.get("configs", []) if isinstance(e, dict)}
    if "SecretsConfigDump" not in kinds:
        dump["configs"].append({"@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"})
        added_secrets = True
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(dump, out, indent=indent)
        out.write("\n")
    size = os.path.getsize(out_path)
    notes = [
        f"SYNTHETIC Envoy config dump: {os.path.basename(out_path)} ({size / 1048576:.1f} MiB)",
        f"Grown by benchmarks/gen_config_dump.py from {os.path.relpath(src, ROOT)}",
        f"by adding {i} external services ({mode}): copies of the real cluster for {c_host}",
        "with the host renamed, plus one SNI filter chain (and its hop-1 subset cluster) or one",
        "VIP listener each, copied the same way.",
    ]
    if added_secrets:
        notes.append("An empty SecretsConfigDump section was added (the source has none; istioctl needs it).")
    notes.append("Not a real proxy's config; do not use as a parser fixture.")
    with open(out_path + ".README", "w", encoding="utf-8") as readme:
        readme.write("\n".join(notes) + "\n")
    return {"services": i, "mode": mode, "bytes": size, "source": src, "added_secrets": added_secrets}


def _vip_host(wrapper):
    text = json.dumps(wrapper)
    m = re.search(r"outbound\|443\|[^|]*\|([^\"|]+)\"", text)
    return m.group(1) if m else None


def _printed_size(obj, indent, depth=5):
    """Bytes one added object takes in the output, nested about `depth` levels deep."""
    text = json.dumps(obj, indent=indent)
    if indent is None:
        return len(text) + 2
    return len(text) + (text.count("\n") + 1) * indent * depth + 2


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--src", help="source dump (default: see module docstring)")
    args = parser.parse_args(argv)
    src = args.src or pick_source()[0]
    info = grow(src, args.out, args.mb)
    print(f"wrote {info['bytes'] / 1048576:.1f} MiB, {info['services']} services ({info['mode']}) "
          f"grown from {info['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
