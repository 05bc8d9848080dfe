"""Every notebook runs end to end with profile=smoke (papermill) and writes its figures and tables."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))

EXPECTED = {
    "00_tuning": ["tuning.csv", "tuning.md", "tuning_trials.csv", "tuning_validation_curves.png"],
    "01_data": ["table1_data.md", "table1_data.csv", "data_history_length.png", "data_planted_effects.png"],
    "02_embedding_comparison": ["fig4_embedding_auc.png", "table2_embedding.md", "table2_embedding.csv", "table2_runs.parquet"],
    "03_sampler_comparison": ["fig5_sampler_auc.png", "table3_sampler.md", "table3_sampler.csv", "table3_sampler_gauc.md",
                              "table3_runs.parquet"],
    "04_overall": ["table4_overall.md", "table4_overall.csv", "table4_overall_auc.png", "table4_runs.parquet"],
    "05_calibration": ["fig6a_bucket_ctr.png", "fig6b_calibration_error.png", "fig6b_calibration_sweep.md",
                       "calibration_reliability.png", "calibration_report.md", "fig6_calibration_runs.parquet"],
    "06_reward_ablation": ["fig7_reward_ablation.png", "fig7_reward_ablation.md", "fig7_runs.parquet"],
    "07_tau": ["fig8_kendall_tau.png", "fig8_kendall_tau.md", "fig8_epochs.parquet"],
    "08_candidate_size": ["fig9_candidate_size.png", "fig9_candidate_size.md", "fig9_runs.parquet"],
    "09_temperature": ["fig10_temperature.png", "fig10_temperature.md", "fig10_runs.parquet"],
}
SMOKE = {"profile": "smoke", "seeds": [0]}
SMALL_SWEEPS = {"00_tuning": {"retune": True, "rows": ["time_aware+uniform", "din+uniform"]},"08_candidate_size": {"candidate_sizes": [2, 8]}, "09_temperature": {"temperatures": [0.0, 20.0], "cosine_temperatures": [1.0]},
                "05_calibration": {"bucket_sweep": [10, 100]}}


@pytest.fixture(scope="session")
def notebook_env(tmp_path_factory):
    figures = tmp_path_factory.mktemp("figures")
    cache = tmp_path_factory.mktemp("runs")
    old = {k: os.environ.get(k) for k in ("TACR_FIGURES", "TACR_CACHE")}
    os.environ["TACR_FIGURES"], os.environ["TACR_CACHE"] = str(figures), str(cache)
    yield figures
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def execute(path: Path, out_dir: Path, **parameters):
    import jupytext
    import papermill as pm

    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = out_dir / f"{path.stem}.input.ipynb"
    jupytext.write(nb, src)
    return pm.execute_notebook(str(src), str(out_dir / f"{path.stem}.ipynb"), parameters=parameters, cwd=str(ROOT),
                               kernel_name="python3", progress_bar=False)


def test_every_notebook_is_tested():
    assert [p.stem for p in NOTEBOOKS] == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_reads_every_parameter(path):
    """papermill's own parser (``papermill --help-notebook``) sees every name of the parameters
    cell: a comment it cannot parse (e.g. one with ``=`` in it) hides the parameter's help and
    makes papermill warn on every run."""
    import ast

    import jupytext
    from papermill.translators import PythonTranslator

    cell = next(c for c in jupytext.read(path).cells if "parameters" in c.metadata.get("tags", []))
    names = [t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
             for t in node.targets if isinstance(t, ast.Name)]
    assert names, f"{path.name}: empty parameters cell"
    assert [p.name for p in PythonTranslator.inspect(cell)] == names


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_on_smoke(path, notebook_env, tmp_path, monkeypatch):
    # one folder for every notebook, as run_all.sh; the tuning table its own (the others train untuned)
    folder = tmp_path / "tuned" if path.stem == "00_tuning" else notebook_env
    monkeypatch.setenv("TACR_FIGURES", str(folder))
    execute(path, tmp_path, **SMOKE, **SMALL_SWEEPS.get(path.stem, {}))
    for name in EXPECTED[path.stem]:
        f = folder / name
        assert f.exists() and f.stat().st_size > 0, f"{path.stem} did not write {name}"


# ------------------------------------------------------------------ every notebook on every real-data fixture
FIXTURES = {"taobao": "taobao", "movielens-1m": "ml-1m", "movielens-100k": "ml-100k", "table": "table"}
FIXTURE_PARAMS = {"profile": "smoke", "seeds": [0], "epochs": 1, "workers": 1}


def execute_in_process(path: Path, **parameters) -> dict:
    """Run a notebook's code cells in this interpreter, with ``parameters`` injected after its
    parameters cell as papermill would (no kernel start-up: fast enough for many datasets)."""
    import jupytext
    import matplotlib.pyplot as plt

    nb = jupytext.read(path)
    namespace = {"__name__": "__notebook__"}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        exec(compile(cell.source, str(path), "exec"), namespace)
        if "parameters" in cell.metadata.get("tags", []):
            namespace.update(parameters)
    plt.close("all")
    return namespace


@pytest.mark.notebooks
@pytest.mark.parametrize("dataset", sorted(FIXTURES))
def test_every_notebook_runs_on_each_fixture(dataset, notebook_env, tmp_path, monkeypatch):
    monkeypatch.setenv("TACR_CACHE_DIR", str(tmp_path / "data-cache"))  # keep tests/fixtures clean
    monkeypatch.setenv("TACR_FIGURES", str(tmp_path / "figures"))
    monkeypatch.setenv("TACR_CACHE", str(tmp_path / "runs"))
    data_dir = str(ROOT / "tests" / "fixtures" / FIXTURES[dataset])
    for path in NOTEBOOKS:
        ns = execute_in_process(path, dataset=dataset, data_dir=data_dir, **FIXTURE_PARAMS,
                                **SMALL_SWEEPS.get(path.stem, {}))
        assert ns["S"].data.name.startswith(dataset.split("-")[0]), path.stem
        for name in EXPECTED[path.stem]:
            if name == "data_planted_effects.png":  # simulator only
                continue
            assert (tmp_path / "figures" / name).exists(), f"{path.stem} on {dataset} did not write {name}"
