"""Test doubles: a fake LLM upstream speaking the OpenAI and Anthropic wire protocols (see `upstream`).

The names are imported lazily so that `python -m tests.fakes.upstream` does not import the module twice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.upstream import Behaviour, FakeUpstream, RecordedRequest

__all__ = ["Behaviour", "FakeUpstream", "RecordedRequest"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("tests.fakes.upstream"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
