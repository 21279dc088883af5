"""One llama.cpp sampler chain per sequence: grammar first (when a schema is requested), then greedy at
temperature 0, else llama-cpp-python's create_completion defaults (top-k 40, top-p 0.95, min-p 0.05,
temperature 0.8) with the request's temperature and top_p.

Each sequence owns its chain, so grammar state and the random stream never mix between requests that share
a decode step. `llama_sampler_sample` reads the sequence's row of logits and accepts the token it picks.
"""

from __future__ import annotations

import random
from typing import Any

import llama_cpp

from orchestrator.domain import SamplingParams

DEFAULT_TEMPERATURE = 0.8
DEFAULT_TOP_P = 0.95
TOP_K = 40
MIN_P = 0.05


def grammar_parses(vocab: Any, grammar: str) -> bool:
    """llama.cpp's parser on the grammar (NULL for syntax errors, undefined rules, left recursion)."""
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    if not sampler:
        return False
    llama_cpp.llama_sampler_free(sampler)
    return True


class SamplerChain:
    def __init__(self, vocab: Any, params: SamplingParams, grammar: str | None, seed: int | None = None) -> None:
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        if not chain:
            raise RuntimeError("llama.cpp could not create a sampler chain")
        self._chain = chain
        if grammar is not None:
            self._add(llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root"))
        temperature = DEFAULT_TEMPERATURE if params.temperature is None else params.temperature
        if temperature <= 0.0:
            self._add(llama_cpp.llama_sampler_init_greedy())
            return
        top_p = DEFAULT_TOP_P if params.top_p is None else params.top_p
        self._add(llama_cpp.llama_sampler_init_top_k(TOP_K))
        self._add(llama_cpp.llama_sampler_init_top_p(top_p, 1))
        self._add(llama_cpp.llama_sampler_init_min_p(MIN_P, 1))
        self._add(llama_cpp.llama_sampler_init_temp(temperature))
        self._add(llama_cpp.llama_sampler_init_dist(random.getrandbits(32) if seed is None else seed))

    def _add(self, sampler: Any) -> None:
        if not sampler:
            self.close()
            raise RuntimeError("llama.cpp could not create a sampler")
        llama_cpp.llama_sampler_chain_add(self._chain, sampler)  # the chain owns it from here

    def sample(self, ctx: Any, index: int) -> int:
        """The next token from output row `index` of the last decode (accepted into the chain's state)."""
        return int(llama_cpp.llama_sampler_sample(self._chain, ctx, index))

    def close(self) -> None:
        if self._chain:
            llama_cpp.llama_sampler_free(self._chain)
            self._chain = None
