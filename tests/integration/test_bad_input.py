"""Bad input fails before any AWS call: ``ansible-playbook site.yml -e <bad>`` against the session's local cloud.

Each case gives one bad value (or an incompatible pair) and asserts that the run fails, that its output names
the variable and the value, that the emulator served no AWS request in the meantime (read from its request
log, ``/_localcloud/requests``; for the cases only the region can decide, exactly the one read
``DescribeAvailabilityZones``), that no stack outputs file was written, and that no Docker container or volume
is named after the stack. ``playbooks/validate.yml`` (imported first by ``site.yml``) checks every role's
argument spec and ``tasks/validate.yml`` before anything acts.

The cases that may make no request run two at a time (fixture ``offline_runs``): an empty request log over
the whole batch proves that none of them made one; a non-empty one makes each case run again alone, so that the
case that called AWS is the one that fails. The region cases and the controls run alone.

The control cases show that the instruments are live: the validation play alone on good input passes with
exactly the region read, and a run that does reach AWS (``--tags vpc --check``) shows requests in the log.
Each run's time is printed (``pytest -s``); the file's total is in the last test's output.
"""

import json
import os
import re
import subprocess
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import stack_support

RUN = uuid.uuid4().hex[:6]
TIMINGS = {}
# Runs of the cases that may make no AWS request at once (the machine has 2 cores; ansible-playbook's start-up
# is most of each run).
WORKERS = 2
REGION_READ = ["DescribeAvailabilityZones"]
ARN_US_EAST_1 = "arn:aws:acm:us-east-1:123456789012:certificate/0e5c4b5e-1111-2222-3333-444455556666"

# (case id, extra variables, what the output must say: the variable and its value, AWS requests allowed)
CASES = [
    # shared variables and the network (vpc)
    ("stack-name-underscore", {"autostack_stack_name": "bad_%s" % RUN}, "got autostack_stack_name=bad_%s" % RUN, []),
    ("stack-name-hyphen-last", {"autostack_stack_name": "bad%s-" % RUN}, "got autostack_stack_name=bad%s-" % RUN, []),
    ("az-count-7", {"autostack_az_count": 7}, "got autostack_az_count=7", []),
    ("cidr-too-small", {"vpc_cidr": "10.0.0.0/27"}, "vpc_cidr=10.0.0.0/27 does not give 2 subnets", []),
    ("cidr-host-bits", {"vpc_cidr": "10.0.1.0/16"}, "vpc_cidr=10.0.1.0/16 does not give", []),
    ("database-port-0", {"vpc_database_port": 0}, "vpc_database_port=0", []),
    # only the region knows: one DescribeAvailabilityZones, nothing else
    ("az-count-over-region", {"autostack_az_count": 4}, "autostack_az_count=4 is more than the 3", REGION_READ),
    ("az-not-in-region", {"vpc_azs": ["eu-west-1a", "eu-west-1q"]}, "eu-west-1q", REGION_READ),
    # database (rds)
    ("db-identifier-digit-first", {"rds_instance_id": "1db"}, "rds_instance_id=1db", []),
    ("db-engine-postgres", {"rds_engine": "postgres"}, "value of rds_engine must be one of: mariadb, mysql, got: postgres", []),
    ("db-engine-version", {"rds_engine_version": "10.4"}, "rds_engine_version=10.4", []),
    ("db-port-80", {"rds_port": 80}, "rds_port=80", []),
    ("db-port-vs-security-group", {"rds_port": 3307}, "rds_port=3307: the database's security group opens vpc_database_port=3306", []),
    ("db-user-reserved", {"rds_master_username": "select"}, "rds_master_username=select", []),
    # registry (ecr) and cluster (ecs_cluster)
    ("repository-uppercase", {"ecr_repository_name": "WordPress"}, "got ecr_repository_name=WordPress", []),
    ("kms-without-key", {"ecr_encryption_type": "KMS"}, "got ecr_encryption_type=KMS", []),
    ("cluster-name-space", {"ecs_cluster_name": "my cluster"}, "ecs_cluster_name 'my cluster' is not valid", []),
    # hosts (asg)
    ("group-min-over-desired", {"asg_min_size": 3}, "got asg_min_size=3, asg_desired_capacity=1", []),
    ("group-max-not-int", {"asg_max_size": "lots"}, "argument 'asg_max_size' is of type str and we were unable to convert to int", []),
    ("capacity-provider-reserved", {"asg_capacity_provider_name": "ecs-wp"}, "asg_capacity_provider_name 'ecs-wp'", []),
    ("graviton-with-x86-ami", {"asg_instance_type": "t4g.small"}, "asg_instance_type=t4g.small is an arm64 (Graviton) type", []),
    ("launch-template-name-short", {"asg_launch_template_name": "lt"}, "asg_launch_template_name=lt", []),
    # load balancer (alb)
    ("target-group-33-chars", {"alb_target_group_name": "t" * 33}, "alb_target_group_name=" + "t" * 33, []),
    ("certificate-other-region", {"alb_certificate_arn": ARN_US_EAST_1},
     "alb_certificate_arn=%s: the certificate is in region us-east-1" % ARN_US_EAST_1, []),
    ("health-check-timeout-over-interval", {"alb_health_check_timeout": 20}, "alb_health_check_timeout=20", []),
    # image (wp_image)
    ("php-memory-limit", {"wp_image_php_memory_limit": "lots"}, "wp_image_php_memory_limit=lots", []),
    ("upstream-without-checksum", {"wp_image_wordpress_source": "upstream", "wp_image_wordpress_url": "https://example.org/wp.tgz"},
     "wp_image_wordpress_checksum as <algorithm>:<hex>", []),
    # service (ecs_service)
    ("image-latest", {"ecs_service_image": "127.0.0.1:5000/wp/wordpress:latest"}, "ecs_service_image=127.0.0.1:5000/wp/wordpress:latest", []),
    ("deployment-without-room", {"ecs_service_desired_count": 1, "ecs_service_maximum_percent": 100}, "ecs_service_maximum_percent=100", []),
    ("wait-on-local-cloud", {"ecs_service_wait": True}, "ecs_service_wait=True: with autostack_run_tasks_locally=true", []),
    ("arm64-task-on-x86-hosts", {"ecs_service_cpu_architecture": "ARM64"}, "ecs_service_cpu_architecture=ARM64", []),
    ("secret-in-environment", {"ecs_service_extra_environment": {"DB_PASSWORD": "x"}}, "DB_PASSWORD look like secrets", []),
    # local run (ecs_local, localdb)
    ("local-ports-clash", {"ecs_local_port": 18080, "localdb_publish_port": 18080}, "ecs_local_port=18080: localdb_publish_port=18080", []),
    ("localdb-publish-port", {"localdb_publish_port": 70000}, "localdb_publish_port=70000", []),
    ("localdb-password-short", {"localdb_password": "short7!"}, "localdb_password (value not shown) is invalid", []),
]


def requests_since(emulator, seq=None):
    url = emulator.url + "/_localcloud/requests" + ("" if seq is None else "?since=%d" % seq)
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def docker_names(kind, stack):
    if kind == "container":
        command = ["docker", "ps", "--all", "--format", "{{.Names}}"]
    else:
        command = ["docker", "volume", "ls", "--format", "{{.Name}}"]
    names = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout.split()
    return [name for name in names if stack in name]


def flat(text):
    """The output with YAML's line wrapping undone (long messages are folded over several lines)."""
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module", autouse=True)
def report_timings():
    started = time.monotonic()
    yield
    print("\ntest_bad_input.py: %d runs, %.1f s in all, %.1f s in ansible-playbook" % (
        len(TIMINGS), time.monotonic() - started, sum(TIMINGS.values())))


def run_site(emulator, tmp_path, name, args, extra):
    stack = stack_support.Stack(emulator, tmp_path, name, TIMINGS)
    before = requests_since(emulator)["seq"]
    run = stack.run("site.yml", "site.yml %s" % " ".join(args), *args, **extra)
    served = requests_since(emulator, before)["requests"]
    return stack, run, served


def stack_name_and_vars(case, extra):
    extra = dict(extra)
    return extra.pop("autostack_stack_name", "bad%s%02d" % (RUN, [c[0] for c in CASES].index(case))), extra


@pytest.fixture(scope="module")
def offline_runs(request, emulator, tmp_path_factory):
    """The selected cases that may make no AWS request at all, WORKERS at a time: when the emulator served no
    request over the whole batch, none of them made one. When it served some, each case runs again alone, so that
    its own requests are known and the case that made them fails."""
    selected = {item.callspec.params["case"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_bad_input_fails_before_any_aws_call"}
    cases = [(case, extra) for case, extra, _needle, allowed in CASES if not allowed and case in selected]

    def run_alone(case, extra):
        name, variables = stack_name_and_vars(case, extra)
        return run_site(emulator, tmp_path_factory.mktemp(case), name, [], variables)

    before = requests_since(emulator)["seq"]
    with ThreadPoolExecutor(WORKERS) as pool:
        batch = dict(zip([case for case, _extra in cases], pool.map(lambda pair: run_alone(*pair), cases)))
    if not requests_since(emulator, before)["requests"]:
        return batch
    return {case: run_alone(case, extra) for case, extra in cases}


@pytest.mark.parametrize("case,extra,needle,allowed", CASES, ids=[case[0] for case in CASES])
def test_bad_input_fails_before_any_aws_call(request, emulator, tmp_path, case, extra, needle, allowed):
    name, extra = stack_name_and_vars(case, extra)
    if allowed:
        stack, run, served = run_site(emulator, tmp_path, name, [], extra)
    else:
        stack, run, served = request.getfixturevalue("offline_runs")[case]

    assert run.proc.returncode != 0, run.output[-5000:]
    assert needle in flat(run.output), "%r not in the output:\n%s" % (needle, run.output[-5000:])
    assert [request["action"] for request in served] == allowed, served
    assert not os.path.exists(os.path.join(stack.outputs_dir, name + ".json")), "the outputs file was written"
    assert docker_names("container", name) == [] and docker_names("volume", name) == []
    if "localdb_password" in extra:
        assert extra["localdb_password"] not in run.output, "the password was shown"


def test_the_cases_are_enough():
    assert len(CASES) >= 25
    assert len({case[0] for case in CASES}) == len(CASES)


def test_control_good_input_passes_validation_with_only_the_region_read(emulator, tmp_path):
    """The validation play alone, on good input: it passes, and its one AWS call is the region's AZ list."""
    stack = stack_support.Stack(emulator, tmp_path, "good%s" % RUN, TIMINGS)
    before = requests_since(emulator)["seq"]
    run = stack.run("playbooks/validate.yml", "validate.yml, good input").check()
    served = requests_since(emulator, before)["requests"]
    assert [request["action"] for request in served] == REGION_READ, served
    assert "Remember that this run's inputs are valid" in run.output


def test_control_a_run_that_acts_is_counted(emulator, tmp_path):
    """The same counter sees a run that goes past validation: requests > 0 (check mode on a new stack)."""
    name = "ctl%s" % RUN
    run, served = run_site(emulator, tmp_path, name, ["--tags", "vpc", "--check"], {})[1:]
    assert run.proc.returncode == 0, run.output[-5000:]
    actions = [request["action"] for request in served]
    assert len(actions) > len(REGION_READ) and "DescribeVpcs" in actions, actions
    # site.yml's phases import the validation play too: it ran once (one "Remember" task that ran, the rest skipped).
    assert flat(run.output).count("TASK [Remember that this run's inputs are valid]") == 1


def test_a_tag_scoped_run_validates_every_role(emulator, tmp_path):
    """--tags image runs the image phase only, yet a bad database setting stops it, with no AWS call at all
    (the region check belongs to runs that build the network)."""
    run, served = run_site(emulator, tmp_path, "tag%s" % RUN, ["--tags", "image", "--check"], {"rds_port": 80})[1:]
    assert run.proc.returncode != 0
    assert "rds_port=80" in flat(run.output)
    assert served == []
