"""The README's results block, built from the machine-readable tables the notebooks saved.

``./run_all.sh`` calls ``python -m tacr.report`` after the notebooks: it always writes
``outputs/RESULTS.md`` and, for a default run (all notebooks, no papermill parameters), also
replaces the text between ``<!-- RESULTS -->`` and ``<!-- /RESULTS -->`` in ``README.md``.

Verdicts come from :mod:`tacr.claims`, called on the per-run parquet tables the notebooks wrote
(``*_runs.parquet``, ``fig8_epochs.parquet``, ``fig6_calibration_runs.parquet``): the same
functions the notebooks display, so the README and a notebook cannot disagree. The display
tables (``*.md``) are embedded as they are, never parsed.

    python -m tacr.report [--figures figures] [--seconds 1227] [--readme README.md] [--out outputs/RESULTS.md]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from . import __version__, claims, paper, stats
from .files import atomic_write_text

START, END = "<!-- RESULTS -->", "<!-- /RESULTS -->"


def markers(section: str | None = None) -> tuple[str, str]:
    """The README markers of the default run's block, or of a named block (a real dataset's)."""
    return (START, END) if not section else (f"<!-- RESULTS {section} -->", f"<!-- /RESULTS {section} -->")


def _oracle(fig: Path) -> float | None:
    """The simulator's oracle test AUC from Table 1's CSV (None for real data)."""
    path = fig / "table1_data.csv"
    if not path.exists():
        return None
    t1 = pd.read_csv(path)
    if "oracle AUC" not in t1 or t1.loc[t1["split"] == "test", "oracle AUC"].isna().all():
        return None
    return float(t1.loc[t1["split"] == "test", "oracle AUC"].iloc[0])


def _baselines(fig: Path, runs: pd.DataFrame, table: str, key: str, labels: dict, source: str) -> list[claims.Verdict]:
    path = fig / f"{table}.csv"
    if not path.exists():
        return []
    return claims.against_baselines(stats.summarise(runs, key), pd.read_csv(path), key, labels, _oracle(fig), source)


def _table3(runs: pd.DataFrame, fig: Path) -> list[claims.Verdict]:
    """As notebook 03: the paper's rows by sampler, the rows beyond the paper by variant."""
    if "variant" not in runs:
        return claims.table3(runs)
    return (claims.table3(runs[runs["variant"] == runs["sampler"]]) + claims.beyond_paper_samplers(runs)
            + _baselines(fig, runs, "table3_baselines", "variant", claims.VARIANT_LABELS, "Table 3, baselines"))


def _sharp(runs: pd.DataFrame, fig: Path) -> list[claims.Verdict]:
    """Fig. 10's sharpest policies against uniform sampling: the uniform runs are Table 3's
    (the same config; paired by seed on the sweep's seeds)."""
    path = fig / "table3_runs.parquet"
    if not path.exists():
        return []
    t3 = pd.read_parquet(path)
    uniform = t3[(t3["sampler"] == "uniform") & t3["seed"].isin(runs["seed"])]
    return claims.sharp_policies(runs, uniform) if len(uniform) else []


#: (parquet table, its verdicts given the table and the figures folder) in the order of the
#: paper; each is what the notebook that wrote the table displays.
CLAIMS = (("table2_runs", lambda t, fig: claims.table2(t) + _baselines(fig, t, "table2_baselines", "model",
                                                                            paper.MODEL_LABELS, "Table 2, baselines")),
          ("table2_null_runs", lambda t, fig: claims.null_world(t)),
          ("table3_runs", _table3),
          ("table4_runs", lambda t, fig: claims.table4(t)),
          ("fig6_calibration_runs", lambda t, fig: claims.calibration(t)),
          ("fig7_runs", lambda t, fig: claims.reward_ablation(t)),
          ("fig8_epochs", lambda t, fig: claims.kendall(t)),
          ("fig9_runs", lambda t, fig: claims.candidate_size(t)),
          ("fig10_runs", lambda t, fig: claims.temperature(t)),
          ("fig10_policy_epochs", lambda t, fig: claims.policy_near_uniform(t)),
          ("fig10_all_runs", _sharp))


def verdicts(fig: Path) -> list[claims.Verdict]:
    """Every claim whose table is in ``fig`` (tables of notebooks that did not run are skipped)."""
    out = []
    for name, judge in CLAIMS:
        path = Path(fig) / f"{name}.parquet"
        if path.exists():
            out += judge(pd.read_parquet(path), Path(fig))
    return out


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


def results_block(fig: Path, seconds: float | None = None, section: str | None = None) -> str:
    """The Markdown between the README markers (without them); ``section``: the dataset of a
    named block (``./run_all.sh -p dataset <section>``)."""
    fig = Path(fig)
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
           f"{command} (tacr {__version__}){where}, {seeds} seeds.{took} Every number below "
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
    ap.add_argument("--seconds", type=float, default=None, help="wall time of the notebook run")
    ap.add_argument("--out", default="outputs/RESULTS.md")
    ap.add_argument("--readme", default=None, help="also replace the README's results block")
    ap.add_argument("--section", default=None, help="the dataset of a named README block (<!-- RESULTS NAME -->)")
    args = ap.parse_args(argv)
    block = results_block(Path(args.figures), args.seconds, args.section)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, block + "\n")
    if args.readme:
        update_readme(Path(args.readme), block, args.section)
    print(f"wrote {out}" + (f" and the results block of {args.readme}" if args.readme else ""))


if __name__ == "__main__":
    main()
