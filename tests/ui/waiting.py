"""Waiting for a condition on the qasync loop, for UI tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(pred: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the loop run until pred() is true; TimeoutError after `timeout` seconds."""

    async def spin() -> None:
        while not pred():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(spin(), timeout)


def run_until(qloop, pred: Callable[[], object], timeout: float = 10.0) -> None:
    """The same, from outside the loop: drive `qloop` until pred() is true."""
    qloop.run_until_complete(until(pred, timeout))
