"""Issue 22 in the link runner: degree caps, sampled training, the memory estimate."""

from __future__ import annotations

from graphpair.nn import NCNCPredictor
from graphpair.train import link_config
from graphpair.train._link_builder import build_predictor


def test_degree_caps_reach_the_ncnc_predictor() -> None:
    config = link_config("karate", "ncnc", train_degree_cap=128, test_degree_cap=96)
    predictor = build_predictor(config)
    assert isinstance(predictor, NCNCPredictor)
    assert (predictor.train_degree_cap, predictor.test_degree_cap) == (128, 96)
    plain = build_predictor(link_config("karate", "ncnc"))
    assert isinstance(plain, NCNCPredictor)
    assert (plain.train_degree_cap, plain.test_degree_cap) == (None, None)
