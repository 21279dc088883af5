"""The fake upstream, exercised with the real `openai` and `anthropic` SDKs: if they parse it, adapters can trust it."""
