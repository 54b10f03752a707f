"""
Autoencoder instead of PCA in a classifier pipeline
===================================================

The data scientist's pipeline ``StandardScaler -> PCA -> LogisticRegression``
with the PCA step swapped for :class:`~skae.AutoencoderTransformer`, and
``n_components`` chosen by ``GridSearchCV`` on the classifier's accuracy.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

X, y = load_iris(return_X_y=True)

searches = {}
for name, reducer in [("PCA", PCA()), ("autoencoder", AutoencoderTransformer(random_state=0))]:
    pipe = Pipeline([("scale", StandardScaler()), ("reduce", reducer),
                     ("clf", LogisticRegression())])
    searches[name] = GridSearchCV(pipe, {"reduce__n_components": [1, 2]}, cv=5).fit(X, y)
    print(f"{name}: best n_components={searches[name].best_params_['reduce__n_components']}, "
          f"accuracy {searches[name].best_score_:.3f}")

# %%
# The 2-D codes of both reducers, coloured by species.
fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
X_scaled = StandardScaler().fit_transform(X)
for ax, (name, reducer) in zip(axes, [("PCA", PCA(2)),
                                      ("AutoencoderTransformer",
                                       AutoencoderTransformer(2, random_state=0))]):
    codes = reducer.fit_transform(X_scaled)
    ax.scatter(codes[:, 0], codes[:, 1], c=y, s=12, cmap="viridis")
    ax.set_title(name)
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
fig.tight_layout()
plt.show()
