"""Real-KB retrieval benchmark -> docs/benchmarks.md (real-KB section).

Builds the KB into a temporary directory (never var/index), then times single queries end to end
the way the chat runs them: normalisation + embedding + FAISS + BM25 + fusion (`search`) and the
same plus the gate and answer selection (`answer`), with the stages timed apart so a miss shows
what dominates, and `answer` once more with the query vectors computed beforehand (what retrieval/
costs around the model, less noisy than the difference of two rows). CPU time of the one thread
and wall time are both reported (the machine is shared).
The index at scale is measured by scripts/bench_index_scale.py (its own section of the same file).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrieval.embedder import Embedder, Vectors
from retrieval.evaluation import load_eval
from retrieval.settings import REPO_ROOT, RetrievalSettings
from scripts.bench_index_scale import write_section

DOCS = REPO_ROOT / "docs"
BEGIN, END = "<!-- real-kb:begin -->", "<!-- real-kb:end -->"
TARGET_P95_MS = 15.0
ANSWER_WITHOUT_MODEL = "answer without the query's embedding (vector computed beforehand)"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timings(fn: Callable[[str], object], queries: list[str], rounds: int) -> dict[str, float]:
    cpu, wall = [], []
    for _ in range(rounds):
        for q in queries:
            t, c = time.perf_counter(), time.thread_time()
            fn(q)
            cpu.append((time.thread_time() - c) * 1000)
            wall.append((time.perf_counter() - t) * 1000)
    return {
        "p50": float(np.percentile(cpu, 50)),
        "p95": float(np.percentile(cpu, 95)),
        "wall_p50": float(np.percentile(wall, 50)),
        "wall_p95": float(np.percentile(wall, 95)),
    }


class PrecomputedQueries:
    """The embedder with the benchmark questions' vectors computed beforehand: an answer timed with
    it costs only what retrieval/ does around the model (normalising, FAISS, BM25, fusion, the gate,
    answer selection), the part that code changes there move; the model's share is the first row."""

    def __init__(self, inner: Embedder, texts: list[str]) -> None:
        self.name, self.dimension = inner.name, inner.dimension
        self._vectors = {t: inner.embed([t])[0] for t in texts}  # one at a time, as a query is

    def embed(self, texts: list[str], *, progress: bool = False) -> Vectors:
        return np.stack([self._vectors[t] for t in texts])


def bench_real(queries: list[str], rounds: int) -> tuple[dict[str, object], dict[str, dict[str, float]]]:
    import tempfile

    from retrieval.embedder import make_embedder
    from retrieval.index_store import build_index
    from retrieval.knowledge_base import KnowledgeBase
    from retrieval.tokenizer import normalize_query

    settings = RetrievalSettings()
    emb = make_embedder(settings)
    with tempfile.TemporaryDirectory() as tmp:
        s2 = settings.model_copy(update={"index_dir": Path(tmp) / "index"})
        res = build_index(s2, emb, force=True, progress=False)
        kb = KnowledgeBase(s2, emb)
        state = kb._state  # the stages, timed apart (bench only)
        n = min(s2.candidates, len(state.chunks))
        vectors = {q: emb.embed([normalize_query(q)])[0] for q in queries}
        for q in queries[:5]:
            kb.answer(q)
        stages = {
            "normalise + embed": timings(lambda q: emb.embed([normalize_query(q)]), queries, rounds),
            "FAISS (dense)": timings(lambda q: state.dense.search(vectors[q], n), queries, rounds),
            "BM25": timings(lambda q: state.bm25.search(normalize_query(q), n), queries, rounds),
            "search (all of the above + fusion)": timings(kb.search, queries, rounds),
            "answer (search + gate + answer selection)": timings(kb.answer, queries, rounds),
        }
        kb.embedder = PrecomputedQueries(emb, sorted({normalize_query(q) for q in queries}))
        stages[ANSWER_WITHOUT_MODEL] = timings(kb.answer, queries, rounds)
    real: dict[str, object] = {
        "embedder": emb.name,
        "chunks": res.chunks,
        "build_s": res.seconds,
        "chunks_per_s": res.chunks / res.seconds,
        "rss_mb": rss_mb(),
    }
    return real, stages


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions")
    args = parser.parse_args()
    if RetrievalSettings().embedder == "torch":
        import torch

        torch.set_num_threads(1)
    load = os.getloadavg()
    started = time.gmtime()
    queries = [str(r["question"]) for r in load_eval(REPO_ROOT / "tests" / "data" / "kb_eval.jsonl")]
    real, stages = bench_real(queries, args.rounds)
    answer = stages["answer (search + gate + answer selection)"]
    verdict = "meets" if answer["p95"] <= TARGET_P95_MS else "MISSES"
    lines = [
        "## Real knowledge base",
        "",
        f"Generated by `scripts/bench_retrieval.py` on {time.strftime('%Y-%m-%d %H:%M UTC', started)}"
        f" (embedder: {real['embedder']}; it and FAISS on 1 thread; load average at start"
        f" {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
        " on 2 cores shared with other engineers).",
        "",
        "| chunks | build (s) | chunks/s | peak RSS (MB) |",
        "|---|---|---|---|",
        f"| {real['chunks']} | {real['build_s']:.1f} | {real['chunks_per_s']:.1f} | {real['rss_mb']:.0f} |",
        "",
        f"Single queries, {len(queries)} evaluation questions x {args.rounds} passes. CPU = time the one"
        " thread spent (what one core costs); wall also counts waiting for a core on the shared machine.",
        "",
        "| stage | p50 CPU (ms) | p95 CPU (ms) | p50 wall (ms) | p95 wall (ms) |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {t['p50']:.2f} | {t['p95']:.2f} | {t['wall_p50']:.2f} | {t['wall_p95']:.2f} |"
            for name, t in stages.items()
        ),
        "",
        f"Target: real-KB answer p95 <= {TARGET_P95_MS:.0f} ms (CPU, one core): {verdict} "
        f"({answer['p95']:.1f} ms).",
    ]
    DOCS.mkdir(exist_ok=True)
    write_section(DOCS / "benchmarks.md", BEGIN, END, "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
