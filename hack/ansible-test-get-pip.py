# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local stand-in for ansible-test's pip bootstrap script.

ansible-test downloads a get-pip script from a host outside the package
registries this project may use. This script does the same job from the
registries: bootstrap pip with the standard library's ensurepip, then let that
pip install the exact pip version ansible-test asked for (from PyPI).
ansible-test runs it with arguments like `--disable-pip-version-check
pip==24.2 --no-setuptools --no-wheel`.
"""

import ensurepip
import os
import ssl
import subprocess
import sys

# ansible-test runs this with a filtered environment (no PIP_CERT): give the
# new venv a pip.conf naming the system CA bundle, which also serves the pip
# installs ansible-test makes in this venv afterwards.
paths = ssl.get_default_verify_paths()
for cafile in ("/etc/ssl/certs/ca-certificates.crt", paths.cafile, paths.openssl_cafile):
    if cafile and os.path.exists(cafile):
        with open(os.path.join(sys.prefix, "pip.conf"), "w") as conf:
            conf.write("[global]\ncert = %s\n" % cafile)
        break

ensurepip.bootstrap(upgrade=True)
# ensurepip sets PIP_CONFIG_FILE=/dev/null in os.environ; undo that for the
# real install so the pip.conf above (and the system's) apply.
env = {k: v for k, v in os.environ.items() if k != "PIP_CONFIG_FILE"}
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + args, env=env)
