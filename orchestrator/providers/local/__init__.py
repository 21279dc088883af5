"""The embedded model: a GGUF run in-process by llama-cpp-python, with concurrent requests batched.

model.py      loading the weights, vocabulary, chat formatting and the llama.cpp context
grammar.py    JSON Schema -> grammar, refused at once when it cannot be built
sampling.py   one sampler chain per sequence (grammar, temperature, top_p)
text.py       token pieces -> text, stop strings
scheduler.py  the thread that owns the context: continuous batching, bounded queue, progress
provider.py   the event-loop side (the Provider interface)
"""

from orchestrator.providers.local.model import DEFAULT_GGUF, default_model_path
from orchestrator.providers.local.provider import LocalProvider

__all__ = ["DEFAULT_GGUF", "LocalProvider", "default_model_path"]
