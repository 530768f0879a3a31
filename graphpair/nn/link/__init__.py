"""Link predictors: ``predictor(h, adj, pairs) -> logits [P]``.

Every predictor takes node representations ``h [N, D]`` (from any encoder), the adjacency as a
:class:`graphpair.ops.CSR` (its edge mask gives target link removal) and pairs ``[2, P]``, and
returns one logit per pair. ``pair_embedding(h, adj, pairs)`` returns the representation fed to
the output head, for pair objectives (contrastive losses on links).

- :class:`GAEPredictor`: Hadamard product + MLP, or the plain dot product;
- :class:`NCNPredictor`: Neural Common Neighbour (sum of common-neighbour embeddings);
- :class:`NCNCPredictor`: NCN with common-neighbour completion (depth 1 and 2);
- :class:`NCNDiffPredictor`: NCN plus a branch over the neighbour differences (NCN-diff);
- :class:`GRITPairPredictor`: reads a GRIT encoder's state of the target pair (its ``adj`` is
  the :class:`~graphpair.nn.models.GRITPairs` of :meth:`GRIT.encode`);
  :class:`GRITLinkEncoder` produces that state from a CSR (RRWP of the masked graph, then
  GRIT), so the pair head trains in the link runner like the others.

:class:`LinkModel` holds an encoder and a predictor as one module (one forward call per
training step; one object that encodes and scores).
"""

from graphpair.nn.link._gae import GAEPredictor
from graphpair.nn.link._grit_pair import GRITLinkEncoder, GRITPairPredictor, rrwp_pair_bound
from graphpair.nn.link._link_model import LinkModel
from graphpair.nn.link._ncn import NCNPredictor
from graphpair.nn.link._ncn_diff import NCNDiffPredictor
from graphpair.nn.link._ncnc import NCNC_CHECKPOINT_BYTES, NCNC_CHUNK, NCNCPredictor, cap_members

__all__ = [
    "NCNC_CHECKPOINT_BYTES",
    "NCNC_CHUNK",
    "GAEPredictor",
    "GRITLinkEncoder",
    "GRITPairPredictor",
    "LinkModel",
    "NCNCPredictor",
    "NCNDiffPredictor",
    "NCNPredictor",
    "cap_members",
    "rrwp_pair_bound",
]
