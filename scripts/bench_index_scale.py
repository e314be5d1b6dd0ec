"""Index scale benchmark on data shaped like our real embeddings -> docs/benchmarks.md (scale section).

Data: the real KB's chunk vectors (m3e-small, var/index/dense.faiss, read only) are the centres; a
synthetic chunk is a centre plus Gaussian noise with the real vectors' covariance, scaled by one
factor sigma fitted so that the synthetic set's nearest-neighbour cosine distribution matches the
real KB's (median matched by bisection, quartiles and KS shown in the doc). Queries: the real
evaluation questions (tests/data/kb_eval.jsonl, embedded with the KB's embedder) plus fresh draws
from the same generator that are not in the index. Recall@10 is against exact inner product.
Everything runs on ONE thread (FAISS and BLAS); generated data is cached under var/bench/.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrieval.settings import REPO_ROOT, RetrievalSettings  # noqa: E402
from scripts.index_scale_data import CACHE, I64, Generator, cached, nn_cos, real_vectors  # noqa: E402
from scripts.index_scale_report import plot_curve, plot_fit, report  # noqa: E402
from scripts.index_scale_sweep import exact, hnsw_curve, ivf_curve, measure, nearest, product_rows  # noqa: E402

DOCS = REPO_ROOT / "docs"
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"


def write_section(
    path: Path, begin: str, end: str, body: str, header: str = "# Retrieval benchmarks"
) -> None:
    """Replace the text between two markers (or append it), so each bench script owns its part."""
    text = path.read_text(encoding="utf-8") if path.exists() else header + "\n"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000, help="largest synthetic size")
    parser.add_argument("--hnsw-n", type=int, default=50_000, help="HNSW curve size (build is slow)")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the doc from var/bench/scale-results.json"
    )
    parser.add_argument("--sizes", default="2000,5000,10000,20000,50000,200000")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    load = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    settings = RetrievalSettings()
    real, questions = real_vectors(settings)
    real_nn = nn_cos(real, real, same=True)
    gen = Generator.fit_to(real, real_nn)
    target = float(np.median(real_nn))

    def fit() -> npt.NDArray[np.generic]:
        return np.array([gen.fit_sigma(target, args.n)])

    fitted = cached(f"sigma-{len(real)}-{target:.6f}-{args.n}.npy", fit)
    sigma = float(fitted[0])
    print(f"sigma={sigma:.4f}", flush=True)
    tag = f"{args.n}-{sigma:.4f}-{len(real)}"
    xb = np.asarray(cached(f"synthetic-{tag}.npy", lambda: gen.sample(args.n, sigma, 11)), dtype=np.float32)
    extra = gen.sample(args.queries - len(questions), sigma, 12)
    xq = np.ascontiguousarray(np.vstack([questions, extra]), dtype=np.float32)
    probe = gen.sample(500, sigma, 13)  # fresh points: their NN in the big set checks the fit
    sizes = sorted({int(s) for s in args.sizes.split(",") if int(s) < args.n} | {args.n, args.hnsw_n})
    truths: dict[int, I64] = {}
    for n in sizes:

        def truth(n: int = n) -> npt.NDArray[np.generic]:
            return exact(xb[:n], xq)

        truths[n] = np.asarray(cached(f"truth-{tag}-{n}.npy", truth), dtype=np.int64)
    real_q = nn_cos(questions, real, same=False)

    flat = faiss.IndexFlatIP(xb.shape[1])
    flat.add(xb)
    synth_nn, synth_q = nearest(flat, probe), nearest(flat, questions)
    results = CACHE / "scale-results.json"
    if args.report_only:
        del flat
        saved = json.loads(results.read_text())
        curve, hnsw, product = saved["curve"], saved["hnsw"], saved["product"]
        load, started = tuple(saved.get("load", load)), saved.get("started", started)
    else:
        curve = [measure("flat (exact)", args.n, flat, xq[:30], truths[args.n][:30], 0.0)]
        del flat
        curve += ivf_curve(xb, xq, truths[args.n], [1024], [4, 8, 16, 32, 64, 128])
        hnsw = hnsw_curve(
            np.ascontiguousarray(xb[: args.hnsw_n]), xq, truths[args.hnsw_n], 32, 64, [16, 32, 64, 128, 256]
        )
        product = product_rows(xb, xq, [n for n in sizes if n < args.n], truths)
        results.write_text(
            json.dumps({"curve": curve, "hnsw": hnsw, "product": product, "load": load, "started": started})
        )

    DOCS.mkdir(exist_ok=True)
    plot_fit(real_nn, synth_nn, real_q, synth_q, DOCS / "index_scale_fit.png")
    plot_curve(curve + hnsw, product, DOCS / "index_scale_curve.png")
    body = report(args, sigma, load, started, real, real_nn, synth_nn, real_q, synth_q, curve, hnsw, product)
    write_section(DOCS / "benchmarks.md", BEGIN, END, body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
