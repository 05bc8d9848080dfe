"""Training (docs/method.md §4, §6): the discriminator's updates and the plain epoch loop.

* :class:`Critic` — the discriminator D, its Adam optimiser (β 0.9/0.999, ε 1e-8, lr 0.02
  halved every 10 epochs) and its two updates: Eq. (7) pointwise and Eq. (8)/(9) pairwise
  hinge (:mod:`tacr.losses`, margin γ = 1.0);
* :func:`run` — one configuration: each epoch asks the sampler for its batches (30 by default,
  positives or all rows) and calls ``sampler.step`` on each; the sampler picks negatives and
  calls the critic's update (the adversarial samplers also train their generator there:
  Algorithm 1 is in :mod:`tacr.samplers.adversarial`). After each epoch D scores the validation
  and test splits: every row, or a fixed stratified sample of ``eval_rows`` rows of each (an
  unbiased AUC at a fraction of the cost, :meth:`tacr.batch.DeviceSplit.eval_rows`).

``run(config, data)`` returns a tidy DataFrame, one row per epoch: test and validation AUC, D's
mean loss and step count, the learning rate, timings, and the sampler's statistics (for
adversarial samplers: G steps and loss, mean reward, the policy temperature in force, Kendall
tau of Fig. 8, the policy diagnostics, whether the epoch was pre-training and the game epoch).
With ``final_eval_rows`` >= 0 every row also carries ``selected_test_auc``: the test AUC of D at
its best validation epoch on a larger fixed sample of the test split (the verdicts' metric,
:mod:`tacr.claims`), computed once after training. Metric columns never
share a name with a :class:`TrainConfig` field, so a results table can carry both.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch

from . import models as models_mod
from . import samplers as samplers_mod
from .batch import Batch, DeviceData, DeviceSplit, resolve_device
from .data.schema import CTRData
from .losses import hinge_loss, lr_at, pointwise_loss  # noqa: F401  (public here too)
from .metrics import auc
from .samplers import SamplerConfig

#: The batch order's generator is seeded with ``seed + ORDER_SEED_OFFSET``: runs of different
#: samplers with one seed see the same batches (paired comparisons, docs/method.md §8.3).
ORDER_SEED_OFFSET = 1_000_003
GENERATOR_SEED_OFFSET = 2_000_003  # G's initialisation seed: its own, shared by G of every sampler
#: Per-epoch columns of the adversarial samplers (NaN for the others).
SAMPLER_COLUMNS = ("g_loss", "mean_reward", "policy_temperature", "tau_penalty", "tau_random", "g_pretrain_loss",
                   *samplers_mod.POLICY_COLUMNS)


@dataclass(frozen=True)
class TrainConfig(SamplerConfig):
    """Every knob of one training run: the sampler's (inherited from :class:`SamplerConfig`,
    the one place their defaults live), the model, the schedule, the seed and the device."""

    model: str = "time_aware"  # time_aware, gru, din, gru_attention
    raw_id_init_std: float = 1.0  # init std of a learned item-id embedding (data without raw features)
    gru_kernel: str = "fused"  # tacr's CPU GRU (tacr.models.gru; cuDNN on CUDA); "packed": nn.GRU, the tests' oracle
    sampler: str = "rgan"  # lr, under, user_fixed, uniform, irgan, irgan_pp, rgan
    epochs: int = 10
    steps_per_epoch: int = 30
    lr_d: float = 0.02
    weight_decay: float = 0.0  # L2 penalty of D's and G's Adam (the tuning protocol searches it)
    seed: int = 0
    threads: int = 1  # torch CPU threads of the run (float sums differ between thread counts)
    eval_rows: int = 0  # per-epoch AUCs on a fixed stratified sample of this many rows per split (0: all)
    final_eval_rows: int = -1  # test AUC of the best-validation epoch's D on this many rows (0: all; -1: no extra pass)
    device: str = "auto"
    eval_batch_size: int = 32768

    def __post_init__(self):
        super().__post_init__()
        if self.model not in models_mod.MODEL_NAMES:
            raise ValueError(f"unknown model {self.model!r}; choose from {models_mod.MODEL_NAMES}")
        if self.sampler not in samplers_mod.SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose from {sorted(samplers_mod.SAMPLERS)}")
        if self.epochs < 1 or self.steps_per_epoch < 1:
            raise ValueError("epochs and steps_per_epoch must be >= 1")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.pretrain_epochs < 0 or self.d_steps_per_g < 1:
            raise ValueError("pretrain_epochs must be >= 0 and d_steps_per_g >= 1")
        if self.gru_kernel not in models_mod.GRU_KERNELS:
            raise ValueError(f"unknown gru_kernel {self.gru_kernel!r}; choose from {models_mod.GRU_KERNELS}")
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.eval_rows < 0 or self.final_eval_rows < -1:
            raise ValueError(f"eval_rows must be >= 0 and final_eval_rows >= -1, got {self.eval_rows}, {self.final_eval_rows}")

    def model_overrides(self) -> dict:
        """The :class:`tacr.models.ModelConfig` fields a run sets beside the model's preset."""
        return {"raw_id_init_std": self.raw_id_init_std, "gru_kernel": self.gru_kernel}

    def key_fields(self) -> dict:
        """Every field that can change a run's numbers: all of them but where the run executes
        (``device``) and how many rows are scored at once (``eval_batch_size``)."""
        d = asdict(self)
        d.pop("device")
        d.pop("eval_batch_size")
        return d


class Critic:
    """The discriminator D with its optimiser and its two updates, as samplers call them.

    Args:
        model: D (any model of :mod:`tacr.models`).
        config: the run's :class:`TrainConfig` (``lr_d``, ``lr_halve_every``, ``margin``).
    """

    def __init__(self, model: torch.nn.Module, config: TrainConfig):
        self.model = model
        self.config = config
        self.opt = torch.optim.Adam(model.parameters(), lr=config.lr_d, betas=(0.9, 0.999), eps=1e-8,
                                    weight_decay=config.weight_decay)
        self.losses: list[float] = []

    def start_epoch(self, epoch: int) -> float:
        """Set the epoch's learning rate (halved every ``lr_halve_every`` epochs); returns it."""
        lr = lr_at(self.config.lr_d, epoch, self.config.lr_halve_every)
        for group in self.opt.param_groups:
            group["lr"] = lr
        return lr

    def pairwise(self, pos: Batch, neg: Batch) -> float:
        """Eq. (8): hinge on (positive, negative) pairs, one model pass over both."""
        s_pos, s_neg = self.model(pos.cat(neg)).score.split([len(pos), len(neg)])
        return self._update(hinge_loss(s_pos, s_neg, self.config.margin))

    def pointwise(self, batch: Batch) -> float:
        """Eq. (7): binary cross-entropy on the rows of ``batch``."""
        return self._update(pointwise_loss(self.model(batch).score, batch.label))

    def _update(self, loss: torch.Tensor) -> float:
        if not torch.isfinite(loss):
            raise FloatingPointError("non-finite discriminator loss")
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.losses.append(loss.item())
        return self.losses[-1]

    def stats(self) -> dict:
        """The epoch's mean loss and number of updates; reset after reading."""
        out = {"d_loss": float(np.mean(self.losses)) if self.losses else float("nan"), "d_steps": len(self.losses)}
        self.losses = []
        return out


@torch.no_grad()
def score_split(model, split: DeviceSplit, batch_size: int = 32768, rows: torch.Tensor | None = None) -> np.ndarray:
    """Raw scores f of ``rows`` of a split (default: every row), in the order of ``rows``.

    Rows are scored grouped by history (:meth:`~tacr.batch.DeviceSplit.by_history`), so each
    distinct history's GRU runs once per pass; the scores are returned in the given order.
    """
    rows = torch.arange(split.n, device=split.data.device) if rows is None else rows
    order = torch.argsort(split.hist_id[rows], stable=True)  # (N,)
    was_training = model.training
    model.eval()
    out = torch.cat([model(b).score.float() for b in split.iter_batches(batch_size, rows[order])])
    model.train(was_training)
    scores = torch.empty_like(out)
    scores[order] = out
    return scores.cpu().numpy()


def _progress(total: int, desc: str, quiet: bool | None):
    from tqdm.auto import tqdm

    disable = quiet if quiet is not None else not sys.stderr.isatty()
    return tqdm(total=total, desc=desc, disable=disable, leave=False)


def _model(config: TrainConfig, dd: DeviceData, seed: int):
    """A model of the run: each submodule initialised from (seed, its name), so runs of two
    architectures share the initialisation where they share a submodule; values never seen in
    training enter as the mean of the seen ones (:mod:`tacr.models.embedding`)."""
    model = models_mod.seed_init(models_mod.build(config.model, dd.spec, **config.model_overrides()), seed)
    model = model.to(dd.device)
    model.set_training_counts(dd.training_counts())
    return model


@contextmanager
def torch_threads(n: int):
    """Run a block with ``n`` torch CPU threads, restoring the previous count after."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run(config: TrainConfig, data: CTRData, quiet: bool | None = None, device_data: DeviceData | None = None,
        return_models: bool = False):
    """Train one configuration; one row per epoch (see the module docstring).

    ``device_data`` lets several runs share the data already moved to the device. With
    ``return_models`` it returns ``(df, {"D", "G", "best_valid_state", "device_data"})``, the
    state being D's weights at the epoch of best validation AUC. The run uses
    ``config.threads`` torch threads whatever the caller's setting, so the same config gives
    the same numbers on every path (a worker pool, a single process, a resumed grid).
    """
    with torch_threads(config.threads):
        return _run(config, data, quiet, device_data, return_models)


def _run(config, data, quiet, device_data, return_models):
    device = resolve_device(config.device)
    dd = device_data if device_data is not None and device_data.device == device else DeviceData(data, device)
    train, valid, test = dd["train"], dd["valid"], dd["test"]
    torch.manual_seed(config.seed)
    gen = torch.Generator(device=device).manual_seed(config.seed)
    order = torch.Generator(device=device).manual_seed(config.seed + ORDER_SEED_OFFSET)
    critic = Critic(_model(config, dd, config.seed), config)
    adversarial = samplers_mod.SAMPLERS[config.sampler].adversarial
    G = _model(config, dd, config.seed + GENERATOR_SEED_OFFSET) if adversarial else None
    torch.manual_seed(config.seed)
    sampler = samplers_mod.build(config.sampler, train, config, gen, config.steps_per_epoch, critic=critic, gen_model=G,
                                 order=order)
    D = critic.model

    eval_rows = {name: split.eval_rows(config.eval_rows) for name, split in (("test", test), ("valid", valid))}
    labels = {name: dd[name].label[r].cpu().numpy() for name, r in eval_rows.items()}
    rows, best_valid, best_state = [], -np.inf, None
    bar = _progress(config.epochs, f"{config.model}+{config.sampler} seed {config.seed}", quiet)
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        lr = critic.start_epoch(epoch)
        sampler.start_epoch(epoch)
        D.train()
        for step, batch_rows in enumerate(sampler.epoch_batches(epoch), start=1):
            try:
                sampler.step(batch_rows)
            except FloatingPointError as exc:
                raise FloatingPointError(f"{exc} at epoch {epoch}, step {step} "
                                         f"({config.model} + {config.sampler}, seed {config.seed})") from exc
        train_seconds = time.perf_counter() - started
        aucs = {name: auc(labels[name], score_split(D, dd[name], config.eval_batch_size, r)) for name, r in eval_rows.items()}
        row = {"epoch": epoch, "test_auc": aucs["test"], "valid_auc": aucs["valid"],
               **critic.stats(), "g_steps": 0, "d_lr": lr, "pretraining": False, "game_epoch": epoch,
               "train_seconds": train_seconds, "epoch_seconds": time.perf_counter() - started}
        row.update(sampler.stats())
        rows.append(row)
        if (return_models or config.final_eval_rows >= 0) and row["valid_auc"] > best_valid:
            best_valid = row["valid_auc"]
            best_state = {k: v.detach().clone() for k, v in D.state_dict().items()}
        bar.update(1)
        bar.set_postfix(test_auc=f"{row['test_auc']:.4f}", valid_auc=f"{row['valid_auc']:.4f}")
    bar.close()
    df = pd.DataFrame(rows)
    for col in SAMPLER_COLUMNS:
        if col not in df:
            df[col] = np.nan
    if config.final_eval_rows >= 0:  # the verdict metric on a larger test sample, once per run
        current = {k: v.detach().clone() for k, v in D.state_dict().items()}
        D.load_state_dict(best_state)
        r = test.eval_rows(config.final_eval_rows)
        df["selected_test_auc"] = auc(test.label[r].cpu().numpy(), score_split(D, test, config.eval_batch_size, r))
        D.load_state_dict(current)
    if return_models:
        return df, {"D": D, "G": G, "best_valid_state": best_state, "device_data": dd}
    return df
