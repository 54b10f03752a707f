"""skae: autoencoders as scikit-learn transformers, trained with JAX."""

from ._autoencoder import AutoencoderTransformer

__version__ = "0.1.0"

__all__ = ["AutoencoderTransformer", "__version__"]
