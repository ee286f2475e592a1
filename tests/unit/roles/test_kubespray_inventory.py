# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A kubespray inventory is enough: the roles take the cluster's network facts
from it (issue "next to kubespray").

Each case runs ``ansible-playbook -i <kubespray sample inventory>`` (the real
samples of kubespray v2.26.0 and v2.29.1 in kubespray/, see PROVENANCE.md) with
a play that imports every role of site.yml without running its tasks
(``when: false``: the defaults and vars load as in site.yml, nothing contacts a
cluster), then renders what the roles would apply and check: the Calico
policy's CIDRs and DNS IP, whether the policy is on, the cluster domain in the
DestinationRule host and in the verify role's gateway name, and the calicoctl
host. Expressions the roles compute in their task files are read from those
files, not copied here.

The samples list their hosts commented out; each test copies the sample to a
temporary directory and edits only the copy, saying how (a control-plane host,
and for the non-default case another pod CIDR, cluster name and CNI).
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))
from ansible_env import ansible_env

SAMPLES = sorted(p.name for p in (HERE / "kubespray").iterdir() if (p / "inventory" / "sample").is_dir())
ROLES = ["egress_gateway", "test_client", "egress_routes", "registry_only", "calico_policy", "egress_verify"]


def _find(node, key):
    """The first value of ``key`` anywhere in a YAML tree."""
    if isinstance(node, dict):
        if key in node:
            return node[key]
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            found = _find(item, key)
            if found is not None:
                return found
    return None


def _expression(role, tasks_file, key):
    path = ROOT / "roles" / role / "tasks" / tasks_file
    value = _find(yaml.safe_load(path.read_text(encoding="utf-8")), key)
    assert value, "%s sets no %s" % (path, key)
    return " ".join(str(value).split())


def _inventory(tmp_path, version, edits=None, host_line="node1 ansible_host=192.0.2.11"):
    """A copy of kubespray's sample with one control-plane host (the sample's
    own first example host, uncommented) and the given k8s-cluster.yml edits."""
    dest = tmp_path / ("kubespray-" + version)
    shutil.copytree(str(HERE / "kubespray" / version / "inventory" / "sample"), str(dest))
    ini = dest / "inventory.ini"
    text = ini.read_text()
    # Edit: the sample's [kube_control_plane] section gets one host.
    text, count = re.subn(r"^\[kube_control_plane\]\n", "[kube_control_plane]\n%s\n" % host_line, text,
                          count=1, flags=re.MULTILINE)
    assert count == 1
    ini.write_text(text)
    if edits:
        cluster = dest / "group_vars" / "k8s_cluster" / "k8s-cluster.yml"
        body = cluster.read_text()
        for key, value in edits.items():
            body, count = re.subn(r"^%s: .*$" % key, "%s: %s" % (key, value), body, count=1, flags=re.MULTILINE)
            assert count == 1, key
        cluster.write_text(body)
    # As kubespray users run it: -i <inventory>/inventory.ini (its group_vars
    # next to it); the directory would also parse the sample's patches/ as
    # inventory.
    return ini


def _render(tmp_path, inventory, extra=None):
    play = [{
        "name": "What the roles render from this inventory",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": [{"ansible.builtin.import_role": {"name": "homelab.istio_egress." + r}, "when": False}
                  for r in ROLES] + [{
                      "name": "rendered",
                      "ansible.builtin.debug": {"msg": {
                          "pod_cidr": "{{ calico_policy_pod_cidr }}",
                          "nodelocaldns_ip": "{{ calico_policy_nodelocaldns_ip }}",
                          "calico_enabled": "{{ calico_policy_enabled | bool }}",
                          "calico_method": "{{ calico_policy_method }}",
                          "policy": "{{ lookup('ansible.builtin.template', '%s') | from_yaml }}"
                                    % (ROOT / "roles/calico_policy/templates/globalnetworkpolicy.yaml.j2"),
                          "routes": "{{ lookup('ansible.builtin.template', '%s') | from_yaml_all | list }}"
                                    % (ROOT / "roles/egress_routes/templates/routes.yaml.j2"),
                          "verify_gateway_fqdn": "{{ %s }}" % _expression(
                              "egress_verify", "preflight.yml", "_egress_verify_gateway_fqdn").strip("{} "),
                          "calicoctl_host": _expression("calico_policy", "preflight.yml", "_calicoctl_host"),
                      }},
                  }],
    }]
    # The verify role's expression is "{{ a }}.{{ b }}.svc.{{ c }}": keep it a template.
    fqdn = _expression("egress_verify", "preflight.yml", "_egress_verify_gateway_fqdn")
    play[0]["tasks"][-1]["ansible.builtin.debug"]["msg"]["verify_gateway_fqdn"] = fqdn
    playbook = tmp_path / "render.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    argv = [os.path.join(sys.prefix, "bin", "ansible-playbook"), "-i", str(inventory), str(playbook)]
    if extra:
        argv += ["-e", json.dumps(extra)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=ansible_env(), cwd=str(tmp_path), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    return next(t for t in tasks if t["task"]["name"] == "rendered")["hosts"]["localhost"]["msg"]


def _allowed_nets(policy):
    return [net for rule in policy["spec"]["egress"] if rule["action"] == "Allow"
            for net in rule.get("destination", {}).get("nets", [])]


def _dr_host(routes):
    (dr,) = [d for d in routes if d["kind"] == "DestinationRule"]
    return dr["spec"]["host"]


@pytest.mark.parametrize("version", SAMPLES)
def test_kubespray_sample_as_it_is(tmp_path, version):
    """The sample with only a control-plane host added: kubespray's defaults."""
    got = _render(tmp_path, _inventory(tmp_path, version))
    assert got["pod_cidr"] == "10.233.64.0/18"
    assert got["nodelocaldns_ip"] == "169.254.25.10"
    assert got["calico_enabled"] is True
    assert got["calico_method"] == "auto"
    nets = _allowed_nets(got["policy"])
    assert "169.254.25.10/32" in nets
    assert "10.233.64.0/18" in nets
    assert _dr_host(got["routes"]) == "istio-egressgateway.istio-system.svc.cluster.local"
    assert got["verify_gateway_fqdn"] == "istio-egressgateway.istio-system.svc.cluster.local"
    assert got["calicoctl_host"] == "node1"


@pytest.mark.parametrize("version", SAMPLES)
def test_non_default_cluster_reaches_every_role(tmp_path, version):
    """Edited copy: pod CIDR 10.42.0.0/16, cluster name homelab.internal,
    nodelocaldns at 169.254.20.10, calico API server on."""
    inventory = _inventory(tmp_path, version, {
        "kube_pods_subnet": "10.42.0.0/16",
        "cluster_name": "homelab.internal",
        "nodelocaldns_ip": "169.254.20.10",
    })
    calico = inventory.parent / "group_vars" / "k8s_cluster" / "k8s-net-calico.yml"
    body = calico.read_text()
    body, count = re.subn(r"^# calico_apiserver_enabled: false$", "calico_apiserver_enabled: true", body, flags=re.MULTILINE)
    assert count == 1
    calico.write_text(body)
    got = _render(tmp_path, inventory)
    assert got["pod_cidr"] == "10.42.0.0/16"
    nets = _allowed_nets(got["policy"])
    assert "10.42.0.0/16" in nets and "10.233.64.0/18" not in nets
    assert "169.254.20.10/32" in nets and "169.254.25.10/32" not in nets
    assert got["calico_method"] == "api"
    # cluster_name reaches dns_domain ("{{ cluster_name }}" in the sample) and every svc name.
    assert _dr_host(got["routes"]) == "istio-egressgateway.istio-system.svc.homelab.internal"
    assert got["verify_gateway_fqdn"] == "istio-egressgateway.istio-system.svc.homelab.internal"


@pytest.mark.parametrize("version", SAMPLES)
def test_no_nodelocaldns_and_another_cni(tmp_path, version):
    """Edited copy: enable_nodelocaldns false, kube_network_plugin cilium: no
    nodelocaldns rule, and no Calico policy at all."""
    got = _render(tmp_path, _inventory(tmp_path, version, {
        "enable_nodelocaldns": "false", "kube_network_plugin": "cilium"}))
    assert got["nodelocaldns_ip"] == ""
    assert not any(n.startswith("169.254.") for n in _allowed_nets(got["policy"]))
    assert got["calico_enabled"] is False


@pytest.mark.parametrize("version", SAMPLES[:1])
def test_collection_variables_override_the_inventory(tmp_path, version):
    inventory = _inventory(tmp_path, version, {"kube_pods_subnet": "10.42.0.0/16", "cluster_name": "homelab.internal"})
    got = _render(tmp_path, inventory, extra={
        "calico_policy_pod_cidr": "10.99.0.0/16", "egress_routes_cluster_domain": "override.local",
        "calico_policy_enabled": False, "calico_policy_nodelocaldns_ip": ""})
    assert got["pod_cidr"] == "10.99.0.0/16"
    assert _dr_host(got["routes"]) == "istio-egressgateway.istio-system.svc.override.local"
    assert got["verify_gateway_fqdn"] == "istio-egressgateway.istio-system.svc.override.local"
    assert got["calico_enabled"] is False and got["nodelocaldns_ip"] == ""


def test_no_kubespray_inventory_gives_kubesprays_defaults(tmp_path):
    """The homelab inventory of this collection (no kubespray variables)."""
    got = _render(tmp_path, ROOT / "inventory" / "homelab")
    assert got["pod_cidr"] == "10.233.64.0/18" and got["nodelocaldns_ip"] == "169.254.25.10"
    assert _dr_host(got["routes"]).endswith(".svc.cluster.local")


def test_the_samples_are_kubesprays_unmodified():
    """The copies are the shared fixtures byte for byte (when ../shared is there)."""
    shared = ROOT.parent / "shared" / "fixtures" / "kubespray"
    if not shared.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("%s is missing: CI=true needs it" % shared)
        pytest.skip("no ../shared/fixtures/kubespray next to the checkout")
    for version in SAMPLES:
        for path in (HERE / "kubespray" / version).rglob("*"):
            if path.is_file():
                assert path.read_bytes() == (shared / version / path.relative_to(HERE / "kubespray" / version)).read_bytes()


# --- the playbooks with a kubespray inventory as the only inventory ---------

@pytest.mark.parametrize("form", ["installed", "checkout"])
@pytest.mark.parametrize("playbook", ["site", "verify", "cleanup"])
def test_playbooks_load_with_only_a_kubespray_inventory(tmp_path, form, playbook):
    """`ansible-playbook -i <kubespray>/inventory.ini homelab.istio_egress.site`
    (and the checkout path): the play parses, its roles' argument specs load and
    every task is listed, with nothing but kubespray's inventory."""
    inventory = _inventory(tmp_path, SAMPLES[-1])
    target = "homelab.istio_egress." + playbook if form == "installed" else str(ROOT / "playbooks" / (playbook + ".yml"))
    argv = [os.path.join(sys.prefix, "bin", "ansible-playbook"), "-i", str(inventory), target, "--list-tasks"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                          env=ansible_env(ANSIBLE_STDOUT_CALLBACK="default"), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The admin.conf steps are one include (playbooks/tasks/kubeconfig_control_plane.yml, run for real by
    # the control_plane tests below): --list-tasks names the include, not what it includes.
    assert "Kubeconfig from the control plane" in proc.stdout
    if playbook == "site":
        assert "homelab.istio_egress.calico_policy" in proc.stdout


SYNTHETIC_ADMIN_CONF = """\
# SYNTHETIC: the shape kubeadm gives /etc/kubernetes/admin.conf (kubespray's
# control-plane nodes); no real credentials.
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: Q0EK
    server: https://127.0.0.1:6443
  name: cluster.local
contexts:
- context:
    cluster: cluster.local
    user: kubernetes-admin
  name: kubernetes-admin@cluster.local
current-context: kubernetes-admin@cluster.local
users:
- name: kubernetes-admin
  user:
    client-certificate-data: Q0VSVAo=
    client-key-data: S0VZCg==
"""


def _kubeconfig_play(tmp_path, extra):
    inventory = _inventory(tmp_path, SAMPLES[0], {"kube_apiserver_port": "6444"},
                           host_line="node1 ansible_host=192.0.2.11 ansible_connection=local")
    conf = tmp_path / "admin.conf"
    conf.write_text(SYNTHETIC_ADMIN_CONF)
    variables = {"istio_egress_admin_conf": str(conf), "istio_egress_admin_conf_become": False,
                 "istio_egress_kubeconfig_dir": str(tmp_path / "kube"),
                 "ansible_python_interpreter": sys.executable}
    variables.update(extra)
    argv = [os.path.join(sys.prefix, "bin", "ansible-playbook"), "-i", str(inventory),
            str(ROOT / "playbooks" / "kubeconfig.yml"), "-e", json.dumps(variables)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                          env=ansible_env(ANSIBLE_STDOUT_CALLBACK="default"), cwd=str(tmp_path))


def test_kubeconfig_from_the_first_control_plane_host(tmp_path):
    proc = _kubeconfig_play(tmp_path, {"istio_egress_kubeconfig_source": "control_plane"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    copy = tmp_path / "kube" / "homelab-istio-egress-node1.conf"
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    conf = yaml.safe_load(copy.read_text())
    # The server is the host's address on the inventory's kube_apiserver_port.
    assert conf["clusters"][0]["cluster"]["server"] == "https://192.0.2.11:6444"
    assert conf["users"] == yaml.safe_load(SYNTHETIC_ADMIN_CONF)["users"]
    assert "Q0VSVAo" not in proc.stdout  # no_log: the credentials stay out of the output


def test_kubeconfig_source_defaults_to_the_controller(tmp_path):
    proc = _kubeconfig_play(tmp_path, {})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (tmp_path / "kube").exists()
    # The common case costs one skipped task (issue 15), not one per step of the control-plane path.
    assert re.search(r"localhost\s+: ok=0\s+changed=0\s+unreachable=0\s+failed=0\s+skipped=1\s", proc.stdout), proc.stdout
