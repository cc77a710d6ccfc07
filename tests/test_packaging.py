"""The wheel carries every data file: pyproject's package-data globs cover every file under
archiver/metadata/schemas (and any other non-Python file in the package), and schemas/ at
the top level is that same directory.

setuptools expands each package-data pattern with ``glob(..., recursive=True)`` relative
to the package directory; this test does the same, so a schema, XSD or catalog added in a
place or with a suffix the globs miss fails here (``.ci/run`` also lists the built wheel).
"""

from __future__ import annotations

import glob
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "archiver.metadata"
SCHEMAS = ROOT / "archiver" / "metadata" / "schemas"


def _package_data() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data: dict[str, list[str]] = config["tool"]["setuptools"]["package-data"]
    return data


def covered_files(package_dir: Path, patterns: list[str]) -> set[str]:
    """The files (relative to ``package_dir``) that setuptools would put in the wheel."""
    found = set()
    for pattern in patterns:
        for match in glob.glob(pattern, root_dir=package_dir, recursive=True):
            if (package_dir / match).is_file():
                found.add(Path(match).as_posix())
    return found


def schema_files(schemas: Path = SCHEMAS) -> set[str]:
    """Every file under the schemas directory, relative to the package directory."""
    return {
        path.relative_to(schemas.parent).as_posix()
        for path in schemas.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_every_schema_file_is_package_data() -> None:
    wanted = schema_files()
    assert "schemas/xsd/catalog.xml" in wanted and "schemas/premis.schema.json" in wanted
    missing = wanted - covered_files(SCHEMAS.parent, _package_data()[PACKAGE])
    assert not missing, f"not in the wheel (add to package-data in pyproject.toml): {missing}"


def test_a_schema_the_globs_miss_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "metadata"
    (package / "schemas" / "xsd").mkdir(parents=True)
    for name in ("a.schema.json", "xsd/b.xsd", "xsd/catalog.xml", "extra.yaml", "new/c.json"):
        (package / "schemas" / name).parent.mkdir(parents=True, exist_ok=True)
        (package / "schemas" / name).write_text("x")
    missing = schema_files(package / "schemas") - covered_files(package, _package_data()[PACKAGE])
    assert missing == {"schemas/extra.yaml", "schemas/new/c.json"}


def test_py_typed_is_package_data() -> None:
    assert "py.typed" in covered_files(ROOT / "archiver", _package_data()["archiver"])


def test_every_data_file_in_the_package_is_package_data() -> None:
    """Any file that is not Python (schemas, the gazetteer's TSVs, ...) must be listed under
    the package that holds it, or the installed tool lacks it."""
    data = _package_data()
    missing = []
    for path in sorted((ROOT / "archiver").rglob("*")):
        if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
            continue
        package_dir = path.parent
        while not (package_dir / "__init__.py").is_file():
            package_dir = package_dir.parent
        package = ".".join(package_dir.relative_to(ROOT).parts)
        relative = path.relative_to(package_dir).as_posix()
        if relative not in covered_files(package_dir, data.get(package, [])):
            missing.append(f"{package}: {relative}")
    assert not missing, f"not in the wheel (add to package-data in pyproject.toml): {missing}"


@pytest.mark.skipif(not (ROOT / "schemas").exists(), reason="no top-level schemas/ link")
def test_top_level_schemas_is_the_package_directory() -> None:
    assert (ROOT / "schemas").resolve() == SCHEMAS.resolve()
