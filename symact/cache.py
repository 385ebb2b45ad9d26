"""On-disk cache for results keyed by content hashes (atomic writes, corruption tolerated)."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "digest", "load_json", "store_json", "load_array", "store_array", "atomic_write_text"]


def cache_dir(kind: str) -> Path:
    root = Path(os.environ.get("SYMACT_CACHE", Path.home() / ".cache" / "symact"))
    path = root / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    """Write text to path via a temporary file in the same directory and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load_json(kind: str, key: str) -> Any | None:
    try:
        return json.loads((cache_dir(kind) / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None


def store_json(kind: str, key: str, value: Any) -> None:
    try:
        atomic_write_text(cache_dir(kind) / f"{key}.json", json.dumps(value, sort_keys=True))
    except OSError:
        pass


def load_array(kind: str, key: str, shape, dtype):
    """A cached NumPy array of that shape and dtype, or None (missing, corrupt or different)."""
    import numpy as np

    try:
        arr = np.load(cache_dir(kind) / f"{key}.npy", allow_pickle=False)
    except (OSError, ValueError):
        return None
    return arr if arr.shape == tuple(shape) and arr.dtype == np.dtype(dtype) else None


def store_array(kind: str, key: str, arr) -> None:
    """Store an array atomically (temporary file in the same directory, then os.replace)."""
    import numpy as np

    try:
        directory = cache_dir(kind)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npy", dir=directory)
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        os.replace(tmp, directory / f"{key}.npy")
    except OSError:
        pass
