"""The results block of a run, built from the results folder the notebooks wrote.

``./run_all.sh`` calls ``python -m tacr.report`` after the notebooks, with the folder and the
page :func:`tacr.profiles.outputs` chose: it records the run's wall time in the folder's
``study.json``, always writes ``outputs/RESULTS.md`` and, when the run wrote a dataset's
committed results (``--page``), also replaces that dataset's block in ``README.md``.

The block is a concatenation: the folder's ``study.json`` (which run), the display tables
(``*.md``, embedded as they are, never parsed), the figures, and the claim rows of
:func:`tacr.claims.all_claims` — the functions the notebooks display — so a page and a notebook
cannot disagree, and the committed block can be rebuilt from the committed folder byte for byte.

    python -m tacr.report [--figures figures] [--seconds 1227] [--page synthetic] [--out outputs/RESULTS.md]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from . import claims
from .files import atomic_write_text
from .profiles import DEFAULT_DATASET, read_record, write_record

START, END = "<!-- RESULTS -->", "<!-- /RESULTS -->"
ROOT = Path(__file__).resolve().parent.parent


def markers(section: str | None = None) -> tuple[str, str]:
    """The README markers of the default run's block, or of a named block (a real dataset's)."""
    return (START, END) if not section else (f"<!-- RESULTS {section} -->", f"<!-- /RESULTS {section} -->")


def section_of(page: str | None) -> str | None:
    """The README block of a results page: the simulator's is the unnamed one."""
    return None if page in (None, DEFAULT_DATASET) else page


def verdicts(fig: Path) -> list[claims.Verdict]:
    """Every claim whose tables are in ``fig``: each notebook's claim function (:data:`tacr.claims.BY_NOTEBOOK`)."""
    return claims.all_claims(fig)


def _md(path: Path) -> str:
    return path.read_text().strip() if path.exists() else f"*({path.name} not written by this run)*"


def _img(fig: Path, name: str, alt: str) -> str:
    rel = (Path(fig) / f"{name}.png")
    if not rel.exists():
        return f"*({rel.name} not written by this run)*"
    try:
        rel = rel.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        pass
    return f"![{alt}]({rel.as_posix()})"


def results_block(fig: Path, section: str | None = None) -> str:
    """The Markdown between the README markers (without them), from the folder alone;
    ``section``: the dataset of a named block (``./run_all.sh -p dataset <section>``)."""
    fig = Path(fig)
    record = read_record(fig)
    seconds = record.get("seconds")
    t1 = pd.read_csv(fig / "table1_data.csv") if (fig / "table1_data.csv").exists() else None
    took = (f" The notebooks of the run that wrote this block took {seconds / 60:.1f} minutes (runs already in "
            "the run cache are read, not retrained)." if seconds else "")
    where = ""
    if t1 is not None:
        train = t1[t1.split == "train"].iloc[0]
        n = {s: int(r.positives + r.negatives) for s, r in t1.set_index("split").iterrows()}
        where = (f" on `{train.dataset}` ({int(train.users):,} users, {int(train['items']):,} items; "
                 f"{n['train']:,} training, {n['valid']:,} validation and {n['test']:,} test impressions)")
    v = verdicts(fig)
    seeds = max((x.seeds for x in v), default=0)
    command = f"`./run_all.sh -p dataset {section}`" if section else "`./run_all.sh` with no arguments"
    title = f"### Results of the committed run on `{section}`" if section else "## Results of the committed run"
    out = [title, "",
           f"{command} (tacr {record.get('tacr', 'version unknown')}){where}, {seeds} seeds.{took} Every number below "
           "comes from that run; the paper's numbers are its in-station-Sep dataset (JD.com, private), so compare "
           "orderings and relative improvements, not absolute AUCs. \"avg optimal AUC\" is the paper's metric (mean "
           "over seeds of each run's best test AUC over its game epochs); \"val-selected\" picks the epoch on the "
           "validation split instead; intervals are 95 % t-intervals over seeds."
           + ("" if section else " On the `study` profile the per-epoch test AUCs (and so the paper's metric) are computed on a "
              "fixed balanced sample of 10,000 test rows and the validation-selected one on 40,000 (half of them "
              "clicks; `tacr.study`), so the two columns carry their samples' own offsets: compare within a column."),
           "",
           "### Table 1 — the data", _md(fig / "table1_data.md"), "",
           "### Table 2 / Fig. 4 — embedding models (rGAN sampling for all)", _md(fig / "table2_embedding.md"), "",
           "Sanity baselines fitted on the same split:", _md(fig / "table2_baselines.md"), "",
           _img(fig, "fig4_embedding_auc", "Fig. 4"), "",
           "### Table 3 / Fig. 5 — samplers (time-aware model for all)", _md(fig / "table3_sampler.md"), "",
           _img(fig, "fig5_sampler_auc", "Fig. 5"), "",
           "Within-user ranking (group AUC, beyond the paper):", _md(fig / "table3_sampler_gauc.md"), "",
           "### Table 4 — overall", _md(fig / "table4_overall.md"), "",
           "### Fig. 6 — calibration", _img(fig, "fig6a_bucket_ctr", "Fig. 6a"),
           _img(fig, "fig6b_calibration_error", "Fig. 6b"), "",
           "### Fig. 7 — reward ablation", _md(fig / "fig7_reward_ablation.md"), "",
           _img(fig, "fig7_reward_ablation", "Fig. 7"), "",
           "### Fig. 8 — Kendall tau of scores and penalties", _img(fig, "fig8_kendall_tau", "Fig. 8"), "",
           "### Fig. 9, 10 — candidate size and temperature", _img(fig, "fig9_candidate_size", "Fig. 9"),
           _img(fig, "fig10_temperature", "Fig. 10"), "",
           "Fig. 10 with the policy's diagnostics over the game epochs (effective candidates exp(H) of C; share of "
           "draws that differ from a uniform draw), paper's policy and the cosine policy beyond the paper:",
           _md(fig / "fig10_temperature.md"), "",
           "### The paper's claims against this run", "",
           "Built by `python -m tacr.report` with `tacr.claims`, the functions the notebooks display. Each claim "
           "\"A beats B\" is judged on the paired difference of the validation-selected test AUC over seeds: "
           "supported when its 95 % interval excludes zero in A's favour, refuted when it excludes zero the other "
           "way, \"refuted at the paper's size\" when it contains zero but lies wholly below the paper's effect, "
           "inconclusive otherwise; MDD is the smallest difference these seeds would detect with 80 % power, "
           "and the paper's effect is its RelaImpr applied to our baseline.", "",
           "| source | claim (paper) | ours | verdict |", "|---|---|---|---|"]
    out += [x.markdown_row() for x in v]
    return "\n".join(out) + "\n"


def update_readme(readme: Path, block: str, section: str | None = None) -> None:
    start, end = markers(section)
    text = readme.read_text()
    if start not in text or end not in text:
        raise ValueError(f"{readme}: the markers {start} and {end} are missing")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    atomic_write_text(readme, f"{head}{start}\n{block}\n{end}{tail}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--figures", default="figures")
    ap.add_argument("--seconds", type=float, default=None, help="wall time of the notebook run (recorded in study.json)")
    ap.add_argument("--out", default="outputs/RESULTS.md")
    ap.add_argument("--page", default=None, help="the dataset whose committed block in the README this run rewrites")
    ap.add_argument("--readme", default=str(ROOT / "README.md"), help="the README holding the committed blocks")
    args = ap.parse_args(argv)
    fig = Path(args.figures)
    if args.seconds is not None:
        write_record(fig, {"seconds": round(args.seconds)})
    block = results_block(fig, section_of(args.page))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, block + "\n")
    if args.page:
        update_readme(Path(args.readme), block, section_of(args.page))
    print(f"wrote {out}" + (f" and the {args.page} block of {args.readme}" if args.page else ""))


if __name__ == "__main__":
    main()
