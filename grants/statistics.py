"""The committee's statistics as people read them: each table worded in Swedish or English,
its chart drawn here as SVG, and the annual report (PDF) and its CSV.

The office's page, the annual report and `grants statistics` all word the figures here, so
a figure reads the same wherever it is read. The words are the office's catalog's
(`N_` below, Swedish in locale/sv/LC_MESSAGES/office.po).

The charts are plain SVG written here rather than by a charting library: a horizontal bar
per row is a few rectangles and texts, and writing them ourselves keeps the SVG small,
free of scripts and fonts of its own, and accessible the way we want (role="img", a title
and a description; the table beside it is the accessible version).
"""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

from grants.catalogs import translations
from grants.render import format_amount, format_decimal, format_number, render_pdf
from grants.settings import Settings
from models.statistics import (
    FEWER,
    FEWEST,
    HUNDREDTHS,
    KRONOR,
    PERCENT,
    Cell,
    Row,
    Statistics,
    Table,
)


def N_(message: str) -> str:
    """Marks a message for the office's catalog; it is translated where it is worded."""
    return message


HEADINGS = {
    "applications_by_call": N_("Applications received, by call"),
    "applications_by_municipality": N_("Applications received, by municipality"),
    "outcomes": N_("Decisions, by outcome"),
    "promise": N_("Decided by the day promised in the acknowledgement"),
    "decision_days": N_("Days from receipt to decision"),
    "money_by_municipality": N_("Granted and paid, by municipality"),
    "community_talks": N_("Community Talks"),
    "impact": N_("What the grants led to"),
}
COLUMNS = {
    "applications_by_call": (N_("Call"), N_("Applications")),
    "applications_by_municipality": (N_("Municipality"), N_("Applications")),
    "outcomes": (N_("Outcome"), N_("Decisions")),
    "promise": (N_("Decided"), N_("Decisions")),
    "decision_days": (N_("Figure"), N_("Value")),
    "money_by_municipality": (
        N_("Municipality"),
        N_("Cases"),
        N_("Granted (kr)"),
        N_("Paid (kr)"),
    ),
    "community_talks": (N_("Figure"), N_("Number")),
    "impact": (N_("Figure"), N_("Value")),
}
ROW_LABELS = {
    "total": N_("Total"),
    "granted": N_("Granted"),
    "partly_granted": N_("Partly granted"),
    "refused": N_("Refused"),
    "dismissed": N_("Dismissed"),
    "closed": N_("Withdrawn or written off"),
    "on_time": N_("By the promised day"),
    "late": N_("After the promised day"),
    "median_days": N_("Median days from receipt to decision"),
    "median_promised_days": N_("Median days promised"),
    "share_on_time": N_("Share decided by the promised day"),
    "talks_held": N_("Community Talks held"),
    "projects_presented": N_("Projects presented at a Talk"),
    "projects": N_("Projects granted"),
    "granted_kronor": N_("Granted (kr)"),
    "further_funding_won": N_("Further funding won (kr)"),
    "leverage": N_("Further funding won per krona granted"),
    "followed_up": N_("Projects followed up a year after their end"),
    "still_running": N_("Of them, activities still running"),
}
NAMED = ("municipality", "call")  # rows labelled by a name, shown as it is
FEWER_TEXT = N_("fewer than 5")
PROTECTING_TEXT = N_("not shown")
CHART_DESCRIPTION = N_(
    "Bar chart of the table beside it. A bar is left out where the figure is not shown: "
    "it counts fewer than 5, or would let such a figure be worked out."
)
SUPPRESSION_NOTE = N_(
    "“fewer than 5”: the figure counts fewer than five cases, organisations or people and "
    "is not shown. “not shown”: the figure is hidden so that a figure of fewer than five "
    "cannot be worked out from the total."
)


@dataclass(frozen=True)
class WordedTable:
    """A table as a page or a report shows it: heading, column headings, rows of texts (the
    first the row's label), the total row (or None) and the chart (or None)."""

    name: str
    heading: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    total: tuple[str, ...] | None
    chart: Markup | None


class Wording:
    """The words of one language (`sv` or `en`) for the figures."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._catalog = translations("office", language)

    def __call__(self, message: str) -> str:
        return self._catalog.gettext(message)

    def cell(self, cell: Cell) -> str:
        """A figure as text: `50 000 kr`, `60 %`, `1 234` (days: the row says so);
        suppressed, why."""
        if cell.value is None:
            if cell.kind == KRONOR or cell.hidden != FEWER:
                return self(PROTECTING_TEXT)
            return self(FEWER_TEXT)
        if cell.kind == KRONOR:
            return format_amount(cell.value, self.language)
        if cell.kind == HUNDREDTHS:
            return format_decimal(Decimal(cell.value) / 100, self.language)
        if cell.kind == PERCENT:
            return f"{format_number(cell.value, self.language)}\N{NO-BREAK SPACE}%"
        return format_number(cell.value, self.language)

    def label(self, row: Row) -> str:
        """What a row counts: an outcome or a figure by its words, a municipality or a call
        by its name."""
        if row.key in NAMED:
            return row.label
        return self(ROW_LABELS.get(row.label, row.label))

    def line(self, row: Row) -> tuple[str, ...]:
        return (self.label(row), *(self.cell(c) for c in row.cells))

    def table(self, table: Table) -> WordedTable:
        heading = self(HEADINGS.get(table.name, table.name))
        named = COLUMNS.get(table.name, (N_("Figure"), *[N_("Value")] * len(table.columns)))
        columns = tuple(self(c) for c in named)
        return WordedTable(
            table.name,
            heading,
            columns,
            [self.line(r) for r in table.rows],
            self.line(table.total) if table.total is not None else None,
            self.chart(table, heading, columns) if table.chart is not None else None,
        )

    def tables(self, figures: Statistics) -> list[WordedTable]:
        return [self.table(t) for t in figures.tables]

    def chart(self, table: Table, heading: str, columns: tuple[str, ...]) -> Markup:
        """The table's chart column as horizontal bars."""
        assert table.chart is not None
        column = table.chart
        bars = [(self.label(r), r.cells[column], self.cell(r.cells[column])) for r in table.rows]
        what = columns[column + 1] if len(columns) > column + 1 else heading
        return bar_chart(f"{heading}: {what}", self(CHART_DESCRIPTION), bars, table.name)


LABEL_WIDTH, BAR_WIDTH, VALUE_WIDTH, ROW_HEIGHT, TOP = 190, 210, 110, 26, 8
BAR_COLOUR = "#1f5a8a"  # 7:1 against white: the bars are seen, not only their figures


def bar_chart(title: str, description: str, bars: list[tuple[str, Cell, str]], key: str) -> Markup:
    """A horizontal bar per row, its label left and its figure right; a suppressed row has
    no bar, only its text. `key` makes the ids of the title and description unique on a
    page that shows several charts."""
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = TOP * 2 + ROW_HEIGHT * max(len(bars), 1)
    largest = max((c.value or 0 for _label, c, _text in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" class="chart" '
        f'aria-labelledby="chart-{key}-title chart-{key}-desc">',
        f'<title id="chart-{key}-title">{escape(title)}</title>',
        f'<desc id="chart-{key}-desc">{escape(description)}</desc>',
    ]
    for i, (label, cell, text) in enumerate(bars):
        y = TOP + i * ROW_HEIGHT
        middle = y + ROW_HEIGHT / 2 + 4
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{middle}" text-anchor="end" font-size="12" '
            f'fill="#111">{escape(_shortened(label))}</text>'
        )
        length = 0 if cell.value is None else round(BAR_WIDTH * cell.value / largest)
        if length:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{length}" '
                f'height="{ROW_HEIGHT - 8}" fill="{BAR_COLOUR}"/>'
            )
        style = ' font-style="italic"' if cell.value is None else ""
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 6}" y="{middle}" font-size="12" '
            f'fill="#111"{style}>{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _shortened(label: str, longest: int = 28) -> str:
    """A label that fits left of the bars; the table beside it has it whole."""
    return label if len(label) <= longest else label[: longest - 1] + "…"


def statistics_name(first: date, last: date, suffix: str) -> str:
    """The file name: the year, for a calendar year; otherwise the period."""
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and (
        first.year == last.year
    ):
        return f"arsrapport-{first.year}{suffix}"
    return f"statistik-{first.isoformat()}--{last.isoformat()}{suffix}"


def statistics_csv(figures: Statistics) -> bytes:
    """Every figure as one line: table, row, column and the figure as the report writes it
    (a suppressed figure as its reason, never a number), in Swedish, UTF-8."""
    words = Wording("sv")
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["tabell", "rad", "kolumn", "värde"])
    for table in words.tables(figures):
        for line in [*table.rows, *([table.total] if table.total else [])]:
            for heading, value in zip(table.columns[1:], line[1:], strict=True):
                writer.writerow([table.heading, line[0], heading, value])
    return text.getvalue().encode("utf-8")


def statistics_pdf(settings: Settings, figures: Statistics) -> bytes:
    """The annual report as PDF/A, in Swedish: the period, then each table with its chart,
    under the authority's letterhead."""
    words = Wording("sv")
    return render_pdf(
        "reports/statistics.html",
        {
            "authority": settings.config_file.authority,
            "first": figures.first,
            "last": figures.last,
            "year": figures.first.year
            if statistics_name(figures.first, figures.last, "").startswith("arsrapport")
            else None,
            "tables": words.tables(figures),
            "note": words(SUPPRESSION_NOTE),
            "fewest": FEWEST,
        },
    )
