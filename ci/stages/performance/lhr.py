"""What the judge reads of a Lighthouse result (LHR) JSON: its category scores in points, three metrics and the
audits that failed.

Scores are 0-1 in the LHR and 0-100 points here; a category Lighthouse could not score (null) or a run with a
`runtimeError` is unreadable, never a zero.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

CATEGORIES = {"performance": "performance", "accessibility": "accessibility", "best_practices": "best-practices",
              "seo": "seo"}
"""pipeline.yaml's threshold key → Lighthouse's category id."""
METRICS = {"lcp_ms": "largest-contentful-paint", "cls": "cumulative-layout-shift", "tbt_ms": "total-blocking-time"}
"""lighthouse.budgets' key → the audit whose `numericValue` it bounds."""
AUDITED = ("accessibility", "best-practices", "seo")
"""The categories whose failed audits become findings (a performance audit's failure is its score's business)."""
NOT_JUDGED = ("notApplicable", "manual", "informative", "error")


@dataclass(frozen=True)
class Audit:
    id: str
    title: str


@dataclass(frozen=True)
class Run:
    """One Lighthouse run of one URL and form factor."""

    url: str
    version: str
    scores: dict[str, float]
    """Category id → points (0-100)."""
    metrics: dict[str, float]
    """Budget key (`lcp_ms`) → its audit's numeric value."""
    failed: tuple[Audit, ...]


def parse(data: bytes, what: str) -> Run:
    """A run from LHR JSON; ValueError naming `what` when it is not a complete result."""
    try:
        lhr = json.loads(data)
        if lhr.get("runtimeError"):
            raise ValueError(f"Lighthouse reported {lhr['runtimeError'].get('code')}: "
                             f"{lhr['runtimeError'].get('message', '')}")
        categories, audits = lhr["categories"], lhr["audits"]
        scores = {}
        for cid in CATEGORIES.values():
            score = categories[cid]["score"]
            if score is None:
                raise ValueError(f"the {cid} category has no score")
            scores[cid] = round(float(score) * 100, 1)
        metrics = {key: float(audits[aid]["numericValue"]) for key, aid in METRICS.items()}
        failed = {ref["id"] for cid in AUDITED for ref in categories[cid]["auditRefs"]}
        bad = tuple(Audit(aid, audits[aid]["title"]) for aid in sorted(failed)
                    if audits[aid].get("score") == 0 and audits[aid].get("scoreDisplayMode") not in NOT_JUDGED)
        return Run(lhr.get("finalDisplayedUrl") or lhr["requestedUrl"], lhr["lighthouseVersion"], scores, metrics, bad)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{what} is not a Lighthouse result: missing {exc}") from None
