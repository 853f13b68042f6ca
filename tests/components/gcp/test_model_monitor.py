"""Vertex AI drift: the explicit PSI -> Jensen-Shannon conversion, and the monitoring job's provider against a
fake JobService built from the real `aiplatform_v1` types."""

from __future__ import annotations

import math

import pytest
from google.api_core.exceptions import NotFound
from google.cloud.aiplatform_v1 import types

from components.gcp.model_monitor import (
    MonitorProvider,
    js_divergence_of_mean_shift,
    js_threshold_for_psi,
)
from components.monitoring import DEFAULT_DRIFT_PSI, mean_shift_for_psi, psi_of_mean_shift


def test_js_divergence_is_bounded_by_one_and_zero_without_drift():
    assert js_divergence_of_mean_shift(0.0) == pytest.approx(0.0, abs=1e-9)
    assert js_divergence_of_mean_shift(40.0) == pytest.approx(1.0, abs=1e-6)


def test_small_shifts_match_the_closed_form_limit():
    """For small shifts JS (nats) ~ shift^2 / 8 (Fisher information of a unit normal is 1)."""
    shift = 0.05
    assert js_divergence_of_mean_shift(shift) * math.log(2) == pytest.approx(shift**2 / 8, rel=1e-2)


def test_the_default_psi_converts_at_the_same_mean_shift():
    """Both alarms fire on the same drift: the JS threshold is taken at the shift where PSI reaches 0.2."""
    shift = mean_shift_for_psi(DEFAULT_DRIFT_PSI)
    assert psi_of_mean_shift(shift) == pytest.approx(DEFAULT_DRIFT_PSI)
    assert js_threshold_for_psi(DEFAULT_DRIFT_PSI) == pytest.approx(js_divergence_of_mean_shift(shift), abs=1e-4)
    assert js_threshold_for_psi(0.1) < js_threshold_for_psi(0.2) < js_threshold_for_psi(0.25)
    assert js_threshold_for_psi(0.2) == 0.0369


class Operation:
    def __init__(self, error=None):
        self.error, self.timeouts = error, []

    def result(self, timeout=None):
        self.timeouts.append(timeout)
        if self.error:
            raise self.error


class FakeJobs:
    """JobService: one job per endpoint, as the monitoring page describes."""

    def __init__(self):
        self.jobs: dict[str, types.ModelDeploymentMonitoringJob] = {}
        self.masks: list[list[str]] = []

    def create_model_deployment_monitoring_job(self, parent, model_deployment_monitoring_job):
        job = model_deployment_monitoring_job
        if any(j.endpoint == job.endpoint for j in self.jobs.values()):
            raise RuntimeError(f"endpoint {job.endpoint} already has a monitoring job")
        job.name = f"{parent}/modelDeploymentMonitoringJobs/{len(self.jobs) + 1}"
        self.jobs[job.name] = job
        return job

    def update_model_deployment_monitoring_job(self, model_deployment_monitoring_job, update_mask):
        self.masks.append(list(update_mask.paths))
        self.jobs[model_deployment_monitoring_job.name] = model_deployment_monitoring_job
        return Operation()

    def delete_model_deployment_monitoring_job(self, name):
        if name not in self.jobs:
            raise NotFound(name)
        del self.jobs[name]
        return Operation()

    def get_model_deployment_monitoring_job(self, name):
        if name not in self.jobs:
            raise NotFound(name)
        return self.jobs[name]


def props(ids=None, emails=("oncall@example.com",)):
    return {"project": "p", "region": "europe-west4", "endpoint": "projects/p/locations/europe-west4/endpoints/1",
            "displayName": "fraud-drift", "deployedModelIds": ids or {"blue": "101"},
            "thresholds": {"worst area": 0.0369}, "intervalSeconds": 3600, "sampleRate": 1.0, "emails": list(emails),
            "notificationChannels": ["projects/p/notificationChannels/9"], "encryptionKey": "", "labels": {}}


@pytest.fixture
def jobs():
    return FakeJobs()


@pytest.fixture
def provider(jobs):
    return MonitorProvider(lambda region: jobs)


def test_create_watches_every_deployed_model_at_the_converted_threshold_and_alerts(jobs, provider):
    created = provider.create(props({"blue": "101", "green": "102"}))
    job = jobs.jobs[created.id]
    assert [c.deployed_model_id for c in job.model_deployment_monitoring_objective_configs] == ["101", "102"]
    drift = job.model_deployment_monitoring_objective_configs[0].objective_config.prediction_drift_detection_config
    assert drift.drift_thresholds["worst area"].value == pytest.approx(0.0369)
    assert list(job.model_monitoring_alert_config.email_alert_config.user_emails) == ["oncall@example.com"]
    assert list(job.model_monitoring_alert_config.notification_channels) == ["projects/p/notificationChannels/9"]
    assert job.model_deployment_monitoring_schedule_config.monitor_interval.total_seconds() == 3600


def test_a_redeployed_slot_moves_the_job_to_the_new_deployed_model(jobs, provider):
    old = provider.create(props({"blue": "101"})).outs
    new = props({"blue": "205"})
    assert provider.diff(old["jobName"], old, new).changes
    provider.update(old["jobName"], old, new)
    job = jobs.jobs[old["jobName"]]
    assert [c.deployed_model_id for c in job.model_deployment_monitoring_objective_configs] == ["205"]
    assert "model_deployment_monitoring_objective_configs" in jobs.masks[0]


def test_another_endpoint_replaces_the_job_delete_first(provider):
    """Deleting first means two jobs never watch the endpoint at once."""
    old = props()
    diff = provider.diff("job", old, {**old, "endpoint": "projects/p/locations/europe-west4/endpoints/2"})
    assert diff.replaces == ["endpoint"] and diff.delete_before_replace is True


def test_delete_and_read_of_a_gone_job(jobs, provider):
    created = provider.create(props())
    provider.delete(created.id, created.outs)
    provider.delete(created.id, created.outs)  # already gone: no error
    assert provider.read(created.id, created.outs).id == ""
