"""Models of docs/method.md §2-3: the time-aware attention model and its embedding baselines.

* :mod:`.embedding` — item embedding Eq. (1) (tanh one-hot layers, Sec. 4.2) and the
  auxiliary embedding.
* :mod:`.attention` — relative time embedding Eq. (3), time-aware attention Eq. (4)-(5), DIN's
  local activation unit.
* :mod:`.gru` — GRU Eq. (2): ``nn.GRU`` on packed sequences, or tacr's fused CPU layer.
* :mod:`.model` — sample embedding Eq. (6), the linear score, ``build``.

Usage::

    model = tacr.models.build("time_aware", data.spec)   # or "gru", "din", "gru_attention"
    out = model(batch)        # ModelOutput: score (B,), e_i (B, 90), e_h (B, H), e_s (B, 188)
"""
from .attention import DINActivation, TimeAwareAttention, real_positions, relative_time_encoding
from .embedding import AuxEmbedding, ItemEmbedding, MultiOneHotLinear, OneHotLinear
from .gru import KERNELS as GRU_KERNELS
from .gru import run_gru
from .model import MODEL_NAMES, PRESETS, CTRModel, ModelConfig, ModelOutput, build, count_parameters, seed_init

__all__ = ["GRU_KERNELS", "MODEL_NAMES", "PRESETS", "AuxEmbedding", "CTRModel", "DINActivation", "ItemEmbedding", "ModelConfig",
           "ModelOutput", "MultiOneHotLinear", "OneHotLinear", "TimeAwareAttention", "build", "count_parameters", "seed_init",
           "real_positions", "relative_time_encoding", "run_gru"]
