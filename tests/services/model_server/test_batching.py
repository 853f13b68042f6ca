"""Micro-batching: concurrent requests share model calls and each gets exactly its own answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from services.model_server.batching import MicroBatcher
from services.model_server.model import OnnxModel


@pytest.fixture(scope="module")
def model(artifact_dir: Path) -> OnnxModel:
    return OnnxModel.load(artifact_dir)


@pytest.mark.parametrize("in_thread", [False, True])
def test_concurrent_requests_share_calls_and_get_their_own_rows(model: OnnxModel, samples, in_thread: bool) -> None:
    x = samples[0][:60].astype(np.float64)
    calls: list[int] = []
    batcher = MicroBatcher(
        model, max_rows=64, in_thread=in_thread, observer=lambda rows, predictions, seconds: calls.append(rows.shape[0])
    )
    requests = [x[i : i + 3] for i in range(0, 60, 3)]  # 20 requests of 3 rows

    async def fire() -> list:
        return await asyncio.gather(*(batcher.predict(r) for r in requests))

    results = asyncio.run(fire())
    batcher.close()
    alone = [model.predict(r) for r in requests]
    for got, expected in zip(results, alone, strict=True):
        assert got.labels == expected.labels
        np.testing.assert_allclose(got.probabilities, expected.probabilities, rtol=1e-6)
    assert sum(calls) == 60
    assert len(calls) < len(requests), f"no batching happened: {calls}"


def test_batches_never_exceed_max_rows(model: OnnxModel, samples) -> None:
    x = samples[0][:40].astype(np.float64)
    calls: list[int] = []
    batcher = MicroBatcher(model, max_rows=8, observer=lambda rows, p, s: calls.append(rows.shape[0]))

    async def fire() -> list:
        return await asyncio.gather(*(batcher.predict(x[i : i + 2]) for i in range(0, 40, 2)))

    asyncio.run(fire())
    assert max(calls) <= 8 and sum(calls) == 40


def test_a_request_larger_than_max_rows_is_served_alone(model: OnnxModel, samples) -> None:
    batcher = MicroBatcher(model, max_rows=4)

    async def one():
        return await batcher.predict(samples[0][:10].astype(np.float64))

    result = asyncio.run(one())
    assert len(result) == 10
