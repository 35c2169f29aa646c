"""ECS: empty capacity-provider lists on clusters; DescribeCapacityProviders without names."""

import json


def _asg_arn(auto_scaling_group, name, network):
    return auto_scaling_group(name, network["subnet_ids"][:1])["AutoScalingGroupARN"]


def test_cluster_without_providers_reports_empty_lists(aws, unique):
    """patch_ecs_cluster_capacity_provider_lists: [] where AWS returns [], not a missing key."""
    ecs = aws("ecs")

    created = ecs.create_cluster(clusterName=unique)["cluster"]
    described = ecs.describe_clusters(clusters=[unique])["clusters"][0]

    for cluster in (created, described):
        assert cluster["capacityProviders"] == []
        assert cluster["defaultCapacityProviderStrategy"] == []


def test_cluster_providers_can_be_set_and_emptied_again(aws, auto_scaling_group, unique, network):
    """What community.aws.ecs_cluster does: set providers, then purge them with []."""
    ecs = aws("ecs")
    provider = unique + "-cp"
    ecs.create_capacity_provider(
        name=provider, autoScalingGroupProvider={"autoScalingGroupArn": _asg_arn(auto_scaling_group, unique, network)}
    )
    ecs.create_cluster(clusterName=unique)
    strategy = [{"capacityProvider": provider, "weight": 1, "base": 0}]

    ecs.put_cluster_capacity_providers(
        cluster=unique, capacityProviders=[provider], defaultCapacityProviderStrategy=strategy
    )
    cluster = ecs.describe_clusters(clusters=[unique])["clusters"][0]
    assert cluster["capacityProviders"] == [provider]
    assert cluster["defaultCapacityProviderStrategy"] == strategy

    ecs.put_cluster_capacity_providers(cluster=unique, capacityProviders=[], defaultCapacityProviderStrategy=[])
    cluster = ecs.describe_clusters(clusters=[unique])["clusters"][0]
    assert cluster["capacityProviders"] == []
    assert cluster["defaultCapacityProviderStrategy"] == []


def test_describe_capacity_providers_without_names_lists_all(aws, auto_scaling_group, unique, network):
    """patch_ecs_describe_all_capacity_providers: every provider plus FARGATE and FARGATE_SPOT."""
    ecs = aws("ecs")
    provider = unique + "-cp"
    ecs.create_capacity_provider(
        name=provider, autoScalingGroupProvider={"autoScalingGroupArn": _asg_arn(auto_scaling_group, unique, network)}
    )

    listed = ecs.describe_capacity_providers()
    by_name = {p["name"]: p for p in listed["capacityProviders"]}
    assert {provider, "FARGATE", "FARGATE_SPOT"} <= set(by_name), json.dumps(sorted(by_name))
    assert listed.get("failures", []) == []
    for name in ("FARGATE", "FARGATE_SPOT"):
        assert by_name[name]["status"] == "ACTIVE"
        assert by_name[name]["capacityProviderArn"].endswith(":capacity-provider/" + name)
        assert "autoScalingGroupProvider" not in by_name[name]
    assert by_name[provider]["autoScalingGroupProvider"]["autoScalingGroupArn"].endswith(unique)


def test_describe_capacity_providers_by_name_knows_fargate(aws, unique):
    """FARGATE can be named like any provider; an unknown name is still a MISSING failure."""
    ecs = aws("ecs")

    answer = ecs.describe_capacity_providers(capacityProviders=["FARGATE", unique])

    assert [p["name"] for p in answer["capacityProviders"]] == ["FARGATE"]
    assert [f["reason"] for f in answer["failures"]] == ["MISSING"]
    assert answer["failures"][0]["arn"].endswith(unique)
