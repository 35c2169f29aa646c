"""The deploy phase end to end against a private local cloud: playbooks/deploy.yml on a stack built by
playbooks/infrastructure.yml, then its teardown.

The image is fake but well formed (an immutable tag in the stack's repository), recorded in the stack
outputs with autostack.wordpress.stack_outputs as the image phase records it: the emulator runs no
task, so nothing pulls it. For the same reason every deploy runs with ``ecs_service_wait=false``
(``inventories/local`` is to set it). What AWS would do with the result is checked with boto3 against
the emulator: the task definition, the service, the execution role's policy, the secrets.

Timings of each run are printed (``pytest -s``) and written to ``timings.json`` in the test's directory.
"""

import json
import re
import uuid

import pytest
import stack_support

STACK = "dpl%s" % uuid.uuid4().hex[:6]
KEY_NAMES = [
    "AUTH_KEY",
    "SECURE_AUTH_KEY",
    "LOGGED_IN_KEY",
    "NONCE_KEY",
    "AUTH_SALT",
    "SECURE_AUTH_SALT",
    "LOGGED_IN_SALT",
    "NONCE_SALT",
]
TIMINGS = {}


class Stack(stack_support.Stack):
    def __init__(self, emulator, directory, name=STACK):
        super().__init__(emulator, directory, name, TIMINGS)


def secret_value(emulator, secret_id):
    return json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])


def task_definition(emulator, family):
    return emulator.client("ecs").describe_task_definition(taskDefinition=family, include=["TAGS"])


def service_of(emulator, stack):
    ecs = emulator.client("ecs")
    return ecs.describe_services(cluster=stack, services=[stack + "-wordpress"], include=["TAGS"])["services"][0]


def tag_dict(tags, key="key", value="value"):
    return {tag[key]: tag[value] for tag in tags}


@pytest.fixture(scope="module", autouse=True)
def report_timings(tmp_path_factory):
    yield
    path = tmp_path_factory.mktemp("timings") / "timings.json"
    path.write_text(json.dumps(TIMINGS, indent=2))
    print("\ntimings (s): %s\n(written to %s)" % (json.dumps(TIMINGS, indent=2), path))


@pytest.fixture(scope="module")
def emulator_has_service_patches(emulator):
    """The emulator must carry tools/localcloud/patches_ecs_service.py: without it moto forgets a service's
    capacity provider strategy and deployment settings, and every update of the service fails."""
    ecs = emulator.client("ecs")
    probe = STACK + "-probe"
    ecs.create_cluster(clusterName=probe)
    ecs.register_task_definition(family=probe, containerDefinitions=[{"name": "p", "image": "p:1", "memory": 64}])
    ecs.create_service(
        cluster=probe,
        serviceName=probe,
        taskDefinition=probe,
        desiredCount=0,
        deploymentConfiguration={"minimumHealthyPercent": 50},
    )
    kept = ecs.describe_services(cluster=probe, services=[probe])["services"][0].get("deploymentConfiguration")
    ecs.delete_service(cluster=probe, service=probe, force=True)
    ecs.deregister_task_definition(taskDefinition=probe + ":1")
    ecs.delete_cluster(cluster=probe)
    if not kept:
        pytest.fail(
            "the local cloud lacks the ECS service patches: tools/localcloud/server.py must import "
            "patches_ecs_service after patches (see that module's docstring)"
        )


@pytest.fixture(scope="module")
def stack(emulator, emulator_has_service_patches, tmp_path_factory):
    """Phase 1 built, and an image recorded in the outputs as the image phase would."""
    built = Stack(emulator, tmp_path_factory.mktemp("deploy"))
    built.run("playbooks/infrastructure.yml", "infrastructure.yml").check()
    built.record_image(built.image("0123456789ab"))
    return built


@pytest.fixture(scope="module")
def first_deploy(stack):
    return stack.deploy("deploy.yml, first run").check()


def test_database_secret_follows_rds_convention(emulator, stack):
    """rds wait.yml: host, port, dbname and engine added; a second run rewrites nothing."""
    outputs = stack.outputs()
    arn = outputs["rds_master_secret_arn"]
    secrets = emulator.client("secretsmanager")
    value = secret_value(emulator, arn)
    assert set(value) == {"username", "password", "engine", "host", "port", "dbname"}
    assert value["host"] == outputs["rds_endpoint"] and value["port"] == outputs["rds_port"] == 3306
    assert value["dbname"] == outputs["rds_database_name"] and value["engine"] == "mariadb"
    assert value["username"] == "wpadmin" and re.fullmatch(r"[A-Za-z0-9]{32}", value["password"])
    versions = len(secrets.list_secret_version_ids(SecretId=arn)["Versions"])

    again = stack.run("playbooks/infrastructure.yml", "infrastructure.yml --tags rds, again", "--tags", "rds").check()
    assert again.changed == 0, again.output[-5000:]
    assert secret_value(emulator, arn) == value
    assert len(secrets.list_secret_version_ids(SecretId=arn)["Versions"]) == versions


def test_task_definition(emulator, stack, first_deploy):
    outputs = stack.outputs()
    described = task_definition(emulator, STACK + "-wordpress")
    definition = described["taskDefinition"]
    assert definition["revision"] == 1 and outputs["ecs_task_definition_arn"] == definition["taskDefinitionArn"]
    assert definition["networkMode"] == "bridge" and definition["requiresCompatibilities"] == ["EC2"]
    assert (definition["cpu"], definition["memory"]) == ("256", "512")
    assert definition["executionRoleArn"] == outputs["ecs_task_execution_role_arn"]
    assert not definition.get("taskRoleArn")
    assert definition["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"}
    assert tag_dict(described["tags"])["autostack:stack"] == STACK

    (container,) = definition["containerDefinitions"]
    assert container["name"] == "wordpress" and container["essential"] is True
    assert container["image"] == stack.image("0123456789ab")
    assert container["portMappings"] == [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}]
    assert container["healthCheck"] == {
        "command": ["CMD", "/usr/local/bin/autostack-healthcheck"],
        "interval": 10,
        "timeout": 3,
        "retries": 3,
        "startPeriod": 90,
    }
    assert container["stopTimeout"] == 30
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    options = container["logConfiguration"]["options"]
    assert options["awslogs-group"] == "/ecs/" + STACK and options["awslogs-region"] == "eu-west-1"
    assert options["awslogs-stream-prefix"] == "wordpress"

    environment = {variable["name"]: variable["value"] for variable in container["environment"]}
    assert environment == {
        "WORDPRESS_DB_PORT": "3306",
        "WORDPRESS_TABLE_PREFIX": "wp_",
        "WORDPRESS_DEBUG": "false",
        "WORDPRESS_DB_WAIT_TIMEOUT": "60",
    }
    rds_arn, keys_arn = outputs["rds_master_secret_arn"], outputs["wordpress_keys_secret_arn"]
    secrets = {secret["name"]: secret["valueFrom"] for secret in container["secrets"]}
    expected = {
        "WORDPRESS_DB_HOST": rds_arn + ":host::",
        "WORDPRESS_DB_NAME": rds_arn + ":dbname::",
        "WORDPRESS_DB_USER": rds_arn + ":username::",
        "WORDPRESS_DB_PASSWORD": rds_arn + ":password::",
    }
    expected.update({"WORDPRESS_" + key: "%s:%s::" % (keys_arn, key) for key in KEY_NAMES})
    assert secrets == expected
    # Every referenced key exists in its secret.
    for name, value_from in secrets.items():
        arn, key = value_from[: -len("::")].rsplit(":", 1)
        assert key in secret_value(emulator, arn), name


def test_keys_secret(emulator, stack, first_deploy):
    arn = stack.outputs()["wordpress_keys_secret_arn"]
    keys = secret_value(emulator, arn)
    assert sorted(keys) == sorted(KEY_NAMES)
    assert all(re.fullmatch(r"[A-Za-z0-9]{64}", value) for value in keys.values())
    assert len(set(keys.values())) == 8
    described = emulator.client("secretsmanager").describe_secret(SecretId=arn)
    assert described["Name"] == STACK + "/wordpress/keys"
    assert tag_dict(described["Tags"], "Key", "Value")["autostack:component"] == "ecs_service"
    # Never in what ansible-playbook printed.
    assert not [value for value in keys.values() if value in first_deploy.output]


def test_service(emulator, stack, first_deploy):
    outputs = stack.outputs()
    service = service_of(emulator, STACK)
    assert service["status"] == "ACTIVE" and service["desiredCount"] == 2
    assert service["taskDefinition"] == outputs["ecs_task_definition_arn"]
    assert "launchType" not in service
    assert service["capacityProviderStrategy"] == [
        {"capacityProvider": outputs["capacity_provider_name"], "weight": 1, "base": 0}
    ]
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["deploymentConfiguration"]["minimumHealthyPercent"] == 100
    assert service["deploymentConfiguration"]["maximumPercent"] == 200
    assert service["loadBalancers"] == [
        {"targetGroupArn": outputs["target_group_arn"], "containerName": "wordpress", "containerPort": 80}
    ]
    assert service["placementStrategy"] == [
        {"type": "spread", "field": "attribute:ecs.availability-zone"},
        {"type": "spread", "field": "instanceId"},
    ]
    assert service["healthCheckGracePeriodSeconds"] == 120
    assert service["propagateTags"] == "SERVICE" and service["schedulingStrategy"] == "REPLICA"
    assert tag_dict(service["tags"])["autostack:stack"] == STACK
    # The emulator runs no task, and nothing pretends it does.
    assert service["runningCount"] == 0

    assert outputs["ecs_service_name"] == STACK + "-wordpress"
    assert outputs["wordpress_url"] == "http://%s/" % outputs["alb_dns_name"]


def test_log_group(emulator, stack, first_deploy):
    logs = emulator.client("logs")
    (group,) = [
        group
        for group in logs.describe_log_groups(logGroupNamePrefix="/ecs/" + STACK)["logGroups"]
        if group["logGroupName"] == "/ecs/" + STACK
    ]
    assert group["retentionInDays"] == 30
    assert logs.list_tags_log_group(logGroupName="/ecs/" + STACK)["tags"]["autostack:stack"] == STACK


def test_execution_role_reads_exactly_the_two_secrets(emulator, stack, first_deploy):
    outputs = stack.outputs()
    iam = emulator.client("iam")
    role = STACK + "-ecs-task-execution"
    assert sorted(iam.list_role_policies(RoleName=role)["PolicyNames"]) == ["task-execution", "wordpress-secrets"]
    document = iam.get_role_policy(RoleName=role, PolicyName="wordpress-secrets")["PolicyDocument"]
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "secretsmanager:GetSecretValue"
    assert sorted(statement["Resource"]) == sorted(
        [outputs["rds_master_secret_arn"], outputs["wordpress_keys_secret_arn"]]
    )
    assert all("*" not in arn for arn in statement["Resource"])
    # The ecs_cluster role's own policy grants no secret at all any more.
    base = iam.get_role_policy(RoleName=role, PolicyName="task-execution")["PolicyDocument"]
    assert not [s for s in base["Statement"] if "secretsmanager" in json.dumps(s["Action"])]


def test_second_run_changes_nothing(emulator, stack, first_deploy):
    keys_arn = stack.outputs()["wordpress_keys_secret_arn"]
    keys = secret_value(emulator, keys_arn)
    # -vvv: module arguments and results are printed, and still no secret value may appear.
    second = stack.deploy("deploy.yml, second run (-vvv)", "-vvv").check()
    assert second.changed == 0, second.output[-20000:]
    assert secret_value(emulator, keys_arn) == keys
    leaked = list(keys.values()) + [secret_value(emulator, stack.outputs()["rds_master_secret_arn"])["password"]]
    assert not [value for value in leaked if value in second.output]
    assert emulator.client("ecs").list_task_definitions(familyPrefix=STACK + "-wordpress")["taskDefinitionArns"] == [
        stack.outputs()["ecs_task_definition_arn"]
    ]


def test_check_mode_on_the_converged_stack(stack, first_deploy):
    checked = stack.deploy("deploy.yml --check --diff", "--check", "--diff").check()
    assert checked.changed == 0, checked.output[-20000:]


def test_settings_change_reaches_the_service(emulator, stack, first_deploy):
    """community.aws.ecs_service does not compare deployment settings; the role makes them apply."""
    changed = stack.deploy("deploy.yml, minimum healthy 50 %", ecs_service_minimum_healthy_percent=50).check()
    assert changed.changed >= 1
    assert service_of(emulator, STACK)["deploymentConfiguration"]["minimumHealthyPercent"] == 50
    restored = stack.deploy("deploy.yml, back to the defaults").check()
    assert restored.changed >= 1
    assert service_of(emulator, STACK)["deploymentConfiguration"]["minimumHealthyPercent"] == 100
    # No new revision for a service setting.
    assert task_definition(emulator, STACK + "-wordpress")["taskDefinition"]["revision"] == 1


def test_new_image_makes_a_new_revision(emulator, stack, first_deploy):
    stack.record_image(stack.image("ba9876543210"))
    checked = stack.deploy("deploy.yml --check, new image", "--check").check()
    assert checked.changed >= 1
    assert task_definition(emulator, STACK + "-wordpress")["taskDefinition"]["revision"] == 1

    deployed = stack.deploy("deploy.yml, new image").check()
    assert deployed.changed >= 1
    definition = task_definition(emulator, STACK + "-wordpress")["taskDefinition"]
    assert definition["revision"] == 2
    assert definition["containerDefinitions"][0]["image"] == stack.image("ba9876543210")
    service = service_of(emulator, STACK)
    assert service["taskDefinition"] == definition["taskDefinitionArn"] == stack.outputs()["ecs_task_definition_arn"]
    primary = [deployment for deployment in service["deployments"] if deployment["status"] == "PRIMARY"]
    assert [deployment["taskDefinition"] for deployment in primary] == [definition["taskDefinitionArn"]]

    again = stack.deploy("deploy.yml, new image again").check()
    assert again.changed == 0, again.output[-20000:]
    assert task_definition(emulator, STACK + "-wordpress")["taskDefinition"]["revision"] == 2


def test_wait_is_bounded_and_says_why(stack, first_deploy):
    """ecs_service_wait where no task ever runs (the local cloud): the wait ends at its timeout and says why."""
    # With autostack_run_tasks_locally (the local inventory) the validation refuses ecs_service_wait outright:
    # pretend to be an account whose tasks never start.
    waited = stack.deploy(
        "deploy.yml, waiting at most 3 s", ecs_service_wait=True, ecs_service_wait_timeout=3, ecs_service_wait_delay=1,
        autostack_run_tasks_locally=False,
    )
    assert waited.proc.returncode != 0
    assert (
        "it did not finish within ecs_service_wait_timeout=3 s (rolloutState IN_PROGRESS, 0 of 2 tasks running)"
        in waited.output
    ), waited.output[-5000:]
    assert waited.changed == 0


def test_bad_input_fails_before_any_change(stack, first_deploy):
    failed = stack.deploy("deploy.yml, retention 1096", ecs_service_log_retention_days=1096)
    assert failed.proc.returncode != 0
    assert "ecs_service_log_retention_days=1096" in failed.output
    assert failed.changed == 0

    failed = stack.deploy("deploy.yml, image :latest", ecs_service_image=stack.image("x").rsplit(":", 1)[0] + ":latest")
    assert failed.proc.returncode != 0 and "ecs_service_image=" in failed.output and failed.changed == 0

    failed = stack.deploy("deploy.yml, no room to deploy", ecs_service_desired_count=1, ecs_service_maximum_percent=100)
    assert failed.proc.returncode != 0 and "ecs_service_maximum_percent=100" in failed.output


def test_stack_without_image_or_infrastructure(emulator, tmp_path):
    """A stack nobody built: check mode reports, a real run fails saying what to run first."""
    empty = Stack(emulator, tmp_path, name=STACK + "x")
    checked = empty.deploy("deploy.yml --check, empty stack", "--check", "--diff").check()
    assert checked.changed >= 1
    failed = empty.deploy("deploy.yml, empty stack")
    assert failed.proc.returncode != 0
    assert "playbooks/image.yml" in failed.output and "ecs_service_image" in failed.output
    removed = empty.deploy("deploy.yml absent, empty stack", ecs_service_state="absent").check()
    assert removed.changed == 0
    assert empty.outputs() is None


def test_teardown_leaves_nothing(emulator, stack, first_deploy):
    """ecs_service_state=absent first (as playbooks/destroy.yml is to run it), then the rest of the teardown."""
    outputs = stack.outputs()
    checked = stack.deploy("deploy.yml absent --check", "--check", ecs_service_state="absent").check()
    assert checked.changed >= 1
    assert service_of(emulator, STACK)["status"] == "ACTIVE"

    removed = stack.deploy("deploy.yml absent", ecs_service_state="absent").check()
    assert removed.changed >= 1
    assert service_of(emulator, STACK)["status"] == "INACTIVE"
    ecs = emulator.client("ecs")
    assert ecs.list_task_definitions(familyPrefix=STACK + "-wordpress", status="ACTIVE")["taskDefinitionArns"] == []
    assert emulator.client("iam").list_role_policies(RoleName=STACK + "-ecs-task-execution")["PolicyNames"] == [
        "task-execution"
    ]
    secrets = emulator.client("secretsmanager").list_secrets(
        IncludePlannedDeletion=True, Filters=[{"Key": "name", "Values": [STACK + "/wordpress"]}]
    )["SecretList"]
    assert secrets == []
    assert emulator.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/" + STACK)["logGroups"] == []
    left = stack.outputs()
    assert not set(left) & {"ecs_service_name", "ecs_task_definition_arn", "wordpress_keys_secret_arn", "wordpress_url"}
    assert left["rds_master_secret_arn"] == outputs["rds_master_secret_arn"]

    again = stack.deploy("deploy.yml absent, again", ecs_service_state="absent").check()
    assert again.changed == 0, again.output[-20000:]

    destroyed = stack.run(
        "playbooks/destroy.yml",
        "destroy.yml",
        rds_skip_final_snapshot=True,
        rds_secret_recovery_window_days=0,
        ecr_force_delete=True,
    ).check()
    assert "Audit what is left of the stack" in destroyed.output
    # Nothing left and nothing kept: the audit passed and the outputs file went.
    assert stack.outputs() is None
