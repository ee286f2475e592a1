# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the collection's playbooks against the local plane and read what they say.

Shared by the fault tests (test_faults.py) and benchmark 3 (benchmarks/bench_site.py).

The variables that point the homelab inventory at the plane are written once, in
``molecule/controlplane/molecule.yml`` (provisioner.inventory.group_vars.all); ``plane_vars``
reads them from there, so a test, the benchmark and the Molecule scenario converge the same
way. Playbooks run in a fresh ``ansible-playbook`` with ``-i inventory/homelab`` and those
variables as extra vars; the PLAY RECAP and the ``fatal:`` messages are parsed.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import yaml

# The kubeconfig writer and the SYNTHETIC API doubles are shared with the unit tests (tests/unit/api_doubles.py).
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit"))
from api_doubles import SilentServer, write_kubeconfig  # noqa: F401  # pylint: disable=unused-import

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLANE_DIR = os.path.join(REPO_ROOT, "hack", "plane")
INVENTORY = os.path.join(REPO_ROOT, "inventory", "homelab")
SITE = os.path.join(REPO_ROOT, "playbooks", "site.yml")
CLEANUP = os.path.join(REPO_ROOT, "playbooks", "cleanup.yml")
SCENARIO = os.path.join(REPO_ROOT, "molecule", "controlplane", "molecule.yml")

RECAP_RE = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)", re.MULTILINE)
TASK_RE = re.compile(r"^TASK \[(?P<name>[^\]]*)\]", re.MULTILINE)


def plane_kubeconfig(plane, path, user, user_name="u"):
    """A kubeconfig at ``path`` for the plane's API server (its CA), context ``sa``, credential ``user``."""
    return write_kubeconfig(path, plane.apiserver, user, context="sa", cluster_name="plane", user_name=user_name,
                            cluster={"certificate-authority": os.path.join(plane.work, "pki", "ca.crt")})


def service_account_kubeconfig(plane, tmp_path, namespace, account, duration="1h"):
    """A plane kubeconfig (context ``sa``) holding a fresh token of the ServiceAccount ``namespace/account``."""
    token = plane.kubectl("create", "token", account, "-n", namespace, "--duration", duration).stdout.strip()
    return plane_kubeconfig(plane, tmp_path / ("%s.kubeconfig" % account), {"token": token}, user_name=account)


def gateway_chart():
    """The gateway chart of the plane (hack/plane/build.sh), as the scenario's variables name it."""
    charts = os.environ.get("HOMELAB_PLANE_CHARTS") or os.path.join(PLANE_DIR, "charts")
    return os.path.join(charts, "gateway")


class PlaybookError(Exception):
    """A playbook could not be run at all (not: it ran and failed)."""


def plane_vars(work=None, report_dir=None):
    """The scenario's plane variables, with the Molecule placeholders resolved.

    ``work`` is the plane's work dir (kubeconfig inside); ``report_dir`` replaces the
    scenario's ephemeral directory (egress_verify reports, evidence).
    """
    try:
        with open(SCENARIO) as handle:
            scenario = yaml.safe_load(handle)
        group_vars = scenario["provisioner"]["inventory"]["group_vars"]["all"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise PlaybookError(f"cannot read the plane variables from {SCENARIO}: {exc}")
    ephemeral = report_dir or tempfile.mkdtemp(prefix="plane-run-")
    text = json.dumps(group_vars)
    text = text.replace("${MOLECULE_PROJECT_DIRECTORY}", REPO_ROOT)
    text = text.replace("${MOLECULE_EPHEMERAL_DIRECTORY}", ephemeral)
    out = json.loads(text)
    if work:
        out["plane_work"] = work
        out["istio_egress_kubeconfig"] = os.path.join(work, "kubeconfig")
    # Molecule-only bookkeeping: not the collection's variables.
    for key in [k for k in out if k.startswith("scenario_") or k == "plane_started_marker"]:
        del out[key]
    return out


class PlaybookRun:
    """Outcome of one ansible-playbook run: rc, output, recap, changed tasks, fatal messages."""

    def __init__(self, argv, rc, stdout, stderr, seconds):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.recap = {m.group("host"): {k: int(m.group(k)) for k in ("ok", "changed", "unreachable", "failed")}
                      for m in RECAP_RE.finditer(stdout)}

    def total(self, key):
        return sum(host[key] for host in self.recap.values())

    @property
    def changed(self):
        return self.total("changed")

    @property
    def failed(self):
        return self.total("failed") + self.total("unreachable")

    @property
    def changed_tasks(self):
        """Names of the tasks whose section of the output reports a change."""
        names = []
        starts = list(TASK_RE.finditer(self.stdout))
        for i, match in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(self.stdout)
            if re.search(r"^changed: ", self.stdout[match.end():end], re.MULTILINE):
                names.append(match.group("name"))
        return names

    @property
    def fatal(self):
        """[(task name, msg)] of every `fatal:` line, in order."""
        out = []
        starts = list(TASK_RE.finditer(self.stdout))
        for line_match in re.finditer(r"^fatal: \[[^\]]+\]: FAILED! => (?P<json>\{.*\})$", self.stdout, re.MULTILINE):
            task = ""
            for start in starts:
                if start.start() < line_match.start():
                    task = start.group("name")
            try:
                msg = json.loads(line_match.group("json")).get("msg", "")
            except ValueError:
                msg = line_match.group("json")
            out.append((task, msg if isinstance(msg, str) else json.dumps(msg)))
        return out

    def summary(self, lines=25):
        tail = "\n".join(self.stdout.splitlines()[-lines:])
        return (f"rc={self.rc} in {self.seconds:.1f}s, recap {self.recap}, changed tasks {self.changed_tasks}, "
                f"fatal {self.fatal}\n--- tail ---\n{tail}\n{self.stderr[-1500:]}")


def ansible_playbook():
    """The ansible-playbook of the project venv (hack/env.sh), else the one on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if os.access(here, os.X_OK):
        return here
    found = shutil.which("ansible-playbook")
    if not found:
        raise PlaybookError("ansible-playbook not found: source hack/env.sh")
    return found


def collections_path():
    """A collections dir whose homelab.istio_egress is this checkout, private to it.

    hack/env.sh points one shared symlink (under $HOMELAB_CACHE) at the checkout that sourced it
    last, so another clone (a clean-clone CI run) can repoint it while a run is in progress.
    """
    key = hashlib.sha256(REPO_ROOT.encode()).hexdigest()[:12]
    base = os.path.join(tempfile.gettempdir(), f"homelab-istio-egress-collections-{os.getuid()}-{key}")
    link = os.path.join(base, "ansible_collections", "homelab", "istio_egress")
    if os.path.realpath(link) != os.path.realpath(REPO_ROOT):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        tmp = f"{link}.{os.getpid()}"
        os.symlink(REPO_ROOT, tmp)
        os.replace(tmp, link)
    return base


def run_playbook(playbook, extra_vars, tags=None, check=False, diff=False, timeout=600, on_line=None,
                 inventory=INVENTORY):
    """Run a playbook with the homelab inventory and ``extra_vars`` (a dict) as extra vars.

    ``on_line(line, proc)`` is called for every output line while it runs (for fault
    injection at a given task). Returns a PlaybookRun.
    """
    fd, vars_file = tempfile.mkstemp(prefix="plane-vars-", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        json.dump(extra_vars, handle)
    argv = [ansible_playbook(), "-i", inventory, "-e", "@" + vars_file]
    if tags:
        argv += ["--tags", ",".join(tags)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    argv.append(playbook)
    env = dict(os.environ)
    env.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_STDOUT_CALLBACK": "default",
                "ANSIBLE_RETRY_FILES_ENABLED": "0", "PYTHONUNBUFFERED": "1"})
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
        p for p in (collections_path(), env.get("ANSIBLE_COLLECTIONS_PATH", "")) if p)
    start = time.time()
    timed_out = []
    with tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, universal_newlines=True,
                                cwd=REPO_ROOT, env=env, start_new_session=True)

        def _expire():
            timed_out.append(True)
            _killpg(proc.pid)

        watchdog = threading.Timer(timeout, _expire)
        watchdog.start()
        lines = []
        try:
            for line in proc.stdout:
                lines.append(line)
                if on_line is not None:
                    on_line(line.rstrip("\n"), proc)
            proc.wait()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                _killpg(proc.pid)
                proc.wait()
            os.unlink(vars_file)
        err.seek(0)
        stderr = err.read()
    if timed_out:
        stderr += f"\nansible-playbook killed: it ran longer than {timeout}s"
    return PlaybookRun(argv, proc.returncode, "".join(lines), stderr, time.time() - start)


def _killpg(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def kill_component(work, name):
    """Kill one plane component by its pid file (its whole process group); return the pid."""
    with open(os.path.join(work, "run", f"{name}.pid")) as handle:
        pid = int(handle.read().strip())
    os.killpg(pid, signal.SIGKILL)
    for _attempt in range(100):
        try:
            os.kill(pid, 0)
        except OSError:
            return pid
        time.sleep(0.1)
    raise PlaybookError(f"{name} (pid {pid}) survived SIGKILL")


def plane_up(work, timeout=300, port_wait=90):
    """hack/plane/up for the plane in ``work``: starts only what is not running.

    A component killed with SIGKILL leaves its port in TIME-WAIT for up to 60 s; hack/plane/up's
    free-port check (a bind without SO_REUSEADDR) refuses such a port although the component
    itself could bind it, so the start is retried while that is the only complaint.
    """
    env = dict(os.environ)
    env["HOMELAB_PLANE_WORK"] = work
    deadline = time.time() + port_wait
    while True:
        proc = subprocess.run([os.path.join(PLANE_DIR, "up")], check=False, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)
        if proc.returncode == 0 or "is taken by another process" not in proc.stdout or time.time() > deadline:
            return proc
        time.sleep(5)


def plane_work():
    """The plane's work dir, as hack/plane/lib.sh computes it."""
    return os.environ.get("HOMELAB_PLANE_WORK") or os.path.join(PLANE_DIR, ".work")


def read_ports(path):
    """The plane's ports.env (NAME=port lines) as a dict."""
    ports = {}
    with open(path) as handle:
        for line in handle:
            key, sep, value = line.strip().partition("=")
            if sep:
                ports[key] = value
    return ports


def plane_status(work=None):
    """(work, None) when the plane's apiserver and istiod answer, else (None, why not)."""
    work = work or plane_work()
    ports_file = os.path.join(work, "ports.env")
    if not (os.path.isfile(ports_file) and os.path.isfile(os.path.join(work, "kubeconfig"))):
        return None, f"the local plane is not running (no {ports_file}): start it with hack/plane/up"
    ports = read_ports(ports_file)
    pki = os.path.join(work, "pki")
    try:
        ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
        ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
    except (OSError, ssl.SSLError) as exc:
        return None, f"the local plane's certificates in {pki} cannot be read ({exc}): start it with hack/plane/up"
    for name, url, context in (
            ("kube-apiserver", f"https://127.0.0.1:{ports.get('APISERVER_PORT')}/readyz", ctx),
            ("istiod", f"http://127.0.0.1:{ports.get('ISTIOD_HTTP_PORT')}/ready", None)):
        try:
            with urllib.request.urlopen(url, context=context, timeout=5) as resp:
                resp.read()
        except (OSError, ValueError) as exc:
            return None, f"the local plane is not running ({name} at {url}: {exc}): start it with hack/plane/up"
    return work, None


def xds_dump(plane, pod, proxy_type, out, timeout=60):
    """Ask istiod, over ADS, for the config it generates for this pod's proxy (hack/plane/istio/xdsdump).

    ``proxy_type`` is ``sidecar`` or ``router`` (a gateway). Writes the Envoy-shaped config dump to
    ``out`` and returns its text. The node identity and metadata are the pod's, as istio-agent sends
    them (docs/dev/plane.md "The xDS proof").
    """
    meta = pod["metadata"]
    labels = ",".join("%s=%s" % kv for kv in sorted((meta.get("labels") or {}).items()))
    cmd = [plane.binary("xdsdump"), "-xds-address", plane.xds_address, "-type", proxy_type,
           "-ip", pod["status"]["podIP"], "-pod", meta["name"], "-namespace", meta["namespace"],
           "-service-account", pod["spec"].get("serviceAccountName") or "default",
           "-istio-version", os.environ.get("HOMELAB_PLANE_ISTIO_VERSION", "1.30-9739e10e"),
           "-labels", labels, "-out", out]
    owners = meta.get("ownerReferences") or []
    if owners and owners[0]["kind"] == "ReplicaSet":
        deploy = owners[0]["name"].rsplit("-", 1)[0]
        cmd += ["-owner", "kubernetes://apis/apps/v1/namespaces/%s/deployments/%s" % (meta["namespace"], deploy)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise PlaybookError("xdsdump failed (rc=%s): %s" % (proc.returncode, proc.stderr.strip()))
    with open(out) as handle:
        return handle.read()
