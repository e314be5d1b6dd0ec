"""A figure as the API, the page and the CSV export see it: a few totals and one table."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Figure:
    name: str  # the API and CSV name, e.g. "containment"
    title: str  # shown on the page
    definition: str  # how it is counted, shown under the chart
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "definition": self.definition,
            "summary": self.summary,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
        }

    def to_csv(self) -> str:
        """The table (or, for a figure without rows, its totals), UTF-8 with a BOM so Excel reads it."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        if self.rows:
            writer.writerow(self.columns)
            writer.writerows([_cell(v) for v in row] for row in self.rows)
        else:
            writer.writerow(("metric", "value"))
            writer.writerows((k, _cell(v)) for k, v in self.summary.items())
        return "\ufeff" + out.getvalue()


def _cell(value: Any) -> Any:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value
