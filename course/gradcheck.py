"""Gradient checking with centered finite differences (cs231n style), for NumPy and TF code alike."""

from __future__ import annotations

import numpy as np


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂x by centered differences (f(x+h) - f(x-h)) / 2h, one coordinate at a time.

    `f` maps an array like `x` to a scalar; `x` is restored after each probe. Use float64: in float32
    the rounding error of f swamps the O(h²) truncation error.
    """
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = float(f(x))
        flat[i] = old - eps
        minus = float(f(x))
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b, floor: float = 1e-12) -> float:
    """max |a - b| / max(|a| + |b|, floor): ~1e-7 or less means the gradients agree in float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)))
