"""Edit-to-reload latency of `python build.py serve`: prints figures, asserts nothing.

Starts the preview server on a temporary copy of the manuscript, listens to its event stream as the
page does, then edits a section file several times and measures the time from each save to the
`build` event that makes the page reload. Target: under 0.5 s.

    .venv/bin/python benchmarks/preview_latency.py [--edits 7] [--root .]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLCHAIN = Path(__file__).resolve().parent.parent
SECTION = Path("manuscript") / "01-introduction.md"


def start_server(project: Path) -> tuple[subprocess.Popen, str, int]:
    process = subprocess.Popen(
        [sys.executable, str(TOOLCHAIN / "build.py"), "serve", "--port", "0"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        print(f"  serve: {line.rstrip()}")
        match = re.search(r" at http://([\d.]+):(\d+)/", line)
        if match:
            return process, match.group(1), int(match.group(2))
    raise SystemExit("serve exited before printing its address")


def build_events(host: str, port: int):
    """Yield the data of each `build` event from /__press/events."""
    sock = socket.create_connection((host, port), timeout=60)
    sock.sendall(f"GET /__press/events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    stream = sock.makefile("rb")
    event = None
    for raw in stream:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "build":
            yield json.loads(line[6:])
            event = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=7, help="how many edits to time (default: 7)")
    parser.add_argument("--root", type=Path, default=TOOLCHAIN, help="the manuscript project to copy")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="press-latency-") as tmp:
        project = Path(tmp)
        for name in ("manuscript", "bib", "templates"):
            if (args.root / name).is_dir():
                shutil.copytree(args.root / name, project / name)
        section = project / SECTION
        original = section.read_text(encoding="utf-8")
        started = time.perf_counter()
        process, host, port = start_server(project)
        print(f"server up (first build included) in {time.perf_counter() - started:.2f} s")
        try:
            events = build_events(host, port)
            next(events)  # the state on connect
            latencies = []
            for n in range(1, args.edits + 1):
                time.sleep(0.3)  # an author's saves are seconds apart: keep the edits apart too
                section.write_text(original.replace("Chronic pain", f"Chronic pain (edit {n})", 1), encoding="utf-8")
                saved = time.perf_counter()
                state = next(events)
                latencies.append(time.perf_counter() - saved)
                print(f"  edit {n}: {latencies[-1] * 1000:6.0f} ms to the reload event (ok={state['ok']})")
            median = statistics.median(latencies)
            print(
                f"edit -> reload event over {len(latencies)} edits: median {median * 1000:.0f} ms, "
                f"min {min(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
                f"(target < 500 ms: {'met' if median < 0.5 else 'not met'})"
            )
        finally:
            process.send_signal(signal.SIGINT)
            rest, _ = process.communicate(timeout=30)
            builds = [float(x) for x in re.findall(r"built the HTML in ([\d.]+) s \(", rest)]
            if builds:
                print(f"rebuild inside the server (build() alone): median {statistics.median(builds) * 1000:.0f} ms")
            print(f"serve exited with {process.returncode}")


if __name__ == "__main__":
    main()
