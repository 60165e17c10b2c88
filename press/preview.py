"""`serve`: build the HTML, serve the output folder, rebuild on every save and reload the open page.

One warm process: a watcher thread rebuilds with ``press.build.build`` and publishes the outcome to
the page over server-sent events. The reload script is added to HTML responses as they are sent,
never to the files in the output folder, and only files inside that folder are ever served.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import signal
import socket
import sys
import threading
import time
import webbrowser
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from .build import build
from .load import display_path, templates_for
from .model import Diagnostic, PressError, error
from .project import input_folders
from .report import print_diagnostics

EVENTS_PATH = "/__press/events"
# Python's table may lack the web fonts' type; a browser is stricter with a font served as octets.
mimetypes.add_type("font/woff2", ".woff2")
KEEPALIVE_SECONDS = 15.0
# The watcher yields once the files have been quiet for STEP_MS; DEBOUNCE_MS caps how long a burst is grouped.
STEP_MS = 25
DEBOUNCE_MS = 1000
# How long the watcher waits for a change before it reports that it is still watching (and how late,
# at most, the first report that it watches comes).
WATCHING_MS = 100

CLIENT_SCRIPT = """<script>
/* press serve: reload on a good rebuild, show the diagnostics of a failed one. Not in the built file. */
(function () {
  "use strict";
  var served = __GENERATION__;
  var overlay = null;
  function clear() { if (overlay) { overlay.remove(); overlay = null; } }
  function where(d) {
    var text = d.file;
    if (d.line !== null) { text += ":" + d.line; if (d.column !== null) { text += ":" + d.column; } }
    return text;
  }
  function show(diagnostics) {
    clear();
    overlay = document.createElement("div");
    overlay.id = "press-overlay";
    overlay.setAttribute("role", "alert");
    overlay.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:2147483647;max-height:60vh;" +
      "overflow:auto;overflow-wrap:anywhere;background:#2b0b0b;color:#fff;" +
      "font:14px/1.5 ui-monospace,Menlo,Consolas,monospace;" +
      "padding:12px 16px;border-top:4px solid #e5534b;box-shadow:0 -4px 16px rgba(0,0,0,.4)";
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Hide";
    close.style.cssText = "float:right;font:inherit;margin-left:1em";
    close.addEventListener("click", clear);
    var title = document.createElement("p");
    title.style.cssText = "margin:0 0 8px;font-weight:bold;color:#ffb4ae";
    title.textContent = "The build failed; the page shows the last good build. Fix and save:";
    var list = document.createElement("ul");
    list.style.cssText = "margin:0;padding-left:1.2em";
    diagnostics.forEach(function (d) {
      var item = document.createElement("li");
      item.className = "press-diagnostic";
      var place = document.createElement("strong");
      place.textContent = where(d);
      item.appendChild(place);
      item.appendChild(document.createTextNode(": " + d.severity + "[" + d.code + "]: " + d.message));
      if (d.hint) {
        var hint = document.createElement("div");
        hint.style.color = "#d8d8d8";
        hint.textContent = "hint: " + d.hint;
        item.appendChild(hint);
      }
      list.appendChild(item);
    });
    overlay.appendChild(close);
    overlay.appendChild(title);
    overlay.appendChild(list);
    document.body.appendChild(overlay);
  }
  var source = new EventSource("__EVENTS__");
  source.addEventListener("build", function (event) {
    var state = JSON.parse(event.data);
    if (!state.ok) { show(state.diagnostics); }
    else if (state.generation !== served) { source.close(); window.location.reload(); }
    else { clear(); }
  });
})();
</script>
"""

PLACEHOLDER_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>press preview</title></head>
<body><p>No page has been built yet: the build failed. Fix the problems listed below and save.</p></body></html>
"""


@dataclass
class Snapshot:
    """The outcome of the latest build, as the page sees it."""

    version: int  # counts every build outcome, good or bad
    generation: int  # counts good builds: a page served at generation G reloads when a later one succeeds
    diagnostics: list[Diagnostic] = field(default_factory=list)  # empty after a good build

    def event(self) -> bytes:
        data = {
            "version": self.version,
            "generation": self.generation,
            "ok": not self.diagnostics,
            "diagnostics": [d.as_dict() for d in self.diagnostics],
        }
        return f"id: {self.version}\nevent: build\ndata: {json.dumps(data)}\n\n".encode()


class PreviewState:
    """The last build's outcome, shared by the rebuild thread and the request threads."""

    def __init__(self, page: Path | None) -> None:
        self._changed = threading.Condition()
        self._snapshot = Snapshot(0, 0)
        self._closed = False
        self.page = page

    def snapshot(self) -> Snapshot:
        with self._changed:
            return self._snapshot

    def record(self, diagnostics: list[Diagnostic], page: Path | None = None) -> None:
        with self._changed:
            old = self._snapshot
            generation = old.generation + (0 if diagnostics else 1)
            self._snapshot = Snapshot(old.version + 1, generation, list(diagnostics))
            if page is not None:
                self.page = page
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> Snapshot | None:
        """The snapshot once its version differs from ``seen`` (or after ``timeout``); None once closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._snapshot.version != seen, timeout)
            return None if self._closed else self._snapshot

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()


def request_path(target: str) -> str:
    """The path of a request target, still percent-encoded: no query, no fragment.

    Not urlsplit(): it would read ``//host/x`` as a network location and hand back ``/x``.
    """
    return target.split("?", 1)[0].split("#", 1)[0]


def resolve_request(out: Path, target: str) -> Path | None:
    """The file inside ``out`` that a request target names, or None when it names nothing servable.

    Refuses anything that could step outside ``out``: ``..`` and ``.`` segments, hidden names,
    backslashes, NUL, empty segments (``//etc``), and symbolic links that resolve elsewhere.
    """
    path = unquote(request_path(target))
    if not path.startswith("/") or "\\" in path or "\0" in path:
        return None
    segments = path[1:].split("/")
    if any(not s or s.startswith(".") for s in segments):
        return None
    base = out.resolve()
    candidate = base.joinpath(*segments).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def inject(html: bytes, generation: int) -> bytes:
    """The page with the reload script added before ``</body>`` (or at the end)."""
    script = CLIENT_SCRIPT.replace("__GENERATION__", str(generation)).replace("__EVENTS__", EVENTS_PATH).encode()
    cut = html.lower().rfind(b"</body>")
    if cut < 0:
        return html + script
    return html[:cut] + script + html[cut:]


def make_handler(out: Path, state: PreviewState) -> type[BaseHTTPRequestHandler]:
    class PreviewHandler(BaseHTTPRequestHandler):
        server_version = "press-preview"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            self._respond(body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._respond(body=False)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's signature
            pass  # every request would drown the rebuild messages

        def _respond(self, body: bool) -> None:
            path = request_path(self.path)
            if path == EVENTS_PATH:
                self._events(body)
                return
            generation = state.snapshot().generation  # before reading the file: see inject()
            if path in ("/", "/index.html"):
                page = state.page if state.page is not None and state.page.is_file() else None
                data = page.read_bytes() if page else PLACEHOLDER_PAGE.encode()
                self._send(HTTPStatus.OK, "text/html; charset=utf-8", inject(data, generation), body)
                return
            file = resolve_request(out, self.path)
            if file is None and path == "/favicon.ico":
                # Browsers ask for it unprompted; "no icon" is not an error worth a console message.
                self._send(HTTPStatus.NO_CONTENT, "image/x-icon", b"", body)
                return
            if file is None:
                self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"404 not found\n", body)
                return
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            data = file.read_bytes()
            if content_type == "text/html":
                data = inject(data, generation)
            if content_type.startswith("text/"):
                content_type += "; charset=utf-8"
            self._send(HTTPStatus.OK, content_type, data, body)

        def _send(self, status: HTTPStatus, content_type: str, data: bytes, body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(data)

        def _events(self, body: bool) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if not body:
                return
            try:
                # The current state first, so a page opened during a failed build shows the overlay at once.
                snapshot: Snapshot | None = state.snapshot()
                self.wfile.write(b"retry: 500\n\n")
                while snapshot is not None:
                    self.wfile.write(snapshot.event())
                    self.wfile.flush()
                    seen = snapshot.version
                    while (snapshot := state.wait(seen, KEEPALIVE_SECONDS)) is not None and snapshot.version == seen:
                        self.wfile.write(b": keep-alive\n\n")  # finds closed connections
                        self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

    return PreviewHandler


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True  # open event streams must not keep the process alive after Ctrl-C


def make_server(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> PreviewServer:
    server_class = PreviewServer
    if ":" in host:
        server_class = type("PreviewServer6", (PreviewServer,), {"address_family": socket.AF_INET6})
    return server_class((host, port), handler)


class Rebuilder:
    """Builds the HTML and records each outcome; the server keeps running whatever the build says."""

    def __init__(self, root: Path, out: Path, state: PreviewState) -> None:
        self.root, self.out, self.state = root, out, state
        self.ok = False  # the last build succeeded, so its record fingerprints every input it read
        # The files under the watched folders as they were just before the last build read them.
        self._before: dict[Path, tuple[int, int]] = {}
        self._before_paths: list[Path] = []

    def __call__(self, reason: str = "", unless_up_to_date: bool = False) -> bool:
        """Build; with ``unless_up_to_date``, an outcome where nothing was rebuilt is not published
        (no reload of the page, no message)."""
        started = time.perf_counter()
        self._before_paths = watched_paths(self.root, self.out)
        self._before = file_states(self._before_paths, self.out)
        try:
            result = build(self.root, self.out, ["html"])
        except PressError as exc:
            self.ok = False
            self.state.record(exc.diagnostics or [error(display_path(self.root), None, "build", "build failed")])
            print_diagnostics(exc.diagnostics)
            print(f"build failed{reason}; the page shows the diagnostics", file=sys.stderr, flush=True)
            return False
        except Exception as exc:  # noqa: BLE001 - a bug of ours is shown in the page too; the server lives on
            self.ok = False
            diagnostic = error(display_path(self.root), None, "internal-error", f"{type(exc).__name__}: {exc}")
            self.state.record([diagnostic])
            print_diagnostics([diagnostic])
            return False
        self.ok = True
        if unless_up_to_date and not result.rebuilt:
            return True
        page = next((o.path for o in result.outputs if o.format == "html"), None)
        self.state.record([], page=page)
        print_diagnostics(result.warnings)
        print(f"built the HTML in {time.perf_counter() - started:.2f} s{reason}", flush=True)
        return True

    def catch_up(self) -> None:
        """Rebuild whatever was saved after the last build read its inputs and before watching began.

        Called each time watching (re)starts: a save in that gap raises no event. After a good build
        the build record holds each input's hash from before it was read, so the incremental build
        redoes exactly what changed, and nothing at all when nothing did. A failed build leaves no
        record: the files' sizes and modification times from before it are compared instead.
        """
        reason = " (saved while serve started watching)"
        if self.ok:
            self(reason, unless_up_to_date=True)
        elif file_states(self._before_paths, self.out) != self._before:
            self(reason)


def file_states(folders: list[Path], out: Path) -> dict[Path, tuple[int, int]]:
    """Every file under ``folders`` (outside ``out``), with its modification time and size."""
    found: dict[Path, tuple[int, int]] = {}
    out = out.resolve()
    for folder in folders:
        for path in folder.rglob("*"):
            try:
                stat = path.stat()
            except OSError:
                continue  # removed while listed: the next listing tells
            if path.is_file() and not path.resolve().is_relative_to(out):
                found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


def watched_paths(root: Path, out: Path) -> list[Path]:
    """What a change in rebuilds: the project's input folders (press.project, as the build fingerprints
    them), the templates in use, and any other folder of the project holding an input of the last
    build (a figure kept in art/, say), as its record lists them."""
    candidates = [*input_folders(root), *templates_for(root).dirs, *recorded_folders(root, out)]
    found: list[Path] = []
    for path in sorted(dict.fromkeys(p.resolve() for p in candidates), key=lambda p: len(p.parts)):
        if path.is_dir() and not any(path.is_relative_to(folder) for folder in found):
            found.append(path)
    return found


def recorded_folders(root: Path, out: Path) -> list[Path]:
    """The folders of the files inside the project that the build record in ``out`` names as inputs."""
    from .record import read_record

    folders = set()
    for entry in read_record(out).outputs.values():
        for key in entry.inputs:
            kind, _, name = key.partition(":")
            if kind == "file" and not name.startswith("/"):  # a path inside the project
                folders.add((root / name).parent)
    return sorted(folders)


def watch_and_rebuild(
    root: Path, out: Path, rebuild: Rebuilder, stop: threading.Event, watching: threading.Event | None = None
) -> None:
    """Rebuild after each burst of saves; saves made during a build are grouped into the next one.

    ``watching`` is set once every folder is watched, so that the server answers only when a save
    can no longer go unseen; what was saved before that is rebuilt then (Rebuilder.catch_up). When
    a build brings in a folder not watched yet (a figure from a new place), watching starts over
    with it, and catches up again.
    """
    import watchfiles

    watch_filter = watchfiles.DefaultFilter(ignore_paths=[str(out.resolve())])
    try:
        while not stop.is_set():
            paths = watched_paths(root, out)
            started = False
            for changes in watchfiles.watch(
                *paths,
                watch_filter=watch_filter,
                debounce=DEBOUNCE_MS,
                step=STEP_MS,
                stop_event=stop,
                # The first answer, a change or this timeout, comes only once the folders are watched.
                rust_timeout=WATCHING_MS,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                if not started:
                    started = True
                    if watching is not None:
                        watching.set()
                    if not changes:  # with changes, the rebuild below reads every file as it is: it catches up too
                        rebuild.catch_up()
                elif not changes:
                    continue  # a timeout: still watching, and nothing changed
                if changes:
                    # Editors save through temporary files: name only the files that are still there.
                    names = sorted({display_path(Path(name)) for _change, name in changes if Path(name).is_file()})
                    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
                    rebuild(f" ({shown} changed)" if names else "")
                if watched_paths(root, out) != paths:
                    break
    except Exception as exc:  # noqa: BLE001 - say so rather than serve a page that silently stops following saves
        print(f"serve: stopped watching for changes: {type(exc).__name__}: {exc}; restart serve", file=sys.stderr)
    finally:
        if watching is not None:
            watching.set()  # never leave the server waiting for a watcher that has given up


def existing_page(out: Path) -> Path | None:
    """The article from an earlier build, to show while the first build fails."""
    pages = sorted(out.glob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True) if out.is_dir() else []
    return pages[0] if pages else None


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """The ``serve`` command."""
    return serve(args.root, args.out_dir, args.host, args.port, args.open_browser)


def serve(root: Path, out: Path, host: str, port: int, open_browser: bool) -> int:
    """Serve ``out`` on ``host:port``, rebuilding the HTML on every change until Ctrl-C; 0 on a clean stop."""
    state = PreviewState(existing_page(out))
    try:
        server = make_server(host, port, make_handler(out, state))
    except OSError as exc:
        print(f"serve: cannot listen on {host}:{port}: {exc.strerror}; choose another --port", file=sys.stderr)
        return 1
    stop = threading.Event()
    watcher: threading.Thread | None = None
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C even when started with SIGINT ignored (a background job of a script); `kill` stops as cleanly.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        rebuild = Rebuilder(root, out, state)
        rebuild()
        paths = watched_paths(root, out)
        watching = threading.Event()
        watcher = threading.Thread(
            target=watch_and_rebuild, args=(root, out, rebuild, stop, watching), name="press-watch", daemon=True
        )
        watcher.start()
        # Requests wait in the listening socket until the watcher watches: a page seen is a page that
        # follows every save made after it (issue 16: the first save was lost in 4 of 6 starts).
        while not watching.wait(0.25):
            pass
        bound_host, bound_port = server.server_address[:2]
        url = f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}/"
        print(f"serving {display_path(out)} at {url}", flush=True)
        print(f"watching {', '.join(display_path(p) for p in paths) or 'nothing'}; press Ctrl-C to stop", flush=True)
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        state.close()
        server.server_close()
        if watcher is not None:
            watcher.join(timeout=30)  # let a rebuild in progress publish or discard its files
    print("preview stopped", flush=True)
    return 0
