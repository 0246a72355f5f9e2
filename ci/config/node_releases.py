"""The Node.js release schedule: each major's first release, LTS start and end of life, and the majors of a given day.

Dates are those of the Node.js Release working group's `schedule.json` (github.com/nodejs/Release, as of its
2026-07-02 commit); odd majors never become LTS. Add a major here when the working group schedules it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Release:
    """One major: released on `start`, LTS from `lts` (None: never LTS), unsupported from `end`."""

    start: date
    lts: date | None
    end: date


RELEASES: dict[int, Release] = {
    18: Release(date(2022, 4, 19), date(2022, 10, 25), date(2025, 4, 30)),
    19: Release(date(2022, 10, 18), None, date(2023, 6, 1)),
    20: Release(date(2023, 4, 18), date(2023, 10, 24), date(2026, 4, 30)),
    21: Release(date(2023, 10, 17), None, date(2024, 6, 1)),
    22: Release(date(2024, 4, 24), date(2024, 10, 29), date(2027, 4, 30)),
    23: Release(date(2024, 10, 16), None, date(2025, 6, 1)),
    24: Release(date(2025, 5, 6), date(2025, 10, 28), date(2028, 4, 30)),
    25: Release(date(2025, 10, 15), None, date(2026, 6, 1)),
    26: Release(date(2026, 5, 5), date(2026, 10, 28), date(2029, 4, 30)),
    27: Release(date(2027, 4, 22), None, date(2030, 4, 30)),
}

CODENAMES = {"hydrogen": 18, "iron": 20, "jod": 22, "krypton": 24}
"""LTS codenames as `.nvmrc` writes them (`lts/jod`)."""


def supported(today: date) -> list[int]:
    """The majors released and not yet end-of-life on `today`, oldest first."""
    return [major for major, r in RELEASES.items() if r.start <= today < r.end]


def lts(today: date) -> list[int]:
    """The LTS majors (active or maintenance) on `today`, oldest first; past the table, its newest LTS major."""
    found = [major for major, r in RELEASES.items() if r.lts is not None and r.lts <= today < r.end]
    return found or [max(major for major, r in RELEASES.items() if r.lts is not None)]
