"""The in-process domain-event dispatcher: one error policy for every subscriber."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from hubchat.domain_events import DomainEvents


@dataclasses.dataclass(frozen=True)
class Happened:
    what: str


@dataclasses.dataclass(frozen=True)
class Other:
    what: str


async def test_handlers_run_in_order_and_a_failure_neither_stops_the_others_nor_reaches_the_publisher(
        caplog: pytest.LogCaptureFixture) -> None:
    events = DomainEvents()
    seen: list[str] = []

    async def first(event: Happened) -> None:
        seen.append("first:" + event.what)

    async def failing(event: Happened) -> None:
        raise RuntimeError("subscriber bug")

    async def last(event: Happened) -> None:
        seen.append("last:" + event.what)

    for handler in (first, failing, last):
        events.subscribe(Happened, handler)
    with caplog.at_level(logging.ERROR, logger="hubchat.domain_events"):
        await events.publish(Happened("stored"))  # does not raise
    assert seen == ["first:stored", "last:stored"]
    [record] = caplog.records
    assert record.getMessage() == "domain event handler failed" and record.exc_info is not None


async def test_only_subscribers_of_the_exact_type_are_called() -> None:
    events = DomainEvents()
    seen: list[object] = []

    async def on_happened(event: Happened) -> None:
        seen.append(event)

    events.subscribe(Happened, on_happened)
    await events.publish(Other("elsewhere"))
    await events.publish(Happened("here"))
    assert seen == [Happened("here")]
