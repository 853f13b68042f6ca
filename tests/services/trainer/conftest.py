"""Fixtures: one trained artifact per session, and moto's S3 in server mode on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.trainer import train

# A fixed revision keeps the artifact reproducible while other commits land in the same checkout.
FIXED_SHA = "0123456789abcdef0123456789abcdef01234567"



@pytest.fixture(scope="session")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo model trained once with seed 42."""
    return train(tmp_path_factory.mktemp("artifact-seed42"), seed=42, git_sha=FIXED_SHA)
