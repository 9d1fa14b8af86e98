"""A change stream's Status: the Listener's, plus its publication, slot and lag."""

from __future__ import annotations

from dataclasses import dataclass

from pgwatch_gui.core.stream.status import State, Status


@dataclass(frozen=True)
class ChangeStatus(Status):
    """A Listener Status (LISTENING means streaming) plus what a change stream adds."""

    publication: str = ""
    slot: str = ""
    watching: str = ""
    lag_bytes: int = 0
    lag_seconds: float = 0.0
    latency: float = 0.0  # commit -> read, of the last transaction

    def describe(self) -> str:
        if self.state is State.LISTENING:
            return (f"streaming changes of {self.watching} · {_bytes(self.lag_bytes)}, "
                    f"{self.lag_seconds:.1f} s behind")
        if self.state is State.CONNECTING and self.reason:
            return f"connecting: {self.reason}"
        if self.state is State.RECONNECTING:
            text = f"reconnecting with a new slot in {self.delay:.1f} s (attempt {self.attempt})"
            return f"{text}: {self.reason}" if self.reason else text
        return super().describe()


    def details(self) -> str:
        """describe() plus the server objects in use (for a log line or a tooltip)."""
        return (f"{self.describe()} (publication {self.publication}, temporary slot "
                f"{self.slot}; last commit {self.latency * 1000:.0f} ms to arrive)")


def _bytes(n: int) -> str:
    for unit, size in (("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"
