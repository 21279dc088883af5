"""Prompt templates: the model, the stores, the sandboxed renderer and the registry that joins them."""
