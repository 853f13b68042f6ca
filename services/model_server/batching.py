"""Micro-batching: concurrent requests share one ONNX Runtime call.

Requests that arrive while the event loop is busy (or within ``max_delay``) are stacked into one
array, run once, and split back in order. With ``max_delay=0`` nothing waits on purpose: a batch is
whatever is queued when the loop gets to it, so a lone request pays no extra latency and a burst
pays one model call instead of many. ``in_thread`` moves the model call off the event loop, which
pays off for models whose run time dwarfs a thread hand-off (tens of microseconds).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from services.model_server.model import OnnxModel, Predictions

BatchObserver = Callable[[np.ndarray, Predictions, float], None]


class MicroBatcher:
    """Queues ``predict`` calls from many requests and serves them in shared model calls."""

    def __init__(
        self,
        model: OnnxModel,
        *,
        max_rows: int,
        max_delay_s: float = 0.0,
        in_thread: bool = False,
        observer: BatchObserver | None = None,
    ) -> None:
        self.model = model
        self.max_rows = max_rows
        self.max_delay_s = max_delay_s
        self.observer = observer
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference") if in_thread else None
        self._pending: list[tuple[np.ndarray, asyncio.Future[Predictions]]] = []
        self._pending_rows = 0
        self._scheduled: asyncio.Handle | asyncio.TimerHandle | None = None
        self._running = False

    def predict(self, rows: np.ndarray) -> asyncio.Future[Predictions]:
        """A future of the predictions for ``rows``, computed together with whatever else is queued."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Predictions] = loop.create_future()
        self._pending.append((rows, future))
        self._pending_rows += rows.shape[0]
        if not self._running:
            if self._pending_rows >= self.max_rows:
                self._schedule(loop, 0.0)
            elif self._scheduled is None:
                self._schedule(loop, self.max_delay_s)
        return future

    def _schedule(self, loop: asyncio.AbstractEventLoop, delay: float) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
        self._scheduled = loop.call_soon(self._flush) if delay <= 0 else loop.call_later(delay, self._flush)

    def _take(self) -> list[tuple[np.ndarray, asyncio.Future[Predictions]]]:
        """Pop queued requests up to ``max_rows`` rows (a single larger request still goes alone)."""
        taken, rows = [], 0
        while self._pending and (not taken or rows + self._pending[0][0].shape[0] <= self.max_rows):
            item = self._pending.pop(0)
            rows += item[0].shape[0]
            taken.append(item)
        self._pending_rows -= rows
        return [item for item in taken if not item[1].cancelled()]

    def _run(self, batch: np.ndarray) -> tuple[Predictions, float]:
        started = time.perf_counter()
        predictions = self.model.predict(batch)
        return predictions, time.perf_counter() - started

    def _flush(self) -> None:
        self._scheduled = None
        taken = self._take()
        if not taken:
            return
        batch = taken[0][0] if len(taken) == 1 else np.concatenate([rows for rows, _ in taken])
        if self._executor is None:
            try:
                result = self._run(batch)
            except Exception as exc:  # surfaces as a 500 on each request of the batch
                self._fail(taken, exc)
            else:
                self._deliver(taken, batch, *result)
            self._after_batch(asyncio.get_running_loop())
            return
        self._running = True
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(self._executor, self._run, batch)
        job.add_done_callback(lambda done: self._finish_threaded(loop, taken, batch, done))

    def _finish_threaded(
        self, loop: asyncio.AbstractEventLoop, taken: list, batch: np.ndarray, done: asyncio.Future
    ) -> None:
        self._running = False
        if done.exception() is not None:
            self._fail(taken, done.exception())
        else:
            self._deliver(taken, batch, *done.result())
        self._after_batch(loop)

    def _after_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._pending and self._scheduled is None:
            self._schedule(loop, 0.0)

    def _deliver(self, taken: list, batch: np.ndarray, predictions: Predictions, seconds: float) -> None:
        if self.observer is not None:
            self.observer(batch, predictions, seconds)
        if len(taken) == 1:  # a batch of one request: no slicing
            if not taken[0][1].done():
                taken[0][1].set_result(predictions)
            return
        start = 0
        for rows, future in taken:
            end = start + rows.shape[0]
            if not future.done():
                future.set_result(Predictions(predictions.labels[start:end], predictions.probabilities[start:end]))
            start = end

    @staticmethod
    def _fail(taken: list, exc: BaseException) -> None:
        for _, future in taken:
            if not future.done():
                future.set_exception(exc)

    def close(self) -> None:
        """Stop the inference thread, if any."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
