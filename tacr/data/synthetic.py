"""A JD-like impression simulator with known ground truth (the embedded default dataset), v2.

The paper's JD.com data are private. This generator simulates an ad log of the same shape
(:mod:`tacr.data.schema`) and keeps, for every impression, the true click probability ``p_click`` and the
**logit components** it is the sum of (``Split.components``, names in
``data.info["logit_components"]``), so the worth of each planted effect can be measured exactly
(:func:`effect_budget`).

How the log is made
-------------------
* **World.** Users (gender, age bucket, activity, 3 preferred categories skewed by gender, a
  latent taste vector), items (a category, a latent vector near the category's centroid, a
  quality) and categories (Zipf popularity, a peak hour). An item's 50-d ``raw`` vector (the
  paper's image features) is a noisy linear image of its latent vector and its quality plus a
  category signature (``raw_noise``). User aux features: gender, age.
* **Sessions.** Users arrive in sessions (a Poisson number per day; start hour by a diurnal
  traffic curve peaking at 20 h; user by activity): ``1 + Geometric`` impressions, mean
  ``session_impressions`` = 5, exponential gaps of mean ``session_gap`` = 60 s (at least 1 s),
  about 4 sessions per user and day. Activity is log-normal (sd 0.8) capped at
  ``activity_cap`` = 6x the median, as bot filtering caps real logs.
* **Exposure (which ad is shown).** After a click the system retargets: with probability
  ``retarget_recent * exp(-dt / retarget_tau)`` (0.6, 4 h; dt = seconds since the user's latest
  click) the ad is of the latest clicked category; else with probability ``retarget_memory``
  (0.15) of the category of a random one of the user's last 10 clicks if that click is under
  ``retarget_window`` (7 days) old; else with ``preferred`` (0.3) of a preferred category; else of
  a popular one. The item inside a category is popularity-skewed.
* **Click.** ``logit = base + sum of components``, ``p_click = sigmoid(logit)``,
  ``label ~ Bernoulli(p_click)``. Clicks feed the user's memory of the last :data:`HIST` = 10
  clicks, which drives retargeting and drift. ``base`` is solved on pilot runs (a share
  ``pilot_users`` of the users over the same days; secant steps, as clicks feed back through
  drift), then on full runs with the same random draws until the mean p_click over the split
  periods is within ``ctr_tolerance`` (2 %) of ``target_ctr`` = 1.5 % (the paper's data: 1.507 %
  train, 1.489 % test, Table 1): a pilot's users miss the population's mean CTR by up to tens of
  %, as users differ a lot.
* **Exact order.** Users affect only their own future, so the log is simulated impression by
  impression per user, vectorised across users: step k handles the k-th impression of every
  user at once. An impression sees every earlier click of its user, also one a minute earlier
  in the same session, exactly as its history does (times are strictly increasing per user).
* **Mature histories.** A click-only behaviour log of ``prior_days`` = 30 days before the
  warm-up (each user about their click rate x 30 clicks; 70 % in a preferred category) seeds the
  memory and the histories, so the share of impressions with a related history click is flat over
  the window instead of growing as histories fill. These clicks are log rows in no split.
* **Calendar** (defaults): 7 warm-up days (histories and drift only, in no split), 14 training
  days from a Monday (every weekday twice), 2 validation days, 7 test days (a full week, so the
  test's expected CTR is the weekly mean, like the training's). Start: Monday 2025-09-08
  (warm-up from Sep 1; test Sep 24-30, all in September and before the October holidays).
* **Row sampling** (``train_sample``, ``valid_sample``). Histories and drift use every click of
  the full simulated traffic; of the training-period impressions a uniform random share
  ``train_sample`` is kept as rows (``study``: 2.5 %, about 2.2K clicks in 150K rows: what the
  study's 90-minute budget on 2 CPU cores can train its ~120 runs on; with full 10-click
  histories a G step of the adversarial samplers costs about 0.3 ms per candidate row on one
  core, and the pointwise "logistic regression" sampler about as much per training row), of the
  validation period ``valid_sample`` (``study``: 25 %, about 3K clicks, so the epoch picked on
  validation is not mostly noise), and all test impressions are
  kept: production training logs are down-sampled while click histories come from the full
  behaviour log. Uniform over rows, so a split's expected CTR is unchanged;
  ``data.info["full_traffic"]`` has the unsampled counts.

The planted effects (logit units)
---------------------------------
Each size was fixed from the reference point in the last column before any model was trained
on these data, and is not to be changed from model results. Where a reference gives a range
the value lies in it. Two values were placed inside their ranges to meet the study's design
rule that every effect the paper's claims rest on is worth >= 0.01 oracle test AUC
(:func:`effect_budget`), before any model was trained: ``category_hour`` at the upper end of its
range (at +-0.45 absolute time as a whole was worth ~0.009 on ``quick``) and ``affinity`` in the
lower half of its range.
Odds ratios in brackets.

=================  ================================  ==========================  ========================================
component          definition                        size (default)              real-world reference point
=================  ================================  ==========================  ========================================
``affinity``       user taste . item latent vector,  sd 0.5 on random user-item  user-item terms are the largest signal
                   sd 1 on random user-item pairs    pairs (~0.6 over the shown  of factorisation CTR models: log-odds
                                                     ads, which favour tastes)   spreads of 0.5-1; lower half, so the
                                                                                 oracle test AUC (~0.81) sits a few
                                                                                 points above the paper's best (0.7745)
``quality``        item quality (sd 1), visible in   sd 0.5                      item CTRs in ad logs spread
                   ``raw``                                                       log-normally: sd of logit 0.5-1
``age``            linear in the age bucket          +-0.15, young click more    demographic CTR gaps of +-10-20 %
``drift_flag``     a same-category click among the   +0.3 (x1.35)                DIN/DIEN: a related past click is the
                   user's last 10 clicks, any age                                strongest history signal
``drift_recency``  ``a_s exp(-dt/tau_s) +            a_s = 1.0, tau_s = 20 min;  retargeted display CTR is quoted at up
                   a_d exp(-dt/tau_d)`` if flagged,  a_d = 1.0, tau_d = 4 h.     to ~10x run-of-network; CTR highest
                   dt = seconds since the latest     With the flag: x9.5 at 1    within 1 h of the triggering action and
                   related click                     min, x5.5 at 15 min, x3.1   falling over hours to days (Simpli.fi,
                                                     at 1 h, x1.9 at 4 h, x1.4   200 campaigns; remarketing decay
                                                     at 12 h, x1.35 after days   curves). In-session intent (minutes)
                                                                                 and same-day interest (hours): inside
                                                                                 what Eq. 3 (periods 2 pi s..~14 h)
                                                                                 resolves
``hour``           ``HOUR_CURVE``: high 11-14 h,     +-0.2 (x1.22 best hours,    Infolinks 2013, 1e12 impressions: best
                   below the mean in prime time,     x0.82 at 2-4 h)             hours +14 % over the mean, prime time
                   lowest at 2-4 h                                               below it, night lowest
``category_hour``  cos(2 pi (h - peak_c) / 24) for   +-0.55 (x3 between a        dayparting: a category's CTR at its
                   a uniform peak hour per category  category's peak and trough  peak vs off-peak hours (meals for food,
                                                     hours)                      night for games) x1.5-3; upper end
``weekday``        ``WEEKDAY_CURVE``: weekend high,  +-0.05                      Infolinks: Fri +3.2 %, Wed -1.9 %;
                   Wednesday low                                                 Chitika: weekends above weekdays
``payday``         the 1st and 15th, then two days   +0.10, +0.06, +0.03         spending peaks after payday (the
                                                                                 paper's own example): a few % to 10 %
``month``          ``MONTH_CURVE``: June (618) and   +-0.08                      e-commerce seasonality +-5-10 %
                   November (Double 11) high                                     outside the festivals
=================  ================================  ==========================  ========================================

Sizes that are not click effects (traffic, sessions, retargeting shares) set where the effects
show and how often. Two absolute-time effects cannot show in a short time split: day of month
(payday) and month do not recur between training and test, and with the default
calendar the test week has no payday and one month, so their test budget is 0 by design.

Null world (negative control)
-----------------------------
``temporal=False`` (or profile ``"<name>-null"``) switches every temporal effect off: hour,
category x hour, weekday, payday and month are 0 and drift no longer depends on time: a related
click among the last 10 adds a constant ``null_drift_flag`` = 0.5, the temporal world's mean drift
boost given a related click (0.52 measured on ``quick`` and ``study``), so the non-temporal "related
history" signal keeps its average size. Exposure (sessions, retargeting) is unchanged. The
dataset's name ends in ``-null`` (``synthetic-study-null``).

Profiles (:data:`PROFILES`)
---------------------------
``smoke`` (1-2 s; tests), ``quick`` (a 15-minute look on 2 CPU cores: 1,500 users, ~1.3K
training clicks), ``study`` (the default: 20,000 users, ~2.2K training clicks in ~150K rows
over 14 days, ~3.2K validation clicks over 2 days, a 7-day test split of ~2.9M rows and ~43K
clicks, so the realised test CTR's own noise 1/sqrt(clicks) is under 0.5 %), ``paper`` (the
shape of the paper's in-station data, Table 1). ``"<profile>-null"``: the null world of each.
Datasets are stored in the parquet cache (:mod:`tacr.data.cache`; root ``$TACR_CACHE_DIR`` or
``~/.cache/tacr``) keyed on the full :class:`SimConfig`, ``L`` and :data:`SIMULATOR_VERSION`;
``smoke`` is not cached by default (simulating it is about as fast as reading it).
"""
from __future__ import annotations

import math
import time as _time
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from . import register
from .history import TimeZone, build_histories, time_features
from .options import register_extra
from .schema import CTRData, Items, Split

DAY = 86400
HIST = 10  # clicks the simulator remembers per user, for drift and retargeting
#: Bump on any change of what the simulator produces for a given config (keys the cache).
SIMULATOR_VERSION = 3
#: The logit components, in the column order of ``Split.components``.
COMPONENTS = ("affinity", "quality", "age", "drift_flag", "drift_recency", "hour", "category_hour",
              "weekday", "payday", "month")
TEMPORAL = ("drift_recency", "hour", "category_hour", "weekday", "payday", "month")
ABSOLUTE_TIME = ("hour", "category_hour", "weekday", "payday", "month")


@dataclass(frozen=True)
class SimConfig:
    """Every knob of the simulator; defaults are the ``study`` profile. Effect strengths are
    in logit units (0 turns an effect off); see the module docstring for their sizes."""

    # world
    n_users: int = 20000
    n_items: int = 30000
    n_categories: int = 200
    raw_dim: int = 50
    latent_dim: int = 16
    prefs_per_user: int = 3
    raw_noise: float = 0.5
    # traffic and calendar
    impressions_per_day: int = 420_000  # full traffic, before row sampling
    warmup_days: int = 7  # simulated only to give histories and drift; in no split
    prior_days: int = 30  # click-only behaviour log before the warm-up (mature histories)
    warmup_impressions_per_day: int | None = None  # None: as impressions_per_day
    train_days: int = 14
    valid_days: float = 2.0  # after the training days
    test_days: int = 7  # after the validation days
    first_train_day: str = "2025-09-08"  # a Monday
    tz: str = "UTC"
    train_sample: float = 0.025  # share of training-period impressions kept as rows
    valid_sample: float | None = 0.25  # share of validation-period impressions kept (None: train_sample)
    # sessions
    session_impressions: float = 5.0  # mean impressions per session (1 + geometric)
    session_gap: float = 60.0  # mean seconds between a session's impressions (exponential, >= 1 s)
    activity_sigma: float = 0.8  # log-normal sd of user activity
    activity_cap: float = 6.0  # activity capped at this multiple of the median
    target_ctr: float = 0.015
    # effect strengths (logit units); 0 turns an effect off
    affinity: float = 0.5
    quality: float = 0.5
    age: float = 0.15
    drift_flag: float = 0.3
    null_drift_flag: float = 0.5  # the null world's constant related-click boost
    drift_session: float = 1.0
    drift_session_tau: float = 1200.0  # seconds
    drift_day: float = 1.0
    drift_day_tau: float = 4 * 3600.0  # seconds
    hour: float = 0.2
    category_hour: float = 0.55
    weekday: float = 0.05
    payday: float = 0.10
    paydays: tuple[int, ...] = (1, 15)
    payday_profile: tuple[float, ...] = (1.0, 0.6, 0.3)  # payday, next day, the day after
    month: float = 0.08
    temporal: bool = True  # False: the null world (every temporal effect off)
    # exposure policy
    retarget_recent: float = 0.6  # P(latest clicked category) right after a click ...
    retarget_tau: float = 4 * 3600.0  # ... decaying with this time constant (s)
    retarget_memory: float = 0.15  # P(a random one of the last 10 clicks' categories) ...
    retarget_window: float = 7 * DAY  # ... if that click is under this age (s)
    preferred: float = 0.3  # P(a preferred category); the rest: a popular random category
    pilot_users: float = 0.15  # share of users in the pilot runs that solve ``base`` ...
    ctr_tolerance: float = 0.02  # ... then full runs until the mean p_click is this close (relative)
    seed: int = 0


PROFILES: dict[str, SimConfig] = {
    "smoke": SimConfig(n_users=300, n_items=2000, n_categories=30, impressions_per_day=6000, warmup_days=3,
                       train_days=7, valid_days=1.0, test_days=2, train_sample=1.0, valid_sample=None, pilot_users=0.3),
    "quick": SimConfig(n_users=1500, n_items=20000, impressions_per_day=30000, train_sample=0.2, valid_sample=0.6,
                       pilot_users=1.0),
    "study": SimConfig(),
    "paper": SimConfig(n_users=1_500_000, n_items=1_680_735, n_categories=3137, impressions_per_day=8_900_000,
                       warmup_days=4, warmup_impressions_per_day=2_000_000, train_days=1, valid_days=0.1,
                       test_days=1, first_train_day="2025-09-14", train_sample=1.0, valid_sample=None, pilot_users=0.05),
}
DEFAULT_PROFILE = "study"
NULL_SUFFIX = "-null"


register_extra("synthetic", SimConfig, "data_dir")  # load("synthetic", n_users=...); data_dir is ignored


def config_for(profile: str = DEFAULT_PROFILE, **overrides) -> SimConfig:
    """The :class:`SimConfig` of a profile (``"<profile>-null"``: its null world) with overrides."""
    base_name, null = (profile[: -len(NULL_SUFFIX)], True) if profile.endswith(NULL_SUFFIX) else (profile, False)
    if base_name not in PROFILES:
        known = sorted(PROFILES) + [p + NULL_SUFFIX for p in sorted(PROFILES)]
        raise ValueError(f"unknown simulator profile {profile!r}; choose from {known}")
    cfg = PROFILES[base_name]
    unknown = set(overrides) - set(asdict(cfg))
    if unknown:
        raise ValueError(f"unknown simulator parameter(s) {sorted(unknown)}; known: {sorted(asdict(cfg))}")
    if null:
        overrides = {"temporal": False, **overrides}
    return replace(cfg, **{k: (tuple(v) if isinstance(v, list) else v) for k, v in overrides.items()})


def dataset_name(profile: str, cfg: SimConfig) -> str:
    base_name = profile[: -len(NULL_SUFFIX)] if profile.endswith(NULL_SUFFIX) else profile
    return f"synthetic-{base_name}" + ("" if cfg.temporal else NULL_SUFFIX)


@register("synthetic")
def load_synthetic(profile: str = DEFAULT_PROFILE, L: int = 10, seed: int | None = None, *, cache: bool | None = None,
                   cache_dir=None, **overrides) -> CTRData:
    """Simulate a dataset (or read it from the cache). ``profile`` picks the size (``"<name>-null"``
    the null world); any :class:`SimConfig` field overrides. ``cache`` defaults to on, except
    for ``smoke``; ``cache_dir`` overrides the cache root."""
    if seed is not None:
        overrides["seed"] = seed
    overrides.pop("data_dir", None)
    cfg = config_for(profile, **overrides)
    name = dataset_name(profile, cfg)
    if cache is None:
        cache = not profile.startswith("smoke")
    from .cache import cached

    params = {"simulator_version": SIMULATOR_VERSION, "config": asdict(cfg), "L": int(L)}
    return cached(name, params, None, [], lambda: simulate(cfg, L=L, name=name), enabled=cache, cache_dir=cache_dir)


# ------------------------------------------------------------------------------ the world
#: CTR by local hour, half-range 1: high late morning to early afternoon, below the mean in the
#: evening prime time, lowest at 2-4 h (the shape of Infolinks' 2013 hour-of-day CTR report).
HOUR_CURVE = np.array([-0.6, -0.8, -1.0, -1.0, -1.0, -0.9, -0.6, -0.2, 0.2, 0.5, 0.7, 0.9,
                       1.0, 1.0, 0.9, 0.7, 0.5, 0.3, 0.1, -0.1, -0.2, -0.3, -0.4, -0.5])
WEEKDAY_CURVE = np.array([-0.4, -0.2, -1.0, -0.2, 0.4, 1.0, 0.4])  # Mon..Sun, half-range 1
MONTH_CURVE = np.array([-0.6, -1.0, -0.4, -0.2, 0.0, 0.8, 0.0, -0.2, 0.0, 0.2, 1.0, 0.4])  # Jan..Dec
AGE_CURVE = np.linspace(1.0, -1.0, 7)  # age buckets young .. old


class _World:
    """Users, items, categories and the effect tables, drawn from the seed."""

    def __init__(self, cfg: SimConfig, rng: np.random.Generator):
        C, I, U, k = cfg.n_categories, cfg.n_items, cfg.n_users, cfg.latent_dim
        self.cfg = cfg
        # categories: latent centroid, popularity (Zipf), gender skew, peak hour
        self.cat_mu = rng.normal(size=(C, k)).astype(np.float32)
        pop = 1.0 / np.arange(1, C + 1) ** 0.8
        rng.shuffle(pop)
        self.cat_p = pop / pop.sum()
        self.cat_cdf = np.cumsum(self.cat_p)
        self.cat_gender = rng.uniform(-1, 1, size=C)
        self.cat_peak = rng.integers(0, 24, size=C)
        # items: category by popularity, sorted so each category is one contiguous block
        cat = rng.choice(C, size=I, p=self.cat_p)
        cat[:C] = np.arange(C)  # every category has at least one item
        cat = np.sort(cat)
        self.item_cat = cat.astype(np.int64)
        self.cat_start = np.searchsorted(cat, np.arange(C), side="left")
        self.cat_size = np.searchsorted(cat, np.arange(C), side="right") - self.cat_start
        self.item_z = (self.cat_mu[cat] + 0.7 * rng.normal(size=(I, k))).astype(np.float32)
        w_q = rng.normal(size=k) / np.sqrt(k)
        q = self.item_z @ w_q + 0.5 * rng.normal(size=I)
        self.item_quality = ((q - q.mean()) / (q.std() + 1e-9)).astype(np.float32)
        # raw 50-d features: a noisy linear image of (latent, quality) plus a category signature
        proj = rng.normal(size=(k + 1, cfg.raw_dim)) / np.sqrt(k + 1)
        cat_sig = rng.normal(size=(C, cfg.raw_dim)) * 0.5
        zq = np.concatenate([self.item_z, self.item_quality[:, None]], axis=1)
        self.raw = (zq @ proj + cat_sig[cat] + cfg.raw_noise * rng.normal(size=(I, cfg.raw_dim))).astype(np.float32)
        # users: gender (0 f, 1 m, 2 unknown), age bucket (7), activity, preferred categories
        self.gender = rng.choice(3, size=U, p=[0.45, 0.45, 0.10])
        self.age = rng.choice(7, size=U, p=[0.05, 0.25, 0.3, 0.2, 0.1, 0.06, 0.04])
        self.activity = np.minimum(rng.lognormal(0.0, cfg.activity_sigma, size=U), cfg.activity_cap)
        sign = np.where(self.gender == 0, -1.0, np.where(self.gender == 1, 1.0, 0.0))
        # preferred categories: Gumbel top-P of the popularity-and-gender logits, drawn in slices of
        # users so the (users, categories) matrix never exists whole (35 GB at the paper's scale)
        P = min(cfg.prefs_per_user, C)
        self.prefs = np.empty((U, P), dtype=np.int64)  # (U, P), most preferred first
        for a in range(0, U, 8192):
            b = min(a + 8192, U)
            keys = -(np.log(self.cat_p)[None, :] + 1.5 * sign[a:b, None] * self.cat_gender[None, :]
                     + rng.gumbel(size=(b - a, C)))  # (b-a, C)
            top = np.argpartition(keys, P - 1, axis=1)[:, :P] if P < C else np.tile(np.arange(C), (b - a, 1))
            order = np.argsort(np.take_along_axis(keys, top, axis=1), axis=1)
            self.prefs[a:b] = np.take_along_axis(top, order, axis=1)
        self.user_u = (self.cat_mu[self.prefs].mean(axis=1) + 0.5 * rng.normal(size=(U, k))).astype(np.float32)
        # affinity scaled to sd 1 over random user-item pairs
        pu, pi = rng.integers(0, U, size=200_000), rng.integers(0, I, size=200_000)
        self.aff_scale = float(1.0 / (np.einsum("nk,nk->n", self.user_u[pu], self.item_z[pi]).std() + 1e-9))
        self.traffic = 0.4 + (1 + np.cos(2 * np.pi * (np.arange(24) - 20) / 24)) / 2  # impressions by hour
        self.traffic /= self.traffic.sum()
        # effect tables (logit units)
        s = _strengths(cfg)
        self.hour_c = (s["hour"] * HOUR_CURVE).astype(np.float32)  # (24,)
        h = np.arange(24)
        self.cat_hour_c = (s["category_hour"] * np.cos(2 * np.pi * (h[None, :] - self.cat_peak[:, None]) / 24)
                           ).astype(np.float32)  # (C, 24)
        self.age_c = (s["age"] * AGE_CURVE).astype(np.float32)

    def item_in_category(self, cats: np.ndarray, rng) -> np.ndarray:
        """A popularity-skewed item of each given category."""
        u = rng.random(len(cats)) ** 2
        return self.cat_start[cats] + np.minimum((u * self.cat_size[cats]).astype(np.int64), self.cat_size[cats] - 1)


def _strengths(cfg: SimConfig) -> dict[str, float]:
    """Effect strengths with the null world's switches applied."""
    s = {k: float(getattr(cfg, k)) for k in ("affinity", "quality", "age", "drift_flag", "drift_session",
                                              "drift_day", "hour", "category_hour", "weekday", "payday", "month")}
    if not cfg.temporal:
        for k in ("drift_session", "drift_day", "hour", "category_hour", "weekday", "payday", "month"):
            s[k] = 0.0
        s["drift_flag"] = float(cfg.null_drift_flag)
    return s


def drift_components(dt, cfg: SimConfig):
    """(flag, recency) logit components of the seconds ``dt`` since the latest related click
    (``inf``/NaN: none), as the simulator computes them (float64)."""
    s = _strengths(cfg)
    dt = np.asarray(dt, dtype=np.float64)
    has = np.isfinite(dt)
    d = np.where(has, dt, 0.0)
    rec = s["drift_session"] * np.exp(-d / cfg.drift_session_tau) + s["drift_day"] * np.exp(-d / cfg.drift_day_tau)
    return np.where(has, s["drift_flag"], 0.0), np.where(has, rec, 0.0)


class _Calendar:
    """Local day boundaries of the simulated window, the split bounds and per-day effect values."""

    def __init__(self, cfg: SimConfig):
        first = pd.Timestamp(cfg.first_train_day).tz_localize(None).normalize()
        n_split_days = cfg.train_days + cfg.valid_days + cfg.test_days
        self.n_days = cfg.warmup_days + int(math.ceil(n_split_days))
        naive = pd.date_range(first - pd.Timedelta(days=cfg.warmup_days), periods=self.n_days + 1, freq="D")
        local = naive.tz_localize(cfg.tz, nonexistent="shift_forward", ambiguous=False)
        self.day_start = (local.tz_convert("UTC").tz_localize(None).values.astype("datetime64[s]").astype(np.int64))
        w = cfg.warmup_days
        self.warm_end = int(self.day_start[w])
        self.valid_start = int(self.day_start[w + cfg.train_days])
        self.test_start = self.valid_start + int(round(cfg.valid_days * DAY))
        self.test_end = self.test_start + int(cfg.test_days) * DAY
        self.tz = TimeZone(cfg.tz, int(self.day_start[0]) - DAY, int(self.day_start[-1]) + 2 * DAY)
        self.local_day0 = (int(self.day_start[0]) + int(self.tz.offset(np.array([self.day_start[0]]))[0])) // DAY
        # per local day: weekday, payday and month components
        s = _strengths(cfg)
        dates = naive[: self.n_days]
        weekday = np.asarray(dates.day_of_week)
        month = np.asarray(dates.month) - 1
        since = np.array([_days_since_payday(d, cfg.paydays) for d in dates])
        prof = np.asarray(cfg.payday_profile, dtype=np.float64)
        payday = np.where(since < len(prof), prof[np.minimum(since, len(prof) - 1)], 0.0)
        self.weekday_c = (s["weekday"] * WEEKDAY_CURVE[weekday]).astype(np.float32)
        self.payday_c = (s["payday"] * payday).astype(np.float32)
        self.month_c = (s["month"] * MONTH_CURVE[month]).astype(np.float32)

    def hour_and_day(self, t: np.ndarray):
        """Local hour (int8) and day index in the window (int16) of unix times."""
        local = t + self.tz.offset(t)
        return ((local % DAY) // 3600).astype(np.int8), (local // DAY - self.local_day0).astype(np.int16)


def _days_since_payday(date: pd.Timestamp, paydays) -> int:
    for back in range(0, 32):
        if (date - pd.Timedelta(days=back)).day in paydays:
            return back
    return 99


# ------------------------------------------------------------------------------ the log
def _schedule(cfg: SimConfig, world: _World, cal: _Calendar, rng, users_mask=None):
    """Impressions in sessions: (user, time) sorted by user then time, strictly increasing
    time within a user."""
    act = world.activity if users_mask is None else world.activity * users_mask
    share = act.sum() / world.activity.sum()
    p_user = act / act.sum()
    warm = cfg.impressions_per_day if cfg.warmup_impressions_per_day is None else cfg.warmup_impressions_per_day
    per_day = np.array([warm if d < cfg.warmup_days else cfg.impressions_per_day for d in range(cal.n_days)],
                       dtype=float)
    n_sess = rng.poisson(per_day * share / cfg.session_impressions)  # (days,)
    S = int(n_sess.sum())
    day = np.repeat(np.arange(cal.n_days), n_sess)
    s_user = rng.choice(len(p_user), size=S, p=p_user)
    s_hour = rng.choice(24, size=S, p=world.traffic)
    s_start = cal.day_start[day] + s_hour * 3600 + rng.integers(0, 3600, size=S)
    s_len = rng.geometric(1.0 / cfg.session_impressions, size=S)
    N = int(s_len.sum())
    sess = np.repeat(np.arange(S), s_len)
    first = np.cumsum(s_len) - s_len  # first row of each session
    gap = np.maximum(1, np.rint(rng.exponential(cfg.session_gap, size=N))).astype(np.int64)
    gap[first] = 0
    csum = np.cumsum(gap)
    time = s_start[sess] + csum - csum[first][sess]
    user = s_user[sess].astype(np.int64)
    keep = time < cal.test_end
    user, time = _by_user_strict(user[keep], time[keep])
    keep = time < cal.test_end  # a bumped time may cross the end
    return user[keep], time[keep], S


def _by_user_strict(user, time, *extra):
    """Sort by (user, time) and make times strictly increasing within a user (bumping ties
    and overlaps by whole seconds), so "strictly before" is one order for simulator and history."""
    t0 = int(time.min()) if len(time) else 0
    order = np.argsort((user << 34) + (time - t0), kind="stable")
    user, time = user[order], time[order]
    i = np.arange(len(time), dtype=np.int64)
    key = (user << 36) + (time - t0 - i + len(time))
    time = (np.maximum.accumulate(key) - (user << 36)) + t0 + i - len(time)
    return (user, time, *(e[order] for e in extra))


def _prior_clicks(cfg: SimConfig, world: _World, cal: _Calendar, rng):
    """A click-only behaviour log over ``prior_days`` before the warm-up, so that histories are
    mature from the start (each user ~ their click rate x prior_days clicks, in a preferred
    category with probability 0.7, else a popular one). Returns (user, time, item, category)
    sorted by user then time; these clicks are log rows in no split."""
    U = cfg.n_users
    per_day = cfg.impressions_per_day * cfg.target_ctr * world.activity / world.activity.sum()
    n = rng.poisson(per_day * cfg.prior_days)
    user = np.repeat(np.arange(U, dtype=np.int64), n)
    m = len(user)
    time = int(cal.day_start[0]) - rng.integers(60, max(cfg.prior_days, 1) * DAY, size=m)
    pref = world.prefs[user, rng.integers(0, world.prefs.shape[1], size=m)]
    pop = np.minimum(np.searchsorted(world.cat_cdf, rng.random(m)), cfg.n_categories - 1)
    cat = np.where(rng.random(m) < 0.7, pref, pop)
    item = world.item_in_category(cat, rng)
    user, time, item, cat = _by_user_strict(user, time.astype(np.int64), item, cat)
    ok = time < int(cal.day_start[0])
    return user[ok], time[ok], item[ok].astype(np.int32), cat[ok]


def _run(cfg: SimConfig, world: _World, cal: _Calendar, user, time, rng, base: float, prior, comp_row=None,
         want_rest: bool = False):
    """Simulate exposures and clicks for a (user, time)-sorted schedule, one impression per user
    per step. Returns item, label, for rows with ``comp_row >= 0`` their components and p_click,
    the mean p_click over the split periods (after the warm-up), and with ``want_rest`` the
    pre-base logit of every row."""
    N, U, H = len(user), cfg.n_users, HIST
    s = _strengths(cfg)
    item = np.empty(N, dtype=np.int32)
    label = np.zeros(N, dtype=bool)
    rest_all = np.empty(N, dtype=np.float32) if want_rest else None
    n_keep = 0 if comp_row is None else int((comp_row >= 0).sum())
    comps = np.empty((n_keep, len(COMPONENTS)), dtype=np.float32)
    p_keep = np.empty(n_keep, dtype=np.float32)
    hour, dayi = cal.hour_and_day(time)
    # the components that depend only on the user and the time, summed once per row
    age_u = world.age_c[world.age]
    static = (age_u[user].astype(np.float64) + world.hour_c[hour] + cal.weekday_c[dayi] + cal.payday_c[dayi]
              + cal.month_c[dayi])
    # users by impression count, descending: step k handles the first m_k of them
    start = np.searchsorted(user, np.arange(U), side="left")
    count = np.searchsorted(user, np.arange(U), side="right") - start
    by_count = np.argsort(-count, kind="stable")
    sorted_count = count[by_count]
    n_steps = int(sorted_count[0]) if U else 0
    m_at = np.searchsorted(-sorted_count, -np.arange(n_steps), side="left")  # users with count > k
    # memory of the last H clicks: category (-1: empty slot, matches nothing) and time
    ring_cat = np.full((U, H), -1, dtype=np.int32)
    ring_time = np.zeros((U, H), dtype=np.int64)
    ring_n = np.zeros(U, dtype=np.int64)
    # the memory starts from the prior clicks: click i of a user sits in slot i % H
    pr_user, pr_time, _, pr_cat = prior
    if len(pr_user):
        first = np.searchsorted(pr_user, pr_user, side="left")
        n_u = np.bincount(pr_user, minlength=U)
        rank = np.arange(len(pr_user)) - first
        last_h = rank >= n_u[pr_user] - H
        ring_cat[pr_user[last_h], rank[last_h] % H] = pr_cat[last_h]
        ring_time[pr_user[last_h], rank[last_h] % H] = pr_time[last_h]
        ring_n[:] = n_u
    P, C = world.prefs.shape[1], cfg.n_categories
    a_f, a_s, a_d = s["drift_flag"], s["drift_session"], s["drift_day"]
    s_aff, s_q = s["affinity"] * world.aff_scale, s["quality"]
    ar = np.arange(U)
    in_splits = time >= cal.warm_end
    p_sum = 0.0
    for k in range(n_steps):
        u = by_count[: m_at[k]]
        n = len(u)
        idx = start[u] + k
        t = time[idx]
        rows = ar[:n]
        rn = ring_n[u]
        mem_cat = ring_cat[u]  # (n, H)
        mem_time = ring_time[u]
        r = rng.random((6, n))
        # exposure: an empty memory has time 0, which makes both retargeting chances 0
        last = (rn - 1) % H
        c1 = cfg.retarget_recent * np.exp((mem_time[rows, last] - t) / cfg.retarget_tau)
        pick = (r[1] * np.maximum(np.minimum(rn, H), 1)).astype(np.int64)
        c2 = c1 + np.where(t - mem_time[rows, pick] < cfg.retarget_window, cfg.retarget_memory, 0.0)
        c3 = c2 + cfg.preferred
        cat = np.minimum(np.searchsorted(world.cat_cdf, r[3]), C - 1)
        cat = np.where(r[0] < c3, world.prefs[u, (r[2] * P).astype(np.int64)], cat)
        cat = np.where(r[0] < c2, mem_cat[rows, pick], cat)
        cat = np.where(r[0] < c1, mem_cat[rows, last], cat)
        size = world.cat_size[cat]
        it = world.cat_start[cat] + np.minimum((r[4] ** 2 * size).astype(np.int64), size - 1)
        # drift: the latest same-category click among the last H clicks
        lt = np.where(mem_cat == cat[:, None], mem_time, -1).max(axis=1)
        flag = lt >= 0
        dt = (t - lt).astype(np.float64)
        d_flag = flag * a_f
        d_rec = np.where(flag, a_s * np.exp(-dt / cfg.drift_session_tau) + a_d * np.exp(-dt / cfg.drift_day_tau), 0.0)
        aff = s_aff * np.einsum("nk,nk->n", world.user_u[u], world.item_z[it])
        qual = s_q * world.item_quality[it]
        ch = world.cat_hour_c[cat, hour[idx]]
        rest = static[idx] + aff + qual + d_flag + d_rec + ch
        p = 1.0 / (1.0 + np.exp(-(base + rest)))
        y = r[5] < p
        item[idx], label[idx] = it, y
        p_sum += float(p[in_splits[idx]].sum())
        if want_rest:
            rest_all[idx] = rest
        if n_keep:
            kk = comp_row[idx]
            m = kk >= 0
            if m.any():
                kk = kk[m]
                comps[kk, 0], comps[kk, 1], comps[kk, 3] = aff[m], qual[m], d_flag[m]
                comps[kk, 4], comps[kk, 6], p_keep[kk] = d_rec[m], ch[m], p[m]
        # remember the clicks (each user at most once per step)
        if y.any():
            cu = u[y]
            slot = ring_n[cu] % H
            ring_cat[cu, slot] = cat[y]
            ring_time[cu, slot] = t[y]
            ring_n[cu] += 1
    if n_keep:  # the static components of the kept rows
        kept = np.flatnonzero(comp_row >= 0)
        kk, h, d = comp_row[kept], hour[kept], dayi[kept]
        comps[kk, 2], comps[kk, 5], comps[kk, 7] = age_u[user[kept]], world.hour_c[h], cal.weekday_c[d]
        comps[kk, 8], comps[kk, 9] = cal.payday_c[d], cal.month_c[d]
    return item, label, comps, p_keep, p_sum / max(int(in_splits.sum()), 1), rest_all


def _solve_base(rest: np.ndarray, target: float) -> float:
    lo, hi = -20.0, 5.0
    rest = rest.astype(np.float64)
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(mid + rest)))) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def simulate(cfg: SimConfig, L: int = 10, name: str = "synthetic") -> CTRData:
    """Draw the world, solve the base rate on pilot runs, simulate, build histories and splits."""
    if not 0 < cfg.target_ctr < 1:
        raise ValueError(f"target_ctr must be in (0, 1), got {cfg.target_ctr}")
    if cfg.train_days < 1 or cfg.valid_days <= 0 or cfg.test_days < 1 or cfg.warmup_days < 0:
        raise ValueError("need train_days >= 1, valid_days > 0, test_days >= 1, warmup_days >= 0")
    if not 0 < cfg.train_sample <= 1:
        raise ValueError(f"train_sample must be in (0, 1], got {cfg.train_sample}")
    if cfg.valid_sample is not None and not 0 < cfg.valid_sample <= 1:
        raise ValueError(f"valid_sample must be in (0, 1], got {cfg.valid_sample}")
    if cfg.session_impressions < 1 or cfg.session_gap <= 0:
        raise ValueError("need session_impressions >= 1 and session_gap > 0")
    started = _time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    world = _World(cfg, rng)
    cal = _Calendar(cfg)
    # pilot runs on a share of the users, the same days: clicks feed drift, so solve twice
    pilot_mask = (rng.random(cfg.n_users) < cfg.pilot_users).astype(float)
    if pilot_mask.sum() == 0:
        pilot_mask[:] = 1.0
    prior = _prior_clicks(cfg, world, cal, np.random.default_rng([cfg.seed, 9]))
    pu, pt, _ = _schedule(cfg, world, cal, np.random.default_rng([cfg.seed, 1]), pilot_mask)
    in_splits = pt >= cal.warm_end
    in_pilot = pilot_mask[prior[0]] > 0
    pilot_prior = tuple(a[in_pilot] for a in prior)

    def pilot(b):
        *_, mean_p, rest = _run(cfg, world, cal, pu, pt, np.random.default_rng([cfg.seed, 2]), b, pilot_prior,
                                want_rest=True)
        return mean_p, rest[in_splits]

    first = float(np.log(cfg.target_ctr / (1 - cfg.target_ctr))) - 0.5
    base, _, _, slope, pilot_runs = _secant(pilot, cfg.target_ctr, first, None, tol=0.005, max_runs=6, static=True)
    del pu, pt, in_splits
    # the full traffic; a pilot of a share of the users misses the population's mean CTR by a few
    # to tens of % (users differ a lot), so secant steps continue on the full run (same draws)
    user, time, n_sessions = _schedule(cfg, world, cal, np.random.default_rng([cfg.seed, 10]))
    period = np.searchsorted(np.array([cal.warm_end, cal.valid_start, cal.test_start]), time, side="right") - 1
    draw = np.random.default_rng([cfg.seed, 11]).random(len(time))
    valid_share = cfg.train_sample if cfg.valid_sample is None else cfg.valid_sample
    keep = (period == 2) | ((period == 0) & (draw < cfg.train_sample)) | ((period == 1) & (draw < valid_share))
    comp_row = np.full(len(time), -1, dtype=np.int64)
    comp_row[keep] = np.arange(int(keep.sum()))

    def full(b):
        out = _run(cfg, world, cal, user, time, np.random.default_rng([cfg.seed, 12]), b, prior, comp_row=comp_row)
        return out[4], out

    base, _, out, _, main_runs = _secant(full, cfg.target_ctr, base, slope, tol=cfg.ctr_tolerance, max_runs=4)
    item, label, comps, p_keep, _, _ = out
    del out
    sim_seconds = _time.perf_counter() - started
    # the log for histories: the prior clicks, then the simulated impressions (all of them)
    n_prior = len(prior[0])
    user = np.concatenate([prior[0], user])
    time = np.concatenate([prior[1], time])
    item = np.concatenate([prior[2], item])
    label = np.concatenate([np.ones(n_prior, dtype=bool), label])
    period = np.concatenate([np.full(n_prior, -2), period])
    keep = np.concatenate([np.zeros(n_prior, dtype=bool), keep])
    comp_row = np.concatenate([np.full(n_prior, -1, dtype=np.int64), comp_row])
    # splits: kept rows of each period, ordered by time then user; histories from every click
    splits, full = {}, {}
    for code, split_name in enumerate(("train", "valid", "test")):
        in_period = period == code
        full[split_name] = {"impressions": int(in_period.sum()), "clicks": int(label[in_period].sum())}
        rows = np.flatnonzero(keep & in_period)
        rows = rows[np.lexsort((user[rows], time[rows]))]
        hist = build_histories(user, item, time, label, L=L, query_user=user[rows], query_time=time[rows])
        splits[split_name] = Split.from_rows(user[rows], item[rows], time[rows], label[rows], hist,
                                             p_click=p_keep[comp_row[rows]], components=comps[comp_row[rows]])
    info = {"simulator": asdict(cfg), "simulator_version": SIMULATOR_VERSION, "base_logit": base,
            "logit_components": list(COMPONENTS), "pilot_runs": pilot_runs, "full_runs": main_runs,
            "sessions": int(n_sessions),
            "warmup_impressions": int((period == -1).sum()), "prior_clicks": n_prior, "full_traffic": full,
            "bounds": {"warm_end": cal.warm_end, "valid_start": cal.valid_start, "test_start": cal.test_start,
                       "test_end": cal.test_end}}
    data = CTRData(name=name, items=Items(category=world.item_cat, raw=world.raw),
                   user_aux=np.stack([world.gender, world.age], axis=1).astype(np.int64), aux_sizes=(3, 7),
                   train=splits["train"], valid=splits["valid"], test=splits["test"], tz=cfg.tz,
                   aux_names=("gender", "age"), info=info).validate(name)
    data.info["oracle_auc"] = {k: weighted_auc(s.p_click, s.label, 1 - s.label) for k, s in data.splits.items()}
    data.info["simulation_seconds"] = sim_seconds
    data.info["generation_seconds"] = _time.perf_counter() - started
    return data


def _secant(run, target: float, base: float, slope: float | None, tol: float, max_runs: int, static: bool = False):
    """Solve ``mean p_click(base) = target`` by secant steps on the logit of the mean CTR.
    ``run(base)`` returns (mean p_click, output). Clicks feed drift and retargeting, so the CTR
    responds more steeply to ``base`` than a static solve assumes. With ``static`` the second
    point is the static solve of the first run's pre-base logits (``output``). Returns
    (base, mean p_click, output, slope, runs)."""
    lt = math.log(target / (1 - target))
    seen = []
    for runs in range(1, max_runs + 1):
        c, out = run(base)
        seen.append((base, math.log(c / (1 - c))))
        if abs(c - target) <= tol * target or runs == max_runs:
            break
        if len(seen) >= 2 and seen[-1][0] != seen[-2][0] and seen[-1][1] != seen[-2][1]:
            slope = min(max((seen[-1][1] - seen[-2][1]) / (seen[-1][0] - seen[-2][0]), 0.5), 4.0)
        if static and runs == 1:
            base = _solve_base(out, target)
        else:
            base = base + (lt - seen[-1][1]) / (slope or 1.0)
    return base, c, out, slope, runs


# ------------------------------------------------------------------------------ diagnostics
def weighted_auc(scores, pos_weight, neg_weight) -> float:
    """AUC where row i counts as a positive with weight ``pos_weight[i]`` and as a negative with
    ``neg_weight[i]`` (ties count one half; a row is never paired with itself). With labels as
    0/1 weights this is the ordinary AUC; with ``p_click`` and ``1 - p_click`` it is the AUC
    expected over the label draws (a ratio of expectations), free of label noise."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    wp = np.asarray(pos_weight, dtype=np.float64).ravel()
    wn = np.asarray(neg_weight, dtype=np.float64).ravel()
    order = np.argsort(s, kind="stable")
    s, wp, wn = s[order], wp[order], wn[order]
    new = np.empty(len(s), dtype=bool)
    new[:1] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    g = np.cumsum(new) - 1
    gp = np.bincount(g, weights=wp)
    gn = np.bincount(g, weights=wn)
    below = np.cumsum(gn) - gn  # negative weight strictly below each tie group
    self_pairs = float(np.dot(wp, wn))
    num = float(np.dot(gp, below + 0.5 * gn)) - 0.5 * self_pairs
    den = float(wp.sum() * wn.sum()) - self_pairs
    return num / den if den > 0 else float("nan")


#: The rows of :func:`effect_budget`: (effect, components replaced by their mean). The relative
#: time row is special: ``drift_recency`` replaced by flag x its mean given the flag.
BUDGET = (
    ("relative time of history clicks", ("drift_recency",)),
    ("interest drift (whole)", ("drift_flag", "drift_recency")),
    ("absolute time (all)", ABSOLUTE_TIME),
    ("hour of day", ("hour",)),
    ("category x hour", ("category_hour",)),
    ("weekday", ("weekday",)),
    ("pay day", ("payday",)),
    ("month", ("month",)),
    ("item features (quality)", ("quality",)),
    ("user-item affinity", ("affinity",)),
    ("user aux (age)", ("age",)),
)
#: Effects the paper's claims rest on: each must be worth >= 0.01 oracle test AUC (study design).
CLAIMED = ("relative time of history clicks", "absolute time (all)", "interest drift (whole)", "item features (quality)")


def _components(data: CTRData, split: str) -> dict[str, np.ndarray]:
    s = data.splits[split]
    names = data.info.get("logit_components")
    if s.components is None or not names:
        raise ValueError(f"{data.name}: the {split} split carries no logit components (a simulator v2 dataset has them)")
    return {n: s.components[:, j].astype(np.float64) for j, n in enumerate(names)}


def effect_budget(data: CTRData, split: str = "test") -> pd.DataFrame:
    """The oracle AUC of a split with every planted effect, and with each effect removed.

    Removing an effect replaces its logit component(s) by their mean over the split; for
    "relative time of history clicks" the drift's recency term is replaced by the related-click
    flag times its mean given the flag (the flag stays, the time dependence goes). Columns:
    ``auc`` (against the realised labels) and ``drop`` (all-effects AUC minus it),
    ``expected_auc`` / ``expected_drop`` (the same, expected over the label draws:
    :func:`weighted_auc` with weights p_click and 1 - p_click, free of label noise),
    ``sd`` (sd over the split of what was removed, logit units), ``claimed`` (an effect the
    paper's claims rest on)."""
    comp = _components(data, split)
    labels = data.splits[split].label.astype(np.float64)
    base = float(data.info["base_logit"])
    logit = base + sum(comp.values())
    p = 1.0 / (1.0 + np.exp(-logit))
    flag = (comp["drift_flag"] != 0) | (comp["drift_recency"] != 0)

    def row(effect, names, score, removed):
        a = weighted_auc(score, labels, 1 - labels)
        e = weighted_auc(score, p, 1 - p)
        return {"effect": effect, "components": ", ".join(names), "auc": a, "expected_auc": e,
                "sd": float(np.std(removed)) if removed is not None else 0.0, "claimed": effect in CLAIMED}

    rows = [row("all effects", (), logit, None)]
    for effect, names in BUDGET:
        if effect.startswith("relative time"):
            rec = comp["drift_recency"]
            mean_given = float(rec[flag].mean()) if flag.any() else 0.0
            removed = rec - flag * mean_given
        else:
            removed = sum(comp[n] - comp[n].mean() for n in names)
        rows.append(row(effect, names, logit - removed, removed))
    out = pd.DataFrame(rows)
    out["drop"] = out["auc"].iloc[0] - out["auc"]
    out["expected_drop"] = out["expected_auc"].iloc[0] - out["expected_auc"]
    return out[["effect", "components", "auc", "drop", "expected_auc", "expected_drop", "sd", "claimed"]]


def related_dt(split: Split, category: np.ndarray) -> np.ndarray:
    """Seconds since the latest click in the target's category among the split's history
    (NaN: none). With ``L >= 10`` this is the simulator's drift clock."""
    real = np.arange(split.L)[None, :] < split.hist_len[:, None]
    same = real & (category[split.hist_item] == category[split.item][:, None])
    last = np.where(same, split.hist_time, -1).max(axis=1)
    return np.where(last >= 0, split.time - last, np.nan)


RECENCY_EDGES = (("15 min", 900), ("1 h", 3600), ("4 h", 4 * 3600), ("12 h", 12 * 3600), ("24 h", DAY))


def recency_shares(data: CTRData) -> pd.DataFrame:
    """Per split: the share of impressions with a related (same-category) history click within
    15 min / 1 h / 4 h / 12 h / 24 h / at all, and the true CTR of each group."""
    rows = []
    for name, s in data.splits.items():
        dt = related_dt(s, data.items.category)
        r = {"split": name, "impressions": len(s)}
        p = s.p_click.astype(np.float64) if s.p_click is not None else s.label.astype(np.float64)
        for label, sec in RECENCY_EDGES:
            m = dt < sec
            r[f"within {label}"] = float(m.mean())
            r[f"true CTR within {label}"] = float(p[m].mean()) if m.any() else float("nan")
        m = np.isfinite(dt)
        r["any related"] = float(m.mean())
        r["true CTR no related"] = float(p[~m].mean()) if (~m).any() else float("nan")
        rows.append(r)
    return pd.DataFrame(rows)


GAP_EDGES = np.array([0, 60, 300, 1800, 3600, 4 * 3600, 12 * 3600, DAY, 7 * DAY, np.inf])
GAP_LABELS = ("<1 min", "1-5 min", "5-30 min", "30 min-1 h", "1-4 h", "4-12 h", "12-24 h", "1-7 d", ">7 d")


def session_gaps(data: CTRData, split: str = "test") -> pd.DataFrame:
    """Gaps between consecutive impressions of the same user in a split (use the test split:
    its rows are the full traffic), binned: the session structure."""
    s = data.splits[split]
    order = np.lexsort((s.time, s.user))
    u, t = s.user[order], s.time[order]
    same = u[1:] == u[:-1]
    gap = (t[1:] - t[:-1])[same]
    counts = np.histogram(gap, bins=GAP_EDGES)[0]
    return pd.DataFrame({"gap": GAP_LABELS, "impressions": counts, "share": counts / max(counts.sum(), 1)})


def planted_effects(data: CTRData) -> dict[str, pd.DataFrame]:
    """Empirical and true CTR by hour, weekday, day of month, and against the seconds since the
    latest same-category click in the history, over all splits (for the data notebook); plus
    ``recency`` (:func:`recency_shares`) and ``gaps`` (:func:`session_gaps` of the test split)."""
    from .history import TIME_FEATURE_NAMES

    frames = []
    for name, s in data.splits.items():
        f = time_features(s.time, data.tz)
        frames.append(pd.DataFrame({"split": name, "label": s.label, "p_click": s.p_click,
                                    **{n: f[:, j] for j, n in enumerate(TIME_FEATURE_NAMES)},
                                    "dt_related": related_dt(s, data.items.category)}))
    df = pd.concat(frames, ignore_index=True)
    out = {}
    for col in ("hour", "weekday", "day"):
        g = df.groupby(col).agg(impressions=("label", "size"), ctr=("label", "mean"), true_ctr=("p_click", "mean"))
        out[col] = g.reset_index()
    hours = df["dt_related"] / 3600.0
    edges = np.array([0, 1 / 60, 5 / 60, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 1e9])
    df["dt_bin"] = pd.cut(hours, edges, right=False)
    g = df.groupby("dt_bin", observed=True).agg(impressions=("label", "size"), ctr=("label", "mean"),
                                                 true_ctr=("p_click", "mean"), hours=("dt_related", lambda x: x.median() / 3600))
    none = df[df["dt_related"].isna()]
    out["drift"] = g.reset_index()
    out["drift_none"] = pd.DataFrame({"impressions": [len(none)], "ctr": [none.label.mean()], "true_ctr": [none.p_click.mean()]})
    out["recency"] = recency_shares(data)
    out["gaps"] = session_gaps(data)
    return out
