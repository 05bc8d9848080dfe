"""The results pages, built from the results folders the notebooks wrote.

``./run_all.sh`` calls ``python -m tacr.report`` after the notebooks, with the folder and the
page :func:`tacr.profiles.outputs` chose. It records the run's wall time in the folder's
``study.json`` and always writes the run's results block to ``outputs/RESULTS.md``; when the
run rewrote a dataset's committed results (``--page DATASET``) it also replaces the generated
block of ``docs/results/DATASET.md`` and the claims table at the top of ``README.md``, which
sets every committed dataset's verdicts side by side (:func:`tacr.claims.headline`).

A block is a concatenation, nothing is judged here: the folder's ``study.json`` (which run),
the claim rows of :func:`tacr.claims.all_claims` (the functions the notebooks display), the
display tables (``*.md``, embedded as they are) and the figures. So a page and a notebook
cannot disagree, and a committed block is rebuilt from its committed folder byte for byte.

    python -m tacr.report [--figures figures] [--seconds 1227] [--page synthetic] [--out outputs/RESULTS.md]
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd

from . import claims
from .files import atomic_write_text
from .profiles import (DEFAULT_DATASET, PROFILES, RESULT_PAGES, ROOT, committed_folder, default_profile, read_record,
                       write_record)

START, END = "<!-- RESULTS -->", "<!-- /RESULTS -->"
HEADLINE_START, HEADLINE_END = "<!-- CLAIMS -->", "<!-- /CLAIMS -->"
PAGES = ROOT / "docs" / "results"
#: How each committed dataset is named in the README's claims table.
TITLES = {"synthetic": "simulator", "movielens-100k": "MovieLens-100K (real data)"}


def page_path(dataset: str) -> Path:
    """The results page of a dataset with a committed run."""
    return PAGES / f"{dataset}.md"


def verdicts(fig: Path) -> list[claims.Verdict]:
    """Every claim whose tables are in ``fig`` (:func:`tacr.claims.all_claims`)."""
    return claims.all_claims(fig)


def _md(path: Path) -> str:
    return path.read_text().strip() if path.exists() else f"*({path.name} not written by this run)*"


def _link(path: Path, home: Path) -> str:
    """``path`` relative to the folder of the file that links to it (POSIX separators)."""
    return Path(os.path.relpath(Path(path).resolve(), Path(home).resolve())).as_posix()


def _img(fig: Path, name: str, alt: str, home: Path) -> str:
    path = Path(fig) / f"{name}.png"
    return f"![{alt}]({_link(path, home)})" if path.exists() else f"*({path.name} not written by this run)*"


VERDICT_WORDS = (
    "Each claim \"A beats B\" is judged on the paired difference of the validation-selected test AUC over seeds "
    "(same seed: same data order and initialisation): **supported** when its 95 % interval excludes zero in A's "
    "favour, **refuted** when it excludes zero the other way, **refuted at the paper's size** when it holds zero "
    "but lies wholly below the paper's effect (its RelaImpr applied to our baseline), **inconclusive** otherwise. "
    "MDD is the smallest difference these seeds detect with 80 % power. *After Holm* is the verdict once the "
    "chance of any false \"supported\" or \"refuted\" among all of this run's tests is held at 5 % (Holm's "
    "step-down correction over the rows with a p-value; the control is left out). *Evidence* says what a row "
    "rests on: an effect **planted in the simulator** (the row checks that the pipeline finds what was built in, "
    "not that real logs reward it), the simulator with **nothing planted** for either side, the **null-world "
    "control**, or **real data**. Terms: [glossary]({glossary}); rules: [study design]({study}).")


def command_of(record: dict) -> str:
    """The ``./run_all.sh`` command of a run, from its ``study.json``."""
    dataset = record.get("dataset", DEFAULT_DATASET)
    words = ["./run_all.sh"] + ([f"-p dataset {dataset}"] if dataset != DEFAULT_DATASET else [])
    profile = record.get("profile")
    if profile and profile != default_profile(dataset):
        words.append(f"-p profile {profile}")
    if profile in PROFILES and record.get("seeds") not in (None, list(range(PROFILES[profile].seeds))):
        words.append(f"-p seeds '{record['seeds']}'")
    return f"`{' '.join(words)}`" + (" with no arguments" if len(words) == 1 else "")


def results_block(fig: Path, home: Path | None = None, committed: bool = True) -> str:
    """The generated Markdown of a results folder (without markers): which run, the claims,
    then each table and figure; ``home``: the folder of the file the block goes into (links
    are relative to it); ``committed``: the block of a committed run's page (else "This run")."""
    fig = Path(fig)
    home = Path(home) if home is not None else ROOT
    record = read_record(fig)
    seconds = record.get("seconds")
    t1 = pd.read_csv(fig / "table1_data.csv") if (fig / "table1_data.csv").exists() else None
    took = (f" Its notebooks took {seconds / 60:.1f} minutes (runs already in the run cache are read, not "
            "retrained)." if seconds else "")
    where = ""
    if t1 is not None:
        train = t1[t1.split == "train"].iloc[0]
        n = {s: int(r.positives + r.negatives) for s, r in t1.set_index("split").iterrows()}
        where = (f" on `{train.dataset}` ({int(train.users):,} users, {int(train['items']):,} items; "
                 f"{n['train']:,} training, {n['valid']:,} validation and {n['test']:,} test impressions)")
    v = verdicts(fig)
    seeds = max((x.seeds for x in v), default=0)
    command = command_of(record)
    sampled = PROFILES.get(record.get("profile"), PROFILES["smoke"]).train.get("eval_rows", 0) > 0
    docs = ROOT / "docs"
    env = record.get("environment")
    machine = (f" Environment: torch {env['torch']}, numpy {env['numpy']}, pandas {env['pandas']} on {env['machine']} "
               f"with {', '.join(env['cpu vector units']) or 'no AVX2'} (another CPU's vector units round float sums "
               "differently, so the last digits can differ there)." if env else "")
    out = ["## The committed run" if committed else "## This run", "",
           f"{command} (tacr {record.get('tacr', 'version unknown')}){where}, {seeds} seeds.{took}{machine} Every "
           "number below comes from that run. The paper's numbers are its in-station-Sep dataset (JD.com, private): "
           "compare orderings and relative improvements, not absolute AUCs.", "",
           "### The paper's claims against this run", "",
           VERDICT_WORDS.format(glossary=_link(docs / "glossary.md", home), study=_link(docs / "study.md", home)), "",
           *claims.TABLE_HEAD, *[x.markdown_row() for x in v], "",
           "### Table 1 — the data", _md(fig / "table1_data.md"), "",
           "\"avg optimal AUC\" is the paper's metric (mean over seeds of each run's best test AUC over its game "
           "epochs); \"val-selected\" picks the epoch on the validation split instead; intervals are 95 % "
           "t-intervals over seeds."
           + (" Per-epoch test AUCs (and so the paper's metric) are computed on a fixed balanced sample of the test "
              "split and the validation-selected one on a larger one (the profile's `eval_rows` and "
              "`final_eval_rows`), so the two columns carry their samples' own offsets: compare within a column."
              if sampled else ""), "",
           "### Table 2 / Fig. 4 — embedding models (rGAN sampling for all)", _md(fig / "table2_embedding.md"), "",
           "Sanity baselines fitted on the same split:", _md(fig / "table2_baselines.md"), "",
           _img(fig, "fig4_embedding_auc", "Fig. 4", home), "",
           "### Table 3 / Fig. 5 — samplers (time-aware model for all)", _md(fig / "table3_sampler.md"), "",
           _img(fig, "fig5_sampler_auc", "Fig. 5", home), "",
           "Within-user ranking (group AUC, beyond the paper):", _md(fig / "table3_sampler_gauc.md"), "",
           "### Table 4 — overall", _md(fig / "table4_overall.md"), "",
           "### Fig. 6 — calibration", _img(fig, "fig6a_bucket_ctr", "Fig. 6a", home),
           _img(fig, "fig6b_calibration_error", "Fig. 6b", home), "",
           "Where the error comes from (log-% parts that add up to the total; `05_calibration`):",
           _md(fig / "calibration_decomposition.md"), "",
           "### Fig. 7 — reward ablation", _md(fig / "fig7_reward_ablation.md"), "",
           _img(fig, "fig7_reward_ablation", "Fig. 7", home), "",
           "### Fig. 8 — Kendall tau of scores and penalties", _img(fig, "fig8_kendall_tau", "Fig. 8", home), "",
           "### Fig. 9, 10 — candidate size and temperature", _img(fig, "fig9_candidate_size", "Fig. 9", home),
           _img(fig, "fig10_temperature", "Fig. 10", home), "",
           "Fig. 10 with the policy's diagnostics over the game epochs (effective candidates exp(H) of C; share of "
           "draws that differ from a uniform draw), the paper's policy and the cosine policy beyond the paper:",
           _md(fig / "fig10_temperature.md")]
    return "\n".join(out) + "\n"


def headline_block(home: Path = ROOT) -> str:
    """The README's claims table: every committed dataset's verdicts side by side, each column
    linked to its results page."""
    folders = {f"[{TITLES.get(d, d)}]({_link(page_path(d), home)})": committed_folder(d) for d in RESULT_PAGES}
    table = claims.headline(folders)
    return table.to_markdown(index=False) + "\n"


def update_between(path: Path, block: str, start: str = START, end: str = END) -> None:
    """Replace the text between ``start`` and ``end`` in ``path`` by ``block`` (atomically)."""
    text = Path(path).read_text()
    if start not in text or end not in text:
        raise ValueError(f"{path}: the markers {start} and {end} are missing")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    atomic_write_text(path, f"{head}{start}\n{block}\n{end}{tail}")


def write_page(dataset: str, fig: Path) -> Path:
    """Rewrite the generated block of ``docs/results/<dataset>.md`` and the README's claims table."""
    page = page_path(dataset)
    update_between(page, results_block(fig, home=page.parent))
    update_between(ROOT / "README.md", headline_block(), HEADLINE_START, HEADLINE_END)
    return page


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--figures", default="figures")
    ap.add_argument("--seconds", type=float, default=None, help="wall time of the notebook run (recorded in study.json)")
    ap.add_argument("--out", default="outputs/RESULTS.md")
    ap.add_argument("--page", default=None, choices=RESULT_PAGES,
                    help="the dataset whose committed results page (docs/results/) this run rewrites")
    args = ap.parse_args(argv)
    fig = Path(args.figures)
    if args.seconds is not None:
        write_record(fig, {"seconds": round(args.seconds)})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, results_block(fig, home=out.parent, committed=bool(args.page)) + "\n")
    written = [str(out)]
    if args.page:
        written.append(str(write_page(args.page, fig)))
        written.append("README.md's claims table")
    print("wrote " + ", ".join(written))


if __name__ == "__main__":
    main()
