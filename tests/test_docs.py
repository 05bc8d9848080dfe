"""The front door: the README is a page a newcomer reads (short, the claims and the commands on
its first screen), every relative link in README and docs/ resolves, anchors included, and the
project cites nothing outside itself."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces as
    hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    out = set()
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    for title in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", re.sub(r"`", "", title).lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return [m for m in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"^[a-z]+:", m)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    for link in links(page):
        target, _, anchor = link.partition("#")
        dest = (page.parent / target).resolve() if target else page
        assert dest.exists(), f"{page.name}: {link} -> {dest} does not exist"
        if anchor and dest.suffix == ".md":
            assert anchor in anchors(dest), f"{page.name}: {link}: no heading #{anchor} in {dest.name}"


def test_readme_is_a_front_page():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) < 200, f"README.md has {len(lines)} lines"
    first_screen = "\n".join(lines[:40])
    for cmd in ("./run_all.sh -p profile smoke", "./run_all.sh -p profile quick", "./run_all.sh "):
        assert cmd in first_screen, cmd
    assert "<!-- CLAIMS -->" in first_screen


def test_the_readme_claims_table_is_generated_from_the_committed_runs():
    from tacr import report

    text = (ROOT / "README.md").read_text()
    block = text.split(report.HEADLINE_START, 1)[1].split(report.HEADLINE_END, 1)[0]
    assert block == "\n" + report.headline_block() + "\n"


@pytest.mark.parametrize("dataset", ["synthetic", "movielens-100k"])
def test_committed_results_page_is_rebuilt_byte_for_byte(dataset):
    """Each committed page's generated block is exactly what its committed folder gives (rebuild
    with `python -m tacr.report --figures <folder> --page <dataset>`)."""
    from tacr import report
    from tacr.profiles import committed_folder

    page = report.page_path(dataset)
    fig = committed_folder(dataset)
    assert (fig / "table1_data.csv").exists() and (fig / "study.json").exists()
    block = page.read_text().split(report.START, 1)[1].split(report.END, 1)[0]
    assert block == "\n" + report.results_block(fig, home=page.parent) + "\n"


def test_nothing_cites_a_file_outside_the_project():
    """The project stands on its own: no reference to a specification or folder a user of the
    repository cannot open."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = re.compile("|".join([r"SPEC\s*§", r"\.\./" + "shared", "shared/" + "paper", "/work/" + "shared"]))
    hits = []
    for name in files:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".sh", ".toml", ".yml", ".yaml", ".txt"} and path.is_file():
            hits += [f"{name}:{i}" for i, line in enumerate(path.read_text(errors="ignore").splitlines(), 1)
                     if outside.search(line)]
    assert not hits, hits[:20]


def test_only_the_committed_runs_folders_are_tracked(monkeypatch):
    """A run at any other profile, seeds or dataset writes a folder git ignores, so a smoke or
    quick run leaves the checkout clean; the committed runs' folders stay tracked."""
    from tacr import profiles

    monkeypatch.delenv("TACR_FIGURES", raising=False)
    runs = {("synthetic", None, None): True, ("movielens-100k", None, None): True,
            ("synthetic", "smoke", None): False, ("synthetic", "quick", "[0, 1]"): False,
            ("movielens-100k", "smoke", None): False, ("table", None, None): False}
    for (dataset, profile, seeds), tracked in runs.items():
        probe = profiles.outputs(dataset, profile, seeds).figures / "table1_data.csv"
        ignored = subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=ROOT).returncode == 0
        assert ignored != tracked, (dataset, profile, seeds, probe)
