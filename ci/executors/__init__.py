"""The two executors of the same step definitions: `dagger` (containers, the product) and `local` (subprocesses on
this host). Only the faces import them; the runner is handed one."""
