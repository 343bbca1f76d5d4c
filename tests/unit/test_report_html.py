"""The HTML report without a browser: self-contained, escaped, the pictures drawn by Graphviz
(or listed when `dot` is missing), QEMU frames set apart, the DOT graphs and the lexer."""
from __future__ import annotations

import functools
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from pygments.token import Error, Name, Number, String
from report_samples import DATA, DUMPS, deadlock, dump_views
from test_report_md import HOSTILE, hostile_view

from gdb_qemu_threads.render import graphs
from gdb_qemu_threads.render.bt_lexer import GdbBacktraceLexer
from gdb_qemu_threads.render.report import write_dot
from gdb_qemu_threads.render.report_html import page


def _needs_dot(test):  # type: ignore[no-untyped-def]
    """A test of the pictures: Graphviz's dot must be there (`make test` installs it)."""
    @functools.wraps(test)
    def run(*args, **kwargs):  # type: ignore[no-untyped-def]
        if shutil.which("dot") is None:
            pytest.fail("Graphviz's dot is not installed: `make test` installs Debian's graphviz")
        return test(*args, **kwargs)
    return run


needs_dot = _needs_dot


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def parsed(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def test_the_page_loads_nothing_and_runs_only_its_own_script():
    html = page(hostile_view(), {"binary": "/usr/bin/<i>qemu</i>"})
    tags = parsed(html)
    names = [tag for tag, _ in tags.tags]
    assert names.count("script") == 1 and "img" not in names and "link" not in names
    assert not [attrs for _, attrs in tags.tags if "src" in attrs or "onerror" in attrs or "onload" in attrs]
    csp = [a["content"] for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0].startswith("default-src 'none'")
    assert not re.search(r"(src|href)=\"?(https?:)?//", html)
    for name in HOSTILE:
        if set(name) & set("<>&") and name != "</details>":  # what HTML would read as markup
            assert name not in html, name
    assert html.count("</details>") == html.count("<details")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;i&gt;qemu&lt;/i&gt;" in html


@needs_dot
def test_a_deadlock_is_drawn_red_and_the_page_says_what_is_missing():
    html = page(deadlock(), {})
    svg = html.split('<figure id="waits-for">', 1)[1].split("</figure>", 1)[0]
    assert svg.count("<svg") == 1
    red_edges = re.findall(r'<g id="edge\d+" class="edge">.*?</g>', svg, re.S)
    red_edges = [edge for edge in red_edges if 'stroke="#d62728"' in edge]
    assert len(red_edges) == 4  # #2 -> lock_b -> #3 -> lock_a -> #2
    assert "no creation tree" in html
    assert html.count('class="cycle"') >= 3


def test_without_dot_the_graph_is_a_list_and_the_page_says_so(monkeypatch):
    monkeypatch.setattr(graphs.shutil, "which", lambda name: None)
    html = page(deadlock(), {})
    assert "<svg" not in html
    assert "The picture was left out: Graphviz" in html
    edges = re.findall(r"<li( class=\"cycle\")?>(.*?)</li>", html.split('<ul class="edges">', 1)[1])
    assert len(edges) == 4 and all(cycle for cycle, _ in edges)  # the cycle, listed in red


def test_qemu_frames_are_highlighted_library_frames_not():
    html = page(deadlock(), {})
    group = html.split("<summary>2x", 1)[1].split("</details>", 1)[0]
    marked = re.findall(r'<span class="hll">(.*?)</span>\n', group)
    assert len(marked) == 1 and "take_in_order" in re.sub("<[^>]+>", "", marked[0])
    assert "__pthread_mutex_lock" in re.sub("<[^>]+>", "", group)


def test_dot_file_quotes_every_name(tmp_path):
    path = tmp_path / "g.dot"
    assert write_dot(deadlock(('q"uote\\', "<b>x</b>")), str(path)) == "graphs written to %s (Graphviz DOT)" % path
    text = path.read_text()
    assert '\\"uote\\\\' in text
    if shutil.which("dot"):
        svg = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=True).stdout
        assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg


@pytest.mark.parametrize("name", DUMPS)
def test_the_lexer_reads_every_saved_dump(name):
    text = (DATA / name).read_text(errors="replace")
    tokens = list(GdbBacktraceLexer().get_tokens(text))
    assert not [value for kind, value in tokens if kind is Error]
    if "#1 " in text:
        assert any(kind is Name.Function for kind, _ in tokens)


def test_the_lexer_tells_the_parts_of_a_frame():
    line = "#3  0x000055d0c0a1b2c3 in qemu_mutex_lock_impl (mutex=0x55d0 <qemu_global_mutex>) at ../util/q.c:94\n"
    kinds = {value: kind for kind, value in GdbBacktraceLexer().get_tokens(line)}
    assert kinds["qemu_mutex_lock_impl"] is Name.Function
    assert kinds["0x000055d0c0a1b2c3"] is Number.Hex
    assert kinds["../util/q.c"] is String
    assert kinds["<qemu_global_mutex>"] is Name.Variable


def test_many_threads_show_the_grouped_table_first():
    shown = dump_views("qemu72-tcg-named-bt.txt")[0]
    assert '<table id="groups">' not in page(shown, {})  # 8 threads: the table itself
