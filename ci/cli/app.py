"""`bayon`: the Dagger module's functions run on this host, with the same names and flags as `dagger call`.

The command line comes from the Dagger registration (`ci.cli.parser`); what each function does is
`ci.cli.commands`, imported only after the command line parsed (so `--help` and usage errors need neither the
config model nor the runner).
Exit codes: 0 passed, 1 gate failed, 2 usage or config error, 3 could not run (a tool or service missing, or an
unexpected error: one line, the traceback in a file).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from ci.cli.parser import build_parser
from ci.core.errors import BayonError, first_error, one_line

EXIT_UNEXPECTED = 3
"""An unexpected error means bayon could not run the function: never 1, which says a gate failed."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "doctor":
            from ci.cli import doctor

            return doctor.main()
        from ci.cli.commands import call
        from ci.config import ConfigError

        try:
            return asyncio.run(call(args))
        except ConfigError as exc:
            print(f"bayon: {exc}", file=sys.stderr)
            return 2
    except KeyboardInterrupt:
        print("bayon: interrupted; every child process was stopped", file=sys.stderr)
        return 130
    except BayonError as exc:  # task-group errors arrive unwrapped (`ci.core.errors.unwrap_groups`)
        print(f"bayon: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # a bug: one line and the exit code of "could not run", the traceback kept in a file
        shown = first_error(exc) if isinstance(exc, BaseExceptionGroup) else exc
        print(f"bayon: unexpected error: {one_line(shown)} ({write_traceback(exc)})", file=sys.stderr)
        return EXIT_UNEXPECTED


def write_traceback(exc: BaseException) -> str:
    """Write the exception's traceback to a new file in `crashes/` under the cache directory (or, when that cannot
    be written, in the temporary directory); says where, or that it could not."""
    from ci.executors.local.workspace import cache_root  # only now: `bayon --help` does not load the executor

    name = f"bayon-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    for directory in (cache_root() / "crashes", Path(tempfile.gettempdir())):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            (directory / name).write_text("".join(traceback.format_exception(exc)))
            return f"traceback in {directory / name}"
        except OSError:
            continue
    return "no traceback written: neither the cache directory nor the temporary directory is writable"
