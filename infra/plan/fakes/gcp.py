"""What Google Cloud computes for the resources and invokes the GCP components use."""

from __future__ import annotations

from typing import Any

from infra.plan.fakes import Ctx, digest, provider

PROJECT_NUMBER = "123456789012"


def _gcp_default(ctx: Ctx) -> dict[str, Any]:
    name = ctx.physical
    collection = ctx.type.rsplit(":", 1)[-1][0].lower() + ctx.type.rsplit(":", 1)[-1][1:] + "s"
    path = f"projects/{ctx.cloud.project}/locations/{ctx.cloud.region}/{collection}/{name}"
    return {"id": path, "name": name, "selfLink": f"https://www.googleapis.com/{path}"}


def _path(ctx: Ctx, tail: str) -> dict[str, Any]:
    path = f"projects/{ctx.cloud.project}/{tail}"
    return {"id": path, "selfLink": f"https://www.googleapis.com/{path}"}


_AGENTS = {"aiplatform.googleapis.com": "gcp-sa-aiplatform",
           "artifactregistry.googleapis.com": "gcp-sa-artifactregistry"}


def _service_identity(ctx: Ctx) -> dict[str, Any]:
    service = ctx.inputs.get("service", "")
    agent = _AGENTS.get(service, "gcp-sa-" + service.split(".")[0])
    email = f"service-{PROJECT_NUMBER}@{agent}.iam.gserviceaccount.com"
    return {"id": f"projects/{ctx.cloud.project}/services/{service}", "email": email,
            "member": f"serviceAccount:{email}"}


def _account(ctx: Ctx) -> dict[str, Any]:
    email = f"{ctx.inputs['accountId']}@{ctx.cloud.project}.iam.gserviceaccount.com"
    path = f"projects/{ctx.cloud.project}/serviceAccounts/{email}"
    return {"id": path, "name": path, "email": email, "member": f"serviceAccount:{email}",
            "uniqueId": str(int(digest(email, length=12), 16))}


def _key_ring(ctx: Ctx) -> dict[str, Any]:
    return _path(ctx, f"locations/{ctx.inputs['location']}/keyRings/{ctx.inputs['name']}")


def _crypto_key(ctx: Ctx) -> dict[str, Any]:
    return {"id": f"{ctx.inputs['keyRing']}/cryptoKeys/{ctx.inputs['name']}"}


def _cluster(ctx: Ctx) -> dict[str, Any]:
    ip = int(digest(ctx.physical, length=2), 16)
    return {**_path(ctx, f"locations/{ctx.inputs['location']}/clusters/{ctx.physical}"), "endpoint": f"34.90.0.{ip}",
            "masterAuth": {"clusterCaCertificate": "LS0tLS1CRUdJTi1wbGFuLWNh", "clientCertificateConfig": {}}}


def _endpoint(ctx: Ctx) -> dict[str, Any]:
    return {**_path(ctx, f"locations/{ctx.inputs['location']}/endpoints/{ctx.inputs['name']}"),
            "deployedModels": [], "trafficSplit": ""}


def _repository(ctx: Ctx) -> dict[str, Any]:
    path = f"projects/{ctx.cloud.project}/locations/{ctx.inputs['location']}/repositories/{ctx.inputs['repositoryId']}"
    return {"id": path, "name": ctx.inputs["repositoryId"]}


def _dashboard(ctx: Ctx) -> dict[str, Any]:
    return {"id": f"projects/{PROJECT_NUMBER}/dashboards/{digest(ctx.name, length=12)}"}


def _channel(ctx: Ctx) -> dict[str, Any]:
    path = f"projects/{ctx.cloud.project}/notificationChannels/{int(digest(ctx.name, length=12), 16)}"
    return {"id": path, "name": path}


def _policy(ctx: Ctx) -> dict[str, Any]:
    path = f"projects/{ctx.cloud.project}/alertPolicies/{int(digest(ctx.name, length=12), 16)}"
    return {"id": path, "name": path}


def _dataset(ctx: Ctx) -> dict[str, Any]:
    return {"id": f"projects/{ctx.cloud.project}/datasets/{ctx.inputs['datasetId']}",
            "datasetId": ctx.inputs["datasetId"]}


provider(
    "gcp:",
    resources={
        "gcp:projects/serviceIdentity:ServiceIdentity": _service_identity,
        "gcp:serviceaccount/account:Account": _account,
        "gcp:kms/keyRing:KeyRing": _key_ring,
        "gcp:kms/cryptoKey:CryptoKey": _crypto_key,
        "gcp:container/cluster:Cluster": _cluster,
        "gcp:vertex/aiEndpoint:AiEndpoint": _endpoint,
        "gcp:artifactregistry/repository:Repository": _repository,
        "gcp:monitoring/dashboard:Dashboard": _dashboard,
        "gcp:monitoring/notificationChannel:NotificationChannel": _channel,
        "gcp:monitoring/alertPolicy:AlertPolicy": _policy,
        "gcp:bigquery/dataset:Dataset": _dataset,
        "gcp:compute/network:Network": lambda c: _path(c, f"global/networks/{c.physical}"),
        "gcp:compute/subnetwork:Subnetwork": lambda c: _path(
            c, f"regions/{c.inputs['region']}/subnetworks/{c.physical}"),
        "gcp:compute/router:Router": lambda c: _path(c, f"regions/{c.inputs['region']}/routers/{c.physical}"),
        "gcp:compute/firewall:Firewall": lambda c: _path(c, f"global/firewalls/{c.physical}"),
        "gcp:storage/bucket:Bucket": lambda c: {"id": c.physical, "url": f"gs://{c.physical}",
                                                "selfLink": f"https://www.googleapis.com/storage/v1/b/{c.physical}"},
    },
    invokes={
        "gcp:organizations/getProject:getProject": lambda c, _: {
            "id": f"projects/{c.project}", "projectId": c.project, "number": PROJECT_NUMBER, "name": c.project},
        "gcp:organizations/getClientConfig:getClientConfig": lambda c, _: {
            "id": c.project, "project": c.project, "region": c.region, "zone": f"{c.region}-a",
            "accessToken": "plan-token"},
        "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": lambda c, _: {
            "id": c.project, "emailAddress": f"service-{PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com",
            "member": f"serviceAccount:service-{PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"},
        "gcp:bigquery/getDefaultServiceAccount:getDefaultServiceAccount": lambda c, _: {
            "id": c.project, "email": f"bq-{PROJECT_NUMBER}@bigquery-encryption.iam.gserviceaccount.com",
            "member": f"serviceAccount:bq-{PROJECT_NUMBER}@bigquery-encryption.iam.gserviceaccount.com"},
    },
    default=_gcp_default,
)
