"""What a listener (or any event source) says about itself: its state, and its backoff."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class State(str, enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    LISTENING = "listening"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Status:
    state: State
    profile: str = ""
    attempt: int = 0
    delay: float = 0.0
    reason: str = ""
    pid: int | None = None
    channels: tuple[str, ...] = ()
    auth_failed: bool = False  # FAILED because the server refused the login (a password)

    def describe(self) -> str:
        if self.state is State.LISTENING:
            chans = ", ".join(self.channels) if self.channels else "no channel yet"
            return f"listening on {chans}"
        if self.state is State.RECONNECTING:
            text = f"reconnecting in {self.delay:.1f} s (attempt {self.attempt})"
            return f"{text}: {self.reason}" if self.reason else text
        if self.state is State.FAILED:
            return f"failed: {self.reason}"
        return self.state.value


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff: initial, initial*factor, ... up to cap seconds."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.cap, self.initial * self.factor ** max(0, attempt - 1))
