"""The documentation stays true to the tree: links resolve, variables exist, every checked variable is explained.

- every relative link (and its #anchor) in README.md and docs/*.md points at a file of the checkout;
- every role variable named in code in docs/operations.md is an option of some role's argument spec or a
  variable of its defaults/main.yml;
- every variable the roles' validation names (the ``var:`` entries of their checks, and the variables their
  failure messages spell out) appears in docs/troubleshooting.md.

Roles, plugins and documents are found in the tree, so new ones are covered without touching this file.
"""

import glob
import os
import re

import pytest
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = [os.path.join(TOP, "README.md")] + sorted(glob.glob(os.path.join(TOP, "docs", "*.md")))
OPERATIONS = os.path.join(TOP, "docs", "operations.md")
TROUBLESHOOTING = os.path.join(TOP, "docs", "troubleshooting.md")

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.S)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def relative(path):
    return os.path.relpath(path, TOP)


def role_dirs():
    roles = os.path.join(TOP, "roles")
    return [os.path.join(roles, name) for name in sorted(os.listdir(roles)) if os.path.isdir(os.path.join(roles, name, "tasks"))]


def without_code(text):
    """Markdown without fenced blocks and code spans (links there are examples, not links)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def code_text(text):
    """The text of the fenced blocks and code spans of a Markdown document."""
    fenced = [match.group(0) for match in FENCE.finditer(text)]
    spans = [match.group(2) for match in INLINE_CODE.finditer(FENCE.sub("", text))]
    return "\n".join(fenced + spans)


def github_anchor(heading):
    """The anchor GitHub (and GitLab) gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    found = set()
    seen = {}
    for match in HEADING.finditer(FENCE.sub("", read(path))):
        anchor = github_anchor(match.group(2))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else "%s-%d" % (anchor, count))
    return found


# -- links ---------------------------------------------------------------------------------------------

def links(path):
    text = without_code(read(path))
    return [match.group(1) for match in INLINE_LINK.finditer(text)] + [match.group(1) for match in REFERENCE_LINK.finditer(text)]


def test_the_documents_exist():
    for name in ("architecture.md", "operations.md", "troubleshooting.md"):
        assert os.path.exists(os.path.join(TOP, "docs", name)), "docs/%s is missing" % name


@pytest.mark.parametrize("document", DOCS, ids=relative)
def test_relative_links_resolve(document):
    problems = []
    for target in links(document):
        if SCHEME.match(target):
            continue
        path, anchor = target.split("#", 1) if "#" in target else (target, "")
        path = path.split("?", 1)[0]
        resolved = os.path.normpath(os.path.join(os.path.dirname(document), path)) if path else document
        if not os.path.exists(resolved):
            problems.append("%s: no such file %s" % (target, relative(resolved)))
            continue
        if not (resolved == TOP or resolved.startswith(TOP + os.sep)):
            problems.append("%s: points outside the checkout" % target)
            continue
        if anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
            problems.append("%s: %s has no heading with anchor #%s" % (target, relative(resolved), anchor))
    assert not problems, "%s:\n  %s" % (relative(document), "\n  ".join(problems))


def test_the_link_check_can_fail(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# Title\n\n[ok](doc.md#title) [gone](missing.md) [bad anchor](doc.md#nowhere) `[code](x.md)`\n"
                   "[web](https://example.invalid/x.md)\n\n[ref]: other.md\n")
    found = links(str(doc))
    assert found == ["doc.md#title", "missing.md", "doc.md#nowhere", "https://example.invalid/x.md", "other.md"]
    assert anchors(str(doc)) == {"title"}
    assert github_anchor("Rotate the `database` password & salts") == "rotate-the-database-password--salts"


def table_problems(text):
    """Rows whose cell count differs from their table's header (an unescaped | in a cell, a missing cell)."""
    problems = []
    columns = None
    for number, line in enumerate(FENCE.sub(lambda match: "\n" * match.group(0).count("\n"), text).splitlines(), 1):
        stripped = line.strip()
        if not stripped.startswith("|"):
            columns = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", stripped)) - 1
        if columns is None:
            columns = cells
        elif cells != columns:
            problems.append("line %d: %d cells, the table has %d" % (number, cells, columns))
    return problems


@pytest.mark.parametrize("document", DOCS + sorted(glob.glob(os.path.join(TOP, "roles", "*", "README.md"))), ids=relative)
def test_tables_are_well_formed(document):
    problems = table_problems(read(document))
    assert not problems, "%s:\n  %s" % (relative(document), "\n  ".join(problems))


def test_the_table_check_can_fail():
    assert table_problems("| a | b |\n| --- | --- |\n| `x \\| y` | z |\n") == []
    assert table_problems("| a | b |\n| --- | --- |\n| `x | y` | z |\n") == ["line 3: 3 cells, the table has 2"]


# -- role variables in operations.md --------------------------------------------------------------------

def role_variables():
    """Every option of every entry point of every role's argument spec, and every variable of its defaults."""
    names = set()
    for role_dir in role_dirs():
        spec = os.path.join(role_dir, "meta", "argument_specs.yml")
        if os.path.exists(spec):
            for entry in ((load_yaml(spec) or {}).get("argument_specs") or {}).values():
                names.update((entry or {}).get("options") or {})
        defaults = os.path.join(role_dir, "defaults", "main.yml")
        if os.path.exists(defaults):
            names.update(load_yaml(defaults) or {})
    return names


def _tasks(node):
    """Every task (a mapping) in a list of tasks, blocks included."""
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        yield node
        for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
            if key in node:
                yield from _tasks(node[key])


def published_names():
    """Names that share a role's prefix without being variables: stack output keys, facts, plugin names."""
    names = set()
    for path in glob.glob(os.path.join(TOP, "plugins", "*", "*.py")):
        names.add(os.path.splitext(os.path.basename(path))[0])
    files = glob.glob(os.path.join(TOP, "roles", "*", "tasks", "*.yml")) + glob.glob(os.path.join(TOP, "playbooks", "*.yml"))
    for path in files:
        role_vars = {}
        role_vars_path = os.path.join(os.path.dirname(os.path.dirname(path)), "vars", "main.yml")
        if os.path.exists(role_vars_path):
            role_vars = load_yaml(role_vars_path) or {}
            for name, value in role_vars.items():
                if name.endswith("__output_keys") and isinstance(value, list):
                    names.update(value)
        for task in _tasks(load_yaml(path) or []):
            for module in ("autostack.wordpress.stack_outputs", "stack_outputs"):
                args = task.get(module)
                if not isinstance(args, dict):
                    continue
                values = args.get("values")
                if isinstance(values, str):
                    # values: "{{ role__outputs }}": the keys of that variable.
                    match = re.match(r"^\{\{\s*(\w+)\s*\}\}$", values.strip())
                    values = role_vars.get(match.group(1)) if match else None
                if isinstance(values, dict):
                    names.update(values)
                if isinstance(args.get("remove"), list):
                    names.update(item for item in args["remove"] if isinstance(item, str))
            facts = task.get("ansible.builtin.set_fact")
            if isinstance(facts, dict):
                names.update(name for name in facts if "__" not in name)
    return names


def variable_like(text, prefixes):
    pattern = re.compile(r"(?<![\w.-])((?:%s)_[a-z0-9_]*[a-z0-9])(?![\w-])" % "|".join(sorted(prefixes, key=len, reverse=True)))
    return set(pattern.findall(text))


def prefixes():
    return {os.path.basename(path) for path in role_dirs()} | {"autostack"}


def test_role_variables_in_operations_exist():
    named = variable_like(code_text(read(OPERATIONS)), prefixes())
    assert named, "docs/operations.md names no role variable in code"
    unknown = sorted(named - role_variables() - published_names())
    assert not unknown, "docs/operations.md names variables no role has (argument spec or defaults/main.yml): %s" % unknown


def test_the_variable_check_can_fail():
    text = code_text("Set `ecs_service_desired_count` and `asg_max_sise`; not `wp_image` alone.\n\n"
                     "```sh\nansible-playbook site.yml -e rds_instance_klass=db.t4g.small\n```\n")
    named = variable_like(text, {"ecs_service", "asg", "rds", "wp_image"})
    assert named == {"ecs_service_desired_count", "asg_max_sise", "rds_instance_klass"}
    assert sorted(named - role_variables()) == ["asg_max_sise", "rds_instance_klass"]
    assert {"wp_image_uri", "vpc_network", "ecr_image_info"} <= published_names()


# -- validation in troubleshooting.md --------------------------------------------------------------------

def _var_entries(node, found):
    if isinstance(node, dict):
        if isinstance(node.get("var"), str):
            found.add(node["var"])
        for value in node.values():
            _var_entries(value, found)
    elif isinstance(node, list):
        for value in node:
            _var_entries(value, found)


def validated_variables():
    """role -> the variables its checks name: ``var:`` entries, and names spelled out in failure messages."""
    checked = {}
    for role_dir in role_dirs():
        role = os.path.basename(role_dir)
        names = set()
        for path in glob.glob(os.path.join(role_dir, "tasks", "*.yml")) + glob.glob(os.path.join(role_dir, "vars", "*.yml")):
            document = load_yaml(path) or []
            _var_entries(document, names)
            if os.path.dirname(path).endswith("tasks"):
                for task in _tasks(document):
                    for module in ("ansible.builtin.assert", "ansible.builtin.fail"):
                        args = task.get(module)
                        if isinstance(args, dict):
                            message = str(args.get("fail_msg") or args.get("msg") or "")
                            # What the message shows in so many words, not the expressions that fill it in.
                            names |= {name for name in variable_like(JINJA.sub(" ", message), prefixes()) if "__" not in name}
        checked[role] = {name for name in names if "__" not in name}
    return checked


def inline_code_words(text):
    return {word for span in INLINE_CODE.finditer(text) for word in re.findall(r"[A-Za-z0-9_]+", span.group(2))}


def test_validated_variables_are_in_troubleshooting():
    documented = inline_code_words(read(TROUBLESHOOTING))
    checked = validated_variables()
    assert any(checked.values()), "no validated variable found under roles/*/tasks"
    missing = {role: sorted(names - documented) for role, names in checked.items() if names - documented}
    assert not missing, "docs/troubleshooting.md does not mention (in code) these checked variables: %s" % missing


def test_roles_with_checks_have_a_troubleshooting_section():
    headings = {match.group(2).strip("` ") for match in HEADING.finditer(read(TROUBLESHOOTING))}
    missing = sorted(role for role, names in validated_variables().items() if names and role not in headings)
    assert not missing, "docs/troubleshooting.md has no section (heading) for the roles %s" % missing
