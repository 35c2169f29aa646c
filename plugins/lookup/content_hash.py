# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: content_hash
version_added: 0.1.0
short_description: SHA-256 of the contents of files and directories, and of extra data
description:
  - Returns one SHA-256 hex digest over the files and directories given and the optional O(extra) data, for
    example to name a build after its inputs.
  - Each path given is a root. A directory is walked recursively in sorted order (by name, byte order); each file
    counts with its path relative to its root, its content and whether its owner may execute it; each
    directory with its relative path (so that an empty directory counts). Every root also counts with its own
    name (the last component of the path, so that moving a file from C(tasks) to C(templates) changes the hash)
    and its position in the list. The absolute location does not count, so every checkout of the same files
    gives the same digest.
  - The order of the paths counts; give them in a fixed order.
  - Inside a directory, entries named C(__pycache__) and entries whose name ends in C(.pyc) are skipped (Python's
    byte code caches, which differ between machines).
  - Symbolic links are followed, as M(ansible.builtin.copy) and M(ansible.builtin.template) follow them when they
    read a source; a link counts as what it points to, under the link's own name. A dangling link, a link loop or
    anything that is neither a file nor a directory (socket, FIFO, device) is an error.
  - File modification times, owners and other permission bits do not count.
author:
  - autostack contributors (@autostack)
options:
  _terms:
    description:
      - Files or directories. A relative path is resolved as other lookups resolve it (from the role or play).
    type: list
    elements: path
    required: true
  extra:
    description:
      - Any JSON-serialisable data (build variables, an image id, ...), hashed as canonical JSON (sorted keys, no
        insignificant white space, UTF-8). Left out, nothing is added; V({}) and left out give different digests.
    type: raw
notes:
  - The digest format is part of the interface (images are named after it); a change to how it is computed
    renames every build.
"""

EXAMPLES = r"""
- name: Hash the role's inputs
  ansible.builtin.set_fact:
    build_hash: >-
      {{ lookup('autostack.wordpress.content_hash', role_path ~ '/tasks', role_path ~ '/templates',
                extra={'base_image_id': base_image_id, 'version': wordpress_version}) }}
"""

RETURN = r"""
_raw:
  description: One SHA-256 digest, 64 lower-case hex characters.
  type: list
  elements: str
  sample: ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
"""

import hashlib
import json
import os
import stat

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.lookup import LookupBase

# Skipped by name, whatever they are (a __pycache__ file, a .pyc directory), before they are read.
SKIPPED_DIRECTORIES = frozenset([b"__pycache__"])
SKIPPED_SUFFIXES = (b".pyc",)
CHUNK = 1024 * 1024
# Bumped if the record format below ever changes, so that old and new digests never collide.
FORMAT = b"autostack.wordpress.content_hash v1"


class ContentHashError(Exception):
    pass


def _record(digest, kind, *fields):
    """Length-prefixed fields: no two different inputs write the same bytes."""
    digest.update(kind + b"\0")
    for field in fields:
        digest.update(b"%d:" % len(field))
        digest.update(field)


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest().encode("ascii")


def _entry_stat(path, shown):
    try:
        return os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise ContentHashError("%s is a dangling symbolic link" % shown)
        raise ContentHashError("%s does not exist" % shown)
    except OSError as exc:
        if os.path.islink(path):
            raise ContentHashError("%s is a symbolic link that cannot be followed: %s" % (shown, exc.strerror))
        raise ContentHashError("cannot read %s: %s" % (shown, exc.strerror))


def _walk(digest, root, relative, ancestors):
    """Hash the directory ``root/relative`` (bytes paths), depth first in sorted order."""
    directory = os.path.join(root, relative) if relative else root
    real = os.path.realpath(directory)
    if real in ancestors:
        raise ContentHashError("%s is a symbolic link loop" % to_text(directory))
    ancestors = ancestors | {real}
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise ContentHashError("cannot list %s: %s" % (to_text(directory), exc.strerror))
    for name in names:
        if name in SKIPPED_DIRECTORIES or name.endswith(SKIPPED_SUFFIXES):
            continue
        rel = os.path.join(relative, name) if relative else name
        path = os.path.join(root, rel)
        info = _entry_stat(path, to_text(path))
        if stat.S_ISDIR(info.st_mode):
            _record(digest, b"dir", rel)
            _walk(digest, root, rel, ancestors)
        elif stat.S_ISREG(info.st_mode):
            _record(digest, b"file", rel, b"x" if info.st_mode & stat.S_IXUSR else b"-", _file_digest(path))
        else:
            raise ContentHashError("%s is neither a file nor a directory" % to_text(path))


def content_hash(paths, extra=None, has_extra=False):
    """The hex digest of ``paths`` (absolute, in the given order) and, when ``has_extra``, of ``extra``."""
    digest = hashlib.sha256()
    digest.update(FORMAT)
    for index, path in enumerate(paths):
        bpath = to_bytes(path, errors="surrogate_or_strict")
        info = _entry_stat(bpath, path)
        name = os.path.basename(os.path.normpath(bpath))
        _record(digest, b"root", b"%d" % index, name)
        if stat.S_ISDIR(info.st_mode):
            _walk(digest, os.path.normpath(bpath), b"", frozenset())
        elif stat.S_ISREG(info.st_mode):
            _record(digest, b"file", b"", b"x" if info.st_mode & stat.S_IXUSR else b"-", _file_digest(bpath))
        else:
            raise ContentHashError("%s is neither a file nor a directory" % path)
    if has_extra:
        try:
            canonical = json.dumps(extra, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ContentHashError("extra is not JSON-serialisable data: %s" % exc)
        _record(digest, b"extra", canonical.encode("utf-8"))
    return digest.hexdigest()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if not terms:
            raise AnsibleLookupError("content_hash: give at least one file or directory")
        paths = []
        for term in terms:
            if not isinstance(term, str) or not term:
                raise AnsibleLookupError("content_hash: %r is not a path" % (term,))
            path = term if os.path.isabs(term) else self._loader.path_dwim(term)
            paths.append(path)
        try:
            return [content_hash(paths, self.get_option("extra"), has_extra="extra" in kwargs)]
        except ContentHashError as exc:
            raise AnsibleLookupError("content_hash: %s" % exc)
