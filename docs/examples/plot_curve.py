"""
One number for a curved data set
================================

Four columns driven by one latent variable ``z``:
``[z**2, z**3, sin z, exp z]``. PCA with one component draws a straight line
through the data; an autoencoder with one code unit follows the curve.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer
from skae.datasets import make_curve

X = StandardScaler().fit_transform(make_curve(2000, random_state=0))
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)

pca = PCA(1).fit(X_train)
ae = AutoencoderTransformer(1, random_state=0).fit(X_train)
for name, model in [("PCA", pca), ("AutoencoderTransformer", ae)]:
    mse = np.mean((X_test - model.inverse_transform(model.transform(X_test))) ** 2)
    print(f"{name}: held-out MSE {mse:.4f}")

# %%
# Reconstructions of the first two columns (z^2 against z^3).
fig, ax = plt.subplots(figsize=(5, 4))
ax.scatter(X_test[:, 0], X_test[:, 1], s=6, color="lightgray", label="data")
for name, model in [("PCA(1)", pca), ("autoencoder(1)", ae)]:
    recon = model.inverse_transform(model.transform(X_test))
    ax.scatter(recon[:, 0], recon[:, 1], s=4, label=name)
ax.set_xlabel("z^2 (standardized)")
ax.set_ylabel("z^3 (standardized)")
ax.legend()
fig.tight_layout()
plt.show()
