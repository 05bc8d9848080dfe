"""Negative samplers of Table 3 (SPEC §5-6) behind one interface (:class:`Sampler`).

``build(name, train, config, generator, discriminator=..., gen_model=...)`` for the names in
:data:`SAMPLERS`; the trainer calls the result without branching on the name.
"""
from __future__ import annotations

from .adversarial import IRGAN, RGAN, IRGANPlusPlus, penalty, policy_logits, policy_probs
from .base import GroupIndex, Sampler, SamplerConfig
from .simple import LogisticRegression, UnderSampling, Uniform, UserFixed

SAMPLERS = {cls.name: cls for cls in (LogisticRegression, UnderSampling, UserFixed, Uniform, IRGAN, IRGANPlusPlus, RGAN)}
LABELS = {"lr": "logistic regression", "under": "1:5 under-sampling", "user_fixed": "user-fixed", "uniform": "uniform",
          "irgan": "IRGAN", "irgan_pp": "IRGAN++", "rgan": "rGAN"}


def build(name: str, train, config: SamplerConfig, generator, steps_per_epoch: int = 30, **models) -> Sampler:
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; choose from {sorted(SAMPLERS)}")
    cls = SAMPLERS[name]
    if cls.adversarial:
        return cls(train, config, generator, steps_per_epoch, **models)
    return cls(train, config, generator, steps_per_epoch)


__all__ = ["SAMPLERS", "LABELS", "Sampler", "SamplerConfig", "GroupIndex", "build", "policy_probs", "policy_logits",
           "penalty", "RGAN", "IRGAN", "IRGANPlusPlus", "LogisticRegression", "UnderSampling", "Uniform", "UserFixed"]
