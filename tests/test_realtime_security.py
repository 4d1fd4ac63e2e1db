"""The Socket.IO edge against a hostile client: reserved event names sent as raw frames run
nothing, and every change that revokes access reaches every socket of the user on every node.

Two in-process nodes share Redis (bus and Socket.IO manager) and the embedded store; raw
Engine.IO frames go over a real websocket (tests.raw_socket)."""

# ruff: noqa: F811  (fixtures imported from tests.test_sos_helpers are parameters here)
from __future__ import annotations

from collections.abc import Awaitable, Callable

from hubchat import realtime as realtime_module
from hubchat.clock import ManualClock, utcnow
from hubchat.config import Settings
from tests.raw_socket import RawSocket
from tests.support import HubClient, settled
from tests.test_sos_helpers import (  # noqa: F401 (fixtures)
    GURUGRAM,
    Node,
    account,
    bearer_at,
    error_code,
    fast,
    hub,
    join_association,
    node_factory,
    officer_on_duty,
    person,
    trigger,
    wait_until,
)

UNKNOWN = {"error": {"code": "unknown_event", "message": "no such event"}}


async def raw(client: HubClient, token: str) -> RawSocket:
    sock, reply = await RawSocket.open(client.http, client.base_url, {"token": token})
    assert "sid" in reply, reply
    return sock


async def two_nodes(settings: Settings, node_factory: Callable[[Settings], Awaitable[Node]]
                    ) -> tuple[HubClient, HubClient]:
    a = await node_factory(fast(settings))
    b = await node_factory(fast(settings))
    assert a.client is not None and b.client is not None
    return a.client, b.client


# ---------------------------------------------------------------- reserved names
async def test_reserved_and_unknown_event_names_run_nothing(hub: HubClient) -> None:
    member = await account(hub, "Member")
    other = await account(hub, "Other")
    sock = await raw(hub, member["access_token"])
    realtime = hub.services["accounts"].infra.realtime
    try:
        sid = next(iter(realtime.local_sids(member["id"])))
        # connect again with someone else's token, disconnect, and names nobody registered
        assert await sock.call("connect", {}, {"token": other["access_token"]}) == [UNKNOWN]
        assert await sock.call("disconnect") == [UNKNOWN]
        assert await sock.call("connect_error", {"message": "x"}) == [UNKNOWN]
        assert await sock.call("no:such:event", {}) == [UNKNOWN]
        await sock.send('42999[7, {}]')  # a name that is not a string
        await sock.until(lambda: 999 in sock.acks)
        assert sock.acks[999] == [UNKNOWN]
        await sock.emit("disconnect")  # without an ack id: nothing at all comes back
        # the socket is still the member's, authenticated, in its rooms
        assert realtime.local_sids(member["id"]) == {sid} and realtime.local_sids(other["id"]) == set()
        assert realtime.principal_of(sid).user_id == member["id"]
        listed = await sock.call("channel:list")
        assert "channels" in listed[0], listed
        assert not sock.closed
    finally:
        await sock.close()


async def test_fake_disconnect_does_not_survive_logout(hub: HubClient) -> None:
    member = await hub.user(display_name="Logs Out")
    sock = await raw(hub, member["access_token"])
    try:
        await sock.emit("disconnect")
        assert "channels" in (await sock.call("channel:list"))[0]
        status, _ = await hub.request("POST", "/api/auth/logout", token=member["access_token"])
        assert status == 204
        await sock.until(lambda: sock.closed)
    finally:
        await sock.close()


async def test_fake_disconnect_leaves_the_cell_feed_when_off_duty_on_another_node(
        settings: Settings, node_factory: Callable[[Settings], Awaitable[Node]]) -> None:
    a, b = await two_nodes(settings, node_factory)
    officer = await account(a, "Watcher", role="officer")
    other_officer, (other_sock,) = await officer_on_duty(a, "Still On Duty")
    sock = await raw(b, officer["access_token"])
    on_a = await a.connect(officer["access_token"])
    try:
        ack = await sock.call("duty:set", {"on_duty": True})
        assert ack[0]["duty"]["on_duty"] is True, ack
        await sock.emit("disconnect")  # the attack: the server must not forget this socket
        ack = await on_a.call("duty:set", {"on_duty": False})  # off duty, through node a
        assert ack["duty"]["on_duty"] is False
        someone = await person(a)
        person_sock = await a.connect(someone["access_token"])
        alert = await trigger(person_sock)
        got = await other_sock.wait_for("sos:new")
        assert got[0]["id"] == alert["id"]
        await settled(a, sock)
        assert sock.got("sos:new") == [] and sock.got("sos:updated") == []
        assert not sock.closed  # still connected, just no longer in the feed
    finally:
        await sock.close()


# ---------------------------------------------------------------- revocation on every node
async def test_demotion_closes_the_officers_sockets_on_every_node(
        settings: Settings, node_factory: Callable[[Settings], Awaitable[Node]]) -> None:
    a, b = await two_nodes(settings, node_factory)
    officer, (on_a,) = await officer_on_duty(a, "Soon Demoted")
    sock = await raw(b, officer["access_token"])
    other_officer, (other_sock,) = await officer_on_duty(a, "Stays Officer")
    try:
        assert "officers" in (await sock.call("duty:list"))[0]
        await sock.emit("disconnect")
        await a.services["accounts"].set_role(officer["id"], "member")
        await sock.until(lambda: sock.closed)

        async def closed_on_a() -> bool:
            return not on_a.sio.connected
        await wait_until(closed_on_a)
        # the same (still unexpired) token reconnects as what the account is now: a member
        again = await raw(b, officer["access_token"])
        try:
            assert error_code((await again.call("duty:list"))[0]) == "not_allowed"
            someone = await person(a)
            alert = await trigger(await a.connect(someone["access_token"]))
            assert (await other_sock.wait_for("sos:new"))[0]["id"] == alert["id"]
            await settled(a, again)
            assert again.got("sos:new") == []
        finally:
            await again.close()
    finally:
        await sock.close()


async def test_removal_from_an_association_leaves_its_rooms_on_every_node(
        settings: Settings, node_factory: Callable[[Settings], Awaitable[Node]]) -> None:
    a, b = await two_nodes(settings, node_factory)
    officer = await account(a, "Approver", role="officer")
    bearer, (bearer_sock,), association_id = await bearer_at(a, officer, GURUGRAM, "Bearer")
    member = await account(a, "Removed Member")
    await join_association(a, member, bearer, association_id)
    channels = (await bearer_sock.call("channel:list"))["channels"]
    channel_id = next(c["id"] for c in channels if c["kind"] == "association")
    sock = await raw(b, member["access_token"])
    try:
        await sock.emit("disconnect")
        status, body = await a.request("DELETE", f"/api/associations/{association_id}/members/{member['id']}",
                                       token=bearer["access_token"])
        assert status == 204, body
        await sock.until(lambda: bool(sock.got("channel:removed")))
        ack = await bearer_sock.call("message:send", {"channel_id": channel_id, "client_msg_id": "after-removal-1",
                                                      "body": "members only"})
        assert "message" in ack, ack
        await settled(a, sock)
        assert sock.got("message:new") == []
        assert error_code((await sock.call("message:history", {"channel_id": channel_id}))[0]) == "not_member"
    finally:
        await sock.close()


async def test_logout_on_one_node_closes_the_session_on_the_other(
        settings: Settings, node_factory: Callable[[Settings], Awaitable[Node]]) -> None:
    a, b = await two_nodes(settings, node_factory)
    member = await a.user(display_name="Two Node Logout")
    sock = await raw(b, member["access_token"])
    try:
        await sock.emit("disconnect")
        status, _ = await a.request("POST", "/api/auth/logout", token=member["access_token"])
        assert status == 204
        await sock.until(lambda: sock.closed)
        _, reply = await RawSocket.open(b.http, b.base_url, {"token": member["access_token"]})
        assert reply["connect_error"]["data"]["code"] == "session_revoked", reply
    finally:
        await sock.close()


# ---------------------------------------------------------------- sockets per user and per address
async def refused(client: HubClient, token: str, headers: dict[str, str] | None = None) -> str | None:
    """The connect_error code, or None when the socket connected (then it is closed again)."""
    sock, reply = await RawSocket.open(client.http, client.base_url, {"token": token}, headers=headers)
    await sock.close()
    if "connect_error" in reply:
        return str(reply["connect_error"]["data"]["code"])
    return None


async def test_sockets_per_user_are_capped_across_nodes(
        settings: Settings, node_factory: Callable[[Settings], Awaitable[Node]]) -> None:
    capped = settings.replace(max_sockets_per_user=2, max_sockets_per_address=0)
    a, b = await two_nodes(capped, node_factory)
    member = await account(a, "Many Tabs")
    first = await a.connect(member["access_token"])
    await b.connect(member["access_token"])
    assert await refused(a, member["access_token"]) == "too_many_connections"
    assert await refused(b, member["access_token"]) == "too_many_connections"
    other = await account(a, "Someone Else")
    assert await refused(b, other["access_token"]) is None  # a cap per user, not per node
    await first.disconnect()  # a slot frees on disconnect, for every node

    async def can_connect() -> bool:
        return await refused(b, member["access_token"]) is None
    await wait_until(can_connect)


async def test_sockets_per_address_use_only_the_trusted_proxy_header(
        settings: Settings, node_factory: Callable[[Settings], Awaitable[Node]]) -> None:
    a, b = await two_nodes(settings.replace(max_sockets_per_user=0, max_sockets_per_address=2), node_factory)
    users = [await account(a, f"Neighbour {i}") for i in range(3)]
    held = [await raw(a, users[0]["access_token"]), await raw(b, users[1]["access_token"])]
    try:
        # no trusted header configured: a client-sent X-Forwarded-For changes nothing
        assert await refused(a, users[2]["access_token"], {"X-Forwarded-For": "198.51.100.23"}) == \
            "too_many_connections"
    finally:
        for sock in held:
            await sock.close()

    a, b = await two_nodes(settings.replace(max_sockets_per_user=0, max_sockets_per_address=2,
                                            trusted_proxy_header="X-Forwarded-For"), node_factory)
    users = [await account(a, f"Behind Proxy {i}") for i in range(4)]
    same = {"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}  # the proxy appended the real client last
    held = []
    try:
        for client, user in ((a, users[0]), (b, users[1])):
            sock, reply = await RawSocket.open(client.http, client.base_url, {"token": user["access_token"]},
                                               headers=same)
            held.append(sock)
            assert "sid" in reply, reply
        assert await refused(a, users[2]["access_token"], {"X-Forwarded-For": "203.0.113.7"}) == \
            "too_many_connections"
        assert await refused(b, users[3]["access_token"], {"X-Forwarded-For": "203.0.113.7, 198.51.100.4"}) is None
    finally:
        for sock in held:
            await sock.close()


async def test_a_missed_revocation_is_caught_when_the_principal_is_read_again(
        hub: HubClient, clock: ManualClock) -> None:
    """Revocations travel on the bus at most once; a socket re-reads its account at its first event
    after PRINCIPAL_RECHECK_SECS, so a demotion or a disabled account written without any message
    (another process, a lost bus message) still ends the socket's old rights."""
    store = hub.services["accounts"].infra.store
    officer = await account(hub, "Quietly Demoted", role="officer")
    disabled = await account(hub, "Quietly Disabled")
    demoted_sock, disabled_sock = await raw(hub, officer["access_token"]), await raw(hub, disabled["access_token"])
    try:
        assert "officers" in (await demoted_sock.call("duty:list"))[0]
        await store["users"].update_one({"_id": officer["id"]}, {"$set": {"role": "member"}})
        await store["users"].update_one({"_id": disabled["id"]}, {"$set": {"disabled": True}})
        assert "officers" in (await demoted_sock.call("duty:list"))[0]  # read again only after a while
        clock.advance(realtime_module.PRINCIPAL_RECHECK_SECS)
        assert error_code((await demoted_sock.call("duty:list"))[0]) == "session_revoked"
        assert error_code((await disabled_sock.call("channel:list"))[0]) == "session_revoked"
        await demoted_sock.until(lambda: demoted_sock.closed)
        await disabled_sock.until(lambda: disabled_sock.closed)
    finally:
        await demoted_sock.close()
        await disabled_sock.close()


async def test_a_socket_that_only_listens_is_read_again_by_the_nodes_sweep(
        hub: HubClient, clock: ManualClock) -> None:
    """A socket that never sends an event (it only listens to the Cell feed) would never reach the
    per-event re-read: the node's sweep reads it again, so a demotion the bus never carried still
    closes it."""
    store = hub.services["accounts"].infra.store
    realtime = hub.services["accounts"].infra.realtime
    officer = await account(hub, "Listening Officer", role="officer")
    kept = await account(hub, "Still An Officer", role="officer")
    listening, unchanged = await raw(hub, officer["access_token"]), await raw(hub, kept["access_token"])
    try:
        await store["users"].update_one({"_id": officer["id"]}, {"$set": {"role": "member"}})
        clock.advance(realtime_module.PRINCIPAL_RECHECK_SECS)
        passes = realtime.sweeps

        async def swept() -> bool:
            return realtime.sweeps > passes
        await wait_until(swept, timeout=3 * realtime_module.PRINCIPAL_SWEEP_SECS)
        await listening.until(lambda: listening.closed)
        assert not unchanged.closed
        assert "officers" in (await unchanged.call("duty:list"))[0]
    finally:
        await listening.close()
        await unchanged.close()


async def test_the_sweep_reads_many_sessions_again_in_a_few_reads_with_the_same_answers(hub: HubClient) -> None:
    """The sweep's batch read (all the sockets of a busy node fall due together) answers exactly as
    the one-by-one read: a revoked session, a disabled account and a session of someone else are
    no longer valid, a changed role or name is seen, an untouched session stays."""
    from hubchat.principal import Principal

    accounts = hub.services["accounts"]
    store = accounts.infra.store
    people = [await account(hub, f"Person {i}") for i in range(5)]
    principals = [await accounts.principal_from_token(p["access_token"]) for p in people]
    await store["sessions"].update_one({"_id": principals[0].session_id}, {"$set": {"revoked_at": utcnow()}})
    await store["users"].update_one({"_id": people[1]["id"]}, {"$set": {"disabled": True}})
    await store["users"].update_one({"_id": people[2]["id"]}, {"$set": {"role": "officer", "display_name": "P2"}})
    stolen = Principal(user_id=people[4]["id"], role="member", session_id=principals[3].session_id,
                       display_name="x", language="en")  # someone else's session id
    asked = [*principals[:4], stolen]

    batch = await accounts.revalidate_many(asked)
    one_by_one = {(p.session_id, p.user_id): await accounts.revalidate(p) for p in asked}
    assert batch == one_by_one
    assert batch[principals[0].session_id, people[0]["id"]] is None  # revoked
    assert batch[principals[1].session_id, people[1]["id"]] is None  # disabled
    changed = batch[principals[2].session_id, people[2]["id"]]
    assert changed is not None and (changed.role, changed.display_name) == ("officer", "P2")
    assert batch[principals[3].session_id, people[3]["id"]] == principals[3]
    assert batch[stolen.session_id, stolen.user_id] is None
