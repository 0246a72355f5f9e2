"""The `bayon` face: `dagger call`'s functions on this host, for debugging without Docker and for the tests.

`app` runs a function through the runner with the local executor; `parser` derives the command line from the Dagger
registration (`signature`); `doctor` checks the host tools; `progress` prints each step as it runs.
"""
