# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The stack_summary callback: its pure logic (plugin_utils/_stack_summary.py) and its event handling with fake
tasks and results (the real thing runs in tests/integration/test_callback_stack_summary.py)."""

from __future__ import annotations

import json
import uuid

import pytest

from ansible_collections.autostack.wordpress.plugins.callback import stack_summary as callback
from ansible_collections.autostack.wordpress.plugins.modules.stack_outputs import secret_like_keys
from ansible_collections.autostack.wordpress.plugins.plugin_utils import _stack_summary as summary

SENTINEL = "pw-" + uuid.uuid4().hex

DOCUMENT = {
    "stack": "wp",
    "updated_at": "2026-05-10T09:12:44Z",
    "wordpress_url": "http://wp-alb.example.com",
    "wordpress_local_url": "http://127.0.0.1:8080",
    "wp_image_uri": "127.0.0.1:4576/wp/wordpress:6.8.3-abc",
    "ecs_cluster_name": "wp",
    "ecs_service_name": "wp-wordpress",
    "ecs_task_definition_arn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/wp-wordpress:3",
    "rds_endpoint": "wp-db.abc.eu-west-1.rds.amazonaws.com",
    "rds_port": 3306,
    "rds_master_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:wp/rds/master-AbCdEf",
    "wordpress_keys_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:wp/wordpress/keys-AbCdEf",
    "vpc_id": "vpc-0123",
    # What the module refuses, as if written by hand: never shown.
    "rds_master_password": SENTINEL,
    "db_admin_secret": SENTINEL,
}


def counts(*groups):
    result = summary.ChangeCounts()
    for group in groups:
        result.add(group)
    return result


@pytest.fixture
def outputs(tmp_path):
    path = tmp_path / "outputs" / "wp.json"
    path.parent.mkdir()
    path.write_text(json.dumps(DOCUMENT))
    return path


# --- pure logic ---------------------------------------------------------------------------------------------


def test_summary_keys_are_not_secrets_by_the_modules_rule():
    keys = [key for _label, key in summary.SUMMARY_FIELDS] + [summary.DATABASE_PORT_KEY]
    assert secret_like_keys(dict.fromkeys(keys, "x")) == []


def test_change_counts_keep_first_seen_order():
    changes = counts("vpc", "rds", "vpc", "play 'Infra'", "vpc")
    assert changes.total() == 5
    assert changes.text() == "vpc 3, rds 1, play 'Infra' 1"
    assert bool(changes) and not summary.ChangeCounts()


def test_task_timer_runs_to_the_last_host_and_skips_unfinished_tasks():
    timer = summary.TaskTimer()
    timer.start("a", "vpc : Create the VPC", 10.0)
    timer.finish("a", 12.0)
    timer.finish("a", 15.5)  # a second host, later
    timer.finish("a", 11.0)  # an earlier result does not shorten it
    timer.start("b", "rds : Wait", 15.5)
    timer.finish("b", 16.0)
    timer.start("c", "never ends", 16.0)
    timer.finish("unknown", 99.0)
    timer.start("b", "rds : Wait", 20.0)  # the same task again: timed on its own
    timer.finish("b", 27.0)
    assert timer.finished() == [("vpc : Create the VPC", 5.5), ("rds : Wait", 0.5), ("rds : Wait", 7.0)]
    assert timer.slowest(2) == [("rds : Wait", 7.0), ("vpc : Create the VPC", 5.5)]
    assert timer.slowest(10)[-1] == ("rds : Wait", 0.5)


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0.00s"), (0.4213, "0.42s"), (12.3, "12.30s"), (59.99, "59.99s"), (125.2, "2m05s"), (3725, "1h02m05s"), (-1, "0.00s")],
)
def test_format_duration(seconds, text):
    assert summary.format_duration(seconds) == text


@pytest.mark.parametrize(
    "value, text",
    [
        ("http://wp.example.com/", "http://wp.example.com/"),
        ("http://admin:" + SENTINEL + "@wp.example.com:8080/x", "http://wp.example.com:8080/x"),
        ("line one\nFAKE: line two\t", "line one FAKE: line two"),
        (3306, "3306"),
        ("", None),
        ("   ", None),
        (None, None),
        (True, None),
        (["a"], None),
        ({"a": 1}, None),
    ],
)
def test_display_value(value, text):
    assert summary.display_value(value) == text


def test_read_outputs(tmp_path):
    assert summary.read_outputs(str(tmp_path / "missing.json")) == (None, None)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert summary.read_outputs(str(bad)) == (None, "not valid JSON")
    bad.write_text("[1, 2]")
    assert summary.read_outputs(str(bad)) == (None, "not a JSON object")
    bad.write_text('{"stack": "s"}')
    assert summary.read_outputs(str(bad)) == ({"stack": "s"}, None)


def test_display_path(tmp_path):
    assert summary.display_path(str(tmp_path / "a" / ".." / "o.json"), cwd=str(tmp_path)) == "o.json"
    assert summary.display_path("/elsewhere/o.json", cwd=str(tmp_path)) == "/elsewhere/o.json"


def test_summary_shows_the_fields_in_order_and_nothing_else(outputs, tmp_path):
    lines = summary.summary_lines([("wp", str(outputs))], counts("vpc", "vpc", "ecs_service"), counts(), cwd=str(tmp_path))
    assert lines == [
        "stack      wp (outputs/wp.json, updated 2026-05-10T09:12:44Z)",
        "url        http://wp-alb.example.com",
        "local url  http://127.0.0.1:8080",
        "image      127.0.0.1:4576/wp/wordpress:6.8.3-abc",
        "cluster    wp",
        "service    wp-wordpress",
        "task def   arn:aws:ecs:eu-west-1:123456789012:task-definition/wp-wordpress:3",
        "database   wp-db.abc.eu-west-1.rds.amazonaws.com:3306",
        "changed: 3 tasks (vpc 2, ecs_service 1)",
    ]
    text = "\n".join(lines)
    assert SENTINEL not in text
    assert "secretsmanager" not in text and "vpc-0123" not in text


def test_summary_of_a_partial_stack_and_an_unchanged_run(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"stack": "s", "rds_endpoint": "db.local", "kept": [{"id": "snap-1"}, {"id": "x"}]}))
    lines = summary.summary_lines([("s", str(path))], counts(), counts(), cwd=str(tmp_path))
    assert lines == [
        "stack      s (s.json)",
        "database   db.local",
        "kept       2 resource(s) kept on purpose, listed in the outputs file",
        "changed: nothing",
    ]


def test_nothing_to_say(tmp_path):
    missing = str(tmp_path / "none.json")
    assert summary.summary_lines([], counts("vpc"), counts()) == []
    assert summary.summary_lines([("s", missing)], counts(), counts()) == []
    assert summary.summary_lines([("s", missing)], counts(), counts(), check_mode=True, timer=summary.TaskTimer()) == []


def test_a_removed_or_unreadable_outputs_file_is_said(tmp_path):
    missing = str(tmp_path / "gone.json")
    lines = summary.summary_lines([("s", missing)], counts("rds"), counts(), cwd=str(tmp_path))
    assert lines == ["stack      s (no outputs file: gone.json)", "changed: 1 task (rds 1)"]
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    lines = summary.summary_lines([("s", str(bad))], counts(), counts(), cwd=str(tmp_path))
    assert lines == ["stack      s (bad.json: not valid JSON)", "changed: nothing"]


def test_check_mode_notes(outputs):
    stacks = [("wp", str(outputs))]
    lines = summary.summary_lines(stacks, counts(), counts(), check_mode=True)
    assert lines[-1] == "check mode: nothing changed on the stack, and nothing would change"
    lines = summary.summary_lines(stacks, counts(), counts("vpc", "alb"), check_mode=True)
    assert lines[-1] == "check mode: nothing changed on the stack; 2 tasks would change (vpc 1, alb 1)"
    lines = summary.summary_lines(stacks, counts("play 'Test'"), counts("vpc"), check_mode=True)
    assert lines[-2:] == [
        "check mode: nothing changed on the stack; 1 task would change (vpc 1)",
        "changed anyway: 1 task run with check_mode: false (play 'Test' 1)",
    ]
    # Without --check, a task with check_mode: true that reports a change changed nothing.
    lines = summary.summary_lines(stacks, counts(), counts("rds"))
    assert lines[-2:] == ["changed: nothing", "check mode tasks (check_mode: true) that would change: 1 task (rds 1)"]


def test_failed_hosts_and_timing(outputs):
    timer = summary.TaskTimer()
    for index, seconds in enumerate([0.5, 75.0, 3.25, 12.3]):
        timer.start(index, "task %d" % index, 100.0)
        timer.finish(index, 100.0 + seconds)
    lines = summary.summary_lines([("wp", str(outputs))], counts(), counts(), failed_hosts=["localhost"], timer=timer, timing_count=3, run_seconds=80)
    assert lines[-5:] == [
        "failed: localhost; this run made no change to the stack before it stopped (wp's outputs file records "
        "wordpress_url, wordpress_local_url, wp_image_uri, ecs_cluster_name, ecs_service_name, ecs_task_definition_arn, "
        "rds_endpoint, rds_port, rds_master_secret_arn, wordpress_keys_secret_arn, vpc_id, rds_master_password, db_admin_secret)",
        "slowest 3 of 4 tasks, run took 1m20s:",
        "   1m15s  task 1",
        "  12.30s  task 3",
        "   3.25s  task 2",
    ]


def test_a_failed_run_that_changed_things_is_reported_partly_built(tmp_path):
    path = tmp_path / "ftx.json"
    path.write_text(json.dumps({"stack": "ftx", "updated_at": "2026-05-10T09:12:44Z", "region": "eu-west-1", "vpc_id": "vpc-1",
                                "rds_master_secret_arn": "arn:aws:secretsmanager:eu-west-1:1:secret:" + SENTINEL}))
    lines = summary.summary_lines([("ftx", str(path))], counts("vpc", "vpc", "rds"), counts(), failed_hosts=["localhost"])
    assert lines[-3:] == [
        "failed: localhost",
        "partly built: this run changed 3 tasks before it stopped (vpc 2, rds 1); ftx's outputs file records region, vpc_id, rds_master_secret_arn",
        "next: fix the cause and run the same command again (each role picks up what exists), or remove the stack: "
        "ansible-playbook playbooks/destroy.yml -e autostack_stack_name=ftx",
    ]
    assert SENTINEL not in "\n".join(lines)


def test_a_failed_run_that_changed_nothing_says_so_even_without_outputs(tmp_path):
    # A run stopped by the preflight (endpoint down, credentials refused) made nothing, not even the outputs file.
    lines = summary.summary_lines([("ftx", str(tmp_path / "ftx.json"))], counts(), counts(), failed_hosts=["localhost"])
    assert lines[0].startswith("stack      ftx (no outputs file: ")
    assert lines[1:] == [
        "changed: nothing",
        "failed: localhost; this run made no change to the stack before it stopped (ftx's outputs file records nothing)",
    ]
    # Nothing failed, nothing changed, no file: still nothing to say.
    assert summary.summary_lines([("ftx", str(tmp_path / "ftx.json"))], counts(), counts()) == []


def test_a_failed_check_run_changed_nothing(tmp_path):
    lines = summary.summary_lines([("ftx", str(tmp_path / "ftx.json"))], counts(), counts("vpc"), check_mode=True, failed_hosts=["localhost"])
    assert lines[-1] == "failed: localhost; check mode changed nothing on the stack"


def test_a_failed_run_over_two_stacks_names_no_single_stack(tmp_path):
    lines = summary.summary_lines([("a", str(tmp_path / "a.json")), ("b", str(tmp_path / "b.json"))], counts("vpc"), counts(), failed_hosts=["h"])
    assert lines[-2] == "partly built: this run changed 1 task before it stopped (vpc 1); a's outputs file records nothing; b's outputs file records nothing"
    assert lines[-1].endswith("-e autostack_stack_name=<stack>")


def test_endpoint_problem_probes_the_port():
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        url = "http://127.0.0.1:%d" % server.getsockname()[1]
        assert summary.endpoint_problem(url) is None
    # Closed now: refused.
    assert summary.endpoint_problem(url)
    assert summary.endpoint_problem("not a url") is None
    assert summary.endpoint_problem("") is None


def test_a_failed_run_names_an_endpoint_that_stopped(tmp_path):
    path = tmp_path / "ftx.json"
    path.write_text(json.dumps({"stack": "ftx", "region": "eu-west-1", "endpoint_url": "http://127.0.0.1:4575", "vpc_id": "vpc-1"}))
    probed = []

    def probe(url):
        probed.append(url)
        return "Connection refused"

    lines = summary.summary_lines([("ftx", str(path))], counts("vpc"), counts(), failed_hosts=["localhost"], probe=probe)
    assert probed == ["http://127.0.0.1:4575"]
    assert lines[-1] == (
        "endpoint: http://127.0.0.1:4575, where ftx lives (autostack_endpoint_url), does not accept connections now (Connection refused): "
        "the local cloud stopped, or runs elsewhere (python tools/localcloud/localcloud.py status). A local cloud that stopped has "
        "forgotten the stack: start it and run the phases again"
    )
    # An endpoint that answers adds nothing; a run that did not fail probes nothing.
    assert not summary.summary_lines([("ftx", str(path))], counts("vpc"), counts(), failed_hosts=["localhost"],
                                     probe=lambda url: None)[-1].startswith("endpoint:")
    probed.clear()
    summary.summary_lines([("ftx", str(path))], counts("vpc"), counts(), probe=probe)
    assert probed == []


@pytest.mark.parametrize("result, code", [
    ({"msg": "Unable to describe availability zones.: An error occurred (InvalidClientTokenId) when calling ..."}, "InvalidClientTokenId"),
    ({"msg": "Failed", "error": {"code": "SignatureDoesNotMatch"}}, "SignatureDoesNotMatch"),
    ({"msg": "An error occurred (AuthFailure) when calling the DescribeVpcs operation"}, "AuthFailure"),
    ({"msg": "Failed to connect to AWS: Unable to locate credentials"}, "Unable to locate credentials"),
    ({"msg": "An error occurred (ExpiredTokenException) when calling the GetSecretValue operation"}, "ExpiredTokenException"),
    ({"msg": "Could not connect to the endpoint URL"}, None),
    ({"msg": "An error occurred (AccessDenied) when calling the CreateRole operation"}, None),
    ("not a dict", None),
])
def test_credentials_error(result, code):
    assert summary.credentials_error(result) == code


def test_a_run_failed_on_refused_credentials_names_where_they_come_from(tmp_path):
    path = tmp_path / "ftx.json"
    path.write_text(json.dumps({"stack": "ftx", "region": "eu-west-1", "endpoint_url": "http://127.0.0.1:1"}))
    # Only the outputs record changed: nothing was built.
    lines = summary.summary_lines([("ftx", str(path))], counts("play 'Infrastructure'"), counts(), failed_hosts=["localhost"],
                                  probe=lambda url: None, built=counts(), refused=("vpc : List the region's availability zones", "InvalidClientTokenId"))
    assert lines[-3:] == [
        "changed: 1 task (play 'Infrastructure' 1)",
        "failed: localhost; this run made no change to the stack before it stopped (ftx's outputs file records region, endpoint_url)",
        "credentials: AWS refused them (InvalidClientTokenId, task 'vpc : List the region's availability zones'). On the local cloud they "
        "are autostack_aws_access_key and autostack_aws_secret_key (from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); on AWS boto3 "
        "finds them in AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN) or ~/.aws; "
        "aws sts get-caller-identity shows what AWS makes of them",
    ]

# --- the callback's event handling, with fakes -----------------------------------------------------------------


class FakeRole:
    def __init__(self, name):
        self.name = name

    def get_name(self, include_role_fqcn=True):
        return "autostack.wordpress." + self.name if include_role_fqcn else self.name


class FakeTask:
    def __init__(self, name, action="ansible.builtin.command", role=None, check_mode=False):
        self._uuid = uuid.uuid4().hex
        self.name = name
        self.action = action
        self._role = FakeRole(role) if role else None
        self.check_mode = check_mode

    def get_name(self, include_role_fqcn=True):
        return "%s : %s" % (self._role.get_name(include_role_fqcn), self.name) if self._role else self.name


class FakeResult:
    def __init__(self, task, **result):
        self.task = task
        self.result = result


class FakePlay:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class FakeStats:
    def __init__(self, failures=None):
        self.processed = {"localhost": 1}
        self.failures = failures or {}
        self.dark = {}


class FakeDisplay:
    verbosity = 0

    def __init__(self):
        self.lines = []

    def banner(self, msg, color=None, cows=True):
        self.lines.append("== " + msg)

    def display(self, msg, *args, **kwargs):
        self.lines.append(msg)

    def warning(self, msg, *args, **kwargs):
        self.lines.append("WARNING " + msg)

    def vvv(self, msg, *args, **kwargs):
        pass


def make_callback(timing=False, timing_count=10):
    display = FakeDisplay()
    plugin = callback.CallbackModule(display=display)
    plugin._plugin_options = {"timing": timing, "timing_count": timing_count}
    return plugin, display


def run_events(plugin, outputs, check_mode=False):
    plugin.v2_playbook_on_play_start(FakePlay("Infrastructure"))
    record = FakeTask("Record the network in the stack outputs", action="autostack.wordpress.stack_outputs", role="vpc", check_mode=check_mode)
    plugin.v2_playbook_on_task_start(record, False)
    plugin.v2_runner_on_ok(FakeResult(record, changed=True, outputs_path=str(outputs), outputs={"stack": "wp"}))
    create = FakeTask("Create the cluster", role="ecs_cluster", check_mode=check_mode)
    plugin.v2_playbook_on_task_start(create, False)
    plugin.v2_runner_on_ok(FakeResult(create, changed=True))
    loop = FakeTask("Save", check_mode=False)
    plugin.v2_playbook_on_task_start(loop, False)
    plugin.v2_runner_on_ok(FakeResult(loop, changed=True, results=[{"changed": True}]))
    quiet = FakeTask("Read", role="ecs_cluster", check_mode=check_mode)
    plugin.v2_playbook_on_task_start(quiet, False)
    plugin.v2_runner_on_skipped(FakeResult(quiet, skipped=True))


def test_callback_counts_changes_per_role_and_learns_the_stack(outputs):
    plugin, display = make_callback()
    run_events(plugin, outputs)
    plugin.v2_playbook_on_stats(FakeStats())
    assert display.lines[0] == "== STACK SUMMARY"
    assert display.lines[1].startswith("stack      wp (") and str(outputs.name) in display.lines[1]
    assert "changed: 3 tasks (vpc 1, ecs_cluster 1, play 'Infrastructure' 1)" in display.lines
    assert not any(line.startswith("slowest") for line in display.lines)
    assert SENTINEL not in "\n".join(display.lines)


def test_callback_in_check_mode_counts_what_would_change(outputs):
    plugin, display = make_callback()
    run_events(plugin, outputs, check_mode=True)
    plugin.v2_playbook_on_stats(FakeStats())
    assert "check mode tasks (check_mode: true) that would change: 2 tasks (vpc 1, ecs_cluster 1)" in display.lines
    assert "changed: 1 task (play 'Infrastructure' 1)" in display.lines


def test_callback_timing(outputs):
    plugin, display = make_callback(timing=True, timing_count=2)
    run_events(plugin, outputs)
    plugin.v2_playbook_on_stats(FakeStats(failures={"localhost": 1}))
    at = display.lines.index(next(line for line in display.lines if line.startswith("slowest")))
    assert display.lines[at].startswith("slowest 2 of 4 tasks, run took ")
    assert len([line for line in display.lines[at + 1:] if line.strip()]) == 2
    assert "failed: localhost" in display.lines
    assert any(line.startswith("partly built: this run changed 3 tasks before it stopped (vpc 1, ecs_cluster 1, play 'Infrastructure' 1); "
                               "wp's outputs file records wordpress_url, ") for line in display.lines)
    assert SENTINEL not in "\n".join(display.lines)


def test_callback_refuses_a_timing_count_below_one(outputs):
    plugin, display = make_callback(timing=True, timing_count=0)
    run_events(plugin, outputs)
    plugin.v2_playbook_on_stats(FakeStats())
    assert any(line.startswith("WARNING stack_summary: timing_count (AUTOSTACK_TIMING_COUNT) must be 1 or more, not 0") for line in display.lines)
    assert any(line.startswith("slowest 4 of 4 tasks") for line in display.lines)


def test_callback_without_a_stack_prints_nothing(tmp_path):
    plugin, display = make_callback(timing=True)
    plugin.v2_playbook_on_play_start(FakePlay("Not ours"))
    task = FakeTask("Change something")
    plugin.v2_playbook_on_task_start(task, False)
    plugin.v2_runner_on_ok(FakeResult(task, changed=True))
    plugin.v2_playbook_on_stats(FakeStats())
    assert display.lines == []


def test_callback_names_refused_credentials_and_records_alone_build_nothing(outputs):
    plugin, display = make_callback()
    plugin.v2_playbook_on_play_start(FakePlay("Infrastructure"))
    record = FakeTask("Record where the stack lives", action="autostack.wordpress.stack_outputs")
    plugin.v2_playbook_on_task_start(record, False)
    plugin.v2_runner_on_ok(FakeResult(record, changed=True, outputs_path=str(outputs), outputs={"stack": "wp"}))
    ignored = FakeTask("Try", role="vpc")
    plugin.v2_playbook_on_task_start(ignored, False)
    plugin.v2_runner_on_failed(FakeResult(ignored, msg="An error occurred (AuthFailure)"), ignore_errors=True)
    zones = FakeTask("List the region's availability zones", role="vpc")
    plugin.v2_playbook_on_task_start(zones, False)
    plugin.v2_runner_on_failed(FakeResult(zones, msg="Unable to describe availability zones.: An error occurred (InvalidClientTokenId)"))
    plugin.v2_playbook_on_stats(FakeStats(failures={"localhost": 1}))
    assert any(line.startswith("failed: localhost; this run made no change to the stack before it stopped") for line in display.lines)
    assert not any(line.startswith("partly built") for line in display.lines)
    credentials = [line for line in display.lines if line.startswith("credentials: ")]
    assert len(credentials) == 1 and credentials[0].startswith("credentials: AWS refused them (InvalidClientTokenId, task '")
    assert "autostack_aws_access_key" in credentials[0]
