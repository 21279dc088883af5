"""Request vectors for the semantic cache: nearest neighbour by brute-force cosine within one scope.

A scope is the hash of everything a cached answer must share with the request exactly (service, task type,
template version, model selection, output format, schema, ...), so the search only ever compares requests
whose answers could be exchanged. Vectors are unit length: cosine similarity is a dot product, one matrix
product per lookup (10,000 vectors of 384 floats: ~4 M multiply-adds, ~1 ms).

`VectorIndex` keeps them in this process. `RedisVectors` keeps them in the shared Redis, one stream per scope
(entry key, vector, expiry), and mirrors each scope into a local index, reading only the entries added since
its last look; the search itself runs here. numpy is imported only when a semantic cache is configured.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Protocol

from orchestrator.state.redis import SharedRedis

if TYPE_CHECKING:
    import numpy as np


# A stored request: its exact cache key, the similarity to the query, and the words it was stored with.
Candidate = tuple[str, float, str]
# Candidates a lookup returns, best first (the caller may reject some on their words).
NEAREST = 8


class VectorStore(Protocol):
    async def add(self, scope: str, key: str, vector: np.ndarray, ttl_seconds: float, words: str = "") -> None: ...
    async def nearest(self, scope: str, vector: np.ndarray) -> list[Candidate]: ...


class _Scope:
    """One scope's vectors in a growing matrix; removed rows are marked dead and compacted away later."""

    def __init__(self, dimensions: int) -> None:
        import numpy as np

        self.matrix = np.zeros((16, dimensions), dtype=np.float32)
        self.expires = np.zeros(16, dtype=np.float64)  # wall clock; -inf once removed
        self.ids = np.zeros(16, dtype=np.int64)  # increasing: the index's sequence numbers
        self.keys: list[str] = []
        self.words: list[str] = []
        self.size = 0
        self.dead = 0

    def add(self, seq: int, key: str, vector: np.ndarray, expires: float, words: str) -> None:
        import numpy as np

        if self.size == self.matrix.shape[0]:
            grow = self.matrix.shape[0]
            self.matrix = np.concatenate([self.matrix, np.zeros_like(self.matrix[:grow])])
            self.expires = np.concatenate([self.expires, np.zeros(grow)])
            self.ids = np.concatenate([self.ids, np.zeros(grow, dtype=np.int64)])
        self.matrix[self.size], self.expires[self.size], self.ids[self.size] = vector, expires, seq
        self.keys.append(key)
        self.words.append(words)
        self.size += 1

    def remove(self, seq: int) -> None:
        import numpy as np

        row = int(np.searchsorted(self.ids[: self.size], seq))
        if row < self.size and self.ids[row] == seq and self.expires[row] != -np.inf:
            self.expires[row] = -np.inf
            self.dead += 1
        if self.dead * 2 > self.size:
            self._compact()

    def _compact(self) -> None:
        import numpy as np

        alive = np.flatnonzero(self.expires[: self.size] != -np.inf)
        self.matrix[: len(alive)] = self.matrix[alive]
        self.expires[: len(alive)] = self.expires[alive]
        self.ids[: len(alive)] = self.ids[alive]
        self.keys = [self.keys[i] for i in alive]
        self.words = [self.words[i] for i in alive]
        self.size, self.dead = len(alive), 0

    def nearest(self, vector: np.ndarray, now: float) -> list[Candidate]:
        import numpy as np

        if self.size == self.dead:
            return []
        # einsum, not `@`: a matrix-vector product through BLAS spreads over threads that, on a busy host, cost
        # 10-30x more than this single-threaded loop (measured at 10,000 x 384: 0.8 ms against 20 ms).
        similarity = np.einsum("ij,j->i", self.matrix[: self.size], vector)
        similarity[self.expires[: self.size] <= now] = -np.inf
        rows = np.argpartition(-similarity, NEAREST)[:NEAREST] if self.size > NEAREST else np.arange(self.size)
        rows = rows[np.argsort(-similarity[rows])]
        return [(self.keys[r], float(similarity[r]), self.words[r]) for r in rows if similarity[r] > -np.inf]


class VectorIndex:
    """Every scope's vectors in this process, at most `max_entries` in all (the oldest go first)."""

    def __init__(self, max_entries: int = 10_000, dimensions: int | None = None) -> None:
        self._max = max_entries
        self._dimensions = dimensions
        self._scopes: dict[str, _Scope] = {}
        self._order: deque[tuple[str, int]] = deque()
        self._seq = 0

    def __len__(self) -> int:
        return len(self._order)

    def insert(self, scope: str, key: str, vector: np.ndarray, expires: float, words: str = "") -> None:
        """Add a vector (wall-clock `expires`); vectors of another width than the first are ignored."""
        if self._dimensions is None:
            self._dimensions = len(vector)
        if len(vector) != self._dimensions:
            return
        self._seq += 1
        self._scopes.setdefault(scope, _Scope(self._dimensions)).add(self._seq, key, vector, expires, words)
        self._order.append((scope, self._seq))
        while len(self._order) > self._max:
            old_scope, seq = self._order.popleft()
            entries = self._scopes[old_scope]
            entries.remove(seq)
            if entries.size == entries.dead:
                del self._scopes[old_scope]

    def search(self, scope: str, vector: np.ndarray) -> list[Candidate]:
        entries = self._scopes.get(scope)
        if entries is None or len(vector) != self._dimensions:
            return []
        return entries.nearest(vector, time.time())

    async def add(self, scope: str, key: str, vector: np.ndarray, ttl_seconds: float, words: str = "") -> None:
        self.insert(scope, key, vector, time.time() + ttl_seconds, words)

    async def nearest(self, scope: str, vector: np.ndarray) -> list[Candidate]:
        return self.search(scope, vector)


class RedisVectors:
    """Vectors in the shared Redis (a stream per scope), searched in a mirror kept up to date per lookup."""

    # New entries read per lookup at most: a fresh replica catches up over its first lookups of a scope (what it
    # has not read yet is a miss) instead of making one request wait for the whole scope (10,000: ~1.6 s here).
    CHUNK = 1000

    def __init__(self, shared: SharedRedis, max_entries: int = 10_000) -> None:
        self._shared = shared
        self._prefix = shared.key_prefix + "semantic:"
        self._max = max_entries
        self._mirror = VectorIndex(max_entries)
        self._seen: dict[str, str] = {}  # scope -> the last stream id read

    async def add(self, scope: str, key: str, vector: np.ndarray, ttl_seconds: float, words: str = "") -> None:
        import numpy as np

        stream = self._prefix + scope
        vector_bytes = np.asarray(vector, dtype="<f4").tobytes()
        fields = {"k": key, "v": vector_bytes, "e": repr(time.time() + ttl_seconds), "w": words}
        ttl = max(int(ttl_seconds * 1000), 1)

        async def append(redis: object) -> None:
            async with redis.pipeline(transaction=False) as pipe:  # type: ignore[attr-defined]
                pipe.xadd(stream, fields, maxlen=self._max, approximate=True)
                pipe.pexpire(
                    stream, ttl
                )  # a scope is one task's: every entry has the same TTL, the newest lives longest
                await pipe.execute()

        await self._shared.call("semantic_add", append, None)

    async def nearest(self, scope: str, vector: np.ndarray) -> list[Candidate]:
        await self._catch_up(scope)
        return self._mirror.search(scope, vector)

    async def _catch_up(self, scope: str) -> None:
        import numpy as np

        stream = self._prefix + scope
        after = self._seen.get(scope)
        start = f"({after}" if after else "-"
        entries = await self._shared.call(
            "semantic_read", lambda r: r.xrange(stream, min=start, max="+", count=self.CHUNK), None
        )
        if not entries:
            return
        for _, fields in entries:
            vector = np.frombuffer(fields[b"v"], dtype="<f4")
            words = fields.get(b"w", b"").decode()
            self._mirror.insert(scope, fields[b"k"].decode(), vector, float(fields[b"e"]), words)
        last = entries[-1][0]
        self._seen[scope] = last.decode() if isinstance(last, bytes) else last
