"""The project's plumbing: dependency lists agree, the entry scripts exist and run the tests,
the notebooks have a papermill parameters cell."""
from __future__ import annotations

import ast
import os
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_PARAMETERS = {"dataset", "data_dir", "data_params", "profile", "seeds", "device"}


@pytest.fixture(scope="module")
def pyproject(repo_root):
    return tomllib.loads((repo_root / "pyproject.toml").read_text())


def _reqs(lines) -> dict[str, SpecifierSet]:
    out = {}
    for line in lines:
        r = Requirement(line)
        name = canonicalize_name(r.name)
        assert name not in out, f"{name} listed twice"
        out[name] = r.specifier
    return out


def test_environment_yml_pip_matches_pyproject(repo_root, pyproject):
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    pip = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, "environment.yml needs one pip: section"
    editable = [p for p in pip[0] if p.startswith("-e")]
    assert [e.split(None, 1)[1] for e in editable] == ["."], "environment.yml installs the package itself"
    conda_side = {str(d).split("=")[0] for d in env["dependencies"] if isinstance(d, str)}
    assert {"python", "pip"} <= conda_side
    extras = pyproject["project"]["optional-dependencies"]
    expected = _reqs(pyproject["project"]["dependencies"] + [r for reqs in extras.values() for r in reqs])
    got = _reqs(p for p in pip[0] if not p.startswith("-e"))
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name] == expected[name], f"{name}: {got[name]} vs {expected[name]}"
    # conda's python satisfies requires-python
    py = next(str(d) for d in env["dependencies"] if isinstance(d, str) and str(d).startswith("python"))
    assert SpecifierSet(pyproject["project"]["requires-python"]).contains(py.split("=", 1)[1])


def test_torch_pin_admits_2_13(repo_root, pyproject):
    torch_spec = _reqs(pyproject["project"]["dependencies"])["torch"]
    assert torch_spec.contains("2.13.0")
    assert torch_spec.contains("2.13.0+cpu")
    # the bootstrap's CPU wheel satisfies the pin
    pins = re.findall(r'"torch==([0-9.]+)"', (repo_root / "run_all.sh").read_text())
    assert pins and all(torch_spec.contains(p) for p in pins)


def test_pyarrow_pin_excludes_cve_2023_47248(pyproject):
    spec = _reqs(pyproject["project"]["dependencies"])["pyarrow"]
    assert not spec.contains("14.0.0") and spec.contains("14.0.1")


def test_dev_extras(pyproject):
    dev = _reqs(pyproject["project"]["optional-dependencies"]["dev"])
    assert {"pytest", "pyyaml"} <= dev.keys()


def _code_lines(path):
    return [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.strip().startswith("#")]


def test_entry_scripts_exist_and_ci_runs_tests(repo_root):
    run_all, ci = repo_root / "run_all.sh", repo_root / ".ci" / "run"
    for p in (run_all, ci):
        assert p.is_file(), p
        assert os.access(p, os.X_OK), f"{p} is not executable"
        assert p.read_text().startswith("#!"), f"{p} has no shebang"
    calls = [shlex.split(ln) for ln in _code_lines(ci)]
    assert any(c[-2:] == ["./run_all.sh", "--tests"] and c[0] in ("./run_all.sh", "exec") for c in calls), calls
    assert "--tests" in run_all.read_text()


def test_readme_mentions_commands(repo_root):
    readme = repo_root / "README.md"
    if not readme.exists():
        pytest.skip("no README.md yet")
    text = readme.read_text()
    assert "./run_all.sh --tests" in text
    assert re.search(r"\./run_all\.sh(?!\s+--tests)", text), "README shows ./run_all.sh without --tests"


def test_jupytext_config(repo_root):
    path = repo_root / "jupytext.toml"
    assert path.is_file()
    assert "py:percent" in tomllib.loads(path.read_text()).get("formats", "")


def parameter_cells(text: str) -> list[str]:
    """Bodies of the cells of a percent-format notebook whose header tags them 'parameters'."""
    cells, header, body = [], None, []
    for line in text.splitlines() + ["# %%"]:
        if line.startswith("# %%"):
            if header is not None:
                m = re.search(r"tags\s*=\s*(\[[^\]]*\])", header)
                if m and "parameters" in ast.literal_eval(m.group(1)):
                    cells.append("\n".join(body))
            header, body = line, []
        else:
            body.append(line)
    return cells


def _notebooks(root=ROOT):
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.py"))


def test_notebooks_exist(repo_root):
    assert _notebooks(repo_root), "no notebooks/NN_*.py"


def test_parameter_cell_parser():
    text = '# %% [markdown]\n# x\n\n# %% tags=["parameters"]\na = 1\nb = [1]\n\n# %%\nc = 2\n'
    assert parameter_cells(text) == ["a = 1\nb = [1]\n"]


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_notebook_parameters_cell(path):
    cells = parameter_cells(path.read_text())
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged parameters"
    tree = ast.parse(cells[0])
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    missing = NOTEBOOK_PARAMETERS - names
    assert not missing, f"{path.name}: parameters cell lacks {sorted(missing)}"
