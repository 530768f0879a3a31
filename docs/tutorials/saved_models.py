"""Train on an edge list, save the model, reload it in a fresh process and recommend links.

What this tutorial teaches:

1. ``graphpair link --edge-list FILE --save-model DIR`` (here through ``graphpair.cli.main``)
   trains a link predictor on your own graph and saves the model of each run's selected
   epoch to ``DIR/run-<seed>``: the weights as tensors (no pickled code), the training graph
   with its node names, and a JSON manifest with the configuration, the metrics and a
   fingerprint of the graph;
2. ``graphpair recommend DIR/run-0 --nodes NAME --k 5`` and ``graphpair predict DIR/run-0
   --pairs FILE`` apply it from the command line, in a new process;
3. ``graphpair.load_model`` gives the same model in Python: ``score`` pairs, ``embed`` the
   nodes, ``recommend`` top-K new links, with node names.

Without ``--edges`` the script uses the co-appearance graph of the characters of Les
Misérables (networkx), written with a commented header: ``python
docs/tutorials/saved_models.py`` takes about 10 s on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import networkx as nx
import torch

from graphpair import load_model
from graphpair.cli import main as graphpair_main


def write_sample_edge_list(folder: Path) -> Path:
    """Les Misérables as a CSV of character names, with a commented header."""
    path = folder / "miserables.csv"
    with path.open("w") as handle:
        handle.write("# character_a,character_b\n")  # a header must be a comment: see own_edge_list
        for u, v in nx.les_miserables_graph().edges():
            handle.write(f"{u},{v}\n")
    return path


def graphpair(*args: str) -> str:
    """``graphpair ARGS`` in a new Python process (as a user types it); its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "graphpair", *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=Path, default=None, help="your edge list (csv/tsv/txt)")
    parser.add_argument("--node", default="Valjean", help="whose links to recommend")
    parser.add_argument("--epochs", type=int, default=30)
    # Training is a fraction of a second here; the run's cost is starting the processes.
    parser.add_argument("--quick", action="store_true", help="the tests' run (same settings)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        edges = args.edges or write_sample_edge_list(folder)
        models = folder / "models"
        # ---- 1. train and save -----------------------------------------------------------
        graphpair_main(
            [
                "link",
                "--edge-list",
                str(edges),
                "--predictor",
                "ncn",
                "--epochs",
                str(args.epochs),
                # Hits@100 counts every positive of a graph with under 100 negatives: select
                # and report on ROC-AUC instead.
                "--metrics",
                "rocauc,hits@20",
                "--metric",
                "rocauc",
                "--save-model",
                str(models),
                "--quiet",
            ]
        )
        run = models / "run-0"
        manifest = json.loads((run / "manifest.json").read_text())
        print(
            f"saved {sorted(p.name for p in run.iterdir())}; selected epoch "
            f"{manifest['metrics']['epoch']}, test {manifest['metrics']['metric']} "
            f"{manifest['metrics']['test']:.4f}"
        )

        # ---- 2. a new process: the command line ------------------------------------------
        table = graphpair("recommend", str(run), "--nodes", args.node, "--k", "5")
        print(table)
        from_cli = [
            (row["target"], float(row["score"])) for row in csv.DictReader(io.StringIO(table))
        ]
        pairs = folder / "pairs.csv"
        pairs.write_text(f"{args.node},{from_cli[0][0]}\n")
        scored = list(
            csv.DictReader(io.StringIO(graphpair("predict", str(run), "--pairs", str(pairs))))
        )

        # ---- 3. Python -------------------------------------------------------------------
        model = load_model(run)
        found = model.recommend([args.node], k=5)
        assert model.node_ids is not None
        in_python = [
            (str(model.node_ids[int(t)]), float(s))
            for t, s in zip(found.target[0], found.score[0], strict=True)
        ]
        h = model.embed()
        print(f"load_model: {model}; embeddings {tuple(h.shape)}")
        print(f"suggested for {args.node}: {[name for name, _ in in_python]}")
        return {
            "node": args.node,
            "manifest_metrics": manifest["metrics"],
            "cli_suggestions": from_cli,
            "python_suggestions": in_python,
            "cli_pair_score": float(scored[0]["score"]),
            "python_pair_score": float(
                model.score(model.node_index([args.node, from_cli[0][0]]).view(2, 1))[0]
            ),
            "embedding_shape": tuple(h.shape),
            "num_nodes": model.num_nodes,
            "finite": bool(torch.isfinite(h).all()),
        }


if __name__ == "__main__":
    main()
