"""The plain autoencoder: reconstruction error plus L2 weight decay."""

from ._base import BaseAutoencoder, fill_doc


@fill_doc
class AutoencoderTransformer(BaseAutoencoder):
    """Autoencoder as a scikit-learn transformer, trained with JAX.

    An encoder network maps each row to ``n_components`` numbers and a
    mirrored decoder maps them back. Training minimises

    .. math::

        \\frac{1}{n d} \\sum_i \\lVert x_i - d(e(x_i)) \\rVert^2
        + \\frac{\\alpha}{2 n} \\sum \\lVert W \\rVert^2

    on the centred, scaled data. The encoder's output is a linear path
    initialised at PCA plus a nonlinear correction that starts at zero.
    With L-BFGS the linear path starts from the leading half of the
    principal axes (rounded up) and leaves the other code units to the
    nonlinear part, which can then unfold what PCA's projection folds onto
    itself. The full PCA network competes with the trained one at the end,
    on the held-out rows or else on the training objective, so the result
    is never worse than PCA there: use it as a drop-in for
    :class:`~sklearn.decomposition.PCA` where the data are curved.

    ``transform`` returns the code, ``inverse_transform`` the decoded
    reconstruction, ``score`` the negative reconstruction MSE.

    Parameters
    ----------
    {common_parameters}
    Attributes
    ----------
    {common_attributes}
    See Also
    --------
    sklearn.decomposition.PCA : The linear baseline.
    SparseAE, ContractiveAE, DenoisingAE : Regularised variants.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skae import AutoencoderTransformer
    >>> X = StandardScaler().fit_transform(load_iris().data)
    >>> ae = AutoencoderTransformer(n_components=2, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (150, 2)
    >>> ae.inverse_transform(ae.transform(X)).shape
    (150, 4)
    >>> ae.get_feature_names_out()
    array(['autoencodertransformer0', 'autoencodertransformer1'], dtype=object)
    """
