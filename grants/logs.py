"""Where Prefect's run logs go: a file under GRANTS_HOME, the console only with --verbose.

Prefect configures Python's logging from a logging.yml when it is imported; ours
(config/logging.yml) sends every record of Prefect's loggers to GRANTS_HOME/logs/
grants.log and keeps only errors on the console, so a person reads what the command says
itself (its reports, refusals, letters not delivered). The flow and task run loggers still
send to Prefect's API, which is its UI in server mode. What the command starts (Prefect's
temporary server, render workers) inherits the environment and logs to the same file.

Prefect's server process imports this module too (the log file's handler): it imports
nothing but the standard library.
"""

import logging
import os
import sys
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO

LOGGING_YML = Path(__file__).resolve().parent.parent / "config" / "logging.yml"


def log_file(home: Path) -> Path:
    """The file Prefect's run logs are appended to (rotated at 10 MB, five kept)."""
    return (home / "logs" / "grants.log").resolve()


class SharedLogFile(RotatingFileHandler):
    """One log file that several processes append to (each command, the office, Prefect's
    temporary server), rotated by size; a process whose file another has rotated reopens
    the new one rather than going on writing into the old."""

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        if self.stream is not None and not _same_file(self.baseFilename, self.stream):
            self.stream.close()
            self.stream = self._open()
        return bool(super().shouldRollover(record))


def _same_file(path: str, stream: IO[str]) -> bool:
    try:
        return os.path.samestat(os.stat(path), os.fstat(stream.fileno()))
    except FileNotFoundError:
        return False


def configure_logging(home: Path, verbose: bool) -> None:
    """Point Prefect at our logging.yml; with `verbose`, its run logs reach the console too.

    Only before Prefect is imported: once it is (a test harness imported it first), it has
    configured this process's logging and its children's environment is not ours to set.
    A logging.yml of the person's own (PREFECT_LOGGING_SETTINGS_PATH) is left to them, as
    is any PREFECT_LOGGING_* item they set.
    """
    if "prefect" in sys.modules:
        return
    chosen = os.environ.setdefault("PREFECT_LOGGING_SETTINGS_PATH", str(LOGGING_YML))
    if Path(chosen) != LOGGING_YML:
        return
    path = log_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_FILE_FILENAME", str(path))
    if verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_PREFECT_CONSOLE_LEVEL", "NOTSET")


_command = {"ended": False}


class OffTheConsole(logging.Filter):
    """On a console handler: what Prefect logs once the command has ended, and anything of
    its temporary server process (which shares the command's console), goes to the log
    file only.

    A person reads the command's report there. What goes wrong in the temporary server while
    a flow runs fails the flow, which the command reports; what it and this process's
    services log while they stop (a flush cut off mid-way: a 60-line CancelledError; events
    for a server already gone) is only noise. Prefect marks its temporary server's process
    with PREFECT__SERVER_EPHEMERAL."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _command["ended"] and not os.environ.get("PREFECT__SERVER_EPHEMERAL")


def after_the_command() -> None:
    """Once the command has said all it has to: what Prefect prints while this process
    shuts down goes to the log file, not the console. Its services drain their queues at
    exit, to a server that may be gone by then ("Service 'EventsWorker' failed", and "---
    Error logging to API ---" written to standard error past logging), so standard error
    itself is pointed at the file too. Only with our logging.yml (configure_logging named
    the file)."""
    _command["ended"] = True
    path = os.environ.get("PREFECT_LOGGING_HANDLERS_FILE_FILENAME")
    if not path or os.environ.get("PREFECT_LOGGING_SETTINGS_PATH") != str(LOGGING_YML):
        return
    sys.stderr.flush()
    try:
        file = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError:
        return  # the console, then, rather than nowhere
    os.dup2(file, sys.stderr.fileno())
    os.close(file)


def note(home: Path, message: str) -> None:
    """Append one line of grants' own to the log file, in its format, whatever Prefect's
    logging was set up to do in this process: a record that must reach the file (the audit
    trail's anchor, grants.anchors)."""
    path = log_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    moment = datetime.now().astimezone().isoformat(sep=" ", timespec="milliseconds")
    with path.open("a", encoding="utf-8") as file:
        file.write(f"{moment} | {os.getpid()} | INFO    | grants - {message}\n")
