"""CLI: build, search, eval."""

from __future__ import annotations

import argparse
import json
import sys

from retrieval.settings import RetrievalSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrieval")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build the index (skipped when nothing changed)")
    b.add_argument("--force", action="store_true")
    s = sub.add_parser("search", help="search; without a query, one query per stdin line")
    s.add_argument("-k", type=int, default=5)
    s.add_argument("--json", action="store_true", help="JSON output (default)")
    s.add_argument("query", nargs="?")
    e = sub.add_parser("eval", help="hit@1/3/5 and MRR for dense, BM25, hybrid")
    e.add_argument("file")
    a = sub.add_parser("eval-answers", help="share of replies carrying the asked fact and a citation")
    a.add_argument("file")
    a.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    args = parser.parse_args(argv)
    settings = RetrievalSettings()

    if args.cmd == "build":
        from retrieval.embedder import make_embedder
        from retrieval.index_store import build_index, is_up_to_date

        if not args.force and is_up_to_date(settings):
            print(f"index in {settings.index_dir} is up to date")
            return 0
        res = build_index(settings, make_embedder(settings), force=True)
        print(f"built {res.chunks} chunks in {res.seconds:.1f}s -> {settings.index_dir}")
        return 0

    from retrieval.knowledge_base import IndexNotBuiltError, KnowledgeBase

    try:
        kb = KnowledgeBase(settings)
    except IndexNotBuiltError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.cmd == "search":
        queries = [args.query] if args.query is not None else (line.strip() for line in sys.stdin)
        for q in queries:
            if q:
                print(json.dumps(kb.search(q, args.k).to_dict(), ensure_ascii=False), flush=True)
        return 0
    if args.cmd == "eval-answers":
        from retrieval.answer_eval import evaluate_answers, load_rows

        report = evaluate_answers(kb, load_rows(args.file))
        if args.verbose:
            print("\n".join(report.failures))
        print(report.summary())
        return 0
    from retrieval.evaluation import evaluate_file, format_table

    print(format_table(evaluate_file(kb, args.file)))
    return 0
