# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ecs_service_changes
short_description: What differs in the ECS service settings community.aws.ecs_service does not compare
version_added: 0.1.0
author:
  - autostack contributors
description:
  - Compares an ECS service as DescribeServices (or M(community.aws.ecs_service_info)) returns it with the settings a
    role wants, for the settings M(community.aws.ecs_service) never compares, so that a change to them alone would
    be ignored; an empty list means they are as wanted.
  - C(capacityProviderStrategy) items are compared without regard to order, with C(base) and C(weight) defaulting
    to 0 as in the API.
  - Of C(deploymentConfiguration) only the settings wanted are compared, and of a nested setting
    (C(deploymentCircuitBreaker)) only the members wanted; AWS adds others (C(alarms), C(strategy)...). V(0) is a
    value there, not an absence.
  - C(placementStrategy) is compared in order (strategies apply in order); C(placementConstraints) without regard
    to order.
positional: wanted
options:
  _input:
    description: The service, in the API's camelCase form.
    type: dict
    required: true
  wanted:
    description:
      - Any of C(capacityProviderStrategy), C(deploymentConfiguration), C(placementStrategy) and
        C(placementConstraints), in the API's camelCase form. Settings left out are not compared.
    type: dict
    required: true
attributes:
  check_mode:
    support: full
    description: A filter computes data only; it behaves the same in check mode.
  diff_mode:
    support: none
    description: A filter changes nothing, so it has no diff.
"""

EXAMPLES = r"""
- name: Read the service
  community.aws.ecs_service_info:
    cluster: wordpress
    service: [wordpress-wordpress]
    details: true
  register: current

- name: Force a new deployment when a setting the module ignores has changed
  community.aws.ecs_service:
    state: present
    name: wordpress-wordpress
    cluster: wordpress
    task_definition: wordpress-wordpress:3
    desired_count: 2
    deployment_configuration:
      minimum_healthy_percent: 50
      maximum_percent: 200
    force_new_deployment: >-
      {{ current.services[0] | autostack.wordpress.ecs_service_changes(
           {'deploymentConfiguration': {'minimumHealthyPercent': 50, 'maximumPercent': 200}}) | length > 0 }}
"""

RETURN = r"""
_value:
  description:
    - "One line per difference, C(<setting>: <current> -> <wanted>)."
  type: list
  elements: str
"""

from ansible_collections.autostack.wordpress.plugins.plugin_utils._ecs_changes import ecs_service_changes


class FilterModule:
    """autostack.wordpress ECS service comparison."""

    def filters(self):
        return {"ecs_service_changes": ecs_service_changes}
