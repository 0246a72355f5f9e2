"""Steps that decide what else runs: the docs-only check against `--base` (`changes`)."""
