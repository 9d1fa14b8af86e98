"""EventRing: a bounded ring of Events, the live table's memory (no Qt)."""

from __future__ import annotations

from collections.abc import Iterator

from pgwatch_gui.core.stream.events import Event


class EventRing:
    """A bounded ring of Events: O(1) index, O(k) append of k, O(1) drop of the oldest."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._buf: list[Event | None] = [None] * self.capacity
        self._start = 0
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i: int) -> Event:
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(i)
        return self._buf[(self._start + i) % self.capacity]  # type: ignore[return-value]

    def __iter__(self) -> Iterator[Event]:
        return self.slice(0, self._len)

    def slice(self, start: int, stop: int) -> Iterator[Event]:
        """Events start..stop-1 (ring rows), oldest first."""
        start = max(0, start)
        stop = min(stop, self._len)
        if start >= stop:
            return iter(())
        cap = self.capacity
        a = (self._start + start) % cap
        b = a + (stop - start)
        if b <= cap:
            return iter(self._buf[a:b])  # type: ignore[arg-type]
        return iter(self._buf[a:] + self._buf[: b - cap])  # type: ignore[arg-type]

    def overflow(self, incoming: int) -> int:
        """How many of the oldest must leave before `incoming` more fit."""
        return max(0, self._len + min(incoming, self.capacity) - self.capacity)

    def drop_oldest(self, k: int) -> None:
        k = min(k, self._len)
        cap = self.capacity
        end = self._start + k
        if end <= cap:
            self._buf[self._start:end] = [None] * k
        else:
            self._buf[self._start:] = [None] * (cap - self._start)
            self._buf[: end - cap] = [None] * (end - cap)
        self._start = end % cap
        self._len -= k

    def extend(self, events: list[Event]) -> None:
        """Append; the caller makes room first (drop_oldest(overflow(len(events))))."""
        cap = self.capacity
        if len(events) > cap - self._len:
            raise OverflowError("ring is full; drop the oldest first")
        pos = (self._start + self._len) % cap
        n = len(events)
        first = min(n, cap - pos)
        self._buf[pos:pos + first] = events[:first]
        if first < n:
            self._buf[: n - first] = events[first:]
        self._len += n

    def clear(self) -> None:
        self._buf = [None] * self.capacity
        self._start = 0
        self._len = 0
