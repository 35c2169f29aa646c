# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Private helpers of the ecs_capacity_provider module.

Two halves: pure functions that reason over plain data (what the module wants, what AWS answered,
what must change) and can be unit-tested without a network, and thin wrappers around the ECS API,
each behind a retry decorator and an error handler that turns botocore errors into
``ECSCapacityProviderError``. Not a public interface: the leading underscore says so.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from typing import Dict
from typing import List
from typing import Optional

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.waiter import BaseWaiterFactory
from ansible_collections.amazon.aws.plugins.module_utils.waiter import custom_waiter_config

# The API's own limits (CreateCapacityProvider, ManagedScaling); checked before any call so that a
# typo fails with the option's name rather than with a terse InvalidParameterException.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
RESERVED_NAME_PREFIXES = ("aws", "ecs", "fargate")
MANAGED_SCALING_RANGES = {
    "target_capacity": (1, 100),
    "minimum_scaling_step_size": (1, 10000),
    "maximum_scaling_step_size": (1, 10000),
    "instance_warmup_period": (0, 10000),
}
MANAGED_SCALING_KEYS = {
    "status": "status",
    "target_capacity": "targetCapacity",
    "minimum_scaling_step_size": "minimumScalingStepSize",
    "maximum_scaling_step_size": "maximumScalingStepSize",
    "instance_warmup_period": "instanceWarmupPeriod",
}
# A provider in one of these states is on its way out: for state=present it counts as missing.
GONE_STATUSES = ("INACTIVE", "DEPROVISIONING")
GONE_UPDATE_STATUSES = ("DELETE_IN_PROGRESS", "DELETE_COMPLETE")
WAIT_DELAY = 5


class ECSCapacityProviderError(AnsibleAWSError):
    pass


class ECSErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = ECSCapacityProviderError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ClusterNotFoundException")


# ---------------------------------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------------------------------


def to_api_switch(value: Optional[str]) -> Optional[str]:
    """``enabled`` / ``disabled`` (module options) to the API's ``ENABLED`` / ``DISABLED``."""
    return None if value is None else value.upper()


def validate_params(params: Dict[str, Any]) -> List[str]:
    """Errors a request would meet at AWS, found before any call. Empty list: nothing to say."""
    errors = []
    name = params.get("name") or ""
    if not NAME_PATTERN.match(name):
        errors.append(f"name {name!r}: up to 255 letters, digits, underscores and hyphens are allowed")
    elif name.lower().startswith(RESERVED_NAME_PREFIXES):
        errors.append(f"name {name!r}: a capacity provider name cannot begin with aws, ecs or fargate")

    scaling = params.get("managed_scaling") or {}
    for key, (low, high) in MANAGED_SCALING_RANGES.items():
        value = scaling.get(key)
        if value is not None and not low <= value <= high:
            errors.append(f"managed_scaling.{key}: {value} is outside {low}..{high}")
    low_step = scaling.get("minimum_scaling_step_size")
    high_step = scaling.get("maximum_scaling_step_size")
    if low_step is not None and high_step is not None and low_step > high_step:
        errors.append(
            f"managed_scaling.minimum_scaling_step_size ({low_step}) is greater than"
            f" managed_scaling.maximum_scaling_step_size ({high_step})"
        )
    # AWS accepts this combination, but termination protection then never works (see the API docs of
    # AutoScalingGroupProvider): refuse it rather than build something that silently does nothing.
    if params.get("managed_termination_protection") == "enabled" and scaling.get("status") == "disabled":
        errors.append("managed_termination_protection=enabled needs managed_scaling.status=enabled")

    strategy = params.get("default_strategy")
    if strategy is not None:
        weight = strategy.get("weight")
        base = strategy.get("base")
        if weight is not None and not 0 <= weight <= 1000:
            errors.append(f"default_strategy.weight: {weight} is outside 0..1000")
        if base is not None and not 0 <= base <= 100000:
            errors.append(f"default_strategy.base: {base} is outside 0..100000")
    return errors


def asg_name_from_arn(arn_or_name: str) -> str:
    """The group's name, from an ARN (``...:autoScalingGroupName/<name>``) or from a bare name."""
    marker = "autoScalingGroupName/"
    if arn_or_name.startswith("arn:") and marker in arn_or_name:
        return arn_or_name.split(marker, 1)[1]
    return arn_or_name


def same_auto_scaling_group(wanted: str, current_arn: str) -> bool:
    """AWS accepts a group's name or ARN but always answers with the ARN."""
    if wanted.startswith("arn:"):
        return wanted == current_arn
    return wanted == asg_name_from_arn(current_arn)


def is_gone(provider: Optional[Dict[str, Any]]) -> bool:
    """True when the (raw, camelCase) provider is missing, deleted, or being deleted."""
    if not provider:
        return True
    return provider.get("status") in GONE_STATUSES or provider.get("updateStatus") in GONE_UPDATE_STATUSES


def pick_provider(providers: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """DescribeCapacityProviders may list a deleted (INACTIVE) namesake next to a live one: prefer the live one."""
    live = [p for p in providers if not is_gone(p)]
    if live:
        return live[0]
    return providers[0] if providers else None


def build_managed_scaling(wanted: Optional[Dict[str, Any]], current: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The ManagedScaling structure to send: the current one with the suboptions the user set on top.

    Sending the whole structure on update keeps AWS from resetting the suboptions the user left out.
    """
    merged = copy.deepcopy(current or {})
    for option, api_key in MANAGED_SCALING_KEYS.items():
        value = (wanted or {}).get(option)
        if value is None:
            continue
        merged[api_key] = to_api_switch(value) if option == "status" else value
    return merged


def build_create_params(params: Dict[str, Any]) -> Dict[str, Any]:
    """CreateCapacityProvider's arguments from the module's parameters."""
    asg_provider: Dict[str, Any] = {"autoScalingGroupArn": params["auto_scaling_group_arn"]}
    if params.get("managed_scaling"):
        scaling = build_managed_scaling(params["managed_scaling"])
        if scaling:
            asg_provider["managedScaling"] = scaling
    if params.get("managed_termination_protection") is not None:
        asg_provider["managedTerminationProtection"] = to_api_switch(params["managed_termination_protection"])
    if params.get("managed_draining") is not None:
        asg_provider["managedDraining"] = to_api_switch(params["managed_draining"])
    request: Dict[str, Any] = {"name": params["name"], "autoScalingGroupProvider": asg_provider}
    if params.get("tags"):
        request["tags"] = ansible_dict_to_boto3_tag_list(params["tags"], "key", "value")
    return request


def build_update_params(params: Dict[str, Any], current: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """UpdateCapacityProvider's arguments, or None when the provider already has what the user asked for.

    Only the settings the user gave are compared: a suboption left out keeps whatever AWS holds.
    """
    current_asg = current.get("autoScalingGroupProvider") or {}
    update: Dict[str, Any] = {}

    current_scaling = current_asg.get("managedScaling") or {}
    wanted_scaling = build_managed_scaling(params.get("managed_scaling"), current_scaling)
    if wanted_scaling != current_scaling:
        update["managedScaling"] = wanted_scaling

    for option, api_key in (
        ("managed_termination_protection", "managedTerminationProtection"),
        ("managed_draining", "managedDraining"),
    ):
        wanted = to_api_switch(params.get(option))
        if wanted is not None and wanted != current_asg.get(api_key):
            update[api_key] = wanted

    if not update:
        return None
    return {"name": current["name"], "autoScalingGroupProvider": update}


def apply_update(current: Dict[str, Any], update: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The provider as it will be once ``update`` (from build_update_params) is applied: the check-mode answer."""
    predicted = copy.deepcopy(current)
    if update:
        predicted.setdefault("autoScalingGroupProvider", {}).update(copy.deepcopy(update["autoScalingGroupProvider"]))
    return predicted


def predict_created(params: Dict[str, Any]) -> Dict[str, Any]:
    """What a created provider will look like, as far as is known before AWS answers (check mode)."""
    request = build_create_params(params)
    predicted = {
        "name": request["name"],
        "status": "ACTIVE",
        "autoScalingGroupProvider": request["autoScalingGroupProvider"],
    }
    if "tags" in request:
        predicted["tags"] = request["tags"]
    return predicted


def format_capacity_provider(provider: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """A raw provider as the module returns it: snake_case keys, tags as a plain dict."""
    if not provider:
        return {}
    raw = copy.deepcopy(provider)
    tags = raw.pop("tags", None)
    formatted = camel_dict_to_snake_dict(raw)
    formatted["tags"] = boto3_tag_list_to_ansible_dict(tags or [], "key", "value")
    return formatted


def _strategy_item(provider_name: str, strategy: Dict[str, Any]) -> Dict[str, Any]:
    return {"capacityProvider": provider_name, "weight": strategy.get("weight", 1), "base": strategy.get("base", 0)}


def _same_strategy_item(left: Dict[str, Any], right: Dict[str, Any]) -> bool:
    # AWS leaves out base and weight when they are 0 (the emulator does too): compare with those defaults.
    return (
        left.get("capacityProvider") == right.get("capacityProvider")
        and (left.get("weight") or 0) == (right.get("weight") or 0)
        and (left.get("base") or 0) == (right.get("base") or 0)
    )


def cluster_attachment(cluster: Dict[str, Any]) -> Dict[str, Any]:
    """The part of a cluster this module manages, with the lists AWS may leave out made explicit."""
    return {
        "capacityProviders": list(cluster.get("capacityProviders") or []),
        "defaultCapacityProviderStrategy": copy.deepcopy(cluster.get("defaultCapacityProviderStrategy") or []),
    }


def plan_attach(
    cluster: Dict[str, Any], provider_name: str, strategy: Optional[Dict[str, Any]]
) -> Optional[Dict[str, Any]]:
    """The cluster's providers and default strategy once ``provider_name`` is attached, or None if nothing changes.

    The cluster's other providers, and the other entries of its default strategy, are kept as they are.
    With ``strategy`` None the default strategy is left alone.
    """
    current = cluster_attachment(cluster)
    wanted = copy.deepcopy(current)
    if provider_name not in wanted["capacityProviders"]:
        wanted["capacityProviders"].append(provider_name)
    if strategy is not None:
        item = _strategy_item(provider_name, strategy)
        entries = wanted["defaultCapacityProviderStrategy"]
        for index, entry in enumerate(entries):
            if entry.get("capacityProvider") == provider_name:
                if not _same_strategy_item(entry, item):
                    entries[index] = item
                break
        else:
            entries.append(item)
    if wanted == current:
        return None
    return wanted


def plan_detach(cluster: Dict[str, Any], provider_name: str) -> Optional[Dict[str, Any]]:
    """The cluster's providers and default strategy without ``provider_name``, or None if it is not there."""
    current = cluster_attachment(cluster)
    wanted = {
        "capacityProviders": [name for name in current["capacityProviders"] if name != provider_name],
        "defaultCapacityProviderStrategy": [
            entry
            for entry in current["defaultCapacityProviderStrategy"]
            if entry.get("capacityProvider") != provider_name
        ],
    }
    if wanted == current:
        return None
    return wanted


def format_cluster_attachment(cluster_name: str, attachment: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if attachment is None:
        return {}
    return {
        "cluster_name": cluster_name,
        "capacity_providers": list(attachment["capacityProviders"]),
        "default_capacity_provider_strategy": [
            camel_dict_to_snake_dict(entry) for entry in attachment["defaultCapacityProviderStrategy"]
        ],
    }


# ---------------------------------------------------------------------------------------------------
# API calls
# ---------------------------------------------------------------------------------------------------


@ECSErrorHandler.common_error_handler("describe capacity provider {name}")
@AWSRetry.jittered_backoff()
def describe_capacity_providers(client, name: str) -> List[Dict[str, Any]]:
    # Always by name: the emulator answers a request without names with a server error, and AWS
    # would page through every provider of the account.
    response = client.describe_capacity_providers(capacityProviders=[name], include=["TAGS"])
    return response.get("capacityProviders") or []


@ECSErrorHandler.common_error_handler("create capacity provider {params[name]}")
@AWSRetry.jittered_backoff()
def create_capacity_provider(client, **params) -> Dict[str, Any]:
    return client.create_capacity_provider(**params)["capacityProvider"]


@ECSErrorHandler.common_error_handler("update capacity provider {params[name]}")
@AWSRetry.jittered_backoff()
def update_capacity_provider(client, **params) -> Dict[str, Any]:
    return client.update_capacity_provider(**params)["capacityProvider"]


@ECSErrorHandler.common_error_handler("delete capacity provider {name}")
@AWSRetry.jittered_backoff()
def delete_capacity_provider(client, name: str) -> Dict[str, Any]:
    return client.delete_capacity_provider(capacityProvider=name)["capacityProvider"]


@ECSErrorHandler.common_error_handler("tag capacity provider {arn}")
@AWSRetry.jittered_backoff()
def tag_capacity_provider(client, arn: str, tags: Dict[str, str]) -> None:
    client.tag_resource(resourceArn=arn, tags=ansible_dict_to_boto3_tag_list(tags, "key", "value"))


@ECSErrorHandler.common_error_handler("untag capacity provider {arn}")
@AWSRetry.jittered_backoff()
def untag_capacity_provider(client, arn: str, keys: List[str]) -> None:
    client.untag_resource(resourceArn=arn, tagKeys=keys)


@ECSErrorHandler.list_error_handler("describe cluster {name}")
@AWSRetry.jittered_backoff()
def describe_cluster(client, name: str) -> Optional[Dict[str, Any]]:
    """The ACTIVE cluster of that name or ARN, or None."""
    response = client.describe_clusters(clusters=[name])
    for cluster in response.get("clusters") or []:
        if cluster.get("status") == "ACTIVE":
            return cluster
    return None


@ECSErrorHandler.common_error_handler("set the capacity providers of cluster {cluster}")
@AWSRetry.jittered_backoff()
def put_cluster_capacity_providers(client, cluster: str, attachment: Dict[str, Any]) -> Dict[str, Any]:
    return client.put_cluster_capacity_providers(
        cluster=cluster,
        capacityProviders=attachment["capacityProviders"],
        defaultCapacityProviderStrategy=attachment["defaultCapacityProviderStrategy"],
    )["cluster"]


class CapacityProviderWaiterFactory(BaseWaiterFactory):
    @property
    def _waiter_model_data(self):
        return {
            "capacity_provider_deleted": {
                "operation": "DescribeCapacityProviders",
                "delay": WAIT_DELAY,
                "maxAttempts": 60,
                "acceptors": [
                    {
                        "state": "success",
                        "matcher": "path",
                        "argument": "length(capacityProviders) == `0`",
                        "expected": True,
                    },
                    {
                        "state": "success",
                        "matcher": "pathAll",
                        "argument": "capacityProviders[].status",
                        "expected": "INACTIVE",
                    },
                    {
                        "state": "success",
                        "matcher": "pathAll",
                        "argument": "capacityProviders[].updateStatus",
                        "expected": "DELETE_COMPLETE",
                    },
                    {
                        "state": "failure",
                        "matcher": "pathAny",
                        "argument": "capacityProviders[].updateStatus",
                        "expected": "DELETE_FAILED",
                    },
                ],
            },
            "capacity_provider_updated": {
                "operation": "DescribeCapacityProviders",
                "delay": WAIT_DELAY,
                "maxAttempts": 60,
                "acceptors": [
                    {
                        "state": "success",
                        "matcher": "pathAll",
                        "argument": "capacityProviders[].updateStatus",
                        "expected": "UPDATE_COMPLETE",
                    },
                    {
                        "state": "failure",
                        "matcher": "pathAny",
                        "argument": "capacityProviders[].updateStatus",
                        "expected": "UPDATE_FAILED",
                    },
                ],
            },
        }


@ECSErrorHandler.common_error_handler("wait for capacity provider {name} ({waiter_name})")
def wait_for_capacity_provider(client, name: str, waiter_name: str, timeout: int) -> None:
    waiter = CapacityProviderWaiterFactory().get_waiter(client, waiter_name)
    waiter.wait(capacityProviders=[name], WaiterConfig=custom_waiter_config(timeout=timeout, default_pause=WAIT_DELAY))
