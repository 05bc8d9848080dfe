"""The commands of the README and of docs/ run as written: every ``./run_all.sh`` command passes
run_all.sh's own argument and parameter checks (``--check``: nothing executes), every ``python
-m tacr...`` module answers ``--help``, the Python blocks run, the pip and conda commands name
what the project provides. Also run_all.sh's refusals (a misspelt parameter, an empty seed list)."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
README = "\n\n".join(p.read_text() for p in PAGES)  # every page a user reads commands from


def blocks(lang: str, text: str = README) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def inline_commands() -> list[str]:
    """Inline code spans of the prose that are commands (joined when wrapped over lines)."""
    spans = re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", README, flags=re.S))
    return [" ".join(s.split()) for s in spans if re.match(r"^(\w+=\S+ )*(\./run_all\.sh|python |pip |\.venv/bin/python )", s)]


def shell_commands() -> list[str]:
    cmds = []
    for block in blocks("bash"):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                cmds.append(line)
    return cmds + inline_commands()


def strip_comment(cmd: str) -> str:
    """The command without a trailing ``# comment`` (a ``#`` after a blank, outside quotes)."""
    quote = None
    for i, ch in enumerate(cmd):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or cmd[i - 1].isspace()):
            return cmd[:i].rstrip()
    return cmd


RUN_ALL = list(dict.fromkeys(strip_comment(c).strip() for c in shell_commands()
                             if re.match(r"^(\w+=\S+ )*\./run_all\.sh\b", c)))
PYTHON_M = [c for c in shell_commands() if re.match(r"^(\w+=\S+ )*python -m tacr", c)]
PIP = [c for c in shell_commands() if re.search(r"(^|\s)(pip|-m pip) install\b", c)]


def bash(cmd: str, timeout: int = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ, OMP_NUM_THREADS="1")
    e |= env or {}
    return subprocess.run(["bash", "-c", cmd], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=e)


def test_readme_has_commands():
    assert len(RUN_ALL) >= 10 and PYTHON_M and PIP
    assert "./run_all.sh" in RUN_ALL and "./run_all.sh --tests" in RUN_ALL


@pytest.mark.parametrize("cmd", RUN_ALL, ids=lambda c: c[:80])
def test_run_all_command(cmd):
    cmd = strip_comment(cmd).strip()
    args = shlex.split(cmd.split("./run_all.sh", 1)[1])
    if args[:1] == ["--tests"]:  # the dispatch to pytest: collect one small module
        r = bash(cmd + " --collect-only -q tests/test_setup.py")
        assert r.returncode == 0 and "test_notebooks_exist" in r.stdout, r.stdout + r.stderr
        return
    if args[:1] == ["--lab"]:
        pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (the lab extra)")
        r = bash(cmd + " --version", timeout=120)  # JupyterLab parses the arguments, prints its version, exits
        assert r.returncode == 0 and re.search(r"^\d+\.\d+", r.stdout, re.M), r.stdout[-2000:] + r.stderr[-2000:]
        overrides = ROOT / "outputs" / "jupyterlab-settings" / "overrides.d" / "tacr-jupytext.json"
        assert "Jupytext Notebook" in overrides.read_text()
        return
    checked = cmd.replace("./run_all.sh", "./run_all.sh --check", 1)
    r = bash(checked)
    assert r.returncode == 0, f"{cmd}\n{r.stdout}\n{r.stderr}"
    assert ">> plan (nothing is run):" in r.stdout
    for name in re.findall(r"-p (\w+) ", cmd):
        assert f"{name}=" in r.stdout, f"{name} not in the plan of {cmd}:\n{r.stdout}"


@pytest.mark.parametrize("cmd", sorted(set(PYTHON_M)), ids=lambda c: c[:60])
def test_python_module_command(cmd):
    """The module exists and parses its arguments (``--help``: no data, no network needed)."""
    words = shlex.split(strip_comment(cmd))
    module = words[words.index("-m") + 1]
    r = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "usage" in r.stdout.lower(), r.stdout + r.stderr
    for word in words[words.index("-m") + 2:]:
        if not word.startswith("-"):  # a positional choice, e.g. the dataset name, is one the module offers
            assert word in r.stdout, f"{word!r} not offered by {module}: {r.stdout}"


def is_cluster_recipe(code: str) -> bool:
    """A block that needs a cluster (a Dask scheduler, SLURM): compiled and its names checked,
    not run (the Dask path itself runs in tests/test_runs.py on a local cluster)."""
    return "tcp://" in code or "submitit" in code


#: docs/own-data.md's Python blocks run in tests/test_loaders.py (some need the fetched MovieLens files)
OTHER_PAGES = "\n\n".join(p.read_text() for p in PAGES if p.name != "own-data.md")
LOCAL_BLOCKS = [c for c in blocks("python", OTHER_PAGES) if not is_cluster_recipe(c)]
CLUSTER_BLOCKS = [c for c in blocks("python") if is_cluster_recipe(c)]


def test_readme_has_cluster_recipes():
    assert len(CLUSTER_BLOCKS) >= 2 and LOCAL_BLOCKS


@pytest.mark.parametrize("code", CLUSTER_BLOCKS, ids=lambda c: c.splitlines()[0][:50])
def test_cluster_recipe(code):
    """It parses, and every ``from tacr... import name`` and keyword it passes to run_grid exist."""
    import inspect
    import importlib

    compile(code, "<README>", "exec")
    for module, names in re.findall(r"^from (tacr[\w.]*) import (.+)$", code, flags=re.M):
        mod = importlib.import_module(module)
        for name in names.split(","):
            assert hasattr(mod, name.strip()), f"{module}.{name.strip()} does not exist"
    from tacr.runs import run_grid
    params = inspect.signature(run_grid).parameters
    for call in re.findall(r"run_grid\((.*)\)", code):
        for kw in re.findall(r"(\w+)=", call):
            if kw not in ("device", "sampler"):  # keywords of base_config inside the call
                assert kw in params, f"run_grid has no parameter {kw!r}"


@pytest.mark.parametrize("code", LOCAL_BLOCKS, ids=lambda c: c.splitlines()[1][:50] if len(c.splitlines()) > 1 else c[:50])
def test_python_block(code, tmp_path):
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, OMP_NUM_THREADS="1", TACR_CACHE_DIR=str(tmp_path)))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "dataset" in r.stdout and "test" in r.stdout  # the summary table


def test_pip_commands_name_what_exists():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = set(project["project"]["optional-dependencies"])
    pin = re.search(r'"torch==([0-9.]+)"', (ROOT / "run_all.sh").read_text()).group(1)
    for cmd in PIP:
        words = shlex.split(strip_comment(cmd))
        for w in words:
            if m := re.fullmatch(r"\.?\[([\w,]+)\]", w.split(".", 1)[-1] if w.startswith(".") else w):
                assert set(m.group(1).split(",")) <= extras, f"{cmd}: extras {m.group(1)} not in {extras}"
            if w.startswith("torch=="):
                assert w == f"torch=={pin}", f"{cmd}: the bootstrap installs torch=={pin}"
        if "--index-url" in words:
            url = words[words.index("--index-url") + 1]
            assert re.fullmatch(r"https://download\.pytorch\.org/whl/(cpu|cu\d{3})", url), url
            assert "--force-reinstall" in words, "replacing the bootstrap's CPU wheel needs --force-reinstall"


def test_conda_command():
    import yaml

    cmd = re.search(r"`(conda env create -f (\S+) && conda activate (\w+))`", README)
    assert cmd, "README shows the conda commands"
    env = yaml.safe_load((ROOT / cmd.group(2)).read_text())
    assert env["name"] == cmd.group(3)


def test_environment_variables_documented():
    """Every TACR_* variable the code reads is in the README's table."""
    used = set()
    for f in list((ROOT / "tacr").rglob("*.py")):
        used |= set(re.findall(r"\bTACR_[A-Z_]+\b", f.read_text()))
    used -= {"TACR_"}
    documented = set(re.findall(r"\| `(TACR_[A-Z_]+)` \|", README))
    assert used <= documented, f"undocumented: {sorted(used - documented)}"


# ------------------------------------------------------------------------- run_all.sh refusals
@pytest.mark.parametrize("args, says", [
    ("-p sedes 3", "unknown notebook parameter 'sedes' (from -p sedes 3); did you mean 'seeds'?"),
    ("-y 'seeds: []'", "seeds is an empty list"),
    ("-p seeds '[]'", "seeds is an empty list"),
    ("--only 03 -p models '[din]'", "declared by none of the selected notebooks"),
    ("--only 99", "matches no notebook"),
    ("-y 'data_parms: {cache: false}'", "did you mean 'data_params'?"),
    ("-p seeds", "needs a name and a value"),
    ("--frobnicate", "unknown option '--frobnicate'"),
    ("-y '[1, 2]'", "must be a mapping"),
])
def test_run_all_refuses(args, says):
    for check in ("--check ", ""):  # the same check stops a real run before any notebook starts
        r = bash(f"./run_all.sh {check}{args}")
        assert r.returncode == 2, r.stdout + r.stderr
        assert says in r.stderr, r.stderr
        assert ">> 01_data" not in r.stderr


def test_run_all_sends_each_notebook_its_own_parameters(tmp_path):
    r = bash("./run_all.sh --check -p seeds '[0, 1]' -p candidate_sizes '[2, 8]' -y 'temperatures: [1.0]' "
             "--log-output")
    assert r.returncode == 0, r.stderr
    plan = dict(line.strip().split(": ", 1) for line in r.stdout.splitlines()[1:] if line.startswith("   0"))
    assert plan["01_data"] == "seeds='[0, 1]'"
    assert plan["08_candidate_size"] == "candidate_sizes='[2, 8]', seeds='[0, 1]'"
    assert plan["09_temperature"] == "seeds='[0, 1]', temperatures=[1.0]"
    assert "papermill options: --log-output" in r.stdout


# ------------------------------------------------------------------------ run_all.sh running
def test_error_summary_of_an_executed_notebook(tmp_path):
    from tacr._runall import notebook_error

    nb = {"cells": [{"cell_type": "code", "source": "x = 1\n", "outputs": []},
                    {"cell_type": "code", "source": ["study = setup(seeds=seeds)\n"], "outputs": [
                        {"output_type": "error", "ename": "ValueError", "evalue": "seeds is empty",
                         "traceback": ["\x1b[0;31mValueError\x1b[0m  Traceback", "----> 1 setup()",
                                       "\x1b[0;31mValueError\x1b[0m: seeds is empty"]}]}]}
    (tmp_path / "nb.ipynb").write_text(__import__("json").dumps(nb))
    msg = notebook_error(tmp_path / "nb.ipynb")
    assert "'study = setup(seeds=seeds)'" in msg and "ValueError: seeds is empty" in msg and "\x1b" not in msg


@pytest.mark.notebooks
def test_run_all_shows_the_notebooks_error(tmp_path):
    r = bash("./run_all.sh --only 01 -p dataset nosuch -p profile smoke", timeout=300,
             env={"TACR_FIGURES": str(tmp_path / "figs"), "TACR_CACHE": str(tmp_path / "runs")})
    assert r.returncode == 1, r.stderr[-3000:]
    tail = r.stderr[r.stderr.index("FAILED: notebook 01_data"):]
    assert "unknown dataset 'nosuch'" in tail, tail


@pytest.mark.notebooks
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_killing_run_all_ends_every_process(tmp_path):
    """TERM to run_all.sh's process group (what a terminal's Ctrl-C or a job scheduler sends)
    ends papermill, its kernel (in a session of its own) and the kernel's training workers."""
    import signal
    import time

    from tacr._runall import _alive, descendants

    env = dict(os.environ, OMP_NUM_THREADS="1", TACR_FIGURES=str(tmp_path / "figs"), TACR_CACHE=str(tmp_path / "runs"))
    proc = subprocess.Popen(["./run_all.sh", "--only", "02", "-p", "profile", "smoke", "-p", "seeds", "[0, 1]",
                             "-p", "workers", "2"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        kernel = False
        while time.monotonic() < deadline and proc.poll() is None:
            now = descendants(proc.pid)
            seen |= set(now)
            cmdlines = []
            for p in now:
                try:
                    cmdlines.append(Path(f"/proc/{p}/cmdline").read_bytes())
                except OSError:
                    pass
            kernel = kernel or any(b"ipykernel" in c for c in cmdlines)
            if any(b"spawn_main" in c or b"forkserver" in c for c in cmdlines):
                time.sleep(1.0)
                seen |= set(descendants(proc.pid))
                break
            time.sleep(0.3)
        assert kernel, "no kernel started within 90 s"
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and [p for p in seen if _alive(p)]:
            time.sleep(0.3)
        left = [p for p in seen if _alive(p)]
        assert not left, f"still running after TERM: {left}"
        assert proc.returncode in (143, -15), proc.returncode
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.notebooks
def test_run_all_keeps_each_executed_notebook_readable_and_stable(tmp_path):
    """run_all.sh keeps each executed notebook, outputs included (the figures as PNG, the tables,
    the verdicts), without the run's volatile metadata: a rerun with the same numbers writes the
    same bytes. A run at a committed dataset's defaults keeps them in notebooks/executed/<dataset>/
    (tacr.profiles.outputs); this smoke run in outputs/notebooks/<its figures folder>/."""
    import json

    figs = tmp_path / "smoke-kept-figures"
    env = {"TACR_FIGURES": str(figs), "TACR_CACHE": str(tmp_path / "runs")}
    kept = ROOT / "outputs" / "notebooks" / figs.name / "04_overall.ipynb"
    contents = []
    for _ in range(2):  # the second run reads every training run from the cache
        r = bash("./run_all.sh --only 04 -p profile smoke", timeout=600, env=env)
        assert r.returncode == 0, r.stderr[-3000:]
        contents.append(kept.read_bytes())
    assert contents[0] == contents[1]
    nb = json.loads(contents[0])
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert any("time-aware + rGAN beats DIN + uniform" in "".join(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    assert "papermill" not in nb["metadata"] and not any(set(c["metadata"]) - {"tags"} for c in nb["cells"])
    assert not any(o.get("name") == "stderr" for o in outputs)
    kept.unlink()
