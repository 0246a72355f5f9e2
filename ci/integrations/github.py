"""GitHub's REST API for code scanning: a SARIF file uploaded, the HTTP transport injected.

`POST /repos/{owner}/{repo}/code-scanning/sarifs` with the SARIF gzip-compressed and base64-encoded, the commit and
the ref it describes. The request is plain data (`Request`), so tests check it against GitHub's OpenAPI description
and send it through a transport of their own; the default transport is the standard library's. GitHub answers 202
with a receipt and processes the file afterwards. Any other answer, or none, is a one-line `GitHubError` naming the
fix; the token appears in no message, repr or report.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from dataclasses import dataclass, field

from ci.core.errors import UsageError
from ci.integrations.github_rest import API_URL, GitHubError, Request, Response, Transport, headers, urllib_transport

MAX_SARIF_GZIP_BYTES = 10 * 1024 * 1024
"""GitHub's limit on an upload's gzip-compressed SARIF."""
REPOSITORY = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
COMMIT_SHA = re.compile(r"^[0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?$")
REF = re.compile(r"^refs/(heads|tags|pull)/\S+$")
FIXES = {
    401: "the token was refused; pass a valid one (in Actions: --github-token env://GITHUB_TOKEN)",
    403: "give the job `permissions: security-events: write`, and enable code scanning for the repository",
    404: "check --github-repository, and that the token can read it",
    413: "the SARIF is too large for code scanning; fix or baseline findings so fewer are reported",
}


@dataclass(frozen=True)
class Upload:
    """Where a report's SARIF goes: the repository (`owner/name`), the commit and ref it describes, the token, and
    where the source sits in the repository (SARIF paths are relative to the repository root)."""

    repository: str
    commit_sha: str
    ref: str
    token: str = field(repr=False)
    repo_path: str = ""

    def check(self) -> Upload:
        """The upload, or UsageError for a value GitHub would refuse."""
        if not REPOSITORY.match(self.repository):
            raise UsageError(f"--github-repository {self.repository!r}: give owner/name (in Actions: "
                             "${{ github.repository }})")
        if not COMMIT_SHA.match(self.commit_sha):
            raise UsageError(f"--commit-sha {self.commit_sha!r}: give the full commit SHA (in Actions: ${{{{ github.sha }}}})")
        if not REF.match(self.ref):
            raise UsageError(f"--ref {self.ref!r}: give a full ref such as refs/heads/main or refs/pull/1/merge "
                             "(in Actions: ${{ github.ref }})")
        return self


def sarif_request(sarif_bytes: bytes, upload: Upload, api_url: str = API_URL) -> Request:
    """The upload request for a SARIF file; GitHubError when the compressed file is over GitHub's limit."""
    compressed = gzip.compress(sarif_bytes, mtime=0)
    if len(compressed) > MAX_SARIF_GZIP_BYTES:
        raise GitHubError(f"the SARIF is {len(compressed)} bytes compressed, over code scanning's "
                          f"{MAX_SARIF_GZIP_BYTES} byte limit; fix or baseline findings so fewer are reported")
    body = {"commit_sha": upload.commit_sha, "ref": upload.ref, "sarif": base64.b64encode(compressed).decode(),
            "tool_name": "bayon"}
    return Request("POST", f"{api_url}/repos/{upload.repository}/code-scanning/sarifs", headers(upload.token),
                   json.dumps(body).encode())


def receipt(response: Response) -> str:
    """The upload's id from a 202 answer, or GitHubError with GitHub's message and the fix."""
    try:
        data = json.loads(response.body or b"{}")
    except ValueError:
        data = None
    if response.status == 202 and isinstance(data, dict) and isinstance(data.get("id"), str):
        return data["id"]
    message = data.get("message") if isinstance(data, dict) else None
    said = " ".join(str(message).split())[:200] if message else "no JSON message"
    if response.status == 202:
        raise GitHubError(f"GitHub accepted the upload but sent no receipt id ({said}); retry the upload")
    fix = FIXES.get(response.status, "retry later, or see the GitHub status page")
    raise GitHubError(f"GitHub refused the SARIF upload ({response.status}: {said}); {fix}")


def upload_sarif(sarif_bytes: bytes, upload: Upload, transport: Transport = urllib_transport) -> str:
    """Upload a SARIF file; the receipt id."""
    return receipt(transport(sarif_request(sarif_bytes, upload.check())))
