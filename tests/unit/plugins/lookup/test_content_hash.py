# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unit tests of the autostack.wordpress.content_hash lookup on real files in a temporary directory:
what changes the digest, what does not, errors, and the lookup entry point.
"""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader

from ansible_collections.autostack.wordpress.plugins.lookup import content_hash as plugin
from ansible_collections.autostack.wordpress.plugins.lookup.content_hash import ContentHashError
from ansible_collections.autostack.wordpress.plugins.lookup.content_hash import LookupModule
from ansible_collections.autostack.wordpress.plugins.lookup.content_hash import content_hash

FILES = {
    "tasks/main.yml": b"- name: x\n",
    "tasks/build.yml": b"- name: build\n",
    "tasks/sub/deep.yml": b"deep\n",
    "templates/wp-config.php.j2": b"<?php\n",
    "files/autostack-entrypoint": b"#!/bin/sh\nexec apache2\n",
}


def make_role(top, files=None, order=None):
    files = FILES if files is None else files
    for name in order or sorted(files):
        path = os.path.join(top, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(files[name])
    return top


def digest(top, *dirs, **kwargs):
    return content_hash([os.path.join(str(top), d) for d in dirs or ("tasks", "templates", "files")], **kwargs)


def reference_v1(files, executable, extra_json):
    """The v1 record format written out by hand: length-prefixed fields, one record per root, directory and file."""
    digest = hashlib.sha256(b"autostack.wordpress.content_hash v1")

    def record(kind, *fields):
        digest.update(kind + b"\0")
        for field in fields:
            digest.update(b"%d:" % len(field) + field)

    def sha(name):
        return hashlib.sha256(files[name]).hexdigest().encode()

    record(b"root", b"0", b"tasks")
    record(b"file", b"build.yml", b"-", sha("tasks/build.yml"))
    record(b"file", b"main.yml", b"-", sha("tasks/main.yml"))
    record(b"dir", b"sub")
    record(b"file", b"sub/deep.yml", b"-", sha("tasks/sub/deep.yml"))
    record(b"root", b"1", b"templates")
    record(b"file", b"wp-config.php.j2", b"-", sha("templates/wp-config.php.j2"))
    record(b"root", b"2", b"files")
    record(b"file", b"autostack-entrypoint", b"x" if executable else b"-", sha("files/autostack-entrypoint"))
    record(b"extra", extra_json.encode("utf-8"))
    return digest.hexdigest()


def test_pinned_digest(tmp_path):
    """The digest names images: its format must not change by accident."""
    make_role(tmp_path)
    os.chmod(tmp_path / "files/autostack-entrypoint", 0o755)
    got = digest(tmp_path, extra={"b": [1, "ü"], "a": None}, has_extra=True)
    assert got == reference_v1(FILES, True, '{"a":null,"b":[1,"ü"]}')
    assert got == "643cc0e09119887478ee8b12c65a01b9ef9d586c5bf4812584b3eec8d056e0de"


def test_same_files_elsewhere_created_in_another_order_same_digest(tmp_path):
    one = make_role(tmp_path / "one")
    two = make_role(tmp_path / "checkout" / "two", order=sorted(FILES, reverse=True))
    assert len(digest(one)) == 64
    assert digest(one) == digest(two)


def test_times_and_other_permission_bits_do_not_count(tmp_path):
    make_role(tmp_path)
    before = digest(tmp_path)
    os.utime(tmp_path / "tasks/main.yml", (1, 1))
    os.chmod(tmp_path / "tasks/main.yml", 0o600)
    assert digest(tmp_path) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda top: (top / "tasks/main.yml").write_bytes(b"- name: y\n"),
        lambda top: (top / "tasks/main.yml").write_bytes(b"- name: x\n\n"),
        lambda top: os.rename(top / "tasks/build.yml", top / "tasks/built.yml"),
        lambda top: os.rename(top / "tasks/sub/deep.yml", top / "tasks/deep.yml"),
        lambda top: os.rename(top / "templates/wp-config.php.j2", top / "files/wp-config.php.j2"),
        lambda top: (top / "tasks/new.yml").write_bytes(b""),
        lambda top: os.remove(top / "tasks/build.yml"),
        lambda top: os.mkdir(top / "templates/empty"),
        lambda top: os.chmod(top / "files/autostack-entrypoint", 0o755),
    ],
    ids=["content", "trailing-newline", "rename", "move-up", "move-between-roots", "new-empty-file", "remove",
         "empty-directory", "executable-bit"],
)
def test_what_changes_the_digest(tmp_path, change):
    make_role(tmp_path)
    before = digest(tmp_path)
    change(tmp_path)
    assert digest(tmp_path) != before


def test_roots_count_by_name_and_order(tmp_path):
    make_role(tmp_path)
    assert digest(tmp_path, "tasks", "templates") != digest(tmp_path, "templates", "tasks")
    shutil.copytree(tmp_path / "tasks", tmp_path / "handlers")
    assert digest(tmp_path, "tasks") != digest(tmp_path, "handlers")


def test_file_boundaries_are_unambiguous(tmp_path):
    make_role(tmp_path / "a", {"d/x": b"ab", "d/y": b"c"})
    make_role(tmp_path / "b", {"d/x": b"a", "d/y": b"bc"})
    assert digest(tmp_path / "a", "d") != digest(tmp_path / "b", "d")


def test_a_single_file_root(tmp_path):
    make_role(tmp_path)
    single = content_hash([str(tmp_path / "tasks/main.yml")])
    (tmp_path / "tasks/main.yml").write_bytes(b"changed")
    assert content_hash([str(tmp_path / "tasks/main.yml")]) != single


def test_python_caches_are_skipped(tmp_path):
    make_role(tmp_path)
    before = digest(tmp_path)
    os.makedirs(tmp_path / "files/__pycache__")
    (tmp_path / "files/__pycache__/x.cpython-313.pyc").write_bytes(b"\0\1")
    (tmp_path / "files/helper.pyc").write_bytes(b"\0\2")
    assert digest(tmp_path) == before


def test_symlinks_count_as_their_target_under_their_own_name(tmp_path):
    make_role(tmp_path / "copy")
    make_role(tmp_path / "linked", {k: v for k, v in FILES.items() if not k.startswith("templates/")})
    make_role(tmp_path / "elsewhere", {"wp-config.php.j2": FILES["templates/wp-config.php.j2"]})
    os.makedirs(tmp_path / "linked/templates")
    os.symlink(tmp_path / "elsewhere/wp-config.php.j2", tmp_path / "linked/templates/wp-config.php.j2")
    assert digest(tmp_path / "linked") == digest(tmp_path / "copy")
    # The target's content counts, not the link.
    (tmp_path / "elsewhere/wp-config.php.j2").write_bytes(b"<?php // changed\n")
    assert digest(tmp_path / "linked") != digest(tmp_path / "copy")


def test_symlinked_directory_is_walked(tmp_path):
    make_role(tmp_path / "copy")
    make_role(tmp_path / "linked", {k: v for k, v in FILES.items() if not k.startswith("tasks/sub/")})
    os.symlink(tmp_path / "copy/tasks/sub", tmp_path / "linked/tasks/sub")
    assert digest(tmp_path / "linked") == digest(tmp_path / "copy")


@pytest.mark.parametrize(
    "break_it, message",
    [
        (lambda top: os.symlink(top / "nowhere", top / "tasks/dangling.yml"), "dangling symbolic link"),
        (lambda top: os.symlink(top / "tasks", top / "tasks/sub/loop"), "symbolic link loop"),
        (lambda top: os.symlink("self", top / "tasks/self"), "symbolic link that cannot be followed"),
        (lambda top: os.mkfifo(top / "tasks/fifo"), "neither a file nor a directory"),
    ],
    ids=["dangling", "loop", "self-loop", "fifo"],
)
def test_what_cannot_be_hashed_is_an_error_naming_it(tmp_path, break_it, message):
    make_role(tmp_path)
    break_it(tmp_path)
    with pytest.raises(ContentHashError, match=message) as error:
        digest(tmp_path)
    assert str(tmp_path / "tasks") in str(error.value)


def test_missing_path(tmp_path):
    with pytest.raises(ContentHashError, match="%s does not exist" % (tmp_path / "nothing")):
        content_hash([str(tmp_path / "nothing")])


def test_extra_is_canonical_json(tmp_path):
    make_role(tmp_path)
    one = digest(tmp_path, extra={"a": 1, "b": {"y": [1, 2], "x": "z"}}, has_extra=True)
    two = digest(tmp_path, extra={"b": {"x": "z", "y": [1, 2]}, "a": 1}, has_extra=True)
    assert one == two
    assert digest(tmp_path, extra={"a": 1, "b": {"y": [2, 1], "x": "z"}}, has_extra=True) != one
    assert digest(tmp_path, extra={"a": "1", "b": {"y": [1, 2], "x": "z"}}, has_extra=True) != one
    # Given or not given are different inputs, even when empty.
    assert digest(tmp_path, extra={}, has_extra=True) != digest(tmp_path)


@pytest.mark.parametrize("extra", [{"a": {1, 2}}, {"a": object()}, {"a": float("nan")}])
def test_extra_that_is_not_json_is_an_error(tmp_path, extra):
    make_role(tmp_path)
    with pytest.raises(ContentHashError, match="extra is not JSON-serialisable"):
        digest(tmp_path, extra=extra, has_extra=True)


NAME = "autostack.wordpress.content_hash"


def lookup(basedir):
    """The plugin as ansible-core's loader sets it up: its options come from its DOCUMENTATION."""
    C.config.initialize_plugin_configuration_definitions("lookup", NAME, yaml.safe_load(plugin.DOCUMENTATION)["options"])
    loader = DataLoader()
    loader.set_basedir(str(basedir))
    module = LookupModule(loader=loader)
    module._load_name = NAME
    return module


def test_lookup_resolves_relative_paths_and_takes_extra(tmp_path):
    make_role(tmp_path)
    result = lookup(tmp_path).run(["tasks", str(tmp_path / "templates")], variables={}, extra={"v": 1})
    assert result == [content_hash([str(tmp_path / "tasks"), str(tmp_path / "templates")], {"v": 1}, True)]
    assert lookup(tmp_path).run(["tasks"], variables={}) == [content_hash([str(tmp_path / "tasks")])]


def test_lookup_errors(tmp_path):
    with pytest.raises(AnsibleLookupError, match="give at least one file or directory"):
        lookup(tmp_path).run([], variables={})
    with pytest.raises(AnsibleLookupError, match="content_hash: .*/missing does not exist"):
        lookup(tmp_path).run(["missing"], variables={})
