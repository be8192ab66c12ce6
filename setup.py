"""Only the package list; everything else is declared in pyproject.toml.

pyproject.toml's `packages.find` cannot name packages outside talkinghead/, and the top-level
checkpoints/ and demos/ folders are installed as talkinghead.checkpoints and talkinghead.demos
([tool.setuptools.package-dir] there)."""

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

DATA_PACKAGES = ["talkinghead.checkpoints", "talkinghead.demos"]


class BuildPy(build_py):
    """Installs the data packages' files and __init__.py but not their scripts: a script there
    (demos/make_examples.py, which needs scikit-image) is a repository tool, not package code."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if package not in DATA_PACKAGES or m[1] == "__init__"]


setup(packages=find_namespace_packages(include=["talkinghead*"]) + DATA_PACKAGES, cmdclass={"build_py": BuildPy})
