# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ecs_task_definition_changes
short_description: What differs between an ECS task definition revision and the one wanted
version_added: 0.1.0
author:
  - autostack contributors
description:
  - Compares the latest ACTIVE revision of a task definition family (as M(community.aws.ecs_taskdefinition_info)
    returns it, or as boto3 returns it) with the definition a role wants to register, and lists the differences.
    An empty list means the revision already is what is wanted, so registering a new one would change nothing.
  - Written because M(community.aws.ecs_taskdefinition) cannot tell. It compares containers loosely (two lists of
    the same length, such as C(environment) or C(secrets), always count as equal, so a changed variable or secret
    reference registers nothing) and never compares C(executionRoleArn), task C(cpu) and C(memory),
    C(networkMode) or C(runtimePlatform); it also accepts any matching revision, not only the latest.
  - "Both sides are normalised the same way before they are compared: keys are snake_cased (the info module's
    form); what the API fills in is treated as given (C(essential: true), port mapping C(protocol: tcp), health
    check C(interval) 30, C(timeout) 5, C(retries) 3); empty values (V(null), V(\"\"), V([]), V({}), V(false),
    V(0)) equal a missing key; lists of objects (environment, secrets, port mappings...) are compared without
    regard to order, lists of strings (commands) in order; numbers equal their decimal strings (task C(cpu) and
    C(memory) come back as strings)."
  - Read-only fields (ARN, revision, status, compatibilities, registration dates, required attributes), tags (they
    can change without a new revision) and the keys Ansible adds to a registered result (C(changed), C(warnings)...)
    are not compared.
  - Containers are matched by name.
positional: wanted
options:
  _input:
    description:
      - The current revision, V({}) (or an INACTIVE revision) when the family has no ACTIVE revision.
    type: dict
    required: true
  wanted:
    description:
      - The definition to register, in the API's camelCase form (C(family), C(containerDefinitions),
        C(networkMode), C(requiresCompatibilities), C(cpu), C(memory), C(executionRoleArn), C(runtimePlatform)...).
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
- name: Read the latest ACTIVE revision of the family
  community.aws.ecs_taskdefinition_info:
    task_definition: wordpress-wordpress
  register: current

- name: Register a revision only when something differs
  community.aws.ecs_taskdefinition:
    state: present
    family: wordpress-wordpress
    force_create: true
    containers: "{{ wanted.containerDefinitions }}"
  when: current | autostack.wordpress.ecs_task_definition_changes(wanted) | length > 0
"""

RETURN = r"""
_value:
  description:
    - "One line per difference, C(<path>: <current> -> <wanted>), paths in snake_case with containers named
      (C(container_definitions[wordpress].image)); a single line when there is no ACTIVE revision."
    - "Secret values never appear, only secret references (ARNs): task definitions hold no secret value."
  type: list
  elements: str
"""

from ansible_collections.autostack.wordpress.plugins.plugin_utils._ecs_changes import ecs_task_definition_changes


class FilterModule:
    """autostack.wordpress task definition comparison."""

    def filters(self):
        return {"ecs_task_definition_changes": ecs_task_definition_changes}
