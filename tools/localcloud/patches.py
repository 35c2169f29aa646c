"""Fidelity patches for moto: each restores one AWS behaviour the stack relies on.

Every patch is a function named ``patch_<what>`` registered with ``@patch``; each has a
test in ``tests/localcloud/`` that talks to a private emulator over HTTP with boto3 and
asserts the AWS behaviour. ``server.py`` calls ``apply_all()`` before moto's server
starts, so the patches live in the emulator process only.

Patches (moto 5.2.5)
--------------------

IAM (no patch: ``server.py`` sets ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``)
  AWS managed policies such as ``service-role/AmazonEC2ContainerServiceforEC2Role`` and
  ``service-role/AmazonECSTaskExecutionRolePolicy`` exist and attach
  (``test_iam_managed_policies.py``).

ECS
  ``patch_ecs_cluster_capacity_provider_lists``
      Clusters report ``capacityProviders: []`` and ``defaultCapacityProviderStrategy: []``
      when none are set (moto omits both; ``community.aws.ecs_cluster`` indexes them).
  ``patch_ecs_describe_all_capacity_providers``
      ``DescribeCapacityProviders`` without names lists every provider plus the built-in
      ``FARGATE`` and ``FARGATE_SPOT`` (moto answers HTTP 500); those two can be named.
  ``patch_ecs_untagged_resource_tags``
      ``ListTagsForResource`` answers ``tags: []`` for an untagged resource (moto drops the
      key; ``community.aws.ecs_tag`` indexes it).

Auto Scaling
  ``patch_autoscaling_metrics_collection``
      ``DisableMetricsCollection`` exists (moto answers HTTP 500) and clears
      ``EnabledMetrics``; ``EnableMetricsCollection`` adds to the set, all when none named.

RDS
  ``patch_rds_gp3_storage``
      gp3 instances report ``Iops`` and ``StorageThroughput`` (3000 / 125 below the
      engine's threshold, 12000 / 500 at or above it), refuse both below the threshold,
      and get a default ``AllocatedStorage`` (moto omits both fields, fails without size).

EC2 tags and NAT gateways
  ``patch_ec2_tag_resource_types``
      ``DescribeTags`` names resource types as AWS does (``natgateway``, ``elastic-ip``, ...);
      moto's ``nat-gateway`` breaks the ``resource-type`` filter amazon.aws uses for tags.
  ``patch_nat_gateway_tag_filters``
      ``DescribeNatGateways`` honours ``tag:<key>``, ``tag-key`` and ``tag-value`` filters
      (moto ignores them and returns every gateway).
  ``patch_nat_gateway_deletion``
      ``DeleteNatGateway`` goes ``deleting`` -> ``deleted`` (after
      ``$LOCALCLOUD_NAT_DELETE_SECONDS``, default 1), then frees the gateway's network
      interface and Elastic IP association, and stamps ``DeleteTime``; unknown ids get
      ``NatGatewayNotFound`` (moto flips to ``deleted`` at once, keeps the ENI and the
      association forever, and answers HTTP 500 for unknown ids).

ELBv2
  ``patch_elbv2_default_attributes``
      Application Load Balancers describe every attribute with AWS's default
      (``idle_timeout.timeout_seconds`` 60, ``routing.http2.enabled`` true, ...); moto
      leaves most out and ``amazon.aws.elb_application_lb`` fails with a KeyError.

ECR on the local registry (only when ``localcloud.py`` sets ``LOCALCLOUD_REGISTRY`` and
``LOCALCLOUD_REGISTRY_PASSWORD_FILE``; without them ECR is moto's)
  ``patch_ecr_registry_repository_uri``
      ``repositoryUri`` is ``127.0.0.1:<port>/<name>`` on the local registry (moto: an AWS host).
  ``patch_ecr_registry_authorization_token``
      ``GetAuthorizationToken`` answers the registry's credentials (``AWS:<password>``),
      ``proxyEndpoint`` ``http://127.0.0.1:<port>`` and an expiry 12 hours on (moto: a made-up
      password, an AWS host, 2015).
  ``patch_ecr_registry_push_events``
      The registry notifies ``POST /_localcloud/registry-events`` of pushes; each tagged
      manifest is put, with its exact bytes, media type and digest, into the ECR repository of
      that name, so ``DescribeImages`` lists what ``docker push`` sent (moto: nothing).
      Pushes to names ECR does not have are logged and ignored (``test_registry.py``).

Teardown order (AWS refuses to delete what is still in use; moto mostly does not)
  ``patch_instance_eni_lifecycle``
      Network interfaces created with an instance or an ``awsvpc`` ECS task go away when
      the instance terminates or the task stops (moto keeps them), so the checks below
      see what AWS sees.
  ``patch_vpc_dependency_violation``
      ``DeleteVpc`` refuses while subnets, an attached internet gateway, an egress-only
      internet gateway, non-default security groups or non-main route tables remain.
  ``patch_subnet_dependency_violation``
      ``DeleteSubnet`` refuses while a network interface (an instance's, an Auto Scaling
      group's instances', a task's), a NAT gateway that is not yet ``deleted``, a load
      balancer or a DB instance has a foothold in the subnet.
  ``patch_security_group_dependency_violation``
      ``DeleteSecurityGroup`` refuses while another group's rule, a network interface,
      a load balancer or a DB instance references the group.
  ``patch_internet_gateway_detach_mapped_addresses``
      ``DetachInternetGateway`` refuses while the VPC has mapped public addresses
      (Elastic IPs, including a NAT gateway's until it is ``deleted``; public IPs of
      interfaces; internet-facing load balancers).
  ``patch_rds_subnet_group_in_use``
      ``DeleteDBSubnetGroup`` refuses while a DB instance or cluster uses the group.
  ``patch_secretsmanager_marked_for_deletion_message``
      ``GetSecretValue`` on a secret scheduled for deletion answers with AWS's message.
  ``patch_ec2_launch_template_version_user_data``
      Later launch template versions keep their user data usable by Auto Scaling.
  ``patch_ec2_launch_template_own_tags``
      A launch template's own tags stay out of its first version's data.
  ``patch_ec2_delete_launch_template_versions``
      ``DeleteLaunchTemplateVersions`` exists (``ec2_launch_template state=absent`` calls it).
  ``patch_autoscaling_force_delete``
      ``DeleteAutoScalingGroup`` with ``ForceDelete`` terminates the group's instances.

EC2 instances
  ``patch_ec2_launch_template_metadata_options``
      Instances launched from a launch template (by ``RunInstances`` or an Auto Scaling group)
      get the template's ``MetadataOptions`` (moto: ``HttpTokens`` ``optional`` whatever the
      template says; ``autostack.wordpress.security_audit`` then failed the stack's hosts).

Set ``LOCALCLOUD_DISABLE_PATCHES=patch_a,patch_b`` in the emulator's environment to
start it without some patches (how each test was shown to fail without its patch).
"""

import datetime
import functools
import os
import sys
import threading
import time
import traceback

PATCHES = []


def patch(func):
    PATCHES.append(func)
    return func


def apply_all():
    disabled = {name.strip() for name in os.environ.get("LOCALCLOUD_DISABLE_PATCHES", "").split(",") if name.strip()}
    unknown = disabled - {func.__name__ for func in PATCHES}
    if unknown:
        raise ValueError("LOCALCLOUD_DISABLE_PATCHES names unknown patches: %s" % ", ".join(sorted(unknown)))
    for func in PATCHES:
        if func.__name__ not in disabled:
            func()


def _wrap(cls, name, static=False):
    """Replace ``cls.name`` by the decorated function, which gets the original first."""
    original = getattr(cls, name)

    def decorator(func):
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            return func(original, *args, **kwargs)

        setattr(cls, name, staticmethod(wrapper) if static else wrapper)
        return func

    return decorator


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


# --------------------------------------------------------------------------- ECS


@patch
def patch_ecs_cluster_capacity_provider_lists():
    """Clusters without capacity providers report empty lists, as AWS does.

    AWS: CreateCluster/DescribeClusters return ``capacityProviders: []`` and
    ``defaultCapacityProviderStrategy: []`` for a cluster that has none. moto keeps
    ``None`` and its serializer drops both keys. ``community.aws.ecs_cluster`` reads
    ``existing["capacityProviders"]`` on every run against an existing cluster, so the
    second run of the role fails with a KeyError instead of reporting ``ok``.
    """
    from moto.ecs.models import Cluster

    @_wrap(Cluster, "__init__")
    def __init__(original, self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.capacity_providers is None:
            self.capacity_providers = []
        if self.default_capacity_provider_strategy is None:
            self.default_capacity_provider_strategy = []


class _FargateProvider:
    """The built-in capacity providers every account has; they carry no Auto Scaling group."""

    def __init__(self, name, account_id, region_name):
        from moto.utilities.utils import get_partition

        self.name = name
        self.capacity_provider_arn = "arn:%s:ecs:%s:%s:capacity-provider/%s" % (
            get_partition(region_name),
            region_name,
            account_id,
            name,
        )
        self.status = "ACTIVE"


_FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


@patch
def patch_ecs_describe_all_capacity_providers():
    """DescribeCapacityProviders without names lists all providers, FARGATE ones included.

    AWS: with ``capacityProviders`` omitted the call describes every capacity provider of
    the account, always including ``FARGATE`` and ``FARGATE_SPOT``; those two can also be
    named. moto iterates over ``None`` (HTTP 500) and reports FARGATE as ``MISSING``.
    The collection lists providers to find the stack's own and to check that a strategy
    only names providers that exist.
    """
    from moto.ecs.models import EC2ContainerServiceBackend

    @_wrap(EC2ContainerServiceBackend, "describe_capacity_providers")
    def describe_capacity_providers(original, self, names):
        builtin = {name: _FargateProvider(name, self.account_id, self.region_name) for name in _FARGATE_PROVIDERS}
        if not names:
            return list(self.capacity_providers.values()) + list(builtin.values()), []
        own = [name for name in names if name.split("/")[-1] not in builtin]
        providers, failures = original(self, own)
        providers = list(providers)
        for name in names:
            if name.split("/")[-1] in builtin:
                providers.append(builtin[name.split("/")[-1]])
        return providers, failures


@patch
def patch_ecs_untagged_resource_tags():
    """ListTagsForResource on an untagged ECS resource answers ``tags: []``.

    AWS always returns the ``tags`` list, empty when the resource has no tags. moto
    keeps ``None`` for a cluster (or service) created without tags and drops the key.
    ``community.aws.ecs_tag`` reads ``list_tags_for_resource(...)["tags"]`` before it
    tags anything, so tagging the stack's cluster fails with a KeyError.
    """
    from moto.ecs.models import EC2ContainerServiceBackend

    @_wrap(EC2ContainerServiceBackend, "list_tags_for_resource")
    def list_tags_for_resource(original, self, resource_arn):
        return list(original(self, resource_arn) or [])


# ------------------------------------------------------------------ Auto Scaling

# Every metric EnableMetricsCollection accepts (API reference, EnableMetricsCollection).
_ASG_METRICS = [
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupStandbyInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
    "GroupInServiceCapacity",
    "GroupPendingCapacity",
    "GroupStandbyCapacity",
    "GroupTerminatingCapacity",
    "GroupTotalCapacity",
    "WarmPoolDesiredCapacity",
    "WarmPoolWarmedCapacity",
    "WarmPoolPendingCapacity",
    "WarmPoolTerminatingCapacity",
    "WarmPoolTotalCapacity",
    "GroupAndWarmPoolDesiredCapacity",
    "GroupAndWarmPoolTotalCapacity",
]


@patch
def patch_autoscaling_metrics_collection():
    """DisableMetricsCollection exists and EnabledMetrics reflects enable/disable calls.

    AWS: ``DisableMetricsCollection`` removes the named metrics (all when none is named)
    from ``EnabledMetrics``; ``EnableMetricsCollection`` adds the named metrics (all when
    none is named) to those already enabled. moto has no ``DisableMetricsCollection``
    (HTTP 500) and its enable replaces the set. ``amazon.aws.autoscaling_group`` calls
    ``DisableMetricsCollection`` on every update of a group with ``metrics_collection:
    false`` (the default), so the second run of the ASG role fails.
    """
    from moto.autoscaling.exceptions import ValidationError
    from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import EmptyResult

    def enable_metrics_collection(self, metrics):
        enabled = list(self.metrics or [])
        for metric in metrics or _ASG_METRICS:
            if metric not in enabled:
                enabled.append(metric)
        self.metrics = enabled

    def disable_metrics_collection(self, metrics):
        self.metrics = [metric for metric in (self.metrics or []) if metrics and metric not in metrics]

    FakeAutoScalingGroup.enable_metrics_collection = enable_metrics_collection
    FakeAutoScalingGroup.disable_metrics_collection = disable_metrics_collection

    def _group(backend, group_name):
        groups = backend.describe_auto_scaling_groups([group_name])
        if not groups:
            raise ValidationError("Group %s not found" % group_name)
        return groups[0]

    def backend_enable(self, group_name, metrics):
        _group(self, group_name).enable_metrics_collection(metrics)

    def backend_disable(self, group_name, metrics):
        _group(self, group_name).disable_metrics_collection(metrics)

    AutoScalingBackend.enable_metrics_collection = backend_enable
    AutoScalingBackend.disable_metrics_collection = backend_disable

    def response_disable(self):
        self.autoscaling_backend.disable_metrics_collection(
            self._get_param("AutoScalingGroupName"), self._get_param("Metrics")
        )
        return EmptyResult()

    AutoScalingResponse.disable_metrics_collection = response_disable


# --------------------------------------------------------------------------- RDS


def _gp3_limits(engine, allocated_storage):
    """AWS's gp3 baseline for an engine and size: (iops, throughput, threshold or None).

    From the RDS user guide (gp3 storage): Db2, MariaDB, MySQL and PostgreSQL get
    3000 IOPS / 125 MiB/s below 400 GiB and 12000 / 500 from 400 GiB, Oracle the same
    with a 200 GiB threshold; below the threshold neither value may be specified. SQL
    Server gets 3000 / 125 at every size and may provision more.
    """
    engine = (engine or "").lower()
    if engine.startswith("sqlserver"):
        return 3000, 125, None
    threshold = 200 if engine.startswith("oracle") else 400
    if (allocated_storage or 0) < threshold:
        return 3000, 125, threshold
    return 12000, 500, threshold


def _gp3_refuse_specified(engine, allocated_storage, iops, throughput):
    from moto.rds.exceptions import RDSClientError

    threshold = _gp3_limits(engine, allocated_storage)[2]
    if threshold and int(allocated_storage or 0) < threshold and (iops or throughput):
        raise RDSClientError(
            "InvalidParameterCombination",
            "You can't specify IOPS or storage throughput for engine %s and a storage size less than %d."
            % (engine, threshold),
        )


@patch
def patch_rds_gp3_storage():
    """gp3 DB instances report Iops and StorageThroughput with AWS's defaults.

    AWS: an instance with ``StorageType: gp3`` always describes ``Iops`` and
    ``StorageThroughput``; below the engine's threshold (400 GiB for MySQL/MariaDB) they
    are the baseline 3000 and 125 and may not be specified (InvalidParameterCombination);
    from the threshold the baseline is 12000 / 500. moto leaves both out, and fails
    with HTTP 500 when a gp3 instance is created without ``AllocatedStorage``.
    ``amazon.aws.rds_instance`` reads ``instance["StorageThroughput"]`` and
    ``instance["Iops"]`` for every gp3 instance it modifies: without them the second run
    of the RDS role fails or reports a change.
    """
    from moto.rds.models import DBInstance, RDSBackend

    @_wrap(DBInstance, "default_allocated_storage", static=True)
    def default_allocated_storage(original, engine, storage_type):
        # gp3 and io2 have the same minimum sizes as gp2 and io1.
        storage_type = {"gp3": "gp2", "io2": "io1"}.get(storage_type, storage_type)
        return original(engine=engine, storage_type=storage_type)

    def settle(database, explicit_iops, explicit_throughput, was_small):
        if getattr(database, "db_cluster_identifier", None) is not None:
            return
        if database.storage_type != "gp3":
            if was_small is not None:  # it was gp3: the gp3-only values go
                database.storage_throughput = None
                if database.storage_type not in ("io1", "io2"):
                    database.iops = None
            return
        iops, throughput, threshold = _gp3_limits(database.engine, database.allocated_storage)
        small = threshold is not None and int(database.allocated_storage or 0) < threshold
        keep = not small and not was_small
        database.iops = int(explicit_iops or (keep and database.iops) or iops)
        database.storage_throughput = int(explicit_throughput or (keep and database.storage_throughput) or throughput)

    @_wrap(RDSBackend, "create_db_instance")
    def create_db_instance(original, self, db_kwargs):
        if db_kwargs.get("storage_type") == "gp3" and db_kwargs.get("db_cluster_identifier") is None:
            _gp3_refuse_specified(
                db_kwargs.get("engine"),
                db_kwargs.get("allocated_storage") or 20,
                db_kwargs.get("iops"),
                db_kwargs.get("storage_throughput"),
            )
        database = original(self, db_kwargs)
        settle(database, db_kwargs.get("iops"), db_kwargs.get("storage_throughput"), None)
        return database

    @_wrap(RDSBackend, "modify_db_instance")
    def modify_db_instance(original, self, db_instance_identifier, db_kwargs):
        database = self.describe_db_instances(db_instance_identifier)[0]
        was_small = None
        if getattr(database, "db_cluster_identifier", None) is None:
            storage_type = db_kwargs.get("storage_type") or database.storage_type
            allocated = db_kwargs.get("allocated_storage") or database.allocated_storage
            if storage_type == "gp3":
                _gp3_refuse_specified(
                    database.engine, allocated, db_kwargs.get("iops"), db_kwargs.get("storage_throughput")
                )
            if database.storage_type == "gp3":
                threshold = _gp3_limits(database.engine, database.allocated_storage)[2]
                was_small = bool(threshold and int(database.allocated_storage or 0) < threshold)
            elif storage_type == "gp3":
                was_small = True  # coming from another type: start from the baseline
        database = original(self, db_instance_identifier, db_kwargs)
        settle(database, db_kwargs.get("iops"), db_kwargs.get("storage_throughput"), was_small)
        return database


# ----------------------------------------------------------- EC2 tags, NAT gateways

# Resource types as AWS's DescribeTags reports and filters them, for the id prefixes
# whose moto name differs (EC2 API reference, DescribeTags, filter resource-type).
_AWS_TAG_RESOURCE_TYPES = {
    "nat": "natgateway",
    "eipalloc": "elastic-ip",
    "h": "dedicated-host",
    "sir": "spot-instances-request",
    "uuid4": "reserved-instances",
}


@patch
def patch_ec2_tag_resource_types():
    """DescribeTags reports and filters EC2 resource types by AWS's names.

    AWS: a NAT gateway's tags have ``ResourceType: natgateway`` and an Elastic IP's
    ``elastic-ip``; the ``resource-type`` filter takes those names. moto says
    ``nat-gateway`` and ``vpc-elastic-ip``, so a ``resource-type=natgateway`` filter
    matches nothing. ``amazon.aws.ec2_vpc_nat_gateway`` (and ``ec2_eip``) read a
    resource's tags with that filter: they see none, add them again on every run and
    never report ``ok``.
    """
    from moto.ec2 import utils

    utils.EC2_PREFIX_TO_RESOURCE.update(_AWS_TAG_RESOURCE_TYPES)


@patch
def patch_nat_gateway_tag_filters():
    """DescribeNatGateways honours tag filters.

    AWS: ``tag:<key>``, ``tag-key`` and ``tag-value`` filter NAT gateways like any other
    EC2 resource. moto ignores them and returns every gateway of the region, so finding
    a stack's gateways by its tags (``ec2_vpc_nat_gateway_info``) finds other stacks' too.
    """
    from moto.ec2.models import EC2Backend
    from moto.ec2.utils import tag_filter_matches

    @_wrap(EC2Backend, "describe_nat_gateways")
    def describe_nat_gateways(original, self, filters, nat_gateway_ids):
        gateways = original(self, filters, nat_gateway_ids)
        for name, values in (filters or {}).items():
            if name.startswith("tag:") or name in ("tag-key", "tag-value"):
                gateways = [gw for gw in gateways if tag_filter_matches(gw, name, values)]
        return gateways


def _nat_delete_seconds():
    return float(os.environ.get("LOCALCLOUD_NAT_DELETE_SECONDS", "1"))


_NAT_LOCK = threading.Lock()  # moto's server is threaded; settle each gateway once


def _settle_nat_gateways(backend):
    """Finish the deletion of NAT gateways whose ``deleting`` phase is over."""
    with _NAT_LOCK:
        _settle_nat_gateways_locked(backend)


def _settle_nat_gateways_locked(backend):
    for gateway in list(getattr(backend, "nat_gateways", {}).values()):
        started = getattr(gateway, "_localcloud_deleting_since", None)
        if gateway.state != "deleting" or started is None:
            continue
        if time.monotonic() - started < _nat_delete_seconds():
            continue
        for address in gateway.address_set:
            association = address.pop("associationId", None)
            # The association may be gone already (moto lets ReleaseAddress drop it).
            if association and any(eip.association_id == association for eip in backend.addresses):
                backend.disassociate_address(association_id=association)
        eni = getattr(gateway, "_eni", None)
        if eni is not None and eni.id in backend.enis:
            eni.delete()
        gateway.state = "deleted"
        gateway.delete_time = _now_iso()


@patch
def patch_nat_gateway_deletion():
    """NAT gateways pass through ``deleting`` and release their ENI and address when gone.

    AWS: DeleteNatGateway returns at once with the gateway ``deleting``; it becomes
    ``deleted`` (with ``DeleteTime``) a little later, and only then are its network
    interface deleted and its Elastic IP disassociated: until then the subnet cannot be
    deleted and the internet gateway cannot be detached. Unknown ids get
    ``NatGatewayNotFound``. moto flips the state to ``deleted`` at once but keeps the
    interface and the association forever, and answers HTTP 500 for an unknown id.
    The destroy playbook must wait for ``deleted`` (``ec2_vpc_nat_gateway`` with
    ``wait: true``) before it deletes subnets or detaches the internet gateway; the
    ``deleting`` phase lasts ``$LOCALCLOUD_NAT_DELETE_SECONDS`` (default 1; 0 skips it)
    so that a teardown which does not wait fails here as it would on AWS.
    """
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models import EC2Backend
    from moto.ec2.responses import EC2Response

    def delete_nat_gateway(self, nat_gateway_id):
        gateway = self.nat_gateways.get(nat_gateway_id)
        if gateway is None:
            raise EC2ClientError("NatGatewayNotFound", "The Nat Gateway %s was not found" % nat_gateway_id)
        if gateway.state not in ("deleting", "deleted"):
            gateway.state = "deleting"
            gateway._localcloud_deleting_since = time.monotonic()
        _settle_nat_gateways(self)
        return gateway

    EC2Backend.delete_nat_gateway = delete_nat_gateway

    # Every EC2 call first finishes the deletions that are due, so that every view
    # (gateways, interfaces, addresses, dependency checks) agrees on the state.
    @_wrap(EC2Response, "call_action")
    def call_action(original, self):
        try:
            _settle_nat_gateways(self.ec2_backend)
        except Exception:  # noqa: BLE001  (a bookkeeping bug must not take EC2 down)
            traceback.print_exc()
        return original(self)


# ------------------------------------------------------------------------- ELBv2

# What DescribeLoadBalancerAttributes answers for a new Application Load Balancer
# (ELB API reference, LoadBalancerAttribute: each attribute's default).
_ALB_DEFAULT_ATTRIBUTES = {
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
    "client_keep_alive.seconds": "3600",
    "connection_logs.s3.enabled": "false",
    "connection_logs.s3.bucket": "",
    "connection_logs.s3.prefix": "",
    "deletion_protection.enabled": "false",
    "idle_timeout.timeout_seconds": "60",
    "load_balancing.cross_zone.enabled": "true",
    "routing.http.desync_mitigation_mode": "defensive",
    "routing.http.drop_invalid_header_fields.enabled": "false",
    "routing.http.preserve_host_header.enabled": "false",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
    "routing.http.xff_client_port.enabled": "false",
    "routing.http.xff_header_processing.mode": "append",
    "routing.http2.enabled": "true",
    "waf.fail_open.enabled": "false",
    "zonal_shift.config.enabled": "false",
}


@patch
def patch_elbv2_default_attributes():
    """Application Load Balancers describe every attribute with AWS's default.

    AWS: DescribeLoadBalancerAttributes of a new ALB lists ``idle_timeout.timeout_seconds``
    (60), ``routing.http2.enabled`` (true), ``routing.http.desync_mitigation_mode``
    (defensive) and the rest, and ``load_balancing.cross_zone.enabled`` is ``true``
    (always on for ALBs). moto leaves most of them out. ``amazon.aws.elb_application_lb``
    indexes each attribute it manages (``idle_timeout``, ``http2``,
    ``http_drop_invalid_header_fields``, ...), so creating the stack's ALB fails with a
    KeyError on ``idle_timeout_timeout_seconds``.
    """
    from moto.elbv2.models import FakeLoadBalancer

    @_wrap(FakeLoadBalancer, "__init__")
    def __init__(original, self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.type == "application":
            attributes = dict(_ALB_DEFAULT_ATTRIBUTES)
            attributes.update({k: v for k, v in self.attrs.items() if k != "load_balancing.cross_zone.enabled"})
            self.attrs = attributes


# ------------------------------------------------------------------ teardown order


@patch
def patch_instance_eni_lifecycle():
    """Interfaces created for an instance or an awsvpc task go away with it.

    AWS: the network interfaces that RunInstances creates (the primary one always,
    others unless ``DeleteOnTermination`` is false) are deleted when the instance
    terminates, and an ``awsvpc`` ECS task's interface is released when the task stops.
    moto keeps the primary interface of a terminated instance (it only honours an
    explicit ``DeleteOnTermination: true``) and every task interface, which would block
    the subnet forever once deletion checks look at interfaces.
    """
    from moto.ec2.models.instances import Instance
    from moto.ecs.models import EC2ContainerServiceBackend

    @_wrap(Instance, "prep_nics")
    def prep_nics(original, self, nic_spec, *args, **kwargs):
        existing = set(self.ec2_backend.enis)
        explicit = {}
        for spec in nic_spec or []:
            explicit[int(spec.get("DeviceIndex", 0))] = spec.get("DeleteOnTermination")
        original(self, nic_spec, *args, **kwargs)
        for index, eni in self.nics.items():
            if eni.id in existing:
                continue  # attached by id: it outlives the instance unless told otherwise
            wanted = explicit.get(index)
            eni.delete_on_termination = str(wanted).lower() != "false"

    @_wrap(EC2ContainerServiceBackend, "stop_task")
    def stop_task(original, self, cluster_str, task_str, reason):
        task = original(self, cluster_str, task_str, reason)
        from moto.ec2.models import ec2_backends

        ec2 = ec2_backends[self.account_id][self.region_name]
        for attachment in getattr(task, "attachments", []) or []:
            for detail in attachment.get("details", []):
                if detail.get("name") == "networkInterfaceId" and detail.get("value") in ec2.enis:
                    ec2.enis[detail["value"]].delete()
        return task


def _dependency_violation(message):
    from moto.ec2.exceptions import EC2ClientError

    return EC2ClientError("DependencyViolation", message)


def _other_backends(ec2_backend):
    from moto.elbv2.models import elbv2_backends
    from moto.rds.models import rds_backends

    account, region = ec2_backend.account_id, ec2_backend.region_name
    return elbv2_backends[account][region], rds_backends[account][region]


def _db_instance_subnets(database):
    """Subnets in which an RDS instance has its network interfaces, as far as moto knows.

    On AWS the instance's interface lives in the subnet of its availability zone (and,
    Multi-AZ, the standby's in another): moto models neither, so take the group's subnet
    in the instance's zone, or every subnet of the group when Multi-AZ or when none of
    them is in that zone.
    """
    group = database.__dict__.get("db_subnet_group")
    subnets = list(getattr(group, "_subnets", None) or [])
    if not subnets:
        return []
    if getattr(database, "multi_az", False):
        return subnets
    same_zone = [s for s in subnets if s.availability_zone == getattr(database, "availability_zone", None)]
    return same_zone or subnets


def _subnet_dependents(backend, subnet):
    found = []
    for eni in list(backend.enis.values()):
        if eni.subnet is not None and eni.subnet.id == subnet.id:
            found.append(eni.id)
    for gateway in list(backend.nat_gateways.values()):
        if gateway.subnet_id == subnet.id and gateway.state not in ("deleted", "failed"):
            found.append(gateway.id)
    elbv2, rds = _other_backends(backend)
    for balancer in list(elbv2.load_balancers.values()):
        if any(getattr(s, "id", s) == subnet.id for s in balancer.subnets or []):
            found.append(balancer.arn)
    for database in list(rds.databases.values()):
        if any(s.id == subnet.id for s in _db_instance_subnets(database)):
            found.append(database.db_instance_identifier)
    return found


@patch
def patch_subnet_dependency_violation():
    """DeleteSubnet refuses while something still has a network interface in the subnet.

    AWS answers ``DependencyViolation: The subnet 'subnet-…' has dependencies and
    cannot be deleted.`` while any network interface is in the subnet: an instance's
    (running or stopped), a NAT gateway's (until it is ``deleted``), a load balancer's,
    a DB instance's, an awsvpc task's, an EFS mount target's. moto deletes the subnet
    and leaves those resources pointing at nothing. moto's ELBv2 and RDS create no
    interfaces, so load balancers that list the subnet and DB instances placed in it
    (see ``_db_instance_subnets``) count directly. What does not block on AWS does not
    block here: an Auto Scaling group's ``VPCZoneIdentifier`` (only its instances do),
    a DB subnet group without instances in the subnet, a launch template.
    """
    from moto.ec2.models import EC2Backend

    @_wrap(EC2Backend, "delete_subnet")
    def delete_subnet(original, self, subnet_id):
        subnet = self.get_subnet(subnet_id)  # raises InvalidSubnetID.NotFound
        if _subnet_dependents(self, subnet):
            raise _dependency_violation("The subnet '%s' has dependencies and cannot be deleted." % subnet_id)
        return original(self, subnet_id)


@patch
def patch_vpc_dependency_violation():
    """DeleteVpc refuses while the VPC still holds gateways, groups, tables or subnets.

    AWS answers ``DependencyViolation: The vpc 'vpc-…' has dependencies and cannot be
    deleted.`` while subnets, an attached internet gateway, an egress-only internet
    gateway, security groups other than the default one or route tables other than
    the main one remain (the default group and the main table go with the VPC). moto
    checks subnets, VPN gateways and route tables only, and deletes a VPC that still
    has an internet gateway attached and security groups in it.
    """
    from moto.ec2.models import EC2Backend

    @_wrap(EC2Backend, "delete_vpc")
    def delete_vpc(original, self, vpc_id):
        self.get_vpc(vpc_id)  # raises InvalidVpcID.NotFound
        dependents = [s.id for s in self.describe_subnets(filters={"vpc-id": [vpc_id]})]
        dependents += [
            igw.id for igw in self.internet_gateways.values() if igw.vpc is not None and igw.vpc.id == vpc_id
        ]
        dependents += [
            gw.id for gw in getattr(self, "egress_only_internet_gateways", {}).values() if gw.vpc_id == vpc_id
        ]
        dependents += [group.id for group in self.groups.get(vpc_id, {}).values() if not group.is_default]
        dependents += [
            table.id
            for table in self.route_tables.values()
            if table.vpc_id == vpc_id and table.main_association_id is None
        ]
        if dependents:
            raise _dependency_violation("The vpc '%s' has dependencies and cannot be deleted." % vpc_id)
        return original(self, vpc_id)


def _group_dependents(backend, group):
    found = []
    for groups in list(backend.groups.values()):
        for other in list(groups.values()):
            if other.id == group.id:
                continue  # a group may reference itself and still be deleted
            for rule in list(other.ingress_rules) + list(other.egress_rules):
                source = rule.source_group or {}
                if source.get("GroupId") == group.id or (
                    not source.get("GroupId") and source.get("GroupName") == group.name and other.vpc_id == group.vpc_id
                ):
                    found.append(other.id)
    for eni in list(backend.enis.values()):
        if group.id in {getattr(g, "id", g) for g in eni.group_set or []}:
            found.append(eni.id)
    elbv2, rds = _other_backends(backend)
    for balancer in list(elbv2.load_balancers.values()):
        if group.id in (balancer.security_groups or []):
            found.append(balancer.arn)
    for database in list(rds.databases.values()):
        if group.id in (getattr(database, "vpc_security_group_ids", None) or []):
            found.append(database.db_instance_identifier)
    return found


@patch
def patch_security_group_dependency_violation():
    """DeleteSecurityGroup refuses while the group is referenced or in use.

    AWS answers ``DependencyViolation: resource sg-… has a dependent object`` while a
    rule of another group references the group, or a network interface (an instance's,
    a load balancer's, a DB instance's) uses it. moto deletes it and leaves dangling
    references. moto's ELBv2 and RDS create no interfaces, so their security group
    lists count directly. A launch template or an ECS service definition that names
    the group does not block on AWS and does not block here; a rule of the group
    itself that references it does not block either.
    """
    from moto.ec2.models import EC2Backend

    @_wrap(EC2Backend, "delete_security_group")
    def delete_security_group(original, self, name=None, group_id=None):
        group = None
        if group_id:
            group = self.get_security_group_from_id(group_id)
        elif name:
            group = self.get_security_group_by_name_or_id(name)
        # The default group is deleted by moto's own DeleteVpc; AWS refuses the user
        # with another error, which this patch does not model.
        if group is not None and not group.is_default and _group_dependents(self, group):
            raise _dependency_violation("resource %s has a dependent object" % group.id)
        return original(self, name=name, group_id=group_id)


def _vpc_of(backend, eni):
    subnet = getattr(eni, "subnet", None)
    return getattr(subnet, "vpc_id", None)


@patch
def patch_internet_gateway_detach_mapped_addresses():
    """DetachInternetGateway refuses while the VPC has mapped public addresses.

    AWS answers ``DependencyViolation: Network vpc-… has some mapped public
    address(es). Please unmap those public address(es) before detaching the gateway.``
    while an Elastic IP is associated in the VPC (a NAT gateway's stays associated until
    the gateway is ``deleted``), an interface has a public IP, or an internet-facing
    load balancer is in the VPC. moto detaches regardless, so a teardown that detaches
    the gateway before the NAT gateways are gone passes here and fails on AWS.
    """
    from moto.ec2.models import EC2Backend

    @_wrap(EC2Backend, "detach_internet_gateway")
    def detach_internet_gateway(original, self, internet_gateway_id, vpc_id):
        mapped = [
            address.public_ip
            for address in list(self.addresses)
            if address.eni is not None and _vpc_of(self, address.eni) == vpc_id
        ]
        mapped += [eni.id for eni in list(self.enis.values()) if eni.public_ip and _vpc_of(self, eni) == vpc_id]
        elbv2 = _other_backends(self)[0]
        mapped += [
            balancer.arn
            for balancer in list(elbv2.load_balancers.values())
            if balancer.vpc_id == vpc_id and balancer.scheme == "internet-facing"
        ]
        igw = self.get_internet_gateway(internet_gateway_id)
        if mapped and igw.vpc is not None and igw.vpc.id == vpc_id:
            raise _dependency_violation(
                "Network %s has some mapped public address(es). Please unmap those public address(es) "
                "before detaching the gateway." % vpc_id
            )
        return original(self, internet_gateway_id, vpc_id)


@patch
def patch_rds_subnet_group_in_use():
    """DeleteDBSubnetGroup refuses while a DB instance or cluster uses the group.

    AWS answers ``InvalidDBSubnetGroupStateFault: Cannot delete the subnet group '…'
    because at least one database instance: … is still using it.`` moto deletes the
    group under the instance. The destroy playbook must delete the instance (and wait
    for it) before the group.
    """
    from moto.rds.exceptions import RDSClientError
    from moto.rds.models import RDSBackend

    @_wrap(RDSBackend, "delete_subnet_group")
    def delete_subnet_group(original, self, subnet_name):
        wanted = subnet_name.lower()
        for database in list(self.databases.values()):
            group = database.__dict__.get("db_subnet_group")
            if group is not None and group.name == wanted:
                raise RDSClientError(
                    "InvalidDBSubnetGroupStateFault",
                    "Cannot delete the subnet group '%s' because at least one database instance: %s is still using it."
                    % (subnet_name, database.db_instance_identifier),
                )
        for cluster in list(self.clusters.values()):
            if str(cluster.__dict__.get("db_subnet_group_name") or "").lower() == wanted:
                raise RDSClientError(
                    "InvalidDBSubnetGroupStateFault",
                    "Cannot delete the subnet group '%s' because at least one database cluster: %s is still using it."
                    % (subnet_name, cluster.db_cluster_identifier),
                )
        return original(self, subnet_name)


@patch
def patch_secretsmanager_marked_for_deletion_message():
    """GetSecretValue on a secret scheduled for deletion says "marked for deletion", as AWS does.

    AWS: ``InvalidRequestException: You can't perform this operation on the secret because it
    was marked for deletion.`` moto says "...that's currently marked deleted.", which the
    ``amazon.aws.secretsmanager_secret`` lookup's ``on_deleted`` option does not recognise (it
    matches "marked for deletion"), so check mode of the rds role on a destroyed stack whose
    master secret is in its recovery window fails instead of skipping.
    """
    from moto.secretsmanager.exceptions import InvalidRequestException
    from moto.secretsmanager.models import SecretsManagerBackend

    @_wrap(SecretsManagerBackend, "get_secret_value")
    def get_secret_value(original, self, *args, **kwargs):
        try:
            return original(self, *args, **kwargs)
        except InvalidRequestException as error:
            if "currently marked deleted" not in str(error):
                raise
            raise InvalidRequestException(
                "You can't perform this operation on the secret because it was marked for deletion."
            ) from None


@patch
def patch_ec2_launch_template_version_user_data():
    """CreateLaunchTemplateVersion keeps UserData as moto's Base64EncodedString, as CreateLaunchTemplate does.

    moto stores a version's UserData as a plain str; an Auto Scaling group that launches from
    such a version then fails with HTTP 500 (AssertionError in LaunchTemplateVersion.user_data).
    """
    from moto.ec2.models.launch_templates import LaunchTemplate
    from moto.ec2.utils import parse_user_data

    original = LaunchTemplate.create_version

    @functools.wraps(original)
    def create_version(self, data, description):
        if isinstance(data.get("UserData"), (str, bytes)):
            data = dict(data, UserData=parse_user_data(data["UserData"]))
        return original(self, data, description)

    LaunchTemplate.create_version = create_version


@patch
def patch_ec2_launch_template_own_tags():
    """CreateLaunchTemplate's TagSpecifications tag the template, not its first version's data.

    moto copies them into LaunchTemplateData.TagSpecifications of version 1, so the data reads
    back different from what was sent and amazon.aws.ec2_launch_template adds a version 2 on
    the next run.
    """
    from moto.ec2.responses.launch_templates import LaunchTemplates

    original = LaunchTemplates.create_launch_template

    @functools.wraps(original)
    def create_launch_template(self):
        data = self._get_param("LaunchTemplateData", {}) or {}
        sent = list(data.get("TagSpecifications") or [])
        result = original(self)
        template = self.ec2_backend.get_launch_template(result._result["LaunchTemplate"]["LaunchTemplateId"])
        version = template.versions[0]
        if sent:
            version.data["TagSpecifications"] = sent
        else:
            version.data.pop("TagSpecifications", None)
        return result

    LaunchTemplates.create_launch_template = create_launch_template


@patch
def patch_ec2_delete_launch_template_versions():
    """DeleteLaunchTemplateVersions exists (moto: HTTP 500, not implemented).

    amazon.aws.ec2_launch_template state=absent deletes the non-default versions first, so a
    template with more than one version cannot be deleted without it. The default version
    cannot be deleted (AWS answers with an UnsuccessfullyDeleted entry).
    """
    from moto.core.responses import ActionResult
    from moto.ec2.models.launch_templates import LaunchTemplateBackend
    from moto.ec2.responses.launch_templates import LaunchTemplates

    def delete_launch_template_versions(self):
        name = self._get_param("LaunchTemplateName")
        template_id = self._get_param("LaunchTemplateId")
        template = (
            self.ec2_backend.get_launch_template_by_name(name)
            if name
            else self.ec2_backend.get_launch_template(template_id)
        )
        deleted = getattr(template, "deleted_versions", set())
        template.deleted_versions = deleted
        done, refused = [], []
        for number in self._get_param("Versions", []):
            entry = {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name}
            try:
                number = int(number)
            except ValueError:
                number = 0
            if number == template.default_version_number:
                refused.append(dict(entry, VersionNumber=number, ResponseError={
                    "Code": "launchTemplateVersionIsDefault",
                    "Message": "The default version of a launch template cannot be deleted."}))
            elif 1 <= number <= len(template.versions) and number not in deleted:
                deleted.add(number)
                done.append(dict(entry, VersionNumber=number))
            else:
                refused.append(dict(entry, VersionNumber=number, ResponseError={
                    "Code": "launchTemplateVersionDoesNotExist",
                    "Message": "The specified launch template version does not exist."}))
        return ActionResult({
            "SuccessfullyDeletedLaunchTemplateVersions": done,
            "UnsuccessfullyDeletedLaunchTemplateVersions": refused,
        })

    LaunchTemplates.delete_launch_template_versions = delete_launch_template_versions

    original = LaunchTemplateBackend.describe_launch_template_versions

    @functools.wraps(original)
    def describe_launch_template_versions(self, *args, **kwargs):
        return [
            (template, version)
            for template, version in original(self, *args, **kwargs)
            if version.number not in getattr(template, "deleted_versions", set())
        ]

    LaunchTemplateBackend.describe_launch_template_versions = describe_launch_template_versions


@patch
def patch_autoscaling_force_delete():
    """DeleteAutoScalingGroup with ForceDelete terminates every instance, scale-in protected ones too.

    moto ignores ForceDelete: it scales to zero, which skips protected instances, then drops the
    group and leaves those instances running (their ENIs then keep subnets and security groups busy).
    """
    from moto.autoscaling.responses import AutoScalingResponse

    original = AutoScalingResponse.delete_auto_scaling_group

    @functools.wraps(original)
    def delete_auto_scaling_group(self):
        name = self._get_param("AutoScalingGroupName")
        group = self.autoscaling_backend.autoscaling_groups.get(name)
        if group is not None and self._get_bool_param("ForceDelete", False):
            ids = [state.instance.id for state in group.instance_states]
            if ids:
                self.autoscaling_backend.ec2_backend.terminate_instances(ids)
            group.instance_states = []
        return original(self)

    AutoScalingResponse.delete_auto_scaling_group = delete_auto_scaling_group


@patch
def patch_ec2_launch_template_metadata_options():
    """Instances launched from a launch template get the template's MetadataOptions, as on AWS.

    moto reads only the image, type, key, security groups and user data from the template: an instance
    an Auto Scaling group launches from a template requiring IMDSv2 (HttpTokens required) reports
    HttpTokens optional, so an audit of the running instances finds a fault AWS would not have.
    Options given to RunInstances itself override the template's one by one, as on AWS.
    """
    from moto.ec2.models.instances import InstanceBackend

    @_wrap(InstanceBackend, "run_instances")
    def run_instances(original, self, *args, **kwargs):
        if kwargs.get("launch_template"):
            options = self._get_template_from_args(kwargs["launch_template"]).data.get("MetadataOptions")
            if options:
                kwargs["metadata_options"] = dict(options, **(kwargs.get("metadata_options") or {}))
        return original(self, *args, **kwargs)


# ------------------------------------------------------- ECR and the local registry

# Set by localcloud.py: the registry's address (127.0.0.1:<port>) and the file holding the
# password of its user AWS. Without them the ECR patches below leave moto as it is.
_REGISTRY_USER = "AWS"
_REGISTRY_EVENTS_PATH = "/_localcloud/registry-events"
_REGISTRY_INFO_PATH = "/_localcloud/registry"
_REGISTRY_TOKEN_HOURS = 12  # what GetAuthorizationToken grants on AWS
# What ECR stores and the registry serves as a manifest; a layer or a config blob is none of them.
_MANIFEST_MEDIA_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)
_REGISTRY_LOCK = threading.Lock()  # moto's server is threaded; one import into ECR at a time


def _registry():
    """The registry's address, or "" when the emulator runs without one."""
    address = os.environ.get("LOCALCLOUD_REGISTRY", "").strip()
    if not address:
        return ""
    host, dummy, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError("LOCALCLOUD_REGISTRY=%r is not host:port" % address)
    password_file = os.environ.get("LOCALCLOUD_REGISTRY_PASSWORD_FILE", "")
    if not password_file or not os.path.isfile(password_file):
        raise ValueError(
            "LOCALCLOUD_REGISTRY is set but LOCALCLOUD_REGISTRY_PASSWORD_FILE=%r names no file" % password_file
        )
    return address


def _registry_password():
    # Read on every use: localcloud.py may make a new one when it restarts the registry alone.
    with open(os.environ["LOCALCLOUD_REGISTRY_PASSWORD_FILE"]) as handle:
        return handle.read().strip()


def _registry_log(message):
    # The emulator's stderr is moto.log; one line per decision, never a credential.
    sys.stderr.write("localcloud registry-events: %s\n" % message)
    sys.stderr.flush()


@patch
def patch_ecr_registry_repository_uri():
    """Repositories live on the local registry: ``repositoryUri`` is ``127.0.0.1:<port>/<name>``.

    AWS: ``<account>.dkr.ecr.<region>.amazonaws.com/<name>``, a registry Docker can push to.
    moto answers the same name, which resolves to AWS (unreachable here), so nothing built
    from a repository's URI could be pushed or pulled. Only with ``LOCALCLOUD_REGISTRY`` set.
    """
    address = _registry()
    if not address:
        return
    from moto.ecr.models import Repository

    @_wrap(Repository, "__init__")
    def __init__(original, self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.uri = "%s/%s" % (address, self.name)


@patch
def patch_ecr_registry_authorization_token():
    """GetAuthorizationToken answers the local registry's credentials.

    AWS: ``authorizationToken`` is base64 ``AWS:<password>`` for the account's registry,
    ``proxyEndpoint`` that registry's https URL, ``expiresAt`` 12 hours on. moto answers a
    made-up password, an AWS host and an expiry in 2015, so ``docker login`` with them fails.
    Here: the local registry's password, ``http://127.0.0.1:<port>`` (loopback registries
    are plain HTTP to Docker), now + 12 h. Only with ``LOCALCLOUD_REGISTRY`` set.
    """
    address = _registry()
    if not address:
        return
    import base64

    from moto.core.responses import ActionResult
    from moto.ecr.responses import ECRResponse

    def get_authorization_token(self):
        registry_ids = self._get_param("registryIds") or [self.current_account]
        token = base64.b64encode(("%s:%s" % (_REGISTRY_USER, _registry_password())).encode()).decode()
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=_REGISTRY_TOKEN_HOURS)
        return ActionResult(
            {
                "authorizationData": [
                    {"authorizationToken": token, "expiresAt": expires, "proxyEndpoint": "http://" + address}
                    for dummy in registry_ids
                ]
            }
        )

    ECRResponse.get_authorization_token = get_authorization_token


def _ecr_backends_holding(repository_name):
    """Every (account, region) ECR backend that has a repository of that name.

    Iterates the dicts themselves: moto's ``[]`` would create backends as it goes.
    """
    from moto.ecr.models import ecr_backends

    found = []
    for account_id, regions in list(dict.items(ecr_backends)):
        for region, backend in list(dict.items(regions)):
            if repository_name in backend.repositories:
                found.append((account_id, region, backend))
    return found


def _fetch_manifest(address, repository_name, digest):
    """The manifest as the registry stores it: (exact bytes, media type)."""
    import base64
    import urllib.request

    credentials = base64.b64encode(("%s:%s" % (_REGISTRY_USER, _registry_password())).encode()).decode()
    request = urllib.request.Request(
        "http://%s/v2/%s/manifests/%s" % (address, repository_name, digest),
        headers={"Accept": ", ".join(_MANIFEST_MEDIA_TYPES), "Authorization": "Basic " + credentials},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    with opener.open(request, timeout=10) as response:
        return response.read(), response.headers.get_content_type()


def _import_push(address, event):
    """Put the manifest of one push event into every ECR repository of that name."""
    import hashlib

    from moto.ecr.exceptions import ImageAlreadyExistsException

    target = event.get("target") or {}
    if event.get("action") != "push" or target.get("mediaType") not in _MANIFEST_MEDIA_TYPES:
        return
    name, tag, digest = target.get("repository"), target.get("tag"), target.get("digest")
    if not tag:
        # A manifest pushed by digest alone (an index's members): AWS lists it untagged under
        # its index; the image phase pushes tags only.
        _registry_log("ignored %s@%s: pushed without a tag" % (name, digest))
        return
    holders = _ecr_backends_holding(name)
    if not holders:
        _registry_log(
            "ignored %s:%s (%s): no ECR repository named %s in any account or region; AWS would have "
            "refused the push, the local registry keeps it" % (name, tag, digest, name)
        )
        return
    manifest, media_type = _fetch_manifest(address, name, digest)
    actual = "sha256:" + hashlib.sha256(manifest).hexdigest()
    if actual != digest:
        _registry_log("ignored %s:%s: the registry served %s for %s" % (name, tag, actual, digest))
        return
    for account_id, region, backend in holders:
        with _REGISTRY_LOCK:
            try:
                backend.put_image(name, manifest.decode("utf-8"), tag, media_type, digest)
            except ImageAlreadyExistsException as error:
                known = [image for image in backend.repositories[name].images if image.image_digest == digest]
                if known and tag in known[0].image_tags:
                    _registry_log("%s:%s (%s) already in ECR %s/%s" % (name, tag, digest, account_id, region))
                else:
                    _registry_log(
                        "ECR %s/%s refused %s:%s (%s): %s; AWS would have refused the push, the local "
                        "registry keeps it" % (account_id, region, name, tag, digest, error.message)
                    )
                continue
        _registry_log("imported %s:%s (%s) into ECR %s/%s" % (name, tag, digest, account_id, region))


@patch
def patch_ecr_registry_push_events():
    """Images pushed to the local registry appear in ECR (DescribeImages, BatchGetImage, ...).

    AWS: a ``docker push`` to a repository URI is what puts the image into ECR; the image's
    digest is the sha256 of its manifest. moto's ECR has no registry behind it. Here the
    registry notifies the emulator of every push (``notifications`` in its config, POST to
    ``/_localcloud/registry-events`` on the emulator's own port); for each tagged manifest the
    emulator fetches the manifest's exact bytes from the registry and puts them, with their
    media type and digest, into the ECR repository of that name (in whichever account and
    region has one; pushes to names ECR does not have are logged and ignored). Deleting
    images through ECR does not reach the registry. ``GET /_localcloud/registry`` names the
    registry (``localcloud.py start`` checks it). Only with ``LOCALCLOUD_REGISTRY`` set.
    """
    address = _registry()
    if not address:
        return
    import json

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from werkzeug.wrappers import Request, Response

    def events(environ, start_response):
        request = Request(environ)
        if request.method != "POST":
            return Response("POST only\n", status=405)(environ, start_response)
        try:
            envelope = json.loads(request.get_data())
            notified = list(envelope["events"])
        except (ValueError, KeyError, TypeError) as error:
            return Response("not a registry notification: %s\n" % error, status=400)(environ, start_response)
        for event in notified:
            try:
                _import_push(address, event)
            except Exception:  # one bad event must not make the registry resend the others forever
                _registry_log("failed on %s:\n%s" % (json.dumps(event.get("target")), traceback.format_exc()))
        # Anything but 2xx makes the registry retry the whole batch with back-off, without end;
        # every event was handled or logged above.
        return Response("", status=200)(environ, start_response)

    def info(environ, start_response):
        body = json.dumps({"registry": address, "user": _REGISTRY_USER, "events": _REGISTRY_EVENTS_PATH})
        return Response(body + "\n", status=200, mimetype="application/json")(environ, start_response)

    # The events come from the registry, which can only tell the emulator to copy what it really
    # holds, so the route needs no credentials of its own (moto's API has none either).
    @_wrap(DomainDispatcherApplication, "__call__")
    def __call__(original, self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == _REGISTRY_EVENTS_PATH:
            return events(environ, start_response)
        if path == _REGISTRY_INFO_PATH:
            return info(environ, start_response)
        return original(self, environ, start_response)
