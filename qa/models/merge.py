"""Fold a GGUF LoRA adapter into its model, once, into the user cache.

llama.cpp applies an adapter as extra matrix products on every layer at every token, which
slows reading a prompt several times over for a model this small. Merged, the adapted weights
are the model's own (8-bit, `Q8_0`, which gguf writes; the other tensors are copied as they
are), and answering costs what the base model costs."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from filelock import FileLock

from qa.errors import ModelError

_LORA = re.compile(r"^(.*\.weight)\.lora_([ab])$")


def merged_model(model: Path, adapter: Path, cache: Path) -> Path:
    """The merged model file for `model` + `adapter`, made on first use (keyed by both files'
    sizes, modification times and the adapter's bytes)."""
    key = hashlib.sha256(adapter.read_bytes())
    key.update(f"{model.resolve()}|{model.stat().st_size}|{model.stat().st_mtime_ns}".encode())
    target = cache / "merged" / f"{model.stem}-{key.hexdigest()[:16]}.gguf"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not target.is_file():
            merge(model, adapter, target)
    return target


def merge(model: Path, adapter: Path, target: Path) -> None:
    """Write `model` with each adapted weight W replaced by W + alpha/rank * B A (atomic)."""
    import gguf
    import numpy as np

    try:
        lora = gguf.GGUFReader(str(adapter))
        alpha = float(lora.fields[gguf.Keys.Adapter.LORA_ALPHA].contents())
        pairs: dict[str, dict[str, np.ndarray]] = {}
        for tensor in lora.tensors:
            match = _LORA.match(tensor.name)
            if not match:
                raise ValueError(f"unexpected tensor {tensor.name}")
            pairs.setdefault(match.group(1), {})[match.group(2)] = np.asarray(tensor.data, dtype=np.float32)
        base = gguf.GGUFReader(str(model))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"Cannot merge the adapter {adapter} into {model}: {exc}") from exc
    tmp = target.with_suffix(".tmp")
    writer = gguf.GGUFWriter(str(tmp), arch=str(base.fields[gguf.Keys.General.ARCHITECTURE].contents()))
    for field in base.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), value_type, sub_type=sub_type)
    tensors = []
    for tensor in base.tensors:
        pair = pairs.pop(tensor.name, None)
        if pair is None:
            tensors.append((tensor.name, tensor.data, tensor.tensor_type))
            continue
        a, b = pair["a"], pair["b"]  # (rank, in), (out, rank)
        weight = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        weight += (alpha / a.shape[0]) * (b @ a)
        q8 = gguf.GGMLQuantizationType.Q8_0
        tensors.append((tensor.name, gguf.quants.quantize(weight, q8), q8))
    if pairs:
        raise ModelError(f"The adapter {adapter} adapts tensors {model} does not have: {sorted(pairs)[:3]}")
    for name, data, kind in tensors:
        writer.add_tensor_info(name, data.shape, data.dtype, data.nbytes, kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, data, _ in tensors:
        writer.write_tensor_data(data)
    writer.close()
    tmp.replace(target)
