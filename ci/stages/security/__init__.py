"""Security: dependency audit (`audit`, `snyk`), licenses, SBOM, secrets in the tree and the history (`secrets`) and
SAST (`sast`); `stage` composes them."""
