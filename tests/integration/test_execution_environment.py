"""The execution environment definition: `make ee` (ansible-builder create) on a copy of the checkout.

No container engine is needed, and no image is pulled: the test checks the build context
ansible-builder writes (Containerfile and _build/), then runs the Containerfile's introspection
step itself, on the host, against the collections the image's galaxy stage would hold (ours from
the tarball, the dependencies from the PyPI ``ansible`` package), and evaluates the combined bindep
file for the base image's platform as the image's assemble step would.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import tarfile
from types import SimpleNamespace

import pytest
from bindep.depends import Depends

from checkout_support import TOP
from checkout_support import check
from checkout_support import clean_env
from checkout_support import copy_checkout
from checkout_support import galaxy_meta
from checkout_support import load_yaml
from checkout_support import requirement_lines
from checkout_support import run
from checkout_support import site_collections
from checkout_support import tool

# What bindep sees on the base image (quay.io/centos/centos:stream9).
CENTOS_STREAM_9 = ["platform:rpm", "platform:dnf", "platform:redhat", "platform:centos", "platform:centos-9"]


@pytest.fixture(scope="module")
def ee(tmp_path_factory):
    """`make ee` run in a copy of the checkout (its setup prerequisite skipped: the tools are on PATH)."""
    tmp = tmp_path_factory.mktemp("ee")
    root = copy_checkout(tmp / "src")
    env = clean_env(tmp / "config")
    proc = check(run(["make", "-o", "setup", "ee"], root, env))
    context = os.path.join(root, "build", "ee", "context")
    with open(os.path.join(context, "Containerfile")) as handle:
        containerfile = handle.read()
    return SimpleNamespace(tmp=tmp, root=root, env=env, output=proc.output, context=context, build=os.path.join(context, "_build"),
                           containerfile=containerfile, lines=containerfile.splitlines())


def pinned(requirement):
    """The version requirements-dev.txt pins ``requirement`` to."""
    for line in requirement_lines(os.path.join(TOP, "requirements-dev.txt")):
        name, _sep, version = line.partition("==")
        if name == requirement:
            return version
    raise AssertionError("%s is not pinned in requirements-dev.txt" % requirement)


def stage(lines, name):
    """The lines of the Containerfile stage ``FROM ... AS name``."""
    start = next(i for i, line in enumerate(lines) if re.fullmatch(r"FROM \S+ AS %s" % name, line))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("FROM ")), len(lines))
    return lines[start:end]


def test_base_image_python_and_ansible(ee):
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in ee.lines
    assert 'ARG PYCMD="/usr/bin/python3.12"' in ee.lines
    refs = next(line for line in ee.lines if line.startswith("ARG ANSIBLE_INSTALL_REFS=")).split("=", 1)[1].strip('"').split()
    assert "ansible-core==%s" % pinned("ansible-core") in refs, refs
    # EPEL (debootstrap) and Docker's repository (docker CLI) before anything is installed.
    base = stage(ee.lines, "base")
    assert any("epel-release" in line for line in base) and any("docker-ce.repo" in line for line in base)


def test_context_carries_the_collection_tarball(ee):
    meta = galaxy_meta()
    name = "autostack-wordpress-%s.tar.gz" % meta["version"]
    assert os.listdir(os.path.join(ee.build, "collection")) == [name]
    with tarfile.open(os.path.join(ee.build, "collection", name)) as tar:
        info = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("autostack", "wordpress", meta["version"])
    # The galaxy stage installs the dependencies (requirements.yml), then this tarball, offline.
    galaxy = stage(ee.lines, "galaxy")
    deps = next(i for i, line in enumerate(galaxy) if "ansible-galaxy collection install" in line and "-r requirements.yml" in line)
    ours = next(i for i, line in enumerate(galaxy) if "/build/collection/autostack-wordpress-*.tar.gz" in line)
    assert deps < ours
    assert "ansible-galaxy collection install --offline --collections-path /usr/share/ansible/collections" in galaxy[ours]
    assert load_yaml(os.path.join(ee.build, "requirements.yml")) == load_yaml(os.path.join(TOP, "requirements.yml"))


def test_context_carries_python_and_system_requirements(ee):
    for name in ("requirements.txt", "bindep.txt"):
        wanted = requirement_lines(os.path.join(TOP, name))
        assert wanted, "%s has no requirement" % name
        assert requirement_lines(os.path.join(ee.build, name)) == wanted
    with open(os.path.join(ee.build, "exclude-collections.txt")) as handle:
        assert handle.read().split() == ["autostack.wordpress"]
    assert "boto3>=1.35.0" in requirement_lines(os.path.join(ee.build, "requirements.txt"))
    assert "debootstrap [platform:rpm epel]" in requirement_lines(os.path.join(ee.build, "bindep.txt"))


def galaxy_stage_collections(ee):
    """A collections path like the image's after its galaxy stage: ours installed from the context's
    tarball, and links to the dependencies (transitively) from the ``ansible`` package."""
    path = ee.tmp / "collections"
    site = os.path.join(site_collections(), "ansible_collections")
    todo = [entry["name"] for entry in load_yaml(os.path.join(ee.build, "requirements.yml"))["collections"]]
    while todo:
        namespace, name = todo.pop().split(".")
        link = path / "ansible_collections" / namespace / name
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.join(site, namespace, name))
            with open(os.path.join(site, namespace, name, "MANIFEST.json")) as handle:
                todo.extend(json.load(handle)["collection_info"]["dependencies"])
    tarball = os.path.join(ee.build, "collection", os.listdir(os.path.join(ee.build, "collection"))[0])
    env = dict(ee.env, ANSIBLE_COLLECTIONS_PATH=str(path))
    check(run([tool("ansible-galaxy"), "collection", "install", "--offline", "--collections-path", str(path), tarball], ee.tmp, env))
    return path


def test_introspection_combines_ours_with_the_dependencies(ee):
    collections = galaxy_stage_collections(ee)
    step = next(line for line in stage(ee.lines, "builder") if "introspect.py introspect" in line)
    argv = shlex.split(step[len("RUN "):])
    assert argv[:2] == ["$PYCMD", "/output/scripts/introspect.py"], argv
    pip_out, bindep_out = str(ee.tmp / "pip.txt"), str(ee.tmp / "bindep.txt")
    argv = [sys.executable, os.path.join(ee.build, "scripts", "introspect.py")] + [
        "--write-pip=" + pip_out if arg.startswith("--write-pip=") else "--write-bindep=" + bindep_out if arg.startswith("--write-bindep=") else arg
        for arg in argv[2:]
    ] + [str(collections)]
    check(run(argv, ee.build, ee.env))  # WORKDIR /build holds _build's files
    pip = requirement_lines(pip_out)
    names = {re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower() for line in pip}
    # Ours (from the user files), and what community.docker's and amazon.aws's own files add.
    assert {"boto3", "botocore", "requests", "docker"} <= names, pip
    for path in (pip_out, bindep_out):
        with open(path) as handle:
            combined = handle.read()
        # Our files once, as the user's; not again from the installed collection (excluded).
        assert "# from collection user" in combined and "autostack.wordpress" not in combined, combined
    with open(bindep_out) as handle:
        bindep = Depends(handle.read())
    run_packages = {rule[0] for rule in bindep.active_rules(CENTOS_STREAM_9 + ["default"])}
    epel_packages = {rule[0] for rule in bindep.active_rules(CENTOS_STREAM_9 + ["epel"])} - run_packages
    # What install-from-bindep asks dnf for: from the base repositories, then with EPEL enabled.
    assert {"docker-ce-cli", "git-core", "tar", "findutils"} <= run_packages, run_packages
    assert "debootstrap" in epel_packages, epel_packages
    assert not {"docker.io", "git"} & (run_packages | epel_packages)
