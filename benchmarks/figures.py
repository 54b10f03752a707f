"""Figures for benchmarks/compare.py (needs matplotlib, an optional extra)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits, load_iris  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skae import DenoisingAE  # noqa: E402

SKAE = ("AutoencoderTransformer", "SparseAE", "ContractiveAE", "DenoisingAE")


def save(fig, path, rect=None):
    """Lay out, write and close ``fig``; return its path."""
    fig.tight_layout(rect=rect)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def iris_codes(models, out):
    iris = load_iris()
    X = StandardScaler().fit_transform(iris.data)
    names = [m for m in ("PCA", *SKAE) if ("iris", 2, m) in models]
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.6))
    for ax, name in zip(axes, names):
        codes = models["iris", 2, name].transform(X)
        for label, species in enumerate(iris.target_names):
            ax.scatter(*codes[iris.target == label].T, s=12, label=species)
        ax.set_title(name)
        ax.set_xlabel("code 1")
        ax.set_ylabel("code 2")
    axes[0].legend(title="species", fontsize=8)
    fig.suptitle("Iris: 2-D codes (standardized features)")
    return save(fig, out / "iris_codes.png")


def error_by_width(rows, out):
    data_names = list(dict.fromkeys(r["data"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    colors = {method: f"C{i}" for i, method in enumerate(methods)}  # same in every panel
    fig, axes = plt.subplots(2, (len(data_names) + 1) // 2, figsize=(15, 8))
    for ax, data in zip(axes.flat, data_names):
        for method in methods:
            points = sorted((r["k"], r["mse"]) for r in rows
                            if r["data"] == data and r["method"] == method)
            if points:
                ks, mses = zip(*points)
                ax.plot(ks, np.maximum(mses, 1e-12), marker="o", label=method,
                        color=colors[method])
        ax.set_yscale("log")
        ax.set_title(data)
        ax.set_xlabel("n_components")
        ax.set_ylabel("held-out MSE (log)")
        ax.set_xticks(sorted({r["k"] for r in rows if r["data"] == data}))
    for ax in list(axes.flat)[len(data_names):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], color=colors[m], marker="o") for m in methods]
    fig.legend(handles, methods, loc="lower center", ncol=len(methods), fontsize=9)
    fig.suptitle("Held-out reconstruction error against bottleneck width")
    return save(fig, out / "error_by_width.png", rect=(0, 0.05, 1, 1))


def digits_strip(out, n_images=10, noise_level=0.3):
    X = load_digits().data / 16.0
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    noisy = np.clip(X_test + noise_level * np.random.RandomState(1).normal(size=X_test.shape),
                    0.0, 1.0)
    dae = DenoisingAE(32, noise_level=noise_level, random_state=0).fit(X_train)
    pca = PCA(32).fit(X_train)
    rows = {
        "original": X_test,
        f"noisy (sigma={noise_level})": noisy,
        "DenoisingAE(32)": dae.inverse_transform(dae.transform(noisy)),
        "PCA(32)": pca.inverse_transform(pca.transform(noisy)),
    }
    fig, axes = plt.subplots(len(rows), n_images, figsize=(n_images * 0.9, len(rows) * 1.05))
    for r, (label, images) in enumerate(rows.items()):
        mse = np.mean((images - X_test) ** 2)
        for c in range(n_images):
            ax = axes[r, c]
            ax.imshow(np.clip(images[c], 0, 1).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(f"{label}\nMSE {mse:.4f}" if r else label, rotation=0,
                              ha="right", va="center", fontsize=8)
    fig.suptitle("Digits: denoising held-out images (MSE against the originals)")
    return save(fig, out / "digits_denoising.png")


def loss_curves(models, out):
    keys = [k for k in models if k[2] in SKAE and k[0] in ("digits", "curve")]
    # Colour names the estimator and the line style the width, so that no
    # two of up to 20 curves look alike.
    colours = dict(zip(SKAE, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    styles = ["-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1))]
    fig, axes = plt.subplots(1, 2, figsize=(12, 6))
    for ax, data in zip(axes, ("curve", "digits")):
        widths = sorted({key[1] for key in keys if key[0] == data})
        for key in keys:
            if key[0] == data:
                ax.plot(models[key].loss_curve_, color=colours[key[2]],
                        linestyle=styles[widths.index(key[1]) % len(styles)],
                        label=f"{key[2]}, k={key[1]}")
        ax.set_yscale("log")
        ax.set_title(data)
        ax.set_xlabel("iteration")
        ax.set_ylabel("training loss (scaled units, log)")
        # Below the axes: with up to 20 curves a legend inside hides them.
        ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    fig.suptitle("Training loss curves")
    return save(fig, out / "loss_curves.png")


def grid_search(searches, out):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, data in zip(axes, ("iris", "digits")):
        for s in searches:
            if s["data"] == data:
                ax.plot(s["grid"], s["scores"], marker="o", label=s["method"])
        ax.set_title(f"{data}: GridSearchCV over n_components")
        ax.set_xticks(next(s["grid"] for s in searches if s["data"] == data))
        ax.set_xlabel("n_components")
        ax.set_ylabel("5-fold accuracy")
        ax.legend(fontsize=8)
    return save(fig, out / "grid_search.png")


def draw_all(rows, models, searches, out):
    return [iris_codes(models, out), error_by_width(rows, out), digits_strip(out),
            loss_curves(models, out), grid_search(searches, out)]
