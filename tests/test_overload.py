"""Admission of chat work (pure logic, real event loop)."""

from __future__ import annotations

import asyncio

import pytest

from hubchat.overload import Admission, Overloaded


async def test_sends_are_admitted_up_to_the_slot_count_then_wait_then_refused() -> None:
    admission = Admission(max_inflight=2, wait_ms=30, lag_limit_ms=10_000)
    await admission.acquire()
    await admission.acquire()
    assert admission.inflight == 2
    with pytest.raises(Overloaded) as refused:
        await admission.acquire()
    body = refused.value.to_dict()["error"]
    assert body["code"] == "overloaded" and body["temporary"] is True
    assert 100 <= body["retry_after_ms"] <= 5000
    assert admission.shed == {"send": 1}


async def test_a_released_slot_goes_to_the_oldest_waiter() -> None:
    admission = Admission(max_inflight=1, wait_ms=1000, lag_limit_ms=10_000)
    await admission.acquire()
    order: list[str] = []

    async def wait(name: str) -> None:
        await admission.acquire()
        order.append(name)

    first = asyncio.create_task(wait("first"))
    await asyncio.sleep(0)
    second = asyncio.create_task(wait("second"))
    await asyncio.sleep(0)
    admission.release()
    await first
    assert order == ["first"] and admission.inflight == 1
    admission.release()
    await second
    assert order == ["first", "second"] and admission.inflight == 1
    admission.release()
    assert admission.inflight == 0


async def test_a_cancelled_waiter_does_not_leak_its_slot() -> None:
    admission = Admission(max_inflight=1, wait_ms=1000, lag_limit_ms=10_000)
    await admission.acquire()
    waiting = asyncio.create_task(admission.acquire())
    await asyncio.sleep(0)
    admission.release()  # handed to the waiter ...
    waiting.cancel()  # ... which is cancelled before it runs
    # Python 3.11's wait_for may return the result it already has instead of raising: either
    # way the slot is held by exactly one owner.
    try:
        await waiting
    except asyncio.CancelledError:
        assert admission.inflight == 0
    else:
        assert admission.inflight == 1
        admission.release()
    assert admission.inflight == 0
    await admission.acquire()
    assert admission.inflight == 1


async def test_lag_sheds_light_work_first_then_sends() -> None:
    admission = Admission(max_inflight=4, wait_ms=0, lag_limit_ms=100)
    admission.check_light("typing")  # quiet: admitted
    admission.observe_lag(0.06)  # above half the limit
    with pytest.raises(Overloaded):
        admission.check_light("typing")
    async with admission.send_slot():
        assert admission.inflight == 1
    admission.observe_lag(0.2)
    with pytest.raises(Overloaded):
        await admission.acquire()
    assert admission.shed == {"typing": 1, "send": 1}


async def test_the_probe_sees_a_blocked_loop() -> None:
    admission = Admission(max_inflight=1, wait_ms=0, lag_limit_ms=50)
    async with admission.running():
        await asyncio.sleep(0.03)
        import time

        for _ in range(4):  # the loop is blocked again and again, as under a CPU-bound load
            time.sleep(0.12)
            await asyncio.sleep(0.03)
        assert admission.lag_secs > 0.02  # smoothed, but clearly above a quiet loop (~0)


async def test_no_chat_slot_is_handed_out_while_sos_work_runs() -> None:
    admission = Admission(max_inflight=2, wait_ms=1000, lag_limit_ms=10_000)
    await admission.acquire()  # chat already in flight when the SOS comes
    async with admission.urgent():
        waiting = asyncio.create_task(admission.acquire())  # a free slot, but SOS work runs
        await asyncio.sleep(0.01)
        assert not waiting.done() and admission.inflight == 1
        admission.release()  # the chat in flight finishes: its slot is freed, not handed on
        await asyncio.sleep(0.01)
        assert not waiting.done() and admission.inflight == 0
        with pytest.raises(Overloaded):
            admission.check_light("typing")  # light work is refused meanwhile
    await waiting  # the SOS work is done: the oldest waiter gets a slot
    assert admission.inflight == 1
    admission.release()
    assert admission.inflight == 0 and admission.urgent_inflight == 0


async def test_a_send_that_waits_out_sos_work_is_refused_and_leaks_nothing() -> None:
    admission = Admission(max_inflight=1, wait_ms=20, lag_limit_ms=10_000)
    async with admission.urgent(), admission.urgent():  # two SOS at once: both must end first
        with pytest.raises(Overloaded):
            await admission.acquire()
    assert admission.inflight == 0 and admission.shed == {"send": 1}
    async with admission.send_slot():  # afterwards chat is admitted at once again
        assert admission.inflight == 1


async def test_sos_work_that_fails_still_lets_chat_through_again() -> None:
    admission = Admission(max_inflight=1, wait_ms=1000, lag_limit_ms=10_000)
    waiting: asyncio.Task[None] | None = None
    with pytest.raises(RuntimeError):
        async with admission.urgent():
            waiting = asyncio.create_task(admission.acquire())
            await asyncio.sleep(0.01)
            raise RuntimeError("the store failed")
    assert waiting is not None
    await waiting
    assert admission.inflight == 1 and admission.urgent_inflight == 0
