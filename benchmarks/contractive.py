"""Closed-form contractive penalty against the autodiff Jacobian penalty.

Trains the same ContractiveAE network for a fixed number of Adam epochs on
digits twice in one process: once with skae's closed-form penalty
(``sum_j s'(z_j)^2 sum_i W_ij^2``, or the explicit layer-by-layer Jacobian
chain for deeper encoders), once with a penalty that builds each row's
Jacobian with ``jax.jacfwd``. Prints time per epoch (compiled, warm) and the
ratio, for a one-layer and a deep encoder.

Then the cost of the penalty in a default fit: the warm time of one
full-batch L-BFGS iteration of ``ContractiveAE(n_components=10)`` on the
digits (its default 64-32-32-10 encoder, 1,797 rows padded to 2,048), as a
multiple of the plain ``AutoencoderTransformer``'s on the same data, timed
as in ``step_cost.py``.

    python benchmarks/contractive.py
"""

import time
import warnings

import jax
import jax.numpy as jnp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer, ContractiveAE
from skae._kernels import network, penalties
from step_cost import seconds_per_iteration

EPOCHS = 20


def autodiff_contractive(spec, params, x, code, mask, args):
    """The same penalty through autodiff: per-row jacfwd of the encoder."""

    def encode_row(row):
        return network.encode(spec, params, row[None])[0]

    jacobians = jax.vmap(jax.jacfwd(encode_row))(x)
    per_row = jnp.sum(jacobians**2, axis=(1, 2))
    return args["contraction"] * penalties.masked_mean(per_row, mask)


class AutodiffContractiveAE(ContractiveAE):
    _penalty = staticmethod(autodiff_contractive)


def seconds_per_epoch(cls, X, hidden):
    settings = dict(n_components=16, hidden_layer_sizes=hidden, solver="adam", batch_size=256,
                    max_iter=EPOCHS, tol=0.0, contraction=0.1, random_state=0)
    cls(**settings).fit(X)  # compile
    start = time.perf_counter()
    model = cls(**settings).fit(X)
    return (time.perf_counter() - start) / model.n_iter_, model.loss_


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    X = load_digits().data / 16.0
    print(f"digits {X.shape}, 16 sigmoid code units, Adam, batch 256, {EPOCHS} epochs\n")
    print(f"{'encoder':22s} {'closed form ms/epoch':>21s} {'autodiff ms/epoch':>18s} "
          f"{'speed-up':>9s} {'loss (closed)':>14s} {'loss (autodiff)':>16s}")
    for label, hidden in [("one layer 64-16", ()), ("deep 64-128-64-16", (128, 64))]:
        closed, closed_loss = seconds_per_epoch(ContractiveAE, X, hidden)
        auto, auto_loss = seconds_per_epoch(AutodiffContractiveAE, X, hidden)
        print(f"{label:22s} {1e3 * closed:21.2f} {1e3 * auto:18.2f} {auto / closed:8.2f}x "
              f"{closed_loss:14.6f} {auto_loss:16.6f}")

    print("\ndefault fits, n_components=10, full-batch L-BFGS, ms per iteration")
    contractive = seconds_per_iteration(X, 10, ContractiveAE)
    plain = seconds_per_iteration(X, 10, AutoencoderTransformer)
    print(f"ContractiveAE {1e3 * contractive:.2f}, AutoencoderTransformer {1e3 * plain:.2f}: "
          f"{contractive / plain:.2f}x")


if __name__ == "__main__":
    main()
