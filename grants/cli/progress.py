"""What a person sees while `grants demo` runs: the call's stages, then its table.

On a terminal, while it runs, a live display below the command's own lines: the intake,
then the rounds of the call on the simulated clock with a bar of the cases decided. Anywhere
else (a pipe, a file, a CI log), and with --verbose (Prefect's run logs would tear a live
display), a plain line says that the call has begun. Either way the call ends in one plain
line that sums it up.
"""

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
)

from grants.demo import Round
from models import clock

CALL = "The call, on the simulated clock"


class CallProgress:
    """The demo's stages, told as they end: `intake_done()` after each file taken in,
    `round(done)` after each round of the call (demo.run's report)."""

    def __init__(self, console: Console, files: int, verbose: bool) -> None:
        self.console = console
        self.live = console.is_terminal and not console.is_dumb_terminal and not verbose
        self.bars = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            BarColumn(bar_width=10),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            console=console,
            disable=not self.live,
            transient=True,
        )
        self.intake = self.bars.add_task("Intake", total=files, unit="files")
        self.call: TaskID | None = None
        self.rounds: list[Round] = []

    def __enter__(self) -> "CallProgress":
        self.bars.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.bars.stop()
        if kind is None and self.rounds:
            self.console.print(f"{self._summary()}.", highlight=False, soft_wrap=True)

    def intake_done(self) -> None:
        """One file taken in; after the last, the call begins."""
        self.bars.advance(self.intake)
        if not self.bars.finished:
            return
        self.call = self.bars.add_task(CALL, total=None, unit="decided")
        if not self.live:
            self.console.print(
                f"{CALL} from {clock.today().isoformat()}: each working day people act, "
                "letters go out and the sweep does what is due …",
                highlight=False,
                soft_wrap=True,
            )

    def round(self, done: Round) -> None:
        """One round of the call is over."""
        self.rounds.append(done)
        if self.call is not None:
            self.bars.update(
                self.call,
                description=f"The call: {done.day.isoformat()}, round {done.number}, "
                f"{self._steps()} steps, {self._letters()} letters",
                completed=done.decided,
                total=done.cases,
            )

    def _summary(self) -> str:
        first, last = self.rounds[0], self.rounds[-1]
        return (
            f"The call: {len(self.rounds)} round(s), {first.day.isoformat()} to "
            f"{last.day.isoformat()}: {self._steps()} steps taken by people, "
            f"{self._letters()} letters sent; {last.decided} of {last.cases} cases decided"
        )

    def _steps(self) -> int:
        return sum(r.steps for r in self.rounds)

    def _letters(self) -> int:
        return sum(r.letters for r in self.rounds)
