"""Processes a command starts die with it, however it ends.

A command may start Prefect's temporary server, render workers and multiprocessing's
resource tracker. They stop when the command exits normally; after `kill -9` nothing in
the command runs any more, so a guardian does it: a small process forked before any other
(no threads yet), waiting on a pipe whose other end only the command holds. When the pipe
closes — the command ended, by any means — the guardian ends every process that carries the
command's mark in its environment (everything started under it inherits the mark),
politely first, then for good.
"""

import os
import signal
import time
from contextlib import suppress
from pathlib import Path

MARK = "GRANTS_PROCESS_TREE"
GRACE = 3.0  # seconds between SIGTERM and SIGKILL


def guard_process_tree() -> None:
    """Fork the guardian for this command; a no-op where a guardian already watches."""
    if os.environ.get(MARK) or not Path("/proc/self/environ").exists():
        return
    token = f"{os.getpid()}-{time.time_ns()}"
    os.environ[MARK] = token  # inherited by every process started from now on
    watch, held = os.pipe()  # not inheritable: only this process holds `held`
    if os.fork():
        os.close(watch)
        return  # the command goes on, holding `held` open until it ends
    os.close(held)
    try:
        _become_quiet()
        while os.read(watch, 1):  # nothing is written: this returns when the command ends
            pass
        end_marked(token)
    finally:
        os._exit(0)


def _become_quiet() -> None:
    """The guardian survives what ends the command (Ctrl-C, a closed terminal) and holds
    none of its output open."""
    for name in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(name, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDWR)
    for stream in (0, 1, 2):
        os.dup2(devnull, stream)


def end_marked(token: str) -> list[int]:
    """End every process whose environment carries `token`; return their ids."""
    marked = _marked(token)
    for pid in marked:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline and any(_alive(pid) for pid in marked):
        time.sleep(0.05)
    for pid in marked:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return marked


def _marked(token: str) -> list[int]:
    entry = f"{MARK}={token}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with suppress(OSError):
            if entry in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    """Still running (a zombie waiting for its new parent to reap it counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
