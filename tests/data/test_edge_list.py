from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import graphpair.data._edge_file as edge_file
from graphpair.data import from_edge_list, read_edge_list, symmetrize


def test_integer_edges_are_symmetrised_and_cleaned() -> None:
    data = from_edge_list(torch.tensor([[0, 1, 1, 2, 2], [1, 0, 2, 2, 3]]), num_nodes=5)
    assert data.num_nodes == 5
    assert data.edge_index.tolist() == [[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]


def test_named_nodes_and_directed_mode() -> None:
    data = from_edge_list([("b", "a"), ("a", "c"), ("a", "c")], directed=True)
    assert data.node_ids == ["b", "a", "c"]
    assert data.edge_index.tolist() == [[0, 1], [1, 2]]


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match="num_nodes=2 is too small"):
        from_edge_list([(0, 5)], num_nodes=2)
    with pytest.raises(ValueError, match="non-negative"):
        from_edge_list(torch.tensor([[0, -1], [1, 2]]))
    with pytest.raises(ValueError, match="x must have num_nodes=4 rows"):
        from_edge_list([(0, 1)], num_nodes=4, x=torch.zeros(3, 2))
    with pytest.raises(ValueError, match="shape"):
        from_edge_list(torch.zeros(3, 3, dtype=torch.long))


@given(
    st.integers(1, 40),
    st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=120),
    st.booleans(),
)
def test_from_edge_list_matches_symmetrize_and_unique(
    num_nodes: int, pairs: list[tuple[int, int]], directed: bool
) -> None:
    pairs = [(u % num_nodes, v % num_nodes) for u, v in pairs]
    tensor = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()
    data = from_edge_list(tensor, num_nodes=num_nodes, directed=directed)
    if directed:
        expected = sorted({(u, v) for u, v in pairs if u != v})
        assert data.edge_index.t().tolist() == [list(p) for p in expected]
    else:
        assert torch.equal(data.edge_index, symmetrize(tensor, num_nodes))
    assert data.edge_index.dtype == torch.long


# ---------------------------------------------------------------------- the oracle


def naive_read(
    text: str, delimiter: str | None, has_header: bool, directed: bool
) -> tuple[int, list[tuple[int, int]], list[str] | None]:
    """The documented rules, line by line in Python: ``(N, sorted edges, node ids)``."""
    rows = []
    for line in text.lstrip("\ufeff").splitlines():
        if not line.strip() or line.lstrip(" \t").startswith(("#", "%")):
            continue
        fields = line.split() if delimiter is None else line.split(delimiter)
        rows.append((fields[0].strip(), fields[1].strip()))
    if has_header:
        rows = rows[1:]
    if all(re.fullmatch(r"[+-]?\d+", f) for row in rows for f in row):
        pairs = [(int(u), int(v)) for u, v in rows]
        num_nodes = 1 + max((max(p) for p in pairs), default=-1)
        ids = None
    else:
        index: dict[str, int] = {}
        for u, v in rows:
            index.setdefault(u, len(index))
            index.setdefault(v, len(index))
        pairs = [(index[u], index[v]) for u, v in rows]
        num_nodes, ids = len(index), list(index)
    edges = {(u, v) for u, v in pairs if u != v}
    if not directed:
        edges |= {(v, u) for u, v in edges}
    return num_nodes, sorted(edges), ids


def _edges(data: object) -> list[tuple[int, int]]:
    return [(u, v) for u, v in data.edge_index.t().tolist()]  # type: ignore[attr-defined]


@contextmanager
def _blocks_of(size: int) -> Iterator[None]:
    """Read files in blocks of ``size`` bytes, to put block ends everywhere."""
    with mock.patch.object(edge_file, "BLOCK_BYTES", size):
        yield


HEADERS = [
    ("source", "target"),
    ("Source", "Target"),
    ("src", "dst"),
    ("from", "to"),
    ("u", "v"),
    ("node1", "node2"),
    ("FromNodeId", "ToNodeId"),
    ("source_id", "target_id"),
]
# Formats: (suffix, delimiter passed, delimiter written).
FORMATS = [(".csv", None, ","), (".tsv", None, "\t"), (".txt", ";", ";"), (".txt", None, " ")]


@st.composite
def edge_files(draw: st.DrawFn) -> dict[str, object]:
    """A random edge list file's text and how it was written."""
    num_nodes = draw(st.integers(1, 25))
    pairs = draw(
        st.lists(st.tuples(st.integers(0, 24), st.integers(0, 24)), min_size=1, max_size=60)
    )
    named = draw(st.booleans())
    style = draw(st.sampled_from(["n{}", "Zoë_{}", "a#{}", "NA{}", "p{}.x"]))

    def name(i: int) -> str:
        return style.format(i % num_nodes) if named else str(i % num_nodes)

    suffix, delimiter, written = draw(st.sampled_from(FORMATS))
    header = draw(st.sampled_from([None, *HEADERS] if named else [None, ("x", "y"), *HEADERS]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    pad = draw(st.sampled_from(["", " ", "  "])) if written != " " else ""
    sep = written if written != " " else draw(st.sampled_from([" ", "\t", "  \t "]))
    lines = []
    if draw(st.booleans()):
        lines.append("# a comment line")
    if header is not None:
        lines.append(sep.join((*header, "weight")))
    for u, v in pairs:
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", "  ", "% comment", "  # indented comment"])))
        fields = [pad + name(u) + pad, pad + name(v)]
        if draw(st.booleans()):
            fields.append("0.5")
        lines.append(sep.join(fields))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text
    return {
        "text": text,
        "suffix": suffix,
        "delimiter": delimiter,
        "split": written if written != " " else None,
        "has_header": header is not None,
        "block": draw(st.sampled_from([7, 16, 64, 1 << 20])),
        "directed": draw(st.booleans()),
        "explicit": draw(st.booleans()),
    }


@given(edge_files())
def test_read_edge_list_equals_a_naive_reader(tmp_path_factory: object, case: dict) -> None:
    folder = tmp_path_factory.mktemp("edges")  # type: ignore[attr-defined]
    path = folder / f"g{case['suffix']}"
    path.write_bytes(case["text"].encode("utf-8"))
    header = case["has_header"] if case["explicit"] else None
    with _blocks_of(case["block"]):
        data = read_edge_list(
            path, delimiter=case["delimiter"], header=header, directed=case["directed"]
        )
    num_nodes, edges, ids = naive_read(
        case["text"], case["split"], case["has_header"], case["directed"]
    )
    assert data.num_nodes == num_nodes
    assert _edges(data) == edges
    assert getattr(data, "node_ids", None) == ids
    assert data.edge_index.dtype == torch.long


# ---------------------------------------------------------------------- formats and headers


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        (".csv", "source,target,weight\n0,1,0.5\n1,2,1\n# note\n3,0,2\n"),
        (".tsv", "0\t1\n1\t2\n3\t0\n"),
        (".txt", "# comment\n0 1\n1 2\n\n3 0\n"),
        (".txt", "% KONECT-style comment\n  0   1 7\n\t1 2\n3\t0\n"),
        (".csv", "\ufeffsource,target\r\n0,1\r\n1,2\r\n3,0\r\n"),
    ],
)
def test_read_edge_list_formats(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"g{suffix}"
    path.write_text(text, encoding="utf-8")
    data = read_edge_list(path)
    assert data.num_nodes == 4
    assert data.edge_index.size(1) == 6
    assert not hasattr(data, "node_ids")


def _write_les_miserables(path: Path, header: str | None) -> list[tuple[str, str]]:
    import networkx as nx

    graph = nx.les_miserables_graph()
    edges = [(u, v) for u, v in graph.edges()]
    lines = [] if header is None else [header]
    lines += [f"{u},{v},{graph[u][v]['weight']}" for u, v in edges]
    path.write_text("\n".join(lines) + "\n")
    return edges


@pytest.mark.parametrize("header", ["source,target,weight", "Source,Target,Weight", None])
def test_les_miserables_with_string_ids_has_77_nodes(tmp_path: Path, header: str | None) -> None:
    path = tmp_path / "lesmis.csv"
    edges = _write_les_miserables(path, header)
    data = read_edge_list(path)
    num_nodes, expected, ids = naive_read(path.read_text(), ",", header is not None, False)
    assert data.num_nodes == num_nodes == 77
    assert data.node_ids == ids
    assert data.node_ids[:3] == ["Napoleon", "Myriel", "MlleBaptistine"]
    assert _edges(data) == expected
    assert len(expected) == 2 * len(edges) == 508


def test_header_override(tmp_path: Path) -> None:
    path = tmp_path / "lesmis.csv"
    _write_les_miserables(path, "source,target,weight")
    as_edge = read_edge_list(path, header=False)
    assert as_edge.num_nodes == 79
    assert as_edge.node_ids[:3] == ["source", "target", "Napoleon"]
    assert read_edge_list(path, header=True).num_nodes == 77
    bare = tmp_path / "bare.csv"
    _write_les_miserables(bare, None)
    # header=True drops the first edge, Napoleon-Myriel (Napoleon's only edge).
    dropped = read_edge_list(bare, header=True)
    assert dropped.num_nodes == 76
    assert "Napoleon" not in dropped.node_ids


def test_integer_ids_with_and_without_header(tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    for text in [
        "0 1\n1 2\n",
        "a b\n0 1\n1 2\n",
        "from to\n0 1\n1 2\n",
        "# x\nFROM TO\n0 1\n1 2\n",
    ]:
        path.write_text(text)
        data = read_edge_list(path)
        assert (data.num_nodes, _edges(data)) == (3, [(0, 1), (1, 0), (1, 2), (2, 1)]), text
    path.write_text("2 3\n0 1\n1 2\n")
    assert read_edge_list(path, header=True).num_nodes == 3
    assert read_edge_list(path, header=False).num_nodes == 4
    path.write_text("source target\n0 1\n")
    forced = read_edge_list(path, header=False)
    assert forced.node_ids == ["source", "target", "0", "1"]
    assert _edges(forced) == [(0, 1), (1, 0), (2, 3), (3, 2)]


def test_string_header_rules(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    # Not column names: the first line is an edge.
    path.write_text("ann,bob\nbob,cy\n")
    assert read_edge_list(path).node_ids == ["ann", "bob", "cy"]
    # A lone row: an edge between two names, unless they read as column names.
    path.write_text("ann,bob\n")
    assert read_edge_list(path).node_ids == ["ann", "bob"]
    path.write_text("source,target\n")
    with pytest.raises(ValueError, match="holds no edge"):
        read_edge_list(path)
    # Names with digits are node ids, not column names (but node1,node2 is a header).
    path.write_text("v1,v2\nv3,v4\n")
    assert read_edge_list(path).num_nodes == 4
    path.write_text("user0,user3\nuser3,user1\n")
    assert read_edge_list(path).node_ids == ["user0", "user3", "user1"]
    path.write_text("node1,node2\nann,bob\n")
    assert read_edge_list(path).node_ids == ["ann", "bob"]
    # Column names that are also node ids further down: ambiguous, the user decides.
    path.write_text("u,v\nv,w\n")
    with pytest.raises(ValueError, match=r"g.csv', line 1: looks like a header .*'v' is also"):
        read_edge_list(path)
    assert read_edge_list(path, header=False).node_ids == ["u", "v", "w"]
    assert read_edge_list(path, header=True).node_ids == ["v", "w"]
    # Mixed: integer-looking first row over names is an edge of string ids.
    path.write_text("1,2\nann,bob\n")
    assert read_edge_list(path).node_ids == ["1", "2", "ann", "bob"]


def test_header_skip_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "g.csv"
    path.write_text("src,dst\nann,bob\n")
    with caplog.at_level("INFO", logger="graphpair.data._edge_file"):
        data = read_edge_list(path)
    assert data.node_ids == ["ann", "bob"]
    assert "'src,dst' skipped as a header (column names)" in caplog.text


def test_cora_with_names(shared_data: Path, tmp_path: Path) -> None:
    from torch_geometric.io import read_planetoid_data

    raw = shared_data / "planetoid" / "Cora" / "raw"
    if not raw.is_dir():
        pytest.skip(f"Cora not found: {raw} does not exist")
    cora = read_planetoid_data(str(raw), "cora")
    canonical = symmetrize(cora.edge_index, cora.num_nodes)
    pairs = canonical[:, canonical[0] < canonical[1]].t().tolist()
    for name, sep in [("cora.csv", ","), ("cora.tsv", "\t")]:
        path = tmp_path / name
        lines = [f"Source{sep}Target"] + [f"paper{u}{sep}paper{v}" for u, v in pairs]
        path.write_text("\n".join(lines) + "\n")
        data = read_edge_list(path)
        assert data.num_nodes == cora.num_nodes == 2708
        # Mapped back to Cora's own numbering, the graph is Cora's.
        original = torch.tensor([int(i.removeprefix("paper")) for i in data.node_ids])
        assert torch.equal(symmetrize(original[data.edge_index], 2708), canonical)


# ---------------------------------------------------------------------- special content


def test_ids_are_text_not_missing_values_or_comments(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text('NA,null\nnan,C#\n"Smith, J",NA\n C# ,"x"\n')
    data = read_edge_list(path)
    assert data.node_ids == ["NA", "null", "nan", "C#", "Smith, J", "x"]
    assert _edges(data) == [(0, 1), (0, 4), (1, 0), (2, 3), (3, 2), (3, 5), (4, 0), (5, 3)]


def test_comment_prefixes(tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    path.write_text("// c\n0 1\n% 5 6\n1 2\n")
    assert read_edge_list(path, comment=("//", "%")).num_nodes == 3
    # With '//' alone, '%' is an id: the ids are then strings.
    assert read_edge_list(path, comment="//").node_ids == ["0", "1", "%", "5", "2"]
    assert read_edge_list(path, comment=None).node_ids[:3] == ["//", "c", "0"]


def test_num_nodes_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("0,1\n")
    assert read_edge_list(path, num_nodes=5).num_nodes == 5
    path.write_text("a,b\n")
    assert read_edge_list(path, num_nodes=3).num_nodes == 3
    with pytest.raises(ValueError, match="num_nodes=1 is too small: .*g.csv' holds 2 distinct"):
        read_edge_list(path, num_nodes=1)
    path.write_text("# only a comment\n\n")
    with pytest.raises(ValueError, match="holds no edge"):
        read_edge_list(path)
    empty = read_edge_list(path, num_nodes=4)
    assert (empty.num_nodes, empty.edge_index.shape) == (4, (2, 0))


def test_long_preamble_and_long_first_line(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    preamble = "".join(f"# comment line {i:05d}\n" for i in range(5000))  # ~110 KB
    path.write_text(preamble + "source,target\n0,1\n1,2\n")
    assert (read_edge_list(path).num_nodes, len(preamble) > 1 << 16) == (3, True)
    long_id = "n" * 70_000
    path.write_text(f"{long_id},b\nb,c\n")
    assert read_edge_list(path).node_ids == [long_id, "b", "c"]


def test_strings_late_in_a_long_integer_file(tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    lines = [f"{i} {i + 1}" for i in range(300)] + ["x 0"]
    path.write_text("\n".join(lines) + "\n")
    with _blocks_of(64):
        data = read_edge_list(path)
    num_nodes, edges, ids = naive_read(path.read_text(), None, False, False)
    assert (data.num_nodes, _edges(data), data.node_ids) == (num_nodes, edges, ids)
    assert data.node_ids[-1] == "x"


# ---------------------------------------------------------------------- errors


def test_read_edge_list_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a file"):
        read_edge_list(tmp_path / "missing.csv")
    path = tmp_path / "bad.csv"
    path.write_text("0,1\n2\n")
    with pytest.raises(ValueError, match=r"bad.csv', line 2: 1 field\(s\), an edge needs two"):
        read_edge_list(path)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("0,1\n2\n", 2, r"1 field\(s\), an edge needs two: '2'"),
        ("0 1\n1 2\n", 1, r"1 field\(s\), an edge needs two \(fields are split at ','"),
        ("# c\n\n0,1\n1,\n", 4, "an empty node id: '1,'"),
        ("a,b\nb,   \n", 2, "an empty node id"),
        ("a,b\n,c\n", 2, "an empty node id"),
        ("0,1\n1,-2\n", 2, "node id -2 is negative"),
        ("0,1\n1,2147483648\n", 2, "node id 2147483648 is too large"),
        ("0,1\n1,99999999999999999999\n", 2, "node id 99999999999999999999 is too large"),
        ('a,b\n"c,d\ne,f\n', 2, "a quoted field without its closing quote"),
        ("a,b\n\x00\x01,c\n", 2, "holds a NUL byte: a binary file"),
        ("a,b\nc,d\xe9\n", 2, "byte 0xe9 at column 4 is not UTF-8"),
        ("u,v\nv,w\n", 1, "looks like a header"),
    ],
)
def test_malformed_files_name_the_file_and_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("latin-1"))
    pattern = re.escape(f"{str(path)!r}, line {line}: ") + problem
    with pytest.raises(ValueError, match=pattern):
        read_edge_list(path)
    # The same with the bad line in a later block, after many good ones.
    good = "".join(f"{i},{i + 1}\n" for i in range(200))
    if text.startswith(("0,1", "a,b")):
        path.write_bytes((good + text).encode("latin-1"))
        pattern = re.escape(f"{str(path)!r}, line {line + 200}: ") + problem
        with _blocks_of(50), pytest.raises(ValueError, match=pattern):
            read_edge_list(path)


def test_gzip_files_are_read_and_binary_files_refused(tmp_path: Path) -> None:
    text = "source,target\n0,1\n1,2\n"
    for name in ["edges.csv.gz", "edges.csv"]:  # compressed: known by content, not by name
        with gzip.open(tmp_path / name, "wt") as handle:
            handle.write(text)
        data = read_edge_list(tmp_path / name)
        assert _edges(data) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes((tmp_path / "edges.csv.gz").read_bytes()[:-6])
    with pytest.raises(ValueError, match="cut.csv.gz': cannot decompress"):
        read_edge_list(truncated)
    weights = tmp_path / "model.txt"
    torch.save(torch.arange(10), weights)
    with pytest.raises(ValueError, match=r"model.txt', line \d+: holds a NUL byte"):
        read_edge_list(weights)


def test_num_nodes_too_small_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "g.tsv"
    path.write_text("0\t1\n1\t7\n")
    with pytest.raises(ValueError, match=r"g.tsv', line 2: node id 7 is not below num_nodes=5"):
        read_edge_list(path, num_nodes=5)


def test_bad_arguments_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    with pytest.raises(ValueError, match="delimiter must be None or one character"):
        read_edge_list(path, delimiter="::")
    with pytest.raises(ValueError, match="delimiter must be"):
        read_edge_list(path, delimiter='"')
    with pytest.raises(ValueError, match="comment must be None, a non-empty prefix"):
        read_edge_list(path, comment="")
    with pytest.raises(TypeError, match="header must be True, False or None; got 'yes'"):
        read_edge_list(path, header="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_nodes"):
        read_edge_list(path, num_nodes=0)
