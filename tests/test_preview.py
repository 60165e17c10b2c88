"""`python build.py serve` without a browser: what it serves, what it refuses, and how it reports rebuilds."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, copy_project

from press.preview import EVENTS_PATH, inject, resolve_request

SLUG = "minimal-article"


class ServeProcess:
    """`python build.py serve` on a free port, its output collected line by line as it runs."""

    def __init__(self, project: Path, out: Path, *extra: str, port: int = 0) -> None:
        """Started; with ``port`` 0 (any free one), returned once it says where it serves; with a
        ``port`` given, returned at once, so that a test can ask as early as a browser would."""
        self.project = project
        self.out = out
        self.lines: list[str] = []
        self._new_line = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "build.py"), "serve", "--out", str(out), "--port", str(port), *extra],
            cwd=project,  # diagnostics then name files as authors see them: manuscript/intro.md
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if port:
            self.host, self.port = "127.0.0.1", port
            return
        line = self.wait_for_line("serving ", timeout=60)
        self.url = line.split(" at ", 1)[1].strip()
        self.host, found = self.url.removeprefix("http://").rstrip("/").rsplit(":", 1)
        self.port = int(found)

    def first_answer(self, target: str = "/", timeout: float = 120) -> bytes:
        """The body of the first 200 to ``target``, asked for again and again from the moment the
        process starts, as a browser left open on the page would."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("serve exited:\n" + "\n".join(self.lines))
            connection = http.client.HTTPConnection(self.host, self.port, timeout=max(deadline - time.monotonic(), 1))
            try:
                connection.request("GET", target)
                response = connection.getresponse()
                body = response.read()
                if response.status == 200:
                    return body
            except (ConnectionError, http.client.HTTPException):
                pass  # not listening yet
            finally:
                connection.close()
            time.sleep(0.005)
        raise AssertionError(f"no 200 for {target} within {timeout} s:\n" + "\n".join(self.lines))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._new_line:
                self.lines.append(line.rstrip("\n"))
                self._new_line.notify_all()

    def wait_for_line(self, text: str, timeout: float, after: int = 0) -> str:
        """The first output line from index ``after`` on that contains ``text``."""
        deadline = time.monotonic() + timeout
        with self._new_line:
            while True:
                for line in self.lines[after:]:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                exited = self.process.poll() is not None
                if left <= 0 or (exited and not self._new_line.wait(0.5)):  # no more output is coming
                    raise AssertionError(f"no line with {text!r} in serve's output:\n" + "\n".join(self.lines))
                self._new_line.wait(min(left, 0.5))

    def get(self, target: str) -> tuple[int, dict[str, str], bytes]:
        """GET ``target`` exactly as written (no client-side normalisation of ``..`` or ``%2e``)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.putrequest("GET", target, skip_accept_encoding=True)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def events(self) -> EventStream:
        return EventStream(self.host, self.port)

    def stop(self) -> int:
        """Ctrl-C, as an author stops it; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)  # the pipe is at its end once the process is gone
        if self.process.stdout is not None and not self._reader.is_alive():
            self.process.stdout.close()
        return self.process.returncode


class EventStream:
    """A reader of the server-sent events at /__press/events, as the page's EventSource reads them."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=30)
        self.sock.sendall(f"GET {EVENTS_PATH} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
        self.file = self.sock.makefile("rb")
        while self.file.readline() not in (b"\r\n", b"\n", b""):
            pass  # the response headers

    def next_build(self, timeout: float = 30) -> dict:
        """The data of the next `build` event; TimeoutError after ``timeout`` s, keep-alive comments or not."""
        deadline = time.monotonic() + timeout
        event, data = None, None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no build event within {timeout} s")
            self.sock.settimeout(left)
            raw = self.file.readline()
            if not raw:
                break
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                data = line[len("data: ") :]
            elif not line and event == "build" and data is not None:
                return json.loads(data)
        raise AssertionError("the event stream closed")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[ServeProcess]:
    project = copy_project(FIXTURES / "minimal", tmp_path_factory.mktemp("preview") / "project")
    server = ServeProcess(project, project / "build")
    yield server
    server.stop()


# Pure parts, no server.


def test_request_paths_resolve_only_to_files_inside_the_output_folder(tmp_path: Path):
    out = tmp_path / "build"
    (out / "figures").mkdir(parents=True)
    (out / "a.html").write_text("a")
    (out / "figures" / "f.png").write_bytes(b"png")
    (tmp_path / "secret.txt").write_text("secret")
    assert resolve_request(out, "/a.html") == (out / "a.html").resolve()
    assert resolve_request(out, "/figures/f.png?x=1#top") == (out / "figures" / "f.png").resolve()
    for target in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/..%5csecret.txt", "/figures/"):
        assert resolve_request(out, target) is None, target


def test_inject_puts_the_reload_script_before_the_closing_body_tag():
    page = b"<!DOCTYPE html><html><body><p>x</p></body></html>"
    served = inject(page, 7)
    assert served.startswith(b"<!DOCTYPE html><html><body><p>x</p><script>")
    assert served.endswith(b"</script>\n</body></html>")
    assert b"var served = 7;" in served and EVENTS_PATH.encode() in served


# Against a running server.


def test_root_serves_the_article_with_the_reload_script(served: ServeProcess):
    status, headers, body = served.get("/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert b'<h1 class="title">' in body and EVENTS_PATH.encode() in body


def test_the_reload_script_is_only_in_the_served_response_never_in_the_built_file(served: ServeProcess):
    built = (served.out / f"{SLUG}.html").read_bytes()
    assert EVENTS_PATH.encode() not in built
    _, _, body = served.get(f"/{SLUG}.html")
    script_start = body.index(b"<script>\n/* press serve")
    script_end = body.index(b"</script>\n", script_start) + len(b"</script>\n")
    assert body[:script_start] + body[script_end:] == built


def test_the_served_page_with_its_reload_script_is_valid_html5(served: ServeProcess, tmp_path: Path):
    from test_html_page import nu_html_check

    page = tmp_path / "served.html"
    page.write_bytes(served.get("/")[2])
    result = nu_html_check(page)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize(
    "target",
    [
        "/../pyproject.toml",
        "/../../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/%2E%2E/pyproject.toml",
        "/..%2fpyproject.toml",
        "/%2e%2e%2fpyproject.toml",
        "/..%5cpyproject.toml",
        "/..\\pyproject.toml",
        "/%252e%252e/pyproject.toml",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/etc/passwd",
        f"/{ROOT}/pyproject.toml",
        "/build/../../pyproject.toml",
    ],
)
def test_paths_outside_the_output_folder_answer_404(served: ServeProcess, target: str):
    (served.project / "pyproject.toml").write_text("secret = true\n")
    status, _, body = served.get(target)
    assert status == 404
    assert b"secret" not in body and b"root:" not in body


def test_folders_are_never_listed(served: ServeProcess):
    (served.out / "figures").mkdir(exist_ok=True)
    (served.out / "figures" / "plot.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    for target in ("/figures", "/figures/", "/figures/?C=M;O=D"):
        status, _, body = served.get(target)
        assert status == 404, target
        assert b"plot.svg" not in body
    status, headers, _ = served.get("/figures/plot.svg")
    assert status == 200 and headers["content-type"] == "image/svg+xml"


def test_hidden_files_and_links_leading_outside_are_not_served(served: ServeProcess):
    (served.out / ".record.json").write_text("{}")
    (served.out / "escape.txt").symlink_to(served.project / "manuscript" / "metadata.yaml")
    assert served.get("/.record.json")[0] == 404
    assert served.get("/escape.txt")[0] == 404


def test_event_stream_sends_the_current_build_state_on_connect(served: ServeProcess):
    stream = served.events()
    try:
        state = stream.next_build()
    finally:
        stream.close()
    assert state["ok"] is True and state["diagnostics"] == [] and state["generation"] >= 1


def test_an_edit_rebuilds_and_a_broken_citation_reports_its_key_file_and_line(served: ServeProcess):
    intro = served.project / "manuscript" / "intro.md"
    stream = served.events()
    try:
        first = stream.next_build()
        edit(intro, "Chronic pain is common", "Chronic pain is very common")
        rebuilt = stream.next_build()
        assert rebuilt["ok"] and rebuilt["generation"] == first["generation"] + 1
        assert b"Chronic pain is very common" in served.get("/")[2]

        edit(intro, "[@smith2020pain]", "[@smiht2020pain]")
        failed = stream.next_build()
        [diagnostic] = [d for d in failed["diagnostics"] if d["severity"] == "error"]
        assert diagnostic["file"] == "manuscript/intro.md" and diagnostic["line"] == 3
        assert diagnostic["code"] == "unresolved-citation" and "smiht2020pain" in diagnostic["message"]
        # The server keeps running and keeps serving the last good page.
        status, _, body = served.get("/")
        assert status == 200 and b"Chronic pain is very common" in body

        edit(intro, "[@smiht2020pain]", "[@smith2020pain]")
        fixed = stream.next_build()
        assert fixed["ok"] is True and fixed["diagnostics"] == []
        assert fixed["generation"] == rebuilt["generation"] + 1
    finally:
        stream.close()
    served.wait_for_line("unresolved citation 'smiht2020pain'", timeout=5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("start", range(5))  # five fresh starts: a race between answering and watching shows
def test_a_save_right_after_the_first_answer_is_shown(tmp_path: Path, start: int):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    intro = project / "manuscript" / "intro.md"
    server = ServeProcess(project, tmp_path / "out", port=free_port())
    try:
        page = server.first_answer("/")
        edit(intro, "Chronic pain is common", f"Chronic pain is common (save {start})")
        served = int(re.search(rb"var served = (\d+);", page)[1])  # the generation the page reloads after
        stream = server.events()
        try:
            state = stream.next_build(timeout=20)
            while state["generation"] == served:  # the state at connection may still be the first build's
                state = stream.next_build(timeout=20)
        except TimeoutError:
            raise AssertionError(
                "no rebuild within 20 s of a save made right after the first answer:\n" + "\n".join(server.lines)
            ) from None
        finally:
            stream.close()
        assert state["ok"] and state["generation"] > served, state
        assert f"Chronic pain is common (save {start})".encode() in server.get("/")[2]
    finally:
        server.stop()


def test_catching_up_rebuilds_a_save_made_before_watching_began_and_nothing_else(tmp_path: Path):
    from press.preview import PreviewState, Rebuilder

    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    state = PreviewState(None)
    rebuild = Rebuilder(project, tmp_path / "out", state)
    assert rebuild()
    first = state.snapshot()
    rebuild.catch_up()  # nothing saved since: no new build, so no reload of an open page
    assert state.snapshot() == first
    edit(project / "manuscript" / "intro.md", "Chronic pain is common", "Chronic pain is rare")
    rebuild.catch_up()
    caught = state.snapshot()
    assert caught.generation == first.generation + 1 and not caught.diagnostics
    assert b"Chronic pain is rare" in state.page.read_bytes()


def test_catching_up_after_a_failed_first_build_rebuilds_only_when_a_file_changed(tmp_path: Path):
    from press.preview import PreviewState, Rebuilder

    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    intro = project / "manuscript" / "intro.md"
    edit(intro, "[@smith2020pain]", "[@smiht2020pain]")
    state = PreviewState(None)
    rebuild = Rebuilder(project, tmp_path / "out", state)
    assert not rebuild()
    failed = state.snapshot()
    assert failed.diagnostics
    rebuild.catch_up()
    assert state.snapshot() == failed  # the same files fail the same way: not built again
    edit(intro, "[@smiht2020pain]", "[@smith2020pain]")
    rebuild.catch_up()
    fixed = state.snapshot()
    assert fixed.version == failed.version + 1 and fixed.generation == failed.generation + 1
    assert not fixed.diagnostics


@pytest.mark.parametrize("folder", ["figures", "art/plots"])
def test_a_changed_figure_rebuilds_wherever_in_the_project_it_is(tmp_path: Path, folder: str):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    (project / folder).mkdir(parents=True)
    figure = project / folder / "dot.svg"
    figure.write_text(svg_of_radius(1), encoding="utf-8")
    edit(project / "manuscript" / "results.md", "# Results\n", f"# Results\n\n![A dot.](../{folder}/dot.svg)\n")
    server = ServeProcess(project, tmp_path / "out")
    try:
        stream = server.events()
        first = stream.next_build()
        stream.close()
        assert first["ok"], first
        # One save: the server answered only once every folder, this one too, was watched (issue 16).
        figure.write_text(svg_of_radius(2), encoding="utf-8")
        server.wait_for_line(f"({folder}/dot.svg changed)", timeout=30)
        stream = server.events()
        rebuilt = stream.next_build()
        stream.close()
        assert rebuilt["ok"] and rebuilt["generation"] > first["generation"]
    finally:
        server.stop()


def svg_of_radius(radius: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><circle cx="10" cy="10" r="{radius}"/></svg>\n'
    )


def test_serve_stops_cleanly_on_ctrl_c(tmp_path: Path):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    server = ServeProcess(project, tmp_path / "out")
    assert server.host == "127.0.0.1"  # loopback unless --host says otherwise
    stream = server.events()
    stream.next_build()
    started = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - started < 10
    server.wait_for_line("preview stopped", timeout=5)
    assert not any("Traceback" in line for line in server.lines), server.lines
    stream.close()


def test_serve_on_a_port_in_use_says_so_and_exits_1(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(ROOT / "build.py"), "serve", "--root", str(FIXTURES / "minimal")]
            + ["--out", str(tmp_path / "out"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_follows_a_paper_kept_as_one_markdown_file(tmp_path: Path):
    project = tmp_path / "paper"
    shutil.copytree(FIXTURES / "joss", project)
    server = ServeProcess(project, project / "build", port=free_port())
    try:
        page = server.first_answer("/")
        assert b"tidepool: a small Python package" in page
        edit(project / "paper.md", "long, gappy and", "long, often gappy and")
        served = int(re.search(rb"var served = (\d+);", page)[1])
        stream = server.events()
        try:
            state = stream.next_build(timeout=30)
            while state["generation"] == served:
                state = stream.next_build(timeout=30)
        finally:
            stream.close()
        assert state["ok"], state
        assert b"long, often gappy and" in server.get("/")[2]
    finally:
        server.stop()
