"""Feedback on answers: the request ledger (what each request was), its stores, and the experiments report."""

from orchestrator.feedback.ledger import RequestLedger, record_of
from orchestrator.feedback.records import FeedbackRecord, FeedbackStore, GroupTotals, MemoryFeedbackStore, RequestRecord
from orchestrator.feedback.stores import open_feedback_store

__all__ = [
    "FeedbackRecord",
    "FeedbackStore",
    "GroupTotals",
    "MemoryFeedbackStore",
    "RequestLedger",
    "RequestRecord",
    "open_feedback_store",
    "record_of",
]
