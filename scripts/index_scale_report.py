"""The scale section of docs/benchmarks.md and its two plots, from the sweeps' rows.

Apart from the measuring so that the wording can change (and `--report-only` rerun) without touching it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from scripts.index_scale_data import F32
from scripts.index_scale_sweep import Row


def plot_fit(real_nn: F32, synth_nn: F32, real_q: F32, synth_q: F32, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    bins = np.linspace(0.6, 1.0, 41)
    for ax, (a, b, title) in zip(
        axes,
        [
            (real_nn, synth_nn, "chunk -> nearest other chunk"),
            (real_q, synth_q, "real question -> nearest chunk"),
        ],
        strict=True,
    ):
        ax.hist(a, bins=bins, density=True, alpha=0.55, label=f"real KB ({len(a)})")
        ax.hist(b, bins=bins, density=True, alpha=0.55, label=f"synthetic 1M ({len(b)})")
        ax.set_xlabel("cosine")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_curve(rows: list[Row], crossover: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    for label in dict.fromkeys(str(r["index"]) for r in rows):
        pts = [r for r in rows if r["index"] == label]
        ax.plot(
            [r["p95_ms"] for r in pts],
            [r["recall"] for r in pts],
            marker="o",
            label=f"{label} (n={pts[0]['n']:,})",
        )
        for r in pts:
            ax.annotate(
                str(r.get("nprobe", r.get("efSearch", ""))),
                (float(r["p95_ms"]), float(r["recall"])),
                fontsize=7,
            )
    ax.axhline(0.95, color="grey", ls="--", lw=0.8)
    ax.axvline(10, color="grey", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("query p95 (ms, 1 thread)")
    ax.set_ylabel("recall@10 vs exact")
    ax.set_title("recall / latency (labels: nprobe or efSearch)")
    ax.legend(fontsize=7)
    ax = axes[1]
    for kind in dict.fromkeys(str(r["index"]) for r in crossover):
        pts = [r for r in crossover if r["index"] == kind]
        ax.plot([r["n"] for r in pts], [r["p95_ms"] for r in pts], marker="o", label=kind)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks")
    ax.set_ylabel("query p95 (ms, 1 thread)")
    ax.set_title("flat vs auto's approximate index")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def quartiles(x: F32) -> str:
    q = np.percentile(x, [5, 25, 50, 75, 95])
    return " / ".join(f"{v:.3f}" for v in q)


def ks(a: F32, b: F32) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two CDFs."""
    grid = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(np.sort(a), grid, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def table(rows: list[Row], cols: list[tuple[str, str, str]]) -> list[str]:
    out = ["| " + " | ".join(c[1] for c in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(format(r[c[0]], c[2]) if c[0] in r else "" for c in cols) + " |")
    return out


def crossover(product: list[Row]) -> int:
    """Smallest size from which the approximate index is faster (p95 CPU) than flat at recall >= 0.95."""
    sizes = sorted({int(r["n"]) for r in product})
    for n in sizes:
        flat = [r for r in product if r["n"] == n and r["index"] == "flat"]
        approx = [r for r in product if r["n"] == n and r["index"] != "flat"]
        if (
            flat
            and approx
            and float(approx[0]["p95_ms"]) < float(flat[0]["p95_ms"])
            and float(approx[0]["recall"]) >= 0.95
        ):
            return n
    return sizes[-1] if sizes else 0


def report(
    args: argparse.Namespace,
    sigma: float,
    load: tuple[float, float, float],
    started: str,
    real: F32,
    real_nn: F32,
    synth_nn: F32,
    real_q: F32,
    synth_q: F32,
    curve: list[Row],
    hnsw: list[Row],
    product: list[Row],
) -> str:
    cols = [
        ("index", "index", "s"),
        ("n", "n", ","),
        ("nprobe", "nprobe", ".0f"),
        ("efSearch", "efSearch", ".0f"),
        ("build_s", "build (CPU s)", ".1f"),
        ("p50_ms", "p50 CPU (ms)", ".2f"),
        ("p95_ms", "p95 CPU (ms)", ".2f"),
        ("wall_p95_ms", "p95 wall (ms)", ".2f"),
        ("recall", "recall@10", ".3f"),
    ]
    pcols = [*cols[:2], *cols[4:], ("mb", "index size (MB)", ".0f")]
    chosen = next((r for r in curve if r["index"] == "IVF-Flat nlist=1024" and r.get("nprobe") == 16), None)
    cross = crossover(product)
    lines = [
        "## Index scale on embedding-shaped data",
        "",
        f"Generated by `scripts/bench_index_scale.py` on {started};"
        f" FAISS and BLAS on 1 thread; load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
        " on 2 cores shared with other engineers. Latency is the CPU time of the one thread per single query"
        " (what one core spends); wall p95 also counts waiting for a core on the loaded machine.",
        "",
        f"**Data.** Centres: the real KB's {len(real)} chunk vectors (m3e-small int8, 512-d, read from"
        " `var/index/dense.faiss`). A synthetic chunk is a random centre plus Gaussian noise with the"
        " covariance of the real vectors (their spectrum, not isotropic), scaled per centre by the centre's"
        " distance to its nearest real neighbour (dense topics stay dense) and by one global factor"
        f" sigma = {sigma:.3f}, renormalised. Sigma is fitted by bisection so that the median cosine of a"
        f" chunk to its nearest other chunk in the {args.n:,}-chunk set equals the real KB's. Queries: the"
        f" {len(real_q)} real evaluation questions (`tests/data/kb_eval.jsonl`, embedded) plus"
        f" {args.queries - len(real_q)} fresh draws that are not indexed; recall@10 is against exact search.",
        "",
        "| nearest-neighbour cosine (p5 / p25 / p50 / p75 / p95) | real KB | synthetic | KS |",
        "|---|---|---|---|",
        f"| chunk -> nearest other chunk | {quartiles(real_nn)} | {quartiles(synth_nn)}"
        f" | {ks(real_nn, synth_nn):.2f} |",
        f"| real question -> nearest chunk | {quartiles(real_q)} | {quartiles(synth_q)}"
        f" | {ks(real_q, synth_q):.2f} |",
        "",
        "![fit](index_scale_fit.png)",
        "",
        f"**Recall / latency at {args.n:,}** (IVF trained on 39 x nlist sampled points, 10 k-means"
        f" iterations; build in CPU seconds of one core). HNSW only at {args.hnsw_n:,}: its build is the"
        " slowest part (see its build column; at 1M it would take well over 15 min on one core).",
        "",
        *table(curve + hnsw, cols),
        "",
        "![curve](index_scale_curve.png)",
        "",
        "**What `index_type=auto` builds** (`retrieval/vector_index.py`: `ivf_params`) against exact search,"
        " on prefixes of the synthetic set; size is the serialised index:",
        "",
        *table(product, pcols),
        "",
        "**Choice.** "
        + (
            f"At {args.n:,}, IVF-Flat nlist=1024 nprobe=16 gives recall@10 {float(chosen['recall']):.3f} at"
            f" p95 {float(chosen['p95_ms']):.2f} ms CPU, built in {float(chosen['build_s']):.0f} CPU s,"
            f" {args.n * 512 * 4 / 2**30:.1f} GiB of vectors (IVF-SQ8: a quarter of that, lower recall)."
            if chosen
            else "(no IVF-Flat nlist=1024 nprobe=16 row)"
        )
        + f" Flat is slower than that index from about {cross:,} chunks on"
        + " (`FLAT_MAX`, the `auto` threshold).",
        "",
        "Caveat: the synthetic set has as many topics as the real KB (866 centres), so at 1M every topic"
        " holds ~1,150 near-duplicates; a real 1M-chunk corpus has more topics, which makes IVF lists less"
        " aligned with topics. The curve above shows what more probes cost.",
    ]
    return "\n".join(lines)
