"""The two training losses (docs/method.md §4) and the learning-rate schedule (docs/method.md §6), shared by the
trainer's discriminator and the adversarial samplers' generator.

* Eq. (7) pointwise: binary cross-entropy of ``sigmoid(f)`` (mean over the batch, not the
  paper's sum: the same minimiser, a learning rate that does not depend on the batch size);
* Eq. (8)/(9) pairwise hinge ``[-f(s) + f(s') + γ]_+`` (mean over the batch);
* :func:`lr_at`: Sec. 4.2's learning rates, halved every 10 epochs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def hinge_loss(pos_score: torch.Tensor, neg_score: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Eq. (8): mean of ``[-f(s) + f(s') + margin]_+``."""
    return F.relu(margin - pos_score + neg_score).mean()


def pointwise_loss(score: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """Eq. (7): binary cross-entropy of ``sigmoid(f)`` (mean)."""
    return F.binary_cross_entropy_with_logits(score, label)


def lr_at(base_lr: float, epoch: int, halve_every: int = 10) -> float:
    """Learning rate of epoch ``epoch`` (1-based): halved every ``halve_every`` epochs."""
    return base_lr * 0.5 ** ((epoch - 1) // halve_every)
