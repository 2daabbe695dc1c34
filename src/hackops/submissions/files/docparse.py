"""PDF parsing under hard time and memory bounds, in workers of its own.

pypdf is pure Python, and a hostile PDF (a huge or deep object graph, a content stream that
inflates to gigabytes) can keep it busy for minutes or make it take all the memory there is. A
thread can be neither stopped nor limited, so each parse runs in a child process instead:

- forked from a forkserver that has pypdf loaded (a few milliseconds, not an interpreter start);
- under `RLIMIT_AS` (address space: the memory bound) and `RLIMIT_CPU`, set in the child before
  it opens the file, and killed at a wall-clock deadline by its parent;
- reading a named copy of the spooled file, so nothing large crosses a pipe.

The parent's waiting happens on a `ThreadPoolExecutor` dedicated to documents (`WORKERS`
threads, which also bounds how many parses run at once) — not the default executor, where
argon2 and the rest of `asyncio.to_thread` run. A parse that runs out of time or memory is a
`FileRejected("pdf_too_complex")` with a reason people can act on: the upload is refused with
it, the pipeline step fails with it (permanently; retrying would not help).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import shutil
import signal
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import IO, Any, TypeVar

from hackops.submissions.files import checks as filechecks
from hackops.submissions.files.kinds import FilePolicy, FileRejected

T = TypeVar("T")
MiB = 1024 * 1024
WORKERS = 2


@dataclass(frozen=True)
class ParseLimits:
    seconds: float = 20.0
    memory_bytes: int = 1024 * MiB


LIMITS = ParseLimits()
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="documents")
_context: Any = None


def too_complex(reason: str) -> FileRejected:
    return FileRejected("pdf_too_complex", f"The PDF could not be read: {reason}.")


async def in_document_pool(func: Callable[..., T], *args: Any) -> T:
    """Run `func(*args)` on the documents' own threads (not the default executor)."""
    return await asyncio.get_running_loop().run_in_executor(_pool, func, *args)


def check_pdf(fileobj: IO[bytes], policy: FilePolicy, limits: ParseLimits | None = None) -> Any:
    """`filechecks.check_pdf` in a bounded child process (blocking: call it off the loop)."""
    return _bounded("check", fileobj, 0, limits or LIMITS)


def extract_pdf_text(fileobj: IO[bytes], max_chars: int, limits: ParseLimits | None = None) -> str:
    """`filechecks.extract_pdf_text` in a bounded child process (blocking)."""
    return str(_bounded("text", fileobj, max_chars, limits or LIMITS))


def _forkserver() -> Any:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["hackops.submissions.files.docparse"])
        _context = context
    return _context


def _bounded(task: str, fileobj: IO[bytes], arg: int, limits: ParseLimits) -> Any:
    context = _forkserver()
    fileobj.seek(0)
    with tempfile.NamedTemporaryFile(prefix="hackops-pdf-") as copy:
        shutil.copyfileobj(fileobj, copy, 256 * 1024)
        copy.flush()
        fileobj.seek(0)
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(
            target=_child, args=(sender, task, copy.name, arg, limits), daemon=True
        )
        child.start()
        sender.close()
        try:
            outcome = receiver.recv() if receiver.poll(limits.seconds) else ("timeout",)
        except EOFError:  # killed by RLIMIT_CPU, or crashed
            outcome = ("died",)
        finally:
            if child.is_alive():
                child.kill()
            child.join()
            receiver.close()
    if outcome == ("died",) and child.exitcode not in _OUT_OF_TIME:
        # It ended without a word and not by a time limit: under RLIMIT_AS that is a MemoryError
        # raised where nothing could catch it (even printing it failed: "lost sys.stderr").
        outcome = ("memory",)
    match outcome:
        case ("ok", value):
            return value
        case ("rejected", code, message):
            raise FileRejected(code, message)
        case ("memory",):
            raise too_complex(f"reading it needs more than {limits.memory_bytes // MiB} MiB")
        case _:
            raise too_complex(f"reading it takes longer than {limits.seconds:g} seconds")


#: The outcome of a parse that ran out of memory, made before the parse (when memory is left).
MEMORY = ("memory",)
#: How a child stopped by a time limit ends: SIGXCPU (RLIMIT_CPU), SIGKILL (the wall clock).
_OUT_OF_TIME = frozenset({-signal.SIGXCPU, -signal.SIGKILL})


def _child(sender: Connection, task: str, path: str, arg: int, limits: ParseLimits) -> None:
    """In the child: limit itself, parse, send one outcome."""
    cpu = int(limits.seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    outcome: tuple[Any, ...]
    try:
        with open(path, "rb") as file:
            if task == "check":
                outcome = ("ok", filechecks.check_pdf(file, FilePolicy(max_bytes=1)))
            else:
                outcome = ("ok", filechecks.extract_pdf_text(file, arg))
    except MemoryError:
        outcome = MEMORY
    except Exception as exc:
        # Short of memory, CPython and pypdf fail in odd ways (SystemError, parse errors the
        # check turns into "invalid"): a peak address space at the limit says which it was.
        # Reading the peak may itself run out of memory: that answers the question too.
        try:
            near = _near_limit(limits.memory_bytes)
        except MemoryError:
            near = True
        if near:
            outcome = MEMORY
        elif isinstance(exc, FileRejected):
            outcome = ("rejected", exc.code, exc.message)
        else:
            outcome = ("rejected", "invalid_pdf", "The file is not a readable PDF document.")
    sender.send(outcome)
    sender.close()


def _near_limit(memory_bytes: int) -> bool:
    """Whether this process's peak address space came within 64 MiB of `memory_bytes`."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024 >= memory_bytes - 64 * MiB
    except (OSError, ValueError):
        pass
    return False
