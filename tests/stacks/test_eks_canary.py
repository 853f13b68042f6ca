"""Controller mode: with a canary or linear rollout, Flagger moves traffic on the cluster and rolls back on
the model server's metrics; the platform declares the live slot's Deployment and the Canary, not the route."""

from __future__ import annotations

import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from components.k8s.canary import CANARY_PODS
from infra.config_errors import ConfigError
from infra.plan.diff import diff_plans
from infra.plan.engine import plan_stack
from infra.stackfile import PROJECT_ROOT
from tests.components.k8s.manifests import KUBERNETES_VERSION, of_kind, planned_manifests
from tests.support.tools import require_tool

NS = "mlops-platform"
CANARY = {"strategy": "canary", "canaryPercent": 10, "waitSeconds": 300}


def _stack_file(tmp_path: Path, live: str = "blue", weights: tuple[int, int] = (100, 0),
                rollout: dict | None = None) -> Path:
    doc = yaml.safe_load((PROJECT_ROOT / "Pulumi.eks-dev.yaml").read_text(encoding="utf-8"))
    service = doc["config"][f"{NS}:services"]["fraud-detector"]
    service["live"] = live
    service["slots"]["blue"]["weight"], service["slots"]["green"]["weight"] = weights
    doc["config"][f"{NS}:rollout"] = rollout or CANARY
    path = tmp_path / f"{live}-{weights[0]}" / "Pulumi.eks-dev.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def controlled(tmp_path_factory):
    return plan_stack("eks-dev", config_file=_stack_file(tmp_path_factory.mktemp("canary")))


def test_a_split_in_the_stack_file_is_rejected_when_the_controller_owns_the_weights(tmp_path):
    with pytest.raises(ConfigError) as info:
        plan_stack("eks-dev", config_file=_stack_file(tmp_path, weights=(80, 20)))
    assert [line.split(": ", 2)[1] for line in info.value.lines()] == [
        f"{NS}:services.fraud-detector.slots.green.weight = 20"]
    assert "Flagger moves the traffic" in info.value.lines()[0]


def test_the_controller_routes_and_the_platform_declares_no_route(controlled):
    assert of_kind(controlled, "HTTPRoute") == []
    (release,) = [r["inputs"] for r in controlled.resources if r["type"] == "kubernetes:helm.sh/v3:Release"
                  and r["inputs"]["chart"] == "flagger"]
    assert release["version"] == "1.44.0" and release["values"]["meshProvider"] == "gatewayapi:v1"
    assert release["values"]["metricsServer"] == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"


def test_the_canary_steps_and_gates_come_from_the_shared_specs(controlled):
    (canary,) = of_kind(controlled, "Canary")
    analysis = canary["spec"]["analysis"]
    assert analysis["stepWeights"] == [10]  # traffic_steps("canary", 10) = (10, 100); 100 is the promotion
    assert analysis["interval"] == "300s"  # rollout.waitSeconds
    assert {m["name"]: m["thresholdRange"]["max"] for m in analysis["metrics"]} == {
        "error-rate": 1.0, "latency-p99": 1000}  # monitoring.errorRatePercent / p99LatencyMs defaults
    assert canary["spec"]["targetRef"]["name"] == canary["spec"]["autoscalerRef"]["name"] == "fraud-detector"
    assert canary["spec"]["service"]["gatewayRefs"] == [{"name": "mlops", "namespace": "envoy-gateway-system"}]


def test_the_target_deployment_runs_the_live_slot_and_is_awaited_by_flagger(controlled):
    (deployment,) = of_kind(controlled, "Deployment")
    assert deployment["metadata"]["name"] == "fraud-detector"
    assert deployment["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    assert deployment["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "fraud-detector"}}
    env = {e["name"]: e["value"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MODEL_VERSION"] == "7"


def test_flipping_live_is_an_in_place_update_that_starts_an_analysis(controlled, tmp_path):
    """A replaced Deployment would be a new target, promoted without analysis: the selector names no slot."""
    flipped = plan_stack("eks-dev", config_file=_stack_file(tmp_path, live="green", weights=(0, 100)))
    diff = diff_plans(controlled, flipped)
    assert (diff.added, diff.removed) == ([], [])
    changed = {(c.type.split(":")[-1], c.action) for c in diff.changed}
    assert ("Deployment", "update") in changed and all(action == "update" for _, action in changed)


def test_built_in_objects_validate_in_controller_mode(controlled):
    for manifest in planned_manifests(controlled):
        if "/" not in manifest["apiVersion"] or manifest["apiVersion"].split("/")[0] in (
                "apps", "autoscaling", "policy", "networking.k8s.io"):
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_the_metric_queries_are_promql(controlled, tmp_path):
    """Flagger substitutes its variables, then Prometheus parses the query: promtool checks the result."""
    filled = {"{{ namespace }}": "fraud-detector", "{{ target }}": "fraud-detector", "{{ interval }}": "1m"}
    rules = []
    for template in of_kind(controlled, "MetricTemplate"):
        query = template["spec"]["query"]
        for var, value in filled.items():
            query = query.replace(var, value)
        rules.append({"record": f"canary:{template['metadata']['name'].replace('-', '_')}", "expr": query})
    assert len(rules) == 2 and all(CANARY_PODS.split(",")[1].split("=~")[0] in r["expr"] for r in rules)
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "canary", "rules": rules}]}), encoding="utf-8")
    result = subprocess.run([require_tool("promtool"), "check", "rules", str(path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def _filled(template: dict) -> str:
    query = template["spec"]["query"]
    for var, value in {"{{ namespace }}": "fraud-detector", "{{ target }}": "fraud-detector",
                       "{{ interval }}": "1m"}.items():
        query = query.replace(var, value)
    return query


def test_a_canary_without_traffic_passes_its_checks_and_a_failing_one_does_not(controlled, tmp_path):
    """Flagger counts a query that returns nothing as a failed check ("Halt advancement no values found for custom
    metric", fluxcd/flagger pkg/controller/scheduler_metrics.go) and rolls back after `threshold` of them: on an
    idle service (dev, a quiet night) every new model version would be rolled back; and a healthy canary has no
    5XX series at all (a labelled counter exists once observed), so its error rate was "no values" too. 0/0
    (pods that served no prediction) is NaN, which no `max` threshold passes either. The platform's SageMaker
    guardrails treat missing data as not breaching (components/aws/endpoint_alarms.py), and the queries here do
    the same: no traffic reads 0, traffic is judged, and the primary's pods never count for the canary.
    Checked by `promtool test rules`."""
    queries = {t["metadata"]["name"]: _filled(t) for t in of_kind(controlled, "MetricTemplate")}
    pods = {"canary": 'pod="fraud-detector-5d8f7-x2x9k"', "primary": 'pod="fraud-detector-primary-6c9d-abcde"'}

    def series(pod: str, status: str, values: str) -> dict:
        return {"series": f'model_server_requests_total{{namespace="fraud-detector",{pods[pod]},'
                          f'route="/invocations",status="{status}"}}', "values": values}

    def bucket(pod: str, le: str, values: str) -> dict:
        return {"series": f'model_server_request_duration_seconds_bucket{{namespace="fraud-detector",{pods[pod]},'
                          f'route="/invocations",le="{le}"}}', "values": values}

    def expect(name: str, value: float) -> dict:
        return {"expr": queries[name], "eval_time": "5m", "exp_samples": [{"labels": "{}", "value": value}]}

    idle = [series("canary", "200", "0+0x10"), series("primary", "500", "0+60x10"),
            bucket("canary", "0.1", "0+0x10"), bucket("canary", "+Inf", "0+0x10")]
    healthy = [series("canary", "200", "0+60x10"), bucket("canary", "0.1", "0+60x10"),
               bucket("canary", "+Inf", "0+60x10")]
    failing = [series("canary", "200", "0+30x10"), series("canary", "500", "0+30x10"),
               bucket("canary", "0.1", "0+0x10"), bucket("canary", "2", "0+60x10"), bucket("canary", "+Inf", "0+60x10")]
    tests = [{"interval": "1m", "input_series": [], "promql_expr_test": [expect("error-rate", 0),
                                                                           expect("latency-p99", 0)]},
             {"interval": "1m", "input_series": idle, "promql_expr_test": [expect("error-rate", 0),
                                                                             expect("latency-p99", 0)]},
             {"interval": "1m", "input_series": healthy, "promql_expr_test": [expect("error-rate", 0),
                                                                               expect("latency-p99", 99)]},
             {"interval": "1m", "input_series": failing, "promql_expr_test": [expect("error-rate", 50),
                                                                                expect("latency-p99", 1981)]}]
    (tmp_path / "none.yml").write_text("groups: []\n", encoding="utf-8")
    spec = tmp_path / "canary_test.yml"
    spec.write_text(yaml.safe_dump({"rule_files": ["none.yml"], "evaluation_interval": "1m", "tests": tests}),
                    encoding="utf-8")
    result = subprocess.run([require_tool("promtool"), "test", "rules", str(spec)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_switching_rollout_mode_shares_no_object_with_what_flagger_generates(controlled, stack_plan):
    """Flagger names its HTTPRoute after the Canary's target (`<service>`) and, when one by that name exists, takes
    it over with an Update and no owner reference (fluxcd/flagger pkg/router/gateway_api.go, Reconcile). A platform
    route of the same name made a mode switch break: all-at-once -> canary, `pulumi up` deletes the route it
    declared last, i.e. the one Flagger now routes with (no route until Flagger's next reconcile); canary ->
    all-at-once, the server-side apply of the platform's route conflicts with Flagger's fields and fails. The
    platform's objects in weighted mode therefore never carry a name Flagger generates."""
    flagger_names = {f"fraud-detector{suffix}" for suffix in ("", "-primary", "-canary")}
    weighted = [m for m in planned_manifests(stack_plan("eks-dev"))
                if m["metadata"].get("namespace") == "fraud-detector" and m["kind"] in ("HTTPRoute", "Service",
                                                                                        "Deployment")]
    assert weighted and not {m["metadata"]["name"] for m in weighted} & flagger_names
    assert of_kind(controlled, "HTTPRoute") == []
