# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What differs between ECS resources as AWS describes them and as a role wants them.

The comparisons behind the filters ``ecs_task_definition_changes`` and ``ecs_service_changes``
(see their documentation); not a public interface.
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

# What the API sets itself; never part of what a role asks for.
TASK_READ_ONLY = frozenset(
    (
        "task_definition_arn",
        "revision",
        "status",
        "compatibilities",
        "requires_attributes",
        "registered_at",
        "registered_by",
        "deregistered_at",
        "delete_requested_at",
        "tags",
        "response_metadata",
        # What Ansible adds to a registered result.
        "changed",
        "failed",
        "skipped",
        "skip_reason",
        "msg",
        "warnings",
        "deprecations",
        "invocation",
        "attempts",
        "ansible_facts",
    )
)

HEALTH_CHECK_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3}

SERVICE_STRATEGY_DEFAULTS = {"base": 0, "weight": 0}


def _is_empty(value):
    if isinstance(value, bool):
        return value is False
    if isinstance(value, (int, float)):
        return value == 0
    return value is None or value == "" or value == [] or value == {}


def _scalar(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and not value.is_integer():
        return repr(value)
    return str(int(value))


def _canonical(value):
    """Drop empty members, sort lists of objects, stringify numbers; recursive."""
    if isinstance(value, dict):
        result = {}
        for key, member in value.items():
            if _is_empty(member):
                continue
            member = _canonical(member)
            # A container of nothing but empty members is empty too.
            if member != {} and member != []:
                result[key] = member
        return result
    if isinstance(value, (list, tuple)):
        items = [_canonical(item) for item in value]
        if items and all(isinstance(item, dict) for item in items):
            items.sort(key=lambda item: json.dumps(item, sort_keys=True))
        return items
    return _scalar(value)


def _container_defaults(container):
    container = dict(container)
    container.setdefault("essential", True)
    if container.get("port_mappings"):
        container["port_mappings"] = [
            dict({"protocol": "tcp"}, **{key: value for key, value in mapping.items() if value is not None})
            for mapping in container["port_mappings"]
        ]
    if container.get("health_check"):
        health_check = dict(HEALTH_CHECK_DEFAULTS)
        health_check.update({key: value for key, value in container["health_check"].items() if value is not None})
        container["health_check"] = health_check
    return container


def _snake(definition):
    if not isinstance(definition, dict):
        raise AnsibleFilterError("ecs_task_definition_changes: expected a dict, got %s" % type(definition).__name__)
    return camel_dict_to_snake_dict(definition)


def _show(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return "(none)" if value is None else str(value)


def _compare(path, current, wanted, differences):
    if isinstance(current, dict) and isinstance(wanted, dict):
        for key in sorted(set(current) | set(wanted)):
            _compare("%s.%s" % (path, key) if path else key, current.get(key), wanted.get(key), differences)
    elif current != wanted:
        differences.append("%s: %s -> %s" % (path, _show(current), _show(wanted)))


def _containers_by_name(definition, side):
    containers = {}
    for container in definition.get("container_definitions") or []:
        name = container.get("name")
        if not name:
            raise AnsibleFilterError("ecs_task_definition_changes: a container of the %s definition has no name" % side)
        if name in containers:
            raise AnsibleFilterError(
                "ecs_task_definition_changes: the %s definition has two containers named %s" % (side, name)
            )
        containers[name] = _canonical(_container_defaults(container))
    return containers


def ecs_task_definition_changes(current, wanted):
    """Differences between the current revision and the wanted definition; [] when they are the same."""
    wanted = _snake(wanted)
    family = wanted.get("family", "")
    if not current or (current.get("status") or "ACTIVE") != "ACTIVE":
        return ["task definition family %s has no ACTIVE revision" % family]
    current = _snake(current)

    differences = []
    task_keys = (set(current) | set(wanted)) - TASK_READ_ONLY - {"container_definitions"}
    current_task = _canonical({key: current.get(key) for key in task_keys})
    wanted_task = _canonical({key: wanted.get(key) for key in task_keys})
    if "requires_compatibilities" in current_task:
        current_task["requires_compatibilities"] = sorted(current_task["requires_compatibilities"])
    if "requires_compatibilities" in wanted_task:
        wanted_task["requires_compatibilities"] = sorted(wanted_task["requires_compatibilities"])
    _compare("", current_task, wanted_task, differences)

    current_containers = _containers_by_name(current, "current")
    wanted_containers = _containers_by_name(wanted, "wanted")
    for name in sorted(set(current_containers) | set(wanted_containers)):
        path = "container_definitions[%s]" % name
        if name not in wanted_containers:
            differences.append("%s: present -> (none)" % path)
        elif name not in current_containers:
            differences.append("%s: (none) -> present" % path)
        else:
            _compare(path, current_containers[name], wanted_containers[name], differences)
    return differences


def ecs_service_changes(current, wanted):
    """Differences in the service settings community.aws.ecs_service does not compare.

    ``current`` is the service as DescribeServices returns it (camelCase), ``wanted`` holds any of
    ``capacityProviderStrategy``, ``deploymentConfiguration``, ``placementStrategy`` and
    ``placementConstraints``. Only the keys of ``deploymentConfiguration`` that are wanted are compared
    (AWS adds others, such as ``alarms``). Placement strategies are compared in order (they are applied in
    order); strategy items and constraints without regard to order.
    """
    if not isinstance(current, dict) or not isinstance(wanted, dict):
        raise AnsibleFilterError("ecs_service_changes: expected two dicts")
    differences = []
    if "capacityProviderStrategy" in wanted:

        def strategy(items):
            return sorted(
                (
                    {
                        "capacityProvider": item.get("capacityProvider") or item.get("capacity_provider"),
                        "base": int(item.get("base") or SERVICE_STRATEGY_DEFAULTS["base"]),
                        "weight": int(item.get("weight") or SERVICE_STRATEGY_DEFAULTS["weight"]),
                    }
                    for item in items or []
                ),
                key=lambda item: item["capacityProvider"] or "",
            )

        before, after = strategy(current.get("capacityProviderStrategy")), strategy(wanted["capacityProviderStrategy"])
        if before != after:
            differences.append("capacityProviderStrategy: %s -> %s" % (_show(before), _show(after)))
    if "deploymentConfiguration" in wanted:
        wanted_configuration = wanted["deploymentConfiguration"] or {}
        current_configuration = current.get("deploymentConfiguration") or {}
        # Only the settings wanted count, and of a nested setting only the members wanted: AWS adds others.
        before = {}
        for key, value in wanted_configuration.items():
            member = current_configuration.get(key)
            if isinstance(value, dict) and isinstance(member, dict):
                member = {name: member.get(name) for name in value}
            before[key] = member
        _compare("deploymentConfiguration", _canonical(before), _canonical(wanted_configuration), differences)
    if "placementStrategy" in wanted:
        before = [_canonical(item) for item in current.get("placementStrategy") or []]
        after = [_canonical(item) for item in wanted["placementStrategy"] or []]
        if before != after:
            differences.append("placementStrategy: %s -> %s" % (_show(before), _show(after)))
    if "placementConstraints" in wanted:
        before = _canonical(current.get("placementConstraints") or [])
        after = _canonical(wanted["placementConstraints"] or [])
        if before != after:
            differences.append("placementConstraints: %s -> %s" % (_show(before), _show(after)))
    return differences
