"""The project's set-up files agree with each other."""

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_every_dependency_of_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {requirement_name(s) for s in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {requirement_name(d) for d in env["dependencies"] if isinstance(d, str)}
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pip = {requirement_name(d) for d in pip_section if not d.startswith("-e")}
    assert wanted - conda - pip == set()
    assert '-e ".[dev]"' in pip_section


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme
    assert "make test" in readme


def lock() -> dict[str, object]:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def test_uv_lock_is_up_to_date_with_pyproject() -> None:
    """What `uv sync --locked` checks, without uv: the lock was made from pyproject.toml's requirements as
    they are now (run `make lock` after changing them)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    root = next(package for package in lock()["package"] if package["name"] == project["name"])  # type: ignore[attr-defined]
    locked = {(r["name"], r.get("specifier", ""), r.get("marker", "")) for r in root["metadata"]["requires-dist"]}

    def normal(spec: str, extra: str | None) -> tuple[str, str, str]:
        name, specifier = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", spec).groups()  # type: ignore[union-attr]
        return name.lower().replace("_", "-"), specifier.replace(" ", ""), f"extra == '{extra}'" if extra else ""

    wanted = {normal(spec, None) for spec in project["dependencies"]}
    wanted |= {normal(spec, "dev") for spec in project["optional-dependencies"]["dev"]}
    assert {(n, s.replace(" ", ""), m) for n, s, m in locked} == wanted


def test_uv_lock_pins_one_version_of_every_package_for_linux_python_311() -> None:
    packages = [package for package in lock()["package"] if package["name"] != "gpttrader"]  # type: ignore[attr-defined]
    assert all(package["source"].get("registry") == "https://pypi.org/simple" for package in packages)
    for package in packages:  # a wheel for this machine's kind (or the sdist), pinned by hash
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        assert files, package["name"]
        assert all(file["hash"].startswith("sha256:") for file in files)
    assert {"pytest", "mypy", "ruff", "pandas", "coinbase-advanced-py", "uv"} <= {p["name"] for p in packages}


def test_environment_yml_pins_exactly_what_uv_lock_pins() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pinned = {tuple(line.split(";")[0].strip().split("==")) for line in pip_section if not line.startswith("-e")}
    locked = {(p["name"], p["version"]) for p in lock()["package"] if p["name"] != "gpttrader"}  # type: ignore[attr-defined]
    assert pinned == locked
    assert [d for d in env["dependencies"] if isinstance(d, str)] == ["python=3.11", "pip"]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("changed", ["pyproject.toml", "uv.lock"])
def test_the_install_stamp_is_rebuilt_from_the_lock_when_it_or_pyproject_changes(tmp_path: Path, changed: str) -> None:
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    stamp = tmp_path / ".venv" / ".installed"
    stamp.parent.mkdir()
    stamp.touch()
    newer = stamp.stat().st_mtime + 10
    os.utime(stamp, (newer, newer))

    def plan(*extra: str) -> str:
        return subprocess.run(
            ["make", "-n", *extra, ".venv/.installed"], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout

    assert "sync" not in plan()  # up to date: nothing to do
    assert "sync --locked --extra dev" in plan("-W", changed)
