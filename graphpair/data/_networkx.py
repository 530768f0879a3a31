"""networkx's built-in social graphs as PyG ``Data`` (always available, no files)."""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import torch
from torch_geometric.data import Data

from graphpair.data._edge_list import from_edge_list

__all__ = ["NETWORKX_GRAPHS", "networkx_graph"]

#: Registry name -> (networkx constructor, node attribute used as the label ``y`` or None).
NETWORKX_GRAPHS: dict[str, tuple[Callable[[], nx.Graph], str | None]] = {
    "karate": (nx.karate_club_graph, "club"),
    "les-miserables": (nx.les_miserables_graph, None),
    "florentine-families": (nx.florentine_families_graph, None),
    "davis-southern-women": (nx.davis_southern_women_graph, "bipartite"),
}


def networkx_graph(name: str) -> Data:
    """One of :data:`NETWORKX_GRAPHS`: nodes numbered in networkx's order (original names in
    ``node_ids``), undirected ``edge_index`` with both directions, weights dropped, and ``y``
    from the named node attribute (categories numbered in order of first appearance)."""
    build, label = NETWORKX_GRAPHS[name]
    graph = build()
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    pairs = [(index[u], index[v]) for u, v in graph.edges]
    edges = torch.tensor(pairs, dtype=torch.long).t()
    y = None
    if label is not None:
        values = [graph.nodes[node][label] for node in nodes]
        codes = {value: i for i, value in enumerate(dict.fromkeys(values))}
        y = torch.tensor([codes[value] for value in values], dtype=torch.long)
    data = from_edge_list(edges, num_nodes=len(nodes), y=y)
    data.node_ids = nodes
    return data
