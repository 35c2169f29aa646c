"""Running the project's playbooks on a stack of its own, for the integration tests.

``Stack(emulator, directory, name)`` keeps the stack's outputs in ``directory/outputs`` and runs any
playbook of the checkout (or a file) with ``ansible-playbook`` against the given local cloud;
``Run`` holds the result and the recap's counts. Each run's time goes into ``timings`` (a dict the
test module owns) and is printed (``pytest -s``).
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
RECAP = re.compile(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")
RECORD_IMAGE = """
- name: Record an image as the image phase does
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Record the image in the stack outputs
      autostack.wordpress.stack_outputs:
        directory: "{{ autostack_outputs_dir }}"
        stack: "{{ autostack_stack_name }}"
        values:
          wp_image_uri: "{{ image_uri }}"
          wp_image_tag: "{{ image_uri.rsplit(':', 1)[1] }}"
          wp_image_digest: "sha256:{{ image_uri | hash('sha256') }}"
"""


AUDIT = """
- name: List what the stack has
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/autostack.wordpress.aws:
      aws_region: "{{ autostack_region }}"
      endpoint_url: "{{ autostack_endpoint_url | default(omit, true) }}"
      access_key: "{{ autostack_aws_access_key | default(omit, true) }}"
      secret_key: "{{ autostack_aws_secret_key | default(omit, true) }}"
  tasks:
    - name: Audit the stack without failing on what exists
      autostack.wordpress.stack_audit:
        stack: "{{ autostack_stack_name }}"
        fail_on_leftovers: false
      register: audit_result

    - name: Save the audit
      ansible.builtin.copy:
        content: "{{ audit_result | to_json }}"
        dest: "{{ audit_file }}"
        mode: "0600"
"""


def _stat(pid):
    """(parent pid, start time) of a process, from /proc/<pid>/stat; None when it is gone."""
    try:
        with open("/proc/%s/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[1]), int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def descendants(pid):
    """The processes started by ``pid``, and theirs, as (pid, start time) (Linux /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(entry)
            if stat:
                children.setdefault(stat[0], []).append((int(entry), stat[1]))
    found, todo = [], [pid]
    while todo:
        for child, started in children.get(todo.pop(), []):
            found.append((child, started))
            todo.append(child)
    return found


class Run:
    def __init__(self, proc, seconds):
        self.proc = proc
        self.seconds = seconds
        self.output = proc.stdout + proc.stderr
        match = None
        for match in RECAP.finditer(proc.stdout):
            pass
        self.changed = int(match.group(2)) if match else None
        self.failed = int(match.group(4)) if match else None

    def check(self):
        assert self.proc.returncode == 0, self.output[-20000:]
        return self


class Stack:
    """The stack under test: its name, its private outputs directory, and how to run playbooks on it."""

    def __init__(self, emulator, directory, name, timings=None):
        self.emulator = emulator
        self.directory = directory
        self.name = name
        self.timings = timings if timings is not None else {}
        self.outputs_dir = str(directory / "outputs")
        self.env = dict(
            emulator.env,
            ANSIBLE_CONFIG=os.path.join(TOP, "ansible.cfg"),
            ANSIBLE_FORCE_COLOR="0",
            PATH=BIN + os.pathsep + emulator.env.get("PATH", ""),
        )

    def run(self, playbook, label, *args, **extra_vars):
        variables = {"autostack_stack_name": self.name, "autostack_outputs_dir": self.outputs_dir}
        variables.update(extra_vars)
        command = [os.path.join(BIN, "ansible-playbook"), playbook, "-e", json.dumps(variables)] + list(args)
        started = time.monotonic()
        proc = subprocess.run(command, cwd=TOP, env=self.env, capture_output=True, text=True, timeout=1800, check=False)
        run = Run(proc, time.monotonic() - started)
        self.timings["%s (%s)" % (label, self.name)] = round(run.seconds, 1)
        print("%-60s %6.1f s  changed=%s rc=%d" % (label, run.seconds, run.changed, proc.returncode))
        return run

    def run_until(self, playbook, label, marker, action, *args, delay=0.0, timeout=1200, **extra_vars):
        """Run a playbook and call ``action(proc)`` ``delay`` seconds after a line of its output contains ``marker``.

        The action is called at most once, and not when the run has ended by then. The playbook runs in a
        process group of its own (``os.killpg(proc.pid, ...)`` reaches its workers too). The returned Run has
        ``acted`` (the action was called) and ``after_action`` (seconds from the action to the run's end).
        """
        variables = {"autostack_stack_name": self.name, "autostack_outputs_dir": self.outputs_dir}
        variables.update(extra_vars)
        command = [os.path.join(BIN, "ansible-playbook"), playbook, "-e", json.dumps(variables)] + list(args)
        started = time.monotonic()
        proc = subprocess.Popen(command, cwd=TOP, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        lines, seen = [], threading.Event()

        def read():
            for line in proc.stdout:
                lines.append(line)
                if marker in line:
                    seen.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        acted, workers = None, []
        while proc.poll() is None and time.monotonic() - started < timeout:
            if seen.wait(1):
                time.sleep(delay)
                if proc.poll() is None:
                    workers = descendants(proc.pid)
                    action(proc)
                    acted = time.monotonic()
                break
        try:
            proc.wait(timeout=max(timeout - (time.monotonic() - started), 120))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        reader.join(timeout=30)
        finished = time.monotonic()
        # ansible-core runs each task in a worker of its own session (WorkerProcess._detach): a signal to the run's
        # process group does not reach it, and a SIGKILLed run leaves it running. Whatever the action left of them
        # goes now, so that the next run does not meet this one's worker.
        for pid, started_at in workers:
            stat = _stat(pid)
            if stat and stat[1] == started_at:  # the same process, not a new one with its pid
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        run = Run(subprocess.CompletedProcess(command, proc.returncode, "".join(lines), ""), finished - started)
        run.acted = acted is not None
        run.after_action = finished - acted if acted else None
        self.timings["%s (%s)" % (label, self.name)] = round(run.seconds, 1)
        print("%-60s %6.1f s  changed=%s acted=%s rc=%d" % (label, run.seconds, run.changed, run.acted, proc.returncode))
        return run

    def interrupt(self, playbook, label, marker, signum, *args, delay=1.0, **extra_vars):
        """``run_until`` sending ``signum`` to the run's whole process group, as a terminal's Ctrl-C (SIGINT) or a
        CI runner's kill (SIGKILL) does, so the task's worker process gets it too."""
        return self.run_until(playbook, label, marker, lambda proc: os.killpg(proc.pid, signum), *args, delay=delay, **extra_vars)

    def audit(self):
        """What autostack.wordpress.stack_audit finds of the stack: ``counts`` per type, ``leftovers``, ``kept``."""
        playbook = self.directory / "audit.yml"
        playbook.write_text(AUDIT)
        result = self.directory / "audit.json"
        if result.exists():
            result.unlink()
        self.run(str(playbook), "stack audit", audit_file=str(result)).check()
        with open(result) as handle:
            return json.load(handle)

    def deploy(self, label, *args, **extra_vars):
        extra_vars.setdefault("ecs_service_wait", False)
        return self.run("playbooks/deploy.yml", label, *args, **extra_vars)

    def record_image(self, uri):
        playbook = self.directory / "record_image.yml"
        playbook.write_text(RECORD_IMAGE)
        return self.run(str(playbook), "record image", image_uri=uri).check()

    def outputs(self):
        path = os.path.join(self.outputs_dir, self.name + ".json")
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return json.load(handle)

    def image(self, tag):
        return "%s/%s/wordpress:6.8.3-%s" % (self.emulator.registry, self.name, tag)
