"""Feedback: recorded by the calling service for its own requests only, joined to the request ledger, counted in
metrics; the ledger's stores (memory, SQLite, PostgreSQL) and its bounds."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import feedback_pb2, feedback_pb2_grpc
from orchestrator_client.v1 import generation_pb2 as gen

from orchestrator.config import FeedbackSettings
from orchestrator.domain import Attempt, AttemptOutcome, FinishReason, GenerationRequest, GenerationResult, TokenUsage
from orchestrator.errors import ConfigError
from orchestrator.feedback import FeedbackRecord, RequestLedger, RequestRecord, open_feedback_store, record_of
from orchestrator.feedback.records import FeedbackStore, GroupTotals
from orchestrator.observe import GenerationOutcome
from orchestrator.policy.keys import digest
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ErrorDetails
from tests.pg import pg_database, pg_dsn, pg_server  # noqa: F401  (fixtures)
from tests.routing_env import routed_server

pytestmark = pytest.mark.timeout(120)

RD_KEY, PM_KEY = "orc_rd-feedback-key", "orc_pm-feedback-key"
AUTH = {
    "mode": "required",
    "services": [{"name": "rd", "key_sha256": digest(RD_KEY)}, {"name": "pm", "key_sha256": digest(PM_KEY)}],
}
RD, PM = [("authorization", f"Bearer {RD_KEY}")], [("authorization", f"Bearer {PM_KEY}")]


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest_asyncio.fixture
async def client(fake: FakeUpstream) -> AsyncIterator[OrchestratorClient]:
    async with routed_server(fake, sections={"auth": AUTH}) as client:
        yield client


def bug_fix(request_id: str) -> gen.GenerateRequest:
    request = gen.GenerateRequest(
        request_id=request_id, task_type="bug_fixing", template_id="bug_fixing",
        selection=gen.ModelSelection(preferred_model="primary"), params=gen.GenerationParams(max_output_tokens=16),
    )  # fmt: skip
    request.variables.update({"bug_description": "crashes on empty input", "code": "def f(x): return x[0]"})
    return request


def feedback(client: OrchestratorClient) -> feedback_pb2_grpc.FeedbackServiceStub:
    return feedback_pb2_grpc.FeedbackServiceStub(client.channel)


async def failure(call: object) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return ErrorDetails(caught.value)


async def test_feedback_joins_the_callers_request(client: OrchestratorClient) -> None:
    answer = await client.generate(bug_fix("rd-1"), metadata=RD)

    recorded = await feedback(client).RecordFeedback(
        feedback_pb2.RecordFeedbackRequest(request_id="rd-1", score=0.8, comment="fixed it"), metadata=RD, timeout=10
    )

    assert (recorded.request_id, recorded.task_type, recorded.template_id) == ("rd-1", "bug_fixing", "bug_fixing")
    assert (recorded.template_version, recorded.model) == (answer.template_version, answer.model) == ("1.0", "primary")
    assert recorded.score == pytest.approx(0.8)


async def test_feedback_for_another_services_request_is_not_found(client: OrchestratorClient) -> None:
    """NOT_FOUND, not PERMISSION_DENIED: request ids are the callers' own, so each service has its own namespace
    of them; PERMISSION_DENIED would tell pm that some other service used the id."""
    await client.generate(bug_fix("rd-only"), metadata=RD)
    stub = feedback(client)

    others = await failure(stub.RecordFeedback(feedback_pb2.RecordFeedbackRequest(request_id="rd-only", score=0.1),
                                               metadata=PM, timeout=10))  # fmt: skip
    unknown = await failure(stub.RecordFeedback(feedback_pb2.RecordFeedbackRequest(request_id="never-used", score=1),
                                                metadata=PM, timeout=10))  # fmt: skip
    own = await stub.RecordFeedback(feedback_pb2.RecordFeedbackRequest(request_id="rd-only", label="good"),
                                    metadata=RD, timeout=10)  # fmt: skip

    assert (others.code, others.reason) == (grpc.StatusCode.NOT_FOUND, "REQUEST_NOT_FOUND")
    assert (unknown.code, unknown.reason) == (others.code, others.reason)
    assert others.message.replace("rd-only", "X") == unknown.message.replace("never-used", "X")
    assert own.score == 1.0  # the label's configured score


async def test_two_services_may_use_the_same_request_id(client: OrchestratorClient, fake: FakeUpstream) -> None:
    fake.enqueue(Behaviour(text="rd's answer"), model="primary")
    fake.enqueue(Behaviour(text="pm's answer"), model="fallback")
    await client.generate(bug_fix("shared-id"), metadata=RD)
    pm_request = bug_fix("shared-id")
    pm_request.selection.preferred_model = "fallback"
    await client.generate(pm_request, metadata=PM)

    for_rd = await feedback(client).RecordFeedback(
        feedback_pb2.RecordFeedbackRequest(request_id="shared-id", score=0.2), metadata=RD, timeout=10
    )
    for_pm = await feedback(client).RecordFeedback(
        feedback_pb2.RecordFeedbackRequest(request_id="shared-id", score=0.9), metadata=PM, timeout=10
    )

    assert (for_rd.model, for_pm.model) == ("primary", "fallback")


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"request_id": "rd-bad", "score": 1.5}, "score"),
        ({"request_id": "rd-bad", "score": float("nan")}, "score"),
        ({"request_id": "rd-bad", "label": "meh"}, "label"),
        ({"request_id": "rd-bad"}, "score"),
        ({"score": 0.5}, "request_id"),
        ({"request_id": "rd-bad", "score": 0.5, "comment": "x" * 2001}, "comment"),
    ],
    ids=["score above 1", "score NaN", "unknown label", "no score nor label", "no request id", "long comment"],
)
async def test_bad_feedback_is_invalid_argument_naming_the_field(
    client: OrchestratorClient, request_fields: dict, field: str
) -> None:
    await client.generate(bug_fix("rd-bad"), metadata=RD)

    details = await failure(
        feedback(client).RecordFeedback(feedback_pb2.RecordFeedbackRequest(**request_fields), metadata=RD, timeout=10)
    )

    assert (details.code, details.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert list(details.field_violations) == [field]


async def test_feedback_is_counted_per_variant(client: OrchestratorClient) -> None:
    await client.generate(bug_fix("rd-m1"), metadata=RD)
    await client.generate(bug_fix("rd-m2"), metadata=RD)
    stub = feedback(client)

    await stub.RecordFeedback(feedback_pb2.RecordFeedbackRequest(request_id="rd-m1", score=0.25), metadata=RD)
    await stub.RecordFeedback(feedback_pb2.RecordFeedbackRequest(request_id="rd-m2", label="bad"), metadata=RD)

    registry = client.server.metrics.registry  # type: ignore[attr-defined]
    labels = {"task_type": "bug_fixing", "template_version": "other"}  # 1.0 is not an experiment's variant
    assert registry.get_sample_value("orchestrator_feedback_total", {**labels, "kind": "score"}) == 1
    assert registry.get_sample_value("orchestrator_feedback_total", {**labels, "kind": "label"}) == 1
    assert registry.get_sample_value("orchestrator_feedback_score_count", labels) == 2
    assert registry.get_sample_value("orchestrator_feedback_score_sum", labels) == pytest.approx(0.25)


# -- the stores --------------------------------------------------------------------------------------------------


def request(request_id: str, service: str = "rd", **fields: object) -> RequestRecord:
    base = RequestRecord(
        service=service, request_id=request_id, task_type="bug_fixing", template_id="bug_fixing",
        template_version="3", model="primary", outcome="success", rejected_answers=0, reasks=0, latency_ms=12.5,
        input_tokens=100, output_tokens=20, cost_usd=0.001, cache_hit=False, created_at=time.time(),
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> FeedbackSettings:
    kind = request.param
    where = {"dsn": request.getfixturevalue("pg_dsn")} if kind == "postgres" else {"path": str(tmp_path / "f.db")}
    return FeedbackSettings(store={"type": kind, **where})  # type: ignore[arg-type]


@pytest_asyncio.fixture
async def store(store_settings: FeedbackSettings) -> AsyncIterator[FeedbackStore]:
    opened = await open_feedback_store(store_settings)
    yield opened
    await opened.aclose()


async def test_a_store_keeps_requests_per_service_and_replaces_them(store: FeedbackStore) -> None:
    first, other_service = request("r-1"), request("r-1", service="pm", model="fallback")
    await store.add_requests([first, other_service, request("r-2")])
    await store.add_requests([replace(first, outcome="INVALID_MODEL_OUTPUT", rejected_answers=3)])

    assert await store.get_request("rd", "r-1") == replace(first, outcome="INVALID_MODEL_OUTPUT", rejected_answers=3)
    assert await store.get_request("pm", "r-1") == other_service
    assert await store.get_request("pm", "r-2") is None


async def test_a_store_sums_groups_with_their_feedback(store: FeedbackStore) -> None:
    now = time.time()
    await store.add_requests([
        request("a", rejected_answers=1, reasks=1, cost_usd=0.002), request("b"),
        request("c", model="fallback"), request("d", template_version="4"),
        request("old", created_at=now - 3600), request("x", task_type="other_task"),
    ])  # fmt: skip
    for request_id, score in (("a", 0.5), ("b", 1.0), ("d", None)):
        await store.put_feedback(FeedbackRecord("rd", request_id, score, "" if score is not None else "x", "", now))
    await store.put_feedback(FeedbackRecord("rd", "b", 0.75, "", "changed my mind", now))

    totals = await store.totals("bug_fixing", now - 60)

    assert totals == [
        GroupTotals("3", "fallback", 1, 0, 0, pytest.approx(0.001), 0, 0, 0.0, 0.0),  # type: ignore[arg-type]
        GroupTotals("3", "primary", 2, 1, 1, pytest.approx(0.003), 2, 2, 1.25, pytest.approx(0.8125)),  # type: ignore[arg-type]
        GroupTotals("4", "primary", 1, 0, 0, pytest.approx(0.001), 1, 0, 0.0, 0.0),  # type: ignore[arg-type]
    ]


async def test_a_store_prunes_by_age_and_count_with_the_feedback(store: FeedbackStore) -> None:
    now = time.time()
    await store.add_requests([request(f"r-{i}", created_at=now - 100 + i) for i in range(10)])
    for i in (0, 5, 9):
        await store.put_feedback(FeedbackRecord("rd", f"r-{i}", 1.0, "", "", now))

    await store.prune(older_than=now - 98, keep=5)  # r-0, r-1 are too old; of r-2..r-9 the newest 5 stay

    kept = [i for i in range(10) if await store.get_request("rd", f"r-{i}") is not None]
    assert kept == [5, 6, 7, 8, 9]
    totals = await store.totals("bug_fixing", 0)
    assert (totals[0].requests, totals[0].feedback) == (5, 2)


async def test_the_sqlite_ledger_survives_a_restart(tmp_path: Path) -> None:
    settings = FeedbackSettings(store={"type": "sqlite", "path": str(tmp_path / "ledger.db")})  # type: ignore[arg-type]
    kept = request("kept")
    first = await open_feedback_store(settings)
    await first.add_requests([kept])
    await first.aclose()

    second = await open_feedback_store(settings)
    try:
        assert await second.get_request("rd", "kept") == kept
    finally:
        await second.aclose()


# -- the ledger ----------------------------------------------------------------------------------------------------


def finished(request_id: str, *outcomes: AttemptOutcome) -> GenerationOutcome:
    """A generation's outcome as the pipeline reports it; the last attempt decides success."""
    tries = tuple(
        Attempt("primary", "upstream", o, "" if o is AttemptOutcome.SUCCESS else "INVALID_MODEL_OUTPUT", 5.0,
                TokenUsage(100, 10), 0.001, "" if o is AttemptOutcome.SUCCESS else "max_chars")
        for o in outcomes
    )  # fmt: skip
    asked = GenerationRequest(request_id=request_id, task_type="bug_fixing", template_id="triage")
    if tries and tries[-1].outcome is AttemptOutcome.SUCCESS:
        result = GenerationResult(request_id, "ok", "primary", "upstream", TokenUsage(), 0.0, FinishReason.STOP,
                                  list(tries), template_version="3")  # fmt: skip
        return GenerationOutcome(asked, False, 0.25, result, attempts=tries, template_version="3")
    return GenerationOutcome(asked, False, 0.25, error_reason="INVALID_MODEL_OUTPUT", attempts=tries,
                             template_version="3", failed_model="primary" if tries else "")  # fmt: skip


def test_the_ledger_records_what_reached_a_model() -> None:
    ok, bad = AttemptOutcome.SUCCESS, AttemptOutcome.INVALID_OUTPUT

    reasked = record_of(finished("a", bad, bad, ok), now=1.0)
    failed = record_of(finished("b", bad, bad), now=1.0)
    refused = record_of(finished("c"), now=1.0)  # e.g. PERMISSION_DENIED: never routed

    assert reasked is not None and failed is not None and refused is None
    assert (reasked.outcome, reasked.rejected_answers, reasked.reasks, reasked.template_version) == (
        "success", 2, 2, "3",
    )  # fmt: skip
    assert (reasked.input_tokens, reasked.cost_usd, reasked.latency_ms) == (300, pytest.approx(0.003), 250.0)
    assert (failed.outcome, failed.model, failed.rejected_answers, failed.reasks) == (
        "INVALID_MODEL_OUTPUT", "primary", 2, 1,
    )  # fmt: skip


async def test_the_ledger_drops_and_counts_what_it_cannot_queue_or_write(tmp_path: Path) -> None:
    settings = FeedbackSettings(store={"type": "sqlite", "path": str(tmp_path / "ledger.db")})  # type: ignore[arg-type]
    store = await open_feedback_store(settings)
    dropped: list[int] = []
    ledger = RequestLedger(store, 86400, 1000, dropped.append, queue_limit=2)
    for n in range(3):  # not started: nothing is written yet, and the queue holds two
        ledger.generation_finished(finished(f"q-{n}", AttemptOutcome.SUCCESS))

    found = await ledger.lookup("anonymous", "q-1")  # still queued: flushed, then found
    await store.aclose()
    ledger.generation_finished(finished("q-3", AttemptOutcome.SUCCESS))
    await ledger.flush()  # the store is closed: the write fails, the ledger goes on

    assert found is not None and found.request_id == "q-1"
    assert dropped == [1, 1]


async def test_a_store_that_cannot_be_opened_is_a_config_error_naming_the_setting(tmp_path: Path) -> None:
    missing_dir = FeedbackSettings(store={"type": "sqlite", "path": str(tmp_path / "no" / "such" / "f.db")})  # type: ignore[arg-type]
    closed_port = FeedbackSettings(store={"type": "postgres", "dsn": "postgresql://u:s3cret-pw@127.0.0.1:1/ledger"})  # type: ignore[arg-type]

    with pytest.raises(ConfigError) as sqlite_error:
        await open_feedback_store(missing_dir)
    with pytest.raises(ConfigError) as postgres_error:
        await open_feedback_store(closed_port)

    assert str(sqlite_error.value).startswith("feedback.store.path: cannot open SQLite database")
    assert str(postgres_error.value).startswith("feedback.store.dsn: cannot use PostgreSQL")
    assert "s3cret-pw" not in str(postgres_error.value)
