"""Delivery (package, promote, deploy, smoke, rollback, history; the preview): Python with boto3 clients injected,
so it runs the same inside the Dagger module runtime, in bayon and in tests against moto.

It sits apart from the step/judge stages: it may import core, config and integrations, and it runs steps (e.g.
`sam build`) only through an executor it is given, never one it imports. `preview.py` is `preview-changes`;
`package.py`, `promote.py`, `deploy.py`, `rollback.py` and `observe.py` (history, smoke) are the functions;
`release.py` (immutable releases), `state.py` (the environment's state, its one owner), `lock.py`, `held.py` (lock +
state for one run), `restore.py` (the one way back to a release), `stack.py`, `actions.py`, `amplify.py`,
`codedeploy.py`, `smoke.py` and `alarms.py` are what they share; `promotion.py` (a release moves forward only from a
green upstream record) and `safeguards.py` (snapshot, backups, stack protection) are phases of `deploy`."""
