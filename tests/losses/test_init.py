from __future__ import annotations

import inspect

import torch

import graphpair.losses as losses


def test_every_export_resolves_and_is_documented() -> None:
    assert losses.__doc__
    for name in losses.__all__:
        value = getattr(losses, name)
        if callable(value) and not name.isupper():
            assert value.__doc__, name


def test_functions_and_modules_come_in_pairs_with_the_same_defaults() -> None:
    pairs = {
        "info_nce": "InfoNCELoss",
        "sup_con": "SupConLoss",
        "multi_similarity": "MultiSimilarityLoss",
        "contrastive_margin": "ContrastiveLoss",
        "triplet_margin": "TripletMarginLoss",
        "grace": "GRACELoss",
        "link_bce": "LinkBCELoss",
        "link_info_nce": "LinkInfoNCELoss",
        "pairwise_ranking": "PairwiseRankingLoss",
        "multi_similarity_miner": "MultiSimilarityMiner",
    }
    for function, module in pairs.items():
        fn_params = inspect.signature(getattr(losses, function)).parameters
        instance = getattr(losses, module)()
        assert isinstance(instance, torch.nn.Module)
        init_params = inspect.signature(getattr(losses, module)).parameters
        for name, param in init_params.items():
            assert name in fn_params, (module, name)
            assert fn_params[name].default == param.default, (module, name)
            assert getattr(instance, name) == param.default, (module, name)
