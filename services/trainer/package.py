"""``model.tar.gz``: the model as every target's endpoint reads it, packed reproducibly.

The archive holds ``model.onnx`` and ``metadata.json`` at its top level (what the model server
needs; SageMaker unpacks it into ``/opt/ml/model``). Members are sorted, owned by root, dated
1970-01-01 and gzip carries no name or time, so the same files always give the same bytes.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

PACKED_FILES = ("metadata.json", "model.onnx")
ARCHIVE = "model.tar.gz"


def pack_model(artifact_dir: Path, name: str = ARCHIVE) -> Path:
    """Write ``artifact_dir/<name>`` from ``PACKED_FILES`` in ``artifact_dir``; return its path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member in PACKED_FILES:
            data = (artifact_dir / member).read_bytes()
            info = tarfile.TarInfo(member)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            archive.addfile(info, io.BytesIO(data))
    target = artifact_dir / name
    with target.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
        packed.write(buffer.getvalue())
    return target
