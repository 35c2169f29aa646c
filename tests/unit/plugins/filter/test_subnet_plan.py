# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import ipaddress
import itertools

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.autostack.wordpress.plugins.filter.subnet_plan import FilterModule
from ansible_collections.autostack.wordpress.plugins.filter.subnet_plan import az_slot_count
from ansible_collections.autostack.wordpress.plugins.filter.subnet_plan import subnet_plan

AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d", "eu-west-1e", "eu-west-1f"]

# Smallest VPC prefix length that fits each AZ count (1: /26, 2: /25, 3-4: /24, 5-6: /23).
SMALLEST_PREFIX = {1: 26, 2: 25, 3: 24, 4: 24, 5: 23, 6: 23}


def networks(plan):
    return [ipaddress.ip_network(entry["cidr"]) for entry in plan]


def test_registered_under_its_name():
    assert FilterModule().filters() == {"subnet_plan": subnet_plan}


def test_documented_example_two_azs():
    assert subnet_plan("10.0.0.0/16", 2, AZS[:2], name_prefix="wordpress") == [
        {
            "az": "eu-west-1a",
            "az_index": 0,
            "tier": "public",
            "cidr": "10.0.64.0/19",
            "name": "wordpress-public-eu-west-1a",
        },
        {
            "az": "eu-west-1a",
            "az_index": 0,
            "tier": "private",
            "cidr": "10.0.0.0/18",
            "name": "wordpress-private-eu-west-1a",
        },
        {
            "az": "eu-west-1b",
            "az_index": 1,
            "tier": "public",
            "cidr": "10.0.192.0/19",
            "name": "wordpress-public-eu-west-1b",
        },
        {
            "az": "eu-west-1b",
            "az_index": 1,
            "tier": "private",
            "cidr": "10.0.128.0/18",
            "name": "wordpress-private-eu-west-1b",
        },
    ]


@pytest.mark.parametrize(
    "cidr, az_count, expected_public, expected_private",
    [
        (
            "10.40.0.0/16",
            3,
            ["10.40.32.0/20", "10.40.96.0/20", "10.40.160.0/20"],
            ["10.40.0.0/19", "10.40.64.0/19", "10.40.128.0/19"],
        ),
        ("10.0.0.0/24", 2, ["10.0.0.64/27", "10.0.0.192/27"], ["10.0.0.0/26", "10.0.0.128/26"]),
        (
            "192.168.0.0/23",
            6,
            [
                "192.168.0.32/28",
                "192.168.0.96/28",
                "192.168.0.160/28",
                "192.168.0.224/28",
                "192.168.1.32/28",
                "192.168.1.96/28",
            ],
            [
                "192.168.0.0/27",
                "192.168.0.64/27",
                "192.168.0.128/27",
                "192.168.0.192/27",
                "192.168.1.0/27",
                "192.168.1.64/27",
            ],
        ),
    ],
)
def test_exact_layouts(cidr, az_count, expected_public, expected_private):
    plan = subnet_plan(cidr, az_count, AZS)
    assert [e["cidr"] for e in plan if e["tier"] == "public"] == expected_public
    assert [e["cidr"] for e in plan if e["tier"] == "private"] == expected_private


@pytest.mark.parametrize("az_count", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("prefix", [16, 17, 18, 19, 20, 21, 22, 23, 24])
@pytest.mark.parametrize("base", ["10.0.0.0", "172.16.0.0", "192.168.0.0"])
def test_plan_invariants(base, prefix, az_count):
    cidr = "%s/%d" % (base, prefix)
    if prefix > SMALLEST_PREFIX[az_count]:
        with pytest.raises(AnsibleFilterError):
            subnet_plan(cidr, az_count, AZS)
        return
    vpc = ipaddress.ip_network(cidr)
    plan = subnet_plan(cidr, az_count, AZS)

    assert len(plan) == 2 * az_count
    # One public and one private subnet per AZ, AZ order, public first.
    assert [(e["az"], e["tier"]) for e in plan] == [
        (az, tier) for az in AZS[:az_count] for tier in ("public", "private")
    ]
    assert [e["az_index"] for e in plan] == [i for i in range(az_count) for _tier in (1, 2)]
    subnets = networks(plan)
    assert all(s.subnet_of(vpc) for s in subnets)
    assert all(s.prefixlen <= 28 for s in subnets)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(subnets, 2))
    # Public subnets are half the size of private ones, and all of a tier are equal.
    public = {s.prefixlen for s, e in zip(subnets, plan) if e["tier"] == "public"}
    private = {s.prefixlen for s, e in zip(subnets, plan) if e["tier"] == "private"}
    assert len(public) == 1 and len(private) == 1
    assert public.pop() == private.pop() + 1
    # Names are unique and say tier and AZ.
    assert [e["name"] for e in plan] == ["%s-%s" % (e["tier"], e["az"]) for e in plan]


@pytest.mark.parametrize("az_count", [1, 2, 3, 4, 5, 6])
def test_smallest_vpc_fits_and_one_smaller_does_not(az_count):
    smallest = SMALLEST_PREFIX[az_count]
    plan = subnet_plan("10.0.0.0/%d" % smallest, az_count, AZS)
    assert min(ipaddress.ip_network(e["cidr"]).num_addresses for e in plan) == 16
    with pytest.raises(AnsibleFilterError) as excinfo:
        subnet_plan("10.0.0.0/%d" % (smallest + 1), az_count, AZS)
    message = str(excinfo.value)
    assert "10.0.0.0/%d" % (smallest + 1) in message
    assert "%d AZs" % az_count in message
    assert "/%d or larger" % smallest in message


@pytest.mark.parametrize(
    "cidr, az_count",
    [
        ("10.0.0.0/25", 3),
        ("10.0.0.0/24", 5),
        ("10.0.0.0/24", 6),
        ("10.0.0.0/26", 2),
        ("10.0.0.0/28", 1),
        ("10.0.0.0/28", 6),
    ],
)
def test_too_small_names_cidr_and_count(cidr, az_count):
    with pytest.raises(AnsibleFilterError, match=r"%s is too small for %d AZs" % (cidr, az_count)):
        subnet_plan(cidr, az_count, AZS)


@pytest.mark.parametrize("smaller, larger", [(3, 4), (5, 6)])
def test_subnets_stay_put_within_the_same_block_count(smaller, larger):
    """Adding an AZ without crossing a power of two keeps every existing subnet."""
    before = subnet_plan("10.0.0.0/16", smaller, AZS)
    assert subnet_plan("10.0.0.0/16", larger, AZS)[: len(before)] == before


@pytest.mark.parametrize("smaller, larger", [(2, 3), (4, 5)])
def test_crossing_a_power_of_two_renumbers(smaller, larger):
    """Documented limit: 2 -> 3 or 4 -> 5 AZs halves the blocks (hence az_slots)."""
    before = subnet_plan("10.0.0.0/16", smaller, AZS)
    assert subnet_plan("10.0.0.0/16", larger, AZS)[0]["cidr"] != before[0]["cidr"]


@pytest.mark.parametrize("az_count", [2, 3, 4, 5, 6])
def test_az_slots_reserves_room_to_grow(az_count):
    two = subnet_plan("10.0.0.0/16", 2, AZS, az_slots=8)
    more = subnet_plan("10.0.0.0/16", az_count, AZS, az_slots=8)
    assert more[:4] == two


@pytest.mark.parametrize(
    "az_count, az_slots, expected",
    [(1, 0, 1), (2, 0, 2), (3, 0, 4), (4, 0, 4), (5, 0, 8), (6, 0, 8), (2, 8, 8), (6, 16, 16)],
)
def test_az_slot_count(az_count, az_slots, expected):
    assert az_slot_count(az_count, az_slots) == expected


@pytest.mark.parametrize(
    "az_slots, message",
    [(3, "power of two"), (6, "power of two"), (2, "cannot hold 3 AZs"), (-1, "at least 0"), ("x", "integer")],
)
def test_bad_az_slots(az_slots, message):
    with pytest.raises(AnsibleFilterError, match=message):
        subnet_plan("10.0.0.0/16", 3, AZS, az_slots=az_slots)


@pytest.mark.parametrize(
    "cidr, message",
    [
        ("10.0.0.1/16", r"10\.0\.0\.1/16 has host bits set; the network is 10\.0\.0\.0/16"),
        ("10.0.1.0/16", r"host bits set; the network is 10\.0\.0\.0/16"),
        ("10.0.0.0/8", r"larger than AWS allows"),
        ("10.0.0.0/15", r"larger than AWS allows"),
        ("10.0.0.0", r"no prefix length"),
        ("10.0.0.0/33", r"not a CIDR"),
        ("10.0.0.256/16", r"not a CIDR"),
        ("not-a-cidr", r"not a CIDR"),
        ("", r"not a CIDR"),
        ("fd00::/56", r"IPv6"),
        (None, r"must be a string"),
        (167772160, r"must be a string"),
        (["10.0.0.0/16"], r"must be a string"),
        ({"cidr": "10.0.0.0/16"}, r"must be a string"),
    ],
)
def test_bad_cidr(cidr, message):
    with pytest.raises(AnsibleFilterError, match=message):
        subnet_plan(cidr, 2, AZS)


@pytest.mark.parametrize(
    "az_count, message",
    [
        (0, "at least 1"),
        (-2, "at least 1"),
        (True, "boolean"),
        (2.0, "integer"),
        (None, "integer"),
        ("two", "integer"),
        ("", "integer"),
        ([2], "integer"),
    ],
)
def test_bad_az_count(az_count, message):
    with pytest.raises(AnsibleFilterError, match=message):
        subnet_plan("10.0.0.0/16", az_count, AZS)


@pytest.mark.parametrize("az_count", ["2", " 3 ", "6"])
def test_az_count_as_string_from_extra_vars(az_count):
    assert subnet_plan("10.0.0.0/16", az_count, AZS) == subnet_plan("10.0.0.0/16", int(az_count), AZS)


@pytest.mark.parametrize(
    "azs, message",
    [
        ("eu-west-1a", "must be a list"),
        (None, "must be a list"),
        ({"eu-west-1a": 1}, "must be a list"),
        (["eu-west-1a"], "2 AZs asked for but only 1 named"),
        ([], "2 AZs asked for but only 0 named"),
        (["eu-west-1a", "eu-west-1a"], "distinct"),
        (["eu-west-1a", ""], "non-empty string"),
        (["eu-west-1a", 3], "non-empty string"),
    ],
)
def test_bad_azs(azs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        subnet_plan("10.0.0.0/16", 2, azs)


def test_extra_azs_are_ignored():
    assert subnet_plan("10.0.0.0/16", 2, AZS) == subnet_plan("10.0.0.0/16", 2, AZS[:2])


def test_tuple_of_azs_accepted():
    assert subnet_plan("10.0.0.0/16", 2, tuple(AZS[:2])) == subnet_plan("10.0.0.0/16", 2, AZS[:2])


@pytest.mark.parametrize(
    "name_prefix, expected",
    [("", "public-eu-west-1a"), ("wordpress", "wordpress-public-eu-west-1a"), ("a-b", "a-b-public-eu-west-1a")],
)
def test_names(name_prefix, expected):
    assert subnet_plan("10.0.0.0/16", 2, AZS, name_prefix=name_prefix)[0]["name"] == expected


def test_bad_name_prefix():
    with pytest.raises(AnsibleFilterError, match="name_prefix"):
        subnet_plan("10.0.0.0/16", 2, AZS, name_prefix=3)


def test_surrounding_whitespace_tolerated():
    assert subnet_plan(" 10.0.0.0/16 ", 2, AZS) == subnet_plan("10.0.0.0/16", 2, AZS)
