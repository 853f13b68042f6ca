"""Azure ML model monitoring of one deployment: a data drift signal on the shared drift spec.

What Azure computes (Azure/azureml-assets, assets/model_monitoring/components/src/data_drift_compute_metrics/
numerical_data_drift_metrics.py): its `PopulationStabilityIndex` bins both datasets on shared equal-width
histogram edges and adds one to every bin count, so it is not the drift monitor's PSI over ten
baseline-quantile bins (components/monitoring.py), and its thresholds would fire at other shifts. Its
`NormalizedWassersteinDistance` is the 1-Wasserstein distance divided by the baseline's standard deviation.
Under the shared reference model (a unit-variance feature whose mean moves by `shift` standard deviations)
that distance is exactly `shift`, so the conversion is explicit and exact:
`normalized_wasserstein_for_psi(psi) = mean_shift_for_psi(psi)` (PSI 0.2 -> 0.4583).

The signal compares the deployment's collected model inputs (a rolling window) with the training features
the trainer writes next to each model version (`baseline.csv`), on the features the service lists, and
emails the stack's alert recipients when a feature crosses the threshold.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from components.monitoring import DriftSpec, mean_shift_for_psi

ml = azure.machinelearningservices
DRIFT_METRIC = "NormalizedWassersteinDistance"
RECURRENCE = {"hourly": ("Hour", 1), "daily": ("Day", 1)}
PREPROCESSOR = "azureml://registries/azureml/components/model_data_collector_preprocessor/labels/latest"
SPARK_INSTANCE = "standard_e4s_v3"
SPARK_RUNTIME = "3.4"


def normalized_wasserstein_for_psi(psi: float) -> float:
    """Azure ML's normalized Wasserstein distance at which the drift monitor's PSI reaches `psi`."""
    return round(mean_shift_for_psi(psi), 4)


def drift_schedule_properties(*, drift: DriftSpec, deployment_id: pulumi.Input[str],
                              production_data: pulumi.Input[str], reference_data: pulumi.Input[str],
                              identity_id: pulumi.Input[str], emails: list[str]) -> ml.SchedulePropertiesArgs:
    """The monitor schedule: data drift of `drift.features`, Azure's metric at the PSI-equivalent threshold."""
    frequency, interval = RECURRENCE[drift.schedule or "daily"]
    window = "P1D" if frequency == "Hour" else "P7D"
    signal = ml.DataDriftMonitoringSignalArgs(
        signal_type="DataDrift",
        features=ml.FeatureSubsetArgs(filter_type="FeatureSubset", features=list(drift.features)),
        metric_thresholds=[ml.NumericalDataDriftMetricThresholdArgs(
            data_type="Numerical", metric=DRIFT_METRIC,
            threshold=ml.MonitoringThresholdArgs(value=normalized_wasserstein_for_psi(drift.threshold_psi)))],
        production_data=ml.RollingInputDataArgs(
            input_data_type="Rolling", job_input_type="uri_folder", uri=production_data, window_offset="P0D",
            window_size=window, preprocessing_component_id=PREPROCESSOR),
        reference_data=ml.FixedInputDataArgs(input_data_type="Fixed", job_input_type="uri_file", uri=reference_data))
    definition = ml.MonitorDefinitionArgs(
        compute_configuration=ml.MonitorServerlessSparkComputeArgs(
            compute_type="ServerlessSpark", instance_type=SPARK_INSTANCE, runtime_version=SPARK_RUNTIME,
            compute_identity=ml.ManagedComputeIdentityArgs(
                compute_identity_type="ManagedIdentity",
                identity=ml.ManagedServiceIdentityArgs(type="UserAssigned", user_assigned_identities=[identity_id]))),
        monitoring_target=ml.MonitoringTargetArgs(task_type="Classification", deployment_id=deployment_id),
        signals={"data-drift": signal},
        alert_notification_settings=ml.MonitorNotificationSettingsArgs(
            email_notification_settings=ml.MonitorEmailNotificationSettingsArgs(emails=emails)) if emails else None)
    return ml.SchedulePropertiesArgs(
        action=ml.CreateMonitorActionArgs(action_type="CreateMonitor", monitor_definition=definition),
        trigger=ml.RecurrenceTriggerArgs(trigger_type="Recurrence", frequency=frequency, interval=interval,
                                         schedule=ml.RecurrenceScheduleArgs(hours=[0] if frequency == "Day" else [],
                                                                            minutes=[0])),
        display_name="data drift", is_enabled=True)
