"""The RateLimiter contract, in memory and on the real Redis; windows pass on a ManualClock."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from hubchat.clock import ManualClock
from hubchat.errors import RateLimited
from hubchat.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter

WINDOW_SECS = 10.0  # far longer than a test runs: only the clock's advances make it pass


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest, redis_client: aioredis.Redis, redis_prefix: str,
            clock: ManualClock) -> RateLimiter:
    if request.param == "redis":
        return RedisRateLimiter(redis_client, redis_prefix, clock)
    return MemoryRateLimiter(clock)


async def test_allows_up_to_the_limit_then_refuses(limiter: RateLimiter) -> None:
    assert [await limiter.allow("user:1", 3, 10) for _ in range(3)] == [0.0, 0.0, 0.0]

    retry_after = await limiter.allow("user:1", 3, 10)

    assert 9.0 < retry_after <= 10.0


async def test_refusals_are_not_counted(limiter: RateLimiter, clock: ManualClock) -> None:
    await limiter.allow("k", 1, WINDOW_SECS)
    for _ in range(5):
        clock.advance(1.0)
        assert await limiter.allow("k", 1, WINDOW_SECS) > 0
    clock.advance(WINDOW_SECS - 5.0)
    assert await limiter.allow("k", 1, WINDOW_SECS) == 0.0  # the refusals did not extend the window


async def test_window_slides(limiter: RateLimiter, clock: ManualClock) -> None:
    assert await limiter.allow("k", 2, WINDOW_SECS) == 0.0
    clock.advance(WINDOW_SECS / 2)
    assert await limiter.allow("k", 2, WINDOW_SECS) == 0.0
    retry_after = await limiter.allow("k", 2, WINDOW_SECS)
    assert WINDOW_SECS / 2 - 1.0 < retry_after <= WINDOW_SECS / 2  # until the first call leaves the window

    clock.advance(retry_after)
    assert await limiter.allow("k", 2, WINDOW_SECS) == 0.0  # the first call slid out...
    assert await limiter.allow("k", 2, WINDOW_SECS) > 0  # ...but the second is still in


async def test_a_window_does_not_pass_without_time(limiter: RateLimiter, clock: ManualClock) -> None:
    assert await limiter.allow("k", 1, WINDOW_SECS) == 0.0
    clock.advance(WINDOW_SECS - 1.0)
    retry_after = await limiter.allow("k", 1, WINDOW_SECS)
    assert 0 < retry_after <= 1.0


async def test_keys_are_independent(limiter: RateLimiter) -> None:
    assert await limiter.allow("a", 1, 10) == 0.0
    assert await limiter.allow("a", 1, 10) > 0
    assert await limiter.allow("b", 1, 10) == 0.0


async def test_zero_or_negative_limit_is_unlimited(limiter: RateLimiter) -> None:
    for _ in range(50):
        assert await limiter.allow("k", 0, 10) == 0.0
        await limiter.hit("k", -1, 10)


async def test_hit_raises_rate_limited(limiter: RateLimiter) -> None:
    await limiter.hit("login:a@example.org", 2, 60, what="login attempts")
    await limiter.hit("login:a@example.org", 2, 60, what="login attempts")

    with pytest.raises(RateLimited) as caught:
        await limiter.hit("login:a@example.org", 2, 60, what="login attempts")

    error = caught.value
    assert error.error_code == "rate_limited"
    assert error.status == 429
    assert 59 < error.retry_after_secs <= 60
    assert error.message == "too many login attempts; retry in 60 s"
    assert error.to_dict()["error"]["temporary"] is True


async def test_the_system_clock_runs_the_redis_window_on_server_time(
        redis_client: aioredis.Redis, redis_prefix: str, clock: ManualClock) -> None:
    """Production passes a lead of 0: the window is the Redis server's; a test's lead moves it."""
    system = RedisRateLimiter(redis_client, redis_prefix)
    assert await system.allow("k", 1, WINDOW_SECS) == 0.0
    assert await system.allow("k", 1, WINDOW_SECS) > WINDOW_SECS - 1.0
    clock.advance(WINDOW_SECS)
    assert await RedisRateLimiter(redis_client, redis_prefix, clock).allow("k", 1, WINDOW_SECS) == 0.0


async def test_two_redis_limiters_share_the_count(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    node_a, node_b = (
        RedisRateLimiter(redis_client, redis_prefix),
        RedisRateLimiter(redis_client, redis_prefix),
    )

    assert await node_a.allow("user:1", 2, 10) == 0.0
    assert await node_b.allow("user:1", 2, 10) == 0.0
    assert await node_a.allow("user:1", 2, 10) > 0
    assert await node_b.allow("user:1", 2, 10) > 0


async def test_redis_limiter_is_atomic_under_concurrency(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    nodes = [RedisRateLimiter(redis_client, redis_prefix) for _ in range(4)]

    results = await asyncio.gather(*(nodes[i % 4].allow("burst", 10, 10) for i in range(40)))

    assert sum(1 for r in results if r == 0.0) == 10


async def test_redis_limiter_keys_expire_with_the_window(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    await RedisRateLimiter(redis_client, redis_prefix).allow("user:1", 5, 2)

    ttl_ms = await redis_client.pttl(redis_prefix + "rl:user:1")

    assert 0 < ttl_ms <= 2000
