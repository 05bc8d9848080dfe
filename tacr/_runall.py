"""The helpers of ``run_all.sh``: the parameter check and plan, process-tree supervision, the
error of a failed notebook, and the JupyterLab launch. run_all.sh runs this file as a script
(no package import, so a check takes a fraction of a second); ``python -m tacr._runall`` works too.

``python tacr/_runall.py plan [--base DIR] [--only TEXT] OUT_DIR -- PAPERMILL_ARGS``
    Reads the ``tags=["parameters"]`` cell of every ``notebooks/NN_*.py``, checks that each
    parameter given with ``-p``/``-r``/``-y``/``-f``/``-b`` (or their long forms) is declared
    by at least one notebook (a misspelt name stops the run before anything executes, with the
    closest names), that a seed list is not empty, and that ``--only`` matches a notebook.
    Writes, for each selected notebook, ``OUT_DIR/<name>.params.yaml`` holding only the
    parameters that notebook declares (so papermill warns about none) and
    ``OUT_DIR/papermill.args`` (the other papermill options, NUL-separated). Prints first where
    the run's results go, as :func:`tacr.profiles.outputs` decides from the parameters:
    ``outputs\\t<figures folder>\\t<results page or ->\\t<kept notebooks folder>``, then one
    line per notebook:
    ``<name>\\t<source .py>\\t<parameters file>\\t<parameters shown>``. Exit 2 on a bad
    parameter or option.
``python tacr/_runall.py supervise -- CMD ...``
    Runs CMD as a child; on SIGINT/SIGTERM, and when CMD ends, ends every process below this
    one, also those whose parent died first (Linux: this process is their subreaper). A
    papermill kernel runs in its own session: killing ``run_all.sh``'s process group alone
    does not reach it or the workers it started.
``python tacr/_runall.py error NOTEBOOK.ipynb``
    Prints the error a papermill-executed notebook stopped on (the cell's exception and the
    last lines of its traceback).
``python tacr/_runall.py keep EXECUTED.ipynb DEST.ipynb``
    Writes a papermill-executed notebook to DEST with its outputs (figures, tables, verdicts)
    but without what changes from one run to the next with the same numbers: papermill's and
    the kernel's timing metadata, the run's paths, and the stderr streams (progress bars,
    warnings); atomically.
``python tacr/_runall.py lab [JUPYTER ARGS]``
    Starts JupyterLab in ``notebooks/`` with ``.py`` files opening as notebooks (jupytext's
    "Jupytext Notebook" viewer as the default for Python files, set for this launch only).
"""
from __future__ import annotations

import ast
import base64
import difflib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file: tacr.profiles is import-light (no torch)
    sys.path.insert(0, str(ROOT))

#: papermill's options that set parameters: short form -> long forms
PARAM_OPTIONS = {"-p": ("--parameters",), "-r": ("--parameters_raw",), "-y": ("--parameters_yaml",),
                 "-f": ("--parameters_file",), "-b": ("--parameters_base64",)}
#: papermill's other options that take a value
VALUE_OPTIONS = {"--engine", "--autosave-cell-every", "-k", "--kernel", "-l", "--language", "--cwd",
                 "--stdout-file", "--stderr-file", "--log-level", "--start-timeout", "--start_timeout",
                 "--execution-timeout"}
#: papermill's flags
FLAG_OPTIONS = {"--inject-input-path", "--inject-output-path", "--inject-paths", "--request-save-on-cell-execute",
                "--no-request-save-on-cell-execute", "--prepare-only", "--prepare-execute", "--progress-bar",
                "--no-progress-bar", "--log-output", "--no-log-output", "--report-mode", "--no-report-mode"}


class PlanError(ValueError):
    """A run_all.sh argument that cannot work; the message says which and why."""


# ------------------------------------------------------------------------------ parameters
def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.py"))


def parameter_cell(text: str) -> str:
    """The body of the ``tags=["parameters"]`` cell of a percent-format notebook ("" if none)."""
    header, body = None, []
    for line in text.splitlines() + ["# %%"]:
        if line.startswith("# %%"):
            if header is not None:
                m = re.search(r"tags\s*=\s*(\[[^\]]*\])", header)
                if m and "parameters" in ast.literal_eval(m.group(1)):
                    return "\n".join(body)
            header, body = line, []
        else:
            body.append(line)
    return ""


def declared(path: Path) -> dict[str, str]:
    """name -> default (source text) of the parameters a notebook declares."""
    out = {}
    cell = parameter_cell(path.read_text())
    for node in ast.parse(cell).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Name):
                out[t.id] = ast.get_source_segment(cell, node.value) if node.value else ""
    return out


def _resolve(value: str):
    """papermill's -p typing (``papermill.cli._resolve_type``, whose import takes seconds):
    True/False/None, int, float, else the text."""
    if value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[value]
    for conv in (int, float):
        try:
            return conv(value)
        except ValueError:
            pass
    return value


def _yaml(text: str, where: str) -> dict:
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"{where}: not valid YAML: {exc}") from exc
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PlanError(f"{where}: YAML parameters must be a mapping such as 'seeds: [0, 1]', got {value!r}")
    return value


def _unbase64(text: str, option: str) -> str:
    """The text of papermill's ``-b`` (base64 of a YAML mapping); bad base64 is a PlanError."""
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:  # binascii.Error is a ValueError
        raise PlanError(f"{option} {text!r}: not base64 of UTF-8 text ({exc}); give e.g. "
                        f"{option} $(printf 'seeds: [0, 1]' | base64)") from None


def _params_module():
    """``tacr/params.py`` loaded by path (the package's import would cost seconds here)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_tacr_params", Path(__file__).resolve().parent / "params.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


#: Parameters checked at plan time by their function in tacr/params.py (device, profile and
#: dataset are checked by tacr.study.setup before anything runs: they need the package).
PLAN_CHECKS = {"seeds": "as_seeds", "epochs": "as_epochs", "workers": "as_workers"}


def _check_value(name: str, value, given: str) -> None:
    if name not in PLAN_CHECKS or value is None:
        return
    params = _params_module()
    try:
        getattr(params, PLAN_CHECKS[name])(value)
    except ValueError as exc:
        raise PlanError(f"{exc} (from {given})") from None


def split_args(args: list[str], base: Path | None = None) -> tuple[list[tuple[str, str, object]], list[str]]:
    """([(name, option as given, value)], other papermill args) of run_all.sh's papermill part;
    a relative ``-f`` file is read from ``base`` (the caller's folder)."""
    params: list[tuple[str, str, object]] = []
    other: list[str] = []
    short = {long: s for s, longs in PARAM_OPTIONS.items() for long in longs}
    i = 0
    while i < len(args):
        a = args[i]
        opt, inline = (a.split("=", 1) + [None])[:2] if a.startswith("--") and "=" in a else (a, None)
        kind = opt if opt in PARAM_OPTIONS else short.get(opt)
        if kind in ("-p", "-r"):
            if inline is not None or len(args) - i < 3:
                raise PlanError(f"{opt} needs a name and a value, e.g. {opt} seeds '[0, 1]'")
            name, value = args[i + 1], args[i + 2]
            params.append((name, f"{a} {name} {value}", _resolve(value) if kind == "-p" else value))
            i += 3
            continue
        if kind in ("-y", "-f", "-b"):
            if inline is None:
                if i + 1 >= len(args):
                    raise PlanError(f"{a} needs a value")
                text, i = args[i + 1], i + 2
            else:
                text, i = inline, i + 1
            if kind == "-f":
                p = Path(text).expanduser()
                p = p if p.is_absolute() or base is None else Path(base) / p
                if not p.is_file():
                    raise PlanError(f"{a} {text}: no such parameters file")
                mapping = _yaml(p.read_text(), f"{a} {text}")
            elif kind == "-b":
                mapping = _yaml(_unbase64(text, a), f"{a} (base64)")
            else:
                mapping = _yaml(text, f"{a} {text!r}")
            for name, value in mapping.items():
                params.append((str(name), f"{a} {text!r}" if kind != "-f" else f"{a} {text}", value))
            continue
        if opt not in VALUE_OPTIONS and opt not in FLAG_OPTIONS:
            what = "option" if a.startswith("-") else "argument"
            raise PlanError(f"unknown {what} {a!r}: run_all.sh takes --only NAME, --check, then papermill's "
                            "parameter options (-p NAME VALUE, -r NAME TEXT, -y YAML, -f FILE) and options "
                            "(papermill --help)")
        other.append(a)
        if opt in VALUE_OPTIONS and inline is None:
            if i + 1 >= len(args):
                raise PlanError(f"{a} needs a value")
            other.append(args[i + 1])
            i += 2
        else:
            i += 1
    return params, other


def _is_empty_list(value) -> bool:
    if isinstance(value, (list, tuple)):
        return len(value) == 0
    if isinstance(value, str):
        text = value.strip()
        if text in ("", "[]", "()"):
            return True
    return False


def plan(args: list[str], only: str = "", root: Path = ROOT, base: Path | None = None
         ) -> tuple[list[tuple[Path, dict]], list[str]]:
    """[(notebook, its parameters)], other papermill args; raises :class:`PlanError`."""
    books = notebooks(root)
    selected = [p for p in books if not only or only in p.stem]
    if not selected:
        raise PlanError(f"--only {only!r} matches no notebook; the notebooks are {[p.stem for p in books]}")
    params, other = split_args(args, base)
    per_book = {p: declared(p) for p in books}
    known = sorted(set().union(*per_book.values()))
    for name, given, value in params:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=2, cutoff=0.7)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise PlanError(f"unknown notebook parameter {name!r} (from {given}){hint} "
                            f"The notebooks' parameters are: {', '.join(known)}.")
        if not any(name in per_book[p] for p in selected):
            owners = [p.stem for p in books if name in per_book[p]]
            raise PlanError(f"parameter {name!r} (from {given}) is declared by none of the selected notebooks "
                            f"{[p.stem for p in selected]}; only by {owners}")
        if name == "seeds" and _is_empty_list(value):
            raise PlanError(f"seeds is an empty list (from {given}): every result is a mean over seeds; "
                            "give at least one, e.g. -p seeds '[0]' or -y 'seeds: [0, 1]'")
        _check_value(name, value, given)
    values = {name: value for name, _, value in params}  # the last one given wins, as in papermill
    return [(p, {k: v for k, v in values.items() if k in per_book[p]}) for p in selected], other


def run_outputs(books: list[tuple[Path, dict]], only: str = ""):
    """Where the run's results go (:func:`tacr.profiles.outputs` on its parameters)."""
    from tacr.profiles import DEFAULT_DATASET, outputs

    values = {k: v for _, vals in books for k, v in vals.items()}
    try:
        return outputs(values.get("dataset", DEFAULT_DATASET), values.get("profile"), values.get("seeds"),
                       values.get("epochs"), partial=bool(only))
    except ValueError as exc:
        raise PlanError(str(exc)) from exc


def write_plan(out_dir: Path, args: list[str], only: str = "", root: Path = ROOT, base: Path | None = None) -> list[str]:
    import yaml

    out_dir.mkdir(parents=True, exist_ok=True)
    books, other = plan(args, only, root, base)
    out = run_outputs(books, only)
    lines = [f"outputs\t{out.figures}\t{out.page or '-'}\t{out.notebooks}"]
    for p, values in books:
        f = out_dir / f"{p.stem}.params.yaml"
        f.write_text(yaml.safe_dump(values, sort_keys=True, allow_unicode=True) if values else "{}\n")
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(values.items())) or "(defaults)"
        lines.append(f"{p.stem}\t{p}\t{f}\t{shown}")
    (out_dir / "papermill.args").write_bytes(b"".join(a.encode() + b"\0" for a in other))
    return lines


# ------------------------------------------------------------------------------- supervise
def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    if not kids:  # no /proc (macOS): ps
        try:
            out = subprocess.run(["ps", "-A", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
        except OSError:
            return {}
        for line in out.splitlines():
            pid, ppid = (int(x) for x in line.split())
            kids.setdefault(ppid, []).append(pid)
    return kids


def descendants(pid: int) -> list[int]:
    kids, out, todo = _children_map(), [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_tree(pid: int = 0, grace: float = 3.0) -> None:
    """TERM every descendant of ``pid`` (default: this process) and the process groups they
    lead (a kernel's workers share its group), then KILL what is left after ``grace`` s."""
    pid = pid or os.getpid()
    own_group = os.getpgid(0)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        procs = descendants(pid)
        if not procs:
            return
        for p in procs:
            try:
                if os.getpgid(p) == p and p != own_group:
                    os.killpg(p, sig)
                os.kill(p, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + (grace if sig == signal.SIGTERM else 1.0)
        while time.monotonic() < deadline:
            _reap()
            if not [p for p in descendants(pid) if _alive(p)]:
                return
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def supervise(cmd: list[str]) -> int:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            pass
    child = subprocess.Popen(cmd)

    def stop(signum, _frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        kill_tree()
        signal.signal(signum, signal.SIG_DFL)  # die of the signal, so the shell sees an interrupted child
        os.kill(os.getpid(), signum)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    rc = child.wait()
    kill_tree(grace=1.0)  # whatever the command left behind (orphans reparented to us)
    return rc


# ----------------------------------------------------------------------------------- error
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def notebook_error(path: Path, tail: int = 12) -> str:
    """The exception a papermill-executed notebook stopped on, with the last traceback lines."""
    try:
        nb = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        return f"(no executed notebook to read the error from: {exc})"
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") != "PapermillExecutionError":
                tb = [_ANSI.sub("", line) for line in out.get("traceback", [])]
                lines = "\n".join(tb).splitlines()
                body = "\n".join(lines[-tail:])
                src = "".join(cell.get("source", ""))
                first = src.strip().splitlines()[0] if src.strip() else ""
                return f"in the cell starting {first!r}:\n{body}"
    return "(the notebook holds no error output; see papermill's messages above)"


# ------------------------------------------------------------------------------------ keep
#: Notebook metadata kept in a kept notebook (the rest is the run's: papermill's paths and times).
KEEP_METADATA = ("kernelspec", "language_info", "jupytext")


def stable_notebook(nb: dict) -> dict:
    """``nb`` (nbformat JSON) without volatile metadata and stderr streams; outputs kept."""
    nb = dict(nb)
    nb["metadata"] = {k: v for k, v in nb.get("metadata", {}).items() if k in KEEP_METADATA}
    info = nb["metadata"].get("language_info")
    if isinstance(info, dict):  # the Python patch version is the machine's, not the run's
        nb["metadata"]["language_info"] = {k: v for k, v in info.items() if k != "version"}
    cells = []
    for cell in nb.get("cells", []):
        cell = dict(cell)
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k == "tags"}
        cell.pop("id", None)
        if "outputs" in cell:
            cell["outputs"] = [o for o in cell["outputs"] if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        cells.append(cell)
    nb["cells"] = cells
    nb["nbformat_minor"] = min(nb.get("nbformat_minor", 4), 4)  # 4.4: no cell ids to churn
    return nb


def keep(executed: Path, dest: Path) -> None:
    nb = stable_notebook(json.loads(Path(executed).read_text()))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, dest)


# ------------------------------------------------------------------------------------- lab
VIEWERS = {"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}


def lab_settings_dir(root: Path = ROOT) -> Path:
    """An app-settings folder for this launch: the environment's own (copied), plus an
    override that opens Python files with jupytext's notebook viewer."""
    import shutil

    try:
        from jupyterlab.commands import get_app_dir

        base = Path(get_app_dir()) / "settings"
    except ImportError:
        base = None
    out = root / "outputs" / "jupyterlab-settings"
    if out.exists():
        shutil.rmtree(out)
    if base is not None and base.is_dir():
        shutil.copytree(base, out)
    (out / "overrides.d").mkdir(parents=True, exist_ok=True)
    (out / "overrides.d" / "tacr-jupytext.json").write_text(json.dumps(VIEWERS, indent=1) + "\n")
    return out


def lab(args: list[str], root: Path = ROOT) -> None:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        sys.exit("JupyterLab is not installed in this environment: pip install -e '.[lab]' "
                 "(./run_all.sh's bootstrap installs it in .venv)")
    settings = lab_settings_dir(root)
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root / 'notebooks'}",
           f"--LabApp.app_settings_dir={settings}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers: Jupyter refuses root without it
        cmd.append("--allow-root")
    cmd += args
    print(f">> JupyterLab in {root / 'notebooks'}: the .py files open as notebooks (jupytext)", file=sys.stderr)
    os.execv(sys.executable, cmd)


# ------------------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "plan":
        only, base = "", None
        while rest[:1] in (["--only"], ["--base"]):
            if rest[0] == "--only":
                only = rest[1]
            else:
                base = Path(rest[1])
            rest = rest[2:]
        out_dir = Path(rest[0])
        pm_args = rest[2:] if rest[1:2] == ["--"] else rest[1:]
        try:
            lines = write_plan(out_dir, pm_args, only, base=base)
        except PlanError as exc:
            print(f"run_all.sh: {exc}", file=sys.stderr)
            return 2
        print("\n".join(lines))
        return 0
    if cmd == "supervise":
        return supervise(rest[1:] if rest[:1] == ["--"] else rest)
    if cmd == "error":
        print(notebook_error(Path(rest[0])))
        return 0
    if cmd == "keep":
        keep(Path(rest[0]), Path(rest[1]))
        return 0
    if cmd == "lab":
        lab(rest)
        return 0
    print(f"unknown command {cmd!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
