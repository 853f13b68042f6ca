"""The local stack (`cloud: local`): what `pulumi up -s local` declares on this machine's Docker, and the deploy-time
failure classes of the Docker provider encoded against the plan."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from components.alert_rules import ServiceAlerts, render_rules
from components.local.images import PLATFORM_IMAGES
from components.local.nginx_conf import render_nginx_conf
from components.local.prometheus_conf import PrometheusOptions
from components.monitoring import AlertThresholds, DriftSpec
from infra.plan.diff import IGNORED, diff_plans
from infra.plan.engine import plan_stack
from infra.plan.replacement import RULES
from infra.stackfile import PROJECT_ROOT
from infra.targets.local.preflight import local_topology
from tests.infra.test_cli import run

CONTAINER = "docker:index/container:Container"


@pytest.fixture
def local(stack_plan):
    return stack_plan("local")


def _containers(plan) -> dict[str, dict]:
    return {r["inputs"]["name"]: r for r in plan.resources if r["type"] == CONTAINER}


def _upload(container: dict, path: str) -> str:
    return next(u["content"] for u in container["inputs"]["uploads"] if u["file"] == path)


def _variant(tmp_path: Path, edit) -> Path:
    config = yaml.safe_load((PROJECT_ROOT / "Pulumi.local.yaml").read_text())
    edit(config["config"])
    path = tmp_path / "Pulumi.local.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_stack_exports_every_url_an_operator_opens(local):
    out = local.outputs
    assert out["routerUrl"] == "http://127.0.0.1:8080"
    assert out["endpoints"]["fraud-detector"] == {
        "name": "fraud-detector", "invokeUrl": "http://127.0.0.1:8080/fraud-detector/invocations",
        "weights": {"blue": 90, "green": 10},
        "slotUrls": {"blue": "http://127.0.0.1:8081", "green": "http://127.0.0.1:8082"}}
    assert (out["grafanaUrl"], out["prometheusUrl"], out["artifactStoreEndpoint"]) == (
        "http://127.0.0.1:3000", "http://127.0.0.1:9090", "http://127.0.0.1:9000")
    assert out["dashboardUrl"] == "http://127.0.0.1:3000/d/mlops-serving"
    assert "clusterName" not in out and "kubeconfig" not in out  # no cluster on a laptop
    assert out["grafanaAdminPassword"] == out["artifactStorePassword"] == "[secret]"


def test_slots_load_their_model_versions_from_the_artifact_store_through_the_s3_api(local):
    slots = {name: c for name, c in _containers(local).items() if name.startswith("mlops-dev-fraud-detector-")}
    assert sorted(slots) == ["mlops-dev-fraud-detector-blue", "mlops-dev-fraud-detector-green"]
    for slot, version in (("blue", "7"), ("green", "8")):
        inputs = slots[f"mlops-dev-fraud-detector-{slot}"]["inputs"]
        assert f"MODEL_URI=s3://mlops-dev-artifacts/models/fraud-detector/{version}/model.tar.gz" in inputs["envs"]
        assert "AWS_ENDPOINT_URL=http://minio:9000" in inputs["envs"]
        assert inputs["healthcheck"]["tests"][-1].endswith("urlopen('http://127.0.0.1:8080/ping', timeout=2)")
        assert inputs["restart"] == "unless-stopped" and inputs["healthcheck"]
        assert inputs["readOnly"] and inputs["user"] == "10001:10001" and "/tmp" in inputs["tmpfs"]
    assert not any(e.startswith("AWS_SECRET_ACCESS_KEY=") for e in inputs["envs"])  # secret: unknown in the plan


def test_the_router_runs_the_rendered_split_and_follows_the_slot_containers(local):
    router = _containers(local)["mlops-dev-router"]
    assert _upload(router, "/etc/nginx/nginx.conf") == render_nginx_conf(local_topology(_stack_cfg()))
    assert "weight=90" in _upload(router, "/etc/nginx/nginx.conf")
    slot_urns = {r["urn"] for r in local.resources if r["type"] == CONTAINER and "-slots-" in r["name"]}
    assert slot_urns <= set(router["dependencies"])
    labels = {item["label"]: item["value"] for item in router["inputs"]["labels"]}
    assert "slot-containers" in labels


def test_prometheus_loads_the_platforms_alert_rules_unchanged(local):
    """The same rules file Kubernetes gets (components/alert_rules.py), rendered from the stack's thresholds."""
    prometheus = _containers(local)["mlops-dev-prometheus"]
    cfg = _stack_cfg()
    expected = render_rules([ServiceAlerts("fraud-detector", DriftSpec(
        features=tuple(cfg.services["fraud-detector"].drift_features), threshold_psi=cfg.monitoring.drift_threshold,
        schedule=cfg.monitoring.drift_schedule))], AlertThresholds(
        error_rate_percent=cfg.monitoring.error_rate_percent, p99_latency_ms=cfg.monitoring.p99_latency_ms))
    assert _upload(prometheus, PrometheusOptions().rules_file) == expected


def test_containers_are_hardened_and_reachable_from_this_machine_only(local):
    """Every published port binds 127.0.0.1; capabilities dropped; no-new-privileges; a non-root user unless the
    image table says why not. A container that receives files keeps a writable root: Docker refuses to copy into a
    read-only rootfs ("container rootfs is marked read-only", https://github.com/moby/moby/issues/43015)."""
    root_ok = {f"mlops-dev-{role}" for role, image in (("registry", PLATFORM_IMAGES["registry"]),
                                                        ("minio", PLATFORM_IMAGES["minio"])) if image.user is None}
    for name, c in _containers(local).items():
        inputs = c["inputs"]
        assert all(p["ip"] == "127.0.0.1" for p in inputs.get("ports", [])), name
        assert inputs["capabilities"] == {"drops": ["ALL"]} and inputs["securityOpts"] == ["no-new-privileges:true"]
        assert inputs.get("user") or name in root_ok, name
        assert not (inputs.get("uploads") and inputs.get("readOnly")), name


def test_up_from_empty_does_not_wait_for_slots_whose_models_are_uploaded_after_it(local):
    """On a fresh machine the store and the slots are created by the same `pulumi up`, and models are uploaded after
    it: a slot (and the router resolving it) cannot run yet. With `must_run` the provider deletes such a container
    and fails the update ("container failed to be in running state", kreuzwerker/terraform-provider-docker
    resource_docker_container_funcs.go); without it, Docker's restart policy brings them up when the model lands.
    Platform services that need nothing uploaded are still awaited until healthy."""
    containers = _containers(local)
    waiting = sorted(n for n, c in containers.items() if c["inputs"].get("mustRun"))
    assert waiting == ["mlops-dev-alertmanager", "mlops-dev-grafana", "mlops-dev-minio", "mlops-dev-prometheus",
                       "mlops-dev-pushgateway", "mlops-dev-registry"]
    for name in ("mlops-dev-router", "mlops-dev-fraud-detector-blue", "mlops-dev-fraud-detector-green"):
        assert not containers[name]["inputs"]["mustRun"] and not containers[name]["inputs"].get("wait")
        assert containers[name]["inputs"]["restart"] == "unless-stopped"


def test_every_slot_image_exists_after_the_first_up(local):
    """RemoteImage pulls a pinned tag from the local registry; only the build tag is pushed by the stack itself, so
    the committed stack runs both slots on it (a tag the fresh registry lacks fails the pull)."""
    pulled = {r["inputs"]["name"] for r in local.resources if r["type"] == "docker:index/remoteImage:RemoteImage"}
    assert not [ref for ref in pulled if isinstance(ref, str) and ref.startswith("127.0.0.1:5000/fraud-detector:")]


def test_named_containers_are_deleted_before_their_replacement_is_created(local):
    """A container's name is fixed (peers resolve it) and force-new, as are its env, image and uploads
    (kreuzwerker/terraform-provider-docker resource_docker_container.go); creating the replacement first would fail
    with Docker's "Conflict. The container name ... is already in use"."""
    assert all(c["deleteBeforeReplace"] for c in _containers(local).values())


def test_third_party_images_are_pinned_to_exact_versions(local):
    pulled = [r["inputs"]["name"] for r in local.resources if r["type"] == "docker:index/remoteImage:RemoteImage"
              and isinstance(r["inputs"]["name"], str) and not r["inputs"]["name"].startswith("127.0.0.1:")]
    assert sorted(pulled) == sorted(image.reference for image in PLATFORM_IMAGES.values())
    assert all(":" in ref and not ref.endswith((":latest", ":2", ":alpine")) for ref in pulled)


def test_a_weight_change_replaces_the_router_and_nothing_else(local, tmp_path):
    """Uploads are force-new in the Docker provider: `pulumi up` after a weight change replaces the router
    container (a second or two without it) and leaves the slots and the store alone."""
    def shift(config):
        slots = config["mlops-platform:services"]["fraud-detector"]["slots"]
        slots["blue"]["weight"], slots["green"]["weight"] = 50, 50
    moved = plan_stack("local", config_file=_variant(tmp_path, shift))
    before, after = _containers(local), _containers(moved)
    replaced = sorted(name for name in before if RULES[CONTAINER].reasons(before[name]["inputs"],
                                                                          after[name]["inputs"]))
    assert replaced == ["mlops-dev-router"], replaced
    assert "weight=50" in _upload(after["mlops-dev-router"], "/etc/nginx/nginx.conf")


def test_a_new_model_version_replaces_that_slot_and_the_router_after_it(local, tmp_path):
    def bump(config):
        config["mlops-platform:services"]["fraud-detector"]["slots"]["green"]["modelVersion"] = "9"
    moved = _containers(plan_stack("local", config_file=_variant(tmp_path, bump)))
    before = _containers(local)
    assert RULES[CONTAINER].reasons(before["mlops-dev-fraud-detector-green"]["inputs"],
                                    moved["mlops-dev-fraud-detector-green"]["inputs"]) == ["envs", "labels"]
    assert not RULES[CONTAINER].reasons(before["mlops-dev-fraud-detector-blue"]["inputs"],
                                        moved["mlops-dev-fraud-detector-blue"]["inputs"])


@pytest.mark.parametrize(("edit", "line"), [
    (lambda c: c["mlops-platform:services"]["fraud-detector"]["slots"]["blue"].update(instanceCount=2),
     "services.fraud-detector.slots.blue.instanceCount = 2: the local platform runs one container per slot"),
    (lambda c: c["mlops-platform:services"]["fraud-detector"]["slots"]["green"].update(instanceType="ml.m5.large"),
     "services.fraud-detector.slots.green.instanceType = 'ml.m5.large': the local platform runs each slot as one "
     "container"),
])
def test_slot_shapes_the_local_platform_cannot_run_exit_2_naming_the_key(tmp_path, edit, line):
    result = run("plan", "local", "--config-file", str(_variant(tmp_path, edit)))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert line in result.stderr


def test_the_artifact_store_password_is_a_secret_the_stack_may_set(tmp_path):
    path = _variant(tmp_path, lambda c: c.update({"mlops-platform:artifactStorePassword": {"secure": "AAABAx"}}))
    plan = plan_stack("local", config_file=path)
    assert not [r for r in plan.resources if r["name"] == "artifacts-password"]  # none generated
    minio = _containers(plan)["mlops-dev-minio"]["inputs"]
    assert not any(str(e).startswith("MINIO_ROOT_PASSWORD=") for e in minio["envs"])


def _stack_cfg():
    from infra.stackfile import read_stack_config
    from infra.targets import load_platform_config

    stack = read_stack_config("local")
    return load_platform_config(stack.values, stack.source)



def test_images_are_pushed_after_the_registry_answers(local):
    """Nothing else orders a push after the registry container: the push would race registry:2's start on the
    first `pulumi up`. The repository URL is an output of the registry container, which the provider creates only
    once its health check passes (`wait`)."""
    registry = _containers(local)["mlops-dev-registry"]
    assert registry["inputs"]["wait"] and registry["inputs"]["healthcheck"]["tests"]
    for image in (r for r in local.resources if r["type"] == "docker:index/image:Image"):
        assert registry["urn"] in image["dependencies"], image["name"]


def test_the_bucket_is_created_once_minio_answers_and_kept_when_it_exists(local, tmp_path):
    """The one-shot `mc` container's own shell command, run by a real /bin/sh against a stand-in `mc` that refuses
    the first two connections (MinIO still starting): it retries, then creates the bucket with
    `--ignore-existing`, so a re-run after a replaced MinIO keeps the models already there."""
    init = _containers(local)["mlops-dev-minio-buckets"]["inputs"]
    assert init["entrypoints"] == ["/bin/sh", "-c"] and not init["mustRun"] and init["attach"]
    calls = tmp_path / "calls"
    mc = tmp_path / "mc"
    mc.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n'
                  f'[ "$1" = alias ] && [ $(grep -c alias {calls}) -le 2 ] && exit 1\nexit 0\n')
    mc.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "MINIO_ROOT_USER": "u", "MINIO_ROOT_PASSWORD": "p"}
    result = subprocess.run(["/bin/sh", "-c", init["command"][0]], env=env, capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    lines = calls.read_text().splitlines()
    assert lines[:3] == ["alias set store http://minio:9000 u p"] * 3
    assert lines[3] == "mb --ignore-existing store/mlops-dev-artifacts"


@pytest.mark.parametrize(("keep_warm", "deployed"), [(False, ["blue"]), (True, ["blue", "green"])])
def test_a_weight_zero_slot_runs_only_when_kept_warm_and_never_takes_traffic(tmp_path, keep_warm, deployed):
    def all_on_blue(config):
        service = config["mlops-platform:services"]["fraud-detector"]
        service["slots"]["blue"]["weight"], service["slots"]["green"]["weight"] = 100, 0
        service["keepWarm"] = keep_warm
    plan = plan_stack("local", config_file=_variant(tmp_path, all_on_blue))
    containers = _containers(plan)
    assert sorted(n.rsplit("-", 1)[1] for n in containers if n.startswith("mlops-dev-fraud-detector-")) == deployed
    conf = _upload(containers["mlops-dev-router"], "/etc/nginx/nginx.conf")
    assert "fraud-detector-blue:8080 weight=100" in conf and "fraud-detector-green" not in conf
    scraped = yaml.safe_load(_upload(containers["mlops-dev-prometheus"], "/etc/prometheus/prometheus.yml"))
    assert [g["labels"]["slot"] for g in scraped["scrape_configs"][0]["static_configs"]] == deployed
    assert plan.outputs["endpoints"]["fraud-detector"]["weights"] == dict.fromkeys(deployed, 0) | {"blue": 100}


def test_a_new_owner_tag_keeps_every_data_volume_and_its_data(local, tmp_path):
    """Docker volumes have no update: `labels` is ForceNew and there is no UpdateContext
    (kreuzwerker/terraform-provider-docker, internal/provider/resource_docker_volume.go). A re-tag would replace
    the artifact store's, the registry's and Prometheus's volumes under the same fixed name: the create returns
    the existing volume, then the delete of the "old" one force-removes it (the models and images are gone while
    the state says the volume exists) or, while a container mounts it, fails `pulumi up` after 30 s with "volume
    is in use" (resourceDockerVolumeDelete). The labels are therefore set at create and ignored afterwards."""
    moved = plan_stack("local", config_file=_variant(
        tmp_path, lambda c: c.update({"mlops-platform:owner": "ml-serving"})))
    changes = {c.name: c for c in diff_plans(local, moved).changed if c.type == "docker:index/volume:Volume"}
    assert sorted(changes) == ["artifacts-data", "monitoring-prometheus-data", "registry-data"], sorted(changes)
    assert {c.action for c in changes.values()} == {IGNORED}, {n: c.action for n, c in changes.items()}
