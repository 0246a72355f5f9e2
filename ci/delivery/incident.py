"""An incident as a Markdown report (what failed, when, the versions, the evidence, the outcome, what to do next):
what a deploy that rolled back, or could not, exports beside its JSON report."""

from __future__ import annotations

from ci.delivery.state import Incident, short

OUTCOMES = {
    "rolled_back": "rolled back: the environment runs its last known good release {restored} again",
    "unrecoverable": "unrecoverable: the environment is NOT at a known release",
    "unchanged": "nothing changed: the failure came before anything was executed",
    "deployed": "deployed: the release runs despite the failure",
}
"""Each outcome in words ({restored}: the release brought back)."""


def markdown(incident: Incident, environment: str, stack_name: str) -> str:
    """The incident report of `incident` in `environment` (whose stack is `stack_name`)."""
    restored = f"`{incident.restored}`" if incident.restored else "none"
    evidence = [f"- {_one_line(line)}" for line in incident.evidence] or ["- (none recorded)"]
    outcome = OUTCOMES[incident.outcome].format(restored=restored)
    return "\n".join([
        f"# Incident {incident.id}: {environment}, release {short(incident.release)} failed in {incident.phase}",
        "",
        "## What failed",
        "",
        f"- Phase: {incident.phase}",
        f"- Reason: {_one_line(incident.reason) or '(none given)'}",
        f"- When: {incident.at} (run {incident.run_id})",
        f"- Environment: {environment} (stack `{stack_name}`)",
        "",
        "## Versions",
        "",
        f"- Failed release: `{incident.release}`",
        f"- Restored release: {restored}",
        "",
        "## Evidence",
        "",
        *evidence,
        "",
        "## Outcome",
        "",
        outcome[0].upper() + outcome[1:] + ".",
        "",
        "## Next steps",
        "",
        *_next_steps(incident, environment, stack_name),
        "",
    ])


def _next_steps(incident: Incident, environment: str, stack_name: str) -> list[str]:
    """How to look closer and what to run next, for this outcome."""
    steps = [f"- See the environment's releases and incidents: `bayon history --env {environment}`",
             f"- See the stack's events: `aws cloudformation describe-stack-events --stack-name {stack_name}`"]
    if incident.outcome == "unrecoverable":
        steps.append(f"- Bring it back to a known release: `bayon rollback --env {environment} --to RELEASE` "
                     "(a release the history shows deployed)")
    else:
        steps.append(f"- Check that what runs now passes: `bayon smoke --env {environment}`")
    steps.append(f"- Reproduce the {incident.phase} failure of `{short(incident.release)}`, fix it, then deploy the "
                 f"new release: `bayon package --env {environment} --commit-sha SHA`, then `bayon deploy --env {environment} "
                 "--release SHA`")
    return steps


def _one_line(text: str) -> str:
    """The text on one line (a Markdown bullet ends at a line break)."""
    return " ".join(text.split())
