"""Files from npm packages the tests read but the repository does not keep (GitHub's OpenAPI description, the SARIF
schema): `npm pack` of a pinned version, once, into the test cache (`BAYON_CACHE_DIR`)."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path


def npm_file(cache: Path, spec: str, member: str) -> Path:
    """`member` (a path inside the package) of the npm package `spec` (`name@version`), cached under `cache`."""
    target = cache / "npm-files" / spec.replace("/", "+") / member
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        subprocess.run(["npm", "pack", spec, "--pack-destination", tmp, "--silent"], check=True, capture_output=True,
                       timeout=600)
        (tgz,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tgz) as tar, tar.extractfile(f"package/{member}") as packed:
            with open(Path(tmp) / "member", "wb") as out:
                shutil.copyfileobj(packed, out)
        (Path(tmp) / "member").rename(target)
    return target
