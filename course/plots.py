"""Plot helpers the notebooks share. Each labels its axes and gives the figure a title."""

from __future__ import annotations

import numpy as np


def image_grid(images, labels=None, class_names=None, ncols: int = 10, title: str = "",
               predictions=None, size: float = 1.2):
    """Show images (N, H, W) or (N, H, W, C) in a grid, each titled with its label (and prediction)."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * 1.25 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i]
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        if labels is not None:
            name = class_names[labels[i]] if class_names is not None else str(labels[i])
            if predictions is not None:
                guess = class_names[predictions[i]] if class_names is not None else str(predictions[i])
                ax.set_title(f"{name}→{guess}", fontsize=8,
                             color="black" if predictions[i] == labels[i] else "red")
            else:
                ax.set_title(name, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def learning_curves(history, metrics=("loss",), title: str = "Learning curves", xlabel: str = "epoch"):
    """Plot training and validation curves from a Keras History or a dict of lists.

    For each metric m, plots `m` and, when present, `val_m`, one panel per metric.
    """
    import matplotlib.pyplot as plt

    curves = getattr(history, "history", history)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        for key, label in ((metric, "training"), (f"val_{metric}", "validation")):
            if key in curves:
                values = curves[key]
                ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Counts C[i, j] of examples with true class i predicted as j (int64, shape (K, K))."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    k = num_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def plot_confusion_matrix(y_true, y_pred, class_names=None, title: str = "Confusion matrix"):
    """A labelled heat map of :func:`confusion_matrix`, with the count in every cell."""
    import matplotlib.pyplot as plt

    k = len(class_names) if class_names is not None else None
    cm = confusion_matrix(y_true, y_pred, k)
    names = class_names if class_names is not None else [str(i) for i in range(len(cm))]
    fig, ax = plt.subplots(figsize=(0.55 * len(cm) + 2, 0.55 * len(cm) + 1.5))
    ax.imshow(cm, cmap="Blues")
    ax.grid(False)
    for i in range(len(cm)):
        for j in range(len(cm)):
            ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(len(cm)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(cm)), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.tight_layout()
    return fig
