"""Several processes with torchrun: a contrastive loss over embeddings gathered from every rank.

What this tutorial teaches:

1. one script for one process and for ``torchrun``: under ``torchrun`` the environment holds
   ``RANK`` and ``WORLD_SIZE``, and the script joins the default process group (``gloo``, the
   CPU backend; ``nccl`` on GPUs); alone, it trains as usual;
2. data parallelism over a *global* batch: every rank draws the same permutation, takes its
   own slice of each batch of graphs and encodes only those (``SINCConv`` node embeddings);
3. ``graphpair.losses.sup_con(..., distributed=True)``: the embeddings of every rank are
   all-gathered *with their gradients* (``graphpair.losses.all_gather_with_grad``), so each
   anchor is compared with the nodes of all ranks and the loss value is the loss of the whole
   global batch, on every rank; with ``local_anchors=True`` each rank computes only its own
   anchors' rows of the similarity matrix;
4. ``DistributedDataParallel`` averages the parameter gradients; with graphpair's gradient
   convention (each rank's rows get ``world_size`` times their single-process gradient) a
   step equals the single-process step on the global batch, so both runs print the same
   losses (to float rounding).

Run it alone, ``python docs/tutorials/distributed_torchrun.py``, or on two CPU processes:
``torchrun --standalone --nproc_per_node 2 docs/tutorials/distributed_torchrun.py`` (each
about 15-25 s on a 2-core CPU), or ``--quick``. The task is the UniqueSignature node labels
(generated, no files needed), learnt with supervised contrastive learning and scored by the
nearest class centroid.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Batch, Data

from graphpair.data import load_dataset
from graphpair.losses import all_gather_with_grad, sup_con
from graphpair.metrics import balanced_accuracy
from graphpair.nn import SINCConv


class NodeEncoder(torch.nn.Module):
    """A SINC-GCN layer and a linear projection: node embeddings ``[N, D]``."""

    def __init__(self, hidden_channels: int) -> None:
        super().__init__()
        self.conv = SINCConv(1, hidden_channels, aggr="sum", context_aggr="sum")
        self.proj = torch.nn.Linear(hidden_channels, hidden_channels)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        out: Tensor = self.proj(F.relu(self.conv(x, edge_index)))
        return out


def setup() -> tuple[int, int, bool]:
    """``(rank, world_size, joined)``: joins the default process group when started by
    torchrun (``joined``), uses one that the caller set up, else runs alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    joined = world > 1 and not dist.is_initialized()
    if joined:
        # torchrun sets MASTER_ADDR / MASTER_PORT / RANK / WORLD_SIZE: the env:// defaults.
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=120))
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), joined
    return 0, 1, joined


@torch.no_grad()
def centroid_accuracy(model: torch.nn.Module, train: list[Data], test: list[Data]) -> float:
    """Balanced accuracy of the nearest class centroid (cosine) of the training nodes."""
    model.eval()
    batch = Batch.from_data_list(train)
    z = F.normalize(model(batch.x, batch.edge_index), dim=1)
    centroids = torch.stack([z[batch.y == c].mean(0) for c in (0, 1)])  # [2, D]
    batch = Batch.from_data_list(test)
    z = F.normalize(model(batch.x, batch.edge_index), dim=1)
    predicted = (z @ F.normalize(centroids, dim=1).t()).argmax(1)
    return balanced_accuracy(batch.y, predicted)


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-graphs", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-graphs", type=int, default=32, help="global batch, in graphs")
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--output", type=Path, default=None, help="rank 0 writes JSON here")
    parser.add_argument("--quick", action="store_true", help="tiny settings (tests)")
    args = parser.parse_args(argv)
    if args.quick:
        args.num_graphs, args.epochs = 200, 2

    rank, world, joined = setup()

    def say(text: str) -> None:
        if rank == 0:  # one voice for the whole job
            print(text, flush=True)

    dataset = load_dataset("uniquesignature", num_graphs=args.num_graphs)  # same on every rank
    assert dataset.split is not None
    graphs = list(dataset.graphs)
    train_index, test_index = dataset.split["train"], dataset.split["test"]
    say(
        f"{world} process(es); {len(train_index)} training graphs, global batch "
        f"{args.batch_graphs} graphs, each rank encodes about {args.batch_graphs // world}"
    )

    torch.manual_seed(0)  # the same initial weights on every rank
    model: torch.nn.Module = NodeEncoder(args.hidden)
    encoder = model
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(0)  # the same permutation on every rank

    losses: list[float] = []
    largest_gap = 0.0
    tick = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = train_index[torch.randperm(len(train_index), generator=generator)]
        total, steps = 0.0, 0
        for start in range(0, len(order) - args.batch_graphs + 1, args.batch_graphs):
            global_batch = order[start : start + args.batch_graphs]
            mine = torch.tensor_split(global_batch, world)[rank]  # this rank's graphs
            batch = Batch.from_data_list([graphs[i] for i in mine])
            optimizer.zero_grad()
            z = model(batch.x, batch.edge_index)  # [N_rank, D]: this rank's nodes only
            loss = sup_con(
                z,
                batch.y,
                temperature=0.1,
                distributed=world > 1,  # gather every rank's rows (with gradients)
                local_anchors=world > 1,  # and compute only this rank's anchor rows
            )
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            # What the distributed loss means: the single-process loss on the rows of all
            # ranks, gathered in rank order. (A check for the tutorial, not needed to train.)
            whole = sup_con(all_gather_with_grad(z.detach()), all_gather_with_grad(batch.y))
            largest_gap = max(largest_gap, abs(float(whole) - float(loss.detach())))
            total += float(loss.detach())
            steps += 1
        losses.append(total / steps)
        say(f"  epoch {epoch:2d}  global-batch SupCon loss {losses[-1]:.6f}")
    seconds = time.perf_counter() - tick

    train_graphs = [graphs[i] for i in train_index]
    test_graphs = [graphs[i] for i in test_index]
    accuracy = centroid_accuracy(encoder, train_graphs, test_graphs)
    say(
        f"trained in {seconds:.1f} s; distributed loss vs loss of the gathered batch: largest "
        f"difference {largest_gap:.2e}; nearest-centroid test balanced accuracy {accuracy:.4f}"
    )
    result: dict[str, object] = {
        "world_size": world,
        "rank": rank,
        "losses": losses,
        "largest_gap": largest_gap,
        "test_balanced_accuracy": accuracy,
    }
    if args.output is not None and rank == 0:
        args.output.write_text(json.dumps(result))
    if joined:
        dist.destroy_process_group()
    return result


if __name__ == "__main__":
    main()
