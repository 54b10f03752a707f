"""SparseAE: a KL-divergence sparsity penalty on the code units."""

from numbers import Real

from sklearn.utils._param_validation import Interval

from ._base import BaseAutoencoder, fill_doc
from ._kernels import penalties


@fill_doc
class SparseAE(BaseAutoencoder):
    """Sparse autoencoder: code units in (0, 1), pushed to be rarely active.

    The code layer is a sigmoid, and the loss adds a KL-divergence penalty
    between the target activation ``rho`` and each code unit's mean
    activation over the minibatch, ``rho_hat_j``:

    .. math::

        \\text{MSE} + \\beta \\sum_j \\mathrm{KL}(\\rho \\,\\|\\, \\hat\\rho_j),
        \\quad \\mathrm{KL}(\\rho \\| q) = \\rho \\log\\frac{\\rho}{q}
        + (1 - \\rho) \\log\\frac{1 - \\rho}{1 - q}

    (plus the L2 term). The penalty, not the width, keeps the code from
    copying the input, so the code may be overcomplete
    (``n_components > n_features``): useful as a dictionary of parts-like
    features for a downstream model.

    Parameters
    ----------
    {common_parameters}
    sparsity_target : float, default=0.05
        ``rho``: the desired mean activation of each code unit, in (0, 1).

    sparsity_weight : float, default=3.0
        ``beta``: the weight of the KL penalty. ``0`` turns it off.

    Attributes
    ----------
    {common_attributes}
    See Also
    --------
    AutoencoderTransformer : The unregularised autoencoder.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseAE
    >>> X = load_digits().data[:300] / 16.0
    >>> sae = SparseAE(n_components=96, max_iter=50, random_state=0).fit(X)
    >>> codes = sae.transform(X)
    >>> codes.shape
    (300, 96)
    >>> bool(0.0 < codes.mean() < 0.2)
    True
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
    }

    _code_activation = "sigmoid"
    _linear_path = False
    _allow_overcomplete = True
    _penalty = staticmethod(penalties.kl_sparsity)

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(32, 32),
        activation="tanh",
        solver="auto",
        alpha=0.1,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=700,
        tol=1e-4,
        n_iter_no_change=50,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        verbose=False,
        warm_start=False,
        sparsity_target=0.05,
        sparsity_weight=3.0,
    ):
        super().__init__(
            n_components=n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            shuffle=shuffle,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight

    def _penalty_args(self):
        return {"sparsity_target": self.sparsity_target, "sparsity_weight": self.sparsity_weight}
