"""Non-adversarial samplers of Table 3 (docs/method.md §5): logistic regression (pointwise, all data),
1:5 under-sampling (pointwise), user-fixed and uniform (pairwise, Eq. 8)."""
from __future__ import annotations

import torch

from ..batch import Batch
from .base import GroupIndex, Sampler


class Pointwise(Sampler):
    """Pointwise loss (Eq. 7): D's update on the rows ``pointwise_rows`` picks for a step."""

    loss = "pointwise"

    def step(self, rows: torch.Tensor) -> None:
        self.critic.pointwise(self.train.batch(self.pointwise_rows(rows)))

    def pointwise_rows(self, rows: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError


class LogisticRegression(Pointwise):
    """Pointwise loss (Eq. 7) on all training rows: each epoch is a permutation of every row."""

    name = "lr"

    def epoch_batches(self, epoch: int) -> list[torch.Tensor]:
        perm = torch.randperm(self.train.n, generator=self.order, device=self.device)
        return [b for b in torch.tensor_split(perm, self.steps_per_epoch) if len(b)]

    def pointwise_rows(self, rows: torch.Tensor) -> torch.Tensor:
        return rows


class UnderSampling(Pointwise):
    """Pointwise loss on each positive and ``under_ratio`` (5) uniform observed negatives."""

    name = "under"

    def pointwise_rows(self, rows: torch.Tensor) -> torch.Tensor:
        neg = self.uniform_negative_rows((len(rows) * self.config.under_ratio,))
        return torch.cat([rows, neg])


class Uniform(Sampler):
    """Pairwise hinge against one uniformly drawn observed negative."""

    name = "uniform"

    def negatives(self, pos: Batch) -> Batch:
        return self.train.batch(self.uniform_negative_rows((len(pos),)))


class UserFixed(Sampler):
    """Pairwise hinge against an observed negative of the same user (uniform if the user has none)."""

    name = "user_fixed"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        neg = self.train.neg_rows
        self.by_user = GroupIndex(neg, self.train.user[neg])

    def negatives(self, pos: Batch) -> Batch:
        rows = self.by_user.draw(pos.user, self).squeeze(1)  # (B,)
        fallback = self.uniform_negative_rows((len(pos),))
        return self.train.batch(torch.where(rows >= 0, rows, fallback))
