"""ECS services and task definitions: the patches of tools/localcloud/patches_ecs_service.py.

Each test shows what AWS answers and the ecs_service role relies on; run against an emulator started
with ``LOCALCLOUD_DISABLE_PATCHES=<patch>`` the test of that patch fails.
"""

import pytest

STRATEGY = "The specified capacity provider strategy cannot contain a capacity provider that is not associated"
FORCE = "you must force a new deployment"


@pytest.fixture
def cluster(aws, auto_scaling_group, unique, network):
    """A cluster with one capacity provider attached (not its default strategy), and a task definition."""
    ecs = aws("ecs")
    provider = unique + "-cp"
    group = auto_scaling_group(unique, network["subnet_ids"][:1])["AutoScalingGroupARN"]
    ecs.create_capacity_provider(name=provider, autoScalingGroupProvider={"autoScalingGroupArn": group})
    ecs.create_cluster(clusterName=unique)
    ecs.put_cluster_capacity_providers(cluster=unique, capacityProviders=[provider], defaultCapacityProviderStrategy=[])
    for image in ("wp:1", "wp:2"):
        ecs.register_task_definition(
            family=unique, containerDefinitions=[{"name": "wp", "image": image, "memory": 256}]
        )
    return {"name": unique, "provider": provider, "family": unique}


def _service(ecs, cluster, name="web"):
    return ecs.describe_services(cluster=cluster["name"], services=[name])["services"][0]


def _create(ecs, cluster, **kwargs):
    params = dict(
        cluster=cluster["name"],
        serviceName="web",
        taskDefinition=cluster["family"] + ":1",
        desiredCount=2,
        capacityProviderStrategy=[{"capacityProvider": cluster["provider"], "weight": 1}],
    )
    params.update(kwargs)
    return ecs.create_service(**params)["service"]


def test_service_keeps_its_settings(aws, cluster):
    """patch_ecs_service_settings: what CreateService was given comes back, and no launch type."""
    ecs = aws("ecs")
    _create(
        ecs,
        cluster,
        deploymentConfiguration={"minimumHealthyPercent": 50, "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"}],
        placementConstraints=[{"type": "distinctInstance"}],
        healthCheckGracePeriodSeconds=120,
    )
    service = _service(ecs, cluster)

    assert "launchType" not in service
    assert service["capacityProviderStrategy"] == [{"capacityProvider": cluster["provider"], "weight": 1, "base": 0}]
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 50,
    }
    assert service["placementStrategy"] == [{"type": "spread", "field": "attribute:ecs.availability-zone"}]
    assert service["placementConstraints"] == [{"type": "distinctInstance"}]
    assert service["healthCheckGracePeriodSeconds"] == 120
    assert service["enableExecuteCommand"] is False
    primary = service["deployments"][0]
    assert "launchType" not in primary and primary["capacityProviderStrategy"] == service["capacityProviderStrategy"]


def test_service_defaults(aws, cluster):
    """patch_ecs_service_settings: AWS's deployment defaults, and a launch type only when one was asked for."""
    ecs = aws("ecs")
    _create(ecs, cluster, serviceName="plain", capacityProviderStrategy=[], launchType="EC2")
    service = _service(ecs, cluster, "plain")

    assert service["launchType"] == "EC2"
    assert "capacityProviderStrategy" not in service or service["capacityProviderStrategy"] == []
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }


def test_service_strategy_must_use_attached_providers(aws, cluster, error_of):
    """patch_ecs_service_settings: a strategy names providers of the cluster, and excludes a launch type."""
    ecs = aws("ecs")
    code, message, status = error_of(
        ecs.create_service,
        cluster=cluster["name"],
        serviceName="stray",
        taskDefinition=cluster["family"] + ":1",
        desiredCount=1,
        capacityProviderStrategy=[{"capacityProvider": "not-attached", "weight": 1}],
    )
    assert (code, status) == ("InvalidParameterException", 400) and message.startswith(STRATEGY)

    code, message, status = error_of(
        ecs.create_service,
        cluster=cluster["name"],
        serviceName="both",
        taskDefinition=cluster["family"] + ":1",
        desiredCount=1,
        launchType="EC2",
        capacityProviderStrategy=[{"capacityProvider": cluster["provider"], "weight": 1}],
    )
    assert code == "InvalidParameterException" and "both a launch type and capacity provider strategy" in message


def test_cluster_default_strategy_applies(aws, cluster):
    """patch_ecs_service_settings: neither strategy nor launch type: the cluster's default strategy."""
    ecs = aws("ecs")
    default = [{"capacityProvider": cluster["provider"], "weight": 2, "base": 1}]
    ecs.put_cluster_capacity_providers(
        cluster=cluster["name"], capacityProviders=[cluster["provider"]], defaultCapacityProviderStrategy=default
    )
    ecs.create_service(cluster=cluster["name"], serviceName="dflt", taskDefinition=cluster["family"], desiredCount=1)
    service = _service(ecs, cluster, "dflt")

    assert "launchType" not in service
    assert service["capacityProviderStrategy"] == default


def test_update_with_a_new_task_definition(aws, cluster):
    """patch_ecs_service_updates: a new PRIMARY deployment, the ARN, and no task claimed to run."""
    ecs = aws("ecs")
    _create(ecs, cluster)
    before = _service(ecs, cluster)

    # Same strategy, no forced deployment: what community.aws.ecs_service sends for a new image.
    ecs.update_service(
        cluster=cluster["name"],
        service="web",
        taskDefinition=cluster["family"] + ":2",
        desiredCount=2,
        capacityProviderStrategy=[{"capacityProvider": cluster["provider"], "weight": 1, "base": 0}],
    )
    service = _service(ecs, cluster)

    assert service["taskDefinition"].endswith(":task-definition/%s:2" % cluster["family"])
    assert service["taskDefinition"].startswith("arn:aws:ecs:")
    assert "launchType" not in service
    assert service["runningCount"] == 0 and service["pendingCount"] == 2
    assert [d["status"] for d in service["deployments"]] == ["PRIMARY"]
    primary = service["deployments"][0]
    assert primary["id"] != before["deployments"][0]["id"]
    assert primary["taskDefinition"] == service["taskDefinition"]
    assert primary["rolloutState"] == "IN_PROGRESS" and primary["runningCount"] == 0
    assert ecs.describe_clusters(clusters=[cluster["name"]])["clusters"][0]["runningTasksCount"] == 0


def test_update_keeps_the_deployment_configuration(aws, cluster):
    """patch_ecs_service_updates: settings not sent stay; sent ones get AWS's defaults for what they leave out."""
    ecs = aws("ecs")
    _create(ecs, cluster, deploymentConfiguration={"minimumHealthyPercent": 50})

    ecs.update_service(cluster=cluster["name"], service="web", desiredCount=3)
    assert _service(ecs, cluster)["deploymentConfiguration"]["minimumHealthyPercent"] == 50

    ecs.update_service(cluster=cluster["name"], service="web", deploymentConfiguration={"maximumPercent": 150})
    configuration = _service(ecs, cluster)["deploymentConfiguration"]
    assert configuration["maximumPercent"] == 150 and configuration["minimumHealthyPercent"] == 100


def test_strategy_change_needs_a_new_deployment(aws, cluster, error_of):
    """patch_ecs_service_updates: AWS's refusal, then the change with forceNewDeployment."""
    ecs = aws("ecs")
    _create(ecs, cluster)
    changed = [{"capacityProvider": cluster["provider"], "weight": 3, "base": 1}]

    code, message, status = error_of(
        ecs.update_service, cluster=cluster["name"], service="web", capacityProviderStrategy=changed
    )
    assert (code, status) == ("InvalidParameterException", 400) and FORCE in message

    ecs.update_service(cluster=cluster["name"], service="web", capacityProviderStrategy=changed, forceNewDeployment=True)
    assert _service(ecs, cluster)["capacityProviderStrategy"] == changed


def test_family_means_latest_active_revision(aws, cluster, error_of):
    """patch_ecs_describe_task_definition_latest_active: INACTIVE revisions are not described by family."""
    ecs = aws("ecs")
    family = cluster["family"]
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 2

    ecs.deregister_task_definition(taskDefinition=family + ":2")
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 1
    # A revision named outright is still described, INACTIVE.
    assert ecs.describe_task_definition(taskDefinition=family + ":2")["taskDefinition"]["status"] == "INACTIVE"

    ecs.deregister_task_definition(taskDefinition=family + ":1")
    code, message, status = error_of(ecs.describe_task_definition, taskDefinition=family)
    assert (code, message, status) == ("ClientException", "Unable to describe task definition.", 400)
