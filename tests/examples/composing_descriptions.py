"""Descriptions for component attributes that have no docstring in the code (yet).

`render_composing_docs` prefers the attribute docstring; these fill the gaps, checked against the code.
A test fails when an entry becomes stale (the attribute got a docstring, or no longer exists): delete it.
"""

from __future__ import annotations

DESCRIPTIONS: dict[str, str] = {
    # Encryption
    "Encryption.key_arn": "Key ARN: pass it as `kms_key_arn` to every other component.",
    "Encryption.key_id": "Key id.",
    "Encryption.alias_name": "`alias/<prefix>-<env>-platform`.",
    # Network
    "Network.vpc_id": "VPC id.",
    "Network.vpc_cidr": "The VPC's address space (`NetworkArgs.cidr`).",
    "Network.public_subnet_ids": "One per zone: NAT gateways and internet-facing load balancers only.",
    "Network.private_subnet_ids": "One per zone: `GpuClusterArgs.subnet_ids`, `VpcArgs.subnet_ids`.",
    "Network.private_route_table_ids": "One per zone (default route through the zone's NAT).",
    "Network.endpoint_security_group_id": "The interface endpoints' security group (443 from the VPC CIDR).",
    "Network.flow_log_group_name": "KMS-encrypted flow-log group; `None` when `flow_logs=False`.",
    # ArtifactStore
    "ArtifactStore.bucket_name": "The artifact bucket: `models/`, `datasets/`, `data-capture/`, `monitoring/`.",
    "ArtifactStore.bucket_arn": "Its ARN (IAM scopes, `ModelEndpointArgs.bucket_arn`).",
    "ArtifactStore.log_bucket_name": "The access-log bucket (SSE-S3), or `None` without `access_logs`.",
    # ContainerRegistry
    "ContainerRegistry.repository_urls": "Service -> repository URL (`ServiceImageArgs.repository_url`).",
    "ContainerRegistry.repository_arns": "Service -> repository ARN (`ModelEndpointArgs.ecr_repository_arn`).",
    "ContainerRegistry.repository_names": "Service -> repository name (`<prefix>-<env>-<service>`).",
    "ContainerRegistry.registry_id": "Registry (account) id (the ECR auth token's scope).",
    # GpuCluster
    "GpuCluster.cluster_name": "Cluster name (`<prefix>-<env>-gpu`).",
    "GpuCluster.cluster_arn": "Cluster ARN.",
    "GpuCluster.cluster_endpoint": "Kubernetes API endpoint URL.",
    "GpuCluster.cluster_security_group_id": "The security group EKS created for the cluster.",
    "GpuCluster.oidc_provider_arn": "IAM OIDC provider, for IRSA trust policies.",
    "GpuCluster.oidc_issuer_url": "`https://oidc.eks.<region>.amazonaws.com/id/...`.",
    "GpuCluster.node_role_arn": "Role of both node groups.",
    "GpuCluster.gpu_instance_type": "Resolved GPU node instance type (catalog or explicit).",
    # ModelEndpoint
    "ModelEndpointArgs.namer": "Builds the names: endpoint `<prefix>-<env>-<service>`, config `...-<hash>`, "
                               "models `...-<slot>-<hash>`, role `...-<service>-sagemaker`.",
    "ModelEndpointArgs.data_capture": "Where requests and responses are captured (see `DataCaptureArgs`).",
    "ModelEndpointArgs.autoscaling": "Target tracking per deployed variant (see `AutoscalingArgs`).",
    "ModelEndpointArgs.rollout": "How a fleet replacement shifts traffic (see `RolloutSpec`).",
    "ModelEndpointArgs.vpc": "Private subnets and security groups for the models; `None` runs them without a "
                             "VPC (containers stay network-isolated either way).",
    "ModelEndpointArgs.tags": "Tags on every taggable child (`service: <service>` is added).",
    "ModelEndpoint.endpoint_name": "The endpoint's name, e.g. `mlops-prod-fraud`.",
    "ModelEndpoint.endpoint_arn": "The endpoint's ARN.",
    "ModelEndpoint.endpoint_config_name": "The current, content-versioned endpoint configuration.",
    "ModelEndpoint.invoke_url": "`https://runtime.sagemaker.<region>.amazonaws.com/endpoints/<name>/invocations`.",
    "ModelEndpoint.role_arn": "The endpoint's execution role.",
    "ModelEndpoint.data_capture_uri": "`s3://<bucket>/<capture prefix>`.",
    "ModelEndpoint.variant_weights": "Deployed variants and their weights, e.g. `{\"blue\": 90, \"green\": 10}` "
                                     "(plain values, known before deployment).",
    "ModelEndpoint.rollback_alarm_names": "Alarms wired into the endpoint's auto-rollback configuration.",
    "VpcArgs.subnet_ids": "Private subnets (`Network.private_subnet_ids`).",
    "VpcArgs.security_group_ids": "Security groups (`Network.workload_security_group_id`).",
    # Monitoring
    "MonitoringArgs.namer": "Builds the names: topic `<prefix>-<env>-alerts`, dashboard `...-serving`, alarms "
                            "`...-<service>-<variant>-<kind>`.",
    "MonitoringArgs.bucket_name": "The artifact bucket: data capture, baselines and reports.",
    "MonitoringArgs.bucket_arn": "Its ARN (scope of the Model Monitor role).",
    "MonitoringArgs.endpoints": "The endpoints to watch (see `MonitoredEndpoint`).",
    "MonitoringArgs.thresholds": "Alarm thresholds: the shared error rate and p99 latency plus the instance "
                                 "metrics' (see `AlarmThresholds`).",
    "MonitoringArgs.monitor_instance_type": "Model Monitor instance (botocore `ProcessingInstanceType`).",
    "MonitoringArgs.monitor_max_runtime_seconds": "Stopping condition of a monitoring run (1..3600).",
    "MonitoringArgs.vpc": "Run the monitoring jobs in these subnets; `None`: no VPC (network-isolated).",
    "MonitoringArgs.tags": "Tags on every taggable child.",
    "Monitoring.topic_arn": "The KMS-encrypted alert topic (e.g. for `ModelEndpointArgs.alarm_topic_arn`).",
    "Monitoring.dashboard_name": "e.g. `mlops-prod-serving`.",
    "Monitoring.dashboard_url": "CloudWatch console link to the dashboard.",
    "Monitoring.alarm_names": "The per-variant notification alarms.",
    "Monitoring.drift_alarm_names": "The Model Monitor drift alarms.",
    "Monitoring.monitoring_schedule_names": "One data-quality schedule per model-monitored endpoint.",
    "MonitoredEndpoint.service": "Service name (names the alarms, schedule and default prefixes).",
    "MonitoredEndpoint.endpoint_name": "`ModelEndpoint.endpoint_name`.",
    "MonitoredEndpoint.variants": "The deployed variants to alarm on (from `ModelEndpoint.variant_weights`).",
    "AlarmThresholds.client_error_rate_percent": "4XX errors as a share of invocations.",
    "AlarmThresholds.disk_percent": "Disk utilization.",
}
