"""Knowledge-base search latency at 10,000 chunks, SQLite FTS5 and PostgreSQL side by side.

    python -m tests.bench.retrieval [--chunks 10000] [--dsn postgresql://postgres@127.0.0.1:5432/test]

Chunks are made of the README's own vocabulary (so term frequencies look like prose); queries are the
hand-written questions of tests/test_knowledge.py. Prints p50/p99 per store.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from orchestrator.knowledge.model import Document, KnowledgeStore, query_terms
from orchestrator.knowledge.postgres_store import PostgresKnowledgeStore
from orchestrator.knowledge.sqlite_store import SqliteKnowledgeStore
from tests.helpers import ROOT
from tests.test_knowledge import QUESTIONS


def corpus(count: int) -> list[tuple[Document, list[str]]]:
    words = (ROOT / "README.md").read_text().split()
    rng = random.Random(7)
    documents = []
    for d in range(count // 10):
        chunks = [" ".join(rng.choices(words, k=160)) for _ in range(10)]
        documents.append((Document(f"doc-{d}", "\n\n".join(chunks), f"synthetic/{d}.md"), chunks))
    return documents


async def measure(store: KnowledgeStore, documents: list[tuple[Document, list[str]]], rounds: int) -> dict[str, float]:
    collection = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    for i in range(0, len(documents), 100):
        await store.upsert("bench", collection, documents[i : i + 100])
    load = time.perf_counter() - started
    timings = []
    for r in range(rounds):
        terms = query_terms(QUESTIONS[r % len(QUESTIONS)][0])
        t0 = time.perf_counter()
        await store.search(collection, terms, 5)
        timings.append((time.perf_counter() - t0) * 1000)
    await store.delete(collection, [])
    timings.sort()
    return {
        "chunks": sum(len(c) for _, c in documents),
        "load_seconds": round(load, 2),
        "p50_ms": round(statistics.median(timings), 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    documents = corpus(args.chunks)
    with tempfile.TemporaryDirectory() as scratch:
        sqlite = await SqliteKnowledgeStore.open(str(Path(scratch) / "kb.db"))
        print("sqlite FTS5:", await measure(sqlite, documents, args.rounds))
        await sqlite.aclose()
    postgres = await PostgresKnowledgeStore.open(args.dsn)
    print("postgres tsvector:", await measure(postgres, documents, args.rounds))
    await postgres.aclose()


if __name__ == "__main__":
    asyncio.run(main())
