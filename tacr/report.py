"""The README's results block, built from the tables the notebooks wrote to ``figures/``.

``./run_all.sh`` calls ``python -m tacr.report`` after the notebooks: it always writes
``outputs/RESULTS.md`` and, for a default run (all notebooks, no papermill parameters), also
replaces the text between ``<!-- RESULTS -->`` and ``<!-- /RESULTS -->`` in ``README.md``. Every
number and verdict comes from the CSV files of that run; the verdict rule is
:func:`tacr.paper.verdict`'s (95 % intervals over seeds apart: supported; higher mean inside
the noise: weakly supported; else not supported).

    python -m tacr.report [--figures figures] [--seconds 1227] [--readme README.md] [--out outputs/RESULTS.md]
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

from . import __version__, paper
from ._io import atomic_write_text

START, END = "<!-- RESULTS -->", "<!-- /RESULTS -->"
#: Earlier complete runs of the default study (version: time-aware + rGAN, uniform average
#: optimal AUC), kept to show the run-to-run spread; the current run is appended.
EARLIER_RUNS = {"0.1.0": (0.7236, 0.7160), "0.2.0": (0.7203, 0.7192)}


@dataclass
class Row:
    """Mean and 95 % interval of one configuration (and, for the paper's tables, its
    validation-selected AUC and RelaImpr)."""

    label: str
    mean: float
    lo: float
    hi: float
    val: float = float("nan")
    relaimpr: float = float("nan")
    val_relaimpr: float = float("nan")


def _interval(text: str) -> tuple[float, float]:
    lo, hi = (float(x) for x in re.findall(r"-?\d+\.\d+", str(text))[:2])
    return lo, hi


def _paper_table(path: Path, key: str) -> dict[str, Row]:
    df = pd.read_csv(path)
    out = {}
    for _, r in df.iterrows():
        label = str(r[key]).rstrip(" *")
        out[label] = Row(label, r["ours: avg optimal AUC"], *_interval(r["95% CI"]), val=r["ours: val-selected AUC"],
                         relaimpr=r["ours RelaImpr (%)"], val_relaimpr=r["ours val-sel. RelaImpr (%)"])
    return out


def _sweep(path: Path, key: str) -> dict:
    df = pd.read_csv(path)
    return {k: Row(str(k), r["avg_optimal_auc"], r["ci_low"], r["ci_high"]) for k, r in df.set_index(key).iterrows()}


REASONS = {"supported": " (intervals apart)", "weakly supported": " (higher mean, within seed noise)", "not supported": ""}


def judge(a: Row, b: Row) -> str:
    """Does ``a`` beat ``b``? :func:`tacr.paper.support`, in README words."""
    level = paper.support(a.mean, a.lo, b.mean, b.hi)
    return level + REASONS[level]


def claims(fig: Path) -> tuple[list[list[str]], dict]:
    """The paper's claims against the tables in ``fig``: rows of (claim, this run, verdict)."""
    emb = _paper_table(fig / "table2_embedding.csv", "model")
    smp = _paper_table(fig / "table3_sampler.csv", "sampler")
    ovr = _paper_table(fig / "table4_overall.csv", "variant")
    gauc = pd.read_csv(fig / "table3_sampler_gauc.csv").set_index("sampler")
    cal = pd.read_csv(fig / "fig6b_calibration_sweep.csv")
    rew = _sweep(fig / "fig7_reward_ablation.csv", "reward")
    tau = pd.read_csv(fig / "fig8_kendall_tau.csv")
    cand = pd.read_csv(fig / "fig9_candidate_size.csv").set_index("n_candidates")
    temp = _sweep(fig / "fig10_temperature.csv", "temperature")
    rows = []
    ta, gru, din, ga = emb["time-aware attention"], emb["two-layer GRU"], emb["DIN"], emb["GRU attention"]
    rows.append(["time-aware attention beats two-layer GRU, DIN, GRU attention (Table 2)",
                 f"{ta.mean:.4f} vs {gru.mean:.4f} / {din.mean:.4f} / {ga.mean:.4f}",
                 f"vs GRU: {judge(ta, gru)}; vs DIN: {judge(ta, din)}; vs GRU attention: {judge(ta, ga)}"])
    paper_ri = paper.relaimpr_table(paper.TABLE2, "din")["time_aware"]
    rows.append([f"time-aware brings {paper_ri:.1f} % RelaImpr over DIN (Table 2)",
                 f"{ta.relaimpr:+.1f} % (val-selected {ta.val_relaimpr:+.1f} %)",
                 "larger" if ta.relaimpr > paper_ri else "smaller"])
    rows.append(["GRU attention beats DIN", f"{ga.mean:.4f} vs {din.mean:.4f}", judge(ga, din)])
    rg, uni = smp["rGAN"], smp["uniform"]
    others = [r for k, r in smp.items() if k != "rGAN"]
    higher = [r for r in others if r.mean >= rg.mean]
    rows.append(["rGAN beats every other sampler (Table 3)",
                 f"rGAN {rg.mean:.4f} beats {len(others) - len(higher)} of {len(others)}"
                 + (f"; higher: {', '.join(f'{r.label} {r.mean:.4f}' for r in higher)}" if higher else ""),
                 ("supported in full" if not higher else "not supported in full")
                 + f"; vs uniform: {judge(rg, uni)}; validation-selected: rGAN {rg.val:.4f} vs uniform {uni.val:.4f}"])
    irgan = smp["IRGAN"]
    lowest = min(smp.values(), key=lambda r: r.mean)
    rows.append(["IRGAN (non-positive pairs) is the worst sampler", f"IRGAN {irgan.mean:.4f}; lowest: {lowest.label} {lowest.mean:.4f}",
                 "supported" if lowest is irgan else f"not supported (uniform vs IRGAN: {judge(uni, irgan)})"])
    rows.append(["IRGAN++ beats uniform", f"{smp['IRGAN++'].mean:.4f} vs {uni.mean:.4f}", judge(smp["IRGAN++"], uni)])
    uf = smp["user-fixed"]
    g = gauc["test GAUC (per user)"]
    close = abs(uf.mean - uni.mean) <= max(uf.hi - uf.lo, uni.hi - uni.lo) / 2
    rows.append(["user-fixed ≈ uniform",
                 f"user-fixed AUC {uf.mean:.4f} vs uniform {uni.mean:.4f}; within-user GAUC {g['user-fixed']:.3f} vs uniform {g['uniform']:.3f}",
                 "supported (within seed noise)" if close else
                 "not supported: same-user pairs never train the user-only part of the score (see the GAUC table)"])
    ours, base = ovr["ours: time-aware + rGAN"], ovr["DIN + uniform"]
    lo4, hi4 = min(paper.TABLE4_RELAIMPR), max(paper.TABLE4_RELAIMPR)  # over the paper's three datasets
    rows.append([f"time-aware + rGAN beats DIN + uniform by {lo4:.0f}–{hi4:.0f} % RelaImpr (Table 4)",
                 f"{ours.mean:.4f} vs {base.mean:.4f}: {ours.relaimpr:+.1f} % (val-selected {ours.val_relaimpr:+.1f} %)",
                 judge(ours, base) + ("" if ours.relaimpr >= lo4 else "; the improvement is much smaller than the paper's")])
    b = paper.CALIBRATION_BUCKETS
    at = cal[cal.buckets == b].set_index("rule")["calibration error (%)"]
    rows.append([f"calibration error ≈ {100 * paper.CALIBRATION_ERROR['in-station-Sep']:.2f} % with {b} buckets (Fig. 6)",
                 f"{at['center']:.1f} % (centre rule) with the paper's protocol (fit on the training days); "
                 f"{at['center, same-day cross-fit']:.1f} % with a same-day cross-fit; Eq. 20's edge rule {at['edge']:.1f} %",
                 "not reproduced: the simulator's CTR level moves between days (weekday, pay day) and the protocol "
                 "cannot follow it; the edge rule over-estimates (SPEC §7)" if at["center"] > 1 else "reproduced"])
    both = next(r for k, r in rew.items() if k.startswith("both"))
    alone = [r for k, r in rew.items() if not k.startswith("both")]
    rows.append(["score + penalty beats either alone (Fig. 7)",
                 " / ".join(f"{k.split(':')[0]} {r.mean:.4f}" for k, r in rew.items()),
                 "; ".join(f"vs {r.label.split(':')[0]}: {judge(both, r)}" for r in alone)])
    t_pen, t_rand = tau["tau_penalty"].mean(), tau["tau_random"].mean()
    rho = spearmanr(tau["tau_penalty"], tau["test_auc"]).statistic if len(tau) > 2 else float("nan")
    rows.append(["Kendall tau (score vs −penalty) well above random; AUC peaks at high tau (Fig. 8)",
                 f"tau {t_pen:.2f} vs {t_rand:.2f}; Spearman(tau, AUC) over epochs {rho:+.2f}",
                 ("supported" if t_pen > t_rand + 0.1 else "not supported")
                 + ("; AUC–tau link supported" if rho > 0.5 else "; AUC–tau link not clear")])
    spread = cand["avg_optimal_auc"].max() - cand["avg_optimal_auc"].min()
    noise = ((cand["ci_high"] - cand["ci_low"]) / 2).mean()
    wins = int((cand["rGAN - uniform"] > 0).sum())
    rows.append(["candidate size C has an obvious impact (Fig. 9)",
                 f"spread {spread:.4f} over C = {', '.join(str(int(c)) for c in cand.index)} (seed noise ±{noise:.4f}); "
                 f"best C = {int(cand['avg_optimal_auc'].idxmax())}; rGAN > uniform at {wins} of {len(cand)}",
                 "supported" if spread > noise else "not supported (within noise)"])
    best_t = max(temp, key=lambda k: temp[k].mean)
    interior = min(temp) < best_t < max(temp)
    rows.append([f"best initial T = {paper.BEST_TEMPERATURE:g}, AUC rises then falls (Fig. 10)",
                 f"best T = {best_t:g} among {', '.join(f'{t:g}' for t in temp)}",
                 ("supported" if best_t == paper.BEST_TEMPERATURE else f"not supported (best T = {best_t:g})")
                 + (", interior maximum" if interior else ", no interior maximum") + " (differences within noise)"])
    facts = {"lr": smp["logistic regression"].mean, "rgan": rg.mean, "uniform": uni.mean}
    return rows, facts


def _md(path: Path) -> str:
    return path.read_text().strip()


def results_block(fig: Path, seconds: float | None = None) -> str:
    """The Markdown between the README markers (without them)."""
    t1 = pd.read_csv(fig / "table1_data.csv")
    rows, facts = claims(fig)
    took = (f"The notebooks of the run that wrote this block took {seconds / 60:.1f} minutes (runs already in the "
            "run cache are read, not retrained)." if seconds else "")
    train = t1[t1.split == "train"].iloc[0]
    n = {s: int(r.positives + r.negatives) for s, r in t1.set_index("split").iterrows()}
    out = ["## Results of the committed run", "",
           f"`./run_all.sh` with no arguments (tacr {__version__}): the `{train.dataset.split('-')[-1]}` simulator profile "
           f"({int(train.users):,} users, {int(train['items']):,} items, {int(train.categories):,} categories; "
           f"{n['train'] / 1e3:.0f}K training, {n['valid'] / 1e3:.0f}K validation and {n['test'] / 1e3:.0f}K test impressions), "
           f"3 seeds, 6 epochs, C = 20.{' ' + took if took else ''} Every number below comes from that run; the paper's numbers are "
           "its in-station-Sep dataset (JD.com, private), so compare orderings and relative improvements, not "
           "absolute AUCs. \"avg optimal AUC\" is the paper's metric (mean over seeds of each run's best test AUC "
           "over epochs); \"val-selected\" picks the epoch on the validation split instead; the interval is a "
           "95 % t-interval over seeds.", "",
           "### Table 1 — the data", _md(fig / "table1_data.md"), "",
           "The simulator's planted effects (CTR by hour, weekday and day of month; interest drift):", "",
           "![planted effects](figures/data_planted_effects.png)", "",
           "### Table 2 / Fig. 4 — embedding models (rGAN sampling for all)", _md(fig / "table2_embedding.md"), "",
           "![Fig. 4](figures/fig4_embedding_auc.png)", "",
           "### Table 3 / Fig. 5 — samplers (time-aware model for all)", _md(fig / "table3_sampler.md"), "",
           "![Fig. 5](figures/fig5_sampler_auc.png)", "",
           "Within-user ranking (group AUC, beyond the paper) explains the user-fixed sampler's collapse:",
           _md(fig / "table3_sampler_gauc.md"), "",
           "### Table 4 — overall", _md(fig / "table4_overall.md"), "",
           "### Fig. 6 — calibration", "![Fig. 6a](figures/fig6a_bucket_ctr.png)", "![Fig. 6b](figures/fig6b_calibration_error.png)", "",
           "### Fig. 7 — reward ablation", _md(fig / "fig7_reward_ablation.md"), "", "![Fig. 7](figures/fig7_reward_ablation.png)", "",
           "### Fig. 8 — Kendall tau of scores and penalties", "![Fig. 8](figures/fig8_kendall_tau.png)", "",
           "### Fig. 9, 10 — candidate size and temperature", "![Fig. 9](figures/fig9_candidate_size.png)",
           "![Fig. 10](figures/fig10_temperature.png)", "",
           "### The paper's claims against this run (quick simulator profile, 3 seeds)", "",
           "Built by `python -m tacr.report` from the tables above.", "",
           "| claim (paper) | this run | verdict |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    runs = {**EARLIER_RUNS, __version__: (facts["rgan"], facts["uniform"])}
    out += ["", f"Logistic regression (pointwise, all data) reaches {facts['lr']:.4f} with the learning rate shared by all "
            "samplers (SPEC §6); the paper tuned each baseline, this run does not.", "",
            f"Complete runs of this study with versions {', '.join(runs)} (which differ only in float rounding: Eq. 3's "
            "argument reduction, batched passes) gave time-aware + rGAN an average optimal AUC of "
            f"{' / '.join(f'{v[0]:.4f}' for v in runs.values())} and uniform "
            f"{' / '.join(f'{v[1]:.4f}' for v in runs.values())}: differences below about 0.01 AUC are not resolvable "
            "with 3 seeds on the quick profile. Use `-p profile paper` or more seeds for finer claims.", ""]
    return "\n".join(out)


def update_readme(readme: Path, block: str) -> None:
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme}: the markers {START} and {END} are missing")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    atomic_write_text(readme, f"{head}{START}\n{block}\n{END}{tail}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--figures", default="figures")
    ap.add_argument("--seconds", type=float, default=None, help="wall time of the notebook run")
    ap.add_argument("--out", default="outputs/RESULTS.md")
    ap.add_argument("--readme", default=None, help="also replace the README's results block")
    args = ap.parse_args(argv)
    block = results_block(Path(args.figures), args.seconds)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, block + "\n")
    if args.readme:
        update_readme(Path(args.readme), block)
    print(f"wrote {out}" + (f" and the results block of {args.readme}" if args.readme else ""))


if __name__ == "__main__":
    main()
