"""The security stage: every scanner's steps, run concurrently, each reporting even when another fails.

`security` runs them all; `audit`, `licenses` and `sbom` are its scanners as gates of their own. The stage is not
part of `ci`: it has its own workflow (security.yml: pushes, pull requests, a weekly schedule), because its audit
depends on advisory data that changes without any commit.

Today's date (UTC) is read here, when the steps are built, and handed to the pure judges (allowlist expiry).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from ci.stages.security import audit
from ci.stages.security import licenses
from ci.stages.security import sast
from ci.stages.security import sbom
from ci.stages.security import secrets
from ci.stages.security import snyk
from ci.config import Config
from ci.core.scheduler import Aggregate
from ci.core.step import Step


def today() -> date:
    return datetime.now(timezone.utc).date()


def policy(config: Config, on: date | None = None) -> audit.Policy:
    return audit.Policy.of(config.security.audit, on or today())


def audit_steps(config: Config, on: date | None = None) -> list[Step]:
    """npm audit (production, and dev with `include_dev`) and, given a snyk-token, Snyk."""
    rules = policy(config, on)
    return [*audit.steps(rules, config.security.audit.include_dev, config.node), snyk.step(rules, config.node)]


def audit_aggregates(config: Config, on: date | None = None) -> list[Aggregate]:
    """The allowlist expiry check, which fails the gate whatever the advisory service said."""
    return audit.aggregates(policy(config, on))


def allowed_unavailable(config: Config) -> frozenset[str]:
    """The audit steps whose `unavailable` only warns (`security.audit.on_unavailable: warn`)."""
    if config.security.audit.on_unavailable == "warn":
        return frozenset({audit.PROD_ID, audit.DEV_ID, snyk.STEP_ID})
    return frozenset()


def licenses_steps(config: Config) -> list[Step]:
    return [licenses.step(config.security.licenses, config.node)]


def sbom_steps(config: Config) -> list[Step]:
    return [sbom.step(config.node)]


SCANNERS = (audit_steps, licenses_steps, sbom_steps)
"""The scanners of the dependencies, in report order, each a step builder (Config -> list[Step])."""

BASE_SCANNERS = (secrets.steps, sast.steps)
"""The scanners of the code and its history, each a step builder (Config, base) -> list[Step]: with `--base` (a git
revision) the secrets scan reads the commits since it and SAST reports the findings new against it; without, the
whole history and every finding."""


def steps(config: Config, base: str = "") -> list[Step]:
    return [*(step for scanner in SCANNERS for step in scanner(config)),
            *(step for scanner in BASE_SCANNERS for step in scanner(config, base))]


def aggregates(config: Config) -> list[Aggregate]:
    return audit_aggregates(config)
