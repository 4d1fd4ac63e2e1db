"""Stopping background tasks, also those that absorb a cancellation (pure asyncio)."""

from __future__ import annotations

import asyncio

from hubchat.background import cancel_and_wait


async def test_a_task_that_absorbs_one_cancellation_is_still_stopped() -> None:
    absorbed = 0

    async def stubborn() -> None:  # as a retrying listener whose driver turned the cancel into an error
        nonlocal absorbed
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if absorbed:
                    raise
                absorbed += 1  # swallowed: "connection lost, retrying"

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await cancel_and_wait({task}, timeout_secs=2) == 0
    assert task.cancelled() and absorbed == 1


async def test_a_task_that_never_stops_is_reported_not_waited_for_forever() -> None:
    release = asyncio.Event()

    async def immortal() -> None:  # ignores every cancellation until released
        while not release.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass

    task = asyncio.create_task(immortal())
    await asyncio.sleep(0)
    assert await cancel_and_wait({task}, timeout_secs=0.2) == 1
    release.set()
    task.cancel()
    await asyncio.wait({task})
