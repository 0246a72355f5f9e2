"""The local executor: steps as subprocesses in a scratch copy of the source, services on 127.0.0.1."""

from ci.executors.local.executor import LocalExecutor

__all__ = ["LocalExecutor"]
