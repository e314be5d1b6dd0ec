"""Index sweeps for the scale benchmark: one query at a time on one thread, recall@10 against exact.

Apart from the data generation and the report so that what is timed, and how, is in one place.
"""

from __future__ import annotations

import json
import time

import faiss
import numpy as np

from retrieval.vector_index import FLAT_MAX, build_faiss, choose_type
from scripts.index_scale_data import CACHE, F32, I64

K = 10


def timed_search(index: faiss.Index, xq: F32, k: int = K) -> tuple[I64, list[float], list[float]]:
    """One query at a time: (ids, CPU ms of this thread, wall ms). CPU time is what one core spends;
    wall time also counts waiting for the core on a shared machine."""
    found = np.empty((len(xq), k), dtype=np.int64)
    cpu, wall = [], []
    for i in range(len(xq)):
        t, c = time.perf_counter(), time.thread_time()
        _, ids = index.search(xq[i : i + 1], k)
        cpu.append((time.thread_time() - c) * 1000)
        wall.append((time.perf_counter() - t) * 1000)
        found[i] = ids[0]
    return found, cpu, wall


def recall(found: I64, truth: I64) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))


def nearest(index: faiss.Index, xq: F32) -> F32:
    """Cosine of each query to its nearest indexed vector (exact index, batched search)."""
    scores, _ = index.search(np.ascontiguousarray(xq), 1)
    return np.asarray(scores[:, 0], dtype=np.float32)


def exact(xb: F32, xq: F32) -> I64:
    index = faiss.IndexFlatIP(xb.shape[1])
    index.add(xb)
    _, ids = index.search(xq, K)
    return np.asarray(ids, dtype=np.int64)


Row = dict[str, float | str | int]


def measure(
    label: str, n: int, index: faiss.Index, xq: F32, truth: I64, build_s: float, **extra: float
) -> Row:
    found, cpu, wall = timed_search(index, xq)
    row: Row = {
        "index": label,
        "n": n,
        "build_s": build_s,
        "p50_ms": float(np.percentile(cpu, 50)),
        "p95_ms": float(np.percentile(cpu, 95)),
        "wall_p95_ms": float(np.percentile(wall, 95)),
        "recall": recall(found, truth),
        **extra,
    }
    print(json.dumps(row), flush=True)
    return row


def ivf_curve(xb: F32, xq: F32, truth: I64, nlists: list[int], probes: list[int]) -> list[Row]:
    """IVF-Flat and IVF-SQ8 sharing one trained coarse quantizer per nlist; nprobe swept."""
    n, d = xb.shape
    rows: list[Row] = []
    rng = np.random.default_rng(1)
    for nlist in nlists:
        t = time.process_time()
        quantizer = faiss.IndexFlatIP(d)
        sample = xb[np.sort(rng.choice(n, min(n, nlist * 39), replace=False))]
        for kind in ("IVF-Flat", "IVF-SQ8"):
            index: faiss.IndexIVF
            if kind == "IVF-Flat":
                index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
            else:
                t = time.process_time()
                index = faiss.IndexIVFScalarQuantizer(
                    quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
                )
            index.cp.niter = 10
            index.train(sample)
            index.add(xb)
            build = time.process_time() - t
            for p in probes:
                if p <= nlist:
                    index.nprobe = p
                    rows.append(measure(f"{kind} nlist={nlist}", n, index, xq, truth, build, nprobe=p))
            del index
    return rows


def hnsw_curve(xb: F32, xq: F32, truth: I64, m: int, ef_construction: int, efs: list[int]) -> list[Row]:
    t = time.process_time()
    index = faiss.IndexHNSWFlat(xb.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(xb)
    build = time.process_time() - t
    rows = []
    for ef in efs:
        index.hnsw.efSearch = ef
        rows.append(measure(f"HNSW M={m}", len(xb), index, xq, truth, build, efSearch=ef))
    return rows


def index_bytes(index: faiss.Index) -> int:
    path = CACHE / "size-probe.faiss"
    faiss.write_index(index, str(path))
    size = path.stat().st_size
    path.unlink()
    return size


def product_rows(xb: F32, xq: F32, sizes: list[int], truths: dict[int, I64]) -> list[Row]:
    """What `index_type=auto` builds (retrieval.vector_index) against flat, prefix by prefix."""
    rows = []
    for n in sizes:
        sub = np.ascontiguousarray(xb[:n])
        for kind in ("flat", choose_type(max(n, FLAT_MAX), "auto")):
            t = time.process_time()
            index = build_faiss(sub, kind)
            build = time.process_time() - t
            q = xq if kind != "flat" or n <= 200_000 else xq[:30]  # exact at 1M: 0.1-0.3 s a query
            rows.append(measure(kind, n, index, q, truths[n][: len(q)], build, mb=index_bytes(index) / 2**20))
            del index
    return rows
