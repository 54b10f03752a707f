"""Pure JAX kernels: the network, penalties, corruptions, the trainer, and how
every jitted program compiles and runs (compiler options per platform, the
JAX settings pinned around each call).

Nothing here knows about scikit-learn or estimator objects; the estimators in
``skae`` hand these functions NumPy arrays and plain hyperparameters.
"""
