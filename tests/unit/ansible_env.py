# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment in which the unit tests run ``ansible``/``ansible-playbook``.

The same from a checkout (hack/env.sh sourced or not) and from the installed
collection (ansible_collections/homelab/istio_egress/tests/unit, where hack/
is not shipped): the Ansible of the Python running pytest, this tree visible as
homelab.istio_egress, and the test-only JSON callback (callback_plugins/), so
that no collection beyond requirements.yml is needed.
"""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CALLBACKS = os.path.join(HERE, "callback_plugins")

# The settings the module tests always used: one JSON document on stdout, no
# noise that is not the module's.
JSON_SETTINGS = {
    "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
    "ANSIBLE_STDOUT_CALLBACK": "unit_json",
    "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS,
    "ANSIBLE_LOCALHOST_WARNING": "0",
    "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    "ANSIBLE_DEPRECATION_WARNINGS": "0",
    "ANSIBLE_NOCOLOR": "1",
    "ANSIBLE_FORCE_COLOR": "0",
}

_LINKS = []


def collections_path():
    """A collections path under which this tree is homelab.istio_egress.

    If the tree already sits at <dir>/ansible_collections/homelab/istio_egress
    (an installed collection, ansible-test's copy), <dir> is it; otherwise a
    private symlink farm, made once per test process (never the shared one of
    hack/env.sh, which another checkout may point elsewhere).
    """
    parts = ROOT.split(os.sep)
    if parts[-3:-2] == ["ansible_collections"] and parts[-2:] == ["homelab", "istio_egress"]:
        return os.sep.join(parts[:-3])
    if not _LINKS:
        farm = tempfile.mkdtemp(prefix="homelab-istio-egress-unit-")
        os.makedirs(os.path.join(farm, "ansible_collections", "homelab"))
        os.symlink(ROOT, os.path.join(farm, "ansible_collections", "homelab", "istio_egress"))
        _LINKS.append(farm)
    return _LINKS[0]


def ansible_env(base=None, **extra):
    """os.environ (or ``base``) with the settings above, the venv of this
    Python first on PATH and this tree on the collections path."""
    env = dict(os.environ if base is None else base)
    env.update(JSON_SETTINGS)
    env["PATH"] = os.path.join(sys.prefix, "bin") + os.pathsep + env.get("PATH", "")
    # This tree first, then what the user already has (ansible-galaxy installs
    # requirements.yml into ~/.ansible/collections by default).
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
        [collections_path(), env.get("ANSIBLE_COLLECTIONS_PATH") or "~/.ansible/collections:/usr/share/ansible/collections"])
    env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8")
    env.update(extra)
    return env


# ansible-core 2.19 fills "exception" with this placeholder when a module fails
# with fail_json() while handling an exception and tracebacks are not collected
# (ANSIBLE_DISPLAY_TRACEBACK unset): no traceback exists, and the default
# callback shows the user only "msg". Any other value is a real traceback.
NO_TRACEBACK = "(traceback unavailable)"


def traceback_keys(result):
    """The keys of a task result that carry a Python traceback or raw module
    output (a crash), ignoring 2.19's placeholder above."""
    return [key for key in ("exception", "module_stderr", "module_stdout")
            if key in result and not (key == "exception" and result[key] == NO_TRACEBACK)]
