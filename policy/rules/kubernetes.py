"""Kubernetes workloads: non-root, limits, hardened containers, pinned Helm charts; plus local Docker containers."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel

from components.serving import PROD_MIN_REPLICAS
from policy.model import Resource, ResourceRule
from policy.values import UNKNOWN, as_list, get, is_true, number

POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where each workload kind keeps its pod spec."""


def pod_spec(r: Resource) -> Mapping[str, Any]:
    """The pod spec of a workload resource ({} when absent or unknown)."""
    spec = get(r.props, *POD_SPEC_PATHS.get(r.type, ("spec",)), default={})
    return spec if isinstance(spec, Mapping) else {}


def containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Init and app containers of a pod spec."""
    found = as_list(spec.get("initContainers")) + as_list(spec.get("containers"))
    return [c for c in found if isinstance(c, Mapping)]


def _runs_as_non_root(pod: Mapping[str, Any], container: Mapping[str, Any]) -> bool:
    for context in (container.get("securityContext") or {}, pod.get("securityContext") or {}):
        if not isinstance(context, Mapping):
            return True  # unknown at preview
        if "runAsNonRoot" in context:
            return is_true(context["runAsNonRoot"])
        if "runAsUser" in context:
            uid = number(context["runAsUser"])
            return uid is None or uid > 0
    return False


def non_root(r: Resource) -> Iterator[str]:
    """Every container runs as a non-root user and none is privileged."""
    spec = pod_spec(r)
    for c in containers(spec):
        name = c.get("name", "?")
        if not _runs_as_non_root(spec, c):
            yield f"container {name!r}: set securityContext.runAsNonRoot: true (or a non-zero runAsUser)"
        if get(c, "securityContext", "privileged") is True:
            yield f"container {name!r} is privileged"


def resource_limits(r: Resource) -> Iterator[str]:
    """Every container declares CPU and memory limits."""
    for c in containers(pod_spec(r)):
        limits = get(c, "resources", "limits", default={})
        if limits is UNKNOWN:
            continue
        missing = [k for k in ("cpu", "memory") if k not in limits]
        if missing:
            yield f"container {c.get('name', '?')!r} has no {' / '.join(missing)} limit"


K8S_NON_ROOT = ResourceRule(
    name="k8s-non-root",
    description="Kubernetes workloads run as non-root and unprivileged.",
    checks={t: non_root for t in POD_SPEC_PATHS},
)

K8S_LIMITS = ResourceRule(
    name="k8s-resource-limits",
    description="Kubernetes containers declare CPU and memory limits.",
    checks={t: resource_limits for t in POD_SPEC_PATHS},
)


def no_privilege_escalation(r: Resource) -> Iterator[str]:
    """Containers set allowPrivilegeEscalation: false."""
    for c in containers(pod_spec(r)):
        if get(c, "securityContext", "allowPrivilegeEscalation") is not False:
            yield f"container {c.get('name', '?')!r}: set securityContext.allowPrivilegeEscalation: false"


K8S_NO_ESCALATION = ResourceRule(
    name="k8s-no-privilege-escalation",
    description="Kubernetes containers forbid privilege escalation.",
    checks={t: no_privilege_escalation for t in POD_SPEC_PATHS},
    level=EnforcementLevel.ADVISORY,
)


def prod_replicas(r: Resource) -> Iterator[str]:
    """Production Deployments run at least two replicas (`components.serving.PROD_MIN_REPLICAS`)."""
    if r.environment != "prod":
        return
    replicas = number(get(r.props, "spec", "replicas", default=1))
    if replicas is not None and replicas < PROD_MIN_REPLICAS:
        yield f"spec.replicas is {int(replicas)} in prod; run at least {PROD_MIN_REPLICAS}"


K8S_PROD_REPLICAS = ResourceRule(
    name="k8s-prod-replicas",
    description="Production Kubernetes Deployments and StatefulSets run at least two replicas.",
    checks={"kubernetes:apps/v1:Deployment": prod_replicas, "kubernetes:apps/v1:StatefulSet": prod_replicas},
    level=EnforcementLevel.ADVISORY,
)


def docker_container_user(r: Resource) -> Iterator[str]:
    """Local Docker containers name a non-root user."""
    user = r.props.get("user")
    if user is UNKNOWN:
        return
    if not user or str(user).split(":")[0] in ("root", "0"):
        yield "user is not set to a non-root user (e.g. '10001:10001')"


DOCKER_NON_ROOT = ResourceRule(
    name="docker-containers-non-root",
    description="Local Docker containers run as a non-root user.",
    checks={"docker:index/container:Container": docker_container_user},
    level=EnforcementLevel.ADVISORY,
)

def hardened_containers(r: Resource) -> Iterator[str]:
    """Containers run on a read-only root filesystem with every Linux capability dropped."""
    for c in containers(pod_spec(r)):
        context = c.get("securityContext") or {}
        if context is UNKNOWN or not isinstance(context, Mapping):
            continue
        name = c.get("name", "?")
        if context.get("readOnlyRootFilesystem") is not True:
            yield f"container {name!r}: set securityContext.readOnlyRootFilesystem: true (mount an emptyDir to write)"
        if "ALL" not in as_list(get(context, "capabilities", "drop", default=[])):
            yield f"container {name!r}: set securityContext.capabilities.drop: [ALL]"


K8S_HARDENED = ResourceRule(
    name="k8s-hardened-containers",
    description="Kubernetes containers use a read-only root filesystem and drop all capabilities.",
    checks={t: hardened_containers for t in POD_SPEC_PATHS},
)

_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def pinned_chart(r: Resource) -> Iterator[str]:
    """A Helm release names one exact chart version (a range or no version installs whatever is newest)."""
    version = r.props.get("version")
    if version is UNKNOWN:
        return
    if not version:
        yield "no chart version: set `version` to an exact release (e.g. 1.2.3)"
    elif not _EXACT_VERSION.match(str(version)):
        yield f"chart version {version!r} is a range; pin an exact release (e.g. 1.2.3)"


K8S_PINNED_CHARTS = ResourceRule(
    name="k8s-pinned-charts",
    description="Helm releases pin an exact chart version.",
    checks={"kubernetes:helm.sh/v3:Release": pinned_chart, "kubernetes:helm.sh/v4:Chart": pinned_chart},
)

RULES = [K8S_NON_ROOT, K8S_LIMITS, K8S_NO_ESCALATION, K8S_PROD_REPLICAS, K8S_HARDENED, K8S_PINNED_CHARTS,
         DOCKER_NON_ROOT]
