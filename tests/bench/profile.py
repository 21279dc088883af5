"""Profile a running server with py-spy (optional: skipped when py-spy is not installed) and summarize the stacks.

py-spy writes "raw" folded stacks (`frame;frame;... count`, root first); from them we compute, per function,
self time (leaf samples) and cumulative time (samples with the function anywhere on the stack), both for our
own code (orchestrator/*) and per library (grpc, openai, httpx2, pydantic, protobuf, asyncio, ...).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# `python -m orchestrator serve` frames sit under everything: the event loop runs inside them.
_ENTRY_POINTS = ("orchestrator/__main__.py", "orchestrator/cli.py")
NO_OWN_FRAME = "(no orchestrator frame: event loop, grpc callbacks)"
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    """The py-spy executable next to our interpreter, or on PATH."""
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, output: Path, rate: int = 250, gil: bool = True, native: bool = False) -> str:
    """Sample `pid` for `seconds`; returns py-spy's last output line. Raises on failure."""
    exe = py_spy()
    if exe is None:
        raise FileNotFoundError("py-spy is not installed")
    argv = [exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(rate)]
    argv += ["--format", "raw", "--full-filenames", "--output", str(output)]
    if gil:  # only samples holding the GIL: idle threads blocked in C (grpc's poller, executors) are not "busy"
        argv.append("--gil")
    if native:
        argv.append("--native")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0 or not output.exists():
        raise RuntimeError(f"py-spy failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return (done.stdout.strip().splitlines() or [""])[-1]


def category(path: str) -> str:
    """Who owns a frame: `ours`, a site-packages distribution, `stdlib:<module>`, or `native`/`other`."""
    if "site-packages/" in path:
        parts = path.split("site-packages/", 1)[1].split("/")
        top = parts[0].removesuffix(".py")
        if top == "google" and len(parts) > 1:
            return "protobuf" if parts[1] == "protobuf" else f"google.{parts[1]}"
        if top == "orchestrator_client":
            return "orchestrator_client (stubs)"
        return top.split(".", 1)[0]
    if "/orchestrator/" in path and "orchestrator_client" not in path:
        return "ours"
    if "/tests/" in path:
        return "tests"
    match = re.search(r"/lib/python3\.\d+/([^/]+)", path)
    if match:
        return f"stdlib:{match.group(1).removesuffix('.py')}"
    if match := re.search(r"/([^/]+?)(?:\.cpython[^/]*)?\.so(?:\.[\d.]+)?$", path):
        return f"native:{match.group(1)}"
    return "native" if not path else "other"


def _parse(folded: str) -> list[tuple[list[tuple[str, str, str]], int]]:
    stacks = []
    for raw in folded.splitlines():
        line, _, count = raw.rpartition(" ")
        if not line or not count.isdigit():
            continue
        frames = []
        for frame in line.split(";"):
            match = _FRAME.match(frame.strip())
            if match:
                frames.append((match["func"], match["file"], match["line"] or ""))
            elif not frame.startswith(("process ", "thread ")):
                frames.append((frame.strip(), "", ""))
        if frames:
            stacks.append((frames, int(count)))
    return stacks


def _short(path: str, root: str) -> str:
    if path.startswith(root):
        return path[len(root) :].lstrip("/")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", path)


def summarize(folded: str, root: str, top: int = 15) -> dict[str, Any]:
    stacks = _parse(folded)
    total = sum(count for _, count in stacks)
    if not total:
        return {"samples": 0}
    self_ours: Counter[str] = Counter()
    cumulative_ours: Counter[str] = Counter()
    attributed_ours: Counter[str] = Counter()  # deepest own frame: its time plus the libraries it calls
    self_lines: Counter[str] = Counter()
    self_by_owner: Counter[str] = Counter()
    self_functions: Counter[str] = Counter()
    entry_by_owner: Counter[str] = Counter()  # first frame below our code per library: what we call into
    for frames, count in stacks:
        func, path, line = frames[-1]
        owner = category(path)
        self_by_owner[owner] += count
        self_functions[f"{func} ({_short(path, root)})"] += count
        seen: set[str] = set()
        deepest_own = NO_OWN_FRAME
        for f, p, _ in frames:
            if category(p) != "ours" or p.endswith(_ENTRY_POINTS):
                continue
            name = f"{f} ({_short(p, root)})"
            deepest_own = name
            if name not in seen:
                seen.add(name)
                cumulative_ours[name] += count
        attributed_ours[deepest_own] += count
        if owner == "ours":
            name = f"{func} ({_short(path, root)})"
            self_ours[name] += count
            self_lines[f"{_short(path, root)}:{line} {func}"] += count
        called = {category(p) for _, p, _ in frames if category(p) not in ("ours", "stdlib:asyncio", "other")}
        for lib in called:
            entry_by_owner[lib] += count

    def pct(counter: Counter[str], n: int = top) -> list[dict[str, Any]]:
        return [{"name": k, "samples": v, "pct": round(100 * v / total, 2)} for k, v in counter.most_common(n)]

    return {
        "samples": total,
        "ours_self": pct(self_ours),
        "ours_self_lines": pct(self_lines, 10),
        "ours_cumulative": pct(cumulative_ours),
        "ours_attributed": pct(attributed_ours),  # by deepest own frame, with the library calls it makes
        "self_by_owner": pct(self_by_owner, 20),
        "inclusive_by_library": pct(entry_by_owner, 20),
        "self_functions_all": pct(self_functions, 25),
    }
