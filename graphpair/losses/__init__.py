"""Pair objectives: a functional core and thin ``torch.nn.Module`` wrappers.

Inputs are pairs, never models: embeddings ``[N, D]`` with labels, two views ``[N, D]``,
explicit ``(anchor, positive, negative)`` indices, or link scores ``pos [P]`` with
``neg [P]`` / ``[P, K]``. Every loss that needs the ``N x N`` similarity matrix computes it in
checkpointed row blocks above :data:`LOSS_BLOCK_BYTES`, so memory stays bounded in the forward
and backward passes; ``distributed=True`` all-gathers embeddings across ranks with gradients.
The definitions and defaults follow pytorch-metric-learning where it has the concept (see
``docs/losses.md``).
"""

from graphpair.losses._common import LOSS_BLOCK_BYTES, NoPairsWarning
from graphpair.losses._contrastive import ContrastiveLoss, contrastive_margin
from graphpair.losses._distributed import all_gather_with_grad
from graphpair.losses._grace import GRACELoss, grace
from graphpair.losses._info_nce import InfoNCELoss, info_nce
from graphpair.losses._link_bce import LinkBCELoss, link_bce
from graphpair.losses._link_info_nce import LinkInfoNCELoss, link_info_nce
from graphpair.losses._multi_similarity import MultiSimilarityLoss, multi_similarity
from graphpair.losses._multi_similarity_miner import (
    MultiSimilarityMiner,
    multi_similarity_miner,
)
from graphpair.losses._pairwise_ranking import (
    RANKING_KINDS,
    PairwiseRankingLoss,
    pairwise_ranking,
)
from graphpair.losses._sup_con import SupConLoss, sup_con
from graphpair.losses._triplet import TripletMarginLoss, triplet_margin

__all__ = [
    "LOSS_BLOCK_BYTES",
    "RANKING_KINDS",
    "ContrastiveLoss",
    "GRACELoss",
    "InfoNCELoss",
    "LinkBCELoss",
    "LinkInfoNCELoss",
    "MultiSimilarityLoss",
    "MultiSimilarityMiner",
    "NoPairsWarning",
    "PairwiseRankingLoss",
    "SupConLoss",
    "TripletMarginLoss",
    "all_gather_with_grad",
    "contrastive_margin",
    "grace",
    "info_nce",
    "link_bce",
    "link_info_nce",
    "multi_similarity",
    "multi_similarity_miner",
    "pairwise_ranking",
    "sup_con",
    "triplet_margin",
]
