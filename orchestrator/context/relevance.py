"""Relevance for context items that carry none: BM25 of each item against the query, scaled to 0-1.

A score of exactly 0.0 means "not given" (the contract's relevance_score has no presence bit). Items the
caller scored keep their scores; unscored ones get BM25 relative to the best match among them, so the
relevance and hybrid strategies work for callers that send raw snippets.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from orchestrator.domain import ContextItem

_WORD = re.compile(r"\w+", re.UNICODE)
K1, B = 1.2, 0.75


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def bm25(query: str, documents: Sequence[str]) -> list[float]:
    """Okapi BM25 of each document for the query's words (k1 = 1.2, b = 0.75)."""
    terms = set(words(query))
    if not terms or not documents:
        return [0.0] * len(documents)
    tokenized = [words(d) for d in documents]
    lengths = [len(t) for t in tokenized]
    average = (sum(lengths) / len(lengths)) or 1.0
    frequencies = [Counter(t) for t in tokenized]
    holding = Counter(term for f in frequencies for term in terms if term in f)
    n = len(documents)
    idf = {term: math.log(1 + (n - holding[term] + 0.5) / (holding[term] + 0.5)) for term in terms}
    scores = []
    for f, length in zip(frequencies, lengths, strict=True):
        score = 0.0
        for term in terms:
            tf = f.get(term, 0)
            if tf:
                score += idf[term] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
        scores.append(score)
    return scores


def score_unscored(items: Sequence[ContextItem], query: str) -> tuple[list[ContextItem], list[bool]]:
    """The items, with BM25 scores (0-1) for those without a relevance score; and which were computed."""
    unscored = [i for i, item in enumerate(items) if item.relevance_score == 0.0]
    computed = [False] * len(items)
    if not unscored or not query.strip():
        return list(items), computed
    raw = bm25(query, [f"{items[i].source} {items[i].content}" for i in unscored])
    best = max(raw, default=0.0)
    scored = list(items)
    for index, value in zip(unscored, raw, strict=True):
        if best > 0:
            scored[index] = replace(items[index], relevance_score=value / best)
        computed[index] = True
    return scored, computed
