"""Ships the repository's `prompts/` and `seeds/` inside the package (as `qa/_data/`).

The top-level folders stay the source of truth; a wheel carries copies, so an installed
`qa` finds its templates and seed article without the checkout (see `qa.config.data_path`).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        for name in ("prompts", "seeds"):
            target = Path(self.build_lib) / "qa" / "_data" / name
            shutil.copytree(ROOT / name, target, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithData})
