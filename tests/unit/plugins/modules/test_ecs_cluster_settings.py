# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unit tests of autostack.wordpress.ecs_cluster_settings: pure functions, then the manager with a fake client.

No network: the fake client answers DescribeClusters like ECS does and records every call, so the tests can
say which calls check mode must never make.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.autostack.wordpress.plugins.modules.ecs_cluster_settings import EcsClusterSettings
from ansible_collections.autostack.wordpress.plugins.modules.ecs_cluster_settings import settings_to_change
from ansible_collections.autostack.wordpress.plugins.modules.ecs_cluster_settings import settings_to_dict

ARN = "arn:aws:ecs:eu-west-1:123456789012:cluster/wp"


@pytest.mark.parametrize(
    "answer, expected",
    [
        (None, {}),
        ([], {}),
        ([{"name": "containerInsights", "value": "disabled"}], {"containerInsights": "disabled"}),
    ],
)
def test_settings_to_dict(answer, expected):
    assert settings_to_dict(answer) == expected


@pytest.mark.parametrize(
    "current, wanted, expected",
    [
        ({"containerInsights": "enabled"}, {"containerInsights": "enabled"}, []),
        (
            {"containerInsights": "disabled"},
            {"containerInsights": "enabled"},
            [{"name": "containerInsights", "value": "enabled"}],
        ),
        ({}, {"containerInsights": "enhanced"}, [{"name": "containerInsights", "value": "enhanced"}]),
        # Settings not asked for are left alone, whatever their value.
        ({"containerInsights": "enabled", "other": "x"}, {"containerInsights": "enabled"}, []),
    ],
)
def test_settings_to_change(current, wanted, expected):
    assert settings_to_change(current, wanted) == expected


class FakeECS:
    def __init__(self, clusters):
        self.clusters = copy.deepcopy(clusters)
        self.calls = []

    def describe_clusters(self, clusters, include=None, aws_retry=False):
        self.calls.append(("describe_clusters", clusters))
        found = [c for c in self.clusters if c["clusterName"] in clusters or c["clusterArn"] in clusters]
        return {"clusters": copy.deepcopy(found), "failures": []}

    def update_cluster(self, cluster, settings, aws_retry=False):
        self.calls.append(("update_cluster", settings))
        for c in self.clusters:
            if c["clusterArn"] == cluster:
                c["settings"] = [s for s in c["settings"] if s["name"] not in {n["name"] for n in settings}] + settings


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode

    def fail_json(self, **kwargs):
        raise Failed(kwargs["msg"])


def cluster(value="disabled", status="ACTIVE"):
    return {
        "clusterArn": ARN,
        "clusterName": "wp",
        "status": status,
        "settings": [{"name": "containerInsights", "value": value}],
    }


def mutations(client):
    return [call for call in client.calls if call[0] != "describe_clusters"]


def test_turns_insights_on_then_nothing_to_do():
    client = FakeECS([cluster("disabled")])
    result = EcsClusterSettings(FakeModule(), client).ensure("wp", {"containerInsights": "enabled"})
    assert result["changed"] is True
    assert result["cluster"]["settings"] == {"containerInsights": "enabled"}
    assert result["diff"]["before"]["settings"] == {"containerInsights": "disabled"}
    assert mutations(client) == [("update_cluster", [{"name": "containerInsights", "value": "enabled"}])]

    again = EcsClusterSettings(FakeModule(), client).ensure("wp", {"containerInsights": "enabled"})
    assert again["changed"] is False
    assert "diff" not in again
    assert len(mutations(client)) == 1


def test_check_mode_reports_without_calling():
    client = FakeECS([cluster("disabled")])
    result = EcsClusterSettings(FakeModule(check_mode=True), client).ensure(ARN, {"containerInsights": "enabled"})
    assert result["changed"] is True
    assert result["cluster"]["settings"] == {"containerInsights": "enabled"}
    assert mutations(client) == []


@pytest.mark.parametrize("clusters", [[], [cluster(status="INACTIVE")]])
def test_missing_or_inactive_cluster_fails(clusters):
    with pytest.raises(Failed, match="does not exist"):
        EcsClusterSettings(FakeModule(), FakeECS(clusters)).ensure("wp", {"containerInsights": "enabled"})
