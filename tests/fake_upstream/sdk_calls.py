"""One call through each official SDK, with the prompt every test here sends."""

from __future__ import annotations

from typing import Any

import anthropic
import openai

USER = [{"role": "user", "content": "ping me back"}]
CONTEXT = "context_length_exceeded"


async def oa_call(oa: openai.AsyncOpenAI, **kwargs: Any) -> Any:
    return await oa.chat.completions.create(model=kwargs.pop("model", "gpt-test"), messages=USER, **kwargs)


async def an_call(an: anthropic.AsyncAnthropic, **kwargs: Any) -> Any:
    return await an.messages.create(model=kwargs.pop("model", "claude-test"), max_tokens=64, messages=USER, **kwargs)
