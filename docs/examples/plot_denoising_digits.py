"""
Denoising handwritten digits
============================

:class:`~skae.DenoisingAE` is trained on clean digits corrupted afresh at
every step, and learns to undo the corruption. Here it cleans held-out digits
with Gaussian noise better than PCA with the same number of components.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import DenoisingAE

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
noisy = np.clip(X_test + 0.3 * np.random.RandomState(1).normal(size=X_test.shape), 0, 1)

dae = DenoisingAE(32, noise_level=0.3, max_iter=100, random_state=0).fit(X_train)
pca = PCA(32).fit(X_train)
denoised = {"DenoisingAE": dae.inverse_transform(dae.transform(noisy)),
            "PCA": pca.inverse_transform(pca.transform(noisy))}
for name, images in denoised.items():
    print(f"{name}: MSE against the clean digits {np.mean((images - X_test) ** 2):.4f}")

# %%
fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
for row, (label, images) in enumerate([("original", X_test), ("noisy", noisy),
                                       *denoised.items()]):
    for col in range(8):
        axes[row, col].imshow(images[col].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].axis("off")
    axes[row, 0].set_title(label, fontsize=8, loc="left")
fig.tight_layout()
plt.show()
