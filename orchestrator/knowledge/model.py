"""Documents, chunks and search hits, and the store interface."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from orchestrator.errors import FieldViolation, Reason, invalid_fields

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TERMS = 64
# Words that match nearly every chunk: searching for them costs time and ranks nothing.
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    content: str
    source: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    document_id: str
    chunk_index: int
    content: str
    source: str
    metadata: dict[str, str]
    timestamp: datetime | None
    score: float  # normalised to 0-1 within one search, higher is better


class KnowledgeStore(Protocol):
    async def owner(self, collection: str) -> str | None:
        """The service that created the collection; None when it does not exist."""
        ...

    async def upsert(self, owner: str, collection: str, documents: list[tuple[Document, list[str]]]) -> int:
        """Store documents with their chunks (replacing documents with the same id); returns the chunk count."""
        ...

    async def delete(self, collection: str, ids: list[str]) -> int:
        """Remove documents (every document, and the collection, when `ids` is empty); returns how many."""
        ...

    async def search(self, collection: str, terms: list[str], top_k: int) -> list[Hit]: ...

    async def aclose(self) -> None: ...


def check_collection(name: str, field: str = "collection") -> None:
    if not _NAME.match(name):
        raise invalid_fields(
            "a collection name is 1-128 characters: letters, digits, '_', '-', '.'",
            [FieldViolation(field, "1-128 characters: letters, digits, '_', '-', '.'")],
            reason=Reason.INVALID_REQUEST,
        )


def query_terms(query: str) -> list[str]:
    """The query's distinct words, lower-cased, in order, without stop words (full-text operators in it are
    not interpreted). A query of stop words only keeps them: it must still match something."""
    words = _WORD.findall(query.lower())
    seen: dict[str, None] = {}
    for word in [w for w in words if w not in STOP_WORDS] or words:
        seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_TERMS]


def normalised(hits: list[Hit]) -> list[Hit]:
    """Scores divided by the best one, so callers can compare them with caller-given relevance scores."""
    best = max((h.score for h in hits), default=0.0)
    if best <= 0:
        return hits
    return [
        Hit(h.document_id, h.chunk_index, h.content, h.source, h.metadata, h.timestamp, h.score / best) for h in hits
    ]
