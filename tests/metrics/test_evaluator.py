from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import ogb.graphproppred
import ogb.linkproppred
import ogb.nodeproppred
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphpair.metrics import METRICS, OGB_METRICS, Evaluator, SmallPoolWarning
from tests.metrics.oracle import (
    GraphEvaluator,
    LinkEvaluator,
    NodeEvaluator,
    as_tensor,
    close,
    score_lists,
)


def master_csv_metrics() -> dict[str, str]:
    """The 'eval metric' row of each of ogb's installed master.csv tables."""
    table: dict[str, str] = {}
    for package in (ogb.linkproppred, ogb.graphproppred, ogb.nodeproppred):
        with (Path(package.__file__).parent / "master.csv").open(newline="") as handle:
            rows = list(csv.reader(handle))
        names = rows[0][1:]
        (metrics,) = [row[1:] for row in rows if row[0] == "eval metric"]
        table.update(zip(names, metrics, strict=True))
    return table


def test_ogb_metrics_table_equals_ogb_master_csv() -> None:
    assert master_csv_metrics() == OGB_METRICS


def test_ogb_metrics_table_has_the_datasets_graphpair_uses() -> None:
    expected = {
        "ogbl-ddi": "hits@20",
        "ogbl-collab": "hits@50",
        "ogbl-ppa": "hits@100",
        "ogbl-citation2": "mrr",
        "ogbg-molhiv": "rocauc",
        "ogbg-molpcba": "ap",
        "ogbg-molesol": "rmse",
        "ogbg-molfreesolv": "rmse",
        "ogbg-molbace": "rocauc",
        "ogbg-molbbbp": "rocauc",
        "ogbn-arxiv": "acc",
    }
    assert {name: OGB_METRICS[name] for name in expected} == expected


@pytest.mark.parametrize("name", sorted(OGB_METRICS))
def test_every_ogb_metric_resolves_to_itself(name: str) -> None:
    assert Evaluator(OGB_METRICS[name]).metric == OGB_METRICS[name]


@pytest.mark.parametrize(
    ("spelling", "metric"),
    [
        ("hits@20", "hits@20"),
        ("Hits@20", "hits@20"),
        ("HITS_20", "hits@20"),
        (" hits-100 ", "hits@100"),
        ("hits 1", "hits@1"),
        ("MRR", "mrr"),
        ("ROC-AUC", "rocauc"),
        ("roc_auc", "rocauc"),
        ("auc", "rocauc"),
        ("AP", "ap"),
        ("average-precision", "ap"),
        ("rmse", "rmse"),
        ("MAE", "mae"),
        ("accuracy", "acc"),
        ("f1", "F1"),
    ],
)
def test_metric_names_resolve_case_and_separator_insensitively(spelling: str, metric: str) -> None:
    assert Evaluator(spelling).metric == metric


def test_unknown_metric_names_are_errors() -> None:
    with pytest.raises(ValueError, match=r"metric must be one of \['hits@K', 'mrr', 'rocauc'"):
        Evaluator("precision@5")
    with pytest.raises(ValueError, match="metric 'hits@k' needs a number for K"):
        Evaluator("hits@k")
    with pytest.raises(ValueError, match="K in metric 'hits@K' must be >= 1; got 0"):
        Evaluator("hits@0")
    with pytest.raises(ValueError, match="metric must be one of"):
        Evaluator("hits@20.5")
    with pytest.raises(TypeError, match="metric must be a string"):
        Evaluator(20)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_tasks must be >= 1"):
        Evaluator("rocauc", num_tasks=0)


def test_attributes_and_repr() -> None:
    assert [Evaluator(m if m != "hits@K" else "hits@5").higher_is_better for m in METRICS] == [
        True,
        True,
        True,
        True,
        False,
        False,
        True,
        True,
        True,
    ]
    evaluator = Evaluator("Hits@50")
    assert (evaluator.metric, evaluator.k) == ("hits@50", 50)
    assert Evaluator("mrr").k is None
    assert repr(evaluator) == "Evaluator(metric='hits@50')"
    assert repr(Evaluator("ap", num_tasks=128)) == "Evaluator(metric='ap', num_tasks=128)"


@pytest.mark.parametrize("metric", ["hits@20", "mrr", "rocauc", "ap", "rmse", "mae", "acc", "F1"])
def test_formats_describe_the_keys(metric: str) -> None:
    evaluator = Evaluator(metric)
    text_in, text_out = evaluator.expected_input_format, evaluator.expected_output_format
    keys_in = {"F1": ["seq_ref", "seq_pred"], "hits@20": ["y_pred_pos", "y_pred_neg"]}
    keys_in["mrr"] = keys_in["hits@20"]
    for key in keys_in.get(metric, ["y_true", "y_pred"]):
        assert f"'{key}'" in text_in
    assert f"'{metric}'" in text_out
    assert metric in text_in.splitlines()[0]


def tied(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return (torch.randn(*shape, generator=gen) * 3).round() / 3


def binary_labels(gen: torch.Generator, n: int, t: int) -> torch.Tensor:
    labels = (torch.rand(n, t, generator=gen) < 0.3).double()
    labels[torch.rand(n, t, generator=gen) < 0.2] = math.nan
    return labels


def ogb_cases(numpy: bool) -> list[tuple[str, Any, dict[str, Any]]]:
    gen = torch.Generator().manual_seed(int(numpy))
    cases: list[tuple[str, Any, dict[str, Any]]] = []
    for name in ("ogbl-ddi", "ogbl-collab", "ogbl-ppa"):
        inputs = {"y_pred_pos": tied(gen, 300) + 1, "y_pred_neg": tied(gen, 2000)}
        cases.append((name, LinkEvaluator(name), inputs))
    vessel = {"y_pred_pos": tied(gen, 300) + 0.5, "y_pred_neg": tied(gen, 500)}
    cases.append(("ogbl-vessel", LinkEvaluator("ogbl-vessel"), vessel))
    for name, tasks in (("ogbg-molhiv", 1), ("ogbg-molpcba", 128), ("ogbg-moltox21", 12)):
        graph = {"y_true": binary_labels(gen, 200, tasks), "y_pred": tied(gen, 200, tasks)}
        cases.append((name, GraphEvaluator(name), graph))
    proteins = {"y_true": binary_labels(gen, 100, 112), "y_pred": tied(gen, 100, 112)}
    cases.append(("ogbn-proteins", NodeEvaluator("ogbn-proteins"), proteins))
    y_true = tied(gen, 100, 1).double()
    y_true[::7] = math.nan
    cases.append(
        (
            "ogbg-molesol",
            GraphEvaluator("ogbg-molesol"),
            {"y_true": y_true, "y_pred": tied(gen, 100, 1)},
        )
    )
    classes = torch.randint(0, 4, (300, 1), generator=gen)
    guess = torch.randint(0, 4, (300, 1), generator=gen)
    cases.append(("ogbg-ppa", GraphEvaluator("ogbg-ppa"), {"y_true": classes, "y_pred": guess}))
    cases.append(("ogbn-arxiv", NodeEvaluator("ogbn-arxiv"), {"y_true": classes, "y_pred": guess}))
    if numpy:
        cases = [(n, ref, {k: v.numpy() for k, v in inputs.items()}) for n, ref, inputs in cases]
    refs = [["get", "name"], ["set"], [], ["to", "string", "to"]]
    preds = [["get"], ["set", "id"], ["x"], ["string", "to"]]
    cases.append(("ogbg-code2", GraphEvaluator("ogbg-code2"), {"seq_ref": refs, "seq_pred": preds}))
    return cases


@pytest.mark.parametrize("numpy", [False, True], ids=["torch", "numpy"])
def test_evaluator_equals_ogb_on_each_dataset(numpy: bool) -> None:
    for name, reference, inputs in ogb_cases(numpy):
        expected = reference.eval(inputs)
        # Keyed by the metric, or by the dataset's name as OGB's evaluators are.
        for ours in (Evaluator(OGB_METRICS[name]).eval(inputs), Evaluator(name).eval(inputs)):
            assert set(ours) == set(expected), name
            for key, value in expected.items():
                assert type(ours[key]) is float, name
                assert close(ours[key], value), (name, key, ours[key], value)


def test_evaluator_mrr_returns_ogbs_lists_and_their_means() -> None:
    gen = torch.Generator().manual_seed(0)
    inputs = {"y_pred_pos": tied(gen, 400), "y_pred_neg": tied(gen, 400, 50)}
    expected = LinkEvaluator("ogbl-citation2").eval(inputs)
    ours = Evaluator("mrr")(inputs)
    lists = {"mrr_list", "hits@1_list", "hits@3_list", "hits@10_list"}
    assert set(ours) == {"mrr", "hits@1", "hits@3", "hits@10"} | lists
    assert set(expected) == lists
    for key in lists:  # OGB's per-positive lists, bit for bit (float32)
        assert ours[key].dtype == expected[key].dtype == torch.float32
        assert torch.equal(ours[key], expected[key]), key
    # OGB's lists are float32, so their mean agrees to float32 precision only.
    assert ours["mrr"] == pytest.approx(float(expected["mrr_list"].double().mean()), rel=1e-6)
    for k in (1, 3, 10):
        assert type(ours[f"hits@{k}"]) is float
        assert ours[f"hits@{k}"] == int(expected[f"hits@{k}_list"].sum()) / 400
    # numpy in, numpy lists out (OGB's own numpy path fails on MRR: it calls .sum(dim=1)).
    numpy_inputs = {key: value.numpy() for key, value in inputs.items()}
    from_numpy = Evaluator("mrr")(numpy_inputs)
    for key in ours:
        if key in lists:
            assert isinstance(from_numpy[key], np.ndarray)
            assert from_numpy[key].dtype == np.float32
            assert np.array_equal(from_numpy[key], expected[key].numpy()), key
        else:
            assert from_numpy[key] == ours[key]
    # OGB's idiom: average the concatenated lists of several batches.
    halves = [
        Evaluator("ogbl-citation2").eval({k: v[i : i + 200] for k, v in inputs.items()})
        for i in (0, 200)
    ]
    merged = torch.cat([half["mrr_list"] for half in halves])
    assert torch.equal(merged, expected["mrr_list"])


def test_evaluator_takes_read_only_and_strided_numpy_arrays() -> None:
    pos = np.array([3.0, 2.0, 1.0, 0.0])[::-1]  # negative strides
    neg = np.array([1.5, 0.5])
    neg.flags.writeable = False
    assert Evaluator("hits@1")({"y_pred_pos": pos, "y_pred_neg": neg}) == {"hits@1": 0.5}
    y_true = np.array([[0.0], [1.0]])
    y_true.flags.writeable = False
    assert Evaluator("rocauc")({"y_true": y_true, "y_pred": np.array([[0.2], [0.4]])}) == {
        "rocauc": 1.0
    }


def test_evaluator_input_errors_name_the_key() -> None:
    hits = Evaluator("hits@20")
    with pytest.raises(KeyError, match="input_dict is missing the key 'y_pred_neg'"):
        hits({"y_pred_pos": torch.zeros(3)})
    with pytest.raises(
        TypeError, match=r"input_dict\['y_pred_pos'\] must be a torch.Tensor or a numpy"
    ):
        hits({"y_pred_pos": [1.0], "y_pred_neg": torch.zeros(3)})
    with pytest.raises(ValueError, match="neg must have 1 dimension"):
        hits({"y_pred_pos": torch.zeros(3), "y_pred_neg": torch.zeros(3, 20)})
    with pytest.raises(TypeError, match="input_dict must be a dict"):
        hits([torch.zeros(3)])  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="'y_true'"):
        Evaluator("rmse")({"y_pred": torch.zeros(3)})
    with pytest.raises(
        ValueError, match=r"y_true must have num_tasks=128 columns; got shape \(5, 1\)"
    ):
        Evaluator("ap", num_tasks=128)({"y_true": torch.zeros(5, 1), "y_pred": torch.zeros(5, 1)})
    with pytest.raises(ValueError, match="y_pred_neg must have 1 dimension for link ROC-AUC"):
        Evaluator("rocauc")({"y_pred_pos": torch.zeros(3), "y_pred_neg": torch.zeros(3, 2)})
    with pytest.raises(ValueError, match="y_pred_pos must be finite"):
        Evaluator("rocauc")({"y_pred_pos": torch.tensor([math.inf]), "y_pred_neg": torch.zeros(3)})


def test_every_registered_dataset_has_an_evaluator() -> None:
    from graphpair.data import DATASETS

    for spec in DATASETS:
        evaluator = Evaluator.from_dataset(spec.name)
        assert evaluator.metric == spec.metric
    assert Evaluator.from_dataset("ogbg_molpcba").num_tasks == 128
    assert Evaluator.from_dataset("OGBL-DDI").metric == "hits@20"
    with pytest.raises(ValueError, match="unknown dataset"):
        Evaluator.from_dataset("cora3")


@pytest.mark.parametrize("name", ["ogbl-ddi", "ogbl-collab", "ogbl-ppa"])
@pytest.mark.parametrize("k", [1, 20, 50, 100, 300])
def test_setting_k_works_as_in_ogbs_link_examples(name: str, k: int) -> None:
    gen = torch.Generator().manual_seed(k)
    inputs = {"y_pred_pos": tied(gen, 200) + 1, "y_pred_neg": tied(gen, 1000)}
    reference, ours = LinkEvaluator(name), Evaluator(name)
    assert ours.K == reference.K
    reference.K = k
    ours.K = k
    expected = reference.eval(inputs)
    result = ours.eval(inputs)
    assert result == expected == {f"hits@{k}": expected[f"hits@{k}"]}
    assert (ours.metric, ours.k, repr(ours)) == (
        f"hits@{k}",
        k,
        f"Evaluator(name={name!r}, metric='hits@{k}')",
    )
    assert f"hits@{k}" in ours.expected_output_format


def test_k_is_checked_and_belongs_to_hits_evaluators() -> None:
    evaluator = Evaluator("hits@20")
    evaluator.k = 3  # the lower-case spelling is the same attribute
    assert (evaluator.K, evaluator.metric) == (3, "hits@3")
    with pytest.raises(ValueError, match="K must be >= 1; got 0"):
        evaluator.K = 0
    with pytest.raises(TypeError, match="K must be an int; got"):
        evaluator.K = 2.5  # type: ignore[assignment]
    assert evaluator.K == 3
    with pytest.raises(ValueError, match="K applies to a 'hits@K' evaluator; this one is 'mrr'"):
        Evaluator("ogbl-citation2").K = 50
    assert Evaluator("rocauc").K is None


@pytest.mark.parametrize(
    "name",
    ["ogbl-ddi", "ogbl-collab", "ogbl-ppa", "ogbl-citation2", "ogbl-vessel", "ogbg-molhiv"],
)
def test_dataset_names_construct_the_datasets_evaluator_as_ogb_does(name: str) -> None:
    reference = (GraphEvaluator if name.startswith("ogbg") else LinkEvaluator)(name)
    for evaluator in (Evaluator(name), Evaluator(name=name), Evaluator(name.upper())):
        assert evaluator.name == name
        assert evaluator.metric == evaluator.eval_metric == reference.eval_metric
        assert getattr(reference, "K", None) == evaluator.K
    gen = torch.Generator().manual_seed(len(name))
    if name.startswith("ogbg"):
        inputs: dict[str, Any] = {"y_true": binary_labels(gen, 50, 1), "y_pred": tied(gen, 50, 1)}
    elif name == "ogbl-citation2":
        inputs = {"y_pred_pos": tied(gen, 60), "y_pred_neg": tied(gen, 60, 30)}
    else:
        inputs = {"y_pred_pos": tied(gen, 60), "y_pred_neg": tied(gen, 500)}
    expected, ours = reference.eval(inputs), Evaluator(name).eval(inputs)
    assert set(expected) <= set(ours)  # the same output keys (MRR adds the lists' means)
    for key, value in expected.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(ours[key], value), key
        else:
            assert close(ours[key], value), key


def test_dataset_names_set_the_task_count_and_graphpair_names_work() -> None:
    assert Evaluator("ogbg-molpcba").num_tasks == 128
    assert repr(Evaluator("ogbg-molpcba")) == (
        "Evaluator(name='ogbg-molpcba', metric='ap', num_tasks=128)"
    )
    assert Evaluator("ogbg-molpcba", num_tasks=3).num_tasks == 3  # an explicit count wins
    assert Evaluator("ogbl-ddi").num_tasks is None
    assert (Evaluator("karate").name, Evaluator("karate").metric) == ("karate", "rocauc")
    assert Evaluator("cora").metric == "hits@100"
    with pytest.raises(ValueError, match=r"or a dataset name: OGB's .*got 'ogbl-nope'"):
        Evaluator("ogbl-nope")
    with pytest.raises(TypeError, match="Evaluator takes a metric or a dataset name"):
        Evaluator()
    with pytest.raises(TypeError, match="Evaluator takes a metric or a dataset name"):
        Evaluator("mrr", name="ogbl-citation2")


@pytest.mark.parametrize("numpy", [False, True], ids=["torch", "numpy"])
def test_fewer_negatives_than_k_keeps_ogbs_value_and_warns(numpy: bool) -> None:
    from graphpair.metrics import SmallPoolWarning

    gen = torch.Generator().manual_seed(3)
    inputs: dict[str, Any] = {"y_pred_pos": tied(gen, 40), "y_pred_neg": tied(gen, 49)}
    if numpy:
        inputs = {key: value.numpy() for key, value in inputs.items()}
    reference = LinkEvaluator("ogbl-ppa")  # K = 100
    with pytest.warns(SmallPoolWarning) as caught:
        ours = Evaluator("ogbl-ppa").eval(inputs)
    assert ours == reference.eval(inputs) == {"hits@100": 1.0}
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "only 49 negatives, fewer than K = 100" in message
    assert "'rocauc'" in message
    # K at most the pool size: no warning (the filter turns any warning into an error).
    evaluator = Evaluator("hits@49")
    reference.K = 49
    assert evaluator.eval(inputs) == reference.eval(inputs)


@given(
    pos=score_lists(1, 30),
    neg=score_lists(0, 60),
    k=st.integers(1, 80),
    numpy=st.booleans(),
)
def test_k_set_after_construction_equals_ogbs_on_any_scores(
    pos: list[float], neg: list[float], k: int, numpy: bool
) -> None:
    inputs: dict[str, Any] = {"y_pred_pos": as_tensor(pos), "y_pred_neg": as_tensor(neg)}
    if numpy:
        inputs = {key: value.numpy() for key, value in inputs.items()}
    reference, ours = LinkEvaluator("ogbl-ddi"), Evaluator("ogbl-ddi")
    reference.K = ours.K = k
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallPoolWarning)  # checked in its own test
        assert ours.eval(inputs) == reference.eval(inputs)
