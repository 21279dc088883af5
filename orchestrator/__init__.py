"""LLM Orchestrator: the one gRPC door through which role services reach large language models."""

__version__ = "0.1.0"
