"""Pure JAX kernels: the network, penalties, corruptions and the trainer.

Nothing here knows about scikit-learn or estimator objects; the estimators in
``skae`` hand these functions NumPy arrays and plain hyperparameters.
"""
