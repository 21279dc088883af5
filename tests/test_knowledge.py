"""The knowledge base: documents chunked and searched by full text (SQLite FTS5 and PostgreSQL), retrieval into
a request's context, and relevance computed for context items that carry none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2, knowledge_pb2, knowledge_pb2_grpc
from orchestrator_client.v1 import generation_pb2 as gen
from orchestrator_client.v1 import templates_pb2 as tpl

from orchestrator.knowledge.chunking import chunk
from orchestrator.policy.keys import digest
from tests.fakes import FakeUpstream
from tests.helpers import ROOT, ErrorDetails
from tests.pg import PgServer, pg_database, pg_dsn, pg_server  # noqa: F401  (fixtures)
from tests.routing_env import routed_server

# Ten questions about this project's README and a phrase only the passage that answers each one contains.
QUESTIONS = [
    ("How do I call the server from the command line with grpcurl?", "grpcurl -plaintext localhost:50051 list"),
    ("Where does make run keep its prompt templates?", "orchestrator-templates.db"),
    ("What happens when Redis is unreachable for the response cache?", "orchestrator_shared_state_errors_total"),
    ("How are service keys stored and rotated?", "key_sha256"),
    ("How does the circuit breaker decide to open?", "failure_threshold"),
    ("What does SIGTERM do to in-flight calls?", "grace_seconds"),
    ("How is a streamed answer that fails its schema reported?", "INVALID_MODEL_OUTPUT"),
    ("Which layers may import grpc?", "grpc is imported only under"),
    ("Where are templates stored when several replicas run?", "postgres"),
    ("How are budgets reserved and settled for each attempt?", "estimate, reserve, settle"),
]


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture(params=["sqlite", "postgres"])
def knowledge_store(request: pytest.FixtureRequest, tmp_path: Path) -> dict:
    if request.param == "postgres":
        return {"type": "postgres", "dsn": request.getfixturevalue("pg_dsn")}
    return {"type": "sqlite", "path": str(tmp_path / "knowledge.db")}


def stub(client: OrchestratorClient) -> knowledge_pb2_grpc.KnowledgeServiceStub:
    return knowledge_pb2_grpc.KnowledgeServiceStub(client.channel)


def readme_documents() -> list[knowledge_pb2.Document]:
    sections = (ROOT / "README.md").read_text().split("\n## ")
    return [
        knowledge_pb2.Document(id=f"readme-{i}", content=section, source=f"README.md#{section.splitlines()[0]}")
        for i, section in enumerate(sections)
    ]


def test_chunks_follow_paragraphs_and_overlap() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 60 for i in range(10))

    pieces = chunk(text, 800, 100)

    assert all(len(p) <= 800 for p in pieces) and len(pieces) >= 4
    assert all(p.startswith("Paragraph") or p.startswith("word") for p in pieces)  # never mid-word
    assert "".join(pieces).count("Paragraph 9.") >= 1


async def test_upsert_search_replace_and_delete(fake: FakeUpstream, knowledge_store: dict) -> None:
    async with routed_server(fake, sections={"knowledge": {"store": knowledge_store}}) as client:
        kb = stub(client)
        stored = await kb.UpsertDocuments(knowledge_pb2.UpsertDocumentsRequest(
            collection="docs", documents=readme_documents()), timeout=30)  # fmt: skip
        found = await kb.Search(knowledge_pb2.SearchRequest(collection="docs", query="circuit breaker cooldown"))
        replacement = knowledge_pb2.Document(id="readme-0", content="zanzibarish text")
        again = await kb.UpsertDocuments(
            knowledge_pb2.UpsertDocumentsRequest(collection="docs", documents=[replacement])
        )
        replaced = await kb.Search(knowledge_pb2.SearchRequest(collection="docs", query="zanzibarish"))
        deleted = await kb.DeleteDocuments(knowledge_pb2.DeleteDocumentsRequest(collection="docs", ids=["readme-0"]))
        whole = await kb.DeleteDocuments(knowledge_pb2.DeleteDocumentsRequest(collection="docs"))
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await kb.Search(knowledge_pb2.SearchRequest(collection="docs", query="anything"))

    assert stored.documents == len(readme_documents()) and stored.chunks > stored.documents
    assert found.chunks[0].score == 1.0 and all(0 < c.score <= 1 for c in found.chunks)
    assert "breaker" in found.chunks[0].content.lower()
    assert again.chunks == 1 and [c.document_id for c in replaced.chunks] == ["readme-0"]
    assert deleted.deleted == 1 and whole.deleted == stored.documents - 1
    assert ErrorDetails(gone.value).reason == "COLLECTION_NOT_FOUND"


async def test_the_obviously_relevant_readme_passage_ranks_in_the_top_three(
    fake: FakeUpstream, knowledge_store: dict
) -> None:
    async with routed_server(fake, sections={"knowledge": {"store": knowledge_store}}) as client:
        kb = stub(client)
        documents = readme_documents()
        await kb.UpsertDocuments(knowledge_pb2.UpsertDocumentsRequest(collection="readme", documents=documents))
        ranks = []
        for question, phrase in QUESTIONS:
            hits = await kb.Search(knowledge_pb2.SearchRequest(collection="readme", query=question, top_k=10))
            ranks.append(next((i for i, c in enumerate(hits.chunks) if phrase in c.content), None))

    hit_rate = sum(1 for r in ranks if r is not None and r < 3) / len(QUESTIONS)
    print(f"{knowledge_store['type']}: hit rate at 3 = {hit_rate:.0%}, ranks = {ranks}")
    assert hit_rate >= 0.8, ranks


async def test_retrieved_chunks_join_the_context_of_a_generation(fake: FakeUpstream) -> None:
    tasks = {"docs_qa": {"retrieval": {"collections": ["readme"], "top_k": 2}}}
    async with routed_server(fake, sections={"tasks": tasks, "knowledge": {"store": {"type": "memory"}}}) as client:
        await stub(client).UpsertDocuments(
            knowledge_pb2.UpsertDocumentsRequest(collection="readme", documents=readme_documents()), timeout=30
        )
        question = common_pb2.Message(role=common_pb2.ROLE_USER, content="How does the circuit breaker open?")
        large = gen.ModelSelection(preferred_model="large")
        by_task = await client.generate(gen.GenerateRequest(task_type="docs_qa", messages=[question], selection=large))
        retrieval = gen.RetrievalOptions(collections=["readme"], query="SIGTERM grace", top_k=1)
        explicit = await client.generate(gen.GenerateRequest(messages=[question], retrieval=retrieval, selection=large))
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await client.generate(
                gen.GenerateRequest(messages=[question], retrieval=gen.RetrievalOptions(collections=["nope"]))
            )

    first, second = (r.body["messages"][-1]["content"] for r in fake.requests)
    assert by_task.context_items_used == 2 and "failure_threshold" in first and "[source: README.md#" in first
    assert explicit.context_items_used == 1 and "grace_seconds" in second
    assert ErrorDetails(missing.value).reason == "COLLECTION_NOT_FOUND"


async def test_only_the_creator_or_an_admin_changes_a_collection(fake: FakeUpstream) -> None:
    auth = {"mode": "required", "services": [{"name": "rd", "key_sha256": digest("orc_rd")},
                                             {"name": "pm", "key_sha256": digest("orc_pm")}]}  # fmt: skip
    rd, pm = [("authorization", "Bearer orc_rd")], [("authorization", "Bearer orc_pm")]
    document = knowledge_pb2.Document(id="d", content="owned by rd")
    async with routed_server(fake, sections={"auth": auth, "knowledge": {"store": {"type": "memory"}}}) as client:
        kb = stub(client)
        await kb.UpsertDocuments(knowledge_pb2.UpsertDocumentsRequest(collection="rd-docs", documents=[document]),
                                 metadata=rd)  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await kb.UpsertDocuments(knowledge_pb2.UpsertDocumentsRequest(collection="rd-docs", documents=[document]),
                                     metadata=pm)  # fmt: skip
        readable = await kb.Search(knowledge_pb2.SearchRequest(collection="rd-docs", query="owned"), metadata=pm)

    error = ErrorDetails(denied.value)
    assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "COLLECTION_NOT_OWNED")
    assert [c.document_id for c in readable.chunks] == ["d"]


async def test_render_shows_kept_items_and_computed_relevance(fake: FakeUpstream) -> None:
    items = [
        common_pb2.ContextItem(content="Bananas are yellow and grow in bunches.", source="fruit.md"),
        common_pb2.ContextItem(content="The reverse of a string in Python is s[::-1].", source="python.md"),
        common_pb2.ContextItem(content="A hand-scored note.", source="note.md", relevance_score=0.4),
        common_pb2.ContextItem(content="filler " * 400, source="big.md"),
    ]
    async with routed_server(fake) as client:
        rendered = await client.templates.RenderTemplate(
            tpl.RenderTemplateRequest(
                template_id="code_generation",
                model="small",
                context=items,
                max_output_tokens=32,
                variables={"requirement": "reverse a string in python", "language": "python"},
                context_strategy=gen.CONTEXT_STRATEGY_RELEVANCE,
            ),
            timeout=10,
        )

    report = {r.source: r for r in rendered.context_items}
    assert report["python.md"].relevance_computed and report["python.md"].relevance_score == 1.0
    assert report["fruit.md"].relevance_score < report["python.md"].relevance_score
    assert not report["note.md"].relevance_computed and report["note.md"].relevance_score == pytest.approx(0.4)
    assert report["python.md"].kept and not report["big.md"].kept  # too big for the small model's window
    assert report["big.md"].token_count > 300
    assert "s[::-1]" in rendered.messages[-1].content
