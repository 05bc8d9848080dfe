"""A JD-like impression simulator with known ground truth (the embedded default dataset).

The paper's JD.com data are private; this generator plants the effects the paper's model is
built to find, each with a strength parameter (0 turns it off), and keeps the true click
probability ``p_click`` of every impression:

* **affinity** — a user's latent taste (from a few preferred categories, skewed by gender)
  against the item's latent vector; the item's 50-d ``raw`` features are a noisy linear image of
  its latent vector and its category centroid (standing in for the paper's image features);
* **item quality** and **age** — a per-item bias visible in ``raw``, a per-age-bucket bias;
* **interest drift** — a boost ``drift * exp(-dt / drift_tau)`` where ``dt`` is the seconds
  since the user's latest click in the target's category (within the last 10 clicks); ads
  also retarget recently clicked categories, as real ad systems do;
* **periodic behaviour** — hour of day, day of week, pay days of the month, month of year, and
  a per-category peak hour.

The logit is ``base + sum of effects``; ``base`` is solved on a pilot run so the mean CTR hits
``target_ctr`` (1.5 % by default). Impressions are simulated in time chunks (``chunk_seconds``):
an impression sees the clicks of earlier chunks, so everything is vectorised per chunk.
Profiles: ``smoke`` (seconds, tests), ``quick`` (notebook default on 2 CPU cores) and
``paper`` (the shape of the paper's in-station data, Table 1: ~1.7M items, ~3.1K categories,
~8.4M train and ~9.3M test impressions).
"""
from __future__ import annotations

import time as _time
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from . import register
from .schema import CTRData, Items, assemble

DAY = 86400
HIST = 10  # clicks the simulator remembers per user for drift and retargeting


@dataclass(frozen=True)
class SimConfig:
    n_users: int = 1500
    n_items: int = 20000
    n_categories: int = 200
    impressions_per_day: int = 40000
    warmup_days: int = 10  # simulated only to give histories; not in any split
    warmup_impressions_per_day: int | None = None  # None: as impressions_per_day
    train_days: int = 6  # the last ``valid_days`` of them are the validation split
    valid_days: float = 0.5
    test_days: int = 1
    first_train_day: str = "2026-09-01"  # a pay day; the warm-up days come before it
    tz: str = "UTC"
    raw_dim: int = 50
    latent_dim: int = 16
    prefs_per_user: int = 3
    target_ctr: float = 0.015
    # effect strengths (logit units); 0 turns an effect off
    affinity: float = 0.8
    quality: float = 0.5
    age: float = 0.3
    drift: float = 1.5
    drift_tau: float = 4 * 3600.0  # seconds
    hour: float = 0.5
    weekday: float = 0.25
    payday: float = 0.4
    paydays: tuple[int, ...] = (1, 15)
    month: float = 0.2
    category_hour: float = 0.4
    # exposure policy
    retarget: float = 0.4  # share of impressions from a recently clicked category
    preferred: float = 0.3  # share from the user's preferred categories; the rest random popular
    raw_noise: float = 0.5
    chunk_seconds: int = 1800
    pilot_users: float = 0.2  # share of users in the pilot run that solves ``base``
    seed: int = 0


PROFILES: dict[str, SimConfig] = {
    "smoke": SimConfig(n_users=400, n_items=2000, n_categories=30, impressions_per_day=12000,
                       warmup_days=4, train_days=4, valid_days=1.0, chunk_seconds=3600),
    "quick": SimConfig(),
    "paper": SimConfig(n_users=1_500_000, n_items=1_680_735, n_categories=3137,
                       impressions_per_day=8_900_000, warmup_days=4, warmup_impressions_per_day=2_000_000,
                       train_days=1, valid_days=0.1,
                       test_days=1, chunk_seconds=3600, pilot_users=0.05),
}


def config_for(profile: str = "quick", **overrides) -> SimConfig:
    if profile not in PROFILES:
        raise ValueError(f"unknown simulator profile {profile!r}; choose from {sorted(PROFILES)}")
    cfg = PROFILES[profile]
    unknown = set(overrides) - set(asdict(cfg))
    if unknown:
        raise ValueError(f"unknown simulator parameter(s) {sorted(unknown)}; known: {sorted(asdict(cfg))}")
    return replace(cfg, **{k: (tuple(v) if isinstance(v, list) else v) for k, v in overrides.items()})


@register("synthetic")
def load_synthetic(profile: str = "quick", L: int = 10, seed: int | None = None, **overrides) -> CTRData:
    """Simulate a dataset. ``profile`` picks the size; any :class:`SimConfig` field overrides."""
    if seed is not None:
        overrides["seed"] = seed
    overrides.pop("data_dir", None)
    cfg = config_for(profile, **overrides)
    return simulate(cfg, L=L, name=f"synthetic-{profile}")


# ------------------------------------------------------------------------------ the world
class _World:
    """Users, items, categories and the fixed effect curves, drawn from the seed."""

    def __init__(self, cfg: SimConfig, rng: np.random.Generator):
        C, I, U, k = cfg.n_categories, cfg.n_items, cfg.n_users, cfg.latent_dim
        self.cfg = cfg
        # categories: latent centroid, popularity (Zipf), gender skew, peak hour
        self.cat_mu = rng.normal(size=(C, k)).astype(np.float32)
        self.cat_pop = 1.0 / np.arange(1, C + 1) ** 0.8
        rng.shuffle(self.cat_pop)
        self.cat_gender = rng.uniform(-1, 1, size=C)
        self.cat_peak = rng.integers(0, 24, size=C)
        # items: category by popularity, sorted so each category is one contiguous block
        cat = np.sort(rng.choice(C, size=I, p=self.cat_pop / self.cat_pop.sum()))
        cat[:C] = np.arange(C)  # every category has at least one item
        cat = np.sort(cat)
        self.item_cat = cat.astype(np.int64)
        self.cat_start = np.searchsorted(cat, np.arange(C), side="left")
        self.cat_size = np.searchsorted(cat, np.arange(C), side="right") - self.cat_start
        self.item_z = (self.cat_mu[cat] + 0.7 * rng.normal(size=(I, k))).astype(np.float32)
        w_q = rng.normal(size=k) / np.sqrt(k)
        self.item_quality = (self.item_z @ w_q + 0.5 * rng.normal(size=I)).astype(np.float32)
        self.item_quality -= self.item_quality.mean()
        self.item_quality /= self.item_quality.std() + 1e-9
        # raw 50-d features: a noisy linear image of (latent, quality) plus a category signature
        proj = rng.normal(size=(k + 1, cfg.raw_dim)) / np.sqrt(k + 1)
        cat_sig = rng.normal(size=(C, cfg.raw_dim)) * 0.5
        zq = np.concatenate([self.item_z, self.item_quality[:, None]], axis=1)
        self.raw = (zq @ proj + cat_sig[cat] + cfg.raw_noise * rng.normal(size=(I, cfg.raw_dim))).astype(np.float32)
        # users: gender (0 f, 1 m, 2 unknown), age bucket (7), activity, preferred categories
        self.gender = rng.choice(3, size=U, p=[0.45, 0.45, 0.10])
        self.age = rng.choice(7, size=U, p=[0.05, 0.25, 0.3, 0.2, 0.1, 0.06, 0.04])
        self.activity = rng.lognormal(0.0, 0.8, size=U)
        self.age_effect = np.linspace(-1, 1, 7)[rng.permutation(7)]
        sign = np.where(self.gender == 0, -1.0, np.where(self.gender == 1, 1.0, 0.0))
        # preferred categories: Gumbel top-P of the popularity-and-gender logits, drawn in slices of
        # users so the (users, categories) matrix never exists whole (35 GB at the paper's scale)
        P = cfg.prefs_per_user
        self.prefs = np.empty((U, P), dtype=np.int64)  # (U, P), most preferred first
        for a in range(0, U, 8192):
            b = min(a + 8192, U)
            keys = -(np.log(self.cat_pop)[None, :] + 1.5 * sign[a:b, None] * self.cat_gender[None, :]
                     + rng.gumbel(size=(b - a, C)))  # (b-a, C)
            top = np.argpartition(keys, P - 1, axis=1)[:, :P] if P < C else np.tile(np.arange(C), (b - a, 1))
            order = np.argsort(np.take_along_axis(keys, top, axis=1), axis=1)
            self.prefs[a:b] = np.take_along_axis(top, order, axis=1)
        self.user_u = (self.cat_mu[self.prefs].mean(axis=1) + 0.5 * rng.normal(size=(U, k))).astype(np.float32)
        # periodic curves (mean zero over their domain)
        h = np.arange(24)
        self.hour_curve = np.cos(2 * np.pi * (h - 21) / 24) + 0.3 * np.cos(4 * np.pi * (h - 12) / 24)
        self.weekday_curve = np.array([-0.3, -0.2, -0.1, 0.0, 0.2, 0.6, 0.5])
        self.weekday_curve -= self.weekday_curve.mean()
        self.month_curve = np.cos(2 * np.pi * (np.arange(12) - 10) / 12)  # peak in November
        self.traffic = 0.4 + (1 + np.cos(2 * np.pi * (h - 20) / 24)) / 2  # more traffic in the evening
        self.traffic /= self.traffic.sum()

    def item_in_category(self, cats: np.ndarray, rng) -> np.ndarray:
        """A popularity-skewed item of each given category."""
        u = rng.random(len(cats)) ** 2
        return self.cat_start[cats] + np.minimum((u * self.cat_size[cats]).astype(np.int64), self.cat_size[cats] - 1)


def _schedule(cfg: SimConfig, world: _World, rng, users_subset=None):
    """Impression (user, time) pairs for every simulated day, sorted by time."""
    t0 = int(pd.Timestamp(cfg.first_train_day, tz=cfg.tz).timestamp()) - cfg.warmup_days * DAY
    n_days = cfg.warmup_days + cfg.train_days + cfg.test_days
    act = world.activity if users_subset is None else world.activity * users_subset
    p_user = act / act.sum()
    per_day = int(cfg.impressions_per_day * (1.0 if users_subset is None else users_subset.mean()))
    users, times = [], []
    warm_scale = 1.0 if cfg.warmup_impressions_per_day is None else cfg.warmup_impressions_per_day / cfg.impressions_per_day
    for d in range(n_days):
        n = rng.poisson(per_day * (warm_scale if d < cfg.warmup_days else 1.0))
        users.append(rng.choice(len(p_user), size=n, p=p_user))
        hour = rng.choice(24, size=n, p=world.traffic)
        times.append(t0 + d * DAY + hour * 3600 + rng.integers(0, 3600, size=n))
    users, times = np.concatenate(users), np.concatenate(times).astype(np.int64)
    order = np.argsort(times, kind="stable")
    return users[order].astype(np.int64), times[order], t0


def _run(cfg: SimConfig, world: _World, rng, base: float, users_subset=None, progress=False):
    """Simulate the log chunk by chunk. Returns a DataFrame and the pre-base logits."""
    from .history import time_features

    users, times, t0 = _schedule(cfg, world, rng, users_subset)
    N, U = len(users), cfg.n_users
    item = np.empty(N, dtype=np.int64)
    logit_rest = np.empty(N, dtype=np.float64)
    label = np.zeros(N, dtype=np.int8)
    dt_related = np.full(N, np.inf)
    ring_item = np.zeros((U, HIST), dtype=np.int64)
    ring_time = np.zeros((U, HIST), dtype=np.int64)
    ring_n = np.zeros(U, dtype=np.int64)
    feats = time_features(times, cfg.tz)  # (N, 4)
    payday = np.isin(feats[:, 2] + 1, np.asarray(cfg.paydays))
    periodic = (cfg.hour * world.hour_curve[feats[:, 3]] + cfg.weekday * world.weekday_curve[feats[:, 1]]
                + cfg.payday * (payday - np.mean(payday)) + cfg.month * world.month_curve[feats[:, 0]])
    bounds = np.searchsorted(times, np.arange(times[0] - times[0] % cfg.chunk_seconds, times[-1] + cfg.chunk_seconds + 1,
                                              cfg.chunk_seconds))
    k_scale = 1.0 / np.sqrt(cfg.latent_dim)
    for a, b in zip(bounds[:-1], bounds[1:]):
        if a == b:
            continue
        u, t = users[a:b], times[a:b]
        n = b - a
        # exposure: retarget a recently clicked category, a preferred one, or a popular random one
        valid = np.arange(HIST)[None, :] < np.minimum(ring_n[u], HIST)[:, None]  # (n, HIST)
        has_clicks = valid.any(axis=1)
        draw = rng.random(n)
        slot = (rng.random(n) * np.maximum(np.minimum(ring_n[u], HIST), 1)).astype(np.int64)
        recent_cat = world.item_cat[ring_item[u, slot]]
        pref_cat = world.prefs[u, rng.integers(0, cfg.prefs_per_user, size=n)]
        pop_cat = rng.choice(cfg.n_categories, size=n, p=world.cat_pop / world.cat_pop.sum())
        cat = np.where((draw < cfg.retarget) & has_clicks, recent_cat,
                       np.where(draw < cfg.retarget + cfg.preferred, pref_cat, pop_cat))
        it = world.item_in_category(cat, rng)
        # drift: seconds since the latest remembered click in the target's category
        same = valid & (world.item_cat[ring_item[u]] == cat[:, None])  # (n, HIST)
        last = np.where(same, ring_time[u], -1).max(axis=1)
        dt = np.where(last >= 0, t - last, np.inf)
        drift = np.where(np.isfinite(dt), np.exp(-np.minimum(dt, 1e12) / cfg.drift_tau), 0.0)
        aff = np.einsum("nk,nk->n", world.user_u[u], world.item_z[it]) * k_scale
        hour = feats[a:b, 3]
        cat_hour = np.cos(2 * np.pi * (hour - world.cat_peak[cat]) / 24)
        rest = (cfg.affinity * aff + cfg.quality * world.item_quality[it] + cfg.age * world.age_effect[world.age[u]]
                + cfg.drift * drift + periodic[a:b] + cfg.category_hour * cat_hour)
        p = 1.0 / (1.0 + np.exp(-(base + rest)))
        y = rng.random(n) < p
        item[a:b], logit_rest[a:b], label[a:b], dt_related[a:b] = it, rest, y, dt
        # remember clicks (in time order; at most HIST per user per chunk)
        if y.any():
            cu, ci, ct = u[y], it[y], t[y]
            order = np.argsort(cu, kind="stable")
            cu, ci, ct = cu[order], ci[order], ct[order]
            first = np.searchsorted(cu, cu, side="left")
            last_ = np.searchsorted(cu, cu, side="right")
            rank = np.arange(len(cu)) - first
            keep = rank >= (last_ - first) - HIST
            cu, ci, ct, rank = cu[keep], ci[keep], ct[keep], rank[keep]
            slot = (ring_n[cu] + rank) % HIST
            ring_item[cu, slot], ring_time[cu, slot] = ci, ct
            np.add.at(ring_n, u[y], 1)
    log = pd.DataFrame({"user": users, "item": item, "time": times, "label": label,
                        "p_click": (1.0 / (1.0 + np.exp(-(base + logit_rest)))).astype(np.float32),
                        "dt_related": dt_related.astype(np.float32)})
    return log, logit_rest, t0


def _solve_base(rest: np.ndarray, target: float) -> float:
    lo, hi = -20.0, 5.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(mid + rest)))) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def simulate(cfg: SimConfig, L: int = 10, name: str = "synthetic") -> CTRData:
    """Draw the world, solve the base rate on a pilot, simulate, build histories and splits."""
    if not 0 < cfg.target_ctr < 1:
        raise ValueError(f"target_ctr must be in (0, 1), got {cfg.target_ctr}")
    if cfg.train_days <= cfg.valid_days or cfg.valid_days <= 0 or cfg.test_days < 1:
        raise ValueError("need train_days > valid_days > 0 and test_days >= 1")
    started = _time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    world = _World(cfg, rng)
    # pilot on a share of users, with a rough base, to solve the base rate
    pilot_mask = (rng.random(cfg.n_users) < cfg.pilot_users).astype(float)
    base = float(np.log(cfg.target_ctr / (1 - cfg.target_ctr))) - 1.0
    for _ in range(2):  # clicks feed drift, so re-solve once with the first estimate
        _, rest, _ = _run(cfg, world, np.random.default_rng(cfg.seed + 1), base=base, users_subset=pilot_mask)
        base = _solve_base(rest, cfg.target_ctr)
    log, _, t0 = _run(cfg, world, np.random.default_rng(cfg.seed + 2), base=base)

    warm_end = t0 + cfg.warmup_days * DAY
    test_start = warm_end + cfg.train_days * DAY
    valid_start = int(test_start - cfg.valid_days * DAY)
    test_end = test_start + cfg.test_days * DAY
    info = {"simulator": asdict(cfg), "base_logit": base, "warmup_impressions": int((log.time < warm_end).sum())}
    data = assemble(name, log[["user", "item", "time", "label", "p_click"]], Items(category=world.item_cat, raw=world.raw),
                    np.stack([world.gender, world.age], axis=1), (3, 7), valid_start=valid_start,
                    test_start=test_start, test_end=test_end, L=L, tz=cfg.tz, aux_names=("gender", "age"),
                    info=info, source=name, drop_before=warm_end)
    from ..metrics import auc

    data.info["oracle_auc"] = {s: auc(data.splits[s].label, data.splits[s].p_click) for s in data.splits}
    data.info["generation_seconds"] = _time.perf_counter() - started
    return data


def planted_effects(data: CTRData) -> dict[str, pd.DataFrame]:
    """Empirical and true CTR by hour, weekday, day of month, and against the seconds since the
    latest same-category click in the history, over all splits (for the data notebook)."""
    from .history import TIME_FEATURE_NAMES, time_features

    frames = []
    for name, s in data.splits.items():
        f = time_features(s.time, data.tz)
        cat = data.items.category
        real = np.arange(s.L)[None, :] < s.hist_len[:, None]
        same = real & (cat[s.hist_item] == cat[s.item][:, None])
        last = np.where(same, s.hist_time, -1).max(axis=1)
        dt = np.where(last >= 0, s.time - last, np.nan)
        frames.append(pd.DataFrame({"split": name, "label": s.label, "p_click": s.p_click,
                                    **{n: f[:, j] for j, n in enumerate(TIME_FEATURE_NAMES)}, "dt_related": dt}))
    df = pd.concat(frames, ignore_index=True)
    out = {}
    for col in ("hour", "weekday", "day"):
        g = df.groupby(col).agg(impressions=("label", "size"), ctr=("label", "mean"), true_ctr=("p_click", "mean"))
        out[col] = g.reset_index()
    hours = df["dt_related"] / 3600.0
    edges = np.array([0, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 1e9])
    df["dt_bin"] = pd.cut(hours, edges, right=False)
    g = df.groupby("dt_bin", observed=True).agg(impressions=("label", "size"), ctr=("label", "mean"),
                                                 true_ctr=("p_click", "mean"), hours=("dt_related", lambda x: x.median() / 3600))
    none = df[df["dt_related"].isna()]
    out["drift"] = g.reset_index()
    out["drift_none"] = pd.DataFrame({"impressions": [len(none)], "ctr": [none.label.mean()], "true_ctr": [none.p_click.mean()]})
    return out
