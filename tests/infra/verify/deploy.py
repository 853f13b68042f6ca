"""Create in moto what `pulumi up` creates for a stack's SageMaker endpoints, from the stack's plan.

Like the provider, the plan's inputs become API calls (CreateModel, CreateEndpointConfig,
PutMetricAlarm, CreateEndpoint) in the account the test runs in (the plan's fake account id
replaced). Like a real deploy, images are in ECR first (the build tag pushed by `pulumi up`, pinned
tags pushed by earlier builds), a built slot's model names the pushed digest, and models and
configurations are named by a hash of their real content, so their names are not the plan's.
Independent of `infra.verify` on purpose: it reads the plan's raw inputs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra.plan.engine import Plan
from infra.plan.fakes import ACCOUNT_ID

Edit = Callable[[dict[str, Any]], None]
"""Changes one planned resource's inputs in place before it is deployed."""


@dataclass
class Deployment:
    """Physical names the deploy chose, by the plan's names."""

    models: dict[str, str] = field(default_factory=dict)
    configs: dict[str, str] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    """`<repository>:<tag>` -> digest ECR gave the pushed image."""

    @property
    def config(self) -> str:
        (name,) = self.configs.values()
        return name


def _hashed(planned_name: str, content: Any) -> str:
    """`<base>-<hash of content>`, as Namer.versioned names them (base: the plan's name without its hash)."""
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:8]
    return f"{planned_name.rsplit('-', 1)[0]}-{digest}"


def push(session: boto3.session.Session, image: str) -> str:
    """Push a (tiny) image `<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`; return its digest."""
    repository, tag = image.split("/", 1)[1].rsplit(":", 1)
    ecr = session.client("ecr")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                                      "digest": "sha256:" + hashlib.sha256(image.encode()).hexdigest()},
                           # moto derives the image digest from the layers': one layer per image keeps them apart
                           "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1,
                                       "digest": "sha256:" + hashlib.sha256(f"layer {image}".encode()).hexdigest()}]})
    try:
        return str(ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)["image"]["imageId"]
                   ["imageDigest"])
    except ecr.exceptions.ImageAlreadyExistsException:  # pushed by an earlier deploy
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        return str(found["imageDetails"][0]["imageDigest"])


def _exists(describe: Callable[..., Any], **name: str) -> bool:
    try:
        describe(**name)
    except ClientError as exc:
        if "Could not find" in exc.response["Error"]["Message"]:
            return False
        raise
    return True


def _alarm(inputs: dict[str, Any]) -> dict[str, Any]:
    """PutMetricAlarm arguments from a planned aws.cloudwatch.MetricAlarm."""
    def dims(d: Mapping[str, str]) -> list[dict[str, str]]:
        return [{"Name": k, "Value": v} for k, v in sorted(d.items())]

    args: dict[str, Any] = {
        "AlarmName": inputs["name"], "ComparisonOperator": inputs["comparisonOperator"],
        "EvaluationPeriods": inputs["evaluationPeriods"], "Threshold": float(inputs["threshold"]),
        "DatapointsToAlarm": inputs["datapointsToAlarm"], "TreatMissingData": inputs["treatMissingData"]}
    if "metricQueries" in inputs:
        args["Metrics"] = [{"Id": q["id"], "ReturnData": q["returnData"], **(
            {"Expression": q["expression"], "Label": q["label"]} if "expression" in q else {"MetricStat": {
                "Metric": {"Namespace": q["metric"]["namespace"], "MetricName": q["metric"]["metricName"],
                           "Dimensions": dims(q["metric"]["dimensions"])},
                "Period": q["metric"]["period"], "Stat": q["metric"]["stat"]}})} for q in inputs["metricQueries"]]
    else:
        args.update(Namespace=inputs["namespace"], MetricName=inputs["metricName"], Period=inputs["period"],
                    ExtendedStatistic=inputs["extendedStatistic"], Dimensions=dims(inputs["dimensions"]))
    return args


def deploy(session: boto3.session.Session, plan: Plan, account: str, *, edits: Mapping[str, Edit] | None = None,
           renames: Mapping[str, str] | None = None, endpoint: bool = True) -> Deployment:
    """Deploy the plan's SageMaker endpoints (and their images and rollback alarms) into moto.

    `edits` change planned inputs by resource name (e.g. an older model version); `renames` replace
    planned values the way a differently named real resource would (e.g. a bucket); `endpoint=False`
    stops before CreateEndpoint, as when an update rolled back after Pulumi created the new configuration.
    """
    text = json.dumps(plan.resources).replace(ACCOUNT_ID, account)
    for planned, deployed in (renames or {}).items():
        text = text.replace(planned, deployed)
    resources = json.loads(text)
    for resource in resources:
        if resource["name"] in (edits or {}):
            edits[resource["name"]](resource["inputs"])  # type: ignore[index]
    of_type = {t: [r["inputs"] for r in resources if r["type"] == t] for t in {r["type"] for r in resources}}
    sm, ecr, cloudwatch = session.client("sagemaker"), session.client("ecr"), session.client("cloudwatch")
    done = Deployment()

    existing = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    for repo in of_type["aws:ecr/repository:Repository"]:
        if repo["name"] not in existing:
            ecr.create_repository(repositoryName=repo["name"], imageTagMutability=repo["imageTagMutability"])
    built = {image["imageName"].rsplit(":", 1)[0]: image["imageName"] for image in of_type["docker:index/image:Image"]}
    pinned = [m["primaryContainer"]["image"] for m in of_type["aws:sagemaker/model:Model"]
              if "@" not in m["primaryContainer"]["image"]]
    done.digests = {image: push(session, image) for image in sorted(set(built.values()) | set(pinned))}

    for model in of_type["aws:sagemaker/model:Model"]:
        container = dict(model["primaryContainer"])
        repository, _, digest = container["image"].partition("@")
        if repository in built and digest and digest not in done.digests.values():  # the plan's fake digest
            container["image"] = f"{repository}@{done.digests[built[repository]]}"
        done.models[model["name"]] = name = _hashed(model["name"], container)
        if _exists(sm.describe_model, ModelName=name):  # unchanged since an earlier deploy: Pulumi keeps it
            continue
        sm.create_model(ModelName=name, ExecutionRoleArn=model["executionRoleArn"],
                        EnableNetworkIsolation=model["enableNetworkIsolation"],
                        PrimaryContainer={"Image": container["image"], "ModelDataUrl": container["modelDataUrl"],
                                          "Environment": container["environment"], "Mode": container["mode"]})
    for config in of_type["aws:sagemaker/endpointConfiguration:EndpointConfiguration"]:
        variants = [{"VariantName": v["variantName"], "ModelName": done.models[v["modelName"]],
                     "InstanceType": v["instanceType"], "InitialInstanceCount": v["initialInstanceCount"],
                     "InitialVariantWeight": float(v["initialVariantWeight"])} for v in config["productionVariants"]]
        done.configs[config["name"]] = name = _hashed(config["name"], variants)
        if _exists(sm.describe_endpoint_config, EndpointConfigName=name):
            continue
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants)

    for ep in of_type["aws:sagemaker/endpoint:Endpoint"]:
        rollback = {a["alarmName"] for a in ep["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]}
        for alarm in of_type["aws:cloudwatch/metricAlarm:MetricAlarm"]:
            if alarm["name"] in rollback:
                cloudwatch.put_metric_alarm(**_alarm(alarm))
        if endpoint:
            sm.create_endpoint(EndpointName=ep["name"], EndpointConfigName=done.configs[ep["endpointConfigName"]])
    return done
