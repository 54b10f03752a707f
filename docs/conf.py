"""Sphinx configuration for the skae documentation."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import skae  # noqa: E402

project = "skae"
author = "The skae developers"
copyright = "2026, The skae developers"
release = skae.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
# Document what skae adds (fit, transform, ...) but not the methods every
# scikit-learn estimator inherits, whose docstrings link into sklearn's docs.
autodoc_default_options = {
    "members": True,
    "inherited-members": "BaseEstimator,TransformerMixin,ClassNamePrefixFeaturesOutMixin,"
    "_SetOutputMixin,_MetadataRequester,object",
}
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]

intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "alabaster"
html_title = f"skae {release}"
