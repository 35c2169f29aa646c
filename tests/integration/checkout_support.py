"""What the release tests share: a copy of the checkout, the tool chain, the collection build.

The release tests (test_collection_build.py, test_execution_environment.py,
test_changelog_release.py) work on a copy of the files git would commit (tracked, plus untracked
files that .gitignore does not ignore), laid out as ``<dest>/ansible_collections/autostack/wordpress``,
so that local state (.venv, .localcloud, outputs, build/) never leaks into what they check and the
checkout itself is never written to.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
NAMESPACE = "autostack"
NAME = "wordpress"


def tool(name):
    """A tool of the virtualenv the tests run in (ansible-galaxy, ansible-builder, ...)."""
    path = os.path.join(BIN, name)
    if not os.path.exists(path):
        raise RuntimeError("%s is not installed in %s; run make setup (requirements-dev.txt)" % (name, BIN))
    return path


def checkout_files(top=TOP):
    """Paths, relative to ``top``, of the files git would commit, sorted."""
    out = subprocess.run(
        ["git", "-C", top, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    # A tracked file deleted in the work tree is not part of what would be committed.
    return sorted(path for path in set(out.split("\0")) if path and os.path.lexists(os.path.join(top, path)))


def copy_checkout(dest, top=TOP):
    """Copy the checkout's files to ``dest/ansible_collections/autostack/wordpress``; return that path."""
    root = os.path.join(str(dest), "ansible_collections", NAMESPACE, NAME)
    for path in checkout_files(top):
        target = os.path.join(root, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(top, path), target, follow_symlinks=False)
    return root


def tree_digest(top, paths):
    """One SHA-256 over the names and contents of the files at or under ``paths`` (relative to ``top``)."""
    digest = hashlib.sha256()
    for rel in paths:
        base = os.path.join(top, rel)
        if os.path.isdir(base):
            files = [os.path.join(dirpath, name) for dirpath, _dirs, names in os.walk(base) for name in names]
        elif os.path.lexists(base):
            files = [base]
        else:
            files = []
            digest.update(b"absent\0" + rel.encode() + b"\0")
        for path in sorted(files):
            digest.update(os.path.relpath(path, top).encode() + b"\0")
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def load_yaml(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def galaxy_meta(root=TOP):
    """The collection's galaxy.yml."""
    return load_yaml(os.path.join(root, "galaxy.yml"))


def requirement_lines(path):
    """The non-comment, non-blank lines of a requirements.txt or bindep.txt, stripped."""
    with open(path) as handle:
        return [line.split(" #", 1)[0].strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]


def clean_env(config_dir, **extra):
    """Environment for ansible-* commands that sees nothing of the checkout.

    No ANSIBLE_* variable of the caller (the Makefile exports ANSIBLE_CONFIG=<checkout>/ansible.cfg,
    whose collections_path is the checkout), an empty ansible.cfg in ``config_dir``, the
    virtualenv first on PATH; ``extra`` adds variables.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    config = os.path.join(str(config_dir), "ansible.cfg")
    if not os.path.exists(config):
        os.makedirs(str(config_dir), exist_ok=True)
        with open(config, "w") as handle:
            handle.write("[defaults]\n")
    env.update(
        ANSIBLE_CONFIG=config,
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
        PY_COLORS="0",
    )
    env.update(extra)
    return env


def run(argv, cwd, env, timeout=300):
    """Run a command, output captured; ``.output`` is stdout and stderr together."""
    proc = subprocess.run(argv, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=timeout, check=False)
    proc.output = proc.stdout + proc.stderr
    return proc


def check(proc):
    """``proc`` when it succeeded; otherwise fail the test with its command and output."""
    assert proc.returncode == 0, "%s exited %d:\n%s" % (" ".join(proc.args), proc.returncode, proc.output[-20000:])
    return proc


def build_collection(root, output_dir, env):
    """``ansible-galaxy collection build`` of the collection at ``root``; the tarball's path."""
    meta = galaxy_meta(root)
    check(run([tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(output_dir)], root, env))
    tarball = os.path.join(str(output_dir), "%s-%s-%s.tar.gz" % (meta["namespace"], meta["name"], meta["version"]))
    assert os.path.isfile(tarball), "no %s after the build; %s holds %s" % (tarball, output_dir, os.listdir(str(output_dir)))
    return tarball


def tarball_members(tarball):
    """Names of the files and directories in a collection tarball."""
    with tarfile.open(tarball) as tar:
        return sorted(member.name.rstrip("/") for member in tar.getmembers())


def site_collections():
    """The directory whose ansible_collections holds the PyPI ``ansible`` package's collections."""
    import ansible_collections

    for path in ansible_collections.__path__:
        if os.path.isdir(os.path.join(path, "amazon", "aws")):
            return os.path.dirname(path)
    raise RuntimeError("amazon.aws is not installed in this Python (pip install -r requirements-dev.txt)")
