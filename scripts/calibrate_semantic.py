"""Calibrate the semantic cache's threshold on the labelled request pairs shipped in tests/data.

Each pair is two requests' prose (what the semantic cache embeds): `same` pairs are paraphrases that deserve
the same answer, `different` pairs are near-misses that need another answer ("in Python" / "in Go",
ascending / descending, 5 / 10). For every threshold the sweep prints

  hit rate          paraphrases answered from the cache: same pairs at or above the threshold / same pairs
  wrong-hit rate    hits that are wrong answers: different pairs at or above / all pairs at or above
  near-miss hits    different pairs at or above / different pairs

and names the lowest threshold whose wrong-hit rate is under 1 % (the default in config/sections.py).

    python scripts/calibrate_semantic.py [--pairs FILE] [--from 0.80] [--step 0.01]
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "semantic_pairs.tsv"
TARGET_WRONG_HIT_RATE = 0.01


@dataclass(frozen=True)
class Pair:
    same: bool
    a: str
    b: str


@dataclass(frozen=True)
class Point:
    threshold: float
    hit_rate: float
    wrong_hit_rate: float
    near_miss_hit_rate: float
    hits: int
    wrong_hits: int


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [Pair(row["label"] == "same", row["a"], row["b"]) for row in rows]


def similarities(pairs: list[Pair], guard: bool = True) -> list[float]:
    """Cosine similarity of each pair with the cache's own embedder (all-MiniLM-L6-v2 on onnxruntime); 0 for a
    pair the cache never compares (different salient terms, or shared words in another order: pipeline/salient.py),
    unless `guard` is off."""
    from orchestrator.pipeline.salient import comparable, content_words, salient_terms
    from orchestrator.providers.minilm import MiniLMEmbedder

    model = MiniLMEmbedder()
    texts = sorted({t for p in pairs for t in (p.a, p.b)})
    vectors = {t: model.embed(t) for t in texts}
    result = []
    for pair in pairs:
        a, b = vectors[pair.a], vectors[pair.b]
        assert a is not None and b is not None, "every calibration text fits the model's window"
        alike = salient_terms(pair.a) == salient_terms(pair.b) and comparable(
            content_words(pair.a), content_words(pair.b)
        )
        result.append(float(a @ b) if alike or not guard else 0.0)
    return result


def point(pairs: list[Pair], scores: list[float], threshold: float) -> Point:
    hits = sum(1 for p, s in zip(pairs, scores, strict=True) if p.same and s >= threshold)
    wrong = sum(1 for p, s in zip(pairs, scores, strict=True) if not p.same and s >= threshold)
    same = sum(p.same for p in pairs)
    different = len(pairs) - same
    return Point(
        threshold,
        hits / same if same else 0.0,
        wrong / (hits + wrong) if hits + wrong else 0.0,
        wrong / different if different else 0.0,
        hits,
        wrong,
    )


def sweep(pairs: list[Pair], scores: list[float], start: float = 0.80, step: float = 0.01) -> list[Point]:
    count = round((1.0 - start) / step) + 1
    return [point(pairs, scores, round(start + i * step, 4)) for i in range(count)]


def lowest_safe(points: list[Point]) -> Point | None:
    """The lowest threshold with a wrong-hit rate under the target (and at least one hit)."""
    safe = [p for p in points if p.hits and p.wrong_hit_rate < TARGET_WRONG_HIT_RATE]
    return min(safe, key=lambda p: p.threshold) if safe else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--from", dest="start", type=float, default=0.80)
    parser.add_argument("--step", type=float, default=0.01)
    parser.add_argument("--no-guard", action="store_true", help="compare every pair (the embedding alone)")
    args = parser.parse_args(argv)
    pairs = load_pairs(args.pairs)
    scores = similarities(pairs, guard=not args.no_guard)
    same = sum(p.same for p in pairs)
    print(f"{len(pairs)} pairs: {same} paraphrases, {len(pairs) - same} near-misses ({args.pairs.name})")
    print(f"{'threshold':>9}  {'hit rate':>8}  {'wrong-hit rate':>14}  {'near-miss hits':>14}")
    points = sweep(pairs, scores, args.start, args.step)
    for p in points:
        print(
            f"{p.threshold:9.2f}  {p.hit_rate:8.1%}  {p.wrong_hit_rate:14.2%}  {p.near_miss_hit_rate:14.1%}"
            f"   ({p.hits} hits, {p.wrong_hits} wrong)"
        )
    best = lowest_safe(points)
    if best is None:
        print(f"no threshold keeps the wrong-hit rate under {TARGET_WRONG_HIT_RATE:.0%}")
    else:
        print(
            f"lowest threshold with a wrong-hit rate under {TARGET_WRONG_HIT_RATE:.0%}: {best.threshold:.2f} "
            f"(hit rate {best.hit_rate:.1%}, wrong-hit rate {best.wrong_hit_rate:.2%})"
        )


if __name__ == "__main__":
    main()
