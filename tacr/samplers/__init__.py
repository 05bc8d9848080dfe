"""Negative samplers of Table 3 (docs/method.md §5-6) behind one interface (:class:`Sampler`).

``build(name, train, config, generator, critic=..., gen_model=...)`` for the names in
:data:`SAMPLERS`; the trainer calls the result (``start_epoch``, ``epoch_batches``, ``step``,
``stats``) without branching on the name.
"""
from __future__ import annotations

from .adversarial import (IRGAN, POLICY_COLUMNS, RGAN, IRGANPlusPlus, penalty, policy_diagnostics, policy_logits,
                          policy_probs)
from .base import Critic, GroupIndex, Sampler, SamplerConfig
from .simple import LogisticRegression, UnderSampling, Uniform, UserFixed

SAMPLERS = {cls.name: cls for cls in (LogisticRegression, UnderSampling, UserFixed, Uniform, IRGAN, IRGANPlusPlus, RGAN)}
#: Table labels. The paper calls the pointwise sampler "logistic regression"; here it is "pointwise (all rows)", so
#: it is never confused with the one-hot logistic-regression baseline (tacr.baselines).
LABELS = {"lr": "pointwise (all rows)", "under": "1:5 under-sampling", "user_fixed": "user-fixed", "uniform": "uniform",
          "irgan": "IRGAN", "irgan_pp": "IRGAN++", "rgan": "rGAN"}


def build(name: str, train, config: SamplerConfig, generator, steps_per_epoch: int = 30, *, critic=None,
          gen_model=None, order=None) -> Sampler:
    """The sampler ``name`` on the training split; ``critic`` is the trainer's discriminator
    (its model and updates); adversarial samplers also need ``gen_model``, the generator.
    ``order`` is the generator of the epochs' batch order (default: ``generator``)."""
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; choose from {sorted(SAMPLERS)}")
    cls = SAMPLERS[name]
    if cls.adversarial:
        return cls(train, config, generator, steps_per_epoch, critic=critic, gen_model=gen_model, order=order)
    return cls(train, config, generator, steps_per_epoch, critic=critic, order=order)


__all__ = ["SAMPLERS", "LABELS", "Sampler", "SamplerConfig", "Critic", "GroupIndex", "build", "policy_probs", "policy_logits",
           "penalty", "policy_diagnostics", "POLICY_COLUMNS", "RGAN", "IRGAN", "IRGANPlusPlus", "LogisticRegression", "UnderSampling", "Uniform", "UserFixed"]
