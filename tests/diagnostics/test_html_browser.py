"""The ``--html`` pages in a real browser: headless Chromium loads each, its tables and figure render, no errors.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
JSON messages ending in NUL, commands on its fd 3, answers on its fd 4), so no
Python package is needed. One browser serves every page. Where Chromium is
missing the test skips, unless TINYNET_REQUIRE_CHROMIUM is set (CI sets it,
after installing Debian's ``chromium``): there its absence fails.
"""

import contextlib
import functools
import json
import os
import select
import shutil
import subprocess
import time

import pytest

import tinynet
from diagnostics import cli
from diagnostics.experiments import lecture as lecture_module

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe"]

# each kind of page, from a small run of its command
COMMANDS = {
    "lecture": ["lecture", "--jobs", "1", "--quiet"],  # its networks made small below
    "probe": ["probe", "--activation", "tanh", "--init", "normal:0.3", "--depth", "4", "--width", "8",
              "--repeats", "2", "--quiet"],
    "critical": ["critical", "--activation", "sigmoid", "--depth", "3", "--fan-in", "8", "--repeats", "2"],
    "phase": ["phase", "--activation", "relu", "--sigma-b2", "0", "0.5", "--points", "4", "3", "--quiet"],
    "train": ["train", "--activation", "tanh", "--init", "xavier_uniform", "--epochs", "1", "--width", "8",
              "--quiet"],
    "remedies": ["remedies", "--depth", "2", "--width", "4", "--repeats", "2", "--batch-size", "4", "--jobs", "1",
                 "--quiet"],
    "trainability": ["trainability", "--depths", "1", "--width", "4", "--seeds", "1", "--sigma-w2", "1",
                     "--jobs", "1", "--quiet"],
}

# what the page shows, measured in the browser after it has loaded
MEASURE = """JSON.stringify({
  tables: [...document.querySelectorAll('table')].map(t => ({
    header: [...t.querySelectorAll('thead th')].map(c => c.textContent),
    rows: [...t.querySelectorAll('tbody tr')].map(r => r.querySelectorAll('td').length),
    shown: [...t.querySelectorAll('th, td')].every(c => c.getBoundingClientRect().height > 0)})),
  figures: [...document.querySelectorAll('figure img')].map(i => ({
    alt: i.alt, complete: i.complete, natural: i.naturalWidth,
    width: i.getBoundingClientRect().width, height: i.getBoundingClientRect().height})),
  text: document.body.innerText})"""


class Browser:
    """Headless Chromium on a DevTools pipe: open a page, evaluate JavaScript in it, collect its errors."""

    def __init__(self, user_data_dir):
        to_chrome, self._commands = os.pipe()
        self._answers, from_chrome = os.pipe()

        def as_fds_3_and_4():  # in the child: where --remote-debugging-pipe reads and writes
            os.dup2(to_chrome, 3)
            os.dup2(from_chrome, 4)

        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
                                     preexec_fn=as_fds_3_and_4, close_fds=False, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer, self._id, self.events = b"", 0, []

    def close(self):
        """Ask Chromium to quit (it takes its helper processes with it); kill it if it does not."""
        try:
            os.write(self._commands, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self._commands)
        os.close(self._answers)

    def send(self, method, session=None, timeout=30, **params):
        """Send one command and wait for its answer; events that arrive meanwhile go to ``events``."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        answer = self._wait(lambda m: m.get("id") == self._id, timeout)
        assert "error" not in answer, f"{method}: {answer['error']}"
        return answer["result"]

    def wait_event(self, method, timeout=30):
        return self._wait(lambda m: m.get("method") == method, timeout)

    def _wait(self, wanted, timeout):
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if wanted(message):
                    return message
                self.events.append(message)
            left = deadline - time.monotonic()
            assert left > 0, "Chromium did not answer in time"
            if select.select([self._answers], [], [], left)[0]:
                chunk = os.read(self._answers, 1 << 16)
                assert chunk, "Chromium closed its pipe"
                self._buffer += chunk

    def open(self, path):
        """Load ``path`` in a fresh tab; what ``MEASURE`` finds there, and the console's errors."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session)
        self.events = []
        self.send("Page.navigate", session, url="file://" + os.path.abspath(path))
        self.wait_event("Page.loadEventFired")
        found = json.loads(self.send("Runtime.evaluate", session, expression=MEASURE)["result"]["value"])
        self.send("Target.closeTarget", targetId=target)
        found["errors"] = [e["params"] for e in self.events if _is_error(e)]
        return found


def _is_error(event):
    method, params = event.get("method"), event.get("params", {})
    return ((method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"))
            or method == "Runtime.exceptionThrown"
            or (method == "Log.entryAdded" and params["entry"]["level"] == "error"))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("TINYNET_REQUIRE_CHROMIUM"):
            pytest.fail("TINYNET_REQUIRE_CHROMIUM is set but chromium is not installed")
        pytest.skip("chromium is not installed (CI installs it: .ci/run)")
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Each kind of page, written by its command, with what the command printed."""
    directory = tmp_path_factory.mktemp("pages")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        # the lecture's 13 networks, 5 layers of 8 instead of 50 of 100: the same page, in a moment
        mp.setattr(lecture_module, "lecture_configs",
                   functools.partial(lecture_module.lecture_configs, depth=5, width=8, repeats=2))
        for name, argv in COMMANDS.items():
            path = directory / f"{name}.html"
            printed = directory / f"{name}.txt"
            with open(printed, "w") as f, contextlib.redirect_stdout(f):
                assert cli.main([*argv, "--html", str(path)]) == 0
            out[name] = (path, printed.read_text())
    return out


@pytest.mark.parametrize("name", list(COMMANDS))
def test_page_renders_its_tables_and_figure_without_errors(browser, pages, name):
    path, printed = pages[name]
    found = browser.open(path)
    assert found["errors"] == []
    assert found["tables"], "no table"
    for table in found["tables"]:
        assert table["header"], "a table without header cells"
        assert table["rows"] and all(n == len(table["header"]) for n in table["rows"])
        assert table["shown"], "a cell rendered with no height"
    # the same tables the command printed: every header cell is in its text
    if name == "train":  # train prints no table: its page adds the history, epoch by epoch
        assert [t["header"] for t in found["tables"]] == [["epoch", "loss", "accuracy"]]
    else:
        headers = {h for t in found["tables"] for h in t["header"]}
        assert all(h in printed for h in headers), headers
    (figure,) = found["figures"]
    assert figure["alt"] and figure["complete"] and figure["natural"] > 0
    assert figure["width"] > 100 and figure["height"] > 100
    text = found["text"]
    assert f"python -m diagnostics {name} " in text and "--html" in text
    assert f"tinynet {tinynet.__version__}" in text


def test_the_browser_check_sees_a_broken_figure_and_an_error(browser, tmp_path):
    """A control: a page whose figure cannot load fails every check the pages pass."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table>'
                    f'<figure><img src="file://{tmp_path}/missing.svg" alt="missing"></figure></body></html>')
    found = browser.open(page)
    assert found["errors"], "a figure that failed to load logged no error"
    assert found["figures"][0]["natural"] == 0
    assert found["tables"][0]["header"] == []
