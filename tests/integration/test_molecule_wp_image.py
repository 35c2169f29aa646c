"""The molecule scenario wp_image: the built image running against the localdb MariaDB.

No cloud is involved (the image is not pushed), so no emulator: only the Docker engine.
After the run, nothing of the scenario may be left on the engine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOLECULE = os.path.join(os.path.dirname(sys.executable), "molecule")
# Names fixed by molecule/wp_image (host_vars/localhost.yml, molecule.yml).
STACK = "molecule-img"
REPOSITORY = "molecule/wordpress"


def _docker_available():
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _docker_names(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60, check=True).stdout.split()


def _leftovers():
    found = [("container", n) for n in _docker_names("ps", "-a", "--format", "{{.Names}}") if n.startswith(STACK + "-")]
    found += [("volume", n) for n in _docker_names("volume", "ls", "--format", "{{.Name}}") if n.startswith(STACK + "-")]
    found += [("network", n) for n in _docker_names("network", "ls", "--format", "{{.Name}}") if n.startswith(STACK + "-")]
    for repository in (REPOSITORY, REPOSITORY + "-failed"):
        found += [("image", ref) for ref in _docker_names("image", "ls", repository, "--format", "{{.Repository}}:{{.Tag}}")]
    return found


@pytest.mark.skipif(not _docker_available(), reason="needs a running Docker engine")
def test_molecule_wp_image():
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(TOP, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", PY_COLORS="0")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        [MOLECULE, "test", "-s", "wp_image"],
        cwd=TOP,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-20000:]
    # The verifier ran and its tests passed (molecule skips a verifier that finds no tests).
    summary = re.search(r"^=+ (.*) in [0-9.]+s\b", output, re.M)
    assert summary and re.fullmatch(r"\d+ passed", summary.group(1)), output[-20000:]
    assert not _leftovers(), "left behind by the scenario's destroy: %s" % _leftovers()
