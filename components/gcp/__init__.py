"""Google Cloud components (`mlops:gcp:<Name>`): network, KMS, GCS, Artifact Registry, GKE, Vertex AI, monitoring."""
