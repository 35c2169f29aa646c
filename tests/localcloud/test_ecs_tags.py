"""ECS: ListTagsForResource on an untagged resource."""


def test_untagged_cluster_lists_empty_tags(aws, unique):
    """patch_ecs_untagged_resource_tags: ``tags: []`` where AWS returns [], not a missing key."""
    ecs = aws("ecs")
    arn = ecs.create_cluster(clusterName=unique)["cluster"]["clusterArn"]

    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == []


def test_cluster_tags_can_be_added_and_removed_again(aws, unique):
    """What community.aws.ecs_tag does: read, tag, untag; the list stays a list throughout."""
    ecs = aws("ecs")
    arn = ecs.create_cluster(clusterName=unique)["cluster"]["clusterArn"]

    ecs.tag_resource(resourceArn=arn, tags=[{"key": "autostack:stack", "value": unique}])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "autostack:stack", "value": unique}]

    ecs.untag_resource(resourceArn=arn, tagKeys=["autostack:stack"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == []
