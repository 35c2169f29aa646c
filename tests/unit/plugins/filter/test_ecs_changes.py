# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.autostack.wordpress.plugins.filter.ecs_service_changes import FilterModule as ServiceFilterModule
from ansible_collections.autostack.wordpress.plugins.filter.ecs_task_definition_changes import FilterModule as TaskDefinitionFilterModule
from ansible_collections.autostack.wordpress.plugins.plugin_utils._ecs_changes import ecs_service_changes
from ansible_collections.autostack.wordpress.plugins.plugin_utils._ecs_changes import ecs_task_definition_changes

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:wp/rds/master-AbCdEf"

WANTED = {
    "family": "wp-wordpress",
    "networkMode": "bridge",
    "requiresCompatibilities": ["EC2"],
    "cpu": "256",
    "memory": "512",
    "executionRoleArn": "arn:aws:iam::123456789012:role/wp-ecs-task-execution",
    "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
    "containerDefinitions": [
        {
            "name": "wordpress",
            "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/wp/wordpress:6.8.3-0123456789ab",
            "essential": True,
            "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}],
            "healthCheck": {
                "command": ["CMD", "/usr/local/bin/autostack-healthcheck"],
                "interval": 10,
                "timeout": 3,
                "retries": 3,
                "startPeriod": 90,
            },
            "environment": [
                {"name": "WORDPRESS_DB_PORT", "value": "3306"},
                {"name": "WORDPRESS_TABLE_PREFIX", "value": "wp_"},
            ],
            "secrets": [
                {"name": "WORDPRESS_DB_HOST", "valueFrom": ARN + ":host::"},
                {"name": "WORDPRESS_DB_PASSWORD", "valueFrom": ARN + ":password::"},
            ],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/wp", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "wp"},
            },
            "stopTimeout": 30,
        }
    ],
}


def as_registered(wanted):
    """What AWS answers for ``wanted``, as community.aws.ecs_taskdefinition_info returns it.

    The API fills in defaults, reorders lists, adds read-only fields; the module snake_cases
    everything and adds Ansible's own result keys.
    """
    definition = copy.deepcopy(wanted)
    container = definition["containerDefinitions"][0]
    container.update(cpu=0, mountPoints=[], volumesFrom=[], systemControls=[])
    container["environment"] = list(reversed(container["environment"]))
    container["secrets"] = list(reversed(container["secrets"]))
    container["logConfiguration"]["secretOptions"] = []
    definition.update(
        taskDefinitionArn="arn:aws:ecs:eu-west-1:123456789012:task-definition/wp-wordpress:3",
        revision=3,
        status="ACTIVE",
        volumes=[],
        placementConstraints=[],
        compatibilities=["EC2"],
        requiresAttributes=[{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
        registeredAt="2026-11-25T20:00:00+00:00",
        registeredBy="arn:aws:iam::123456789012:root",
        enableFaultInjection=False,
        taskRoleArn="",
    )
    result = camel_dict_to_snake_dict(definition)
    result.update(changed=False, failed=False, warnings=["Both option region and its alias aws_region are set."])
    return result


def container_of(definition):
    return definition["containerDefinitions"][0]


def test_registered_under_their_names():
    assert TaskDefinitionFilterModule().filters() == {"ecs_task_definition_changes": ecs_task_definition_changes}
    assert ServiceFilterModule().filters() == {"ecs_service_changes": ecs_service_changes}


def test_same_definition_as_registered_has_no_changes():
    assert ecs_task_definition_changes(as_registered(WANTED), WANTED) == []


def test_same_definition_in_camel_case_has_no_changes():
    current = copy.deepcopy(WANTED)
    current.update(revision=1, status="ACTIVE")
    assert ecs_task_definition_changes(current, WANTED) == []


def test_no_active_revision():
    assert ecs_task_definition_changes({}, WANTED) == ["task definition family wp-wordpress has no ACTIVE revision"]
    inactive = as_registered(WANTED)
    inactive["status"] = "INACTIVE"
    assert ecs_task_definition_changes(inactive, WANTED) == [
        "task definition family wp-wordpress has no ACTIVE revision"
    ]


def test_changed_image_is_a_change():
    wanted = copy.deepcopy(WANTED)
    container_of(wanted)["image"] = container_of(WANTED)["image"].replace("0123456789ab", "ba9876543210")
    changes = ecs_task_definition_changes(as_registered(WANTED), wanted)
    assert len(changes) == 1
    assert changes[0].startswith("container_definitions[wordpress].image: ")
    assert changes[0].endswith(":6.8.3-ba9876543210")


@pytest.mark.parametrize(
    "edit, path",
    [
        # community.aws.ecs_taskdefinition counts two lists of the same length as equal: these are its misses.
        (lambda c: c["environment"][0].update(value="3307"), "container_definitions[wordpress].environment"),
        (lambda c: c["secrets"][1].update(valueFrom=ARN + ":username::"), "container_definitions[wordpress].secrets"),
        (lambda c: c["portMappings"][0].update(containerPort=8080), "container_definitions[wordpress].port_mappings"),
        (lambda c: c["healthCheck"].update(startPeriod=60), "container_definitions[wordpress].health_check.start_period"),
        (lambda c: c["logConfiguration"]["options"].update({"mode": "non-blocking"}), "container_definitions[wordpress]"),
        (lambda c: c.update(stopTimeout=60), "container_definitions[wordpress].stop_timeout"),
        (lambda c: c["healthCheck"].update(command=["CMD-SHELL", "/usr/local/bin/autostack-healthcheck"]), "command"),
    ],
)
def test_container_changes(edit, path):
    wanted = copy.deepcopy(WANTED)
    edit(container_of(wanted))
    changes = ecs_task_definition_changes(as_registered(WANTED), wanted)
    assert len(changes) == 1, changes
    assert path in changes[0]


@pytest.mark.parametrize(
    "key, value, path",
    [
        # ...and these it never compares.
        ("executionRoleArn", "arn:aws:iam::123456789012:role/other", "execution_role_arn"),
        ("cpu", "512", "cpu"),
        ("memory", "1024", "memory"),
        ("networkMode", "host", "network_mode"),
        ("runtimePlatform", {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}, "runtime_platform"),
    ],
)
def test_task_level_changes(key, value, path):
    wanted = copy.deepcopy(WANTED)
    wanted[key] = value
    changes = ecs_task_definition_changes(as_registered(WANTED), wanted)
    assert len(changes) == 1, changes
    assert changes[0].startswith(path)


def test_numbers_equal_their_strings():
    wanted = copy.deepcopy(WANTED)
    wanted.update(cpu=256, memory=512)
    assert ecs_task_definition_changes(as_registered(WANTED), wanted) == []


def test_api_defaults_count_as_given():
    wanted = copy.deepcopy(WANTED)
    container = container_of(wanted)
    del container["essential"]
    container["portMappings"] = [{"containerPort": 80}]
    container["healthCheck"] = {"command": ["CMD", "/usr/local/bin/autostack-healthcheck"], "startPeriod": 90}
    current = as_registered(WANTED)
    current["container_definitions"][0]["health_check"].update(interval=30, timeout=5, retries=3)
    assert ecs_task_definition_changes(current, wanted) == []


def test_command_order_matters_but_list_order_of_objects_does_not():
    wanted = copy.deepcopy(WANTED)
    container_of(wanted)["healthCheck"]["command"] = ["/usr/local/bin/autostack-healthcheck", "CMD"]
    assert len(ecs_task_definition_changes(as_registered(WANTED), wanted)) == 1


def test_removed_variable_is_a_change():
    wanted = copy.deepcopy(WANTED)
    container_of(wanted)["environment"] = container_of(wanted)["environment"][:1]
    changes = ecs_task_definition_changes(as_registered(WANTED), wanted)
    assert [change.split(":")[0] for change in changes] == ["container_definitions[wordpress].environment"]


def test_drift_outside_the_wanted_keys_is_a_change():
    current = as_registered(WANTED)
    current["volumes"] = [{"name": "uploads", "host": {"source_path": "/srv/uploads"}}]
    changes = ecs_task_definition_changes(current, WANTED)
    assert len(changes) == 1 and changes[0].startswith("volumes: ")


def test_added_and_removed_containers():
    wanted = copy.deepcopy(WANTED)
    sidecar = {"name": "sidecar", "image": "busybox:1.37", "essential": False}
    wanted["containerDefinitions"].append(sidecar)
    assert ecs_task_definition_changes(as_registered(WANTED), wanted) == [
        "container_definitions[sidecar]: (none) -> present"
    ]
    assert ecs_task_definition_changes(as_registered(wanted), WANTED) == [
        "container_definitions[sidecar]: present -> (none)"
    ]


def test_secret_values_never_appear_only_references():
    wanted = copy.deepcopy(WANTED)
    container_of(wanted)["secrets"][0]["valueFrom"] = ARN + ":dbname::"
    changes = ecs_task_definition_changes(as_registered(WANTED), wanted)
    assert ARN + ":host::" in changes[0] and ARN + ":dbname::" in changes[0]


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="expected a dict"):
        ecs_task_definition_changes(as_registered(WANTED), "wp-wordpress")
    twice = copy.deepcopy(WANTED)
    twice["containerDefinitions"].append(copy.deepcopy(container_of(WANTED)))
    with pytest.raises(AnsibleFilterError, match="two containers named wordpress"):
        ecs_task_definition_changes(as_registered(WANTED), twice)


SERVICE = {
    "serviceName": "wp-wordpress",
    "status": "ACTIVE",
    "desiredCount": 2,
    "capacityProviderStrategy": [{"capacityProvider": "wp-asg", "weight": 1, "base": 0}],
    "deploymentConfiguration": {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "alarms": {"alarmNames": [], "enable": False, "rollback": False},
        "strategy": "ROLLING",
    },
    "placementStrategy": [
        {"type": "spread", "field": "attribute:ecs.availability-zone"},
        {"type": "spread", "field": "instanceId"},
    ],
    "placementConstraints": [],
}

SETTINGS = {
    "capacityProviderStrategy": [{"capacityProvider": "wp-asg", "weight": 1, "base": 0}],
    "deploymentConfiguration": {
        "minimumHealthyPercent": 100,
        "maximumPercent": 200,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
    },
    "placementStrategy": [
        {"type": "spread", "field": "attribute:ecs.availability-zone"},
        {"type": "spread", "field": "instanceId"},
    ],
}


def test_service_without_changes():
    assert ecs_service_changes(SERVICE, SETTINGS) == []


def test_service_strategy_defaults():
    settings = copy.deepcopy(SETTINGS)
    settings["capacityProviderStrategy"] = [{"capacityProvider": "wp-asg", "weight": "1"}]
    assert ecs_service_changes(SERVICE, settings) == []


@pytest.mark.parametrize(
    "edit, prefix",
    [
        (lambda s: s["capacityProviderStrategy"][0].update(weight=2), "capacityProviderStrategy"),
        (lambda s: s["deploymentConfiguration"].update(minimumHealthyPercent=50), "deploymentConfiguration.minimumHealthyPercent"),
        # 0 is a value here, not "nothing".
        (lambda s: s["deploymentConfiguration"].update(minimumHealthyPercent=0), "deploymentConfiguration.minimumHealthyPercent"),
        (lambda s: s["deploymentConfiguration"]["deploymentCircuitBreaker"].update(rollback=False), "deploymentConfiguration"),
        (lambda s: s["placementStrategy"].reverse(), "placementStrategy"),
        (lambda s: s.update(placementConstraints=[{"type": "distinctInstance"}]), "placementConstraints"),
    ],
)
def test_service_changes(edit, prefix):
    settings = copy.deepcopy(SETTINGS)
    edit(settings)
    changes = ecs_service_changes(SERVICE, settings)
    assert len(changes) == 1, changes
    assert changes[0].startswith(prefix)


def test_service_created_by_an_emulator_without_settings():
    bare = {"serviceName": "wp-wordpress", "status": "ACTIVE", "launchType": "EC2"}
    changes = ecs_service_changes(bare, SETTINGS)
    assert [change.split(":")[0].split(".")[0] for change in changes] == [
        "capacityProviderStrategy",
        "deploymentConfiguration",
        "deploymentConfiguration",
        "deploymentConfiguration",
        "placementStrategy",
    ]


def test_service_bad_input():
    with pytest.raises(AnsibleFilterError, match="expected two dicts"):
        ecs_service_changes([], SETTINGS)
