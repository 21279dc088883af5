"""Context for a request: pruning items to a model's token budget (pruning.py)."""
