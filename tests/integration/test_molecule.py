"""Molecule scenarios, each against a private local-cloud emulator."""

import os
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOLECULE = os.path.join(os.path.dirname(sys.executable), "molecule")


@pytest.mark.parametrize("scenario", ["infrastructure"])
def test_molecule_scenario(emulator, scenario):
    emulator.reset()
    env = dict(emulator.env, ANSIBLE_CONFIG=os.path.join(TOP, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", PY_COLORS="0")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        [MOLECULE, "test", "-s", scenario],
        cwd=TOP,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-20000:]
