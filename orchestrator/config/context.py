"""Context that builds itself: `conversations`, `knowledge`, and each task's retrieval and summary settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from orchestrator.config.base import Strict


class ConversationSettings(Strict):
    # auto: postgres when the template store is postgres (its dsn), else redis when shared_state has a
    # redis_url, else memory (this process: `make run`).
    store: Literal["auto", "memory", "redis", "postgres"] = "auto"
    # A conversation nobody continues for this long is forgotten.
    ttl_seconds: int = Field(7 * 86_400, ge=60)
    # The oldest turns beyond this many are dropped from the store.
    max_turns: int = Field(200, ge=2, le=10_000)


class KnowledgeStoreSettings(Strict):
    # sqlite (FTS5, one file: make run), postgres (tsvector, shared by replicas), memory (SQLite in memory).
    type: Literal["memory", "sqlite", "postgres"] = "sqlite"
    path: str = Field("orchestrator-knowledge.db", min_length=1)
    dsn: SecretStr | None = None

    @model_validator(mode="after")
    def _fields_fit_type(self) -> KnowledgeStoreSettings:
        if self.type == "postgres" and not (self.dsn and self.dsn.get_secret_value()):
            raise ValueError("dsn is required for type postgres")
        if self.type != "postgres" and self.dsn is not None:
            raise ValueError("dsn applies only to type postgres")
        return self


class KnowledgeSettings(Strict):
    store: KnowledgeStoreSettings = KnowledgeStoreSettings()
    # Documents are split into chunks of about this many characters, on paragraph and sentence boundaries,
    # each repeating the end of the previous one.
    chunk_chars: int = Field(1200, ge=200, le=20_000)
    chunk_overlap_chars: int = Field(150, ge=0, le=2000)
    max_document_chars: int = Field(2_000_000, ge=1000)

    @model_validator(mode="after")
    def _overlap_fits(self) -> KnowledgeSettings:
        if self.chunk_overlap_chars >= self.chunk_chars // 2:
            raise ValueError("chunk_overlap_chars must be less than half of chunk_chars")
        return self


class TaskRetrievalSettings(Strict):
    # Collections searched for every request of the task that does not set its own retrieval.
    collections: tuple[str, ...] = ()
    top_k: int = Field(5, ge=1, le=50)


class TaskConversationSettings(Strict):
    # Turns dropped for the budget are replaced by a short summary made by this (cheap) model.
    summarize_dropped: bool = False
    summary_model: str | None = None
    summary_max_tokens: int = Field(200, ge=16, le=4096)
