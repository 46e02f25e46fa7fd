"""A wheel works outside the checkout: templates and the seed article ship inside it, indexes
go to the user's data folder, and the console script answers a seed question."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from qa.config import PROJECT_ROOT
from tests.conftest import SEED_QUESTION


def test_wheel_installed_elsewhere_answers_a_seed_question(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(PROJECT_ROOT), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(wheels)],
        check=True, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = wheels.glob("qa_news-*.whl")
    # A fresh environment that reuses the dependencies already installed here (not this
    # checkout: the editable install's hooks live in .pth files, which are not read from there).
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "reuse-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        check=True,
    )  # fmt: skip
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"), HF_HUB_OFFLINE="1")
    answer = subprocess.run(
        [env_dir / "bin" / "qa", "ask", SEED_QUESTION], capture_output=True, text=True, cwd=work,
        env=env, timeout=600,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr[-2000:]
    assert "Wang Wenbin" in answer.stdout and "Sources:" in answer.stdout
    listing = subprocess.run(
        [env_dir / "bin" / "qa", "indexes"], capture_output=True, text=True, cwd=work, env=env, timeout=120
    )
    index_dir = tmp_path / "data" / "qa-news" / "indexes"
    assert f"# index folder: {index_dir} (default)" in listing.stderr
    assert listing.stdout.startswith("seeds\t")
    assert not list(Path(site).glob("indexes"))
    assert (Path(site) / "qa" / "_data" / "prompts" / "answer.jinja").is_file()
    # The tuned parts ship inside the package and are what `QA_TUNED=packaged` loads there.
    assert (Path(site) / "qa" / "tuned" / "card.md").is_file()
    loaded = "from qa.answering.tuned import load_tuned; print(load_tuned('packaged').evidence_ranker.name)"
    shipped = subprocess.run(
        [python, "-c", loaded], capture_output=True, text=True, cwd=work, env=env, timeout=120
    )
    assert shipped.stdout.strip() == "learned:tuned", shipped.stderr[-2000:]
