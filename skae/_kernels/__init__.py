"""Pure JAX kernels: the network, penalties, corruptions, the trainer and the
per-backend compiler options of every jitted program.

Nothing here knows about scikit-learn or estimator objects; the estimators in
``skae`` hand these functions NumPy arrays and plain hyperparameters.
"""
