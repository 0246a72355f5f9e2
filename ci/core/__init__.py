"""The core every other package stands on: the step and report models, findings, errors, the executor contract and
the concurrent step scheduler. It imports nothing of the project."""
