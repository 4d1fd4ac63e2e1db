"""The model worker: an asyncio micro-batcher in front of a thread that runs the engine.

Texts (each a list of sentences in one direction) wait in a bounded priority queue.  The
collector takes the waiting texts, best priority first, until the batch holds
``batch_max_sentences`` sentences or the oldest text has waited ``batch_window_ms`` — an SOS
text does not wait for the window.  Each direction's sentences run as one CTranslate2 batch in
a single worker thread (identical sentences once), and every text's future gets its own
translations.  While a batch runs, new texts queue up, so under load batches fill without
waiting.

Full queue: a new text evicts the newest text of a worse priority (an SOS text evicts chat,
chat evicts backfill); if there is none, the new text itself is shed.  Shedding never blocks:
the shed text's caller gets :class:`Shed` at once, the ``hubchat_translate_shed_total``
counter goes up, and the caller marks the message ``pending_backfill``.  Texts still queued at
shutdown are shed the same way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import enum
import heapq
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence

from hubchat.background import cancel_and_wait
from hubchat.translate.metrics import TranslateMetrics

log = logging.getLogger(__name__)

# (direction, sentences) -> (model version, translations); blocking, runs in the worker thread.
BatchTranslate = Callable[[str, Sequence[str]], tuple[str, list[str]]]


class Priority(enum.IntEnum):
    SOS = 0
    CHAT = 1
    BACKFILL = 2


class Shed(Exception):
    """The text was not translated because the model queue was full (or the worker stopped)."""


@dataclasses.dataclass(eq=False)
class _Job:
    priority: Priority
    order: int
    direction: str
    sentences: list[str]
    future: asyncio.Future[tuple[str, list[str]]]
    enqueued_at: float

    def __lt__(self, other: _Job) -> bool:
        return (self.priority, self.order) < (other.priority, other.order)


class BatchWorker:
    def __init__(self, translate: BatchTranslate, *, batch_max_sentences: int = 32,
                 batch_window_ms: float = 15.0, queue_max: int = 1000,
                 metrics: TranslateMetrics | None = None):
        self._translate = translate
        self.batch_max_sentences = batch_max_sentences
        self.batch_window_secs = batch_window_ms / 1000.0
        self.queue_max = queue_max
        self.metrics = metrics or TranslateMetrics()
        self._heap: list[_Job] = []
        self._order = itertools.count()
        self._arrived = asyncio.Event()
        self._queued_sentences = 0
        self._queued_sos = 0
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._collector: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ submitting
    async def translate(self, direction: str, sentences: Sequence[str],
                        priority: Priority = Priority.CHAT) -> tuple[str, list[str]]:
        """(model version, translations) of ``sentences``; raises Shed when the queue is full."""
        if self._collector is None:
            raise Shed("the translation worker is not running")
        future: asyncio.Future[tuple[str, list[str]]] = asyncio.get_running_loop().create_future()
        job = _Job(priority, next(self._order), direction, list(sentences), future, time.monotonic())
        self._push(job)
        return await future

    def _push(self, job: _Job) -> None:
        if len(self._heap) >= self.queue_max:
            victim = max(self._heap, key=lambda j: (j.priority, j.order))
            if victim.priority <= job.priority:
                self._count_shed(job)
                raise Shed("the translation queue is full")
            self._heap.remove(victim)
            heapq.heapify(self._heap)
            self._forget(victim)
            self._count_shed(victim)
            if not victim.future.done():
                victim.future.set_exception(Shed("evicted by a more urgent text"))
        heapq.heappush(self._heap, job)
        self._queued_sentences += len(job.sentences)
        self._queued_sos += job.priority == Priority.SOS
        self.metrics.queue_depth.set(len(self._heap))
        self._arrived.set()

    def _count_shed(self, job: _Job) -> None:
        self.metrics.shed.labels(job.priority.name.lower()).inc()

    def _forget(self, job: _Job) -> None:
        self._queued_sentences -= len(job.sentences)
        self._queued_sos -= job.priority == Priority.SOS

    def queued(self) -> int:
        return len(self._heap)

    # ------------------------------------------------------------ running
    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[BatchWorker]:
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="translate")
        self._collector = asyncio.get_running_loop().create_task(self._run(), name="translate-worker")
        try:
            yield self
        finally:
            collector, self._collector = self._collector, None
            await cancel_and_wait({collector})
            for job in self._heap:
                if not job.future.done():
                    job.future.set_exception(Shed("the translation worker stopped"))
                    self._count_shed(job)
            self._heap.clear()
            self._queued_sentences = self._queued_sos = 0
            self.metrics.queue_depth.set(0)
            executor, self._executor = self._executor, None
            await asyncio.to_thread(executor.shutdown, wait=True)

    async def _run(self) -> None:
        while True:
            batch = await self._collect()
            try:
                await self._execute(batch)
            except asyncio.CancelledError:
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(Shed("the translation worker stopped"))
                raise
            except Exception:  # never reached in practice: _execute resolves every future
                log.exception("translation batch failed")

    async def _collect(self) -> list[_Job]:
        while not self._heap:
            self._arrived.clear()
            await self._arrived.wait()
        while self._queued_sentences < self.batch_max_sentences and not self._queued_sos:
            oldest = min(job.enqueued_at for job in self._heap)
            remaining = oldest + self.batch_window_secs - time.monotonic()
            if remaining <= 0:
                break
            self._arrived.clear()
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that
            # arrives as the event fires, and the worker would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()
        batch: list[_Job] = []
        count = 0
        while self._heap and (not batch or count + len(self._heap[0].sentences) <= self.batch_max_sentences):
            job = heapq.heappop(self._heap)
            self._forget(job)
            if job.future.done():  # its caller gave up
                continue
            batch.append(job)
            count += len(job.sentences)
        self.metrics.queue_depth.set(len(self._heap))
        return batch

    async def _execute(self, batch: list[_Job]) -> None:
        by_direction: dict[str, list[_Job]] = {}
        for job in batch:
            by_direction.setdefault(job.direction, []).append(job)
        loop = asyncio.get_running_loop()
        for direction, jobs in by_direction.items():
            unique = list(dict.fromkeys(s for job in jobs for s in job.sentences))
            self.metrics.batch_sentences.observe(len(unique))
            started = time.perf_counter()
            try:
                version, translations = await loop.run_in_executor(
                    self._executor, self._translate, direction, unique)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            finally:
                self.metrics.inference_seconds.observe(time.perf_counter() - started)
            found = dict(zip(unique, translations, strict=True))
            for job in jobs:
                if not job.future.done():
                    job.future.set_result((version, [found[s] for s in job.sentences]))
