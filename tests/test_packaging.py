"""The wheel ships every package of the source tree.

pyproject.toml lists the packages by name (the resources folder is mapped into
``latentlab.resources``), so a new sub-package must be added there; the tests run from the
source tree and would not notice a missing one, but an installed LatentLab would fail to
import it (it did, for three panel sub-packages, until this test)."""

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_source_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    on_disk = {".".join(init.parent.relative_to(ROOT).parts)
               for init in (ROOT / "latentlab").rglob("__init__.py")}
    assert on_disk - listed == set()
