from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import ogb.graphproppred
import ogb.linkproppred
import ogb.nodeproppred
import pytest
import torch

from graphpair.metrics import METRICS, OGB_METRICS, Evaluator
from tests.metrics.oracle import GraphEvaluator, LinkEvaluator, NodeEvaluator, close


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
        ours = Evaluator(OGB_METRICS[name]).eval(inputs)
        assert set(ours) == set(expected), name
        for key, value in expected.items():
            assert type(ours[key]) is float, name
            assert close(ours[key], value), (name, key, ours[key], value)


def test_evaluator_mrr_equals_means_of_ogb_lists() -> None:
    gen = torch.Generator().manual_seed(0)
    inputs = {"y_pred_pos": tied(gen, 400), "y_pred_neg": tied(gen, 400, 50)}
    expected = LinkEvaluator("ogbl-citation2").eval(inputs)
    ours = Evaluator("mrr")(inputs)
    assert set(ours) == {"mrr", "hits@1", "hits@3", "hits@10"}
    # OGB's lists are float32, so their mean agrees to float32 precision only.
    assert ours["mrr"] == pytest.approx(float(expected["mrr_list"].double().mean()), rel=1e-6)
    for k in (1, 3, 10):
        assert ours[f"hits@{k}"] == int(expected[f"hits@{k}_list"].sum()) / 400
    numpy_inputs = {key: value.numpy() for key, value in inputs.items()}
    assert Evaluator("mrr")(numpy_inputs) == ours


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
