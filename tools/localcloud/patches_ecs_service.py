"""Fidelity patches for ECS services and task definitions (moto 5.2.5), which the ecs_service role relies on.

Importing this module registers its patches with ``patches.patch``, so ``patches.apply_all()`` applies
them with the others (and ``LOCALCLOUD_DISABLE_PATCHES`` can leave them out): ``server.py`` imports it
right after ``patches``. Each patch has a test in ``tests/localcloud/test_ecs_services.py``.

ECS services and task definitions
  ``patch_ecs_service_settings``
      CreateService keeps ``capacityProviderStrategy``, ``deploymentConfiguration`` (with AWS's defaults
      filled in), ``placementStrategy``, ``placementConstraints``, ``healthCheckGracePeriodSeconds`` and
      ``enableExecuteCommand``; a service placed by a capacity provider strategy (its own, or the
      cluster's default when it names neither) has no ``launchType``; a strategy may only name providers
      attached to the cluster and excludes a launch type. moto drops all of these and reports
      ``launchType: EC2`` for every service, so ``community.aws.ecs_service`` refuses every later update
      ("not possible to change an existing service from launch_type to capacity_provider_strategy").
  ``patch_ecs_service_updates``
      UpdateService refuses to change a capacity provider strategy without ``forceNewDeployment`` (AWS's
      message), keeps the strategy's and the deployment configuration's defaults, answers with the task
      definition's ARN (moto echoes what was sent), starts a new PRIMARY deployment (``IN_PROGRESS``, no
      task running) when the task definition changes or a new deployment is forced, and no longer claims
      that ``desiredCount`` tasks run: the emulator runs none (moto sets ``runningCount`` to the desired
      count on every update).
  ``patch_ecs_describe_task_definition_latest_active``
      DescribeTaskDefinition with a family and no revision describes the family's latest ACTIVE revision,
      and fails with AWS's ``ClientException`` when none is ACTIVE (moto returns the latest revision even
      when it is INACTIVE).
"""

import copy

from patches import _wrap, patch

# DeploymentConfiguration as AWS returns it for a rolling-update service that set nothing.
_DEFAULT_DEPLOYMENT_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}

_STRATEGY_CHANGE_MESSAGE = (
    "When switching from launch type to capacity provider strategy on an existing service, or making a change "
    "to a capacity provider strategy on a service that is already using one, you must force a new deployment."
)


def _strategy(items):
    """A capacity provider strategy as AWS returns it: every item with its base and weight (default 0)."""
    return [
        {
            "capacityProvider": item["capacityProvider"],
            "weight": int(item.get("weight") or 0),
            "base": int(item.get("base") or 0),
        }
        for item in items or []
    ]


def _deployment_configuration(given):
    configuration = copy.deepcopy(_DEFAULT_DEPLOYMENT_CONFIGURATION)
    for key, value in (given or {}).items():
        if isinstance(value, dict) and isinstance(configuration.get(key), dict):
            configuration[key].update(value)
        else:
            configuration[key] = value
    return configuration


def _check_strategy(backend, cluster_str, strategy, launch_type):
    from moto.ecs.exceptions import InvalidParameterException

    if not strategy:
        return
    if launch_type:
        raise InvalidParameterException(
            "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."
        )
    cluster = backend._get_cluster(cluster_str)
    attached = set(cluster.capacity_providers or [])
    for item in strategy:
        if item.get("capacityProvider") not in attached:
            raise InvalidParameterException(
                "The specified capacity provider strategy cannot contain a capacity provider that is not associated "
                "with the cluster. Associate the capacity provider with the cluster or specify a valid capacity "
                "provider and try again."
            )


def _set_placement(service, strategy):
    """Place the service by capacity provider strategy: no launch type, in the service and its deployments."""
    service.capacity_provider_strategy = strategy
    service.launch_type = None
    for deployment in service.deployments:
        deployment["launchType"] = None
        deployment["capacityProviderStrategy"] = copy.deepcopy(strategy)
        deployment["platformFamily"] = None


@patch
def patch_ecs_service_settings():
    """CreateService keeps the placement and deployment settings AWS keeps.

    AWS: a service created with ``capacityProviderStrategy`` (or, naming neither a strategy nor a launch
    type, in a cluster with a default strategy) describes that strategy and has no ``launchType``;
    ``deploymentConfiguration`` comes back with its defaults filled in (maximumPercent 200,
    minimumHealthyPercent 100, circuit breaker off), and ``placementStrategy``, ``placementConstraints``,
    ``healthCheckGracePeriodSeconds`` and ``enableExecuteCommand`` as given. moto ignores all of them
    and says ``launchType: EC2``.
    """
    from moto.ecs.responses import EC2ContainerServiceResponse

    @_wrap(EC2ContainerServiceResponse, "create_service")
    def create_service(original, self):
        cluster_str = self._get_param("cluster", "default")
        launch_type = self._get_param("launchType")
        strategy = _strategy(self._get_param("capacityProviderStrategy"))
        _check_strategy(self.ecs_backend, cluster_str, strategy, launch_type)
        if not strategy and not launch_type:
            strategy = _strategy(self.ecs_backend._get_cluster(cluster_str).default_capacity_provider_strategy)
        result = original(self)
        service = self.ecs_backend._get_service(cluster_str, self._get_param("serviceName"))
        if strategy:
            _set_placement(service, strategy)
        service.deployment_configuration = _deployment_configuration(self._get_param("deploymentConfiguration"))
        service.placement_strategy = self._get_param("placementStrategy") or []
        service.placement_constraints = self._get_param("placementConstraints") or []
        grace = self._get_param("healthCheckGracePeriodSeconds")
        if grace is not None:
            service.health_check_grace_period_seconds = int(grace)
        service.enable_execute_command = bool(self._get_param("enableExecuteCommand", False))
        return result


@patch
def patch_ecs_service_updates():
    """UpdateService as AWS does it for the settings the ecs_service role changes.

    AWS: changing a capacity provider strategy needs ``forceNewDeployment``; the service reports its task
    definition by ARN; a new task definition, or a forced new deployment, starts a new PRIMARY deployment
    (``rolloutState`` ``IN_PROGRESS`` until its tasks run) and the old one turns ACTIVE while it drains; the
    running count is the number of tasks that run. moto accepts any strategy change, stores the task
    definition as sent, keeps the first deployment, and sets ``runningCount`` to the desired count.
    """
    from moto.ecs.responses import EC2ContainerServiceResponse
    from moto.moto_api._internal import mock_random
    from moto.core.utils import utcnow

    @_wrap(EC2ContainerServiceResponse, "update_service")
    def update_service(original, self):
        backend = self.ecs_backend
        cluster_str = self._get_param("cluster", "default")
        cluster = backend._get_cluster(cluster_str)
        service = backend._get_service(cluster_str, self._get_param("service").split("/")[-1])
        force = bool(self._get_param("forceNewDeployment", False))
        requested = self._get_param("capacityProviderStrategy")
        strategy = _strategy(requested) if requested is not None else None
        current_strategy = _strategy(getattr(service, "capacity_provider_strategy", None))
        if strategy is not None:
            from moto.ecs.exceptions import InvalidParameterException

            _check_strategy(backend, cluster_str, strategy, None)
            changed = sorted(strategy, key=lambda item: item["capacityProvider"]) != sorted(
                current_strategy, key=lambda item: item["capacityProvider"]
            )
            if (changed or service.launch_type) and not force:
                raise InvalidParameterException(_STRATEGY_CHANGE_MESSAGE)
        before = {
            "task_definition": service.task_definition,
            "running": service.running_count,
            "pending": service.pending_count,
            "configuration": getattr(service, "deployment_configuration", None),
            "cluster_running": cluster.running_tasks_count,
            "cluster_pending": cluster.pending_tasks_count,
        }

        result = original(self)

        if strategy is not None:
            _set_placement(service, strategy)
        if self._get_param("deploymentConfiguration") is not None:
            service.deployment_configuration = _deployment_configuration(self._get_param("deploymentConfiguration"))
        else:
            service.deployment_configuration = before["configuration"] or _deployment_configuration(None)
        if self._get_param("taskDefinition"):
            service.task_definition = backend.describe_task_definition(self._get_param("taskDefinition")).arn

        # No task runs in the emulator: undo moto's claim that the desired count now runs, and its
        # bookkeeping of the cluster's task counts along with it.
        service.running_count = before["running"]
        service.pending_count = max(service.desired_count - service.running_count, 0)
        cluster.running_tasks_count = before["cluster_running"]
        cluster.pending_tasks_count = before["cluster_pending"] - before["pending"] + service.pending_count

        if service.deployment_controller.get("type") == "ECS" and (
            force or service.task_definition != before["task_definition"]
        ):
            # The previous deployments have no task to drain, so they end at once, as on AWS.
            deployment_id = "ecs-svc/%d" % mock_random.randint(0, 32**12)
            now = utcnow()
            done = service.desired_count == 0
            deployment = {
                "id": deployment_id,
                "status": "PRIMARY",
                "taskDefinition": service.task_definition,
                "desiredCount": service.desired_count,
                "pendingCount": service.pending_count,
                "runningCount": 0,
                "failedTasks": 0,
                "createdAt": now,
                "updatedAt": now,
                "rolloutState": "COMPLETED" if done else "IN_PROGRESS",
                "rolloutStateReason": "ECS deployment %s %s." % (deployment_id, "completed" if done else "in progress"),
            }
            if service.launch_type:
                deployment["launchType"] = service.launch_type
            else:
                deployment["capacityProviderStrategy"] = copy.deepcopy(service.capacity_provider_strategy)
            service.deployments = [deployment]
        else:
            for deployment in service.deployments:
                if deployment.get("status") == "PRIMARY":
                    deployment["desiredCount"] = service.desired_count
                    deployment["pendingCount"] = service.pending_count
                    deployment["runningCount"] = service.running_count
                    deployment["updatedAt"] = utcnow()
        return result


@patch
def patch_ecs_describe_task_definition_latest_active():
    """DescribeTaskDefinition of a family means its latest ACTIVE revision.

    AWS: ``taskDefinition`` given as a family without a revision describes the latest ACTIVE revision of
    the family; when every revision is INACTIVE the call fails with ``ClientException: Unable to describe
    task definition.`` moto returns the highest revision whatever its status, so a family whose revisions
    were all deregistered still looks deployed.
    """
    from moto.ecs.exceptions import TaskDefinitionNotFoundException
    from moto.ecs.models import EC2ContainerServiceBackend

    @_wrap(EC2ContainerServiceBackend, "describe_task_definition")
    def describe_task_definition(original, self, task_definition_str):
        name = task_definition_str.split("/")[-1]
        if ":" in name:
            return original(self, task_definition_str)
        revisions = self.task_definitions.get(name) or {}
        active = [revision for revision, definition in revisions.items() if definition.status == "ACTIVE"]
        if not active:
            raise TaskDefinitionNotFoundException()
        return original(self, "%s:%d" % (name, max(active)))
