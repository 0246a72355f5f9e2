"""A fake monotonic clock and its sleep, for the delivery waits: a test's waits pass at once, and are recorded."""

from __future__ import annotations


class FakeTime:
    """`clock()` reads the fake time; `sleep(s)` advances it by `s` and records `s` in `slept`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"slept {seconds} s"
        self.slept.append(seconds)
        self.now += seconds
