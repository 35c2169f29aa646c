"""The "Role Variables" tables of the roles' README.md files, generated from meta/argument_specs.yml.

    python tools/role_docs.py                        check every role; exit 1 and say what differs
    python tools/role_docs.py --write                rewrite the generated block of every role's README.md
    python tools/role_docs.py --write roles/ecs_local    the same for the roles named
    python tools/role_docs.py --print roles/ecs_local    print the block a role's README.md must hold

The rule (docs/developing.md, "Role READMEs"): a role's README.md has one "## Role Variables" section
holding, between the BEGIN and END markers below, one table per entry point of the argument spec
(heading "### Entry point `<name>`", the entry point's short description, then
`| variable | type | default | description |`), one row per option in the spec's order. The default
column holds the spec's default in backticks, **required** for required options, and (none) for
options that have neither. Prose about the variables goes after the END marker. tests/unit/test_role_docs.py
checks every role that has a meta/argument_specs.yml.
"""

import argparse
import os
import re
import sys

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROLES_DIR = os.path.join(TOP, "roles")

SECTION_HEADING = "## Role Variables"
BEGIN_MARKER = (
    "<!-- BEGIN ROLE VARIABLES: generated from meta/argument_specs.yml by tools/role_docs.py --write; do not edit -->"
)
END_MARKER = "<!-- END ROLE VARIABLES -->"
TABLE_HEADER = "| variable | type | default | description |"
TABLE_RULE = "| --- | --- | --- | --- |"
REQUIRED = "**required**"
NO_DEFAULT = "(none)"
ENTRY_POINT_HEADING = re.compile(r"^### Entry point `([^`]+)`\s*$")

# Ansible's documentation markup: the classic C() I() B() M() U() L() and the semantic O() V() RV() E().
MARKUP = re.compile(r"\b(RV|[CIBMULOVE])\(")
HORIZONTAL_LINE = "HORIZONTALLINE"


class SpecError(Exception):
    """The argument spec cannot be read or is not a mapping of entry points."""


def role_dirs(roles_dir=ROLES_DIR):
    """Every role directory (a directory under roles/ with a tasks/ or meta/ directory), by name."""
    found = []
    for name in sorted(os.listdir(roles_dir)):
        path = os.path.join(roles_dir, name)
        if os.path.isdir(path) and (os.path.isdir(os.path.join(path, "tasks")) or os.path.isdir(os.path.join(path, "meta"))):
            found.append(path)
    return found


def spec_path(role_dir):
    return os.path.join(role_dir, "meta", "argument_specs.yml")


def load_spec(role_dir):
    """The role's ``argument_specs`` mapping: entry point name -> entry point spec."""
    path = spec_path(role_dir)
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    specs = (document or {}).get("argument_specs") if isinstance(document, dict) else None
    if not isinstance(specs, dict) or not specs:
        raise SpecError("%s has no argument_specs mapping" % path)
    for name, entry in specs.items():
        if not isinstance(entry, dict):
            raise SpecError("%s: entry point %s is not a mapping" % (path, name))
        if not isinstance(entry.get("options") or {}, dict):
            raise SpecError("%s: the options of entry point %s are not a mapping" % (path, name))
    return specs


# -- rendering ----------------------------------------------------------------------------------------

def _escape_cell(text):
    """A table cell: pipes escaped (GitHub and GitLab honour ``\\|`` inside code spans too), one line."""
    return " ".join(text.replace("|", "\\|").split())


def _flow(value):
    """A value the way a YAML flow collection would show it, strings unquoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join("%s: %s" % (_flow(key), _flow(item)) for key, item in value.items()) + "}"
    if isinstance(value, str) and value == "":
        return '""'
    return str(value)


def render_default(option):
    """The default column of one option."""
    if option.get("required"):
        return REQUIRED
    if "default" not in option:
        return NO_DEFAULT
    return "`%s`" % _escape_cell(_flow(option["default"]))


def render_type(option):
    kind = option.get("type", "str")
    if kind == "list" and option.get("elements"):
        return "list of %s" % option["elements"]
    return kind


def _markup_argument(text, start, escapes):
    """The argument of a markup call starting at ``start`` and the index after its closing parenthesis."""
    out = []
    index = start
    while index < len(text):
        char = text[index]
        if escapes and char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
            continue
        if char == ")":
            return "".join(out), index + 1
        out.append(char)
        index += 1
    return None, start


def _escape_prose(text):
    """Plain text in a Markdown cell: no HTML tags, no pipes."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def markdown(text):
    """Ansible documentation markup to Markdown (code spans, emphasis, links)."""
    text = str(text).replace(HORIZONTAL_LINE, "")
    out = []
    position = 0
    while True:
        match = MARKUP.search(text, position)
        if not match:
            out.append(_escape_prose(text[position:]))
            break
        kind = match.group(1)
        argument, end = _markup_argument(text, match.end(), escapes=kind in ("O", "V", "RV", "E"))
        if argument is None:
            out.append(_escape_prose(text[position:]))
            break
        out.append(_escape_prose(text[position:match.start()]))
        if kind in ("C", "V", "O", "RV", "E", "M"):
            if kind in ("O", "RV") and "#" in argument and ":" in argument.split("#", 1)[1]:
                # O(namespace.collection.plugin#type:option): the option's name is what a reader needs.
                argument = argument.split("#", 1)[1].split(":", 1)[1]
            out.append("`%s`" % argument)
        elif kind == "I":
            out.append("*%s*" % _escape_prose(argument))
        elif kind == "B":
            out.append("**%s**" % _escape_prose(argument))
        elif kind == "U":
            out.append("<%s>" % argument)
        elif kind == "L":
            label, url = argument.rsplit(",", 1) if "," in argument else ("", argument)
            out.append("[%s](%s)" % (_escape_prose(label.strip()), url.strip()))
        position = end
    return "".join(out)


def render_description(option):
    description = option.get("description") or ""
    paragraphs = description if isinstance(description, list) else [description]
    parts = [markdown(paragraph).strip() for paragraph in paragraphs if str(paragraph).strip()]
    if option.get("choices"):
        parts.append("Choices: %s." % ", ".join("`%s`" % _flow(choice) for choice in option["choices"]))
    if option.get("no_log"):
        parts.append("Never logged (`no_log`).")
    return _escape_cell("<br>".join(parts))


def render_row(name, option):
    return "| `%s` | %s | %s | %s |" % (name, _escape_cell(render_type(option)), render_default(option),
                                        render_description(option))


def render_block(specs, role):
    """The generated block (markers included) for the argument specs of role ``role``."""
    lines = [
        BEGIN_MARKER,
        "",
        "From `meta/argument_specs.yml`; `ansible-doc -t role autostack.wordpress.%s` shows the same." % role,
        "",
    ]
    for entry_point, entry in specs.items():
        lines.append("### Entry point `%s`" % entry_point)
        lines.append("")
        short = markdown(entry.get("short_description") or "").strip()
        if short:
            lines.append(short.rstrip(".") + ".")
            lines.append("")
        options = entry.get("options") or {}
        if options:
            lines.append(TABLE_HEADER)
            lines.append(TABLE_RULE)
            lines.extend(render_row(name, option or {}) for name, option in options.items())
        else:
            lines.append("No options.")
        lines.append("")
    lines.append(END_MARKER)
    return "\n".join(lines)


# -- reading a README --------------------------------------------------------------------------------

def split_row(line):
    """The cells of a Markdown table row, split on pipes that are not escaped."""
    text = line.strip()
    if not (text.startswith("|") and text.endswith("|")):
        return None
    cells = []
    current = []
    index = 1
    while index < len(text) - 1:
        char = text[index]
        if char == "\\" and index + 1 < len(text) - 1 and text[index + 1] == "|":
            current.append("\\|")
            index += 2
            continue
        if char == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        index += 1
    cells.append("".join(current).strip())
    return cells


def find_block(readme_text):
    """(block text or None, problems): the generated block of a README and what is wrong around it."""
    problems = []
    lines = readme_text.splitlines()
    headings = [index for index, line in enumerate(lines) if line.strip() == SECTION_HEADING]
    if len(headings) != 1:
        problems.append("README.md must have exactly one %r section (found %d)" % (SECTION_HEADING, len(headings)))
        return None, problems
    begins = [index for index, line in enumerate(lines) if line.strip() == BEGIN_MARKER]
    ends = [index for index, line in enumerate(lines) if line.strip() == END_MARKER]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        problems.append(
            "README.md must hold the generated block once, between %r and %r (found %d and %d)"
            % (BEGIN_MARKER, END_MARKER, len(begins), len(ends))
        )
        return None, problems
    between = lines[headings[0] + 1:begins[0]]
    if headings[0] > begins[0] or any(line.startswith("## ") for line in between):
        problems.append("the generated block must be inside the %r section" % SECTION_HEADING)
    return "\n".join(lines[begins[0]:ends[0] + 1]), problems


def parse_block(block):
    """entry point -> {variable: (type, default cell, description cell)} from a block's tables."""
    tables = {}
    current = None
    for line in block.splitlines():
        heading = ENTRY_POINT_HEADING.match(line)
        if heading:
            current = tables.setdefault(heading.group(1), {})
            continue
        cells = split_row(line)
        if cells is None or len(cells) < 2 or not re.match(r"^`[^`]+`$", cells[0]):
            continue
        if current is None:
            current = tables.setdefault("", {})
        name = cells[0].strip("`")
        padded = (cells + ["", "", ""])[:4]
        current[name] = (padded[1], padded[2], padded[3])
    return tables


# -- checking ----------------------------------------------------------------------------------------

def check_readme(specs, readme_text, role):
    """Every difference between a README's Role Variables tables and the argument specs, as sentences."""
    fix = "run python tools/role_docs.py --write roles/%s" % role
    block, problems = find_block(readme_text)
    if block is None:
        return problems + [fix]
    documented = parse_block(block)
    if "" in documented:
        problems.append("variable rows before any '### Entry point `<name>`' heading: %s"
                        % ", ".join(sorted(documented.pop(""))))
    for entry_point in documented:
        if entry_point not in specs:
            problems.append("README.md documents entry point %s, which meta/argument_specs.yml lacks" % entry_point)
    for entry_point, entry in specs.items():
        options = entry.get("options") or {}
        rows = documented.get(entry_point)
        if rows is None:
            problems.append("entry point %s (%d options) is not documented in README.md" % (entry_point, len(options)))
            continue
        for name in options:
            if name not in rows:
                problems.append("%s: option %s is missing from README.md" % (entry_point, name))
        for name in rows:
            if name not in options:
                problems.append("%s: README.md documents %s, which the argument spec lacks" % (entry_point, name))
        for name, option in options.items():
            if name not in rows:
                continue
            option = option or {}
            kind, default, description = rows[name]
            if option.get("required") and default != REQUIRED:
                problems.append("%s: %s is required but README.md says %r instead of %s" % (entry_point, name, default, REQUIRED))
            elif not option.get("required") and default == REQUIRED:
                problems.append("%s: README.md marks %s %s, but the spec does not require it" % (entry_point, name, REQUIRED))
            elif default != render_default(option):
                problems.append("%s: default of %s is %s in the spec, %s in README.md"
                                % (entry_point, name, render_default(option), default or "empty"))
            if kind != _escape_cell(render_type(option)):
                problems.append("%s: type of %s is %s in the spec, %r in README.md" % (entry_point, name, render_type(option), kind))
            if description != render_description(option):
                problems.append("%s: the description of %s differs from the spec's" % (entry_point, name))
    if not problems and block != render_block(specs, role):
        problems.append("the Role Variables block is not the one the spec generates (order or layout)")
    if problems:
        problems.append(fix)
    return problems


def write_readme(specs, readme_text, role):
    """The README with its generated block replaced (or added at the top of its Role Variables section)."""
    block = render_block(specs, role)
    lines = readme_text.splitlines()
    begins = [index for index, line in enumerate(lines) if line.strip() == BEGIN_MARKER]
    ends = [index for index, line in enumerate(lines) if line.strip() == END_MARKER]
    if len(begins) == 1 and len(ends) == 1 and begins[0] < ends[0]:
        new = lines[:begins[0]] + block.splitlines() + lines[ends[0] + 1:]
    else:
        headings = [index for index, line in enumerate(lines) if line.strip() == SECTION_HEADING]
        if headings:
            at = headings[0] + 1
            new = lines[:at] + [""] + block.splitlines() + lines[at:]
        else:
            new = lines + ["", SECTION_HEADING, ""] + block.splitlines()
    return "\n".join(new).rstrip("\n") + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the generated block of each README.md")
    mode.add_argument("--print", action="store_true", help="print the generated block")
    parser.add_argument("roles", nargs="*", help="role directories (default: every role with an argument spec)")
    args = parser.parse_args(argv)

    dirs = [os.path.abspath(path) for path in args.roles] or [path for path in role_dirs() if os.path.exists(spec_path(path))]
    failed = False
    for role_dir in dirs:
        role = os.path.basename(role_dir)
        specs = load_spec(role_dir)
        readme = os.path.join(role_dir, "README.md")
        if args.print:
            print(render_block(specs, role))
            continue
        text = ""
        if os.path.exists(readme):
            with open(readme, encoding="utf-8") as handle:
                text = handle.read()
        if args.write:
            new = write_readme(specs, text or "# autostack.wordpress.%s\n" % role, role)
            if new != text:
                with open(readme, "w", encoding="utf-8") as handle:
                    handle.write(new)
                print("%s: Role Variables rewritten" % os.path.relpath(readme, TOP))
            continue
        problems = check_readme(specs, text, role) if text else ["README.md is missing"]
        for problem in problems:
            print("%s: %s" % (role, problem))
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
