"""Retrieval settings (env prefix KEFU_KB_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class RetrievalSettings(BaseSettings):
    """Everything that shapes the index or the ranking; part of it goes into the manifest."""

    model_config = SettingsConfigDict(env_prefix="KEFU_KB_", extra="ignore")

    kb_dir: Path = Field(REPO_ROOT / "knowledge_base", description="Knowledge base root (guide/, faq/).")
    extra_docs_dir: Path = Field(
        REPO_ROOT / "knowledge_base" / "documents",
        description="Operator documents (md, txt, html, docx, pdf) indexed too; may not exist.",
    )
    uploads_dir: Path = Field(
        REPO_ROOT / "var" / "kb_uploads",
        description="Documents uploaded in the console's KB workbench (indexed like extra_docs_dir).",
    )
    out_of_domain_path: Path = Field(
        REPO_ROOT / "knowledge_base" / "out_of_domain.txt",
        description="Other organisations' names (banks, airlines, couriers, offices) the gate looks for.",
    )
    upload_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest document upload.")
    reload_check_seconds: float = Field(
        5.0, ge=0.0, description="How often a process checks between requests whether the live index changed."
    )
    seed_path: Path = Field(
        REPO_ROOT.parent / "shared" / "seed" / "service_guide_2025.txt",
        description="Raw service guide used only when guide/ has no documents yet.",
    )
    index_dir: Path = Field(REPO_ROOT / "var" / "index", description="Where the built index lives.")
    model: str = Field(
        "m3e-small", description="Embedding model: 'm3e-small' (installed package), a path or a name."
    )
    embedder: Literal["torch", "onnx"] = Field(
        "onnx",
        description="What runs the embedding model: 'torch' (sentence-transformers) or 'onnx' (ONNX "
        "Runtime, the graph `make onnx` exports to onnx_dir; no torch needed, docs/benchmarks.md).",
    )
    onnx_dir: Path = Field(
        REPO_ROOT / "var" / "models" / "m3e-small",
        description="Folder with model.onnx and tokenizer.json (`make onnx`) for embedder=onnx.",
    )
    quantize: bool = Field(
        True,
        description="embedder=torch: run the model with dynamic int8 linear layers (about 3x faster on CPU).",
    )
    fusion: Literal["rrf", "weighted"] = Field(
        "weighted", description="How dense and BM25 rankings are fused."
    )
    rrf_k: int = Field(20, description="RRF constant k.")
    dense_weight: float = Field(0.5, description="Dense weight (weighted fusion and RRF).")
    bm25_weight: float = Field(0.5, description="BM25 weight (weighted fusion and RRF).")
    faq_weight: float = Field(
        0.8, description="Score multiplier of FAQ answers against guide passages of the same section."
    )
    question_weight: float = Field(
        0.8, description="Score multiplier of typical questions (knowledge_base/questions/)."
    )
    question_threshold: float = Field(
        0.83,
        description="Dense cosine to a typical question that makes an answer confident (docs/kb_gate.md).",
    )
    threshold: float = Field(
        0.70, description="Min dense cosine of the best passage to answer confidently (no typical questions)."
    )
    bm25_min: float = Field(3.0, description="Min BM25 score of the best keyword hit to answer confidently.")
    strong_threshold: float = Field(
        0.78, description="Dense cosine to a passage that is confident on its own (docs/kb_gate.md)."
    )
    domain_threshold: float = Field(
        0.75,
        description="Dense cosine (question or passage) that is enough when the question names a term of "
        "the telecom dictionary (docs/kb_gate.md).",
    )
    foreign_threshold: float = Field(
        1.0,
        description="Dense cosine to a typical question needed when the question names another organisation "
        "(knowledge_base/out_of_domain.txt; 1.0: never answered; docs/kb_gate.md).",
    )
    answer_sections: int = Field(
        5, ge=1, description="Top sections whose passages answer selection ranks for a reply."
    )
    index_type: Literal["auto", "flat", "hnsw", "ivf"] = Field("auto", description="FAISS index kind.")
    top_k: int = Field(5, description="Default number of hits.")
    candidates: int = Field(80, description="Candidates taken from each retriever before fusion.")
    max_chars: int = Field(400, description="Max characters of a chunk body.")
    overlap: int = Field(60, description="Overlap in characters between consecutive chunks of a section.")

    def index_fingerprint(self) -> dict[str, object]:
        """Settings that change what is built (a change triggers a rebuild)."""
        return {
            "format": 4,  # 4: quantized texts embedded one per pass (retrieval/embedder.py)
            "model": self.model,
            "embedder": self.embedder,
            "quantize": self.quantize if self.embedder == "torch" else None,
            "index_type": self.index_type,
            "max_chars": self.max_chars,
            "overlap": self.overlap,
        }
