"""ansible-doc documents every plugin and role of the collection, read from this checkout.

The plugins and roles are found in the file tree (plugins/<type>/, roles/), so a new one is checked
without touching this file. ansible-doc runs a few times per plugin type, each time on every name of the
type: the listing (what Ansible finds), the JSON documentation (its structure) and the text a user reads.
"""

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_DOC = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
COLLECTION = "autostack.wordpress"
COLLECTION_LINK = os.path.join(TOP, "collections", "ansible_collections", "autostack", "wordpress")

# plugins/<directory> -> ansible-doc type. Directories of shared code, or documented by their module, are not plugins.
PLUGIN_TYPES = {
    "modules": "module",
    "filter": "filter",
    "test": "test",
    "lookup": "lookup",
    "callback": "callback",
    "inventory": "inventory",
    "connection": "connection",
    "become": "become",
    "cache": "cache",
    "vars": "vars",
    "strategy": "strategy",
}
NOT_DOCUMENTED = {"module_utils", "plugin_utils", "doc_fragments", "action", "__pycache__"}
# Warnings about ansible-core's own internals, not about this collection.
FOREIGN_WARNING = re.compile(r"/ansible/_internal/")
MESSAGE = re.compile(r"^\[(WARNING|DEPRECATION WARNING|ERROR)\]:?")


def plugin_names():
    """ansible-doc type -> sorted short names, from the files under plugins/."""
    found = {}
    unknown = []
    plugins = os.path.join(TOP, "plugins")
    for directory in sorted(os.listdir(plugins)):
        path = os.path.join(plugins, directory)
        if not os.path.isdir(path) or directory in NOT_DOCUMENTED:
            continue
        if directory not in PLUGIN_TYPES:
            unknown.append(directory)
            continue
        names = set()
        for entry in os.listdir(path):
            stem, ext = os.path.splitext(entry)
            # Filters and tests may be documented in a YAML file named after them.
            if stem.startswith("_") or ext not in (".py", ".yml", ".yaml"):
                continue
            if ext != ".py" and directory not in ("filter", "test"):
                continue
            names.add(stem)
        if names:
            found[PLUGIN_TYPES[directory]] = sorted(names)
    assert not unknown, "plugins/%s: a plugin directory this test does not know; add it to PLUGIN_TYPES" % ", ".join(unknown)
    return found


def role_entry_points():
    """Role name -> entry points of its meta/argument_specs.yml (empty when it has none)."""
    roles = {}
    for name in sorted(os.listdir(os.path.join(TOP, "roles"))):
        role_dir = os.path.join(TOP, "roles", name)
        if not os.path.isdir(os.path.join(role_dir, "tasks")):
            continue
        spec = os.path.join(role_dir, "meta", "argument_specs.yml")
        entry_points = []
        if os.path.exists(spec):
            with open(spec, encoding="utf-8") as handle:
                try:
                    entry_points = sorted(((yaml.safe_load(handle) or {}).get("argument_specs") or {}).keys())
                except yaml.YAMLError as exc:
                    # ansible-doc will say so too; the tests then name the role.
                    entry_points = ["<unreadable meta/argument_specs.yml: %s>" % " ".join(str(exc).split())]
        roles[name] = entry_points
    return roles


def ansible_doc(*args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(TOP, "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    # The checkout, linked under collections/, is the collection: nothing may point elsewhere.
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    env.pop("ANSIBLE_COLLECTIONS_PATHS", None)
    proc = subprocess.run([ANSIBLE_DOC] + list(args), cwd=TOP, env=env, capture_output=True, text=True, timeout=120, check=False)
    return proc


def messages(proc):
    """ansible-doc's warnings and errors that concern this collection (or anything but ansible-core itself)."""
    found = []
    for line in (proc.stdout + "\n" + proc.stderr).splitlines():
        if MESSAGE.match(line.strip()) and not FOREIGN_WARNING.search(line):
            found.append(line.strip())
    return found


def inside_checkout(path):
    real = os.path.realpath(path)
    return real == os.path.realpath(TOP) or real.startswith(os.path.realpath(TOP) + os.sep)


def run_type(doc_type, names):
    """The three ansible-doc runs for one type, each on every name at once."""
    fqcns = ["%s.%s" % (COLLECTION, name) for name in names]
    return {
        "list": ansible_doc("-t", doc_type, "--list", "--json", COLLECTION),
        "json": ansible_doc("-t", doc_type, "--json", *fqcns),
        "text": ansible_doc("-t", doc_type, *fqcns),
    }


PLUGINS = plugin_names()
ROLES = role_entry_points()


@pytest.fixture(scope="module")
def runs():
    """type -> {list, json, text} results; the types run side by side (ansible-doc is mostly start-up time)."""
    assert os.path.realpath(COLLECTION_LINK) == os.path.realpath(TOP), (
        "%s must link to the checkout (make setup, or: mkdir -p collections/ansible_collections/autostack && "
        "ln -s ../../.. collections/ansible_collections/autostack/wordpress)" % COLLECTION_LINK
    )
    work = dict(PLUGINS, role=sorted(ROLES))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {doc_type: pool.submit(run_type, doc_type, names) for doc_type, names in work.items()}
        return {doc_type: future.result() for doc_type, future in futures.items()}


def test_the_collection_has_plugins_and_roles():
    assert PLUGINS.get("module") and PLUGINS.get("filter") and PLUGINS.get("lookup"), PLUGINS
    assert ROLES, "no roles under roles/"


@pytest.mark.parametrize("doc_type", sorted(PLUGINS) + ["role"])
def test_ansible_doc_runs_cleanly(runs, doc_type):
    for mode, proc in runs[doc_type].items():
        assert proc.returncode == 0, "ansible-doc -t %s (%s) exited %d:\n%s%s" % (
            doc_type, mode, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
        assert not messages(proc), "ansible-doc -t %s (%s) warned:\n%s" % (doc_type, mode, "\n".join(messages(proc)))


@pytest.mark.parametrize("doc_type", sorted(PLUGINS) + ["role"])
def test_what_ansible_finds_is_what_the_tree_holds(runs, doc_type):
    listed = json.loads(runs[doc_type]["list"].stdout or "{}")
    listed_names = sorted(name[len(COLLECTION) + 1:] for name in listed if name.startswith(COLLECTION + "."))
    if doc_type == "role":
        # Roles are listed when they have an argument spec, which every role must have.
        assert listed_names == sorted(ROLES), "roles ansible-doc lists vs roles/: %s vs %s" % (listed_names, sorted(ROLES))
    else:
        # A file with several filters or tests documents each in its own file; every name must be documented.
        assert listed_names == PLUGINS[doc_type], "%s plugins ansible-doc lists vs plugins/: %s vs %s" % (
            doc_type, listed_names, PLUGINS[doc_type])


@pytest.mark.parametrize("doc_type", sorted(PLUGINS))
def test_every_plugin_is_documented_from_this_checkout(runs, doc_type):
    docs = json.loads(runs[doc_type]["json"].stdout or "{}")
    problems = []
    for name in PLUGINS[doc_type]:
        fqcn = "%s.%s" % (COLLECTION, name)
        entry = docs.get(fqcn)
        if not entry or not entry.get("doc"):
            problems.append("%s: no documentation" % fqcn)
            continue
        doc = entry["doc"]
        if not inside_checkout(doc.get("filename", "")):
            problems.append("%s: documented from %s, not from this checkout" % (fqcn, doc.get("filename")))
        documented_name = doc.get("module") if doc_type == "module" else doc.get("name")
        if documented_name != name:
            problems.append("%s: its documentation names it %r" % (fqcn, documented_name))
        if not doc.get("short_description") or not doc.get("description"):
            problems.append("%s: short_description or description is empty" % fqcn)
        if doc_type in ("module", "filter", "test", "lookup"):
            if not entry.get("examples"):
                problems.append("%s: no EXAMPLES" % fqcn)
            if not entry.get("return"):
                problems.append("%s: no RETURN" % fqcn)
        if not re.search(r"^> %s \*?%s\*? \(" % (doc_type.upper(), re.escape(fqcn)), runs[doc_type]["text"].stdout, re.M):
            problems.append("%s: the text output does not name it" % fqcn)
    assert not problems, "\n".join(problems)


def test_every_role_is_documented_from_this_checkout(runs):
    docs = json.loads(runs["role"]["json"].stdout or "{}")
    text = runs["role"]["text"].stdout
    problems = []
    for role, entry_points in ROLES.items():
        fqcn = "%s.%s" % (COLLECTION, role)
        entry = docs.get(fqcn)
        if not entry:
            problems.append("%s: no documentation (meta/argument_specs.yml)" % fqcn)
            continue
        if not inside_checkout(entry.get("path", "")):
            problems.append("%s: documented from %s, not from this checkout" % (fqcn, entry.get("path")))
        documented = entry.get("entry_points") or {}
        if sorted(documented) != entry_points or "main" not in documented:
            problems.append("%s: entry points %s, meta/argument_specs.yml has %s (main is required)"
                            % (fqcn, sorted(documented), entry_points))
        for name, spec in documented.items():
            if not spec.get("short_description") or not spec.get("options"):
                problems.append("%s: entry point %s lacks a short_description or options" % (fqcn, name))
        # Without colour ansible-doc marks bold as *...*.
        if not re.search(r"^> ROLE: \*?%s\*? \(" % re.escape(fqcn), text, re.M):
            problems.append("%s: the text output does not name it" % fqcn)
        for name in entry_points:
            if not re.search(r"^ENTRY POINT: \*?%s\*? - " % re.escape(name), text, re.M):
                problems.append("%s: the text output does not show entry point %s" % (fqcn, name))
    assert not problems, "\n".join(problems)
