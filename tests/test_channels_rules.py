"""The channel membership and direct-message rules, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from hubchat.channels.messages import has_inflight_hole
from hubchat.channels.models import History, SendMessage, Sync
from hubchat.channels.rules import (
    Access,
    ChannelShape,
    channels_filter,
    dm_key,
    is_member,
    may_accept,
    may_dm,
    may_invite,
    member_filter,
)
from hubchat.errors import ValidationFailed
from hubchat.schema import parse

A, B, C = "a" * 24, "b" * 24, "c" * 24

plain_a = Access("u-plain-a", roles={A: "member"})
plain_a2 = Access("u-plain-a2", roles={A: "member"})
plain_b = Access("u-plain-b", roles={B: "member"})
stranger = Access("u-stranger")
bearer_a = Access("u-bearer-a", roles={A: "office_bearer"})
bearer_b = Access("u-bearer-b", roles={B: "office_bearer", C: "member"})
officer = Access("u-officer", is_officer=True)
officer2 = Access("u-officer2", is_officer=True)


def association(aid: str) -> dict[str, Any]:
    return {"kind": "association", "association_id": aid, "association_ids": [aid]}


def cell(aid: str) -> dict[str, Any]:
    return {"kind": "cell", "association_id": aid, "association_ids": [aid]}


def inter(*aids: str, invited: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"kind": "inter", "association_id": aids[0], "association_ids": list(aids),
            "invited_association_ids": list(invited)}


def dm(*users: str) -> dict[str, Any]:
    return {"kind": "dm", "member_ids": list(users)}


# ---------------------------------------------------------------- membership per kind
@pytest.mark.parametrize(("access", "expected"), [
    (plain_a, True), (bearer_a, True), (plain_b, False), (bearer_b, False), (officer, False), (stranger, False),
])
def test_association_channel_is_its_active_members(access: Access, expected: bool) -> None:
    assert is_member(association(A), access) is expected


@pytest.mark.parametrize(("access", "expected"), [
    (bearer_a, True), (officer, True), (officer2, True), (plain_a, False), (bearer_b, False), (stranger, False),
])
def test_cell_channel_is_office_bearers_and_every_officer(access: Access, expected: bool) -> None:
    assert is_member(cell(A), access) is expected


@pytest.mark.parametrize(("access", "expected"), [
    (bearer_a, True), (bearer_b, True), (plain_a, False), (plain_b, False), (officer, False),
    (Access("u-c-member", roles={C: "member"}), False),
])
def test_inter_channel_is_office_bearers_of_member_associations(access: Access, expected: bool) -> None:
    assert is_member(inter(A, B, invited=(C,)), access) is expected


def test_invited_association_is_not_a_member_until_it_accepts() -> None:
    bearer_c = Access("u-bearer-c", roles={C: "office_bearer"})
    channel = inter(A, invited=(C,))
    assert not is_member(channel, bearer_c)
    assert may_accept(channel, bearer_c, C)
    assert not may_accept(channel, bearer_a, C)  # not an office bearer of C
    assert not may_accept(channel, bearer_c, B)  # B was not invited


def test_only_members_invite_and_only_outsiders_are_invited() -> None:
    channel = inter(A)
    assert may_invite(channel, bearer_a, B)
    assert not may_invite(channel, bearer_a, A)
    assert not may_invite(channel, bearer_b, C)
    assert not may_invite(channel, plain_a, B)
    assert not may_invite(association(A), bearer_a, B)


def test_dm_channel_is_its_two_users() -> None:
    channel = dm(plain_a.user_id, bearer_a.user_id)
    assert is_member(channel, plain_a) and is_member(channel, bearer_a)
    assert not is_member(channel, officer)


def test_unknown_kind_admits_nobody() -> None:
    assert not is_member({"kind": "broadcast", "association_id": A}, officer)


# ---------------------------------------------------------------- direct messages
@pytest.mark.parametrize(("sender", "target", "allowed"), [
    (plain_a, bearer_a, True),      # member -> office bearer of his association
    (plain_a, officer, True),       # member -> cell officer
    (plain_a, bearer_b, False),     # member -> office bearer of another association
    (plain_a, plain_a2, False),     # member -> fellow plain member
    (plain_a, stranger, False),     # member -> stranger
    (stranger, officer, True),      # anyone -> cell officer
    (bearer_a, bearer_b, True),     # office bearers among themselves
    (bearer_a, officer, True),
    (officer, officer2, True),
    (bearer_a, plain_a, True),      # plain_a may DM bearer_a, so bearer_a may DM plain_a
    (officer, stranger, True),      # the stranger may DM the officer
    (bearer_a, plain_b, False),     # plain_b may not DM bearer_a
    (plain_a, plain_a, False),      # never yourself
])
def test_dm_rules(sender: Access, target: Access, allowed: bool) -> None:
    assert may_dm(sender, target) is allowed
    if sender.user_id != target.user_id:
        assert may_dm(target, sender) is allowed  # the rule is symmetric


def test_dm_key_ignores_order() -> None:
    assert dm_key("x", "y") == dm_key("y", "x") == "dm:x:y"


# ---------------------------------------------------------------- the store filter agrees with is_member
def _matches(query: dict[str, Any], doc: dict[str, Any]) -> bool:
    """A tiny evaluator for the operators channels_filter uses."""
    if "$or" in query:
        return any(_matches(q, doc) for q in query["$or"])
    for field, cond in query.items():
        value = doc.get(field)
        values = value if isinstance(value, list) else [value]
        if isinstance(cond, dict):
            if not any(v in cond["$in"] for v in values):
                return False
        elif cond not in values:
            return False
    return True


@pytest.mark.parametrize("access", [plain_a, plain_b, stranger, bearer_a, bearer_b, officer])
def test_channels_filter_selects_what_is_member_admits(access: Access) -> None:
    channels = [association(A), association(B), cell(A), cell(B), inter(A), inter(B, C), inter(C),
                dm(plain_a.user_id, bearer_a.user_id), dm(officer.user_id, stranger.user_id)]
    query = channels_filter(access)
    for channel in channels:
        assert _matches(query, channel) is is_member(channel, access), channel


@pytest.mark.parametrize("access", [plain_a, plain_b, stranger, bearer_a, bearer_b, officer])
def test_the_filter_for_a_known_shape_selects_what_is_member_admits(access: Access) -> None:
    """The plain filter a node uses for a channel whose kind and association it has seen (a send's
    membership check) admits exactly whom is_member admits; None means certainly not a member."""
    channels = [association(A), association(B), cell(A), cell(B), inter(A), inter(B, C), inter(C),
                dm(plain_a.user_id, bearer_a.user_id), dm(officer.user_id, stranger.user_id)]
    for channel in channels:
        query = member_filter(ChannelShape.of(channel), access)
        admitted = query is not None and _matches(query, channel)
        assert admitted is is_member(channel, access), channel
        assert "$or" not in (query or {})  # a conjunction: the store serves it from its indexes


# ---------------------------------------------------------------- gap detection
def test_hole_among_the_newest_seqs_is_in_flight() -> None:
    assert has_inflight_hole([1, 2, 4], low=1, high=4, head_seq=4)
    assert not has_inflight_hole([1, 2, 3, 4], low=1, high=4, head_seq=4)
    assert not has_inflight_hole([], low=5, high=4, head_seq=4)  # nothing expected


def test_old_holes_are_not_waited_for() -> None:
    seqs = [s for s in range(1, 1001) if s != 10]
    assert not has_inflight_hole(seqs, low=1, high=1000, head_seq=1000)


# ---------------------------------------------------------------- payloads
def test_send_payload_is_strict() -> None:
    good = {"channel_id": A, "client_msg_id": "client-0001", "body": "  hello  "}
    assert parse(SendMessage, good).body == "hello"
    for bad in ({**good, "extra": 1}, {**good, "channel_id": {"$gt": ""}}, {**good, "body": {"$gt": ""}},
                {**good, "body": "x" * 4001}, {**good, "body": "   "}, {**good, "client_msg_id": "short"},
                {**good, "channel_id": "not-an-id"}, {**good, "body": 5}):
        with pytest.raises(ValidationFailed):
            parse(SendMessage, bad)


def test_history_takes_one_direction_and_bounded_limit() -> None:
    assert parse(History, {"channel_id": A}).limit == 50
    for bad in ({"channel_id": A, "before_seq": 5, "after_seq": 1}, {"channel_id": A, "limit": 101},
                {"channel_id": A, "limit": 0}, {"channel_id": A, "after_seq": -1}, {"channel_id": A, "limit": True}):
        with pytest.raises(ValidationFailed):
            parse(History, bad)


def test_sync_takes_at_most_200_channels() -> None:
    point = {"channel_id": A, "last_seq": 0}
    assert len(parse(Sync, {"channels": [point] * 200}).channels) == 200
    with pytest.raises(ValidationFailed):
        parse(Sync, {"channels": [point] * 201})
