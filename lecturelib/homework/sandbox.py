"""Processes that run student code for the grader: the kernel a submission executes in, and the function sandbox.

Both are started by :mod:`lecturelib.homework.grade` as ``python -m lecturelib.homework.sandbox kernel|serve ...``,
inside the bubblewrap sandbox of :mod:`lecturelib.homework.isolation` (its own filesystem view, PID namespace and
empty network namespace; ``--isolated`` says so), or, with the grader's ``--no-isolation``, as plain processes of the
grader's user. Either way they confine themselves before any student code runs:

- **limits** (``resource.setrlimit``): address space (``--memory`` MB: an allocation beyond it raises MemoryError),
  file size (64 MB), no core dumps; OpenBLAS and friends run one thread;
- **no network**: inside the sandbox, bubblewrap's network namespace; without it, where the operating system allows
  it, a new, empty network namespace (Linux ``unshare``, as root or where unprivileged user namespaces are enabled).
  Elsewhere the process runs with the network of the grader, and writes so to the file named by ``--report``, which
  the grader copies into its summary.

``kernel`` then replaces itself by an IPython kernel (``ipykernel_launcher -f CONNECTION_FILE``; the grader talks to
it through Unix sockets, which a network namespace does not cut). ``serve`` loads student functions (cloudpickle
blobs taken from the kernel) and answers calls: the grader sends arguments it drew, as plain data, and gets plain data
back (:mod:`lecturelib.homework.codec`); nothing in this process can reach the grader's state.
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import json
import os
import select
import struct
import subprocess
import sys
import time
from typing import Any

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def isolate_network() -> str:
    """Move this process into a new network namespace with no interfaces up; return how (or why not)."""
    if not sys.platform.startswith("linux"):
        return f"network not isolated: no network namespaces on {sys.platform}"
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError as err:  # pragma: no cover
        return f"network not isolated: {err}"
    if libc.unshare(CLONE_NEWNET) == 0:
        return "network isolated (new network namespace)"
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
        return "network isolated (new user and network namespace)"
    return (
        f"network not isolated: unshare failed ({os.strerror(ctypes.get_errno())}); run the grader as root or "
        "enable unprivileged user namespaces"
    )


def confine(memory_mb: int, isolated: bool = False) -> str:
    """Apply the limits and the network isolation to this process; return the network report.

    ``isolated``: the process runs in the bubblewrap sandbox, whose network namespace is empty already.
    """
    import resource

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024 * 1024, 64 * 1024 * 1024))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if isolated:
        return "network isolated (bubblewrap sandbox)"
    return isolate_network()


def thread_environment() -> dict[str, str]:
    return {**os.environ, **{name: "1" for name in THREAD_VARIABLES}, "MPLBACKEND": "Agg"}


# ------------------------------------------------------------------------------------------------------------------
# The function server (untrusted side)
# ------------------------------------------------------------------------------------------------------------------


def _send(stream: Any, message: dict[str, Any]) -> None:  # a pipe's binary stream
    data = json.dumps(message, separators=(",", ":")).encode()
    stream.write(struct.pack(">Q", len(data)) + data)
    stream.flush()


def _receive(stream: Any) -> dict[str, Any] | None:  # a pipe's binary stream
    header = stream.read(8)
    if len(header) < 8:
        return None
    (size,) = struct.unpack(">Q", header)
    return json.loads(stream.read(size))


def serve() -> None:
    """Load the functions, then answer ``{"call": id, "args": [...]}`` with ``{"ok": value}`` or ``{"error": ...}``."""
    import cloudpickle

    from lecturelib.homework import codec

    # The protocol keeps the real stdin/stdout; the student's prints go to stderr.
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    first = _receive(requests)
    functions = {}
    for key, blob in (first or {}).get("functions", {}).items():
        try:
            functions[key] = cloudpickle.loads(base64.b64decode(blob))
        except Exception as err:  # a function that cannot be rebuilt here: every call reports it
            functions[key] = err
    _send(replies, {"ready": True})
    while True:
        message = _receive(requests)
        if message is None:
            return
        function = functions.get(message.get("call"))
        try:
            if isinstance(function, Exception) or function is None:
                raise RuntimeError(f"your function could not be loaded for grading ({type(function).__name__})")
            args = [codec.decode(a) for a in message.get("args", [])]
            value = function(*args)
            reply = {"ok": codec.encode(value, functions=False)}
        except BaseException as err:
            reply = {"error": f"{type(err).__name__}: {str(err)[:300]}"}
        _send(replies, reply)


# ------------------------------------------------------------------------------------------------------------------
# The grader's side of the function sandbox
# ------------------------------------------------------------------------------------------------------------------


class SandboxError(RuntimeError):
    """The student's function raised, ran out of time or memory, or the sandbox died."""


class FunctionSandbox:
    """A ``serve`` process holding a submission's functions; :meth:`proxy` gives callables for the checks."""

    def __init__(
        self,
        blobs: dict[str, str],
        *,
        memory_mb: int,
        call_timeout: float,
        isolated: bool = True,
        scratch_mb: int = 256,
    ) -> None:
        self.blobs = blobs
        self.isolated = isolated
        self.scratch_mb = scratch_mb
        self.memory_mb = memory_mb
        self.call_timeout = call_timeout
        self.process: subprocess.Popen | None = None
        self.dead: str | None = None

    def _start(self) -> None:
        argv = [sys.executable, "-m", "lecturelib.homework.sandbox", "serve", "--memory", str(self.memory_mb)]
        if self.isolated:
            from .isolation import command

            argv = command([*argv, "--isolated"], scratch_mb=self.scratch_mb)
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=thread_environment(),
        )
        _send(self.process.stdin, {"functions": self.blobs})
        self._reply(timeout=60 + self.call_timeout)

    def _reply(self, timeout: float) -> dict:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        stream = self.process.stdout
        assert stream is not None  # started with stdout=PIPE
        chunks = b""
        needed = 8
        size = None
        while len(chunks) < needed:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([stream], [], [], max(0.0, remaining))
            if not ready:
                self.close()
                self.dead = f"your function took longer than {self.call_timeout:g} s"
                raise SandboxError(self.dead)
            chunk = os.read(stream.fileno(), max(needed - len(chunks), 1 << 16))
            if not chunk:
                self.close()
                self.dead = "your function ended the process it ran in (out of memory, or it exited)"
                raise SandboxError(self.dead)
            chunks += chunk
            if size is None and len(chunks) >= 8:
                (size,) = struct.unpack(">Q", chunks[:8])
                if size > 200 * 1024 * 1024:
                    self.close()
                    self.dead = "your function returned too much data"
                    raise SandboxError(self.dead)
                needed = 8 + size
        return json.loads(chunks[8:needed])

    def call(self, key: str, args: tuple) -> Any:
        from lecturelib.homework import codec

        if self.dead:
            raise SandboxError(self.dead)
        if self.process is None:
            self._start()
        assert self.process is not None
        try:
            _send(self.process.stdin, {"call": key, "args": [codec.encode(a, functions=False) for a in args]})
        except (BrokenPipeError, OSError) as err:
            self.dead = "your function ended the process it ran in (out of memory, or it exited)"
            raise SandboxError(self.dead) from err
        reply = self._reply(self.call_timeout)
        if "error" in reply:
            raise SandboxError(str(reply["error"]))
        try:
            return codec.decode(reply.get("ok"))
        except codec.DecodeError as err:
            raise SandboxError(f"your function returned something that is not plain data ({err})") from err

    def proxy(self, key: str) -> RemoteFunction:
        return RemoteFunction(self, key)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class RemoteFunction:
    """A student's function as the checks see it: calling it runs it in the sandbox on plain data."""

    def __init__(self, sandbox: FunctionSandbox, key: str) -> None:
        self._sandbox, self._key = sandbox, key

    def __call__(self, *args: Any) -> Any:
        return self._sandbox.call(self._key, args)

    def __repr__(self) -> str:
        return "<student function>"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lecturelib.homework.sandbox")
    parser.add_argument("mode", choices=("kernel", "serve"))
    parser.add_argument("--memory", type=int, required=True, help="address-space limit in MB")
    parser.add_argument("--report", default=None, help="file to write the network report to")
    parser.add_argument("--isolated", action="store_true", help="running in the bubblewrap sandbox")
    parser.add_argument("-f", dest="connection_file", default=None)
    args = parser.parse_args(argv)
    report = confine(args.memory, args.isolated)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as handle:
            handle.write(report)
    if args.mode == "serve":
        serve()
        return
    if args.isolated:  # ipykernel's banner (it sees no parent) is not for the grader's terminal
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    os.execve(
        sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", args.connection_file], thread_environment()
    )


if __name__ == "__main__":
    main()
