# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: stack_summary
type: aggregate
short_description: A short summary of the stack after the play recap, and optionally the slowest tasks
version_added: 0.1.0
author:
  - autostack contributors (@autostack)
description:
  - At the end of a run, after the play recap, prints the stack's name, its outputs file, and from that file the
    WordPress URL (C(wordpress_url), and C(wordpress_local_url) when recorded), the image (C(wp_image_uri)), the ECS
    cluster (C(ecs_cluster_name)), service (C(ecs_service_name)) and task definition (C(ecs_task_definition_arn)),
    and the database endpoint (C(rds_endpoint) and C(rds_port)); then how many tasks changed, per role (tasks outside
    roles count under their play's name).
  - Only those keys of the outputs file are printed, never the others (secret ARNs, ids), and credentials in a URL
    are dropped. The file is read at the end of the run, so it shows what the run left.
  - The stack and its outputs file are learned from the results of M(autostack.wordpress.stack_outputs), which the
    project's playbooks run; a run that records nothing (or hides it with C(no_log)) falls back on the variables
    C(autostack_stack_name) and C(autostack_outputs_dir) of its plays (inventory, play or extra variables), evaluated
    for each play's first host.
  - In check mode it says that nothing changed on the stack and how many tasks would change, per role; tasks run with
    C(check_mode=false) are counted apart, as real changes.
  - After a failed run it says what the run left. When tasks changed before the failure, the stack is partly built;
    it lists the changes per role and the keys (names, never values) the outputs file records, then how to finish
    (the same command again, every role picks up what exists) or remove it (C(playbooks/destroy.yml)). When nothing
    changed it says so (a run stopped by a preflight check made nothing). Under C(--check) it says nothing changed.
    When the outputs file records an endpoint (C(endpoint_url), the local cloud's) that does not accept a TCP
    connection any more (2 s at most), it says so, since the module that failed then names only its own call.
    When AWS refused the credentials (C(InvalidClientTokenId), C(SignatureDoesNotMatch), C(AuthFailure),
    C(ExpiredToken), ...), it names the variables and settings they come from. Records in the outputs file alone
    do not make a stack partly built.
  - Prints nothing for a run that knows no stack, nor when the stack has no outputs file and no task changed, would
    change or failed. A syntax check or a listing (C(--syntax-check), C(--list-tasks)) runs no play and prints nothing.
  - With O(timing), adds the O(timing_count) slowest tasks, each timed from its start to the last host's result.
requirements:
  - enabled in C(callbacks_enabled) (the project's C(ansible.cfg) enables it)
options:
  timing:
    description:
      - Add the slowest tasks, with their durations, to the summary.
    type: bool
    default: false
    env:
      - name: AUTOSTACK_TIMING
    ini:
      - section: callback_stack_summary
        key: timing
  timing_count:
    description:
      - How many of the slowest tasks O(timing) shows.
    type: int
    default: 10
    env:
      - name: AUTOSTACK_TIMING_COUNT
    ini:
      - section: callback_stack_summary
        key: timing_count
notes:
  - C(ANSIBLE_CALLBACKS_ENABLED) replaces C(callbacks_enabled) of C(ansible.cfg); keep this callback in it when adding
    others.
"""

EXAMPLES = r"""
# ansible.cfg
#   [defaults]
#   callbacks_enabled = autostack.wordpress.stack_summary
#
# The slowest 10 tasks as well:
#   AUTOSTACK_TIMING=1 ansible-playbook site.yml
#   make up TIMING=1
#
# What it prints after the recap:
#   STACK SUMMARY ******************************************************************
#   stack      wordpress (outputs/wordpress.json, updated 2026-05-10T09:12:44Z)
#   url        http://wordpress-alb-1234567890.eu-west-1.elb.amazonaws.com
#   image      123456789012.dkr.ecr.eu-west-1.amazonaws.com/wordpress/wordpress:6.8.3-0123456789ab
#   cluster    wordpress
#   service    wordpress-wordpress
#   task def   arn:aws:ecs:eu-west-1:123456789012:task-definition/wordpress-wordpress:3
#   database   wordpress-db.abcdefghijkl.eu-west-1.rds.amazonaws.com:3306
#   changed: 4 tasks (wp_image 3, ecs_service 1)
#
# After a run that failed half-way:
#   STACK SUMMARY ******************************************************************
#   stack      wordpress (outputs/wordpress.json, updated 2026-05-10T09:12:44Z)
#   changed: 14 tasks (play 'Infrastructure' 1, vpc 12, rds 1)
#   failed: localhost
#   partly built: this run changed 14 tasks before it stopped (play 'Infrastructure' 1, vpc 12, rds 1); wordpress's
#   outputs file records availability_zones, endpoint_url, private_subnet_ids, public_subnet_ids, region,
#   security_group_ids, vpc_id
#   next: fix the cause and run the same command again (each role picks up what exists), or remove the stack:
#   ansible-playbook playbooks/destroy.yml -e autostack_stack_name=wordpress
#   endpoint: http://127.0.0.1:4575, where wordpress lives (autostack_endpoint_url), does not accept connections now
#   (Connection refused): the local cloud stopped, or runs elsewhere (python tools/localcloud/localcloud.py status).
#   A local cloud that stopped has forgotten the stack: start it and run the phases again
"""

import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible.template import Templar

from ansible_collections.autostack.wordpress.plugins.plugin_utils._stack_summary import ChangeCounts
from ansible_collections.autostack.wordpress.plugins.plugin_utils._stack_summary import TaskTimer
from ansible_collections.autostack.wordpress.plugins.plugin_utils._stack_summary import credentials_error
from ansible_collections.autostack.wordpress.plugins.plugin_utils._stack_summary import summary_lines

OUTPUTS_MODULE = "stack_outputs"
STACK_VARIABLE = "autostack_stack_name"
OUTPUTS_DIR_VARIABLE = "autostack_outputs_dir"
DEFAULT_TIMING_COUNT = 10


def _task_of(result):
    # ``task`` and ``result`` are public from ansible-core 2.19; ``_task`` and ``_result`` before.
    task = getattr(result, "task", None)
    return task if task is not None else result._task


def _result_of(result):
    value = getattr(result, "result", None)
    return value if value is not None else result._result


def _task_label(task):
    """``role : task`` with the role's short name, as a run shows it without the collection."""
    try:
        return task.get_name(include_role_fqcn=False).strip()
    except TypeError:
        # include_role's get_name() takes no argument.
        return task.get_name().strip()


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "autostack.wordpress.stack_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._run_started = time.monotonic()
        self._plays = []
        self._play_name = ""
        # outputs path (absolute, normalised) -> stack name, in the order the run recorded them
        self._stacks = {}
        self._changed = ChangeCounts()
        # Real changes other than records in the outputs file: what was built on the stack.
        self._built = ChangeCounts()
        # (task, error code) of the first task that failed because AWS refused the credentials.
        self._refused = None
        self._would_change = ChangeCounts()
        self._timer = TaskTimer()

    # --- what the run does ------------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        self._run_started = time.monotonic()

    def v2_playbook_on_play_start(self, play):
        self._plays.append(play)
        self._play_name = play.get_name().strip()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._timer.start(task._uuid, _task_label(task), time.monotonic())

    def v2_playbook_on_handler_task_start(self, task):
        self._timer.start(task._uuid, _task_label(task), time.monotonic())

    def v2_runner_on_ok(self, result):
        task, data = _task_of(result), _result_of(result)
        self._timer.finish(task._uuid, time.monotonic())
        records = str(task.action).rsplit(".", 1)[-1] == OUTPUTS_MODULE
        if data.get("changed"):
            check = self._in_check_mode(task)
            (self._would_change if check else self._changed).add(self._group(task))
            if not check and not records:
                self._built.add(self._group(task))
        if records:
            for item in [data] + [item for item in data.get("results") or [] if isinstance(item, dict)]:
                self._record_stack(item)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        task = _task_of(result)
        self._timer.finish(task._uuid, time.monotonic())
        if not ignore_errors and self._refused is None:
            code = credentials_error(_result_of(result))
            if code:
                self._refused = (_task_label(task), code)

    def v2_runner_on_skipped(self, result):
        self._timer.finish(_task_of(result)._uuid, time.monotonic())

    def v2_runner_on_unreachable(self, result):
        self._timer.finish(_task_of(result)._uuid, time.monotonic())

    # --- the summary ------------------------------------------------------------------------------------

    def v2_playbook_on_stats(self, stats):
        stacks = list(self._stacks.items()) or self._stacks_from_plays()
        timer, count = None, DEFAULT_TIMING_COUNT
        if self.get_option("timing"):
            timer, count = self._timer, self.get_option("timing_count")
            if count is None or count < 1:
                self._display.warning(
                    "stack_summary: timing_count (AUTOSTACK_TIMING_COUNT) must be 1 or more, not %r; showing %d tasks"
                    % (count, DEFAULT_TIMING_COUNT)
                )
                count = DEFAULT_TIMING_COUNT
        failed = sorted(host for host in stats.processed if stats.failures.get(host) or stats.dark.get(host))
        lines = summary_lines(
            [(stack, path) for path, stack in stacks],
            self._changed,
            self._would_change,
            check_mode=bool(context.CLIARGS.get("check", False)),
            failed_hosts=failed,
            timer=timer,
            timing_count=count,
            run_seconds=time.monotonic() - self._run_started,
            built=self._built,
            refused=self._refused,
        )
        if not lines:
            return
        self._display.banner("STACK SUMMARY", cows=False)
        for line in lines:
            self._display.display(line)
        self._display.display("")

    # --- helpers ----------------------------------------------------------------------------------------

    def _group(self, task):
        """The role a task belongs to (short name), else its play."""
        role = getattr(task, "_role", None)
        if role is not None:
            return role.get_name(include_role_fqcn=False)
        return "play '%s'" % self._play_name if self._play_name else "play"

    @staticmethod
    def _in_check_mode(task):
        """Whether the task ran in check mode: its own check_mode, else the command line's --check."""
        value = getattr(task, "check_mode", None)
        if isinstance(value, bool):
            return value
        return bool(context.CLIARGS.get("check", False))

    def _record_stack(self, data):
        path = data.get("outputs_path")
        if not isinstance(path, str) or not path.endswith(".json"):
            return
        outputs = data.get("outputs") if isinstance(data.get("outputs"), dict) else {}
        stack = outputs.get("stack") or os.path.basename(path)[:-len(".json")]
        self._stacks.setdefault(os.path.normpath(os.path.abspath(path)), str(stack))

    def _stacks_from_plays(self):
        """``[(path, stack)]`` from the plays' variables, for a run that recorded no outputs (or hid them: no_log)."""
        found = {}
        for play in self._plays:
            try:
                entry = self._stack_of_play(play)
            except Exception as e:  # pylint: disable=broad-exception-caught
                # Only a summary is at stake: say why at -vvv, never fail the run's end.
                self._display.vvv("stack_summary: no stack from play %r: %s" % (play.get_name(), e))
                continue
            if entry:
                found.setdefault(entry[0], entry[1])
        return list(found.items())

    def _stack_of_play(self, play):
        variable_manager, loader = play.get_variable_manager(), play.get_loader()
        if variable_manager is None:
            return None
        inventory = getattr(variable_manager, "_inventory", None)
        hosts = inventory.get_hosts(play.hosts) if inventory is not None else []
        variables = variable_manager.get_vars(play=play, host=hosts[0] if hosts else None, include_hostvars=False)
        if STACK_VARIABLE not in variables or OUTPUTS_DIR_VARIABLE not in variables:
            return None
        templar = Templar(loader=loader, variables=variables)
        stack = templar.template(variables[STACK_VARIABLE])
        directory = templar.template(variables[OUTPUTS_DIR_VARIABLE])
        if not isinstance(stack, str) or not isinstance(directory, str) or not stack or not directory:
            return None
        if "{{" in stack or "{{" in directory:
            return None
        path = os.path.join(os.path.expanduser(directory), stack + ".json")
        return os.path.normpath(os.path.abspath(path)), stack
