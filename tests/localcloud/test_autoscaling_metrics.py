"""Auto Scaling: DisableMetricsCollection exists and EnabledMetrics follows enable/disable."""

import pytest

# The metrics amazon.aws.autoscaling_group names by default (its metrics_list option).
MODULE_METRICS = [
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupStandbyInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
]


@pytest.fixture
def group(auto_scaling_group, unique, network):
    return auto_scaling_group(unique, network["subnet_ids"])["AutoScalingGroupName"]


def _enabled(autoscaling, name):
    described = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return sorted(m["Metric"] for m in described["EnabledMetrics"])


def test_disable_metrics_collection_clears_enabled_metrics(aws, group):
    """What amazon.aws.autoscaling_group does on each update with metrics_collection: false."""
    autoscaling = aws("autoscaling")
    assert _enabled(autoscaling, group) == []

    autoscaling.enable_metrics_collection(AutoScalingGroupName=group, Granularity="1Minute", Metrics=MODULE_METRICS)
    assert _enabled(autoscaling, group) == sorted(MODULE_METRICS)

    autoscaling.disable_metrics_collection(AutoScalingGroupName=group, Metrics=MODULE_METRICS)
    assert _enabled(autoscaling, group) == []

    # Disabling what is not enabled is not an error on AWS either.
    autoscaling.disable_metrics_collection(AutoScalingGroupName=group, Metrics=MODULE_METRICS)
    assert _enabled(autoscaling, group) == []


def test_enable_adds_and_disable_removes_only_named_metrics(aws, group):
    autoscaling = aws("autoscaling")

    autoscaling.enable_metrics_collection(AutoScalingGroupName=group, Granularity="1Minute", Metrics=["GroupMinSize"])
    autoscaling.enable_metrics_collection(AutoScalingGroupName=group, Granularity="1Minute", Metrics=["GroupMaxSize"])
    assert _enabled(autoscaling, group) == ["GroupMaxSize", "GroupMinSize"]

    autoscaling.disable_metrics_collection(AutoScalingGroupName=group, Metrics=["GroupMinSize"])
    assert _enabled(autoscaling, group) == ["GroupMaxSize"]


def test_without_metrics_enable_and_disable_apply_to_all(aws, group):
    autoscaling = aws("autoscaling")

    autoscaling.enable_metrics_collection(AutoScalingGroupName=group, Granularity="1Minute")
    enabled = _enabled(autoscaling, group)
    assert set(MODULE_METRICS) <= set(enabled)
    assert "GroupTotalCapacity" in enabled

    autoscaling.disable_metrics_collection(AutoScalingGroupName=group)
    assert _enabled(autoscaling, group) == []


def test_disable_metrics_collection_of_unknown_group_is_a_validation_error(aws, unique, error_of):
    code, _ignored, status = error_of(aws("autoscaling").disable_metrics_collection, AutoScalingGroupName=unique)
    assert (code, status) == ("ValidationError", 400)
