"""DenoisingAE: reconstruct clean inputs from corrupted ones."""

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAutoencoder, fill_doc, within_float32
from ._kernels import noise as noise_kernels


@fill_doc
class DenoisingAE(BaseAutoencoder):
    """Denoising autoencoder: trained to undo random corruption.

    Every minibatch is corrupted afresh, inside the compiled training
    program, and the network learns to reconstruct the *clean* rows:

    .. math::

        \\frac{1}{n d} \\sum_i \\lVert x_i - d(e(\\tilde x_i)) \\rVert^2,
        \\quad \\tilde x_i \\sim q(\\tilde x \\mid x_i)

    (plus the L2 term). ``transform``, ``inverse_transform``, ``score`` and
    ``score_samples`` never corrupt: ``inverse_transform(transform(X_noisy))``
    is a denoised ``X_noisy``.

    Parameters
    ----------
    {common_parameters}
    noise : {"gaussian", "masking", "salt_pepper"}, default="gaussian"
        The corruption ``q``: ``"gaussian"`` adds ``noise_level * N(0, 1)``
        (in the units of ``X``) and clips to the training data's range;
        ``"masking"`` sets each entry to 0 with probability ``noise_level``;
        ``"salt_pepper"`` sets each entry, with probability ``noise_level``,
        to its feature's training minimum or maximum.

    noise_level : float, default=0.1
        Standard deviation (gaussian) or probability (masking,
        salt_pepper) of the corruption.

    Attributes
    ----------
    {common_attributes}
    See Also
    --------
    ContractiveAE : Robustness from an analytic penalty instead.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAE
    >>> X = load_digits().data[:300] / 16.0
    >>> dae = DenoisingAE(n_components=16, noise="masking", noise_level=0.3,
    ...                   max_iter=20, random_state=0).fit(X)
    >>> noisy = np.where(np.random.RandomState(0).rand(*X.shape) < 0.3, 0.0, X)
    >>> dae.inverse_transform(dae.transform(noisy)).shape
    (300, 64)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "noise": [StrOptions(set(noise_kernels.CORRUPTIONS))],
        "noise_level": [Interval(Real, 0, None, closed="left")],
    }

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
        noise="gaussian",
        noise_level=0.1,
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
        self.noise = noise
        self.noise_level = noise_level

    def _corruption(self):
        return noise_kernels.CORRUPTIONS[self.noise]

    def _corruption_args(self):
        if self.noise != "gaussian" and self.noise_level > 1:
            raise ValueError(
                f"noise_level={self.noise_level} is a probability for noise={self.noise!r}; "
                "it must be at most 1."
            )
        if self.noise == "gaussian":
            # The network sees X divided by scale_, so the noise's standard
            # deviation, given in the units of X, is divided too; here in
            # float64, since data far from 1 in size put scale_ beyond float32.
            return {"noise_level": within_float32(self.noise_level / self.scale_)}
        return {"noise_level": self.noise_level}
