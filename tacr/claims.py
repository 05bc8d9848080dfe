"""The paper's claims, each judged in one place: saved tables in, verdicts out (docs/method.md §8.3).

One function per notebook (:data:`BY_NOTEBOOK`) reads the tables that notebook saved in its
results folder and returns its claim rows; the notebook displays that function's output and
:mod:`tacr.report` calls the same function on the same folder, so a results page and a notebook
can never disagree. They are built from the judging functions below (per-run tables in,
:class:`Verdict` rows out). Each threshold is a named constant below, stated once.

The rule (docs/method.md §8.3): a claim "A beats B" is judged on the **paired difference** A − B of the
validation-selected test AUC over the seeds both ran (same seed: same data order and, where the
architectures allow, the same initialisation). It is **supported** when the 95 % t-interval of
the difference excludes zero in A's favour, **refuted** when it excludes zero the other way,
and **inconclusive** otherwise; every verdict is printed with the minimum detectable difference
(MDD: the true difference a paired t-test at 95 % finds with 80 % power, from the observed
spread) and with the paper's effect translated to our scale (the paper's RelaImpr of A over B,
Eq. 21, applied to our B: ``RelaImpr_paper × (AUC_B − 0.5)``). The paper's own metric (best
test AUC over epochs) is shown beside it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as st

from . import paper
from .models import PRESETS
from .profiles import read_record
from .stats import LEVEL, holm, paired, summarise, t_interval, t_test_p

#: The metric every verdict is judged on (no test-set peeking), and the paper's.
VERDICT_METRIC = "val_selected_test_auc"
PAPER_METRIC = "best_test_auc"
#: Fig. 6: the paper's "about 0.19 %" is reproduced when our error's 95 % interval lies below this (%).
CALIBRATION_REPRODUCED_BELOW_PCT = 0.5
#: Fig. 9: C "has an obvious impact" when a Friedman test over seeds rejects "no effect" at this level.
FRIEDMAN_ALPHA = 1 - LEVEL

SUPPORTED, REFUTED, INCONCLUSIVE = "supported", "refuted", "inconclusive"
#: "A beats B" where the interval holds zero but lies wholly below the paper's effect (its
#: RelaImpr on our baseline): an effect of the paper's size is excluded, a smaller one is not.
BELOW_PAPER = "refuted at the paper's size"

#: What a claim row's evidence is. On the simulator a claim rests on an effect the simulator
#: builds in (the time-aware model's relative-time and hour effects, which only it can see):
#: the row checks that the pipeline finds what was planted, not that real logs reward it.
PLANTED = "planted in the simulator"
SIMULATED = "simulator, not planted"
CONTROL = "null-world control"
REAL = "real data"


@dataclass
class Verdict:
    """One claim of the paper against our runs."""

    source: str  # "Table 2", "Fig. 7", ...
    claim: str  # the paper's claim, in a few words
    ours: str  # what our runs show, in numbers
    verdict: str  # supported / refuted / inconclusive (or, for sizes: consistent / smaller / larger)
    diff: float = float("nan")  # paired difference (A - B), verdict metric
    low: float = float("nan")
    high: float = float("nan")
    mdd: float = float("nan")
    paper_effect: float = float("nan")  # the paper's effect on our scale
    seeds: int = 0
    p_value: float = float("nan")  # two-sided test of "no difference" (rows judged by an interval around zero)
    p_paper: float = float("nan")  # test of "the effect is at least the paper's" (2x one-sided: level 0.05 = the interval's top)
    evidence: str = ""  # PLANTED, SIMULATED, CONTROL or REAL (set by the notebook's claim function)
    holm: str = ""  # the verdict after Holm's correction over the dataset's family (:func:`with_holm`)
    p_holm: float = float("nan")

    def markdown_row(self) -> str:
        holm = f"{self.holm} (p {self.p_holm:.3f})" if self.holm else "–"
        return f"| {self.source} | {self.claim} | {self.evidence or '–'} | {self.ours} | **{self.verdict}** | {holm} |"


def to_frame(verdicts: list[Verdict]) -> pd.DataFrame:
    return pd.DataFrame([asdict(v) for v in verdicts])


TABLE_HEAD = ["| source | claim (paper) | evidence | ours | verdict | after Holm |", "|---|---|---|---|---|---|"]


def markdown(verdicts: list[Verdict], title: str = "What this run says about the paper's claims") -> str:
    """A Markdown table of verdicts (the notebooks display it; the results pages embed the same)."""
    return "\n".join([f"### {title}", "", *TABLE_HEAD] + [v.markdown_row() for v in verdicts])


def _rule(low: float, high: float) -> str:
    if low > 0:
        return SUPPORTED
    if high < 0:
        return REFUTED
    return INCONCLUSIVE


def beats(runs: pd.DataFrame, key: str, a, b, source: str, claim: str, labels: dict | None = None,
          paper_table: dict | None = None, extra: dict | None = None) -> Verdict:
    """The claim "``a`` beats ``b``" (values of column ``key`` of a :func:`tacr.stats.per_run`
    table; ``extra`` fixes other columns), judged on the paired difference: supported when its
    95 % interval lies above zero, refuted below; when it holds zero, :data:`BELOW_PAPER` if it
    lies below the paper's effect (``paper_table`` given), else inconclusive."""
    labels = labels or {}
    sel_a, sel_b = {key: a, **(extra or {})}, {key: b, **(extra or {})}
    p = paired(runs, sel_a, sel_b, VERDICT_METRIC)
    pp = paired(runs, sel_a, sel_b, PAPER_METRIC)
    effect = float("nan")
    if paper_table is not None and a in paper_table and b in paper_table:
        effect = paper.relaimpr_table(paper_table, b)[a] / 100 * (p.b_mean - 0.5)
    la, lb = labels.get(a, a), labels.get(b, b)
    verdict = _rule(p.low, p.high)
    if verdict == INCONCLUSIVE and np.isfinite(effect) and effect > 0 and p.high < effect:
        verdict = BELOW_PAPER
    ours = (f"{la} {p.a_mean:.4f} vs {lb} {p.b_mean:.4f}: {p.mean:+.4f} [{p.low:+.4f}, {p.high:+.4f}], "
            f"MDD {p.mdd:.4f}" + (f", paper's effect {effect:+.4f}" if np.isfinite(effect) else "")
            + f"; best-epoch metric {pp.mean:+.4f} [{pp.low:+.4f}, {pp.high:+.4f}] ({p.n} seeds)"
            + selected_epochs(runs, sel_a, sel_b, la, lb))
    p_paper = float("nan")
    if np.isfinite(effect) and effect > 0 and p.n > 1 and p.sd > 0:
        p_paper = float(min(1.0, 2 * st.t.cdf((p.mean - effect) / (p.sd / np.sqrt(p.n)), p.n - 1)))
    return Verdict(source, claim, ours, verdict, p.mean, p.low, p.high, p.mdd, effect, p.n, p_value=p.p_value,
                   p_paper=p_paper)


def selected_epochs(runs: pd.DataFrame, sel_a: dict, sel_b: dict, la: str, lb: str) -> str:
    """"; selected epochs A 6,5,6 / B 1,1,1", and which side selected a pre-training epoch (an
    adversarial sampler's uniform warm-up, not its game) on how many seeds."""
    if "selected_epoch" not in runs:
        return ""
    parts, notes = [], []
    for label, sel in ((la, sel_a), (lb, sel_b)):
        mask = np.ones(len(runs), dtype=bool)
        for col, value in sel.items():
            mask &= runs[col].to_numpy() == value
        part = runs[mask].sort_values("seed")
        parts.append(f"{label} {','.join(str(int(e)) for e in part['selected_epoch'])}")
        if {"epochs", "game_epochs"} <= set(part.columns):
            pre = int((part["selected_epoch"] <= part["epochs"] - part["game_epochs"]).sum())
            if pre:
                notes.append(f"{label}: its pre-training epoch on {pre} of {len(part)} seeds")
    return "; selected epochs " + " / ".join(parts) + (f" ({'; '.join(notes)})" if notes else "")


def relaimpr_size(runs: pd.DataFrame, key: str, a, b, paper_value: float | tuple, source: str, claim: str) -> Verdict:
    """Is our RelaImpr (Eq. 21) of ``a`` over ``b`` the paper's size? Per-seed RelaImpr with a
    t-interval: "consistent" when the interval holds the paper's value (or overlaps the paper's
    range over its datasets), "smaller"/"larger" otherwise."""
    x = runs[runs[key] == a].set_index("seed")[VERDICT_METRIC]
    y = runs[runs[key] == b].set_index("seed")[VERDICT_METRIC]
    common = x.index.intersection(y.index)
    ri = ((x[common] - 0.5) / (y[common] - 0.5) - 1) * 100
    lo, hi = t_interval(ri)
    p_lo, p_hi = (min(paper_value), max(paper_value)) if isinstance(paper_value, tuple) else (paper_value, paper_value)
    verdict = "consistent" if lo <= p_hi and hi >= p_lo else ("smaller" if hi < p_lo else "larger")
    paper_text = f"{p_lo:.1f}–{p_hi:.1f} %" if p_lo != p_hi else f"{p_lo:.1f} %"
    return Verdict(source, claim, f"RelaImpr {ri.mean():+.1f} % [{lo:+.1f}, {hi:+.1f}] vs paper {paper_text} ({len(ri)} seeds)",
                   verdict, float(ri.mean()), lo, hi, seeds=len(ri))


# ------------------------------------------------------------------------------ the claims
def _table2_pairs() -> list[tuple[str, str, str, bool]]:
    """Table 2's paired claims: (A, B, "A beats B" in words, judged against the paper's table).
    The paper's comparisons, then the ablation beyond it: seeing time vs attending with it."""
    L = paper.MODEL_LABELS
    return [*[("time_aware", m, f"time-aware attention beats {L[m]}", True) for m in ("gru", "din", "gru_attention")],
            ("gru_attention", "din", "GRU attention beats DIN", True),
            ("din", "gru", "DIN beats the two-layer GRU", True),
            ("time_aware", "din_time", "(ablation) time-aware attention beats DIN given the same absolute-time inputs", False),
            ("time_aware", "din_time_dt",
             "(ablation) time-aware attention beats DIN given the same absolute- and relative-time inputs", False),
            ("din_time_dt", "din_time", "(ablation) relative-time inputs improve DIN given absolute time", False),
            ("time_aware", "time_aware_no_dt", "(ablation) the relative-time term of Eq. 4 adds to the absolute-time inputs",
             False),
            ("din_time", "din", "(ablation) absolute-time inputs improve DIN", False)]


def _relaimpr_claim() -> tuple[float, str]:
    """The paper's RelaImpr of the time-aware model over DIN (Table 2) and its claim in words."""
    ri = paper.relaimpr_table(paper.TABLE2, "din")["time_aware"]
    return ri, f"time-aware attention brings {ri:.1f} % RelaImpr over DIN"


def table2(runs: pd.DataFrame) -> list[Verdict]:
    """Table 2: the embedding models, all with rGAN sampling (a per-run table keyed by ``model``)."""
    L, T = paper.MODEL_LABELS, paper.TABLE2
    have = set(runs["model"])
    out = [beats(runs, "model", a, b, "Table 2", text, L, T if vs_paper else None)
           for a, b, text, vs_paper in _table2_pairs() if {a, b} <= have]
    if {"time_aware", "din"} <= have:
        ri, text = _relaimpr_claim()
        out.append(relaimpr_size(runs, "model", "time_aware", "din", ri, "Table 2", text))
    return out


def null_world(runs: pd.DataFrame) -> list[Verdict]:
    """Negative control: on the simulator with every temporal effect off, the time-aware model
    has nothing to find, so it should not beat GRU attention."""
    v = beats(runs, "model", "time_aware", "gru_attention", "Table 2, null world",
              "(control) time-aware attention does not beat GRU attention without temporal effects", paper.MODEL_LABELS)
    v.verdict = {SUPPORTED: "control failed: it beats it", REFUTED: "control passed (it is worse)",
                 INCONCLUSIVE: "control passed (no difference found)"}[v.verdict]
    return [v]


def table3(runs: pd.DataFrame) -> list[Verdict]:
    """Table 3: the samplers, all with the time-aware model (keyed by ``sampler``)."""
    L, T = paper.SAMPLER_LABELS, paper.TABLE3
    have = set(runs["sampler"])
    out = [beats(runs, "sampler", "rgan", s, "Table 3", f"rGAN beats {L[s]}", L, T)
           for s in ("lr", "under", "user_fixed", "uniform", "irgan", "irgan_pp") if {"rgan", s} <= have]
    pairs = [("uniform", "irgan", "IRGAN's non-positive pairs are worse than uniform"),
             ("irgan_pp", "uniform", "IRGAN++ beats uniform"),
             ("uniform", "user_fixed", "uniform beats user-fixed (in-station)"),
             ("uniform", "under", "uniform pairwise beats 1:5 under-sampling")]
    out += [beats(runs, "sampler", a, b, "Table 3", text, L, T) for a, b, text in pairs if {a, b} <= have]
    return out


def table4(runs: pd.DataFrame) -> list[Verdict]:
    """Table 4: ours (time-aware + rGAN) against DIN + uniform (keyed by ``variant``)."""
    labels = {"time_aware+rgan": "ours", "din+uniform": "DIN + uniform"}
    v = beats(runs, "variant", "time_aware+rgan", "din+uniform", "Table 4", "time-aware + rGAN beats DIN + uniform",
              labels, paper.TABLE4)
    size = relaimpr_size(runs, "variant", "time_aware+rgan", "din+uniform", tuple(paper.TABLE4_RELAIMPR), "Table 4",
                         "by 11–15 % RelaImpr")
    return [v, size]


def calibration(errors: pd.DataFrame) -> list[Verdict]:
    """Fig. 6: per-seed calibration errors (%) at the paper's bucket count with the centre rule
    (columns ``seed``, ``error vs realised (%)``, optionally ``error vs expected (%)``)."""
    if not len(errors):
        raise ValueError("calibration: no per-seed errors at the paper's bucket count")
    e = errors["error vs realised (%)"].abs()
    lo, hi = t_interval(e)
    ours = f"{e.mean():.2f} % [{lo:.2f}, {hi:.2f}] against the realised test CTR"
    if "error vs expected (%)" in errors:
        x = errors["error vs expected (%)"].abs()
        xlo, xhi = t_interval(x)
        ours += f"; {x.mean():.2f} % [{xlo:.2f}, {xhi:.2f}] against the expected CTR (mean p_click)"
    noise = {name: float(errors[col].iloc[0]) for name, col in (("realised test CTR", "realised CTR noise (%)"),
                                                                 ("fitted level", "fitted level noise (%)")) if col in errors}
    if noise:
        combined = float(np.sqrt(sum(v ** 2 for v in noise.values())))
        parts = ", ".join(f"{k} ±{v:.2f} %" for k, v in noise.items())
        ours += (f"; the noise no fit on the training period can avoid is ±{combined:.2f} % (1 sd: {parts}), "
                 f"so the error is {e.mean() / combined:.1f} times that noise")
    target = 100 * paper.CALIBRATION_ERROR["in-station-Sep"]
    verdict = "reproduced" if hi < CALIBRATION_REPRODUCED_BELOW_PCT else (
        "not reproduced" if lo > CALIBRATION_REPRODUCED_BELOW_PCT else INCONCLUSIVE)
    return [Verdict("Fig. 6", f"calibration error ≈ {target:.2f} % with {paper.CALIBRATION_BUCKETS} buckets", ours, verdict,
                    float(e.mean()), lo, hi, seeds=len(e))]


def reward_ablation(runs: pd.DataFrame) -> list[Verdict]:
    """Fig. 7: score + penalty beats either alone (keyed by ``reward``)."""
    labels = {"score": "score only", "penalty": "penalty only", "both": "score + penalty"}
    return [beats(runs, "reward", "both", other, "Fig. 7", f"score + penalty beats {labels[other]}", labels)
            for other in ("score", "penalty") if {"both", other} <= set(runs["reward"])]


def kendall(epochs: pd.DataFrame) -> list[Verdict]:
    """Fig. 8: per-epoch rows of the rGAN runs (``seed``, ``tau_penalty``, ``tau_random``,
    ``test_auc``, game epochs only). Tau above the random control: paired over seeds; the
    AUC–tau link: each seed's Spearman correlation over epochs, t-interval over seeds."""
    epochs = epochs.dropna(subset=["tau_penalty", "tau_random"])
    if epochs.empty:
        return [Verdict("Fig. 8", "Kendall tau of scores vs −penalty is well above a random ranking's",
                        "no game epoch with a generator step in these runs", INCONCLUSIVE)]
    per_seed = epochs.groupby("seed")[["tau_penalty", "tau_random"]].mean()
    d = per_seed["tau_penalty"] - per_seed["tau_random"]
    lo, hi = t_interval(d)
    out = [Verdict("Fig. 8", "Kendall tau of scores vs −penalty is well above a random ranking's",
                   f"tau {per_seed['tau_penalty'].mean():.3f} vs {per_seed['tau_random'].mean():.3f}: "
                   f"{d.mean():+.3f} [{lo:+.3f}, {hi:+.3f}] ({len(d)} seeds)", _rule(lo, hi), float(d.mean()), lo, hi,
                   seeds=len(d), p_value=t_test_p(d))]
    rho = pd.Series({seed: st.spearmanr(g["tau_penalty"], g["test_auc"]).statistic
                     for seed, g in epochs.groupby("seed") if len(g) > 2}, dtype=float).dropna()
    rlo, rhi = t_interval(rho)
    out.append(Verdict("Fig. 8", "the AUC is highest where tau is high",
                       f"Spearman(tau, test AUC) over epochs {rho.mean():+.2f} [{rlo:+.2f}, {rhi:+.2f}] ({len(rho)} seeds)",
                       _rule(rlo, rhi) if len(rho) > 1 else INCONCLUSIVE, float(rho.mean()), rlo, rhi, seeds=len(rho),
                       p_value=t_test_p(rho)))
    return out


def sweep_effect(runs: pd.DataFrame, key: str, source: str, claim: str) -> Verdict:
    """Does ``key`` change the AUC at all? A Friedman test over the swept values with seeds as
    blocks (the seeds all values share); supported when p < :data:`FRIEDMAN_ALPHA`."""
    wide = runs.pivot_table(index="seed", columns=key, values=VERDICT_METRIC).dropna()
    means = wide.mean()
    spread = float(means.max() - means.min())
    if wide.shape[1] < 3 or len(wide) < 2:
        return Verdict(source, claim, f"spread {spread:.4f} over {key} = {list(means.index)}", INCONCLUSIVE, spread)
    p = st.friedmanchisquare(*[wide[c].to_numpy() for c in wide.columns]).pvalue
    best = means.idxmax()
    return Verdict(source, claim, f"spread {spread:.4f} over {key} = {', '.join(f'{v:g}' for v in means.index)} "
                   f"(best {best:g}); Friedman p = {p:.3f} ({len(wide)} seeds)",
                   SUPPORTED if p < FRIEDMAN_ALPHA else INCONCLUSIVE, spread, seeds=len(wide))


def best_value(runs: pd.DataFrame, key: str, value: float, source: str, claim: str) -> Verdict:
    """Is ``value`` of ``key`` the best? Paired differences against every other value:
    supported when it beats each, refuted when another value beats it, else inconclusive."""
    others = [v for v in sorted(set(runs[key])) if v != value]
    if value not in set(runs[key]) or not others:
        return Verdict(source, claim, f"{key} = {value:g} not in the sweep", INCONCLUSIVE)
    ps = {o: paired(runs, {key: value}, {key: o}, VERDICT_METRIC) for o in others}
    beaten_by = [o for o, p in ps.items() if p.high < 0]
    wins = [o for o, p in ps.items() if p.low > 0]
    verdict = REFUTED if beaten_by else (SUPPORTED if len(wins) == len(others) else INCONCLUSIVE)
    worst = min(ps.values(), key=lambda p: p.mean)
    text = "; ".join(f"vs {o:g}: {p.mean:+.4f} [{p.low:+.4f}, {p.high:+.4f}]" for o, p in ps.items())
    return Verdict(source, claim, f"{key} = {value:g} {text}" + (f"; beaten by {beaten_by}" if beaten_by else ""),
                   verdict, worst.mean, worst.low, worst.high, max(p.mdd for p in ps.values()), seeds=worst.n)


def candidate_size(runs: pd.DataFrame) -> list[Verdict]:
    """Fig. 9 (rGAN runs keyed by ``n_candidates``)."""
    return [sweep_effect(runs, "n_candidates", "Fig. 9", "the candidate size C has an obvious impact")]


def temperature(runs: pd.DataFrame) -> list[Verdict]:
    """Fig. 10 (rGAN runs keyed by ``temperature``)."""
    return [sweep_effect(runs, "temperature", "Fig. 10", "the initial temperature T changes the AUC"),
            best_value(runs, "temperature", paper.BEST_TEMPERATURE, "Fig. 10",
                       f"T = {paper.BEST_TEMPERATURE:g} is the best initial temperature")]


#: The study's bar for model quality (issue: "close at least half the gap between item
#: popularity and the oracle"): the share of that gap the best model must close.
GAP_SHARE = 0.5


#: The model a baseline row compares against when the runs carry no validation AUC (tables
#: written before ``selected_valid_auc`` existed): the paper's proposed model, fixed in advance.
PAPER_MODEL = {"model": "time_aware", "variant": "rgan", "sampler": "rgan"}


def comparator(summary: pd.DataFrame, key: str) -> tuple[pd.Series, str]:
    """The row a baseline is compared with, chosen without the test split: the highest mean
    validation AUC at the selected epochs (``selected_valid_auc``), else the paper's model."""
    if "selected_valid_auc" in summary and summary["selected_valid_auc"].notna().all():
        return summary.loc[summary["selected_valid_auc"].idxmax()], "the best on validation"
    row = summary[summary[key] == PAPER_MODEL.get(key)]
    if row.empty:
        raise ValueError(f"no validation AUC to choose a comparator on, and no {PAPER_MODEL.get(key)!r} row")
    return row.iloc[0], "the paper's model"


def against_baselines(summary: pd.DataFrame, baselines: pd.DataFrame, key: str, labels: dict | None = None,
                      oracle: float | None = None, source: str = "baselines") -> list[Verdict]:
    """Are the paper's models stronger than the sanity baselines (item popularity, one-hot
    logistic regression, :mod:`tacr.baselines`) on the same split, and how much of the gap
    between popularity and the simulator's oracle does the comparator close? ``summary`` is a
    :func:`tacr.stats.summarise` table; the comparator is chosen on validation
    (:func:`comparator`, never on a test AUC), then judged on its validation-selected test AUC
    (the baselines' one setting is picked on validation too)."""
    labels = labels or {}
    b = baselines.set_index("baseline")["test AUC"]
    best, how = comparator(summary, key)
    name = f"{how}: {labels.get(best[key], best[key])}"
    out = []
    for base in ("item popularity", "one-hot logistic regression"):
        if base in b:
            ok = best["val_ci_low"] > b[base]
            out.append(Verdict(source, f"the model of the table ({name}) beats the {base} baseline",
                               f"{best['val_selected_auc']:.4f} [{best['val_ci_low']:.4f}, {best['val_ci_high']:.4f}] "
                               f"vs {b[base]:.4f}", SUPPORTED if ok else (REFUTED if best["val_ci_high"] < b[base] else INCONCLUSIVE),
                               float(best["val_selected_auc"] - b[base]), seeds=int(best["seeds"])))
    if oracle is not None and "item popularity" in b:
        share, lo, hi = ((best[c] - b["item popularity"]) / (oracle - b["item popularity"])
                         for c in ("val_selected_auc", "val_ci_low", "val_ci_high"))
        verdict = SUPPORTED if lo >= GAP_SHARE else (REFUTED if hi < GAP_SHARE else INCONCLUSIVE)
        out.append(Verdict(source, f"it closes at least {GAP_SHARE:.0%} of the gap from item popularity "
                           "to the oracle", f"{share:.0%} [{lo:.0%}, {hi:.0%}] of {b['item popularity']:.4f} → "
                           f"{oracle:.4f} ({name})", verdict, float(share), float(lo), float(hi), seeds=int(best["seeds"])))
    return out


#: Fig. 10: a policy "is uniform sampling" when fewer than this share of its draws differ from
#: a uniform draw's (its mean total variation distance to uniform over the game epochs).
UNIFORM_TV = 0.05


def policy_near_uniform(epochs: pd.DataFrame, temperature: float = paper.BEST_TEMPERATURE, policy: str = "paper") -> list[Verdict]:
    """How far rGAN's policy is from uniform sampling at a temperature: per-epoch policy
    diagnostics of the runs (columns ``temperature``, ``policy``, ``game_epoch`` and
    ``policy_*``), averaged over game epochs and seeds."""
    sel = epochs[(epochs["temperature"] == temperature) & (epochs["game_epoch"] > 0)]
    if "policy" in sel:
        sel = sel[sel["policy"] == policy]
    if sel.empty:
        return []
    C = int(sel["n_candidates"].iloc[0]) if "n_candidates" in sel else float("nan")
    tv, eff = sel["policy_tv_uniform"].mean(), sel["policy_effective_candidates"].mean()
    ratio = sel["policy_max_min_ratio"].mean()
    verdict = "uniform in effect" if tv < UNIFORM_TV else "departs from uniform"
    return [Verdict("Fig. 10", f"rGAN's policy at the paper's T = {temperature:g} samples hard negatives",
                    f"effective candidates {eff:.2f} of {C}; largest/smallest probability {ratio:.2f}; "
                    f"{100 * tv:.1f} % of draws differ from a uniform draw (mean over game epochs)", verdict, float(tv))]


#: Table 3's rGAN variants beyond the paper (keyed by ``variant``).
BEYOND_LABELS = {"rgan_cosine": "rGAN, cosine policy", "rgan_joint": "rGAN, joint steps"}
#: Every Table 3 row's label, the paper's samplers and the variants beyond the paper.
VARIANT_LABELS = {**paper.SAMPLER_LABELS, **BEYOND_LABELS}


def beyond_paper_samplers(runs: pd.DataFrame) -> list[Verdict]:
    """The two rGAN variants beyond the paper (keyed by ``variant``): does a sharp (cosine)
    policy beat uniform sampling and the paper's rGAN, and does rGAN beat uniform once D gets as
    many updates (Algorithm 1's joint steps)?"""
    labels = VARIANT_LABELS
    have = set(runs["variant"])
    out = []
    for a, b, text in (("rgan_cosine", "uniform", "(beyond) a sharp cosine policy beats uniform sampling"),
                       ("rgan_cosine", "rgan", "(beyond) a sharp cosine policy beats the paper's policy"),
                       ("rgan_joint", "uniform", "(beyond) rGAN with as many D updates (joint steps) beats uniform")):
        if {a, b} <= have:
            out.append(beats(runs, "variant", a, b, "Table 3", text, labels))
    return out


def sharp_policies(runs: pd.DataFrame, uniform: pd.DataFrame) -> list[Verdict]:
    """Fig. 10 beyond the paper: for each policy, the sharpest setting the sweep ran against
    uniform sampling (paired by seed). ``runs``: a per-run table keyed by ``policy`` and
    ``temperature`` with the mean ``policy_effective_candidates``; ``uniform``: uniform runs."""
    out = []
    u = uniform.assign(variant="uniform")
    for policy, g in runs.groupby("policy", sort=False):
        if g["policy_effective_candidates"].isna().all():
            continue  # no game epoch in these runs
        sharpest = g.loc[g["policy_effective_candidates"].idxmin()]
        t = sharpest["temperature"]
        both = pd.concat([g[g["temperature"] == t].assign(variant="sharp"), u], ignore_index=True)
        v = beats(both, "variant", "sharp", "uniform", "Fig. 10",
                  f"(beyond) the sharpest {policy} policy run (T = {t:g}, {sharpest['policy_effective_candidates']:.1f} "
                  "effective candidates) beats uniform sampling", {"sharp": f"{policy} T = {t:g}"})
        out.append(v)
    return out


def policy_note(runs: pd.DataFrame) -> str:
    """One sentence on how far the runs' policies were from uniform (game epochs, all runs):
    the context every rGAN verdict needs (Figs. 7-10)."""
    game = runs[(runs["game_epoch"] > 0) & runs["policy_effective_candidates"].notna()] if "game_epoch" in runs else runs
    if game.empty:
        return ""
    C = int(game["n_candidates"].iloc[0]) if game["n_candidates"].nunique() == 1 else None
    return (f"Over these runs' game epochs the generator's policy chose among {game['policy_effective_candidates'].mean():.2f} "
            f"effective candidates{f' of {C}' if C else ''}, and {100 * game['policy_tv_uniform'].mean():.1f} % of its draws "
            f"differed from a uniform draw (largest/smallest probability {game['policy_max_min_ratio'].mean():.2f}): "
            + ("in effect uniform sampling, so the reward structure has little to act on."
               if game["policy_tv_uniform"].mean() < UNIFORM_TV else "the policy departs from uniform."))



# ------------------------------------------------------------------------------ one function per notebook
def read_table(folder, name: str) -> pd.DataFrame | None:
    """A table a notebook saved in ``folder``: ``<name>.parquet``, else ``<name>.csv``; None if
    neither. A per-run table written before it carried its number of epochs gets the run's."""
    folder = Path(folder)
    if (folder / f"{name}.parquet").exists():
        table = pd.read_parquet(folder / f"{name}.parquet")
    elif (folder / f"{name}.csv").exists():
        table = pd.read_csv(folder / f"{name}.csv")
    else:
        return None
    if "game_epochs" in table and "epochs" not in table and "epochs" in read_record(folder):
        table["epochs"] = int(read_record(folder)["epochs"])
    return table


def on_simulator(folder) -> bool:
    """Whether the folder's run is on the simulator (its ``study.json``, else an oracle in Table 1)."""
    record = read_record(folder)
    if "simulator" in record:
        return bool(record["simulator"])
    t1 = read_table(folder, "table1_data")
    return t1 is not None and "oracle AUC" in t1 and t1["oracle AUC"].notna().any()


def tag(rows: list[Verdict], folder, planted=lambda v: False) -> list[Verdict]:
    """Set each row's evidence: real data, or on the simulator planted (``planted(row)``) or not."""
    sim = on_simulator(folder)
    for v in rows:
        v.evidence = v.evidence or ((PLANTED if planted(v) else SIMULATED) if sim else REAL)
    return rows


def _oracle(baselines: pd.DataFrame | None) -> float | None:
    """The simulator's oracle test AUC: the baselines table's oracle row (None on real data)."""
    if baselines is None:
        return None
    row = baselines[baselines["baseline"].str.startswith("oracle")]
    return float(row["test AUC"].iloc[0]) if len(row) else None


def _with_baselines(folder, runs: pd.DataFrame, table: str, key: str, labels: dict, source: str) -> list[Verdict]:
    base = read_table(folder, table)
    if base is None:
        return []
    return against_baselines(summarise(runs, key), base, key, labels, _oracle(base), source)


def _sees_more_time(v: Verdict) -> bool:
    """A Table 2 claim whose two models see different time inputs (the absolute-time one-hots,
    the relative-time encoding; :data:`tacr.models.PRESETS`): on the simulator it rests on the
    temporal effects planted there. Models that see the same time differ only in how they read
    the history, which the simulator does not plant."""
    seen = lambda m: (PRESETS[m]["temporal"], PRESETS[m]["time_attention"])
    pairs = {text: (a, b) for a, b, text, _ in _table2_pairs()} | {_relaimpr_claim()[1]: ("time_aware", "din")}
    return v.claim in pairs and seen(pairs[v.claim][0]) != seen(pairs[v.claim][1])


def embedding_claims(folder) -> list[Verdict]:
    """Notebook 02 (Table 2): ``table2_runs``, ``table2_baselines``, ``table2_null_runs``."""
    runs = read_table(folder, "table2_runs")
    if runs is None:
        return []
    out = table2(runs) + _with_baselines(folder, runs, "table2_baselines", "model", paper.MODEL_LABELS,
                                         "Table 2, baselines")
    null = read_table(folder, "table2_null_runs")
    control = null_world(null) if null is not None else []
    for v in control:
        v.evidence = CONTROL
    return tag(out + control, folder, _sees_more_time)


def sampler_claims(folder) -> list[Verdict]:
    """Notebook 03 (Table 3): ``table3_runs`` (the paper's rows by ``sampler``, the rows beyond
    the paper by ``variant``) and ``table3_baselines``."""
    runs = read_table(folder, "table3_runs")
    if runs is None:
        return []
    if "variant" not in runs:  # the paper's samplers only
        return tag(table3(runs), folder)
    paper_rows = runs[runs["variant"] == runs["sampler"]]
    return tag(table3(paper_rows) + beyond_paper_samplers(runs)
               + _with_baselines(folder, runs, "table3_baselines", "variant", VARIANT_LABELS, "Table 3, baselines"), folder)


def _judge(folder, name: str, judge, planted=lambda v: False) -> list[Verdict]:
    table = read_table(folder, name)
    return [] if table is None else tag(judge(table), folder, planted)


def overall_claims(folder) -> list[Verdict]:
    """Notebook 04 (Table 4): ``table4_runs``; on the simulator its effect is mostly the
    time-aware model's planted one (Table 2)."""
    return _judge(folder, "table4_runs", table4, planted=lambda v: True)


def calibration_claims(folder) -> list[Verdict]:
    """Notebook 05 (Fig. 6): ``fig6_calibration_runs``."""
    return _judge(folder, "fig6_calibration_runs", calibration)


def reward_claims(folder) -> list[Verdict]:
    """Notebook 06 (Fig. 7): ``fig7_runs``."""
    return _judge(folder, "fig7_runs", reward_ablation)


def kendall_claims(folder) -> list[Verdict]:
    """Notebook 07 (Fig. 8): ``fig8_epochs``."""
    return _judge(folder, "fig8_epochs", kendall)


def candidate_size_claims(folder) -> list[Verdict]:
    """Notebook 08 (Fig. 9): ``fig9_runs``."""
    return _judge(folder, "fig9_runs", candidate_size)


def temperature_claims(folder) -> list[Verdict]:
    """Notebook 09 (Fig. 10): ``fig10_runs`` (the paper's policy), ``fig10_policy_epochs``,
    ``fig10_all_runs`` (both policies) and ``fig10_uniform_runs`` (uniform sampling on the
    sweep's seeds)."""
    out = _judge(folder, "fig10_runs", temperature) + _judge(folder, "fig10_policy_epochs", policy_near_uniform)
    every, uniform = read_table(folder, "fig10_all_runs"), read_table(folder, "fig10_uniform_runs")
    if every is not None and uniform is not None and len(uniform):
        out += tag(sharp_policies(every, uniform), folder)
    return out


#: Each notebook's claim function, in the paper's order (:mod:`tacr.report` concatenates them).
BY_NOTEBOOK = {"02_embedding_comparison": embedding_claims, "03_sampler_comparison": sampler_claims,
               "04_overall": overall_claims, "05_calibration": calibration_claims, "06_reward_ablation": reward_claims,
               "07_tau": kendall_claims, "08_candidate_size": candidate_size_claims, "09_temperature": temperature_claims}


def with_holm(rows: list[Verdict], level: float = LEVEL) -> list[Verdict]:
    """Holm's correction over the family of ``rows`` judged by a test (those with a p-value;
    the null-world control is a check of the pipeline, not a claim, and stays out). Each such
    row gets the verdict its tests still give once adjusted: supported or refuted when its test
    of "no difference", adjusted over the family, rejects; else refuted at the paper's size when
    its test of "at least the paper's effect", adjusted over the rows that have one, rejects;
    else inconclusive. ``p_holm`` is the adjusted p-value of the test the verdict rests on. The
    unadjusted interval and verdict stay beside it."""
    alpha = 1 - level
    family = [v for v in rows if np.isfinite(v.p_value) and v.evidence != CONTROL]
    sized = [v for v in family if np.isfinite(v.p_paper)]
    p_zero = dict(zip(map(id, family), holm([v.p_value for v in family])))
    p_size = dict(zip(map(id, sized), holm([v.p_paper for v in sized])))
    for v in family:
        if p_zero[id(v)] < alpha:
            v.holm, v.p_holm = (SUPPORTED if v.diff > 0 else REFUTED), float(p_zero[id(v)])
        elif id(v) in p_size and p_size[id(v)] < alpha:
            v.holm, v.p_holm = BELOW_PAPER, float(p_size[id(v)])
        else:
            v.holm, v.p_holm = INCONCLUSIVE, float(p_zero[id(v)])
    return rows


def all_claims(folder) -> list[Verdict]:
    """Every notebook's claim rows for a results folder (notebooks that did not run give none),
    with Holm's correction over the folder's whole family of tests (:func:`with_holm`)."""
    return with_holm([v for judge in BY_NOTEBOOK.values() for v in judge(folder)])


def claim_key(v: Verdict) -> str:
    """A claim's identity across datasets: its source and words."""
    return f"{v.source}|{v.claim}"


def headline(folders: dict) -> pd.DataFrame:
    """The paper's claims and Table 2's ablation (no baseline, control or other beyond-the-paper rows) with each dataset's
    verdict side by side: ``folders`` maps a column title to a results folder. A cell reads
    "verdict", with "(planted)" where the simulator built the effect in and the Holm-adjusted
    verdict where it differs; "not run" where the folder holds no such claim."""
    columns, order = {}, []
    for title, folder in folders.items():
        cells = {}
        for v in all_claims(folder):
            if "baselines" in v.source or "null world" in v.source or v.claim.startswith("(beyond)"):
                continue
            key = claim_key(v)
            if key not in order:
                order.append(key)
            cells[key] = (f"**{v.verdict}**" + (" (planted)" if v.evidence == PLANTED else "")
                          + (f"; after Holm: {v.holm}" if v.holm and v.holm != v.verdict else ""))
        columns[title] = cells
    rows = [{"source": k.split("|")[0], "claim (paper)": k.split("|")[1],
             **{t: c.get(k, "not run") for t, c in columns.items()}} for k in order]
    return pd.DataFrame(rows)
