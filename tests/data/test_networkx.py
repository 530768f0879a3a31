from __future__ import annotations

import networkx as nx
import pytest
import torch

from graphpair.data._networkx import NETWORKX_GRAPHS, networkx_graph


@pytest.mark.parametrize("name", sorted(NETWORKX_GRAPHS))
def test_matches_networkx(name: str) -> None:
    graph = NETWORKX_GRAPHS[name][0]()
    data = networkx_graph(name)
    assert data.num_nodes == graph.number_of_nodes()
    assert data.edge_index.size(1) == 2 * graph.number_of_edges()
    index = {node: i for i, node in enumerate(data.node_ids)}
    for u, v in graph.edges:
        row = data.edge_index[1][data.edge_index[0] == index[u]]
        assert index[v] in row.tolist()


def test_karate_labels() -> None:
    data = networkx_graph("karate")
    clubs = [nx.karate_club_graph().nodes[i]["club"] for i in range(34)]
    assert torch.equal(data.y, torch.tensor([0 if c == clubs[0] else 1 for c in clubs]))
