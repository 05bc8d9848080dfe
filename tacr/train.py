"""Training (SPEC §4, §6): losses, schedules, the epoch loop and per-epoch metrics.

* Eq. (7) pointwise and Eq. (8)/(9) pairwise hinge losses (:mod:`tacr.losses`), margin γ = 1.0;
* Adam (β 0.9/0.999, ε 1e-8), lr D 0.02 and G 0.01, both halved every 10 epochs; 30 steps an
  epoch with a batch of |positives| / 30 (|all rows| / 30 for logistic regression);
* adversarial samplers: steps alternate D, G (``d_steps_per_g`` D steps per G step, SPEC
  Decision), after ``pretrain_epochs`` epochs of pre-training (Algorithm 1, line 1) that count
  towards ``epochs``, so every sampler gets the same number of epochs.

``run(config, data)`` returns a tidy DataFrame, one row per epoch: test and validation AUC,
losses, mean reward, temperature and, for adversarial samplers, the Kendall tau of Fig. 8.
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
import torch

from . import models as models_mod
from . import samplers as samplers_mod
from .batch import DeviceData, DeviceSplit, resolve_device
from .data.schema import CTRData
from .losses import hinge_loss, pointwise_loss  # noqa: F401  (public here too)
from .metrics import auc


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of one training run (model, sampler, schedule, seed)."""

    model: str = "time_aware"  # time_aware, gru, din, gru_attention
    sampler: str = "rgan"  # lr, under, user_fixed, uniform, irgan, irgan_pp, rgan
    epochs: int = 10
    steps_per_epoch: int = 30
    lr_d: float = 0.02
    lr_g: float = 0.01
    lr_halve_every: int = 10
    margin: float = 1.0
    # sampler knobs (SPEC §5-6)
    n_candidates: int = 35
    temperature: float = 20.0
    temperature_decay: float = 0.98
    lambda_i: float = 3.0
    lambda_h: float = 5.0
    reward: str = "both"
    under_ratio: int = 5
    pretrain_epochs: int = 1
    d_steps_per_g: int = 1
    tau_positives: int = 64
    seed: int = 0
    device: str = "auto"
    eval_batch_size: int = 32768

    def __post_init__(self):
        if self.model not in models_mod.MODEL_NAMES:
            raise ValueError(f"unknown model {self.model!r}; choose from {models_mod.MODEL_NAMES}")
        if self.sampler not in samplers_mod.SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose from {sorted(samplers_mod.SAMPLERS)}")
        if self.epochs < 1 or self.steps_per_epoch < 1:
            raise ValueError("epochs and steps_per_epoch must be >= 1")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.pretrain_epochs < 0 or self.d_steps_per_g < 1:
            raise ValueError("pretrain_epochs must be >= 0 and d_steps_per_g >= 1")

    def sampler_config(self) -> samplers_mod.SamplerConfig:
        names = {f.name for f in fields(samplers_mod.SamplerConfig)}
        return samplers_mod.SamplerConfig(**{k: v for k, v in asdict(self).items() if k in names})

    def key_fields(self) -> dict:
        """The fields that change results (device and evaluation batch size do not)."""
        d = asdict(self)
        d.pop("device")
        d.pop("eval_batch_size")
        return d


def lr_at(base_lr: float, epoch: int, halve_every: int = 10) -> float:
    """Learning rate of epoch ``epoch`` (1-based): halved every ``halve_every`` epochs."""
    return base_lr * 0.5 ** ((epoch - 1) // halve_every)


@torch.no_grad()
def score_split(model, split: DeviceSplit, batch_size: int = 32768) -> np.ndarray:
    """Raw scores f of every row of a split, in order."""
    was_training = model.training
    model.eval()
    out = [model(b).score.float().cpu() for b in split.iter_batches(batch_size)]
    model.train(was_training)
    return torch.cat(out).numpy()


def _progress(total: int, desc: str, quiet: bool | None):
    from tqdm.auto import tqdm

    disable = quiet if quiet is not None else not sys.stderr.isatty()
    return tqdm(total=total, desc=desc, disable=disable, leave=False)


def run(config: TrainConfig, data: CTRData, quiet: bool | None = None, device_data: DeviceData | None = None,
        return_models: bool = False):
    """Train one configuration; one row per epoch (see the module docstring).

    ``device_data`` lets several runs share the data already moved to the device. With
    ``return_models`` it returns ``(df, {"D", "G", "best_valid_state", "device_data"})``, the
    state being D's weights at the epoch of best validation AUC.
    """
    device = resolve_device(config.device)
    dd = device_data if device_data is not None and device_data.device == device else DeviceData(data, device)
    train, valid, test = dd["train"], dd["valid"], dd["test"]
    torch.manual_seed(config.seed)
    gen = torch.Generator(device=device).manual_seed(config.seed)
    D = models_mod.build(config.model, dd.spec).to(device)
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=(0.9, 0.999), eps=1e-8)
    extra = {}
    if samplers_mod.SAMPLERS[config.sampler].adversarial:
        extra = {"discriminator": D, "gen_model": models_mod.build(config.model, dd.spec).to(device)}
    sampler = samplers_mod.build(config.sampler, train, config.sampler_config(), gen, config.steps_per_epoch, **extra)
    uniform = samplers_mod.build("uniform", train, config.sampler_config(), gen, config.steps_per_epoch)

    test_labels, valid_labels = test.label.cpu().numpy(), valid.label.cpu().numpy()
    rows, best_valid, best_state = [], -np.inf, None
    bar = _progress(config.epochs, f"{config.model}+{config.sampler} seed {config.seed}", quiet)
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        scale = lr_at(1.0, epoch, config.lr_halve_every)
        for group in opt_d.param_groups:
            group["lr"] = config.lr_d * scale
        pretraining = sampler.adversarial and epoch <= config.pretrain_epochs
        sampler.start_epoch(epoch, game_epoch=epoch - config.pretrain_epochs, lr_scale=scale)
        d_losses, g_steps = [], 0
        D.train()
        for step, batch_rows in enumerate(sampler.epoch_batches(epoch)):
            where = f"at epoch {epoch}, step {step + 1} ({config.model} + {config.sampler}, seed {config.seed})"
            if sampler.adversarial and not pretraining and step % (config.d_steps_per_g + 1) == config.d_steps_per_g:
                try:
                    sampler.g_step(train.batch(batch_rows))
                except FloatingPointError as exc:
                    raise FloatingPointError(f"{exc} {where}") from exc
                g_steps += 1
                continue
            if sampler.loss == "pointwise":
                b = train.batch(sampler.pointwise_rows(batch_rows))
                loss = pointwise_loss(D(b).score, b.label)
            else:
                pos = train.batch(batch_rows)
                neg = uniform.negatives(pos) if pretraining else sampler.negatives(pos)
                s_pos, s_neg = D(pos.cat(neg)).score.split([len(pos), len(neg)])  # one pass over both
                loss = hinge_loss(s_pos, s_neg, config.margin)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite discriminator loss {where}")
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            opt_d.step()
            d_losses.append(loss.item())
            if pretraining:
                try:
                    sampler.pretrain_step(pos)
                except FloatingPointError as exc:
                    raise FloatingPointError(f"{exc} {where}") from exc
        train_seconds = time.perf_counter() - started
        test_scores = score_split(D, test, config.eval_batch_size)
        valid_scores = score_split(D, valid, config.eval_batch_size)
        row = {"epoch": epoch, "test_auc": auc(test_labels, test_scores), "valid_auc": auc(valid_labels, valid_scores), "d_loss": float(np.mean(d_losses)),
               "d_steps": len(d_losses), "g_steps": g_steps, "lr_d": config.lr_d * scale, "pretraining": pretraining,
               "train_seconds": train_seconds, "epoch_seconds": time.perf_counter() - started}
        row.update(sampler.stats())
        rows.append(row)
        if return_models and row["valid_auc"] > best_valid:
            best_valid = row["valid_auc"]
            best_state = {k: v.detach().clone() for k, v in D.state_dict().items()}
        bar.update(1)
        bar.set_postfix(test_auc=f"{row['test_auc']:.4f}", valid_auc=f"{row['valid_auc']:.4f}")
    bar.close()
    df = pd.DataFrame(rows)
    for col in ("g_loss", "reward", "temperature", "tau_penalty", "tau_random", "g_pretrain_loss"):
        if col not in df:
            df[col] = np.nan
    if return_models:
        return df, {"D": D, "G": extra.get("gen_model"), "best_valid_state": best_state, "device_data": dd}
    return df
