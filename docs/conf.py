"""Sphinx configuration of the graphpair documentation (see docs/README.md for the choice).

Built by the README's test command with warnings as errors and nitpicky references
(``sphinx-build -W -n``), so a broken cross-reference, a stale ``__all__`` entry or a
malformed docstring fails CI.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import graphpair  # noqa: E402

project = "graphpair"
author = "graphpair developers"
copyright = "2026, graphpair developers"
release = graphpair.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "graphpair_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md", "**/*.tmp", "_ext"]

# Markdown pages: $...$ math, heading anchors for in-page and cross-page links.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "attrs_inline"]
myst_heading_anchors = 4

# Docstrings are Google style with PyG's extra "Shapes" section.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = ["Shapes"]  # a titled section, shown as written (bullets, prose)
napoleon_use_rtype = False
# Attributes as :ivar: fields: dataclass fields are also documented as members, and two
# attribute directives for one field would be a duplicate-object warning.
napoleon_use_ivar = True
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False
autodoc_default_options = {"undoc-members": False}

# Nitpicky mode checks every cross-reference; references into torch, PyG and the standard
# typing machinery have no inventory offline (no intersphinx without network), so those,
# and only those, are ignored.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(torch|torch_geometric|numpy|np|pandas|networkx|nx|matplotlib|ogb)(\..*)?"),
    (r"py:.*", r"(Tensor|Module|Parameter|Data|Batch|Dataset|InMemoryDataset|BaseTransform)"),
    (r"py:.*", r"(MessagePassing|Generator|DataLoader|ndarray|Graph|DiGraph|Figure)"),
    (r"py:.*", r"(typing|collections\.abc|os|pathlib|argparse|logging|dataclasses)\..*"),
    (r"py:.*", r"(Path|PathLike|Any|Callable|Iterable|Iterator|Mapping|Sequence|Literal)"),
    (r"py:.*", r"(Protocol|TypeAlias|Self|NamedTuple|Enum|IO|TextIO|BinaryIO)"),
    (r"py:.*", r"(int|float|str|bool|bytes|dict|list|tuple|set|frozenset|object|type|None)"),
    (r"py:.*", r"(ValueError|TypeError|RuntimeError|KeyError|OSError|Exception|Warning)"),
    (r"py:.*", r"(UserWarning|FileNotFoundError|PermissionError|optional|callable)"),
    (r"py:.*", r"(device|dtype|Size|T|_T|P)"),
]
# Internal classes that appear only in annotations of public ones (built for the user by
# build_graph_model, the registry and the predictors), so they have no page to link to.
nitpick_ignore = [
    ("py:class", "graphpair.nn.link._common.Stack"),
    ("py:class", "graphpair.data._dataset.LoadOptions"),
    ("py:class", "FeatureEncoder"),
    ("py:class", "MLPReadout"),
]

html_theme = "furo"
html_title = f"graphpair {release}"
html_static_path: list[str] = []
