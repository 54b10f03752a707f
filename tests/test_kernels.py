"""The pure JAX kernels: forward pass, closed-form Jacobian, masks, noise."""

import subprocess
import sys
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skae._kernels import backend, network, noise, penalties, train


def random_params(n_features, hidden, n_components, spec, seed, linear=False):
    rng = np.random.RandomState(seed)
    params = network.init_params(rng, n_features, n_components, hidden, spec)
    # Non-zero biases and larger weights so every activation regime is hit.
    params["encoder"] = [(2 * W, rng.normal(size=b.shape).astype(np.float32))
                         for W, b in params["encoder"]]
    if linear:
        S = rng.normal(size=(n_features, n_components)).astype(np.float32)
        params["linear"] = (S, S.T.copy())
    return params


@pytest.mark.parametrize("activation", network.ACTIVATIONS)
@pytest.mark.parametrize(
    "hidden, linear",
    [((), False), ((7,), False), ((7, 5), False), ((4, 5), False), ((), True), ((7,), True),
     ((4,), True)],
    ids=["one-layer", "two-layer", "three-layer", "narrow-first-layer", "one-layer+linear",
         "two-layer+linear", "narrow-first-layer+linear"],
)
def test_closed_form_jacobian_matches_autodiff(activation, hidden, linear):
    # 6 features: a first layer of 4 units takes the Gram-matrix route of
    # penalties._frobenius_sq_through, one of 7 the explicit product.
    spec = network.NetworkSpec(activation=activation, code_activation=activation)
    params = random_params(6, hidden, 3, spec, seed=1, linear=linear)
    x = jnp.asarray(np.random.RandomState(2).normal(size=(20, 6)), dtype=jnp.float32)

    closed = penalties.encoder_jacobian_frobenius_sq(spec, params, x)

    def encode_row(row):
        return network.encode(spec, params, row[None])[0]

    jacobians = jax.vmap(jax.jacfwd(encode_row))(x)
    expected = jnp.sum(jacobians**2, axis=(1, 2))
    assert_allclose(np.asarray(closed), np.asarray(expected), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation", network.ACTIVATIONS)
def test_numpy_and_jax_forward_pass_agree(activation):
    spec = network.NetworkSpec(activation, "sigmoid")
    params = random_params(5, (8, 4), 2, spec, seed=0, linear=True)
    x = np.random.RandomState(0).normal(size=(30, 5)).astype(np.float32)
    code_np = network.encode(spec, params, x, xp=np)
    code_jax = network.encode(spec, params, jnp.asarray(x))
    assert_allclose(code_np, np.asarray(code_jax), rtol=1e-5, atol=1e-6)
    assert_allclose(network.decode(spec, params, code_np, xp=np),
                    np.asarray(network.decode(spec, params, code_jax)), rtol=1e-5, atol=1e-5)


def test_training_layout_transposes_tall_weights_and_computes_the_same():
    spec = network.NetworkSpec("tanh", "identity")
    params = random_params(6, (8, 8), 3, spec, seed=0, linear=True)
    stored = network.training_layout(params)
    # Held transposed: 8 -> 3 and S (6 x 3), at least twice as tall as
    # wide. Kept: the wide 6 -> 8, 3 -> 8 and T, the square 8 -> 8 and the
    # barely tall 8 -> 6.
    kept = [not isinstance(W, network.Transposed)
            for W, _ in (*stored["encoder"], *stored["decoder"])]
    assert kept == [True, True, False, True, True, True]
    assert [isinstance(a, network.Transposed) for a in stored["linear"]] == [True, False]
    assert_array_equal(stored["encoder"][2][0].stored, params["encoder"][2][0].T)
    jax.tree.map(assert_array_equal, network.plain_layout(stored), params)

    x = np.random.RandomState(0).normal(size=(30, 6)).astype(np.float32)
    code = network.encode(spec, params, jnp.asarray(x))
    assert_allclose(network.encode(spec, stored, jnp.asarray(x)), code, rtol=1e-6, atol=1e-6)
    assert_allclose(network.encode(spec, stored, x, xp=np), code, rtol=1e-5, atol=1e-5)
    assert_allclose(network.decode(spec, stored, code), network.decode(spec, params, code),
                    rtol=1e-6, atol=1e-6)
    assert_allclose(network.weight_sum_of_squares(stored),
                    network.weight_sum_of_squares(params), rtol=1e-6)

    # The gradient with respect to a held-transposed weight is the
    # transpose of the plain weight's gradient.
    def loss(p):
        reconstruction = network.decode(spec, p, network.encode(spec, p, jnp.asarray(x)))
        return jnp.mean((reconstruction - x) ** 2) + network.weight_sum_of_squares(p)

    grad_stored = network.plain_layout(jax.grad(loss)(stored))
    jax.tree.map(partial(assert_allclose, rtol=1e-5, atol=1e-6), grad_stored,
                 jax.grad(loss)(params))


def test_jitted_products_keep_float32_precision_at_digits_width():
    # At digits' size (1,536 rows, 64 features and units) a float32 product
    # at XLA's default precision had a relative error of 2.9e-4 on an H100,
    # which rounds its operands to TensorFloat-32; at full precision 1.4e-7.
    spec = network.NetworkSpec("tanh", "identity")
    params = random_params(64, (64,), 10, spec, seed=0, linear=True)
    x = np.random.RandomState(0).normal(size=(1536, 64)).astype(np.float32)
    code = np.asarray(network.encode_block(spec, params, x))
    reconstruction = np.asarray(network.decode_block(spec, params, code))

    params64 = jax.tree.map(lambda a: a.astype(np.float64), params)
    code64 = network.encode(spec, params64, x.astype(np.float64), xp=np)
    reconstruction64 = network.decode(spec, params64, code.astype(np.float64), xp=np)
    for got, want in [(code, code64), (reconstruction, reconstruction64)]:
        assert np.linalg.norm(got - want) / np.linalg.norm(want) < 1e-5


def test_pca_initialisation_reconstructs_like_pca():
    rng = np.random.RandomState(0)
    x = (rng.normal(size=(100, 5)) @ rng.normal(size=(5, 5))).astype(np.float32)
    x -= x.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    spec = network.NetworkSpec("tanh", "identity")
    params = network.init_params(rng, 5, 2, (8,), spec, pca_components=vt)
    recon = network.decode(spec, params, network.encode(spec, params, x, xp=np), xp=np)
    pca_recon = x @ vt[:2].T @ vt[:2]
    assert_allclose(recon, pca_recon, atol=1e-4)


def intermediate_shapes(jaxpr):
    """Shapes of every value a jaxpr computes, inner jaxprs included."""
    for eqn in jaxpr.eqns:
        for var in eqn.outvars:
            yield tuple(getattr(var.aval, "shape", ()))
        for param in eqn.params.values():
            for inner in param if isinstance(param, (list, tuple)) else [param]:
                inner = getattr(inner, "jaxpr", inner)
                if hasattr(inner, "eqns"):
                    yield from intermediate_shapes(inner)


def test_contractive_penalty_of_wide_data_never_forms_a_features_wide_jacobian():
    # The explicit Jacobian has rows x code x features entries: 300 MB for
    # 1,536 rows, 10 codes and 5,000 features, and the slowest part of an
    # iteration. Wider than the first layer, the input's factor goes through
    # the Gram matrix instead (on 1,500 rows of 2,000 features an iteration
    # took 179 ms before, 27 ms after).
    n_rows, n_features, n_components = 40, 50, 3
    spec = network.NetworkSpec("tanh", "sigmoid")
    params = random_params(n_features, (8, 6), n_components, spec, seed=0)
    x = jnp.asarray(np.random.RandomState(0).normal(size=(n_rows, n_features)), jnp.float32)

    def penalty(params):
        return penalties.contractive(spec, params, x, None, jnp.ones(n_rows),
                                     {"contraction": 1.0})

    for fn in (penalty, jax.grad(penalty)):
        shapes = set(intermediate_shapes(jax.make_jaxpr(fn)(params).jaxpr))
        assert (n_rows, n_components, 8) in shapes  # the chain is there...
        assert not [s for s in shapes if len(s) == 3 and n_features in s]  # ...not its last factor


def test_padding_rows_do_not_change_the_loss_or_penalties():
    spec = network.NetworkSpec("tanh", "sigmoid")
    params = random_params(4, (6,), 3, spec, seed=0)
    x = np.random.RandomState(1).normal(size=(10, 4)).astype(np.float32)
    padded, mask = train.pad_rows(x, 16)
    padded[10:] = 5.0  # garbage in padding must not leak in
    config = train.TrainConfig(spec, "adam", 16, True, False, penalties.kl_sparsity,
                               noise.no_corruption)
    hyper = {"alpha": 0.0, "n_train": 10.0, "corruption": {},
             "penalty": {"sparsity_target": 0.05, "sparsity_weight": 2.0}}
    key = jax.random.key(0)
    full = train.objective(config, params, jnp.asarray(x), jnp.ones(10), key, hyper)
    masked = train.objective(config, params, jnp.asarray(padded), jnp.asarray(mask), key, hyper)
    assert_allclose(float(full), float(masked), rtol=1e-6)
    jac_full = penalties.contractive(spec, params, jnp.asarray(x), None, jnp.ones(10),
                                     {"contraction": 1.0})
    jac_masked = penalties.contractive(spec, params, jnp.asarray(padded), None,
                                       jnp.asarray(mask), {"contraction": 1.0})
    assert_allclose(float(jac_full), float(jac_masked), rtol=1e-6)


@pytest.mark.parametrize("penalty", [penalties.no_penalty, penalties.kl_sparsity,
                                     penalties.contractive])
def test_padded_code_units_change_nothing_and_get_no_gradient(penalty):
    # Training pads the code layer to a bucket width; with the code mask the
    # loss must equal the unpadded network's, and the padding units' weights
    # must get exactly zero gradient so they stay zero.
    spec = network.NetworkSpec("tanh", "sigmoid")  # sigmoid(0) = 0.5, not 0
    rng = np.random.RandomState(0)
    params = network.init_params(rng, 5, 3, (6,), spec, pca_components=np.eye(5)[:3])
    params["encoder"][-1] = tuple(rng.normal(size=a.shape).astype(np.float32)
                                  for a in params["encoder"][-1])
    padded = network.with_code_width(params, 8)
    assert network.code_width(padded) == 8
    cropped = network.with_code_width(padded, 3)
    for a, b in zip(jax.tree.leaves(cropped), jax.tree.leaves(params)):
        assert_array_equal(a, b)
    x = jnp.asarray(rng.normal(size=(12, 5)).astype(np.float32))
    config = train.TrainConfig(spec, "adam", 16, True, False, penalty, noise.no_corruption)
    hyper = {"alpha": 0.5, "n_train": 12.0, "corruption": {},
             "penalty": {"sparsity_target": 0.05, "sparsity_weight": 2.0, "contraction": 1.0}}
    key, mask, code_mask = jax.random.key(0), jnp.ones(12), jnp.arange(8) < 3
    plain = train.objective(config, params, x, mask, key, hyper)
    masked = train.objective(config, padded, x, mask, key, hyper, code_mask)
    assert_allclose(float(masked), float(plain), rtol=1e-5)
    grads = jax.grad(train.objective, argnums=1)(config, padded, x, mask, key, hyper, code_mask)
    W_code, b_code = grads["encoder"][-1]
    assert not np.any(W_code[:, 3:]) and not np.any(b_code[3:])
    assert not np.any(grads["decoder"][0][0][3:])
    assert not np.any(grads["linear"][0][:, 3:]) and not np.any(grads["linear"][1][3:])
    assert np.any(W_code[:, :3])


def output_layer(params):
    (W, b), T = params["decoder"][-1], params["linear"][1]
    return W, b, T


@pytest.mark.parametrize("penalty", [penalties.no_penalty, penalties.kl_sparsity,
                                     penalties.contractive])
def test_exact_output_layer_minimises_the_objective_over_that_layer(penalty):
    # The closed form must be where the training objective's gradient with
    # respect to the output layer (last decoder layer and the linear path's
    # T) vanishes, whatever the penalty, which acts on the encoder and the
    # code only; the rest of the network stays as it was, and padding rows
    # (mask 0, garbage values) do not count.
    spec = network.NetworkSpec("tanh", "sigmoid")
    rng = np.random.RandomState(0)
    params = network.init_params(rng, 5, 3, (6,), spec, pca_components=np.eye(5)[:3])
    for layers in (params["encoder"], params["decoder"]):
        layers[-1] = tuple(rng.normal(size=a.shape).astype(np.float32) for a in layers[-1])
    x = rng.normal(size=(40, 5)).astype(np.float32)
    padded, mask = train.pad_rows(x, 48)
    padded[40:] = 5.0
    exact = train.with_exact_output_layer(spec, params, padded, mask, alpha=0.5)
    for kept, before in [(exact["encoder"], params["encoder"]),
                         (exact["decoder"][:-1], params["decoder"][:-1]),
                         (exact["linear"][0], params["linear"][0])]:
        for a, b in zip(jax.tree.leaves(kept), jax.tree.leaves(before)):
            assert_array_equal(a, b)

    config = train.TrainConfig(spec, "lbfgs", 48, False, False, penalty, noise.no_corruption)
    hyper = {"alpha": 0.5, "n_train": 40.0, "corruption": {},
             "penalty": {"sparsity_target": 0.05, "sparsity_weight": 2.0, "contraction": 1.0}}
    args = (jnp.asarray(x), jnp.ones(40), jax.random.key(0), hyper)
    gradient = jax.grad(train.objective, argnums=1)
    at_start, at_exact = gradient(config, params, *args), gradient(config, exact, *args)
    for start_part, exact_part in zip(output_layer(at_start), output_layer(at_exact)):
        assert np.max(np.abs(exact_part)) < 1e-4 * np.max(np.abs(start_part))
    assert train.objective(config, exact, *args) < train.objective(config, params, *args)


def test_exact_output_layer_without_l2_copes_with_duplicate_units():
    # alpha=0 with two identical hidden units leaves the least-squares
    # system singular: the least-norm solution still fits as well as any.
    spec = network.NetworkSpec("tanh", "identity")
    rng = np.random.RandomState(0)
    params = network.init_params(rng, 4, 2, (5,), spec, pca_components=np.eye(4)[:2])
    W, b = params["decoder"][0]
    W[:, 1], b[1] = W[:, 0], b[0]
    x = rng.normal(size=(30, 4)).astype(np.float32)
    exact = train.with_exact_output_layer(spec, params, x, np.ones(30), alpha=0.0)
    W_out, _, T = output_layer(exact)
    assert np.all(np.isfinite(W_out)) and np.all(np.isfinite(T))
    assert_allclose(W_out[0], W_out[1], rtol=1e-4, atol=1e-6)  # shared out evenly
    codes = network.encode(spec, exact, x, xp=np)
    features = np.c_[network.decoder_hidden(spec, exact, codes, xp=np), codes, np.ones(30)]
    best = np.linalg.lstsq(features, x, rcond=None)[0]
    assert train.reconstruction_mse(spec, exact, x, np.ones(30)) == pytest.approx(
        np.mean((features @ best - x) ** 2), rel=1e-4)


@pytest.mark.parametrize("early_stopping", [True, False], ids=["validation", "objective"])
def test_finish_keeps_the_fallback_unless_the_network_is_clearly_better(early_stopping):
    # Rows on a plane through the origin: the PCA network on its two axes
    # reconstructs them exactly, a network started from one axis with
    # random last layers does not, and neither does its exact output layer.
    # The fallback must win, on the validation rows or on the training
    # objective; an all-zero linear path (reconstructing every row as zero)
    # must not.
    spec = network.NetworkSpec("tanh", "identity")
    rng = np.random.RandomState(0)
    x = (rng.normal(size=(80, 2)) @ rng.normal(size=(2, 5))).astype(np.float32)
    axes = np.linalg.svd(x, full_matrices=False)[2][:2]
    trained = network.init_params(rng, 5, 2, (6,), spec, pca_components=axes[:1])
    for layers in (trained["encoder"], trained["decoder"]):
        layers[-1] = tuple(rng.normal(size=a.shape).astype(np.float32) for a in layers[-1])
    pca_network = network.init_params(rng, 5, 2, (6,), spec, pca_components=axes)
    useless = network.with_linear_path(pca_network, np.zeros((0, 5)))
    data = {"x_train": x[:60], "mask_train": np.ones(60), "x_val": x[60:], "mask_val": np.ones(20)}
    config = train.TrainConfig(spec, "lbfgs", 60, False, early_stopping, penalties.no_penalty,
                               noise.no_corruption)
    kept, score = train.finish(config, trained, data, 1e-3, np.nan, fallback=pca_network)
    assert kept is pca_network
    if early_stopping:
        assert score < 1e-10
    kept, _ = train.finish(config, trained, data, 1e-3, np.nan, fallback=useless)
    assert kept is not useless
    assert train.reconstruction_mse(spec, kept, x, np.ones(80)) < train.reconstruction_mse(
        spec, useless, x, np.ones(80))


def test_a_network_must_be_clearly_better_than_the_fallback():
    rng = np.random.RandomState(0)
    fallback = rng.uniform(1.0, 2.0, size=100)
    assert train.clearly_better(fallback - 0.5, fallback)
    assert not train.clearly_better(fallback, fallback)
    assert not train.clearly_better(fallback + 0.01, fallback)
    # Lower on average, but within the rows' scatter: not clearly.
    noisy = fallback + np.tile([1.0, -1.0], 50) - 0.05
    assert np.mean(noisy) < np.mean(fallback)
    assert not train.clearly_better(noisy, fallback)


def test_kl_sparsity_is_zero_at_the_target():
    code = jnp.full((8, 3), 0.05)
    value = penalties.kl_sparsity(None, None, None, code, jnp.ones(8),
                                  {"sparsity_target": 0.05, "sparsity_weight": 3.0})
    assert abs(float(value)) < 1e-6
    busier = penalties.kl_sparsity(None, None, None, code + 0.3, jnp.ones(8),
                                   {"sparsity_target": 0.05, "sparsity_weight": 3.0})
    assert float(busier) > 0.1


def corruption_args(level, n_features=200):
    return {"noise_level": level, "low": jnp.zeros(n_features), "high": jnp.ones(n_features),
            "zero": jnp.zeros(n_features), "scale": 1.0}


def test_corruptions_have_the_documented_statistics():
    x = jnp.full((500, 200), 0.5)
    key = jax.random.key(0)
    masked = noise.masking(key, x, corruption_args(0.3))
    assert abs(float(jnp.mean(masked == 0.0)) - 0.3) < 0.01
    salted = noise.salt_pepper(key, x, corruption_args(0.2))
    assert abs(float(jnp.mean(salted == 1.0)) - 0.1) < 0.01
    assert abs(float(jnp.mean(salted == 0.0)) - 0.1) < 0.01
    gauss = noise.gaussian(key, x, corruption_args(0.1))
    assert abs(float(jnp.std(gauss - x)) - 0.1) < 0.005
    assert float(gauss.min()) >= 0.0 and float(gauss.max()) <= 1.0


def test_validation_rows_are_corrupted_once_per_fit_for_a_denoiser():
    x_val = jnp.full((50, 200), 0.5)
    data, hyper = {"x_val": x_val}, {"corruption": corruption_args(0.3)}
    denoiser = train.TrainConfig(None, "lbfgs", 1, False, True, None, noise.masking)
    first = train.validation_inputs(denoiser, data, hyper, jnp.uint32(7))
    assert abs(float(jnp.mean(first == 0.0)) - 0.3) < 0.02
    # The same draw at every chunk of the fit: scores stay comparable.
    assert_array_equal(first, train.validation_inputs(denoiser, data, hyper, jnp.uint32(7)))
    assert not np.array_equal(first, train.validation_inputs(denoiser, data, hyper, jnp.uint32(8)))
    plain = denoiser._replace(corruption=noise.no_corruption)
    assert train.validation_inputs(plain, data, hyper, jnp.uint32(7)) is x_val


def test_report_adds_nothing_and_puts_its_value_in_the_probes_gradient():
    def loss(flat):
        return jnp.sum(flat[:2] ** 2) + train.report(flat[2], 3.0 * flat[0] + 1.0)

    flat = jnp.asarray([1.0, 2.0, 0.0])
    value, grad = jax.value_and_grad(loss)(flat)
    assert float(value) == 5.0
    # The reported value (4.0) passes no gradient to what it was computed from.
    assert_array_equal(grad, [2.0, 4.0, 4.0])
    # The same through linearize and transpose, as the L-BFGS line search
    # computes its gradient.
    value, linear = jax.linearize(loss, flat)
    assert float(value) == 5.0
    assert_array_equal(jax.linear_transpose(linear, flat)(1.0)[0], [2.0, 4.0, 4.0])


def shuffled(key, n_real, n_rows):
    keys = train.permutation_keys(key)
    return train.permuted(keys, jnp.int32(n_real), jnp.arange(n_rows))


def test_shuffle_permutes_real_rows_and_keeps_padding_in_place():
    n_real, n_rows = 1000, 1024
    order = np.asarray(shuffled(jax.random.key(0), n_real, n_rows))
    assert sorted(order[:n_real]) == list(range(n_real))
    assert list(order[n_real:]) == list(range(n_real, n_rows))
    assert not np.array_equal(order[:n_real], np.arange(n_real))
    assert not np.array_equal(order, np.asarray(shuffled(jax.random.key(1), n_real, n_rows)))
    # Each minibatch computes its own rows: a batch alone gets the same rows
    # as its slice of the whole epoch, so batches never overlap.
    keys = train.permutation_keys(jax.random.key(0))
    batch = train.permuted(keys, jnp.int32(n_real), jnp.arange(768, 1024))
    np.testing.assert_array_equal(batch, order[768:])
    for n_real in (1, 2, 3, 64, 65, 300):
        order = np.asarray(shuffled(jax.random.key(3), n_real, 512))
        assert sorted(order[:n_real]) == list(range(n_real))


def test_shuffle_has_no_position_or_order_bias():
    # Over 2000 draws, where row 0 lands and whether row 1 comes before row 2
    # (standard errors of ~6.5 positions and 0.011).
    n_real = 1000
    orders = jax.vmap(lambda k: shuffled(k, n_real, 1024))(
        jax.random.split(jax.random.key(2), 2000)
    )
    orders = np.asarray(orders)[:, :n_real]
    position_of_0 = np.argmax(orders == 0, axis=1)
    assert abs(position_of_0.mean() - (n_real - 1) / 2) < 30
    before = np.argmax(orders == 1, axis=1) < np.argmax(orders == 2, axis=1)
    assert abs(before.mean() - 0.5) < 0.05
    # Small data, where a mixing function is most regular: each of 10 rows
    # lands at each position with frequency 0.1 (standard error 0.0034 over
    # 8000 draws; a row that kept its parity or its neighbours would be off
    # by 0.1).
    n_real, n_draws = 10, 8000
    orders = jax.vmap(lambda k: shuffled(k, n_real, 256))(
        jax.random.split(jax.random.key(4), n_draws)
    )
    orders = np.asarray(orders)[:, :n_real]
    frequency = np.zeros((n_real, n_real))
    for order in orders:
        frequency[np.arange(n_real), order] += 1 / n_draws
    assert np.abs(frequency - 1 / n_real).max() < 0.015


def run_lbfgs(loss, start, n_iterations, corruption=noise.no_corruption):
    """Parameters and reported losses of ``n_iterations`` L-BFGS iterations.

    ``loss(flat)``, or ``loss(flat, key)`` with a ``corruption``: iteration
    ``i`` then evaluates it under ``jax.random.key(i)``.
    """
    def loss_fn(flat, x, mask, key, hyper):
        return loss(flat) if key is None else loss(flat, key)

    config = train.TrainConfig(None, "lbfgs", 1, False, False, None, corruption)
    data = {"x_train": jnp.zeros((1, 1)), "mask_train": jnp.ones(1)}
    params = jnp.asarray(start, dtype=jnp.float32)
    opt_state = train._lbfgs(params.size).init(params)
    trajectory = []
    for i in range(n_iterations):
        key = None if corruption is noise.no_corruption else jax.random.key(i)
        params, opt_state, value, _, _ = train._lbfgs_iteration(
            config, loss_fn, params, opt_state, data, {}, key)
        trajectory.append((np.asarray(params), float(value)))
    return trajectory


def test_lbfgs_steps_from_the_first_iteration_and_reports_the_new_loss():
    # A fresh state holds no loss yet: the first iteration evaluates the
    # starting point and still takes a step, so even max_iter=1 trains.
    target = jnp.asarray([1.0, -2.0, 3.0])

    def loss(flat):
        return jnp.sum((flat - target) ** 4 + (flat - target) ** 2)

    start = previous = float(loss(jnp.zeros(3)))
    for params, value in run_lbfgs(loss, np.zeros(3), 10):
        assert value < previous
        assert value == pytest.approx(float(loss(params)), rel=1e-6)
        previous = value
    assert previous < 1e-3 * start


def test_lbfgs_never_accepts_a_higher_loss():
    # On a non-convex loss, optax's L-BFGS stores curvature pairs with
    # s'y < 0 too, whose direction can point uphill; the backtracking line
    # search then accepts a higher loss. The iteration must undo such a
    # step (from this start the third iteration went up by 350 when it did
    # not).
    def loss(x):
        return jnp.sum(jnp.sin(3 * x) + 0.05 * x**2) + 0.3 * jnp.sum(x[:-1] * x[1:]) ** 2

    start = 3 * np.random.RandomState(5).normal(size=6)
    previous = float(loss(jnp.asarray(start, dtype=jnp.float32)))
    for _, value in run_lbfgs(loss, start, 6):
        assert value <= previous
        previous = value


def test_lbfgs_undoes_a_step_whose_trial_points_are_all_non_finite():
    start = jnp.asarray([1.0, -2.0])

    def finite_only_at_start(flat):
        return jnp.where(jnp.all(flat == start), jnp.sum(flat ** 2), jnp.nan)

    for params, value in run_lbfgs(finite_only_at_start, start, 3):
        assert_array_equal(params, start)
        assert value == pytest.approx(5.0)


def test_lbfgs_keeps_fewer_curvature_pairs_beyond_the_parameter_limit():
    def pairs(n_params):
        state = train._lbfgs(n_params).init(jnp.zeros(n_params))
        return optax.tree.get(state, "diff_params_memory").shape[0]

    limit = train.LBFGS_MEMORY_MAX_PARAMS
    assert pairs(limit) == train.LBFGS_MEMORY == 20
    assert pairs(limit + 1) == train.LBFGS_WIDE_MEMORY == 10


def test_lbfgs_compares_steps_under_one_noise_draw():
    # A denoiser's loss changes with every iteration's noise draw; here each
    # draw adds 10 more than the last (key i holds the number i), which moves
    # no minimum. Each step must be judged against the starting loss under
    # its own draw: judged against the previous draw's, every step looks
    # like a failure once the loss is below 10.
    target = jnp.asarray([1.0, -2.0, 3.0])

    def loss(flat, key):
        offset = 10.0 * jax.random.key_data(key)[-1].astype(jnp.float32)
        return jnp.sum((flat - target) ** 4 + (flat - target) ** 2) + offset

    trajectory = run_lbfgs(loss, np.zeros(3), 15, corruption=noise.gaussian)
    assert_allclose(trajectory[-1][0], target, atol=1e-3)


def test_batch_layout_buckets_sizes():
    assert train.batch_layout(5, 256) == (256, 1)
    assert train.batch_layout(5, 32) == (32, 1)
    assert train.batch_layout(150, 256) == (256, 1)
    assert train.batch_layout(1437, 2048) == (1536, 1)  # a full batch: 3/4 of a power of 2
    assert train.batch_layout(1600, 2048) == (2048, 1)
    assert [train.padded_rows(n) for n in (1, 256, 257, 384, 385, 700, 1000)] == [
        256, 256, 384, 384, 512, 768, 1024]
    assert train.batch_layout(1000, 256) == (256, 4)
    assert train.batch_layout(1100, 256) == (256, 8)
    # Neighbouring CV fold sizes share a layout, hence a compiled program.
    assert train.batch_layout(1200, 256) == train.batch_layout(1500, 256)


def test_kernels_do_not_import_sklearn():
    # Import the kernel package on its own (not through skae/__init__.py,
    # which loads the estimators) and check scikit-learn stayed out.
    package_parent = str(Path(network.__file__).parents[1])
    code = (f"import sys; sys.path.insert(0, {package_parent!r}); "
            "import _kernels.train, _kernels.noise; print('sklearn' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.skipif(jax.default_backend() not in backend.COMPILER_OPTIONS,
                    reason="no compiler options for this backend")
def test_training_programs_compile_without_options_this_jaxlib_refuses(monkeypatch):
    # Stands in for an option that an older jaxlib does not know.
    unknown = "xla_option_no_release_has"
    monkeypatch.setitem(backend.COMPILER_OPTIONS[jax.default_backend()], unknown, True)
    monkeypatch.setattr(backend, "OPTIONAL_COMPILER_OPTIONS",
                        (*backend.OPTIONAL_COMPILER_OPTIONS, unknown))
    add_one = backend.BackendJit(lambda x: x + 1, static_argnames=())
    assert float(add_one(jnp.float32(1.0))) == 2.0
    assert float(add_one(jnp.float32(2.0))) == 3.0
    assert add_one._cache_size() == 1


def test_programs_take_the_options_of_the_default_device_set_by_the_caller(monkeypatch):
    # As on a GPU machine, where jax.default_backend() says "gpu" even inside
    # jax.default_device(cpu): the GPU's options would fail on the CPU here.
    try:
        cpu = jax.devices("cpu")[0]
    except RuntimeError:  # JAX_PLATFORMS names no CPU
        pytest.skip("no CPU backend")
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    monkeypatch.setitem(backend.COMPILER_OPTIONS, "gpu", {"xla_option_no_release_has": True})
    add_one = backend.BackendJit(lambda x: x + 1, static_argnames=())
    for default_device in (cpu, "cpu"):
        with jax.default_device(default_device):
            assert backend.current_platform() == "cpu"
            assert float(add_one(np.float32(1.0))) == 2.0
    assert set(add_one._by_platform) == {"cpu"}
    assert backend.current_platform() == "gpu"


@pytest.mark.skipif(jax.default_backend() not in backend.COMPILER_OPTIONS,
                    reason="no compiler options for this backend")
def test_an_unknown_required_compiler_option_is_not_swallowed(monkeypatch):
    monkeypatch.setitem(backend.COMPILER_OPTIONS[jax.default_backend()],
                        "xla_option_no_release_has", True)
    add_one = backend.BackendJit(lambda x: x + 1, static_argnames=())
    with pytest.raises(jax.errors.JaxRuntimeError, match="xla_option_no_release_has"):
        add_one(jnp.float32(1.0))
