"""The stack_summary callback in real ansible-playbook runs, enabled by the checkout's ansible.cfg. No AWS.

A playbook in a temporary directory records a stack with autostack.wordpress.stack_outputs (outputs in the
same directory), tries to record a password (the module refuses it), and changes things in a play task and in
a role of its own. The outputs file also holds, as if written by hand, a password the summary must not show.
The tests share that directory and run in file order: the first run changes everything, the next ones less.
"""

import json
import os
import re
import subprocess
import sys
import uuid

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
STACK = "t-summary-%s" % uuid.uuid4().hex[:6]
GIVEN_PASSWORD = "given-%s" % uuid.uuid4().hex
FILED_PASSWORD = "filed-%s" % uuid.uuid4().hex
BANNER = re.compile(r"^STACK SUMMARY \*+$", re.MULTILINE)
TIMING_LINE = re.compile(r"^\s+(\d+\.\d\d)s  (.+)$")

PLAYBOOK = """
- name: Summary play
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Record the stack
      autostack.wordpress.stack_outputs:
        directory: "{{ autostack_outputs_dir }}"
        stack: "{{ autostack_stack_name }}"
        values:
          wordpress_url: http://admin:%(given)s@wp.example.test/
          wp_image_uri: 127.0.0.1:4576/t/wordpress:6.8.3-abc
          ecs_cluster_name: t-cluster
          ecs_service_name: t-wordpress
          ecs_task_definition_arn: arn:aws:ecs:eu-west-1:123456789012:task-definition/t-wordpress:7
          rds_endpoint: t-db.example.test
          rds_port: 3306
          rds_master_secret_arn: arn:aws:secretsmanager:eu-west-1:123456789012:secret:t/rds/master-AbCdEf

    - name: Try to record the master password
      autostack.wordpress.stack_outputs:
        directory: "{{ autostack_outputs_dir }}"
        stack: "{{ autostack_stack_name }}"
        values:
          rds_master_password: %(given)s
      ignore_errors: true

    - name: Write a marker
      ansible.builtin.copy:
        content: "marker\\n"
        dest: "{{ autostack_outputs_dir }}/../marker"
        mode: "0600"

  roles:
    - role: demo
""" % {"given": GIVEN_PASSWORD}

ROLE_TASKS = """
- name: Take a second
  ansible.builtin.command: sleep 1
  changed_when: false

- name: Write the stamp
  ansible.builtin.copy:
    content: "{{ demo_stamp }}\\n"
    dest: "{{ autostack_outputs_dir }}/../stamp"
    mode: "0600"
"""

INVENTORY_VARS = """
autostack_stack_name: %s
autostack_outputs_dir: "{{ inventory_dir }}/../outputs"
""" % STACK


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    top = tmp_path_factory.mktemp("summary")
    (top / "playbook.yml").write_text(PLAYBOOK)
    (top / "roles" / "demo" / "tasks").mkdir(parents=True)
    (top / "roles" / "demo" / "tasks" / "main.yml").write_text(ROLE_TASKS)
    (top / "inventory" / "group_vars").mkdir(parents=True)
    (top / "inventory" / "hosts.ini").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    (top / "inventory" / "group_vars" / "all.yml").write_text(INVENTORY_VARS)
    (top / "outputs").mkdir()
    # Left by hand in the file: the module refuses such keys, the summary must not show them either.
    (top / "outputs" / (STACK + ".json")).write_text(json.dumps({"stack": STACK, "rds_master_password": FILED_PASSWORD}))
    return top


def run(world, *options, **env):
    """ansible-playbook on the test playbook with the checkout's ansible.cfg; stdout + stderr."""
    run_env = {key: value for key, value in os.environ.items() if not key.startswith(("AUTOSTACK_", "ANSIBLE_"))}
    run_env.update(ANSIBLE_CONFIG=os.path.join(TOP, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", **env)
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", str(world / "inventory" / "hosts.ini"), "playbook.yml", *options],
        cwd=str(world), env=run_env, capture_output=True, text=True, timeout=120, check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-8000:]
    for secret in (GIVEN_PASSWORD, FILED_PASSWORD):
        assert secret not in output
    return proc.stdout


def summary_of(stdout):
    """The summary's lines (banner excluded, up to the blank line that ends it), or None without a summary."""
    matches = list(BANNER.finditer(stdout))
    if not matches:
        return None
    assert len(matches) == 1, stdout
    recap = stdout.index("PLAY RECAP")
    assert recap < matches[0].start(), "the summary comes after the recap"
    return stdout[matches[0].end():].strip("\n").split("\n\n")[0].splitlines()


def stack_fields(lines):
    return lines[:7]


EXPECTED_FIELDS = [
    "url        http://wp.example.test/",
    "image      127.0.0.1:4576/t/wordpress:6.8.3-abc",
    "cluster    t-cluster",
    "service    t-wordpress",
    "task def   arn:aws:ecs:eu-west-1:123456789012:task-definition/t-wordpress:7",
    "database   t-db.example.test:3306",
]


def test_summary_after_a_run_that_changes(world):
    lines = summary_of(run(world, "-e", "demo_stamp=1"))
    assert lines is not None
    assert re.match(r"^stack      %s \(outputs/%s\.json, updated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$" % (STACK, STACK), lines[0]), lines
    assert lines[1:7] == EXPECTED_FIELDS
    assert lines[7:] == ["changed: 3 tasks (demo 1, play 'Summary play' 2)"]
    assert not any("secretsmanager" in line for line in lines)


def test_timing_with_autostack_timing(world):
    stdout = run(world, "-e", "demo_stamp=2", AUTOSTACK_TIMING="1", AUTOSTACK_TIMING_COUNT="2")
    lines = summary_of(stdout)
    assert lines[1:7] == EXPECTED_FIELDS
    assert lines[7] == "changed: 1 task (demo 1)"
    assert re.match(r"^slowest 2 of 5 tasks, run took \d", lines[8]), lines
    timings = [TIMING_LINE.match(line) for line in lines[9:]]
    assert len(timings) == 2 and all(timings), lines
    assert timings[0].group(2) == "demo : Take a second"
    assert float(timings[0].group(1)) >= 1.0
    assert float(timings[0].group(1)) >= float(timings[1].group(1))


def test_no_timing_without_autostack_timing(world):
    lines = summary_of(run(world, "-e", "demo_stamp=2", AUTOSTACK_TIMING="0"))
    assert lines[7:] == ["changed: nothing"]
    assert not any(line.startswith("slowest") or TIMING_LINE.match(line) for line in lines)


def test_check_mode_says_nothing_changed(world):
    lines = summary_of(run(world, "-e", "demo_stamp=3", "--check"))
    assert lines[1:7] == EXPECTED_FIELDS
    assert lines[7:] == ["check mode: nothing changed on the stack; 1 task would change (demo 1)"]
    assert (world / "stamp").read_text() == "2\n"


def test_stack_from_the_inventory_when_no_outputs_task_runs(world):
    """--tags that select nothing: the stack and its outputs file come from the play's variables."""
    lines = summary_of(run(world, "-e", "demo_stamp=2", "--tags", "none_such"))
    assert lines[0].startswith("stack      %s (outputs/%s.json, updated " % (STACK, STACK))
    assert lines[1:] == EXPECTED_FIELDS + ["changed: nothing"]


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(["--syntax-check"], id="syntax-check"),
        pytest.param(["--list-tasks"], id="list-tasks"),
        pytest.param(["--tags", "none_such", "-e", "autostack_stack_name=t-summary-none"], id="no-outputs-no-change"),
    ],
)
def test_nothing_to_summarise(world, options):
    assert summary_of(run(world, "-e", "demo_stamp=2", *options)) is None
