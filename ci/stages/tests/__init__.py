"""Tests: Jest (`jest`), the unit-test matrix and its coverage gate (`unit`, `coverage`), and the integration tests
against the AWS emulator (`integration`)."""
