"""What the learned line and sentence models share: logistic weights over named features, loaded
from a data file, and the features that pushed one decision (for `removed.parquet` `why`)."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ..config import ConfigError

M = TypeVar("M")


def probability(weights: Sequence[float], x: Sequence[float]) -> float:
    z = sum(w * v for w, v in zip(weights, x, strict=True))
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


def why(weights: Sequence[float], x: Sequence[float], names: Sequence[str], toward: int) -> str:
    """The (at most three) features that pushed the score most in the direction of `toward` (+1 or -1)."""
    parts = sorted(((toward * w * v, name) for w, v, name in zip(weights, x, names, strict=True)
                    if name != "bias" and toward * w * v > 0), reverse=True)
    return ",".join(name for _, name in parts[:3])


def load(path: Path, names: Sequence[str], what: str, section: str, make: Callable[..., M]) -> M:
    """The model `make(weights, **settings)`: the weights in the order of `names`, the settings from the
    file's `section`; a file whose features are not these, or whose settings the model does not take,
    is a ConfigError (refit the model)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        weights = data["weights"]
        if set(weights) != set(names):
            raise ConfigError(f"{path.name}: weights must name exactly the features {', '.join(names)}")
        return make(tuple(float(weights[name]) for name in names), **data.get(section, {}))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot load the {what}: {exc}") from None
