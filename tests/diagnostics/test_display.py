"""Results show themselves: HTML tables with the CLI's columns in Jupyter, a short repr; the --html page."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from diagnostics import experiments as ex
from diagnostics import html, plot, report, theory
from diagnostics.cli import main
from diagnostics.display import profile_document
from diagnostics.profile import GradientProfile
from diagnostics.table import Document, Table


def tables(fragment):
    """Each ``<table>`` of an HTML fragment (well-formed, as ours are): its header cells and its body rows."""
    root = ET.fromstring(f"<div>{fragment}</div>")
    return [([th.text or "" for th in t.iter("th")],
             [[td.text or "" for td in tr.iter("td")] for tr in t.find("tbody")]) for t in root.iter("table")]


def page_tables(page):
    """The tables of a whole page, from its first ``<table`` to its last ``</table>``."""
    return tables(page[page.index("<table"):page.rindex("</table>") + len("</table>")])


def assert_same_as_printed(document):
    """The HTML of ``document`` has its tables, header cells and all, each cell as the text prints it."""
    printed = [p for p in document.parts if isinstance(p, Table)]
    shown = tables(document.to_html())
    assert len(shown) == len(printed) > 0
    for table, (header, rows) in zip(printed, shown):
        assert header == table.columns
        lines = str(table).splitlines()[1 if table.title else 0:]
        assert len(rows) == len(lines) - 1
        for line, cells in zip(lines[1:], rows):
            assert " ".join(cells).split() == line.split()


def test_table_html_has_header_cells_and_escapes_everything():
    t = Table(["name <b>", "value"], [{"name <b>": "a & <i>b</i>", "value": 1.5}, {"name <b>": "c"}],
              formats={"value": ".2f"}, title="T & t")
    text = t.to_html()
    assert "<b>" not in text and "<i>" not in text
    (header, rows), = tables(text)
    assert header == ["name <b>", "value"]
    assert rows == [["a & <i>b</i>", "1.50"], ["c", "-"]]
    assert "<caption>T &amp; t</caption>" in text


def test_a_document_is_the_printed_text_and_renders_its_tables():
    t = Table(["x"], [{"x": 1}])
    doc = Document(["head <1>", t, "legend: x"])
    assert doc == "head <1>\n" + str(t) + "\nlegend: x"
    assert doc.startswith("head") and "legend" in doc  # still a str for every caller
    assert "<p>head &lt;1&gt;</p>" in doc.to_html()
    assert_same_as_printed(doc)


@pytest.fixture(scope="module")
def small_results():
    configs = ex.lecture_configs(depth=4, width=6, repeats=2)[:3]
    lecture = ex.LectureResult(0, "float64", ex.run_tasks([("matrices", (0.5, 4, 10, "float64"))], 0),
                               ex.sweep(configs))
    return {
        "lecture": (lecture, report.lecture_text(lecture)),
        "critical": (r := ex.check_scales("sigmoid", depth=3, fan_in=6, repeats=2), report.critical_text(r)),
        "phase": (d := theory.phase_diagram("relu", (1.0, 3.0), (0.0, 0.5), (3, 3)), report.phase_text(d)),
        "remedies": (rs := ex.run_remedies(ex.remedy_configs(2, 4, 2, "float64", (4,)), seed=3),
                     report.remedies_text(rs, 3)),
        "trainability": (t := ex.run_trainability("tanh", (1.0,), (1,), width=4, seeds=1),
                         report.trainability_text(t)),
    }


@pytest.mark.parametrize("name", ["lecture", "critical", "phase", "remedies", "trainability"])
def test_results_show_the_printed_tables_as_html_and_a_short_repr(small_results, name):
    result, printed = small_results[name]
    assert result._repr_html_() == printed.to_html()
    assert_same_as_printed(printed)
    text = repr(result)
    assert len(text.splitlines()) <= 3 and len(text) < 300 and "array" not in text, text


def test_remedy_results_are_still_the_list_they_were(small_results):
    results, _ = small_results["remedies"]
    assert isinstance(results, list) and results.seed == 3
    assert [r.config for r in results] == ex.remedy_configs(2, 4, 2, "float64", (4,))
    assert all(len(repr(r).splitlines()) == 1 for r in results)


def test_a_profile_shows_one_row_per_layer():
    p = GradientProfile(("Linear(3 -> 3)", "Tanh"), np.array([0.1, -0.2]), 0.3, "predicted",
                        np.array([0.01, 0.05]), np.array([0.12, -0.1]))
    doc = profile_document(p)
    assert p._repr_html_() == doc.to_html()
    (header, rows), = tables(p._repr_html_())
    assert header == ["layers back", "layer", "log10 norm", "gain", "mean-field"]
    assert [r[:4] for r in rows] == [["1", "Linear(3 -> 3)", "0.100 ± 0.010", "-0.200"],
                                     ["2", "Tanh", "-0.200 ± 0.050", "-0.300"]]
    assert_same_as_printed(doc)


def test_a_regime_shows_one_row():
    r = theory.regime("tanh", 1.5, 0.1)
    (header, rows), = tables(r._repr_html_())
    assert header == ["sigma_w", "sigma_b", "gain", "regime", "depth scale", "xi_c"]
    assert rows[0][3] == r.name == "chaotic" and float(rows[0][2]) == pytest.approx(r.chi, rel=1e-3)


def _draw(path):
    plot.gradient_curves(ex.sweep(ex.lecture_configs(depth=3, width=4, repeats=1)[:1]), path, title="t")


def test_the_page_is_self_contained_and_escapes_the_command():
    doc = Document(["head", Table(["a"], [{"a": 1}]), "legend in words"])
    text = html.page("title", "python -m diagnostics probe --init '<script>'", doc, _draw, alt="the curves")
    assert "<script" not in text and "&lt;script&gt;" in text
    assert f'content="{html.CSP}"' in text
    assert 'alt="the curves"' in text and 'src="data:image/svg+xml;base64,' in text
    srcs = [part.split('"', 1)[0] for part in text.split('src="')[1:]] + \
           [part.split('"', 1)[0] for part in text.split('href="')[1:]]
    assert srcs and all(s.startswith("data:") for s in srcs)  # nothing to fetch
    assert "legend in words" in text


def test_html_path_is_checked_before_any_work(tmp_path, capsys):
    assert main(["phase", "--activation", "tanh", "--html", str(tmp_path / "page.txt")]) == 2
    assert "--html" in capsys.readouterr().err
    assert main(["phase", "--activation", "tanh", "--html", str(tmp_path / "no" / "page.html")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_phase_without_a_figure_says_why_on_its_page(tmp_path):
    # sigma_w^2 beyond 2 for ReLU: the variance grows without bound everywhere, no xi_c to draw
    path = tmp_path / "phase.html"
    assert main(["phase", "--activation", "relu", "--sigma-w2", "2.5", "4", "--points", "2", "2", "--quiet",
                 "--html", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert "No figure: xi_c is infinite, or undefined" in text and "<img" not in text
    assert page_tables(text)[0][0] == ["sigma_b^2", "critical sigma_w^2", "xi_c at 2.5", "xi_c at 4"]

