"""The CTR models of docs/method.md §2-3 behind one interface: ``build(name, spec)(batch) -> ModelOutput``.

``time_aware`` (Sec. 2.2): item embedding Eq. (1) -> two-layer GRU Eq. (2) -> time-aware
attention Eq. (3)-(5) -> sample embedding Eq. (6) ``e_s = concat(e_h, e_i0, e_a)`` (188-d) ->
score ``f(e_s)`` = one linear layer (Sec. 4.2).
Baselines (docs/method.md §3, no temporal inputs: the item embedding takes ``[e_r, e_c]`` only):
``gru`` (e_h = last real GRU state), ``din`` (DIN activation unit over the item embeddings, no
GRU), ``gru_attention`` (Eq. (4) without the ``W_t e_t`` term).
Ablation rows beyond the paper (docs/method.md §3): ``din_time`` (DIN with the absolute-time
one-hots of Eq. (1)), ``din_time_dt`` (DIN with those and each history click's Eq. (3) encoding
in its activation unit: the time-aware model's time inputs), ``time_aware_no_dt`` (the time-aware
model without the ``W_t e_t`` term).

Departures, all deliberate:
* GRU: ``nn.GRU`` (the cuDNN variant: reset gate applied after the hidden matmul,
  ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) n + z h``). Eq. (2) applies
  the reset gate before ``W_hc`` and swaps the roles of ``z`` and ``1 - z`` (a relabelling).
* History padding sits at the end; the GRU skips padded steps (their states are 0; two kernels,
  ``gru_kernel``: ``packed`` nn.GRU, or tacr's ``fused`` CPU layer, :mod:`.gru`) and the
  readouts use real positions only (attention weight 0 on padding; ``last`` gathers position
  len-1).
* Empty history: ``e_h = 0``. Empty ``aux_sizes``: ``e_a = 0`` (8 zeros, no parameters).

Speed (``dedup``): GRU states, ``W_h h_l`` and DIN's history term do not depend on the target,
so with ``dedup=True`` they are computed once per distinct ``hist_id`` in the batch and gathered;
with ``dedup_items=True`` the item-embedding MLP also runs once per distinct
(item, month, weekday, day, hour) row, and only on real history positions. ``dedup=False`` is
the plain per-sample path (reference for tests). Both give the same scores up to float rounding;
both default to True (their speed-ups are measured in ``benchmarks/``, ``docs/performance.md``).
Independently of ``dedup``, the readouts evaluate real history positions only.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, replace

import torch
import torch.nn as nn

from ..batch import distinct
from .attention import DINActivation, TimeAwareAttention
from .embedding import AuxEmbedding, ItemEmbedding
from .gru import KERNELS as GRU_KERNELS
from .gru import run_gru

HISTORY_KINDS = ("attention", "last", "din")


@dataclass(frozen=True)
class ModelConfig:
    """Sizes and switches of a model; the defaults are docs/method.md §2 (the time-aware model)."""

    name: str = "time_aware"
    history: str = "attention"  # "attention" (Eq. 4-5) | "last" (last GRU state) | "din"
    temporal: bool = True  # month/weekday/day/hour one-hots in the item embedding (Eq. 1)
    time_attention: bool = True  # the W_t e_t term of Eq. (4); with history="din": e_t_l as DIN's fifth input block
    onehot_dim: int = 8  # each one-hot layer's output (Sec. 4.2)
    item_dim: int = 90  # d: item embedding and every layer of F
    item_layers: int = 3  # layers of F (ReLU, ReLU, tanh)
    gru_hidden: int = 90
    gru_layers: int = 2
    attn_dim: int = 90  # v of Eq. (4)
    time_dim: int = 90  # d of Eq. (3)
    time_base: float = 10000.0
    aux_dim: int = 8
    din_hidden: tuple[int, ...] = (36,)
    # std of the learned item-id embedding's N(0, std^2) init (data without raw features); 1.0 is
    # nn.Embedding's N(0, 1). A departure where set smaller (the real-data profile: 1e-4, as
    # deepctr's embeddings, lets a rarely seen item start near the average item).
    raw_id_init_std: float = 1.0
    gru_kernel: str = "packed"  # "packed" (nn.GRU) | "fused" (tacr's CPU layer, same math, :mod:`.gru`)
    dedup: bool = True  # history work once per distinct hist_id
    dedup_items: bool = True  # item MLP once per distinct (item, time features); needs dedup

    def __post_init__(self):
        if self.history not in HISTORY_KINDS:
            raise ValueError(f"history must be one of {HISTORY_KINDS}, got {self.history!r}")
        if self.time_attention and self.history == "last":
            raise ValueError("time_attention needs history='attention' or 'din' (the last GRU state attends to nothing)")
        if self.time_attention and (self.time_dim < 2 or self.time_dim % 2):
            raise ValueError(f"time_dim must be even and >= 2, got {self.time_dim}")
        for f in ("onehot_dim", "item_dim", "item_layers", "gru_hidden", "gru_layers", "attn_dim", "aux_dim"):
            if getattr(self, f) < 1:
                raise ValueError(f"{f} must be >= 1, got {getattr(self, f)}")
        if self.gru_kernel not in GRU_KERNELS:
            raise ValueError(f"gru_kernel must be one of {GRU_KERNELS}, got {self.gru_kernel!r}")
        if not self.raw_id_init_std > 0:
            raise ValueError(f"raw_id_init_std must be > 0, got {self.raw_id_init_std}")


#: The models of docs/method.md §2-3, as ModelConfig overrides.
PRESETS: dict[str, dict] = {
    "time_aware": dict(history="attention", temporal=True, time_attention=True),
    "gru": dict(history="last", temporal=False, time_attention=False),
    "din": dict(history="din", temporal=False, time_attention=False),
    "gru_attention": dict(history="attention", temporal=False, time_attention=False),
    # beyond the paper, to separate seeing time from attending with it (Table 2's ablation rows):
    # DIN given the time-aware model's absolute-time one-hots, and the time-aware model without
    # the relative-time term of Eq. (4) (GRU attention with the absolute-time one-hots); and DIN
    # given both, absolute and relative time: the time-aware model's inputs, DIN's readout
    "din_time": dict(history="din", temporal=True, time_attention=False),
    "din_time_dt": dict(history="din", temporal=True, time_attention=True),
    "time_aware_no_dt": dict(history="attention", temporal=True, time_attention=False),
}
MODEL_NAMES = tuple(PRESETS)


@dataclass
class ModelOutput:
    """What every model returns for a batch of B samples."""

    score: torch.Tensor  # (B,) logit f(e_s); CTR = sigmoid(score)
    e_i: torch.Tensor  # (B, item_dim) target item embedding e_i0
    e_h: torch.Tensor  # (B, H) history embedding
    e_s: torch.Tensor  # (B, H + item_dim + aux_dim) sample embedding, Eq. (6)
    weights: torch.Tensor | None = None  # (B, L) attention / DIN weights (None for ``gru``)

    def split(self, sizes: list[int]) -> list["ModelOutput"]:
        """Row blocks of this output (the inverse of one pass over ``Batch.cat``)."""
        cut = lambda t: [None] * len(sizes) if t is None else t.split(sizes)  # noqa: E731
        return [ModelOutput(*parts) for parts in zip(*(cut(t) for t in (self.score, self.e_i, self.e_h, self.e_s, self.weights)))]


class CTRModel(nn.Module):
    """Item embedding -> history encoder/readout -> sample embedding -> linear score.

    Args:
        cfg: a :class:`ModelConfig`.
        spec: the dataset's :class:`tacr.data.DataSpec` (vocabulary sizes, raw dim, aux sizes).
    Forward:
        batch: a :class:`tacr.batch.Batch`; ``dedup`` overrides ``cfg.dedup`` for one call.
    """

    def __init__(self, cfg: ModelConfig, spec):
        super().__init__()
        if spec.n_items < 1 or spec.n_categories < 1:
            raise ValueError(f"spec needs n_items and n_categories >= 1, got {spec.n_items}, {spec.n_categories}")
        self.cfg, self.spec = cfg, spec
        d = cfg.item_dim
        self.item_embedding = ItemEmbedding(spec, cfg.onehot_dim, d, cfg.item_layers, cfg.temporal, cfg.raw_id_init_std)
        self.gru = nn.GRU(d, cfg.gru_hidden, num_layers=cfg.gru_layers, batch_first=True) if cfg.history != "din" else None
        if cfg.history == "attention":
            self.readout = TimeAwareAttention(cfg.gru_hidden, d, cfg.attn_dim,
                                              cfg.time_dim if cfg.time_attention else None, cfg.time_base)
        elif cfg.history == "din":
            self.readout = DINActivation(d, tuple(cfg.din_hidden), cfg.time_dim if cfg.time_attention else None,
                                         cfg.time_base)
        else:
            self.readout = None
        self.aux_embedding = AuxEmbedding(tuple(spec.aux_sizes), cfg.aux_dim)
        self.history_dim = d if cfg.history == "din" else cfg.gru_hidden
        self.sample_dim = self.history_dim + d + cfg.aux_dim
        self.head = nn.Linear(self.sample_dim, 1)
        radix = torch.tensor(spec.time_sizes, dtype=torch.int64)
        self.register_buffer("time_radix", radix, persistent=False)  # (4,)
        self._time_card = int(radix.prod())
        if spec.n_items * self._time_card >= 2**62:
            raise ValueError("n_items x time cardinality overflows the int64 dedup key")

    def set_training_counts(self, counts: dict) -> None:
        """How often each item id, category, time value and aux code occurs in training
        (:meth:`tacr.batch.DeviceData.training_counts`): values never seen there enter the score
        as the mean of the seen ones (:mod:`.embedding`, docs/method.md §9)."""
        self.item_embedding.set_counts(counts["item"], counts["category"], counts["time"])
        self.aux_embedding.set_counts(counts["aux"])

    # ------------------------------------------------------------------ item embeddings
    def embed_items(self, data, item: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        """Eq. (1) per row, no dedup: (...,) item and unix time -> (..., item_dim)."""
        tf = data.time_features(time) if self.cfg.temporal else None  # (..., 4)
        return self.item_embedding(data, item, tf)  # (..., d)

    def _embed_items_dedup(self, data, item: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        """Eq. (1) once per distinct (item, time-feature) key: (N,) -> (N, item_dim)."""
        if not self.cfg.temporal:
            key, inv = torch.unique(item, return_inverse=True)  # (K,), (N,)
            return self.item_embedding(data, key, None)[inv]  # (N, d)
        tf = data.time_features(time)  # (N, 4)
        code = tf[:, 0]
        for k in range(1, tf.shape[1]):
            code = code * self.time_radix[k] + tf[:, k]  # (N,) mixed radix
        key, inv = torch.unique(item * self._time_card + code, return_inverse=True)  # (K,), (N,)
        u_item, code = key // self._time_card, key % self._time_card  # (K,), (K,)
        digits = []
        for k in range(tf.shape[1] - 1, -1, -1):
            digits.append(code % self.time_radix[k])
            code = code // self.time_radix[k]
        u_tf = torch.stack(digits[::-1], dim=-1)  # (K, 4)
        return self.item_embedding(data, u_item, u_tf)[inv]  # (N, d)

    # ------------------------------------------------------------------ forward
    def forward(self, batch, dedup: bool | None = None) -> ModelOutput:
        cfg, data = self.cfg, batch.data
        dedup = cfg.dedup if dedup is None else dedup
        B, L = batch.hist_item.shape
        mask = torch.arange(L, device=batch.hist_len.device) < batch.hist_len.unsqueeze(1)  # (B, L)

        if dedup:
            first, inv = distinct(batch.hist_id)  # (U,) first sample of each distinct history, (B,)
            h_item, h_time, h_len, h_mask = batch.hist_item[first], batch.hist_time[first], batch.hist_len[first], mask[first]  # (U, L)...
        else:
            inv = None
            h_item, h_time, h_len, h_mask = batch.hist_item, batch.hist_time, batch.hist_len, mask  # (B, L)...

        if dedup and cfg.dedup_items:
            rows = torch.cat([batch.item, h_item[h_mask]])  # (B + R,)
            times = torch.cat([batch.time, h_time[h_mask]])  # (B + R,)
            emb = self._embed_items_dedup(data, rows, times)  # (B + R, d)
            e_0 = emb[:B]  # (B, d)
            e_l = emb.new_zeros(h_item.shape + (cfg.item_dim,)).index_put((h_mask,), emb[B:])  # (U, L, d), padding 0
        else:
            e_0 = self.embed_items(data, batch.item, batch.time)  # (B, d)
            e_l = self.embed_items(data, h_item, h_time)  # (U, L, d)

        weights = None
        dt = batch.time.unsqueeze(1) - batch.hist_time if cfg.time_attention else None  # (B, L)
        if cfg.history == "din":
            e_h, weights = self.readout(e_l, inv, e_0, mask, dt)  # (B, d), (B, L)
        else:
            states = run_gru(self.gru, e_l, h_len, cfg.gru_kernel)  # (U, L, H)
            if cfg.history == "last":
                idx = (h_len - 1).clamp(min=0)  # (U,); empty histories read position 0, which is 0
                last = states[torch.arange(len(idx), device=idx.device), idx]  # (U, H)
                e_h = last if inv is None else last[inv]  # (B, H)
            else:
                e_h, weights = self.readout(states, inv, e_0, dt, mask)  # (B, H), (B, L)

        e_a = self.aux_embedding(data.user_aux[batch.user])  # (B, a)
        e_s = torch.cat([e_h, e_0, e_a], dim=-1)  # (B, D) Eq. (6)
        score = self.head(e_s).squeeze(-1)  # (B,)
        return ModelOutput(score=score, e_i=e_0, e_h=e_h, e_s=e_s, weights=weights)


def build(name: str, data_spec, **overrides) -> CTRModel:
    """A model of docs/method.md §2-3 by name (see :data:`MODEL_NAMES`), float32, on CPU.

    ``data_spec`` is a :class:`tacr.data.DataSpec` (or anything with a ``.spec``: CTRData,
    DeviceData); ``overrides`` replace :class:`ModelConfig` fields (e.g. ``dedup=False``).
    """
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; available: {MODEL_NAMES}")
    spec = getattr(data_spec, "spec", data_spec)
    known = {f.name for f in fields(ModelConfig)}
    if bad := sorted(set(overrides) - known):
        raise ValueError(f"unknown ModelConfig field(s) {bad}; known: {sorted(known)}")
    cfg = replace(ModelConfig(), **{"name": name, **PRESETS[name], **overrides})
    return CTRModel(cfg, spec)


def seed_init(model: nn.Module, seed: int) -> nn.Module:
    """Re-initialise each submodule with its default initialiser from its own seed, derived
    from ``seed`` and the submodule's name: two models that share a submodule (the GRU, the
    attention's ``W_h``, the head of the time-aware model and GRU attention) start with the same
    weights there whatever else differs, so runs of two architectures with one seed are paired
    where the architectures allow (docs/method.md §8.3)."""
    for name, module in model.named_modules():
        reset = getattr(module, "reset_parameters", None)
        if reset is None or next(module.parameters(recurse=False), None) is None:
            continue
        digest = hashlib.sha1(f"{seed}:{name}".encode()).digest()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))
            reset()
    return model


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
