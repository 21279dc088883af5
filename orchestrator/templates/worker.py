"""The template worker: a child process that compiles and renders templates under hard limits.

Started by `pool.WorkerPool` as `python -m orchestrator.templates.worker LIMITS_JSON`. It lowers its own
priority, caps its address space (RLIMIT_AS), says {"ready": true}, then answers one request at a time:
frames of a 4-byte big-endian length and a JSON object. Every loop iteration and macro call checks the
render deadline, so a runaway loop ends itself with a clear error; the parent kills the process if it
does not answer in time (a single slow builtin call), and starts another.

Requests:  {"op": "check", "key", "source", "field"} -> {"variables": [...]}
           {"op": "render", "key", "source", "field", "values"} -> {"text": "..."}
Failures:  {"error": {"reason", "message", "violations": [[field, description], ...]}}
"""

from __future__ import annotations

import json
import os
import resource
import select
import struct
import sys
import time
from collections import OrderedDict
from typing import Any

from jinja2 import Template, nodes

from orchestrator.errors import FieldViolation, OrchestratorError, Reason, invalid_fields
from orchestrator.templates.sandbox import (
    RenderLimitError,
    Sandbox,
    compile_tree,
    parse,
    render_text,
    undeclared_variables,
)

HEADER = struct.Struct(">I")
TICK = "__tick__"
_CACHE_SIZE = 128
_state = {"deadline": 0.0, "seconds": 0.0}


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    return HEADER.pack(len(body)) + body


def _tick() -> str:
    if time.monotonic() > _state["deadline"]:
        raise RenderLimitError(f"rendering took longer than {_state['seconds']} s")
    return ""


def _with_ticks(env: Sandbox, tree: nodes.Template, field_name: str) -> nodes.Template:
    """Every loop body and macro body first checks the deadline (reserved names cannot disable it)."""
    for node in tree.find_all((nodes.Name, nodes.Macro)):
        if node.name.startswith("__"):
            raise invalid_fields(
                f"{field_name} uses the reserved name {node.name[:64]!r}",
                [FieldViolation(field_name, "names starting with '__' are reserved")],
                reason=Reason.INVALID_TEMPLATE,
            )
    for block in tree.find_all((nodes.For, nodes.Macro, nodes.CallBlock)):
        tick = nodes.ExprStmt(nodes.Call(nodes.Name(TICK, "load"), [], [], None, None))
        tick.set_lineno(block.lineno)
        tick.set_environment(env)
        block.body.insert(0, tick)
    return tree


class Worker:
    def __init__(self, limits: dict[str, Any]) -> None:
        self.max_chars = int(limits["max_output_chars"])
        self.seconds = _state["seconds"] = float(limits["max_seconds"])
        self.env = Sandbox(self.max_chars)
        self.env.globals[TICK] = _tick
        self.cache: OrderedDict[str, tuple[Template, frozenset[str]]] = OrderedDict()

    def _template(self, request: dict[str, Any], field_name: str) -> tuple[Template, frozenset[str]]:
        key = request["key"]
        cached = self.cache.pop(key, None)
        if cached is None:
            tree = parse(self.env, request["source"], field_name)
            variables = undeclared_variables(tree, field_name)  # before the ticks join the tree
            cached = compile_tree(self.env, _with_ticks(self.env, tree, field_name), field_name), variables
        self.cache[key] = cached
        while len(self.cache) > _CACHE_SIZE:
            self.cache.popitem(last=False)
        return cached

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        field_name = str(request.get("field", "template"))
        template, variables = self._template(request, field_name)
        if request["op"] == "check":
            return {"variables": sorted(variables)}
        _state["deadline"] = time.monotonic() + self.seconds
        return {"text": render_text(template, request["values"], field_name, self.max_chars, self.seconds)}

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.handle(request)
        except OrchestratorError as exc:
            violations = [[v.field, v.description] for v in exc.field_violations]
            return {"error": {"reason": str(exc.reason), "message": exc.message, "violations": violations}}
        except (RecursionError, MemoryError) as exc:
            what = "memory" if isinstance(exc, MemoryError) else "nesting depth"
            message = f"{request.get('field', 'template')} needs more {what} than allowed"
            return {"error": {"reason": Reason.TEMPLATE_RENDER_LIMIT, "message": message, "violations": []}}
        except Exception as exc:  # a failure the sandbox does not classify: still the template's, not ours
            message = f"rendering {request.get('field', 'template')} failed: {type(exc).__name__}"
            return {"error": {"reason": Reason.TEMPLATE_RENDER_FAILED, "message": message, "violations": []}}


def _read_exactly(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _confine(max_memory_bytes: int) -> None:
    os.nice(10)  # the server's own work comes first when CPU is scarce
    resource.setrlimit(resource.RLIMIT_AS, (max_memory_bytes, max_memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> None:
    limits = json.loads(sys.argv[1])
    out = os.dup(1)
    os.dup2(2, 1)  # a stray print must not corrupt the frames
    _confine(int(limits["max_memory_bytes"]))
    worker = Worker(limits)
    idle = float(limits["worker_idle_seconds"])
    _write_all(out, encode({"ready": True}))
    while True:
        readable, _, _ = select.select([0], [], [], idle)
        if not readable:
            return  # unused for a long time: the parent starts another when needed
        try:
            (size,) = HEADER.unpack(_read_exactly(0, HEADER.size))
            request = json.loads(_read_exactly(0, size))
        except EOFError:
            return  # the parent closed the pipe or exited
        reply = worker.answer(request)
        try:
            frame = encode(reply)
        except MemoryError:
            frame = encode({"error": {"reason": Reason.TEMPLATE_RENDER_LIMIT, "message": "out of memory"}})
        _write_all(out, frame)


if __name__ == "__main__":
    main()
