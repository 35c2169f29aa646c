"""The collection as users get it: the tarball `ansible-galaxy collection build` makes, installed and run.

The tarball is built from a copy of the checkout's files (checkout_support.copy_checkout) into
which the local state a real checkout accumulates is planted first (.venv, .localcloud, run
outputs, build and test output, the collections/ link, caches, an old tarball), so that the
build_ignore list of galaxy.yml is what keeps it out. The tarball is then installed, with
dependencies resolved offline against the PyPI ``ansible`` package's collections, into a
temporary path; everything after that runs with ANSIBLE_COLLECTIONS_PATH naming only that path
and those collections, from a directory outside the checkout, with an empty ansible.cfg.
No AWS call is made: the role stops in its validation, the plugins work offline.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tarfile
from types import SimpleNamespace

import pytest

from checkout_support import TOP
from checkout_support import build_collection
from checkout_support import check
from checkout_support import checkout_files
from checkout_support import clean_env
from checkout_support import copy_checkout
from checkout_support import galaxy_meta
from checkout_support import load_yaml
from checkout_support import run
from checkout_support import site_collections
from checkout_support import tarball_members
from checkout_support import tool

PLAYBOOKS = os.path.join(TOP, "tests", "integration", "playbooks")
ROLES = sorted(name for name in os.listdir(os.path.join(TOP, "roles")) if os.path.isdir(os.path.join(TOP, "roles", name)))

# What a checkout holds besides its files, planted in the copy before the build (path: content).
PLANTED = {
    ".venv/bin/python": "",
    ".localcloud/moto.log": "",
    "outputs/wordpress.json": "{}",
    "tests/output/junit/sanity.xml": "",
    "build/sanity/ansible_collections/autostack/wordpress/galaxy.yml": "",
    ".pytest_cache/v/cache/lastfailed": "{}",
    ".cache/pip/selfcheck.json": "{}",
    "plugins/modules/__pycache__/stack_outputs.cpython-313.pyc": "",
    "autostack-wordpress-0.0.1.tar.gz": "",
}

# Paths (and everything under them) that must not reach the tarball.
DEVELOPMENT = [
    ".venv", ".localcloud", ".cache", ".pytest_cache", ".ci", ".gitignore", ".yamllint", ".ansible-lint",
    "outputs", "build", "collections", "tools", "bench", "molecule",
    "tests/output", "tests/integration", "tests/localcloud", "tests/conftest.py",
    "Makefile", "ansible.cfg", "requirements-dev.txt", "docs/developing.md", "execution-environment.yml",
    # Checks of the checkout's documentation (they import tools/role_docs.py and read docs/developing.md).
    "tests/unit/test_docs.py", "tests/unit/test_role_docs.py",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The collection built from a copy of the checkout (with local state planted in it)."""
    tmp = tmp_path_factory.mktemp("collection-build")
    root = copy_checkout(tmp / "src")
    for path, content in PLANTED.items():
        os.makedirs(os.path.dirname(os.path.join(root, path)) or root, exist_ok=True)
        with open(os.path.join(root, path), "w") as handle:
            handle.write(content)
    # The link `make setup` makes: the checkout as its own collection (a loop back to the root).
    os.makedirs(os.path.join(root, "collections", "ansible_collections", "autostack"))
    os.symlink("../../..", os.path.join(root, "collections", "ansible_collections", "autostack", "wordpress"))
    env = clean_env(tmp / "config")
    tarball = build_collection(root, tmp / "dist", env)
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
        files = json.load(tar.extractfile("FILES.json"))
    return SimpleNamespace(tmp=tmp, root=root, tarball=tarball, members=tarball_members(tarball), manifest=manifest, files=files)


@pytest.fixture(scope="module")
def installed(built):
    """The tarball installed into a path of its own; ``env`` sees only it and the ``ansible`` package's collections."""
    path = built.tmp / "installed"
    workdir = built.tmp / "work"
    workdir.mkdir()
    for name in ("installed_vpc.yml", "installed_plugins.yml"):
        shutil.copy(os.path.join(PLAYBOOKS, name), str(workdir / name))
    env = clean_env(
        built.tmp / "config",
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(path), site_collections()]),
        # Nothing here may reach AWS; should a task try, it meets a closed port on loopback.
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
    )
    # --offline: the dependencies must be satisfied by what is installed (the ansible package's collections).
    proc = check(run([tool("ansible-galaxy"), "collection", "install", "--offline", "-p", str(path), built.tarball], workdir, env))
    assert "autostack.wordpress:%s was installed successfully" % built.manifest["collection_info"]["version"] in proc.output
    return SimpleNamespace(path=str(path), collection=str(path / "ansible_collections" / "autostack" / "wordpress"), workdir=workdir, env=env)


def under(path, *prefixes):
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


def test_tarball_holds_the_collection(built):
    members = set(built.members)
    for required in ("MANIFEST.json", "FILES.json", "README.md", "COPYING", "meta/runtime.yml",
                     "requirements.txt", "bindep.txt", "requirements.yml", "plugins/modules/stack_outputs.py"):
        assert required in members, "%s is not in the tarball" % required
    for role in ROLES:
        assert "roles/%s/tasks/main.yml" % role in members, "role %s is not in the tarball" % role
    # Every checkout file of the collection's content made it, unchanged in name.
    content = [path for path in checkout_files()
               if under(path, "plugins", "roles", "meta", "playbooks", "changelogs", "tests/unit") and not under(path, *DEVELOPMENT)]
    missing = sorted(set(content) - members)
    assert not missing, "checkout files missing from the tarball: %s" % missing
    with tarfile.open(built.tarball) as tar:
        licence = tar.extractfile("COPYING").read().decode()
    assert "GNU GENERAL PUBLIC LICENSE" in licence and "Version 3, 29 June 2007" in licence


def test_tarball_leaves_out_development_files(built):
    leaked = [path for path in built.members if under(path, *DEVELOPMENT) or "__pycache__" in path.split("/") or path.endswith((".pyc", ".tar.gz"))]
    assert not leaked, "development files in the tarball: %s" % leaked
    # The planted files were there to be left out (the build really saw them).
    assert os.path.exists(os.path.join(built.root, "outputs", "wordpress.json"))


def test_manifest_matches_galaxy_yml(built):
    meta = galaxy_meta()
    info = built.manifest["collection_info"]
    for key in ("namespace", "name", "version", "readme", "authors", "description", "tags", "dependencies", "repository", "issues"):
        assert info[key] == meta[key], "MANIFEST.json %s=%r, galaxy.yml says %r" % (key, info[key], meta[key])
    assert info["license"] == ["GPL-3.0-or-later"]
    listed = {entry["name"] for entry in built.files["files"] if entry["name"] != "."}
    assert listed == set(built.members) - {"MANIFEST.json", "FILES.json"}


def test_galaxy_dependencies_match_requirements_yml():
    wanted = {entry["name"]: entry["version"] for entry in load_yaml(os.path.join(TOP, "requirements.yml"))["collections"]}
    assert galaxy_meta()["dependencies"] == wanted


def test_installed_copy_is_the_only_one_found(installed):
    proc = check(run([tool("ansible-galaxy"), "collection", "list", "autostack.wordpress", "--format", "json"], installed.workdir, installed.env))
    found = json.loads(proc.stdout)
    assert list(found) == [os.path.join(installed.path, "ansible_collections")], found


def test_ansible_doc_reads_the_installed_module(installed):
    proc = check(run([tool("ansible-doc"), "--json", "autostack.wordpress.stack_outputs"], installed.workdir, installed.env))
    doc = json.loads(proc.stdout)["autostack.wordpress.stack_outputs"]["doc"]
    assert doc["filename"] == os.path.join(installed.collection, "plugins", "modules", "stack_outputs.py")
    assert {"directory", "stack", "values", "remove", "state"} <= set(doc["options"])
    proc = check(run([tool("ansible-doc"), "-t", "role", "--json", "autostack.wordpress.vpc"], installed.workdir, installed.env))
    role = json.loads(proc.stdout)["autostack.wordpress.vpc"]
    assert role["path"] == installed.collection
    assert {"main", "discover"} <= set(role["entry_points"])
    assert "vpc_cidr" in role["entry_points"]["main"]["options"]


@pytest.mark.parametrize(
    "bad, expected",
    [
        # The argument spec (meta/argument_specs.yml), before any task.
        ("vpc_nat_mode=bogus", ["vpc_nat_mode must be one of: single, per_az, got: bogus"]),
        # validate.yml's assert.
        ("autostack_az_count=7", ["autostack_az_count must be an integer from 2 to 6", "autostack_az_count=7"]),
        # validate.yml through the installed subnet_plan filter.
        ("vpc_cidr=10.0.0.0/28", ["autostack.wordpress.subnet_plan", "10.0.0.0/28 is too small for 2 AZs"]),
    ],
    ids=["argument-spec", "validate", "filter"],
)
def test_installed_role_stops_in_validation(installed, tmp_path, bad, expected):
    env = dict(installed.env, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = run(
        [tool("ansible-playbook"), "-i", "localhost,", "-c", "local", "installed_vpc.yml",
         "-e", "autostack_outputs_dir=%s" % tmp_path, "-e", bad],
        installed.workdir,
        env,
    )
    assert proc.returncode == 2, proc.output[-20000:]
    results = [task["hosts"]["localhost"] for play in json.loads(proc.stdout)["plays"] for task in play["tasks"]]
    failed = [result for result in results if result.get("failed")]
    # A rescued failure (the vpc_cidr check names the variables in its rescue) is followed by the one that stops the run.
    assert len(failed) == 1 + json.loads(proc.stdout)["stats"]["localhost"].get("rescued", 0), proc.stdout[-20000:]
    message = failed[-1]["msg"]
    for text in expected:
        assert text in message, "%r not in %r" % (text, message)
    # No task that talks to AWS ran; the role came from the installed copy.
    assert not any(result.get("action", "").startswith("amazon.aws") for result in results)
    contexts = [result["validate_args_context"] for result in results if "validate_args_context" in result]
    assert [context["path"] for context in contexts] == [os.path.join(installed.collection, "roles", "vpc")]
    assert not os.listdir(str(tmp_path)), "the role wrote outputs before failing"


def test_installed_plugins_write_stack_outputs(installed, tmp_path):
    argv = [tool("ansible-playbook"), "-i", "localhost,", "-c", "local", "installed_plugins.yml", "-e", "autostack_outputs_dir=%s" % tmp_path]
    first = check(run(argv, installed.workdir, installed.env))
    assert re.search(r"localhost\s+: ok=1\s+changed=1\s+unreachable=0\s+failed=0", first.output), first.output
    with open(str(tmp_path / "release-test.json")) as handle:
        outputs = json.load(handle)
    assert outputs["stack"] == "release-test"
    assert outputs["subnet_cidrs"] == ["10.0.64.0/19", "10.0.0.0/18", "10.0.192.0/19", "10.0.128.0/18"]
    assert re.fullmatch(r"[0-9a-f]{64}", outputs["playbook_hash"])
    # The same values again: nothing to change.
    second = check(run(argv, installed.workdir, installed.env))
    assert re.search(r"localhost\s+: ok=1\s+changed=0\s+unreachable=0\s+failed=0", second.output), second.output


def test_unit_tests_run_from_the_installed_copy(installed):
    """tests/unit ships in the tarball (ansible-test units runs it from an installed collection)."""
    proc = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         os.path.join(installed.collection, "tests", "unit")],
        installed.path,
        installed.env,
    )
    assert proc.returncode == 0, proc.output[-20000:]
    assert re.search(r"\d+ passed", proc.stdout) and "failed" not in proc.stdout.splitlines()[-1], proc.stdout[-3000:]
