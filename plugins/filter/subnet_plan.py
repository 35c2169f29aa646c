# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: subnet_plan
short_description: Split a VPC CIDR into one public and one private subnet per availability zone
version_added: 0.1.0
author:
  - autostack contributors
description:
  - Computes the subnets of a multi-AZ VPC from its IPv4 CIDR, the number of availability zones and their names.
    Pure computation with Python's C(ipaddress) module; no AWS call.
  - "The plan: the VPC is cut into O(az_slots) equal AZ blocks (by default the smallest power of two that holds
    O(az_count)); AZ number I(i) (in the order of O(azs)) takes block I(i). Inside its block, the B(private) subnet is
    the first half and the B(public) subnet the following quarter; the last quarter is left free for later use
    (a database or endpoint tier, for example). Public subnets hold only the load balancer and NAT gateways, so they
    are half the size of the private ones, which hold the container instances."
  - "Example: V(10.0.0.0/16) with 2 AZs gives two /17 blocks: private V(10.0.0.0/18) and public V(10.0.64.0/19) in
    the first AZ, private V(10.0.128.0/18) and public V(10.0.192.0/19) in the second."
  - Subnets never move when AZs are added within the same number of blocks (3 to 4, 5 to 6). Crossing a power of two
    (2 to 3, 4 to 5) changes the block size and so every subnet, which AWS cannot do in place; set O(az_slots)
    up front (for example V(8)) to leave room to grow without renumbering.
  - AWS limits a VPC to sizes /16 to /28 and a subnet to /28 or larger, so the smallest VPC is a /26 for 1 AZ,
    a /25 for 2 AZs, a /24 for 3 or 4 AZs and a /23 for 5 to 8 AZs. A CIDR too small for the AZ count is an error that names both.
positional: az_count, azs
options:
  _input:
    description:
      - The VPC's IPv4 CIDR, in network form (V(10.0.0.0/16), not V(10.0.0.1/16)).
    type: str
    required: true
  az_count:
    description:
      - How many availability zones to plan for (at least 1). An integer, or a string of digits.
    type: int
    required: true
  azs:
    description:
      - Availability zone names, in the order the stack uses them. At least O(az_count) distinct names; the first
        O(az_count) are used, so the region's whole list may be passed.
    type: list
    elements: str
    required: true
  az_slots:
    description:
      - Number of equal blocks the VPC is cut into, a power of two not smaller than O(az_count).
      - V(0) means the smallest power of two that holds O(az_count).
    type: int
    default: 0
  name_prefix:
    description:
      - Prefix of each subnet's C(name), usually the stack's name. Names are C(<name_prefix>-<tier>-<az>), or
        C(<tier>-<az>) without a prefix.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    description: A filter computes data only; it behaves the same in check mode.
  diff_mode:
    support: none
    description: A filter changes nothing, so it has no diff.
"""

EXAMPLES = r"""
- name: Plan the subnets of a two-AZ VPC
  ansible.builtin.set_fact:
    vpc__subnet_plan: >-
      {{ '10.0.0.0/16' | autostack.wordpress.subnet_plan(2, ['eu-west-1a', 'eu-west-1b'], name_prefix='wordpress') }}
  # [{az: eu-west-1a, az_index: 0, tier: public, cidr: 10.0.64.0/19, name: wordpress-public-eu-west-1a},
  #  {az: eu-west-1a, az_index: 0, tier: private, cidr: 10.0.0.0/18, name: wordpress-private-eu-west-1a},
  #  {az: eu-west-1b, az_index: 1, tier: public, cidr: 10.0.192.0/19, name: wordpress-public-eu-west-1b},
  #  {az: eu-west-1b, az_index: 1, tier: private, cidr: 10.0.128.0/18, name: wordpress-private-eu-west-1b}]

- name: Leave room for up to 8 AZs so that adding one later renumbers nothing
  ansible.builtin.debug:
    msg: "{{ vpc_cidr | autostack.wordpress.subnet_plan(2, azs, az_slots=8) | map(attribute='cidr') }}"
"""

RETURN = r"""
_value:
  description:
    - One entry per subnet, AZ by AZ in the order of O(azs), the public subnet before the private one.
  type: list
  elements: dict
  contains:
    az:
      description: Availability zone name.
      type: str
      sample: eu-west-1a
    az_index:
      description: Position of the AZ in O(azs), from 0.
      type: int
      sample: 0
    tier:
      description: V(public) or V(private).
      type: str
      sample: public
    cidr:
      description: The subnet's CIDR.
      type: str
      sample: 10.0.64.0/19
    name:
      description: The subnet's C(Name) tag.
      type: str
      sample: wordpress-public-eu-west-1a
"""

import ipaddress

from ansible.errors import AnsibleFilterError

# AWS limits: a VPC is /16 to /28, a subnet /28 at the smallest.
VPC_MIN_PREFIX = 16
SUBNET_MAX_PREFIX = 28

# Inside an AZ block: private = first half, public = third quarter, last quarter spare.
PRIVATE_PREFIX_OFFSET = 1
PUBLIC_PREFIX_OFFSET = 2
PUBLIC_BLOCK_INDEX = 2  # index among the block's four quarters


def _as_count(value, what, minimum):
    """An int >= minimum from an int or a string of digits (extra vars arrive as strings)."""
    if isinstance(value, bool):
        raise AnsibleFilterError("subnet_plan: %s must be an integer, got the boolean %r" % (what, value))
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise AnsibleFilterError(
            "subnet_plan: %s must be an integer, got %r (%s)" % (what, value, type(value).__name__)
        )
    if number < minimum:
        raise AnsibleFilterError("subnet_plan: %s must be at least %d, got %d" % (what, minimum, number))
    return number


def _as_network(cidr):
    if not isinstance(cidr, str):
        raise AnsibleFilterError(
            "subnet_plan: the VPC CIDR must be a string such as 10.0.0.0/16, got %r (%s)" % (cidr, type(cidr).__name__)
        )
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError as e:
        raise AnsibleFilterError("subnet_plan: %r is not a CIDR: %s" % (cidr, e)) from e
    if network.version != 4:
        raise AnsibleFilterError("subnet_plan: VPC CIDR %s is IPv6; a VPC's primary CIDR is IPv4" % cidr)
    if "/" not in cidr:
        raise AnsibleFilterError("subnet_plan: VPC CIDR %r has no prefix length; write it as %s" % (cidr, network))
    if str(network) != cidr.strip():
        raise AnsibleFilterError("subnet_plan: VPC CIDR %s has host bits set; the network is %s" % (cidr, network))
    if network.prefixlen < VPC_MIN_PREFIX:
        raise AnsibleFilterError(
            "subnet_plan: VPC CIDR %s is larger than AWS allows: a VPC is /%d to /%d"
            % (cidr, VPC_MIN_PREFIX, SUBNET_MAX_PREFIX)
        )
    return network


def _as_azs(azs, az_count):
    if isinstance(azs, (str, bytes)) or not isinstance(azs, (list, tuple)):
        raise AnsibleFilterError("subnet_plan: azs must be a list of availability zone names, got %r" % (azs,))
    for az in azs:
        if not isinstance(az, str) or not az:
            raise AnsibleFilterError(
                "subnet_plan: every AZ name must be a non-empty string, got %r in %r" % (az, list(azs))
            )
    if len(set(azs)) != len(azs):
        raise AnsibleFilterError("subnet_plan: AZ names must be distinct, got %r" % (list(azs),))
    if len(azs) < az_count:
        raise AnsibleFilterError(
            "subnet_plan: %d AZs asked for but only %d named: %r" % (az_count, len(azs), list(azs))
        )
    return list(azs[:az_count])


def az_slot_count(az_count, az_slots=0):
    """Number of equal AZ blocks: az_slots if given (a power of two >= az_count), else the smallest one."""
    if az_slots:
        if az_slots & (az_slots - 1):
            raise AnsibleFilterError("subnet_plan: az_slots must be a power of two, got %d" % az_slots)
        if az_slots < az_count:
            raise AnsibleFilterError("subnet_plan: az_slots %d cannot hold %d AZs" % (az_slots, az_count))
        return az_slots
    slots = 1
    while slots < az_count:
        slots *= 2
    return slots


def subnet_plan(cidr, az_count, azs, az_slots=0, name_prefix=""):
    """The subnets of a VPC: see DOCUMENTATION for the layout."""
    network = _as_network(cidr)
    count = _as_count(az_count, "az_count", 1)
    slots = az_slot_count(count, _as_count(az_slots, "az_slots", 0))
    names = _as_azs(azs, count)
    if not isinstance(name_prefix, str):
        raise AnsibleFilterError("subnet_plan: name_prefix must be a string, got %r" % (name_prefix,))

    slot_prefix = network.prefixlen + (slots.bit_length() - 1)
    public_prefix = slot_prefix + PUBLIC_PREFIX_OFFSET
    if public_prefix > SUBNET_MAX_PREFIX:
        needed = SUBNET_MAX_PREFIX - PUBLIC_PREFIX_OFFSET - (slots.bit_length() - 1)
        raise AnsibleFilterError(
            "subnet_plan: VPC CIDR %s is too small for %d AZs: %d AZ blocks, each with a private and a public subnet"
            " of at least /%d, need a /%d or larger" % (cidr, count, slots, SUBNET_MAX_PREFIX, needed)
        )

    blocks = list(network.subnets(new_prefix=slot_prefix))
    prefix = name_prefix + "-" if name_prefix else ""
    plan = []
    for index, az in enumerate(names):
        block = blocks[index]
        private = next(block.subnets(new_prefix=slot_prefix + PRIVATE_PREFIX_OFFSET))
        public = list(block.subnets(new_prefix=public_prefix))[PUBLIC_BLOCK_INDEX]
        for tier, subnet in (("public", public), ("private", private)):
            plan.append(
                {"az": az, "az_index": index, "tier": tier, "cidr": str(subnet), "name": "%s%s-%s" % (prefix, tier, az)}
            )
    return plan


class FilterModule:
    """autostack.wordpress network filters."""

    def filters(self):
        return {"subnet_plan": subnet_plan}
