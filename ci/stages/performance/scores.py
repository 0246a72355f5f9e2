"""Medians, spreads and the baseline that knows noise.

Each score of a URL and form factor is measured `runs` times: its median counts, its spread (min..max) says how much
it moved between runs. A baseline file holds each score's median and spread from an earlier run set. A score
regressed when it dropped more than `max_drop` points below the baseline's median **and** lies outside the spread of
both run sets: this run's median is below every baseline run, and the baseline's median above every run of this one.
Noise that moves a score inside either spread never fails a build.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ci.stages.performance.lhr import Run

BASELINE_VERSION = 1


@dataclass(frozen=True)
class Spread:
    median: float
    min: float
    max: float

    def to_json(self) -> dict[str, float]:
        return {"median": self.median, "min": self.min, "max": self.max}


def spread(values: Sequence[float]) -> Spread:
    return Spread(round(statistics.median(values), 1), min(values), max(values))


def representative(runs: Sequence[Run]) -> int:
    """The index of the median run, as Lighthouse CI picks its representative run: the runs ordered by performance
    score, ties by LCP (slower first), and the middle one (of two middles, the lower score)."""
    order = sorted(range(len(runs)), key=lambda i: (runs[i].scores["performance"], -runs[i].metrics["lcp_ms"]))
    return order[(len(order) - 1) // 2]


def regressed(before: Spread, now: Spread, max_drop: float) -> bool:
    """A real drop: more than `max_drop` points, and outside both run sets' spreads."""
    return before.median - now.median > max_drop and now.median < before.min and before.median > now.max


Key = tuple[str, str, str]
"""(URL path, form factor, category id)."""


def baseline_json(spreads: Mapping[Key, Spread], version: str, runs: int) -> bytes:
    """The baseline file (`--update-baseline`): each score's median and spread by path, form factor and category."""
    scores: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for (path, form_factor, category), value in sorted(spreads.items()):
        scores.setdefault(path, {}).setdefault(form_factor, {})[category] = value.to_json()
    doc = {"version": BASELINE_VERSION, "lighthouse": version, "runs": runs, "scores": scores}
    return (json.dumps(doc, indent=2) + "\n").encode()


def read_baseline(data: bytes) -> dict[Key, Spread]:
    """A baseline file's spreads; ValueError saying what is wrong with it."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("version") != BASELINE_VERSION:
            raise ValueError(f"not a Lighthouse baseline (version {BASELINE_VERSION})")
        return {(path, form_factor, category): Spread(float(v["median"]), float(v["min"]), float(v["max"]))
                for path, by_form in doc["scores"].items() for form_factor, by_category in by_form.items()
                for category, v in by_category.items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a Lighthouse baseline: missing {exc}") from None
