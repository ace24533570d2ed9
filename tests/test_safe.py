"""Hostile names in every medium, each artefact read back by an independent parser.

A column, target, data file or model file may be named anything: an escape sequence, a NUL, a
lone surrogate, rich markup, HTML, Markdown, TeX, DOT or JSON specials, a bidi override, a line
break, a very long name. Each artefact is made twice: once with the hostile names and once with
plain placeholders. Read back by a parser that is not fwdback's (markdown-it-py with its math
plugin and cmark-gfm for Markdown, the standard library's HTML parser for HTML, pydot and
Graphviz's own `dot` for DOT, json for model files), the two must hold the same elements,
attributes and text, with each placeholder read as the name it stands for, shown as written
here by hand (`SHOWN`: every character that is not printable as its backslash escape). So a
name can neither inject an element, a link, emphasis, math or a table cell, nor lose a character.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from xml.etree import ElementTree

import cmarkgfm
import numpy as np
import pydot
import pytest

from cases import slow_after
from cmarkgfm.cmark import Options
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from fwdback.explain import work_epoch
from fwdback.reports.explain import explanation
from fwdback.modelfile import Model, load_model, model_json
from fwdback.network import init_parameters
from fwdback.plan import TrainingPlan
from fwdback.render.dot import network_dot
from fwdback.render.html import explanation_page
from fwdback.render.markdown import markdown
from fwdback.sections import Code, Heading, Mark, Paragraph, Strong, Table
from fwdback.training import prepare, resolve

# (name, as every view shows it), the second written by hand.
HOSTILE = [
    ("\x1b[2J\x1b]0;PWNED\x07", r"\x1b[2J\x1b]0;PWNED\x07"),
    ("a\x00b\x7f", r"a\x00b\x7f"),
    ("x1\ud800", r"x1\ud800"),
    ("[bold red]m.json", "[bold red]m.json"),
    ("[/]a", "[/]a"),
    ("<!--<script>", "<!--<script>"),
    ("</script><script>alert(1)</script>", "</script><script>alert(1)</script>"),
    ("a|b||c", "a|b||c"),
    ("`a`` b`", "`a`` b`"),
    ("*_x_* __y__ ~~z~~", "*_x_* __y__ ~~z~~"),
    ("{}$&#^%~\\", "{}$&#^%~\\"),
    ("'\"q\"'", "'\"q\"'"),
    ("\u202eevil\u200f", r"\u202eevil\u200f"),
    ("two\nlines\r\n\tend", r"two\nlines\r\n\tend"),
    ("[x](javascript:alert(1)) ![i](http://e/i.png)", "[x](javascript:alert(1)) ![i](http://e/i.png)"),
    ("&amp; &#945; &lt;b&gt;", "&amp; &#945; &lt;b&gt;"),
    ("<b>bold</b> <img src=x onerror=alert(1)>", "<b>bold</b> <img src=x onerror=alert(1)>"),
    ("$x$ $$y$$ \\(z\\)", "$x$ $$y$$ \\(z\\)"),
    ("# h #", "# h #"),
    ("https://example.com/ www.example.com", "https://example.com/ www.example.com"),
    ("\\N \\G \\L \\", "\\N \\G \\L \\"),
    (" spaced ", " spaced "),
    ("n" * 3000 + "|`*", "n" * 3000 + "|`*"),
]
IDS = ["ESC BEL", "NUL DEL", "lone surrogate", "rich markup", "closing markup", "comment script", "end script",
       "pipes", "backticks", "emphasis", "TeX specials", "quotes", "bidi", "line breaks", "links", "entities",
       "HTML", "math", "heading", "autolinks", "DOT escapes", "spaces", "3,000 characters"]
PLACEHOLDER = "qzqf"  # appears nowhere else in any artefact
# What must not reach a file or a terminal raw: C0 (but tab and line ends) and C1 controls, DEL,
# line and paragraph separators, bidi controls, surrogates.
UNPRINTABLE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


def names(name: str) -> tuple[tuple[str, str, str], str]:
    """The features and the target of a network whose first column and target hold `name`."""
    return (name, "x2", "x3"), "y" + name


def read_as(tokens: list, shown: str) -> list:
    """The placeholder artefact's tokens (tuples of strings, or of tuples of them) with the
    placeholder read as the name shown."""

    def swap(part):
        if isinstance(part, str):
            return part.replace(PLACEHOLDER, shown)
        return tuple(swap(inner) for inner in part) if isinstance(part, tuple) else part

    return [swap(token) for token in tokens]


class Tokens(HTMLParser):
    """HTML as the standard library's parser reads it: start and end tags with their attributes,
    comments, declarations, and text (character references resolved)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tokens.append(("start", tag, tuple(attrs)))

    def handle_endtag(self, tag):
        self.tokens.append(("end", tag))

    def handle_data(self, data):
        if self.tokens and self.tokens[-1][0] == "text":
            self.tokens[-1] = ("text", self.tokens[-1][1] + data)
        else:
            self.tokens.append(("text", data))

    def handle_comment(self, data):
        self.tokens.append(("comment", data))

    def handle_decl(self, decl):
        self.tokens.append(("declaration", decl))

    def unknown_decl(self, data):
        self.tokens.append(("declaration", data))

    def handle_pi(self, data):
        self.tokens.append(("processing instruction", data))


def document(name: str) -> list:
    """explain's worked epoch with `name` as a column, the target, the data and the --init file,
    and the name in each kind of block and inline part a document can hold."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(6, 3))
    y = X @ np.array([2.0, -3.0, 0.5]) + 1.0
    plan = TrainingPlan(lr=0.05, standardize=False)
    rows, params = prepare(X, y, plan), init_parameters(np.random.default_rng(0))
    worked = work_epoch(rows, params, resolve(plan, rows, params), 1)
    features, target = names(name)
    blocks = explanation(worked, features, 1, target, source=f"{name}.csv", start=("from ", Code(f"{name}.json")))
    return [
        *blocks,
        Heading(f"Heading {name}."),
        Paragraph(("Prose ", name, ", code ", Code(name), ", strong ", Strong(f"Row {name}:"), " and ", Mark(f"{name}.", False), ".")),
        Table(header=((Code(name),), ("plain",)), rows=((("cell ", name, "."), (Code(name),)),), align=("left", "right"),
              title=f"Title {name}.", caption=f"Caption {name}."),
    ]


def commonmark(md: str) -> str:
    return MarkdownIt("commonmark").enable("table").use(dollarmath_plugin).render(md)


def github(md: str) -> str:
    options = Options.CMARK_OPT_UNSAFE  # raw HTML kept, so that any that got through would be seen
    return cmarkgfm.github_flavored_markdown_to_html(md, options)


@pytest.mark.parametrize("render", [commonmark, github], ids=["markdown-it", "cmark-gfm"])
@pytest.mark.parametrize("name, shown", HOSTILE, ids=IDS)
def test_markdown_shows_a_hostile_name_as_text_and_injects_nothing(name, shown, render):
    written = markdown(document(name))
    assert not re.search(UNPRINTABLE, written)
    plain = Tokens(render(markdown(document(PLACEHOLDER)))).tokens
    assert Tokens(render(written)).tokens == read_as(plain, shown)


def test_markdown_names_are_code_spans_never_math():
    """Names never reach LaTeX: every `$...$` the renderer reads as math holds no name."""
    tokens = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin).parse(markdown(document(PLACEHOLDER)))
    maths = [child.content for token in tokens for child in (token.children or [token]) if child.type.startswith("math")]
    codes = [child.content for token in tokens for child in (token.children or []) if child.type == "code_inline"]
    assert maths and not any(PLACEHOLDER in math for math in maths)
    # The column, the target, the data, --init, the paragraph's, the table's header and cell.
    assert sum(PLACEHOLDER in code for code in codes) == 7


@pytest.mark.parametrize("name, shown", HOSTILE, ids=IDS)
def test_explains_html_shows_a_hostile_name_as_text_and_injects_nothing(name, shown):
    page = explanation_page(document(name))
    assert not re.search(UNPRINTABLE, page)
    plain = Tokens(explanation_page(document(PLACEHOLDER))).tokens
    assert Tokens(page).tokens == read_as(plain, shown)


def dot_shown(value: str) -> str:
    """A DOT quoted string as Graphviz draws it: \\\\ a backslash, \\" a quote, \\n a line break,
    and an entity (&amp;, &#945;) its character."""
    assert value[0] == value[-1] == '"', value
    return html.unescape(re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], value[1:-1], flags=re.S))


def dot_labels(source: str) -> list[tuple[str, str]]:
    """(statement, label as drawn) of every node, edge and the graph, read by pydot."""
    (graph,) = pydot.graph_from_dot_data(source)
    labels = [("graph", dot_shown(graph.get_graph_defaults()[0]["label"]))]
    for g in (graph, *graph.get_subgraphs()):
        labels += [(node.get_name(), dot_shown(node.get_label())) for node in g.get_nodes() if node.get_label()]
        labels += [(f"{e.get_source()}->{e.get_destination()}", dot_shown(e.get_label())) for e in g.get_edges() if e.get_label()]
    return labels


def drawn(source: str) -> list[str]:
    """The texts Graphviz's `dot -Tsvg` draws of the source; it must take it without a word on stderr."""
    dot = shutil.which("dot")
    if dot is None:
        pytest.fail("Graphviz's dot is not installed: apt-get install -y graphviz (.ci/run installs it)")
    done = subprocess.run([dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=60)
    assert done.returncode == 0 and done.stderr == b"", done.stderr.decode("utf-8", "replace")
    return [element.text for element in ElementTree.fromstring(done.stdout).iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize("name, shown", slow_after(5, HOSTILE, unpack=True), ids=IDS)
def test_dot_draws_a_hostile_name_as_its_text(name, shown):
    params = init_parameters(np.random.default_rng(0))
    source = network_dot(params, *names(name))
    plain = network_dot(params, *names(PLACEHOLDER))
    assert not re.search(UNPRINTABLE, source)
    assert dot_labels(source) == read_as(dot_labels(plain), shown)
    assert ('x1', f"x1 ({shown})") in dot_labels(source)
    assert drawn(source) == [text.replace(PLACEHOLDER, shown) for text in drawn(plain)]


@pytest.mark.parametrize("name, shown", HOSTILE, ids=IDS)
def test_a_model_file_keeps_a_hostile_name_as_it_is_and_show_draws_it(name, shown, run, workdir):
    features, target = names(name)
    path = workdir / "model.json"
    path.write_text(model_json(Model(init_parameters(np.random.default_rng(0)), features, target)), encoding="utf-8")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["features"] == list(features) and document["target"] == target
    model = load_model(str(path))
    assert model.features == features and model.target == target
    before = path.read_bytes()
    for view in ("text", "dot", "svg"):
        result = run(["show", "model.json", "--format", view])
        assert result.exit_code == 0 and result.stderr == "", (view, result.stderr)
        assert not re.search(UNPRINTABLE, result.stdout), view
    assert path.read_bytes() == before


CSV_NAMES = [(name, shown) for name, shown in HOSTILE if name == name.strip() and not re.search("[\x00\r\ud800-\udfff,]", name)]


def fingerprint(folder) -> dict:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("name, shown", slow_after(5, CSV_NAMES, unpack=True), ids=[IDS[HOSTILE.index(pair)] for pair in CSV_NAMES])
def test_a_hostile_header_goes_through_train_explain_and_show_as_text(name, shown, run, workdir):
    """From a data file's header to the model file, explain's Markdown and show's DOT: the name
    kept exactly in the model, shown as its text in each view; the data file never changes."""
    X = np.random.default_rng(1).uniform(-1, 1, size=(8, 3))
    y = X @ np.array([1.0, 2.0, -1.0]) + 0.5

    def written(features, target, folder):
        folder.mkdir()
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow([*features, target])
        writer.writerows(np.column_stack([X, y]).tolist())
        (folder / "data.csv").write_text(text.getvalue(), encoding="utf-8")
        before = fingerprint(folder)
        chosen = ["--features", ",".join(features), "--target", target]
        trained = run(["train", f"{folder.name}/data.csv", *chosen, "--epochs", "3", "--model", f"{folder.name}/model.json", "--quiet"])
        assert trained.exit_code == 0, trained.stderr
        model = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        assert model["features"] == list(features) and model["target"] == target
        explained = run(["explain", f"{folder.name}/data.csv", *chosen, "--rows", "1", "--format", "markdown"])
        shown_dot = run(["show", f"{folder.name}/model.json", "--format", "dot"])
        assert explained.exit_code == 0 and shown_dot.exit_code == 0, explained.stderr + shown_dot.stderr
        assert fingerprint(folder) == before | {"model.json": fingerprint(folder)["model.json"]}
        return explained.stdout.replace(folder.name, "data"), shown_dot.stdout

    hostile_md, hostile_dot = written(*names(name), workdir / "hostile")
    plain_md, plain_dot = written(*names(PLACEHOLDER), workdir / "plain")
    assert Tokens(commonmark(hostile_md)).tokens == read_as(Tokens(commonmark(plain_md)).tokens, shown)
    assert dot_labels(hostile_dot) == read_as(dot_labels(plain_dot), shown)
