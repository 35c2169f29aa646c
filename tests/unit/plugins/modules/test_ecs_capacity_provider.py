# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unit tests of autostack.wordpress.ecs_capacity_provider: pure functions, then the manager with a fake client.

No network: the fake client answers like ECS does (camelCase, the lists AWS leaves out left out) and
records every call, so the tests can say which calls check mode must never make.
"""

from __future__ import annotations

import copy

import boto3
import pytest

from ansible_collections.autostack.wordpress.plugins.module_utils import _ecs_capacity_provider as cp
from ansible_collections.autostack.wordpress.plugins.modules.ecs_capacity_provider import CapacityProviderManager

ASG_ARN = "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:1111-2222:autoScalingGroupName/wp-asg"
CP_ARN = "arn:aws:ecs:eu-west-1:123456789012:capacity-provider/wp-asg"
MUTATING = {
    "create_capacity_provider",
    "update_capacity_provider",
    "delete_capacity_provider",
    "tag_resource",
    "untag_resource",
    "put_cluster_capacity_providers",
}


def params(**overrides):
    base = {
        "name": "wp-asg",
        "state": "present",
        "auto_scaling_group_arn": ASG_ARN,
        "managed_scaling": {
            "status": "enabled",
            "target_capacity": 100,
            "minimum_scaling_step_size": None,
            "maximum_scaling_step_size": None,
            "instance_warmup_period": None,
        },
        "managed_termination_protection": "enabled",
        "managed_draining": None,
        "cluster": None,
        "default_strategy": None,
        "wait": True,
        "wait_timeout": 30,
        "tags": None,
        "purge_tags": True,
    }
    base.update(overrides)
    return base


def provider(**overrides):
    raw = {
        "capacityProviderArn": CP_ARN,
        "name": "wp-asg",
        "status": "ACTIVE",
        "autoScalingGroupProvider": {
            "autoScalingGroupArn": ASG_ARN,
            "managedScaling": {
                "status": "ENABLED",
                "targetCapacity": 100,
                "minimumScalingStepSize": 1,
                "maximumScalingStepSize": 10000,
                "instanceWarmupPeriod": 300,
            },
            "managedTerminationProtection": "ENABLED",
            "managedDraining": "ENABLED",
        },
        "tags": [{"key": "autostack:stack", "value": "wp"}],
    }
    raw.update(overrides)
    return raw


# ---------------------------------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"name": "ecs-hosts"}, "cannot begin with aws, ecs or fargate"),
        ({"name": "AWSome"}, "cannot begin with aws, ecs or fargate"),
        ({"name": "Fargate1"}, "cannot begin with aws, ecs or fargate"),
        ({"name": "has space"}, "letters, digits"),
        ({"name": "x" * 256}, "letters, digits"),
        ({"managed_scaling": {"target_capacity": 0}}, "managed_scaling.target_capacity: 0 is outside 1..100"),
        ({"managed_scaling": {"target_capacity": 101}}, "outside 1..100"),
        ({"managed_scaling": {"instance_warmup_period": -1}}, "instance_warmup_period: -1"),
        (
            {"managed_scaling": {"minimum_scaling_step_size": 5, "maximum_scaling_step_size": 2}},
            "is greater than managed_scaling.maximum_scaling_step_size",
        ),
        (
            {"managed_scaling": {"status": "disabled"}, "managed_termination_protection": "enabled"},
            "needs managed_scaling.status=enabled",
        ),
        ({"default_strategy": {"weight": 1001, "base": 0}}, "default_strategy.weight: 1001"),
        ({"default_strategy": {"weight": 1, "base": -1}}, "default_strategy.base: -1"),
    ],
)
def test_validate_params_refuses(overrides, fragment):
    errors = cp.validate_params(params(**overrides))
    assert any(fragment in error for error in errors), errors


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"name": "wordpress-asg_2"},
        {"name": "my-ecs"},
        {"managed_scaling": None, "managed_termination_protection": None},
        {"managed_scaling": {"status": "disabled"}, "managed_termination_protection": "disabled"},
        {"default_strategy": {"weight": 0, "base": 0}},
    ],
)
def test_validate_params_accepts(overrides):
    assert cp.validate_params(params(**overrides)) == []


@pytest.mark.parametrize(
    "wanted, current, same",
    [
        (ASG_ARN, ASG_ARN, True),
        ("wp-asg", ASG_ARN, True),
        ("other", ASG_ARN, False),
        (ASG_ARN.replace("wp-asg", "other"), ASG_ARN, False),
        (ASG_ARN.replace("1111-2222", "3333-4444"), ASG_ARN, False),
    ],
)
def test_same_auto_scaling_group(wanted, current, same):
    assert cp.same_auto_scaling_group(wanted, current) is same


@pytest.mark.parametrize(
    "raw, gone",
    [
        (None, True),
        ({}, True),
        ({"status": "ACTIVE"}, False),
        ({"status": "ACTIVE", "updateStatus": "DELETE_FAILED"}, False),
        ({"status": "ACTIVE", "updateStatus": "DELETE_IN_PROGRESS"}, True),
        ({"status": "INACTIVE", "updateStatus": "DELETE_COMPLETE"}, True),
    ],
)
def test_is_gone(raw, gone):
    assert cp.is_gone(raw) is gone


def test_pick_provider_prefers_the_live_namesake():
    dead = provider(status="INACTIVE", updateStatus="DELETE_COMPLETE")
    live = provider()
    assert cp.pick_provider([dead, live]) is live
    assert cp.pick_provider([dead]) is dead
    assert cp.pick_provider([]) is None


def test_build_create_params_maps_options_to_the_api():
    request = cp.build_create_params(
        params(
            managed_scaling={"status": "enabled", "target_capacity": 90, "instance_warmup_period": 120},
            managed_draining="disabled",
            tags={"autostack:stack": "wp"},
        )
    )
    assert request == {
        "name": "wp-asg",
        "autoScalingGroupProvider": {
            "autoScalingGroupArn": ASG_ARN,
            "managedScaling": {"status": "ENABLED", "targetCapacity": 90, "instanceWarmupPeriod": 120},
            "managedTerminationProtection": "ENABLED",
            "managedDraining": "DISABLED",
        },
        "tags": [{"key": "autostack:stack", "value": "wp"}],
    }


def test_build_create_params_leaves_out_what_was_not_asked():
    request = cp.build_create_params(params(managed_scaling=None, managed_termination_protection=None))
    assert request == {"name": "wp-asg", "autoScalingGroupProvider": {"autoScalingGroupArn": ASG_ARN}}


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, None),
        ({"managed_scaling": None, "managed_termination_protection": None}, None),
        # A suboption left out is not compared, so AWS's defaults (step sizes, warm-up) are no drift.
        ({"managed_scaling": {"status": "enabled"}}, None),
        (
            {"managed_scaling": {"target_capacity": 80}},
            {
                "managedScaling": {
                    "status": "ENABLED",
                    "targetCapacity": 80,
                    "minimumScalingStepSize": 1,
                    "maximumScalingStepSize": 10000,
                    "instanceWarmupPeriod": 300,
                }
            },
        ),
        ({"managed_termination_protection": "disabled"}, {"managedTerminationProtection": "DISABLED"}),
        ({"managed_draining": "enabled"}, None),
        ({"managed_draining": "disabled"}, {"managedDraining": "DISABLED"}),
    ],
)
def test_build_update_params(overrides, expected):
    update = cp.build_update_params(params(**overrides), provider())
    if expected is None:
        assert update is None
    else:
        assert update == {"name": "wp-asg", "autoScalingGroupProvider": expected}


def test_apply_update_predicts_the_provider_after_an_update():
    current = provider()
    update = cp.build_update_params(params(managed_scaling={"target_capacity": 75}), current)
    predicted = cp.apply_update(current, update)
    assert predicted["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 75
    assert current["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 100
    assert cp.apply_update(current, None) == current


def test_format_capacity_provider_is_snake_case_with_tag_dict():
    formatted = cp.format_capacity_provider(provider(updateStatus="UPDATE_COMPLETE"))
    assert formatted["capacity_provider_arn"] == CP_ARN
    assert formatted["update_status"] == "UPDATE_COMPLETE"
    assert formatted["auto_scaling_group_provider"]["managed_scaling"]["target_capacity"] == 100
    assert formatted["auto_scaling_group_provider"]["managed_termination_protection"] == "ENABLED"
    assert formatted["tags"] == {"autostack:stack": "wp"}
    assert cp.format_capacity_provider(None) == {}
    assert cp.format_capacity_provider(provider(tags=None))["tags"] == {}


CLUSTER_EMPTY = {"clusterName": "wp", "status": "ACTIVE"}
CLUSTER_FARGATE = {
    "clusterName": "wp",
    "status": "ACTIVE",
    "capacityProviders": ["FARGATE"],
    "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
}
CLUSTER_ATTACHED = {
    "clusterName": "wp",
    "status": "ACTIVE",
    "capacityProviders": ["other", "wp-asg"],
    # AWS leaves base out when it is 0.
    "defaultCapacityProviderStrategy": [
        {"capacityProvider": "other", "weight": 2},
        {"capacityProvider": "wp-asg", "weight": 1},
    ],
}


@pytest.mark.parametrize(
    "cluster, strategy, expected",
    [
        (
            # The emulator (and AWS, for a cluster that never had one) leaves the lists out.
            CLUSTER_EMPTY,
            {"weight": 1, "base": 0},
            {
                "capacityProviders": ["wp-asg"],
                "defaultCapacityProviderStrategy": [{"capacityProvider": "wp-asg", "weight": 1, "base": 0}],
            },
        ),
        (
            CLUSTER_EMPTY,
            None,
            {"capacityProviders": ["wp-asg"], "defaultCapacityProviderStrategy": []},
        ),
        (
            CLUSTER_FARGATE,
            {"weight": 3, "base": 1},
            {
                "capacityProviders": ["FARGATE", "wp-asg"],
                "defaultCapacityProviderStrategy": [
                    {"capacityProvider": "FARGATE", "weight": 1, "base": 0},
                    {"capacityProvider": "wp-asg", "weight": 3, "base": 1},
                ],
            },
        ),
        (CLUSTER_ATTACHED, {"weight": 1, "base": 0}, None),
        (CLUSTER_ATTACHED, None, None),
        (
            CLUSTER_ATTACHED,
            {"weight": 5, "base": 0},
            {
                "capacityProviders": ["other", "wp-asg"],
                "defaultCapacityProviderStrategy": [
                    {"capacityProvider": "other", "weight": 2},
                    {"capacityProvider": "wp-asg", "weight": 5, "base": 0},
                ],
            },
        ),
    ],
)
def test_plan_attach(cluster, strategy, expected):
    before = copy.deepcopy(cluster)
    assert cp.plan_attach(cluster, "wp-asg", strategy) == expected
    assert cluster == before


@pytest.mark.parametrize(
    "cluster, expected",
    [
        (CLUSTER_EMPTY, None),
        (CLUSTER_FARGATE, None),
        (
            CLUSTER_ATTACHED,
            {
                "capacityProviders": ["other"],
                "defaultCapacityProviderStrategy": [{"capacityProvider": "other", "weight": 2}],
            },
        ),
    ],
)
def test_plan_detach(cluster, expected):
    assert cp.plan_detach(cluster, "wp-asg") == expected


def test_format_cluster_attachment():
    attachment = cp.cluster_attachment(CLUSTER_ATTACHED)
    assert cp.format_cluster_attachment("wp", attachment) == {
        "cluster_name": "wp",
        "capacity_providers": ["other", "wp-asg"],
        "default_capacity_provider_strategy": [
            {"capacity_provider": "other", "weight": 2},
            {"capacity_provider": "wp-asg", "weight": 1},
        ],
    }


# ---------------------------------------------------------------------------------------------------
# The manager, against a fake ECS client
# ---------------------------------------------------------------------------------------------------

# A real client's metadata (no call is made) lets botocore build the module's real waiters on the fake.
_META = boto3.client("ecs", region_name="eu-west-1", aws_access_key_id="unit", aws_secret_access_key="unit").meta


class FakeECS:
    """Answers like ECS for one account: providers by name, clusters by name, every call recorded."""

    meta = _META

    def __init__(self, providers=None, clusters=None, delete_fails=False):
        self.providers = {p["name"]: copy.deepcopy(p) for p in providers or []}
        self.clusters = {c["clusterName"]: copy.deepcopy(c) for c in clusters or []}
        self.delete_fails = delete_fails
        self.calls = []

    def _record(self, operation, **kwargs):
        self.calls.append((operation, copy.deepcopy(kwargs)))

    @property
    def mutations(self):
        return [name for name, _ignored in self.calls if name in MUTATING]

    def describe_capacity_providers(self, capacityProviders, include=None):
        self._record("describe_capacity_providers", capacityProviders=capacityProviders)
        found = [copy.deepcopy(self.providers[n]) for n in capacityProviders if n in self.providers]
        return {"capacityProviders": found, "failures": []}

    def create_capacity_provider(self, name, autoScalingGroupProvider, tags=None):
        self._record(
            "create_capacity_provider", name=name, autoScalingGroupProvider=autoScalingGroupProvider, tags=tags
        )
        created = {
            "capacityProviderArn": CP_ARN,
            "name": name,
            "status": "ACTIVE",
            "autoScalingGroupProvider": copy.deepcopy(autoScalingGroupProvider),
        }
        if tags:
            created["tags"] = copy.deepcopy(tags)
        self.providers[name] = created
        return {"capacityProvider": copy.deepcopy(created)}

    def update_capacity_provider(self, name, autoScalingGroupProvider):
        self._record("update_capacity_provider", name=name, autoScalingGroupProvider=autoScalingGroupProvider)
        current = self.providers[name]
        current["autoScalingGroupProvider"].update(copy.deepcopy(autoScalingGroupProvider))
        current["updateStatus"] = "UPDATE_COMPLETE"
        return {"capacityProvider": copy.deepcopy(current)}

    def delete_capacity_provider(self, capacityProvider):
        self._record("delete_capacity_provider", capacityProvider=capacityProvider)
        current = self.providers[capacityProvider]
        if self.delete_fails:
            current["updateStatus"] = "DELETE_FAILED"
            current["updateStatusReason"] = "The capacity provider is in use by a cluster."
        else:
            current.update(status="INACTIVE", updateStatus="DELETE_COMPLETE")
        return {"capacityProvider": copy.deepcopy(current)}

    def tag_resource(self, resourceArn, tags):
        self._record("tag_resource", resourceArn=resourceArn, tags=tags)
        current = next(p for p in self.providers.values() if p["capacityProviderArn"] == resourceArn)
        merged = {t["key"]: t["value"] for t in current.get("tags") or []}
        merged.update({t["key"]: t["value"] for t in tags})
        current["tags"] = [{"key": k, "value": v} for k, v in merged.items()]
        return {}

    def untag_resource(self, resourceArn, tagKeys):
        self._record("untag_resource", resourceArn=resourceArn, tagKeys=tagKeys)
        current = next(p for p in self.providers.values() if p["capacityProviderArn"] == resourceArn)
        current["tags"] = [t for t in current.get("tags") or [] if t["key"] not in tagKeys]
        return {}

    def describe_clusters(self, clusters):
        self._record("describe_clusters", clusters=clusters)
        found = [copy.deepcopy(self.clusters[n]) for n in clusters if n in self.clusters]
        return {
            "clusters": found,
            "failures": [{"arn": n, "reason": "MISSING"} for n in clusters if n not in self.clusters],
        }

    def put_cluster_capacity_providers(self, cluster, capacityProviders, defaultCapacityProviderStrategy):
        self._record(
            "put_cluster_capacity_providers",
            cluster=cluster,
            capacityProviders=capacityProviders,
            defaultCapacityProviderStrategy=defaultCapacityProviderStrategy,
        )
        current = self.clusters[cluster]
        current["capacityProviders"] = copy.deepcopy(capacityProviders)
        current["defaultCapacityProviderStrategy"] = copy.deepcopy(defaultCapacityProviderStrategy)
        return {"cluster": copy.deepcopy(current)}


class FakeModule:
    def __init__(self, module_params, check_mode=False, diff=True):
        self.params = module_params
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def run(client, check_mode=False, **overrides):
    module = FakeModule(params(**overrides), check_mode=check_mode)
    manager = CapacityProviderManager(module, client)
    if module.params["state"] == "present":
        manager.ensure_present()
    else:
        manager.ensure_absent()
    return manager.results(), module


def test_create_then_nothing_to_do():
    client = FakeECS(clusters=[CLUSTER_EMPTY])
    kwargs = dict(cluster="wp", default_strategy={"weight": 1, "base": 0}, tags={"autostack:stack": "wp"})

    first, _ignored = run(client, **kwargs)
    assert first["changed"] is True
    assert client.mutations == ["create_capacity_provider", "put_cluster_capacity_providers"]
    assert first["capacity_provider"]["name"] == "wp-asg"
    assert first["capacity_provider"]["tags"] == {"autostack:stack": "wp"}
    assert first["cluster"]["capacity_providers"] == ["wp-asg"]
    assert first["diff"]["before"]["capacity_provider"] == {}

    client.calls.clear()
    second, _ignored = run(client, **kwargs)
    assert second["changed"] is False
    assert client.mutations == []
    assert second["diff"]["before"] == second["diff"]["after"]


def test_check_mode_create_makes_no_call_and_predicts():
    client = FakeECS(clusters=[CLUSTER_EMPTY])
    result, _ignored = run(client, check_mode=True, cluster="wp", default_strategy={"weight": 1, "base": 0})
    assert result["changed"] is True
    assert client.mutations == []
    assert client.providers == {}
    after = result["diff"]["after"]
    assert after["capacity_provider"]["auto_scaling_group_provider"]["managed_termination_protection"] == "ENABLED"
    assert after["cluster"]["capacity_providers"] == ["wp-asg"]


def test_check_mode_tolerates_a_cluster_that_does_not_exist_yet():
    client = FakeECS()
    result, module = run(client, check_mode=True, cluster="wp", default_strategy={"weight": 1, "base": 0})
    assert result["changed"] is True
    assert client.mutations == []
    assert module.warnings and "does not exist" in module.warnings[0]


def test_missing_cluster_fails_before_creating_anything():
    client = FakeECS()
    with pytest.raises(cp.ECSCapacityProviderError, match="cluster wp not found"):
        run(client, cluster="wp")
    assert client.mutations == []


def test_update_of_managed_scaling_and_tags():
    client = FakeECS(providers=[provider()])
    result, _ignored = run(client, managed_scaling={"target_capacity": 80}, tags={"team": "web"})
    assert result["changed"] is True
    assert client.mutations == ["update_capacity_provider", "untag_resource", "tag_resource"]
    update = dict(client.calls)["update_capacity_provider"]["autoScalingGroupProvider"]
    # The whole structure is sent, so AWS does not reset the suboptions that were left out.
    assert update["managedScaling"]["instanceWarmupPeriod"] == 300
    assert update["managedScaling"]["targetCapacity"] == 80
    assert result["capacity_provider"]["auto_scaling_group_provider"]["managed_scaling"]["target_capacity"] == 80
    assert result["capacity_provider"]["tags"] == {"team": "web"}


def test_tags_are_kept_without_purge():
    client = FakeECS(providers=[provider()])
    result, _ignored = run(client, tags={"team": "web"}, purge_tags=False)
    assert client.mutations == ["tag_resource"]
    assert result["capacity_provider"]["tags"] == {"autostack:stack": "wp", "team": "web"}


def test_check_mode_update_makes_no_call_and_predicts():
    client = FakeECS(providers=[provider()])
    result, _ignored = run(client, check_mode=True, managed_scaling={"target_capacity": 60}, tags={"team": "web"})
    assert result["changed"] is True
    assert client.mutations == []
    after = result["diff"]["after"]["capacity_provider"]
    assert after["auto_scaling_group_provider"]["managed_scaling"]["target_capacity"] == 60
    assert after["tags"] == {"team": "web"}
    assert client.providers["wp-asg"]["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 100


def test_another_auto_scaling_group_is_refused():
    client = FakeECS(providers=[provider()])
    with pytest.raises(cp.ECSCapacityProviderError, match="cannot change it"):
        run(client, auto_scaling_group_arn="some-other-group")
    assert client.mutations == []


def test_an_inactive_namesake_is_recreated():
    client = FakeECS(providers=[provider(status="INACTIVE", updateStatus="DELETE_COMPLETE")])
    result, _ignored = run(client)
    assert result["changed"] is True
    assert client.mutations == ["create_capacity_provider"]


def test_absent_detaches_then_deletes_and_waits():
    client = FakeECS(providers=[provider()], clusters=[CLUSTER_ATTACHED])
    result, _ignored = run(client, state="absent", cluster="wp")
    assert result["changed"] is True
    assert client.mutations == ["put_cluster_capacity_providers", "delete_capacity_provider"]
    assert client.clusters["wp"]["capacityProviders"] == ["other"]
    assert result["capacity_provider"] == {}
    assert result["cluster"]["default_capacity_provider_strategy"] == [{"capacity_provider": "other", "weight": 2}]
    # The real waiter ran against the fake and saw the deletion complete.
    assert client.calls[-1][0] == "describe_capacity_providers"

    client.calls.clear()
    again, _ignored = run(client, state="absent", cluster="wp")
    assert again["changed"] is False
    assert client.mutations == []


def test_check_mode_absent_makes_no_call():
    client = FakeECS(providers=[provider()], clusters=[CLUSTER_ATTACHED])
    result, _ignored = run(client, check_mode=True, state="absent", cluster="wp")
    assert result["changed"] is True
    assert client.mutations == []
    assert result["diff"]["after"] == {
        "capacity_provider": {},
        "cluster": {
            "cluster_name": "wp",
            "capacity_providers": ["other"],
            "default_capacity_provider_strategy": [{"capacity_provider": "other", "weight": 2}],
        },
    }


def test_refused_deletion_reports_the_reason():
    client = FakeECS(providers=[provider()], delete_fails=True)
    with pytest.raises(cp.ECSCapacityProviderError, match="in use by a cluster"):
        run(client, state="absent")


def test_absent_when_missing_is_a_no_op():
    client = FakeECS(clusters=[CLUSTER_FARGATE])
    result, _ignored = run(client, state="absent", cluster="wp")
    assert result["changed"] is False
    assert client.mutations == []


def test_absent_with_the_cluster_already_gone_still_deletes():
    client = FakeECS(providers=[provider()])
    result, _ignored = run(client, state="absent", cluster="wp")
    assert result["changed"] is True
    assert client.mutations == ["delete_capacity_provider"]
    assert "cluster" not in result
