"""`bayon`: the Dagger module's functions run on this host, with the same names and flags as `dagger call`.

The command line comes from the Dagger registration (`ci.cli.parser`); what each function does is
`ci.cli.commands`, imported only after the command line parsed (so `--help` and usage errors need neither the
config model nor the runner).
Exit codes: 0 passed, 1 gate failed, 2 usage or config error, 3 could not run (a tool or service missing).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from ci.cli.parser import build_parser
from ci.core.errors import BayonError


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
