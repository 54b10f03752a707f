"""skae: autoencoders as scikit-learn transformers, trained with JAX."""

from ._autoencoder import AutoencoderTransformer
from ._contractive import ContractiveAE
from ._denoising import DenoisingAE
from ._sparse import SparseAE

__version__ = "0.1.0"

__all__ = ["AutoencoderTransformer", "ContractiveAE", "DenoisingAE", "SparseAE", "__version__"]
