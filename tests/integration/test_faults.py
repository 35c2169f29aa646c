"""Faults: each part of the local cloud failing, and what a run then says and leaves.

Real ``ansible-playbook`` runs of the project's playbooks, each against a local cloud of its own (or the
session's, for what changes nothing there), each bounded in time, each failing with a message that names
the part at fault and the variable or command to look at:

- throttling: injected ``RequestLimitExceeded`` / ``ThrottlingException`` answers (the emulator's fault
  injection, docs/local-cloud.md) are retried by botocore as ``autostack_aws_retries`` configures it
  (``aws_config`` in every playbook's ``module_defaults``); with one attempt the run fails naming the throttling;
- the emulator down before a run (nothing made, the endpoint named) and stopped in the middle of the
  infrastructure phase (the summary reports the stack as partly built, with what to run next);
- wrong credentials (moto enforcing IAM authentication): the first AWS call fails, the summary names the
  keys to check, and it is the only call made;
- the registry down: the image phase stops before building, naming the registry; nothing pushed;
- the Docker engine down (``DOCKER_HOST`` pointing at no engine; the real one is never touched).

The database down during the verify phase needs a deployed stack: test_e2e_browser.py has one and tests it.

Run with ``-s`` to see each playbook's time.
"""

import json
import os
import signal
import time
import urllib.request
import uuid

import pytest
import stack_support
from conftest import Emulator

TIMINGS = {}
# Every failing run must end within this many seconds (the retry configuration and the roles' waits bound it).
BOUND = 120

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def name(prefix):
    return "%s%s" % (prefix, uuid.uuid4().hex[:6])


def instrument(emulator, path, method="GET", body=None):
    """A call to the local cloud's test instruments (``/_localcloud/requests``, ``/_localcloud/faults``)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(emulator.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with _OPENER.open(request, timeout=10) as response:
        return json.load(response)


def requests_since(emulator, seq):
    return instrument(emulator, "/_localcloud/requests?since=%d" % seq)["requests"]


def last_seq(emulator):
    return instrument(emulator, "/_localcloud/requests")["seq"]


def statuses(requests, action):
    return [entry["status"] for entry in requests if entry["action"] == action]


def summary(output):
    """The stack summary the callback prints after the recap."""
    assert "STACK SUMMARY" in output, output[-5000:]
    return output.split("STACK SUMMARY", 1)[1]


def flat(text):
    """Ansible folds long messages over lines: compare without the folds."""
    return " ".join(text.split())


def failed_quickly(run, bound=BOUND):
    assert run.proc.returncode != 0, run.output[-5000:]
    assert run.failed == 1, run.output[-5000:]
    assert run.seconds < bound, "the failing run took %.0f s" % run.seconds
    return flat(run.output)


def run_until(stack, playbook, label, marker, action, *args, **extra_vars):
    """Run a playbook and call ``action()`` once a line of its output contains ``marker``.

    Returns ``(Run, seconds from the action to the run's end)``; the action is called at most once.
    """
    run = stack.run_until(playbook, label, marker, lambda proc: action(), *args, timeout=900, **extra_vars)
    assert run.acted, "never saw %r in the output:\n%s" % (marker, run.output[-5000:])
    return run, run.after_action


@pytest.fixture
def private(tmp_path):
    """A local cloud of the test's own (emulator and registry), stopped afterwards whatever the test did."""
    emulator = Emulator.spawn(tmp_path / "localcloud")
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module", autouse=True)
def report_timings():
    yield
    print("\ntimings (s): %s" % json.dumps(TIMINGS, indent=2))


# --- throttling --------------------------------------------------------------------------------------------


def test_throttling_is_met_by_botocore_retries(emulator, tmp_path):
    stack = stack_support.Stack(emulator, tmp_path, name("thr"), TIMINGS)
    try:
        # EC2 throttles with RequestLimitExceeded (HTTP 503): two of them, then the third attempt passes.
        instrument(emulator, "/_localcloud/faults", "POST", {"action": "DescribeVpcs", "code": "RequestLimitExceeded", "count": 2})
        seq = last_seq(emulator)
        stack.run("playbooks/infrastructure.yml", "vpc --check, 2 throttles", "--check", "--tags", "vpc").check()
        assert statuses(requests_since(emulator, seq), "DescribeVpcs")[:3] == [503, 503, 200]

        # ECS throttles with ThrottlingException, which only botocore's retry configuration retries (amazon.aws's
        # own decorators retry RequestLimitExceeded, not this): the configuration alone rides it out...
        instrument(emulator, "/_localcloud/faults", "POST", {"action": "DescribeClusters", "code": "ThrottlingException", "count": 2})
        seq = last_seq(emulator)
        stack.run("playbooks/infrastructure.yml", "ecs_cluster --check, 2 throttles, 3 attempts", "--check", "--tags", "ecs_cluster",
                  autostack_aws_retries=3).check()
        assert statuses(requests_since(emulator, seq), "DescribeClusters")[:3] == [400, 400, 200]

        # ... and with one attempt in all the run fails at once, naming the throttling.
        instrument(emulator, "/_localcloud/faults", "POST", {"action": "DescribeClusters", "code": "ThrottlingException", "count": 2})
        seq = last_seq(emulator)
        run = stack.run("playbooks/infrastructure.yml", "ecs_cluster --check, 2 throttles, 1 attempt", "--check", "--tags", "ecs_cluster",
                        autostack_aws_retries=1)
        output = failed_quickly(run, bound=60)
        assert "(ThrottlingException) when calling the DescribeClusters operation (reached max retries: 0)" in output
        assert statuses(requests_since(emulator, seq), "DescribeClusters") == [400]
    finally:
        instrument(emulator, "/_localcloud/faults", "DELETE")


def test_our_modules_take_the_retry_configuration(emulator, tmp_path):
    # autostack.wordpress.security_audit (an AnsibleAWSModule of ours) through playbooks/audit.yml, read-only: its
    # ListTaskDefinitionFamilies call throttled twice passes with 3 attempts and fails with 1.
    stack = stack_support.Stack(emulator, tmp_path, name("thr"), TIMINGS)
    fault = {"action": "ListTaskDefinitionFamilies", "code": "ThrottlingException", "count": 2}
    try:
        instrument(emulator, "/_localcloud/faults", "POST", fault)
        seq = last_seq(emulator)
        stack.run("playbooks/audit.yml", "audit.yml, 2 throttles, 3 attempts", autostack_aws_retries=3).check()
        assert statuses(requests_since(emulator, seq), "ListTaskDefinitionFamilies") == [400, 400, 200]

        instrument(emulator, "/_localcloud/faults", "POST", fault)
        seq = last_seq(emulator)
        run = stack.run("playbooks/audit.yml", "audit.yml, 2 throttles, 1 attempt", autostack_aws_retries=1)
        output = failed_quickly(run, bound=60)
        assert "Could not read the settings of stack '%s'" % stack.name in output
        assert "(ThrottlingException) when calling the ListTaskDefinitionFamilies operation (reached max retries: 0)" in output
        assert statuses(requests_since(emulator, seq), "ListTaskDefinitionFamilies") == [400]
    finally:
        instrument(emulator, "/_localcloud/faults", "DELETE")


def test_a_retry_setting_out_of_range_is_refused_before_any_call(emulator, tmp_path):
    stack = stack_support.Stack(emulator, tmp_path, name("thr"), TIMINGS)
    seq = last_seq(emulator)
    run = stack.run("playbooks/infrastructure.yml", "autostack_aws_retries=21", autostack_aws_retries=21)
    output = failed_quickly(run, bound=60)
    assert ("autostack_aws_retries must be an integer from 1 to 20 (botocore's total_max_attempts for each AWS call, "
            "the first attempt included); got autostack_aws_retries=21") in output
    assert requests_since(emulator, seq) == []
    assert stack.outputs() is None


# --- the emulator --------------------------------------------------------------------------------------------


def test_emulator_down_is_named_and_nothing_is_made(private, tmp_path):
    # Never started: nothing listens on its port.
    stack = stack_support.Stack(private, tmp_path, name("down"), TIMINGS)
    run = stack.run("playbooks/infrastructure.yml", "infrastructure.yml, emulator down")
    output = failed_quickly(run, bound=60)
    assert ("The AWS endpoint autostack_endpoint_url=%s does not accept connections (nothing answered on 127.0.0.1:%d within 5 s)"
            % (private.url, private.port)) in output
    assert "python tools/localcloud/localcloud.py start" in output and "Nothing was changed." in output
    assert stack.outputs() is None
    assert "this run made no change to the stack before it stopped" in flat(summary(run.output))


def test_emulator_stopped_during_infrastructure_leaves_a_reported_partial_stack(private, tmp_path):
    private.start()
    stack = stack_support.Stack(private, tmp_path, name("half"), TIMINGS)
    # The network is built and recorded when the database role starts acting: stop the local cloud then.
    run, after_stop = run_until(stack, "playbooks/infrastructure.yml", "infrastructure.yml, emulator stopped at rds",
                                "TASK [autostack.wordpress.rds : Create or update the database]", private.stop)
    failed_quickly(run)
    assert after_stop < 60, "the run went on for %.0f s after the emulator stopped" % after_stop
    # The module that failed says it in its words ("Failed to describe vpcs", "Could not connect to the endpoint
    # URL"); the summary names the cause, what the run made and what to run next.
    report = flat(summary(run.output))
    assert "failed: localhost partly built: this run changed" in report
    assert "vpc " in report.split("partly built:", 1)[1]
    outputs = stack.outputs()
    assert outputs["vpc_id"].startswith("vpc-")
    recorded = report.split("%s's outputs file records " % stack.name, 1)[1].split(" next:", 1)[0].split(", ")
    assert {"region", "endpoint_url", "vpc_id", "public_subnet_ids", "private_subnet_ids"} <= set(recorded)
    assert ("next: fix the cause and run the same command again (each role picks up what exists), or remove the stack: "
            "ansible-playbook playbooks/destroy.yml -e autostack_stack_name=%s" % stack.name) in report
    assert ("endpoint: %s, where %s lives (autostack_endpoint_url), does not accept connections now (Connection refused): "
            "the local cloud stopped" % (private.url, stack.name)) in report


# --- credentials ------------------------------------------------------------------------------------------


def test_wrong_credentials_fail_at_the_first_call(private, tmp_path):
    # moto checks signatures against its IAM users once INITIAL_NO_AUTH_ACTION_COUNT calls are spent: with 0, from
    # the first. The keys the tests use (testing/testing) belong to no user.
    started = private.run("start", INITIAL_NO_AUTH_ACTION_COUNT="0")
    assert started.returncode == 0, started.stdout + started.stderr
    stack = stack_support.Stack(private, tmp_path, name("cred"), TIMINGS)
    run = stack.run("playbooks/infrastructure.yml", "infrastructure.yml, unknown keys")
    output = failed_quickly(run, bound=60)
    # EC2 answers AuthFailure, as AWS does.
    assert "An error occurred (AuthFailure) when calling the DescribeAvailabilityZones operation" in output
    report = flat(summary(run.output))
    assert "this run made no change to the stack before it stopped" in report
    assert "credentials: AWS refused them (AuthFailure, task 'vpc : " in report
    assert "On the local cloud they are autostack_aws_access_key and autostack_aws_secret_key" in report
    # The first AWS call (the validation's AZ check, before anything is made) was refused and was the only one;
    # nothing was recorded.
    requests = requests_since(private, 0)
    assert [(entry["action"], entry["status"]) for entry in requests] == [("DescribeAvailabilityZones", 401)]
    assert stack.outputs() is None


# --- the registry and the Docker engine ---------------------------------------------------------------------


def test_registry_down_stops_the_image_phase_before_it_builds(private, tmp_path):
    import docker

    private.start()
    stack = stack_support.Stack(private, tmp_path, name("reg"), TIMINGS)
    # What the image phase needs of the infrastructure: the repository (and the outputs file).
    stack.run("playbooks/infrastructure.yml", "infrastructure.yml --tags ecr", "--tags", "ecr").check()
    with open(os.path.join(private.state_dir, "registry.pid")) as handle:
        os.kill(int(handle.read().strip()), signal.SIGTERM)
    deadline = time.monotonic() + 10
    while private.run("status").returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.2)

    run = stack.run("playbooks/image.yml", "image.yml, registry down")
    output = failed_quickly(run, bound=90)
    assert ("The registry %s (ECR's, as the endpoint gives it) does not answer on %s/v2/ within 10 s"
            % (private.registry, private.registry_url)) in output
    assert "Nothing was built or pushed." in output and "python tools/localcloud/localcloud.py status" in output
    # No build started, no build container left, nothing in ECR, nothing recorded.
    assert "Start the build container" not in run.output
    engine = docker.from_env()
    assert not engine.containers.list(all=True, filters={"name": stack.name + "-wp-build"})
    assert private.client("ecr").list_images(repositoryName=stack.name + "/wordpress")["imageIds"] == []
    assert "wp_image_uri" not in stack.outputs()
    assert "this run made no change to the stack before it stopped" in flat(summary(run.output))

    # What the message says: start brings the registry back beside the running emulator.
    restarted = private.run("start")
    assert restarted.returncode == 0 and "emulator already answering" in restarted.stdout, restarted.stdout + restarted.stderr
    assert private.run("status").returncode == 0


def test_docker_engine_down_is_named(emulator, tmp_path):
    stack = stack_support.Stack(emulator, tmp_path, name("eng"), TIMINGS)
    nothing = "unix://%s" % (tmp_path / "nothing.sock")
    stack.env["DOCKER_HOST"] = nothing
    run = stack.run("playbooks/image.yml", "image.yml, no Docker engine")
    output = failed_quickly(run, bound=60)
    assert "The Docker engine at %s does not answer (Error connecting:" % nothing in output
    assert "Start it (systemctl start docker), or point DOCKER_HOST at an engine that runs" in output
    assert "this run made no change to the stack before it stopped" in flat(summary(run.output))
