# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the callback ``autostack.wordpress.stack_summary`` prints, without Ansible's machinery.

Counting changed tasks per group, timing tasks, reading the outputs file and formatting the summary
(see the callback's documentation); not a public interface.
"""

from __future__ import annotations

import json
import os
import re
import socket
import urllib.parse

# The only keys of the outputs file the summary shows, in this order, with their labels. Nothing else
# of the file is printed: it holds secret ARNs and ids the summary has no use for.
SUMMARY_FIELDS = (
    ("url", "wordpress_url"),
    ("local url", "wordpress_local_url"),
    ("image", "wp_image_uri"),
    ("cluster", "ecs_cluster_name"),
    ("service", "ecs_service_name"),
    ("task def", "ecs_task_definition_arn"),
    ("database", "rds_endpoint"),
)
# Keys of every outputs file that say nothing about what was built.
RESERVED_KEYS = ("stack", "updated_at")
# Shown with the database endpoint, never on its own.
DATABASE_PORT_KEY = "rds_port"
LABEL_WIDTH = 10
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


class ChangeCounts:
    """Changed tasks per group (a role's name, or the play's for tasks outside roles), in first-seen order."""

    def __init__(self):
        self.counts = {}

    def add(self, group):
        self.counts[group] = self.counts.get(group, 0) + 1

    def total(self):
        return sum(self.counts.values())

    def __bool__(self):
        return bool(self.counts)

    def text(self):
        """``vpc 3, rds 1``: the groups in the order their first change came."""
        return ", ".join("%s %d" % (group, count) for group, count in self.counts.items())


class TaskTimer:
    """How long each task took: from its start to the last result of any host.

    ``start(key, label, now)`` opens a task (``key`` identifies it, ``label`` is what the summary shows);
    ``finish(key, now)`` records a host's result. A task started again under the same key (a handler
    notified in two plays) is timed again as a task of its own.
    """

    def __init__(self):
        self.tasks = []
        self._open = {}

    def start(self, key, label, now):
        entry = {"label": label, "started": now, "ended": None}
        self.tasks.append(entry)
        self._open[key] = entry

    def finish(self, key, now):
        entry = self._open.get(key)
        if entry is not None and (entry["ended"] is None or now > entry["ended"]):
            entry["ended"] = now

    def finished(self):
        """``(label, seconds)`` of every task that got a result, in run order."""
        return [(entry["label"], entry["ended"] - entry["started"]) for entry in self.tasks if entry["ended"] is not None]

    def slowest(self, count):
        """The ``count`` slowest finished tasks, slowest first (run order among equals)."""
        return sorted(self.finished(), key=lambda item: -item[1])[:count]


def format_duration(seconds):
    """``0.42s``, ``12.30s``, ``2m05s``, ``1h02m05s``."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return "%.2fs" % seconds
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%dh%02dm%02ds" % (hours, minutes, secs)
    return "%dm%02ds" % (minutes, secs)


def display_value(value):
    """A scalar of the outputs file as one line of text; ``None`` for what the summary does not show.

    Lists, mappings and empty values are not shown. Control characters become spaces, so that a value
    cannot start lines of its own, and credentials in a URL (``scheme://user:password@host``) are dropped.
    """
    if value is None or isinstance(value, (dict, list, tuple, bool)):
        return None
    text = CONTROL_CHARACTERS.sub(" ", str(value)).strip()
    if not text:
        return None
    if "://" in text and "@" in text:
        try:
            parts = urllib.parse.urlsplit(text)
        except ValueError:
            return text
        if "@" in parts.netloc:
            text = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return text


def read_outputs(path):
    """``(document, problem)`` of an outputs file: ``(None, None)`` when there is none, ``(None, why)`` when unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None, None
    except OSError as e:
        return None, "cannot read it: %s" % (e.strerror or e)
    try:
        document = json.loads(text)
    except ValueError:
        return None, "not valid JSON"
    if not isinstance(document, dict):
        return None, "not a JSON object"
    return document, None


def display_path(path, cwd=None):
    """The path relative to ``cwd`` when it lies under it, else absolute; normalised either way."""
    path = os.path.normpath(os.path.abspath(path))
    cwd = os.path.abspath(cwd or os.getcwd())
    if path == cwd or path.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(path, cwd)
    return path


def _line(label, text):
    return "%-*s %s" % (LABEL_WIDTH, label, text)


def stack_lines(stack, path, document, problem, cwd=None):
    """The lines of one stack: its name and outputs file, then the summary fields it records."""
    where = display_path(path, cwd)
    if problem:
        return [_line("stack", "%s (%s: %s)" % (stack, where, problem))]
    if document is None:
        return [_line("stack", "%s (no outputs file: %s)" % (stack, where))]
    updated = display_value(document.get("updated_at"))
    lines = [_line("stack", "%s (%s%s)" % (stack, where, ", updated " + updated if updated else ""))]
    for label, key in SUMMARY_FIELDS:
        text = display_value(document.get(key))
        if text is None:
            continue
        if key == "rds_endpoint":
            port = display_value(document.get(DATABASE_PORT_KEY))
            if port:
                text = "%s:%s" % (text, port)
        lines.append(_line(label, text))
    kept = document.get("kept")
    if isinstance(kept, (list, dict)) and kept:
        lines.append(_line("kept", "%d resource(s) kept on purpose, listed in the outputs file" % len(kept)))
    return lines


def _tasks(count):
    return "%d task%s" % (count, "" if count == 1 else "s")


def change_lines(changed, would_change, check_mode):
    """What changed. ``changed`` and ``would_change`` are ChangeCounts: tasks run for real, and in check mode."""
    lines = []
    if check_mode:
        if would_change:
            lines.append("check mode: nothing changed on the stack; %s would change (%s)" % (_tasks(would_change.total()), would_change.text()))
        else:
            lines.append("check mode: nothing changed on the stack, and nothing would change")
        if changed:
            lines.append("changed anyway: %s run with check_mode: false (%s)" % (_tasks(changed.total()), changed.text()))
        return lines
    if changed:
        lines.append("changed: %s (%s)" % (_tasks(changed.total()), changed.text()))
    else:
        lines.append("changed: nothing")
    if would_change:
        lines.append("check mode tasks (check_mode: true) that would change: %s (%s)" % (_tasks(would_change.total()), would_change.text()))
    return lines


def timing_lines(timer, count, run_seconds=None):
    """The ``count`` slowest tasks with their durations, after a header that says how many ran."""
    finished = timer.finished()
    slowest = timer.slowest(count)
    header = "slowest %d of %s" % (len(slowest), _tasks(len(finished)))
    if run_seconds is not None:
        header += ", run took %s" % format_duration(run_seconds)
    lines = [header + ":"]
    durations = [format_duration(seconds) for _label, seconds in slowest]
    width = max([len(text) for text in durations] or [0])
    for (label, _seconds), text in zip(slowest, durations):
        lines.append("  %*s  %s" % (width, text, CONTROL_CHARACTERS.sub(" ", label)))
    return lines


def recorded_keys(document):
    """The keys an outputs file records, in its order, without the reserved ones (``stack``, ``updated_at``)."""
    if not isinstance(document, dict):
        return []
    return [str(key) for key in document if key not in RESERVED_KEYS]


# Error codes and messages of AWS (and botocore) that mean the credentials were refused or not found.
CREDENTIALS_ERRORS = re.compile(
    r"\b(InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClientException|AuthFailure|ExpiredToken(?:Exception)?|"
    r"InvalidAccessKeyId|InvalidSignatureException|MissingAuthenticationToken|IncompleteSignature|NoCredentialsError|"
    r"Unable to locate credentials)\b"
)


def credentials_error(result):
    """The credentials error a failed task's result names (its ``error.code`` or its message), or ``None``."""
    if not isinstance(result, dict):
        return None
    error = result.get("error")
    texts = [error.get("code")] if isinstance(error, dict) else []
    texts += [result.get("msg"), result.get("exception")]
    for text in texts:
        if isinstance(text, str):
            match = CREDENTIALS_ERRORS.search(text)
            if match:
                return match.group(1)
    return None


def credentials_lines(refused):
    """After a failure caused by refused credentials: which variables and settings hold them.

    ``refused`` is ``(task label, error code)`` of the first task that failed so, or ``None``.
    """
    if not refused:
        return []
    label, code = refused
    return [
        "credentials: AWS refused them (%s, task '%s'). On the local cloud they are autostack_aws_access_key and "
        "autostack_aws_secret_key (from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); on AWS boto3 finds them in "
        "AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN) or ~/.aws; "
        "aws sts get-caller-identity shows what AWS makes of them" % (code, CONTROL_CHARACTERS.sub(" ", label))
    ]


def endpoint_problem(url, timeout=2.0):
    """Why ``url``'s host and port do not accept a TCP connection now, or ``None`` when they do (or ``url`` is no URL)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return None
    except OSError as e:
        return e.strerror or str(e) or type(e).__name__


def endpoint_lines(stacks_endpoints, probe=endpoint_problem):
    """After a failure: each recorded endpoint (the local cloud) that does not answer now, and what that means.

    A run whose endpoint stopped in the middle fails with whatever call came next, in that module's words;
    this names the cause. ``stacks_endpoints`` is a list of ``(stack, endpoint_url)``.
    """
    lines = []
    for stack, url in stacks_endpoints:
        text = display_value(url)
        if not text:
            continue
        problem = probe(text)
        if problem:
            lines.append(
                "endpoint: %s, where %s lives (autostack_endpoint_url), does not accept connections now (%s): the local cloud "
                "stopped, or runs elsewhere (python tools/localcloud/localcloud.py status). A local cloud that stopped has "
                "forgotten the stack: start it and run the phases again" % (text, stack, problem)
            )
    return lines


def failure_lines(failed_hosts, recorded, changed, check_mode, built=None):
    """What a failed run leaves: what it changed, what the outputs record, and how to finish or remove it.

    ``recorded`` is a list of ``(stack, keys)``: the keys each stack's outputs file records (names only, never
    values). ``built`` counts the changes other than records in the outputs file (``changed`` when not given).
    A run that built something before it failed left a partly built stack: the report says so, with the commands
    that finish it (the same run again) and remove it (``playbooks/destroy.yml``).
    """
    hosts = ", ".join(failed_hosts)
    if check_mode:
        return ["failed: %s; check mode changed nothing on the stack" % hosts]
    records = "; ".join(
        "%s's outputs file records %s" % (stack, ", ".join(keys)) if keys else "%s's outputs file records nothing" % stack
        for stack, keys in recorded
    )
    if not (changed if built is None else built):
        return ["failed: %s; this run made no change to the stack before it stopped%s" % (hosts, " (%s)" % records if records else "")]
    names = [stack for stack, _keys in recorded]
    destroy = "ansible-playbook playbooks/destroy.yml -e autostack_stack_name=%s" % (names[0] if len(names) == 1 else "<stack>")
    return [
        "failed: %s" % hosts,
        "partly built: this run changed %s before it stopped (%s)%s" % (_tasks(changed.total()), changed.text(), "; " + records if records else ""),
        "next: fix the cause and run the same command again (each role picks up what exists), or remove the stack: %s" % destroy,
    ]


def summary_lines(stacks, changed, would_change, check_mode=False, failed_hosts=(), timer=None, timing_count=10, run_seconds=None, cwd=None,
                  probe=endpoint_problem, built=None, refused=None):
    """Every line of the summary, or ``[]`` when there is nothing to say.

    ``stacks`` is a list of ``(stack, outputs_path)``. Nothing is said for a run that knows no stack (a
    playbook that is not the project's), nor when no stack has an outputs file (readable or not) and no task
    changed or would change (a run that did nothing). A failed run always gets its report (``failure_lines``), and
    ``probe`` (``endpoint_problem``) checks the endpoints its outputs record (``endpoint_lines``). ``built`` counts the
    changes other than outputs records; ``refused`` is ``(task, code)`` of the first task AWS refused the credentials of.
    """
    if not stacks:
        return []
    blocks = []
    recorded = []
    endpoints = []
    any_file = False
    for stack, path in stacks:
        document, problem = read_outputs(path)
        any_file = any_file or document is not None or problem is not None
        blocks.extend(stack_lines(stack, path, document, problem, cwd))
        recorded.append((stack, recorded_keys(document)))
        if isinstance(document, dict) and document.get("endpoint_url"):
            endpoints.append((stack, document["endpoint_url"]))
    if not any_file and not changed and not would_change and not failed_hosts:
        return []
    lines = blocks + change_lines(changed, would_change, check_mode)
    if failed_hosts:
        lines.extend(failure_lines(failed_hosts, recorded, changed, check_mode, built))
        lines.extend(credentials_lines(refused))
        lines.extend(endpoint_lines(endpoints, probe))
    if timer is not None:
        lines.extend(timing_lines(timer, timing_count, run_seconds))
    return lines
