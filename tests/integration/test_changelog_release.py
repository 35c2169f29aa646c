"""Cutting a release with antsibull-changelog, on a copy of the checkout (never the checkout itself).

`antsibull-changelog release` turns the fragments into CHANGELOG.rst and changelogs/changelog.yaml
and removes them; the plugins the release adds come from ansible-doc on the copy. The version is the
one galaxy.yml names, unless changelog.yaml has released it already (then the next patch release).
"""

from __future__ import annotations

import datetime
import glob
import os
import re
import subprocess
from types import SimpleNamespace

import pytest

from checkout_support import TOP
from checkout_support import build_collection
from checkout_support import check
from checkout_support import clean_env
from checkout_support import copy_checkout
from checkout_support import galaxy_meta
from checkout_support import load_yaml
from checkout_support import run
from checkout_support import tarball_members
from checkout_support import tool
from checkout_support import tree_digest

# What a release writes, in the checkout: it must be the same after the test.
WATCHED = ["changelogs", "CHANGELOG.rst", "galaxy.yml"]
RELEASE_DATE = datetime.date.today().isoformat()


def git_status():
    return subprocess.run(["git", "-C", TOP, "status", "--porcelain", "--"] + WATCHED, capture_output=True, text=True, check=True, timeout=60).stdout


def next_version(root):
    version = galaxy_meta(root)["version"]
    released = load_yaml(os.path.join(root, "changelogs", "changelog.yaml")).get("releases") or {}
    if version not in released:
        return version
    major, minor, patch = (int(part) for part in version.split("."))
    return "%d.%d.%d" % (major, minor, patch + 1)


def normalized(text):
    return " ".join(text.split())


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    before = (tree_digest(TOP, WATCHED), git_status())
    tmp = tmp_path_factory.mktemp("changelog-release")
    root = copy_checkout(tmp / "src")
    fragments = {
        os.path.basename(path): load_yaml(path)
        for path in glob.glob(os.path.join(root, "changelogs", "fragments", "*.y*ml"))
    }
    assert fragments, "no changelog fragments to release"
    version = next_version(root)
    env = clean_env(tmp / "config")
    antsibull = tool("antsibull-changelog")
    check(run([antsibull, "lint"], root, env))
    proc = check(run([antsibull, "release", "--version", version, "--date", RELEASE_DATE], root, env))
    with open(os.path.join(root, "CHANGELOG.rst")) as handle:
        changelog = handle.read()
    return SimpleNamespace(tmp=tmp, root=root, env=env, version=version, fragments=fragments, output=proc.output, before=before,
                           changelog=changelog, changes=load_yaml(os.path.join(root, "changelogs", "changelog.yaml")))


def test_changelog_has_every_fragment_entry(released):
    assert re.search(r"^v%s\n=+$" % re.escape(released.version), released.changelog, re.M), released.changelog[:2000]
    text = normalized(released.changelog)
    entries = 0
    for name, fragment in released.fragments.items():
        for section, items in fragment.items():
            # antsibull-changelog keeps the trivial section out of CHANGELOG.rst by design
            # (changelogs/config.yaml: trivial_section_name).
            if section == "trivial":
                continue
            for item in [items] if isinstance(items, str) else items:
                entries += 1
                assert normalized(item) in text, "%s (%s) is not in CHANGELOG.rst: %s" % (name, section, item[:200])
    assert entries >= len(released.fragments)


def test_changelog_lists_the_new_plugins(released):
    new_modules = released.changelog.split("New Modules\n-----------\n", 1)[1]
    for path in sorted(glob.glob(os.path.join(TOP, "plugins", "modules", "*.py"))):
        name = os.path.basename(path)[:-3]
        assert "- autostack.wordpress.%s - " % name in new_modules, "module %s is not under New Modules" % name
    plugins = released.changelog.split("New Plugins\n-----------\n", 1)[1].split("New Modules", 1)[0]
    for kind in ("filter", "lookup"):
        for path in sorted(glob.glob(os.path.join(TOP, "plugins", kind, "*.py"))):
            assert "- autostack.wordpress.%s - " % os.path.basename(path)[:-3] in plugins, path


def test_fragments_are_consumed(released):
    left = [name for name in os.listdir(os.path.join(released.root, "changelogs", "fragments")) if not name.startswith(".")]
    assert not left, "fragments left after the release: %s" % left
    release = released.changes["releases"][released.version]
    assert release["release_date"] == RELEASE_DATE
    assert sorted(release["fragments"]) == sorted(released.fragments)


def test_released_tarball_carries_the_changelog(released):
    """After the release, the tarball has CHANGELOG.rst and no fragment (nor antsibull-changelog's cache)."""
    meta = galaxy_meta(released.root)
    if meta["version"] != released.version:
        pytest.skip("galaxy.yml says %s, the release is %s: bump galaxy.yml first" % (meta["version"], released.version))
    members = tarball_members(build_collection(released.root, released.tmp / "dist", released.env))
    assert "CHANGELOG.rst" in members and "changelogs/changelog.yaml" in members
    assert not [name for name in members if name.startswith("changelogs/fragments/")]
    assert "changelogs/.plugin-cache.yaml" not in members


def test_checkout_is_untouched(released):
    """Last: the release and the build above worked on the copy only."""
    assert (tree_digest(TOP, WATCHED), git_status()) == released.before, "the checkout's %s changed" % ", ".join(WATCHED)
