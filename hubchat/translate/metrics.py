"""Prometheus metrics of the translation capability (on the node's registry)."""

from __future__ import annotations

import weakref

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

BATCH_SENTENCE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class TranslateMetrics:
    @classmethod
    def on(cls, registry: CollectorRegistry) -> TranslateMetrics:
        """The translation metrics of ``registry``, created on first use (a registry refuses
        the same metric twice, and a process may build several services on one registry)."""
        metrics = _BY_REGISTRY.get(registry)
        if metrics is None:
            metrics = _BY_REGISTRY[registry] = cls(registry)
        return metrics

    def __init__(self, registry: CollectorRegistry | None = None):
        registry = registry or CollectorRegistry()
        self.registry = registry
        self.texts = Counter("hubchat_translate_texts_total", "Texts through the translation pipeline",
                             ["status", "engine"], registry=registry)
        self.shed = Counter("hubchat_translate_shed_total",
                            "Texts shed from the full model queue (marked for backfill), by priority",
                            ["priority"], registry=registry)
        self.queue_depth = Gauge("hubchat_translate_queue_texts", "Texts waiting for the model",
                                 registry=registry)
        self.batch_sentences = Histogram("hubchat_translate_batch_sentences", "Sentences per model batch",
                                         buckets=BATCH_SENTENCE_BUCKETS, registry=registry)
        self.inference_seconds = Histogram("hubchat_translate_inference_seconds", "Model time per batch",
                                           buckets=SECONDS_BUCKETS, registry=registry)
        self.text_seconds = Histogram("hubchat_translate_text_seconds",
                                      "From a text entering the pipeline to its translation",
                                      buckets=SECONDS_BUCKETS, registry=registry)
        self.cache = Counter("hubchat_translate_cache_total", "Translation cache lookups and errors",
                             ["result"], registry=registry)


_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, TranslateMetrics] = weakref.WeakKeyDictionary()
