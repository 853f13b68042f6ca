"""The naive serving example every tutorial shows: FastAPI + joblib + one sklearn ``predict`` per request.

Benchmark baseline for ``benchmarks/serve.py`` only; not part of the platform. Run with
``BASELINE_MODEL_PATH=model.joblib uvicorn benchmarks.baseline_server:app --port 8000``.
"""

from __future__ import annotations

import os

import joblib
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
model = joblib.load(os.environ["BASELINE_MODEL_PATH"])


class Features(BaseModel):
    """One row of input features."""

    features: list[float]


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/predict")
def predict(item: Features) -> dict[str, int]:
    prediction = model.predict([item.features])
    return {"prediction": int(prediction[0])}
