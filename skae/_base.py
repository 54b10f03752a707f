"""BaseAutoencoder: all scikit-learn glue, written once for every variant.

A variant subclasses :class:`BaseAutoencoder`, restates the constructor (as
scikit-learn requires) and overrides one hook: the penalty added to the loss
(``_penalty`` with ``_penalty_args``) or the input corruption
(``_corruption`` with ``_corruption_args``). The training program itself
lives in :mod:`skae._kernels` and knows nothing of estimators.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._kernels import network, noise, penalties, train

# Rows per block in the NumPy forward pass: bounds the memory of transform.
INFERENCE_BLOCK_ROWS = 4096
# float32 inputs of at least this many rows take the jitted forward pass
# (see _use_jit_inference).
JIT_INFERENCE_MIN_ROWS = INFERENCE_BLOCK_ROWS
# The "auto" solver uses full-batch L-BFGS up to this many training rows.
LBFGS_MAX_SAMPLES = 20_000
# The "auto" minibatch size for Adam.
AUTO_BATCH_SIZE = 256
# early_stopping="auto" holds out a validation set once its error is a fair
# judge: 20 rows, or on wide data 5 rows holding 100 values (rows x
# features), since the error averages over every value. Without held-out rows
# only the L2 term stops a small network from fitting noise: on 150 rows of
# flat data plus noise it reached 1.3x (100 features) to 2.8x (10 features)
# PCA's held-out error, against 1.0-1.2x with these rows held out
# (benchmarks/small_data.py). Iris (12 rows of 4 features) keeps all its rows:
# held out, they cost it more than they save.
AUTO_MIN_VALIDATION_ROWS = 20
AUTO_MIN_VALIDATION_VALUES = 100
AUTO_MIN_WIDE_VALIDATION_ROWS = 5
# The accepted activation names; "logistic" is MLPRegressor's name for sigmoid.
ACTIVATION_NAMES = {"identity", "logistic", "sigmoid", "tanh", "relu", "silu"}

COMMON_PARAMETERS_DOC = """\
n_components : int, default=2
        Width of the bottleneck: the number of features ``transform``
        returns.

    hidden_layer_sizes : tuple of int, default=(32, 32)
        Widths of the encoder's hidden layers, outermost first. The decoder
        mirrors them. ``()`` gives a single-layer encoder and decoder.
        The default suits inputs of up to a few dozen features; wider inputs
        gain from wider layers (on the digits images, 64 features,
        ``(128, 64)`` lowers the held-out error by about 15% and trains 1.7
        to 3 times as long; see the user guide).

    activation : {"tanh", "relu", "silu", "logistic", "sigmoid", "identity"}, \
default="tanh"
        Activation of the hidden layers (``"logistic"`` and ``"sigmoid"``
        are the same function; ``"silu"`` is ``z * sigmoid(z)``). With
        ``"identity"`` the model is linear and reconstructs like PCA.
        ``"tanh"`` suits smooth curved data best; on image-like data
        ``"silu"`` can be better (on the digits images about 15% lower
        held-out error than tanh, on a smooth 2-D curve five times higher;
        ``benchmarks/defaults.py --activation silu``).

    solver : {"auto", "lbfgs", "adam"}, default="auto"
        Optimizer, both from optax. ``"lbfgs"`` runs full-batch L-BFGS with a
        line search and is the better choice for small data; ``"adam"`` runs
        minibatch Adam. ``"auto"`` picks L-BFGS for up to 20,000 training
        rows of deterministic training and Adam otherwise.

    alpha : float, default=0.1
        Strength of the L2 penalty on the weights, scaled as in
        :class:`~sklearn.neural_network.MLPRegressor`:
        ``0.5 * alpha * sum(W ** 2) / n_samples``, so it fades as the data
        grow. The default is stronger than MLPRegressor's, against
        overfitting on small data sets (iris-sized), though on a data set
        that small the held-out error can still exceed PCA's on some
        train/test splits (see the user guide). It is the setting most
        worth a search: ``GridSearchCV`` over 0.01, 0.1 and 1 lowers the
        held-out error of two components by 4-10% on the digits images
        (``alpha=1``) and by a quarter on a low-noise curve
        (``alpha=0.01``).

    batch_size : int or "auto", default="auto"
        Minibatch size for Adam; ``"auto"`` means ``min(256, n_samples)``.
        L-BFGS always uses the whole training set.

    learning_rate_init : float, default=1e-3
        Adam's step size. Ignored by L-BFGS, whose line search sets the step.

    max_iter : int, default=700
        Maximum number of epochs (Adam) or iterations (L-BFGS). Fits on
        small curved data sets keep improving for hundreds of L-BFGS
        iterations; 700 of them take about 2 s on 8,000 rows of 4 features
        (2 CPU cores).

    tol : float, default=1e-4
        Relative tolerance: training stops when the monitored loss has not
        improved by at least ``tol`` times its best value for
        ``n_iter_no_change`` consecutive epochs.

    n_iter_no_change : int, default=50
        Number of epochs (Adam) or iterations (L-BFGS) without a ``tol``
        improvement before stopping. Longer than MLPRegressor's 10: L-BFGS
        iterations are small steps, and training from the PCA start often
        plateaus before the nonlinear part takes off.

    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the training rows, monitor their
        reconstruction MSE instead of the training loss, and keep the weights
        of the best validation epoch (a denoiser reconstructs them from one
        fixed corrupted copy, so it is judged on denoising). The starting
        point competes too, and so does the PCA network for the estimators
        with a linear path: the kept model is never worse than PCA on the
        validation rows, and replaces it only if clearly better there (by a
        standard error). ``"auto"`` turns it on when the split leaves at
        least 20 validation rows, or at least 5 that hold 100 values (rows
        times features); fewer make a noisy choice. Off, only ``alpha``
        keeps a small network from fitting noise.

    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping=True``; it must leave
        at least 2 validation rows.

    shuffle : bool, default=True
        Whether to shuffle the rows before every Adam epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split, the shuffling
        and any corruption noise. An int gives bit-identical results on
        one machine; CPUs of another kind, or a GPU, round the matrix
        products differently, which full-batch L-BFGS amplifies into a
        somewhat different fit (see the user guide's performance notes).

    verbose : bool, default=False
        Print the loss after every epoch.

    warm_start : bool, default=False
        Continue from the weights of the previous ``fit`` instead of
        starting afresh.
"""

COMMON_ATTRIBUTES_DOC = """\
n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features,)
        Names of the features seen during ``fit``, when ``X`` had string
        column names.

    mean_ : ndarray of shape (n_features,)
        Per-feature mean of the training data, subtracted before encoding.

    scale_ : float
        One common scale the centred data are divided by before encoding (the
        root mean feature variance). A single factor keeps the loss
        proportional to the raw mean squared error, so unscaled data train
        well and the model optimises the same criterion as PCA.

    coefs_ : list of ndarray
        Weight matrices of the encoder layers followed by the decoder layers.

    intercepts_ : list of ndarray
        Bias vectors, matching ``coefs_``.

    linear_coefs_ : list of two ndarray or None
        Weights of the linear path (input to code, code to output), which
        starts at the leading principal axes; ``None`` when the variant has
        none.

    n_iter_ : int
        Number of epochs (Adam) or iterations (L-BFGS) run.

    loss_ : float
        Training loss of the last epoch, on the internally scaled data
        (reconstruction MSE plus penalties).

    loss_curve_ : list of float
        Training loss of every epoch.

    best_loss_ : float
        Smallest training loss reached.

    validation_scores_ : list of float or None
        With ``early_stopping``, the validation reconstruction MSE of every
        epoch, in the unit of ``loss_curve_`` (a loss: lower is better).

    best_validation_loss_ : float or None
        With ``early_stopping``, the validation MSE of the model kept: the
        best epoch's, the starting point's included. After training, the
        output layer is solved exactly for the rest of the network, and
        kept if that lowers this figure further; the PCA network replaces
        the result where that is not clearly better.
"""


def fill_doc(cls):
    """Substitute the shared parameter and attribute text into a docstring."""
    cls.__doc__ = cls.__doc__.replace("{common_parameters}", COMMON_PARAMETERS_DOC).replace(
        "{common_attributes}", COMMON_ATTRIBUTES_DOC
    )
    return cls


def progress_printer():
    """A training callback printing every epoch's loss, as MLPRegressor does."""
    epochs_done = 0

    def report(losses, validation_losses):
        nonlocal epochs_done
        for loss, validation_loss in zip(losses, validation_losses):
            epochs_done += 1
            line = f"Iteration {epochs_done}, loss = {loss:.8f}"
            if np.isfinite(validation_loss):
                line += f", validation MSE = {validation_loss:.8f}"
            print(line)

    return report


def row_blocks(n_rows):
    """Slices covering ``range(n_rows)`` in blocks of ``INFERENCE_BLOCK_ROWS``:
    whole-data passes work block by block, so no temporary is data-sized."""
    return [slice(start, start + INFERENCE_BLOCK_ROWS)
            for start in range(0, n_rows, INFERENCE_BLOCK_ROWS)]


def robust_scale(X, mean):
    """Root mean feature variance of ``X`` about ``mean``, safe up to
    float64's range.

    Returns 1.0 for constant data, so constant columns pass through.
    """
    if X.size == 0:
        return 1.0
    peak = max(np.max(X.max(axis=0) - mean), np.max(mean - X.min(axis=0)))
    if not np.isfinite(peak):
        raise ValueError("Input contains values too large to train on.")
    if peak == 0.0:
        return 1.0
    # Divide by the peak before squaring so huge values cannot overflow.
    sum_of_squares = 0.0
    for block in row_blocks(len(X)):
        scaled = (X[block] - mean) / peak
        sum_of_squares += np.einsum("ij,ij->", scaled, scaled)
    scale = peak * np.sqrt(sum_of_squares / X.size)
    return float(scale) if scale > 0.0 else 1.0


def within_float32(values):
    """float64 ``values`` as float32, the ones beyond float32's range set to
    its largest finite value of the same sign instead of infinity."""
    limit = np.finfo(np.float32).max
    return np.clip(values, -limit, limit).astype(np.float32)


def standardised_rows(X, rows, mean, scale):
    """``(X[rows] - mean) / scale`` as float32, computed in float64 blocks."""
    out = np.empty((len(rows), X.shape[1]), dtype=np.float32)
    for block in row_blocks(len(rows)):
        out[block] = (X[rows[block]] - mean) / scale
    return out


def linear_start_width(n_components):
    """How many principal axes the linear path starts with (full-batch
    training): half the code, rounded up. The other code units start
    unused, for the nonlinear part to shape.

    Starting from all of PCA keeps PCA's projection, and L-BFGS rarely
    undoes where that folds the data onto itself: the 1-D curve projected
    on two axes crosses itself, and a default fit from there ended at a
    held-out MSE of 3.5e-4 (median of 10 seeds), against 4.0e-5 from one
    axis. The digits with 10 components gain too (median 0.0121 to
    0.0116). The PCA network still competes at the end (see
    ``train.finish``), so a fit that cannot clearly beat it, as on linear
    data or noise, returns it.
    """
    return -(-n_components // 2)


def principal_axes(xs, n_axes):
    """Rows are the ``n_axes`` leading principal axes of centred ``xs``,
    largest variance first (of wide data, only those with nonzero variance:
    its rows span fewer directions than it has features).

    Computed in float64 from whichever Gram matrix is smaller: the
    features' covariance for tall data, the rows' inner products for wide
    data (more features than rows). Wide data would otherwise pay for a
    features x features eigendecomposition: 14 s for 5,000 features (and
    3.2 GB of memory for 20,000), where the rows' route takes 0.02 s (300
    rows, 2-core CPU).
    """
    n_rows, n_features = xs.shape
    if n_features <= n_rows:
        covariance = np.zeros((n_features, n_features))
        for block in row_blocks(n_rows):
            part = xs[block].astype(np.float64)
            covariance += part.T @ part
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        order = np.argsort(eigenvalues)[::-1][:n_axes]
        return eigenvectors[:, order].T.astype(np.float32)
    # Wide: the axes are xs.T @ u for the leading eigenvectors u of
    # xs @ xs.T, normalised. Features are taken in blocks, so no float64
    # copy of xs is made.
    features = row_blocks(n_features)
    inner_products = np.zeros((n_rows, n_rows))
    for block in features:
        part = xs[:, block].astype(np.float64)
        inner_products += part @ part.T
    eigenvalues, eigenvectors = np.linalg.eigh(inner_products)
    order = np.argsort(eigenvalues)[::-1][:n_axes]
    # Directions without variance (centring removes one) have no axis.
    tolerance = eigenvalues.max() * max(n_rows, n_features) * np.finfo(np.float64).eps
    order = order[eigenvalues[order] > tolerance]
    leading = eigenvectors[:, order].T
    axes = np.empty((len(order), n_features))
    for block in features:
        axes[:, block] = leading @ xs[:, block].astype(np.float64)
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    return axes.astype(np.float32)


class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Shared implementation of the autoencoder transformers.

    Not for direct use: see :class:`skae.AutoencoderTransformer`.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(ACTIVATION_NAMES)],
        "solver": [StrOptions({"auto", "adam", "lbfgs"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    # --- the hooks a variant overrides -----------------------------------
    #: Activation of the code layer.
    _code_activation = "identity"
    #: Whether the network has a linear path initialised at PCA.
    _linear_path = True
    #: Whether ``n_components`` may exceed ``n_features``.
    _allow_overcomplete = False
    #: Whether training pads the code layer so that nearby ``n_components``
    #: share a compiled program (see ``train.train``).
    _pad_code_width = True
    _penalty = staticmethod(penalties.no_penalty)

    def _penalty_args(self):
        """Traced hyperparameters of ``_penalty``."""
        return {}

    def _corruption(self):
        """The module-level corruption function to train with."""
        return noise.no_corruption

    def _corruption_args(self):
        """Traced hyperparameters of the corruption."""
        return {}

    # --- the scikit-learn API --------------------------------------------
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
        early_stopping="auto",
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        verbose=False,
        warm_start=False,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        early_stopping = self._resolved_early_stopping(X.shape)
        self._check_shape_parameters(X.shape, early_stopping)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        train_rows, val_rows = self._split(X.shape[0], early_stopping, rng)
        warm = self.warm_start and hasattr(self, "coefs_")
        if warm:
            self._check_warm_start_architecture(X.shape[1])
        else:
            X_train = X[train_rows]  # fancy indexing copies: do it once
            self.mean_ = X_train.mean(axis=0, dtype=np.float64)
            self.scale_ = robust_scale(X_train, self.mean_)
            del X_train
        x_train = standardised_rows(X, train_rows, self.mean_, self.scale_)
        x_val = standardised_rows(X, val_rows, self.mean_, self.scale_)
        if warm:
            params, fallback = self._network_params(np.float32), None
        else:
            params, fallback = self._init_params(x_train, rng)

        config, data = self._training_program(x_train, x_val, early_stopping)
        result = train.train(
            config,
            params,
            data,
            self._hyperparameters(x_train),
            seed,
            self.max_iter,
            on_chunk=progress_printer() if self.verbose else None,
            pad_code=self._pad_code_width,
            fallback=fallback,
        )
        self._store_result(result)
        return self

    def transform(self, X):
        """Encode ``X``: the bottleneck activations.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The codes, in the dtype of ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        return self._encode(self._validate_inference_input(X))

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from ``transform``.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The reconstruction, in the dtype of ``X``.
        """
        check_is_fitted(self)
        codes = check_array(X, dtype=[np.float64, np.float32], estimator=self, input_name="X")
        if codes.shape[1] != self.n_components:
            raise ValueError(
                f"X has {codes.shape[1]} features, but {type(self).__name__}.inverse_transform "
                f"is expecting {self.n_components} features as input (n_components)."
            )
        return self._decode(codes)

    def score_samples(self, X):
        """Per-row reconstruction quality: minus the mean squared error.

        Higher is better; rows the model reconstructs badly (outliers, data
        unlike the training set) get low scores, so this can rank anomalies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-mean((x - inverse_transform(transform(x))) ** 2)`` per row, in
            the units of ``X``.
        """
        check_is_fitted(self)
        X = self._validate_inference_input(X)
        reconstruction = self._decode(self._encode(X))
        return -np.mean((X - reconstruction) ** 2, axis=1)

    def score(self, X, y=None):
        """Mean reconstruction quality: minus the mean squared error.

        Higher is better, so model selection (``GridSearchCV`` without a
        ``scoring``) works out of the box. Beware: reconstruction alone nearly
        always prefers the widest bottleneck and the biggest network. To
        choose ``n_components`` for a downstream task, search over a
        ``Pipeline`` ending in the task's estimator (e.g. a classifier) and
        let its score decide.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            ``-mean((X - inverse_transform(transform(X))) ** 2)``.
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        """Number of features ``transform`` returns (for feature names).

        Read from the fitted weights, so it raises ``AttributeError`` (and
        ``get_feature_names_out`` raises ``NotFittedError``) before ``fit``.
        """
        return self.intercepts_[len(self.intercepts_) // 2 - 1].shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # --- fitting, step by step -------------------------------------------
    def _n_validation_rows(self, n_samples):
        return int(np.ceil(self.validation_fraction * n_samples))

    def _resolved_early_stopping(self, shape):
        if self.early_stopping != "auto":
            return bool(self.early_stopping)
        n_samples, n_features = shape
        n_val = self._n_validation_rows(n_samples)
        wide_enough = (n_val >= AUTO_MIN_WIDE_VALIDATION_ROWS
                       and n_val * n_features >= AUTO_MIN_VALIDATION_VALUES)
        return n_val >= AUTO_MIN_VALIDATION_ROWS or wide_enough

    def _check_shape_parameters(self, shape, early_stopping):
        n_samples, n_features = shape
        if not self._allow_overcomplete and self.n_components > n_features:
            raise ValueError(
                f"n_components={self.n_components} must be at most n_features={n_features} "
                f"for {type(self).__name__}: a bottleneck wider than the input can "
                "learn the identity. Use SparseAE for overcomplete codes."
            )
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        if sizes.size and (sizes.ndim != 1 or not np.issubdtype(sizes.dtype, np.integer)
                           or np.any(sizes < 1)):
            raise ValueError(
                "hidden_layer_sizes must be a tuple of positive ints, "
                f"got {self.hidden_layer_sizes!r}."
            )
        if early_stopping:
            n_val = self._n_validation_rows(n_samples)
            n_train = n_samples - n_val
            if n_val < 2 or n_train < 1:
                remedy = ("more data, a larger validation_fraction" if n_val < 2
                          else "a smaller validation_fraction")
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} of n_samples={n_samples} "
                    f"leaves {n_val} validation and {n_train} training rows; early stopping "
                    f"needs at least 2 and 1. Use {remedy} or early_stopping=False."
                )

    def _split(self, n_samples, early_stopping, rng):
        """Indices of training and validation rows."""
        if not early_stopping:
            return np.arange(n_samples), np.arange(0)
        order = rng.permutation(n_samples)
        n_val = self._n_validation_rows(n_samples)
        return np.sort(order[n_val:]), np.sort(order[:n_val])

    @property
    def _spec(self):
        activation = "sigmoid" if self.activation == "logistic" else self.activation
        return network.NetworkSpec(activation, self._code_activation)

    @property
    def _hidden_sizes(self):
        return tuple(int(s) for s in np.atleast_1d(np.asarray(self.hidden_layer_sizes, dtype=int)))

    def _check_warm_start_architecture(self, n_features):
        """Warm starting needs weights of the shapes the new fit asks for."""
        n_encoder = len(self.coefs_) // 2
        previous = (self.coefs_[0].shape[0], self._n_features_out,
                    tuple(W.shape[1] for W in self.coefs_[: n_encoder - 1]))
        requested = (n_features, self.n_components, self._hidden_sizes)
        if previous != requested:
            raise ValueError(
                "warm_start=True continues from the previous fit, which had "
                f"(n_features, n_components, hidden_layer_sizes) = {previous}; this fit "
                f"asks for {requested}. Set warm_start=False to start afresh."
            )

    def _init_params(self, x_train, rng):
        """The starting weights, and the model training must beat (``None``
        where the start is that model or there is none)."""
        axes = principal_axes(x_train, self.n_components) if self._linear_path else None
        # Minibatch (Adam) training ended a little worse from part of PCA:
        # on throughput.py's 200,000 rows (5 components), 1.5-5% higher
        # held-out MSE after 10 to 100 epochs. A denoiser is scored on
        # corrupted rows and has no training objective to compare a
        # fallback with. Both start from all of PCA.
        full_batch = self._resolved_solver(len(x_train)) == "lbfgs"
        if axes is None or not full_batch or noise.is_random(self._corruption()):
            start_axes = axes
        else:
            start_axes = axes[: linear_start_width(self.n_components)]
        params = network.init_params(
            rng, x_train.shape[1], self.n_components, self._hidden_sizes, self._spec, start_axes
        )
        if start_axes is None or len(start_axes) == len(axes):
            return params, None
        return params, network.with_linear_path(params, axes)

    def _resolved_solver(self, n_train):
        if self.solver != "auto":
            return self.solver
        # A denoiser's objective changes with every noise draw, which Adam
        # is built for: L-BFGS's denoising error on the digits was 1.05-1.13x
        # Adam's (benchmarks/variants.py).
        if n_train <= LBFGS_MAX_SAMPLES and not noise.is_random(self._corruption()):
            return "lbfgs"
        return "adam"

    def _training_program(self, x_train, x_val, early_stopping):
        """The static training configuration and the padded data."""
        n_train = len(x_train)
        solver = self._resolved_solver(n_train)
        in_batch = train.validates_in_batch(solver, early_stopping, self._corruption())
        # The rows of one batch: with in-batch validation, the validation
        # rows follow the training rows.
        x_batch = np.concatenate([x_train, x_val]) if in_batch else x_train
        if solver == "lbfgs":
            batch_size = train.padded_rows(len(x_batch))
        else:
            batch_size = AUTO_BATCH_SIZE if self.batch_size == "auto" else self.batch_size
        batch, n_batches = train.batch_layout(len(x_batch), batch_size)
        x_pad, _ = train.pad_rows(x_batch, batch * n_batches)
        rows = np.arange(len(x_pad))
        mask = (rows < n_train).astype(np.float32)
        if in_batch:
            val_pad = x_pad
            val_mask = ((rows >= n_train) & (rows < len(x_batch))).astype(np.float32)
        else:
            val_pad, val_mask = train.pad_rows(x_val, train.padded_rows(len(x_val)))
        config = train.TrainConfig(
            spec=self._spec,
            solver=solver,
            batch_size=batch,
            shuffle=bool(self.shuffle),
            early_stopping=early_stopping,
            penalty=self._penalty,
            corruption=self._corruption(),
            validation_in_batch=in_batch,
        )
        data = {"x_train": x_pad, "mask_train": mask, "x_val": val_pad, "mask_val": val_mask}
        return config, data

    def _hyperparameters(self, x_train):
        data_range = {
            "low": x_train.min(axis=0),
            "high": x_train.max(axis=0),
            "zero": within_float32(-self.mean_ / self.scale_),
        }
        return {
            "learning_rate": self.learning_rate_init,
            "alpha": self.alpha,
            "tol": self.tol,
            "n_iter_no_change": self.n_iter_no_change,
            "n_train": len(x_train),
            "penalty": self._penalty_args(),
            "corruption": {**data_range, **self._corruption_args()},
        }

    def _store_result(self, result):
        if result.diverged:
            raise ValueError(
                f"Training diverged: the loss became NaN or infinite at epoch "
                f"{len(result.loss_curve)}. Try a smaller learning_rate_init, a larger "
                "alpha, or standardising the input (e.g. StandardScaler)."
            )
        encoder, decoder = result.params["encoder"], result.params["decoder"]
        self.coefs_ = [W for W, _ in (*encoder, *decoder)]
        self.intercepts_ = [b for _, b in (*encoder, *decoder)]
        linear = result.params.get("linear")
        self.linear_coefs_ = None if linear is None else list(linear)
        if not all(np.all(np.isfinite(a)) for a in (*self.coefs_, *self.intercepts_)):
            raise ValueError(
                "Training diverged: the weights became non-finite. Try a smaller "
                "learning_rate_init or standardising the input."
            )
        self.n_iter_ = len(result.loss_curve)
        self.loss_curve_ = [float(v) for v in result.loss_curve]
        self.loss_ = self.loss_curve_[-1]
        self.best_loss_ = min(self.loss_curve_)
        if np.isfinite(result.best_validation_loss):
            self.validation_scores_ = [float(v) for v in result.validation_curve]
            self.best_validation_loss_ = result.best_validation_loss
        else:
            self.validation_scores_ = None
            self.best_validation_loss_ = None
        if not result.converged:
            warnings.warn(
                f"{type(self).__name__}: reached max_iter={self.max_iter} before the loss "
                f"stopped improving by tol={self.tol}. Consider raising max_iter.",
                ConvergenceWarning,
            )

    # --- inference ---------------------------------------------------------
    def _validate_inference_input(self, X):
        """``validate_data(reset=False)``, with a fast path for the common case.

        A float ndarray of the right width, all finite, from an estimator
        fitted without feature names, is exactly what ``validate_data`` would
        return unchanged; recognising it directly saves about 150 µs of
        dataframe detection per call, which dominates one-row ``transform``.
        Anything else goes through ``validate_data`` and its messages.
        """
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float32, np.float64)
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
            and np.isfinite(X).all()
        ):
            return X
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

    def _network_params(self, dtype):
        """The fitted weights as the kernels' parameter dict, cast to ``dtype``."""
        n_encoder = len(self.coefs_) // 2
        layers = [
            (W.astype(dtype, copy=False), b.astype(dtype, copy=False))
            for W, b in zip(self.coefs_, self.intercepts_)
        ]
        linear = self.linear_coefs_
        return {
            "encoder": layers[:n_encoder],
            "decoder": layers[n_encoder:],
            "linear": None if linear is None else tuple(
                a.astype(dtype, copy=False) for a in linear),
        }

    def _use_jit_inference(self, X):
        """Whether the jitted forward pass is the faster path for ``X``.

        Measured on the ``benchmarks/throughput.py`` network on a 2-core CPU:
        below one block (4096 rows) NumPy is faster (0.6 ms against 1.2 ms for
        1024 rows, whose block the jitted pass pads to 4096; at 2048 rows
        they are even); from one block on the jitted pass is faster (1.8x at
        4096 rows, 2.0x at 1,000,000). The program for a block compiles once
        per architecture. float64 inputs stay in NumPy to keep their
        precision.
        """
        return X.dtype == np.float32 and X.shape[0] >= JIT_INFERENCE_MIN_ROWS

    def _forward_in_blocks(self, X, out_width, numpy_fn, jit_fn, use_jit, prepare):
        """Apply a network half to ``prepare(block)`` for each block of rows
        of ``X``, so no intermediate is larger than one block."""
        out = np.empty((X.shape[0], out_width), dtype=X.dtype)
        if use_jit:
            params = self._network_params(np.float32)
            for start in range(0, X.shape[0], INFERENCE_BLOCK_ROWS):
                block = prepare(X[start : start + INFERENCE_BLOCK_ROWS])
                if len(block) < INFERENCE_BLOCK_ROWS:  # the last block: pad to the one shape
                    block = np.vstack(
                        [block, np.zeros((INFERENCE_BLOCK_ROWS - len(block), X.shape[1]),
                                         dtype=np.float32)]
                    )
                result = jit_fn(self._spec, params, block)
                n_rows = min(INFERENCE_BLOCK_ROWS, X.shape[0] - start)
                out[start : start + n_rows] = result[:n_rows]
        else:
            params = self._network_params(X.dtype)
            for start in range(0, X.shape[0], INFERENCE_BLOCK_ROWS):
                block = prepare(X[start : start + INFERENCE_BLOCK_ROWS])
                out[start : start + len(block)] = numpy_fn(self._spec, params, block, xp=np)
        return out

    def _encode(self, X, use_jit=None):
        use_jit = self._use_jit_inference(X) if use_jit is None else use_jit
        mean, scale = self.mean_.astype(X.dtype), X.dtype.type(self.scale_)
        return self._forward_in_blocks(
            X, self.n_components, network.encode, network.encode_block, use_jit,
            prepare=lambda block: (block - mean) / scale,
        )

    def _decode(self, codes, use_jit=None):
        use_jit = self._use_jit_inference(codes) if use_jit is None else use_jit
        out = self._forward_in_blocks(
            codes, self.n_features_in_, network.decode, network.decode_block, use_jit,
            prepare=lambda block: block,
        )
        out *= codes.dtype.type(self.scale_)
        out += self.mean_.astype(codes.dtype)
        return out
