"""The ONNX int8 embedder: same vectors as torch to within rounding, cached, torch-free at run time."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.config import PROJECT_ROOT, Settings
from qa.errors import IndexUnavailable
from qa.ingest.readers import read_paths
from qa.models import onnx_encoder
from qa.models.embedder import Embedder, default_embedder_path
from qa.stores import add_articles
from qa.stores.local.index import IndexStore

TEXTS = [
    "The harbour authority of Port Elwin closed the northern pier after a storm on Tuesday.",
    "Marta Kovell, the town's mayor, said repairs would cost 2.4 million crowns.",
    "Fishermen were told to use the southern quay until March.",
    "A spokesman for the ferry line declined to comment.",
    "Short.",
    "Elwin Harbour Repairs. " + "The council met again to review the engineers' report on the pier. " * 12,
]


def test_onnx_vectors_agree_with_torch(embedder: Embedder) -> None:
    assert embedder.runtime == "onnx-int8"
    reference = Embedder(runtime="torch")
    onnx, torch = embedder.encode(TEXTS), reference.encode(TEXTS)
    assert onnx.shape == torch.shape == (len(TEXTS), 384)
    cosines = (onnx * torch).sum(axis=1)
    # int8 kernels differ by CPU: mean 0.993 where it has AVX-512 VNNI, 0.988 on an AVX2-only one.
    assert cosines.mean() >= 0.98 and cosines.min() >= 0.97
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-4)
    # Activations are quantised per batch, so a text's vector depends on its batch only
    # within the same rounding.
    one_by_one = np.stack([embedder.encode([t])[0] for t in TEXTS])
    assert (one_by_one * onnx).sum(axis=1).min() >= 0.97
    # Ranking is what retrieval uses: the nearest text to each query is the same for both.
    query = ["Who is the mayor of Port Elwin?"]
    nearest = np.argmax(onnx @ embedder.encode(query)[0])
    assert nearest == np.argmax(torch @ reference.encode(query)[0]) and nearest in (0, 1)


def test_export_is_cached_and_a_damaged_cache_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = []
    real_export = onnx_encoder._export
    monkeypatch.setattr(onnx_encoder, "_export", lambda *a: (exports.append(a), real_export(*a)))
    first = Embedder(cache_dir=tmp_path)
    (folder,) = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert exports and (folder / "model_int8.onnx").is_file()
    vectors = first.encode(TEXTS[:2])

    Embedder(cache_dir=tmp_path)
    assert len(exports) == 1  # reused, not exported again

    (folder / "model_int8.onnx").write_bytes(b"not an onnx file")
    rebuilt = Embedder(cache_dir=tmp_path)
    assert len(exports) == 2
    assert np.allclose(rebuilt.encode(TEXTS[:2]), vectors, atol=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging")]


def _linked_minilm(model: Path) -> Path:
    """The packaged MiniLM as another folder, each file a link to the packaged one."""
    source = default_embedder_path()
    for file in source.rglob("*"):
        if file.is_file():
            target = model / file.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(file, target)
    return model


def _max_pooled(model: Path) -> Path:
    """`model` pooled by max instead of mean: other vectors from the same weights."""
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    pooling.unlink()
    pooling.write_text(json.dumps(config))
    return model


def test_a_model_the_exporter_cannot_run_falls_back_to_torch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Max pooling is not in the ONNX encoder: the same folder still works, on torch."""
    model = _max_pooled(_linked_minilm(tmp_path / "max-pooled-minilm"))
    with caplog.at_level(logging.WARNING, logger="qa.models.embedder"):
        embedder = Embedder(str(model), cache_dir=tmp_path / "cache")
    assert embedder.runtime == "torch" and "runs on torch" in caplog.text
    assert embedder.encode(TEXTS[:1]).shape == (1, 384)


def test_a_model_saved_by_current_sentence_transformers_runs_on_onnx(tmp_path: Path) -> None:
    """sentence-transformers >= 6 writes its pooling mode and length limit in new places (a fine-tuned
    model is saved that way): the exporter reads both, so the vectors match torch's, truncation included."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(default_embedder_path()), device="cpu")
    model.max_seq_length = 64  # the long text is cut here, so a wrong limit would change its vector
    model.save(str(tmp_path / "resaved-minilm"))
    embedder = Embedder(str(tmp_path / "resaved-minilm"), cache_dir=tmp_path / "cache")
    reference = Embedder(str(tmp_path / "resaved-minilm"), runtime="torch")
    assert embedder.runtime == "onnx-int8"
    cosines = (embedder.encode(TEXTS) * reference.encode(TEXTS)).sum(axis=1)
    assert cosines.min() >= 0.97
    full_length = Embedder(runtime="torch").encode(TEXTS[-1:])[0]
    assert float(full_length @ embedder.encode(TEXTS[-1:])[0]) < 0.97


def test_ingest_and_ask_do_not_load_torch(tmp_path: Path) -> None:
    """The default runtime needs only onnxruntime and tokenizers once the export is cached."""
    Embedder()  # make sure the shared cache holds the export
    (tmp_path / "harbour.txt").write_text("Pier closed\n\n" + " ".join(TEXTS[:4]), encoding="utf-8")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import qa\n"
        "from qa.cli import main\n"
        f"main(['ingest', {str(tmp_path / 'harbour.txt')!r}, '--index', 'harbour'])\n"
        "answer = qa.ask('Who is the mayor of Port Elwin?', index='harbour')\n"
        "print(answer.citations[0].sentence if answer.citations else '')\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    env = {**os.environ, "QA_INDEX_DIR": str(tmp_path / "indexes")}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    cited, loaded = result.stdout.strip().splitlines()[-2:]
    assert cited == TEXTS[1]
    assert loaded == "False False"


def test_an_index_refuses_a_model_changed_in_its_folder_and_takes_a_copy(tmp_path: Path) -> None:
    """A model given by path is known by its folder name and a digest of its files: re-trained in
    place (or another model in a folder of that name), it is refused by the index it did not build;
    a copy of the same files elsewhere, with new dates and a hidden file, is the same model."""
    model = _linked_minilm(tmp_path / "mine" / "news-minilm")
    copied = tmp_path / "copied" / "news-minilm"
    copy = shutil.copytree(default_embedder_path(), copied, copy_function=shutil.copy)  # dates not kept
    (copy / ".cache").mkdir()
    (copy / ".cache" / "download.lock").write_text("not the model", encoding="utf-8")
    articles = tmp_path / "harbour.txt"
    articles.write_text(" ".join(TEXTS[:4]), encoding="utf-8")
    settings = Settings.from_env().replace(index_dir=tmp_path / "indexes")
    store = IndexStore(settings.index_dir, "mine")
    built_with = Embedder(str(model), runtime="torch", cache_dir=tmp_path / "cache")
    add_articles(store, read_paths([articles]), built_with, settings, progress=False)

    assert built_with.name.startswith("news-minilm-") and built_with.name != "news-minilm"
    assert store.load(Embedder(str(copy), runtime="torch")).manifest["embedder"]["name"] == built_with.name
    _max_pooled(model)
    with pytest.raises(IndexUnavailable, match="was built with embedder news-minilm-.* Rebuild it"):
        store.load(Embedder(str(model), runtime="torch", cache_dir=tmp_path / "cache"))
