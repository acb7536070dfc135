"""Build hook: copy the shipped top-level folders into the package, so a wheel carries them.

Developers edit `configs/`, `eval_data/`, `preference_data/`, ... at the top of the repository; a wheel (or a
wheel built from the sdist, whose MANIFEST.in carries the same folders) installs them as `alignlab/_shipped/`,
where `alignlab.paths` finds them through importlib.resources. An editable install reads the checkout instead,
so nothing is copied then. All other packaging settings live in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED_FOLDERS = ("configs", "eval_data", "preference_data", "reward_models", "data", "examples")
# Local outputs and caches that may sit in those folders in a working checkout: never shipped.
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "exports", "annotated", "*.safetensors", "*.bin",
                              "checkpoint-*", ".ipynb_checkpoints")


class BuildPyWithShippedData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "alignlab" / "_shipped"
        for name in SHIPPED_FOLDERS:
            source = root / name
            if source.is_dir():
                shutil.rmtree(target / name, ignore_errors=True)
                shutil.copytree(source, target / name, ignore=SKIP)
        models = target / "reward_models"  # trained models land here locally; only the README ships
        if models.is_dir():
            for entry in models.iterdir():
                if entry.name != "README.md":
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


setup(cmdclass={"build_py": BuildPyWithShippedData})
