#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: stack_outputs
version_added: 0.1.0
short_description: Record what a stack made in its outputs file
description:
  - Merges O(values) into the JSON document C(<directory>/<stack>.json), the one place where a run records
    the identifiers later phases and the verify play read (VPC id, repository URI, database endpoint...).
  - The merge is shallow, each key of O(values) replaces the key of the same name; keys not named are kept.
  - The file is written atomically (temporary file in the same directory, then rename), with sorted keys and
    an indent of 2, so that it diffs well and a reader never sees half a document. Concurrent writers on the
    same host are serialised with a lock on the directory.
  - The document always carries C(stack) (the stack's name) and C(updated_at) (UTC, ISO 8601). C(updated_at)
    changes only when some other key changes, so a run that records the same values reports C(changed=false)
    and leaves the file untouched.
  - The file is not a secret store. Record secret B(ARNs) or parameter B(names), never secret values; keys that
    name a secret (containing C(password), C(passwd), C(secret), C(token), C(private_key) or C(salt)) are refused
    unless they end in one of C(_arn), C(_name), C(_id), C(_path), C(_parameter).
  - Runs where the task runs, normally the controller (a play on C(localhost)). It makes no AWS call.
  - Fills a gap rather than wrapping a maintained module; M(ansible.builtin.copy) with a templated document would
    replace the whole file and lose what other roles recorded.
author:
  - autostack contributors (@autostack)
options:
  directory:
    description:
      - Directory that holds the outputs files. Created (with its parents) when missing.
    type: path
    required: true
  stack:
    description:
      - The stack's name; the file is C(<directory>/<stack>.json).
      - Letters, digits, C(.), C(_) and C(-) only, not starting with C(.).
    type: str
    required: true
  values:
    description:
      - Keys to set, merged at the top level of the document. Values may be any JSON value.
      - The keys C(stack) and C(updated_at) are reserved.
    type: dict
    default: {}
  remove:
    description:
      - Top-level keys to drop. Keys that are not present are ignored.
      - Applied before O(values), so a key named in both ends up set.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) updates the document; V(absent) deletes the whole file (O(values) and O(remove) must then be empty).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the document before and after as JSON text.
  platform:
    platforms: posix
notes:
  - The timestamp C(updated_at) is the only value the module makes up; compare documents without it.
"""

EXAMPLES = r"""
- name: Record the network in the stack outputs
  autostack.wordpress.stack_outputs:
    directory: "{{ autostack_outputs_dir }}"
    stack: "{{ autostack_stack_name }}"
    values:
      vpc_id: "{{ vpc_network.vpc_id }}"
      public_subnet_ids: "{{ vpc_network.public_subnet_ids }}"

- name: Record where the database password lives (its ARN, never its value)
  autostack.wordpress.stack_outputs:
    directory: "{{ autostack_outputs_dir }}"
    stack: "{{ autostack_stack_name }}"
    values:
      db_secret_arn: "{{ rds__secret.secret.arn }}"

- name: Forget the load balancer after it was deleted
  autostack.wordpress.stack_outputs:
    directory: "{{ autostack_outputs_dir }}"
    stack: "{{ autostack_stack_name }}"
    remove: [alb_dns_name, alb_arn]

- name: Read the outputs without changing them
  autostack.wordpress.stack_outputs:
    directory: "{{ autostack_outputs_dir }}"
    stack: "{{ autostack_stack_name }}"
  register: stack_outputs__current

- name: Remove the outputs file of a destroyed stack
  autostack.wordpress.stack_outputs:
    directory: "{{ autostack_outputs_dir }}"
    stack: "{{ autostack_stack_name }}"
    state: absent
"""

RETURN = r"""
outputs:
  description:
    - The whole document after the change (what would be written, in check mode).
    - Empty after O(state=absent).
  returned: always
  type: dict
  sample:
    stack: wordpress
    updated_at: "2026-11-25T17:41:00Z"
    vpc_id: vpc-0a1b2c3d
    db_secret_arn: arn:aws:secretsmanager:eu-west-1:123456789012:secret:wordpress-db-AbCdEf
outputs_path:
  description: The outputs file.
  returned: always
  type: str
  sample: /srv/autostack/outputs/wordpress.json
"""

import datetime
import fcntl
import json
import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule

RESERVED_KEYS = ("stack", "updated_at")
STACK_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
SECRET_KEY = re.compile(r"password|passwd|secret|token|private_key|salt", re.IGNORECASE)
REFERENCE_SUFFIXES = ("_arn", "_name", "_id", "_path", "_parameter")


def secret_like_keys(values, prefix=""):
    """Dotted paths of keys, at any depth, whose names suggest they hold a secret value."""
    found = []
    if isinstance(values, dict):
        for key, value in values.items():
            path = prefix + str(key)
            lowered = str(key).lower()
            if SECRET_KEY.search(lowered) and not lowered.endswith(REFERENCE_SUFFIXES):
                found.append(path)
            found.extend(secret_like_keys(value, path + "."))
    elif isinstance(values, list):
        for index, item in enumerate(values):
            found.extend(secret_like_keys(item, "%s%d." % (prefix, index)))
    return found


def merge_outputs(current, stack, values=None, remove=None, now=None):
    """Return ``(document, changed)``: ``current`` with ``remove`` dropped and ``values`` set.

    ``updated_at`` moves to ``now`` only when something else changed, so that recording the same
    values twice is a no-op.
    """
    current = dict(current or {})
    document = dict(current)
    for key in remove or []:
        document.pop(key, None)
    # Through JSON, so that the returned document is exactly what the file will hold.
    document.update(json.loads(json.dumps(values or {})))
    document["stack"] = stack

    def without_stamp(doc):
        return {key: value for key, value in doc.items() if key != "updated_at"}

    changed = render(without_stamp(document)) != render(without_stamp(current))
    if not current and without_stamp(document) == {"stack": stack}:
        # Nothing to record: a read of a stack that has no outputs yet must not create a file.
        changed = False
    if changed:
        document["updated_at"] = now or utc_now()
    elif "updated_at" in current:
        document["updated_at"] = current["updated_at"]
    return document, changed


def render(document):
    """The file's exact text: sorted keys, indent 2, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class OutputsFile:
    """One stack's outputs file: read, atomic write, delete, under a lock on its directory."""

    def __init__(self, module, directory, stack):
        self.module = module
        self.directory = directory
        self.path = os.path.join(directory, stack + ".json")
        self._lock_fd = None

    def __enter__(self):
        if not self.module.check_mode:
            try:
                os.makedirs(self.directory, exist_ok=True)
            except OSError as e:
                self.module.fail_json(msg="Cannot create %s: %s" % (self.directory, e))
        if os.path.isdir(self.directory):
            self._lock_fd = os.open(self.directory, os.O_RDONLY)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def exists(self):
        return os.path.exists(self.path)

    def read(self):
        """The current document and its text ({} and "" when the file does not exist)."""
        if not self.exists():
            return {}, ""
        try:
            with open(self.path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as e:
            self.module.fail_json(msg="Cannot read %s: %s" % (self.path, e))
        if not text.strip():
            return {}, text
        try:
            document = json.loads(text)
        except ValueError as e:
            # Never overwrite what we cannot parse: it may be the only record of a stack.
            self.module.fail_json(msg="%s is not valid JSON (%s); fix or remove it" % (self.path, e))
        if not isinstance(document, dict):
            self.module.fail_json(msg="%s holds a JSON %s, not an object" % (self.path, type(document).__name__))
        return document, text

    def write(self, text):
        try:
            fd, tmp_path = tempfile.mkstemp(prefix="." + os.path.basename(self.path) + ".", dir=self.directory)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as e:
            self.module.fail_json(msg="Cannot write %s: %s" % (self.path, e))
        # atomic_move keeps an existing file's mode and owner and applies the umask to a new one.
        self.module.atomic_move(tmp_path, self.path)

    def delete(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as e:
            self.module.fail_json(msg="Cannot remove %s: %s" % (self.path, e))


def run(module):
    params = module.params
    directory, stack, state = params["directory"], params["stack"], params["state"]
    values, remove = params["values"] or {}, params["remove"] or []

    if not STACK_NAME.match(stack):
        module.fail_json(msg="stack %r is not a valid file name: use letters, digits, '.', '_' and '-'" % stack)
    reserved = sorted(set(values) & set(RESERVED_KEYS))
    if reserved:
        module.fail_json(msg="values may not set the reserved keys %s" % ", ".join(reserved))
    secret_keys = secret_like_keys(values)
    if secret_keys:
        module.fail_json(
            msg="values %s look like secrets; record the secret's ARN or parameter name instead "
            "(key ending in %s)" % (", ".join(secret_keys), ", ".join(REFERENCE_SUFFIXES))
        )
    if state == "absent" and (values or remove):
        module.fail_json(msg="state=absent removes the whole file; values and remove must be empty")

    with OutputsFile(module, directory, stack) as outputs_file:
        current, before_text = outputs_file.read()
        if state == "absent":
            changed = outputs_file.exists()
            document, after_text = {}, ""
            if changed and not module.check_mode:
                outputs_file.delete()
        else:
            document, changed = merge_outputs(current, stack, values, remove)
            after_text = render(document) if changed else before_text
            if changed and not module.check_mode:
                outputs_file.write(after_text)

    # Not "path": AnsibleModule would add the file's owner and mode to the result.
    result = dict(changed=changed, outputs=document, outputs_path=outputs_file.path)
    if module._diff:
        result["diff"] = dict(
            before=before_text,
            after=after_text,
            before_header=outputs_file.path,
            after_header=outputs_file.path,
        )
    module.exit_json(**result)


def main():
    argument_spec = dict(
        directory=dict(type="path", required=True),
        stack=dict(type="str", required=True),
        values=dict(type="dict", default={}),
        remove=dict(type="list", elements="str", default=[]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
