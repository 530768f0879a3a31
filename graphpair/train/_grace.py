"""GRACE pre-training (Zhu et al. 2020) and the linear probe that scores its representations.

``graphpair pretrain --dataset cora`` runs :func:`train_grace`: two stochastic views per epoch
(edge dropping and feature-column masking), :func:`graphpair.losses.grace` between their
projections, then a linear probe on the frozen representations.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair._validation import check_tensor, describe
from graphpair.data import load_dataset
from graphpair.losses import grace
from graphpair.nn.encoders._grace import GRACEEncoder, drop_feature
from graphpair.train._artifact import check_output_folder, run_folder
from graphpair.train._config import ConfigError
from graphpair.train._deterministic import honour_deterministic
from graphpair.train._grace_config import GRACE_CONFIGS, GRACEConfig, grace_config
from graphpair.train._model_saving import save_encoder
from graphpair.train._results import Selection

__all__ = [
    "GRACE_CONFIGS",
    "GRACEConfig",
    "GRACEResult",
    "build_grace_encoder",
    "grace_config",
    "grace_features",
    "linear_probe",
    "train_grace",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GRACEResult:
    """Per-run probe accuracies (valid, test), losses and timing of :func:`train_grace`.

    Attributes:
        config: the configuration that produced it.
        valid: probe validation accuracy of every run (a fraction).
        test: probe test accuracy of every run, at the penalty chosen on validation.
        final_loss: the GRACE loss of every run's last epoch.
        seconds_per_epoch: mean training time of an epoch over every run.
        num_parameters: trainable parameters of the encoder and projection head.

    Example:
        >>> config = grace_config("default")
        >>> result = GRACEResult(config, (0.70, 0.72), (0.69, 0.71), (5.1, 5.0), 0.5, 1000)
        >>> result.summary()  # test accuracy x100: mean, population std
        (70.0, 1.0)
    """

    config: GRACEConfig
    valid: tuple[float, ...]
    test: tuple[float, ...]
    final_loss: tuple[float, ...]
    seconds_per_epoch: float
    num_parameters: int

    def summary(self) -> tuple[float, float]:
        """Test accuracy ×100: mean and population standard deviation over runs."""
        values = [100 * v for v in self.test]
        return statistics.mean(values), statistics.pstdev(values)


def _probe_split(data: Any, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """The dataset's public node split, or Planetoid's recipe drawn from ``generator``: 20
    training nodes per class, 500 validation and 1,000 test nodes among the rest."""
    if all(hasattr(data, m) for m in ("train_mask", "val_mask", "test_mask")):
        return data.train_mask, data.val_mask, data.test_mask
    y: Tensor = data.y
    n = y.numel()
    train = torch.zeros(n, dtype=torch.bool)
    for label in torch.unique(y).tolist():
        members = (y == label).nonzero().view(-1)
        chosen = members[torch.randperm(members.numel(), generator=generator)[:20]]
        train[chosen] = True
    rest = (~train).nonzero().view(-1)
    rest = rest[torch.randperm(rest.numel(), generator=generator)]
    valid = torch.zeros(n, dtype=torch.bool)
    test = torch.zeros(n, dtype=torch.bool)
    valid[rest[:500]] = True
    test[rest[500:1500]] = True
    return train, valid, test


def build_grace_encoder(config: GRACEConfig, in_channels: int) -> GRACEEncoder:
    """The :class:`~graphpair.nn.encoders.GRACEEncoder` of a GRACE run (with its projection head).

    Args:
        config: The run configuration (widths, depth, activation).
        in_channels: Node feature width ``F``.

    Example:
        >>> encoder = build_grace_encoder(grace_config("default", hidden_channels=8), 5)
        >>> encoder(torch.randn(3, 5), torch.tensor([[0, 1], [1, 2]])).shape
        torch.Size([3, 8])
    """
    return GRACEEncoder(
        in_channels,
        config.hidden_channels,
        config.proj_channels,
        num_layers=config.num_layers,
        activation=config.activation,
    )


def grace_features(config: GRACEConfig, x: Tensor) -> Tensor:
    """The node features a GRACE encoder reads: float, row-normalised (each row divided by
    its sum, rows summing to less than 1 left as they are) with ``config.normalize_features``.

    Args:
        config: The run configuration.
        x: Node features ``[N, F]``.

    Example:
        >>> grace_features(grace_config("default"), torch.tensor([[1, 3], [0, 0]]))
        tensor([[0.2500, 0.7500],
                [0.0000, 0.0000]])
    """
    x = x.float()
    if config.normalize_features:
        x = x / x.sum(1, keepdim=True).clamp_min(1.0)
    return x


#: L2 penalties tried by :func:`linear_probe` (2^-14 .. 1).
PROBE_WEIGHT_DECAYS = tuple(2.0**e for e in range(-14, 1))


def _fit_logistic(x: Tensor, y: Tensor, num_classes: int, decay: float, max_iter: int) -> Tensor:
    """Weights ``[D + 1, C]`` (bias last) of an L2-penalised softmax regression, L-BFGS."""
    xb = torch.cat([x, torch.ones(x.size(0), 1, dtype=x.dtype)], 1)  # [n, D + 1]
    weight = torch.zeros(xb.size(1), num_classes, dtype=x.dtype, requires_grad=True)
    opt = torch.optim.LBFGS(
        [weight], max_iter=max_iter, line_search_fn="strong_wolfe", tolerance_grad=1e-9
    )

    def closure() -> Tensor:
        opt.zero_grad()
        penalty = 0.5 * decay * weight[:-1].pow(2).sum()  # the bias is not penalised
        loss = F.cross_entropy(xb @ weight, y) + penalty
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    return weight.detach()


def linear_probe(
    z: Tensor,
    y: Tensor,
    train_mask: Tensor,
    valid_mask: Tensor,
    test_mask: Tensor,
    *,
    weight_decays: tuple[float, ...] = PROBE_WEIGHT_DECAYS,
    max_iter: int = 200,
) -> tuple[float, float]:
    """Multinomial logistic regression on frozen representations: the L2 penalty with the best
    validation accuracy is kept; returns ``(valid accuracy, test accuracy)``.

    The probe minimises :math:`\\frac{1}{n}\\sum_i \\mathrm{CE}(W z_i + b, y_i) +
    \\frac{\\lambda}{2}\\lVert W\\rVert^2` with L-BFGS in float64 on the training rows
    (L2-normalised, as GRACE's evaluation), for each :math:`\\lambda` in ``weight_decays``.

    Args:
        z: Frozen node representations.
        y: Class of every node.
        train_mask: Rows the probe is fitted on (not empty).
        valid_mask: Rows that choose the penalty (not empty).
        test_mask: Rows of the reported test accuracy (0.0 when empty).
        weight_decays: Penalties :math:`\\lambda` to try.
        max_iter: L-BFGS iterations per fit.

    Shapes:
        - z: ``[N, D]``; y: ``[N]``; masks: ``[N]`` bool

    Example:
        >>> z = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.8, 0.2],
        ...                   [0.2, 0.8]])
        >>> y = torch.tensor([0, 0, 1, 1, 0, 1])
        >>> train = torch.tensor([True, True, True, True, False, False])
        >>> valid = torch.tensor([False, False, False, False, True, False])
        >>> test = torch.tensor([False, False, False, False, False, True])
        >>> linear_probe(z, y, train, valid, test, weight_decays=(0.01,))
        (1.0, 1.0)
    """
    check_tensor("z", z, dim=2, floating=True)
    for name, mask in (("train_mask", train_mask), ("valid_mask", valid_mask)):
        if mask.dtype != torch.bool or mask.shape != (z.size(0),) or not bool(mask.any()):
            raise ValueError(
                f"{name} must be a non-empty bool mask of length {z.size(0)}; got {describe(mask)}"
            )
    if y.shape != (z.size(0),):
        raise ValueError(f"y must have one label per row of z ({z.size(0)}); got {describe(y)}")
    x = F.normalize(z.detach().double().cpu(), dim=1)
    y = y.cpu()
    num_classes = int(y.max()) + 1
    train = train_mask.cpu()
    xb = torch.cat([x, torch.ones(x.size(0), 1, dtype=x.dtype)], 1)
    best = (-1.0, 0.0)
    for decay in weight_decays:
        weight = _fit_logistic(x[train], y[train], num_classes, decay, max_iter)
        correct = (xb @ weight).argmax(1) == y
        valid = float(correct[valid_mask.cpu()].double().mean())
        test = float(correct[test_mask.cpu()].double().mean()) if bool(test_mask.any()) else 0.0
        if valid > best[0]:
            best = (valid, test)
    return best


@honour_deterministic
def train_grace(
    config: GRACEConfig, *, save_model: str | os.PathLike[str] | None = None
) -> GRACEResult:
    """GRACE pre-training and linear-probe evaluation, ``config.runs`` times.

    Each epoch draws two views (edges dropped with ``drop_edge_*``, feature columns masked
    with ``drop_feature_*``), encodes both and minimises :func:`graphpair.losses.grace` between
    their projections. Then the frozen representations of the full graph are probed
    (:func:`linear_probe`) on the dataset's public split, or Planetoid's recipe if it has none.
    Seeded per run; bit-reproducible on one CPU thread, and at any thread count with
    ``config.deterministic``.

    Args:
        config: The run configuration (see :func:`grace_config`).
        save_model: A folder to save every run's encoder in after its last epoch
            (``run-<seed>``), with the graph it embeds, for :func:`graphpair.load_model`
            (:class:`~graphpair.train.SavedEncoder`).

    Raises:
        ConfigError: The device is unavailable, the dataset lacks node features or labels,
            or ``save_model`` is a file (``field='save_model'``, checked before anything is
            loaded or trained).

    Example:
        One epoch on the embedded default graph. Not run as a doctest: the probe fits 15
        L-BFGS models, several seconds on a CPU.

        >>> result = train_grace(grace_config("default", epochs=1))  # doctest: +SKIP
        >>> len(result.test), 0.0 <= result.test[0] <= 1.0  # doctest: +SKIP
        (1, True)
    """
    if not isinstance(config, GRACEConfig):
        raise TypeError(f"config must be a GRACEConfig; got {type(config).__name__}")
    check_output_folder("save_model", save_model)
    from torch_geometric.utils import dropout_edge

    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", f"device {config.device!r} is not available here")
    data = load_dataset(
        config.dataset, config.data_root, cache=config.cache, download=config.download
    ).data
    if getattr(data, "x", None) is None or getattr(data, "y", None) is None:
        raise ConfigError(
            "dataset", f"dataset {config.dataset!r} needs node features and node labels for GRACE"
        )
    x = grace_features(config, data.x).to(device)
    edge_index = data.edge_index.to(device)
    valid_acc, test_acc, losses, seconds = [], [], [], []
    num_parameters = 0
    for run in range(config.runs):
        seed = config.seed + run
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        model = build_grace_encoder(config, x.size(1)).to(device)
        num_parameters = sum(p.numel() for p in model.parameters())
        optimizer = torch.optim.Adam(
            model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        start = time.perf_counter()
        loss = torch.zeros(())
        for epoch in range(1, config.epochs + 1):
            model.train()
            optimizer.zero_grad()
            views = []
            for p_edge, p_feature in (
                (config.drop_edge_1, config.drop_feature_1),
                (config.drop_edge_2, config.drop_feature_2),
            ):
                kept = dropout_edge(edge_index, p=p_edge)[0]
                views.append(
                    model.project(model(drop_feature(x, p_feature, generator=generator), kept))
                )
            loss = grace(views[0], views[1], temperature=config.temperature)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            if epoch % 50 == 0 or epoch == config.epochs:
                log.info(
                    "run %d seed %d epoch %d: loss %.4f", run, seed, epoch, float(loss.detach())
                )
        seconds.append((time.perf_counter() - start) / config.epochs)
        model.eval()
        with torch.no_grad():
            z = model(x, edge_index)
        split = _probe_split(data, torch.Generator().manual_seed(seed))
        valid, test = linear_probe(z, data.y, *split)
        valid_acc.append(valid)
        test_acc.append(test)
        losses.append(float(loss.detach()))
        if save_model is not None:
            save_encoder(
                run_folder(save_model, seed),
                config=config,
                model=model,
                selection=Selection(config.epochs, valid, test),
                seed=seed,
                loss=losses[-1],
                x=data.x.float(),
                edge_index=data.edge_index,
            )
    return GRACEResult(
        config=config,
        valid=tuple(valid_acc),
        test=tuple(test_acc),
        final_loss=tuple(losses),
        seconds_per_epoch=statistics.median(seconds),
        num_parameters=num_parameters,
    )
