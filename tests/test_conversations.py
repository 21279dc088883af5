"""Conversations the server keeps: earlier turns sent again, pruned to the budget, owned by their service,
appended only when an answer is complete, never interleaved."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2, conversations_pb2, conversations_pb2_grpc
from orchestrator_client.v1 import generation_pb2 as gen

from orchestrator.policy.keys import digest
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ErrorDetails, ServerProcess
from tests.redis_server import redis_url
from tests.routing_env import routed_config, routed_server

pytestmark = pytest.mark.timeout(120)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


def say(text: str, conversation: str, model: str = "primary", **kwargs: object) -> gen.GenerateRequest:
    return gen.GenerateRequest(
        conversation_id=conversation,
        messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content=text)],
        selection=gen.ModelSelection(preferred_model=model),
        params=gen.GenerationParams(max_output_tokens=32),
        **kwargs,  # type: ignore[arg-type]
    )


def sent(fake: FakeUpstream, index: int = -1) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in fake.requests[index].body["messages"]]


def conversations(client: OrchestratorClient) -> conversations_pb2_grpc.ConversationServiceStub:
    return conversations_pb2_grpc.ConversationServiceStub(client.channel)


async def test_the_third_request_carries_the_first_two_turns(fake: FakeUpstream) -> None:
    fake.enqueue(Behaviour(text="Paris."), Behaviour(text="About 2.1 million."), Behaviour(text="The Seine."))
    async with routed_server(fake) as client:
        await client.generate(say("What is the capital of France?", "trip"))
        await client.generate(say("How many people live there?", "trip"))
        third = await client.generate(say("Which river crosses it?", "trip"))
        kept = await conversations(client).GetConversation(
            conversations_pb2.GetConversationRequest(conversation_id="trip"), timeout=5
        )

    assert third.text == "The Seine."
    assert sent(fake) == [
        ("user", "What is the capital of France?"),
        ("assistant", "Paris."),
        ("user", "How many people live there?"),
        ("assistant", "About 2.1 million."),
        ("user", "Which river crosses it?"),
    ]
    assert [(t.role, t.content) for t in kept.turns][-2:] == [
        (common_pb2.ROLE_USER, "Which river crosses it?"),
        (common_pb2.ROLE_ASSISTANT, "The Seine."),
    ]
    assert kept.conversation.turn_count == 6 and kept.turns[-1].model == "primary"


async def test_a_long_conversation_is_pruned_to_a_small_window_newest_first(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(text="ok " * 10))
    async with routed_server(fake) as client:
        for i in range(12):
            await client.generate(say(f"turn {i}: " + "word " * 20, "long", model="large"))
        await client.generate(say("and now briefly?", "long", model="small"))

    messages = sent(fake)
    assert messages[-1] == ("user", "and now briefly?")
    turns = [content for _, content in messages[:-1]]
    assert 0 < len(turns) < 24  # older turns dropped for the 300-token window
    assert turns[-1] == ("ok " * 10).strip() or turns[-1].startswith("ok")  # the newest answer was kept
    kept_numbers = [int(t.split(":")[0].split()[1]) for t in turns if t.startswith("turn ")]
    assert kept_numbers == sorted(kept_numbers) and kept_numbers[-1] == 11  # a suffix, in order


async def test_dropped_turns_can_be_replaced_by_a_summary(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(text="ok"))
    tasks = {"chat": {"conversation": {"summarize_dropped": True, "summary_model": "primary"}}}
    async with routed_server(fake, sections={"tasks": tasks}) as client:
        for i in range(10):
            await client.generate(say(f"fact {i}: " + "detail " * 25, "summed", model="large", task_type="chat"))
        fake.enqueue(Behaviour(text="SUMMARY: ten facts were listed."), model="primary")
        answer = await client.generate(say("what did I tell you?", "summed", model="small", task_type="chat"))

    summary_call, final = fake.requests[-2], fake.requests[-1]
    assert summary_call.model == "primary" and "fact 0" in summary_call.body["messages"][-1]["content"]
    assert ("system", "Summary of the earlier conversation:\nSUMMARY: ten facts were listed.") in [
        (m["role"], m["content"]) for m in final.body["messages"]
    ]
    assert [a.model for a in answer.attempts] == ["primary", "small"]  # the summary is paid for, and shown


async def test_another_service_cannot_see_or_continue_a_conversation(fake: FakeUpstream) -> None:
    auth = {
        "mode": "required",
        "services": [{"name": "rd", "key_sha256": digest("orc_rd")}, {"name": "pm", "key_sha256": digest("orc_pm")}],
    }
    rd, pm = [("authorization", "Bearer orc_rd")], [("authorization", "Bearer orc_pm")]
    async with routed_server(fake, sections={"auth": auth}) as client:
        await client.generate(say("secret plan", "shared-id"), metadata=rd)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await conversations(client).GetConversation(
                conversations_pb2.GetConversationRequest(conversation_id="shared-id"), metadata=pm, timeout=5
            )
        await client.generate(say("hello", "shared-id"), metadata=pm)

    error = ErrorDetails(caught.value)
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "CONVERSATION_NOT_FOUND")
    assert sent(fake) == [("user", "hello")]  # pm's conversation of the same id is its own, and new


async def test_a_cut_stream_leaves_no_half_turn(fake: FakeUpstream) -> None:
    fake.enqueue(Behaviour(text="first answer"))
    fake.enqueue(Behaviour(text="one two three four five six", cut_after=3))
    async with routed_server(fake, stream_idle_timeout_seconds=2) as client:
        await client.generate(say("first", "cut"))
        with pytest.raises(grpc.aio.AioRpcError):
            _ = [e async for e in client.stream_generate(say("second", "cut"))]
        kept = await conversations(client).GetConversation(
            conversations_pb2.GetConversationRequest(conversation_id="cut"), timeout=5
        )
        _ = [e async for e in client.stream_generate(say("third", "cut"))]
        after = await conversations(client).GetConversation(
            conversations_pb2.GetConversationRequest(conversation_id="cut"), timeout=5
        )

    assert [t.content for t in kept.turns] == ["first", "first answer"]
    assert [t.content for t in after.turns][:3] == ["first", "first answer", "third"]


async def test_concurrent_requests_on_one_conversation_never_interleave(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(delay=0.05))
    async with routed_server(fake) as client:
        results = await asyncio.gather(
            *(client.generate(say(f"question {i}", "busy", request_id=f"r{i}")) for i in range(20)),
            return_exceptions=True,
        )
        kept = await conversations(client).GetConversation(
            conversations_pb2.GetConversationRequest(conversation_id="busy"), timeout=5
        )

    answered = [r for r in results if isinstance(r, gen.GenerateResponse)]
    refused = [ErrorDetails(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert answered and len(answered) + len(refused) == 20
    assert {(e.code, e.reason) for e in refused} <= {(grpc.StatusCode.ABORTED, "CONVERSATION_BUSY")}
    assert all(e.retry_delay is not None for e in refused)
    turns = list(kept.turns)
    assert len(turns) == 2 * len(answered)
    for user, assistant in zip(turns[::2], turns[1::2], strict=True):  # each question followed by its answer
        assert (user.role, assistant.role) == (common_pb2.ROLE_USER, common_pb2.ROLE_ASSISTANT)
        assert user.request_id == assistant.request_id and user.content == f"question {user.request_id[1:]}"


async def test_conversations_bypass_the_response_cache_and_can_be_listed_and_deleted(fake: FakeUpstream) -> None:
    async with routed_server(fake) as client:
        for conversation in ("a", "b"):
            for _ in range(2):
                await client.generate(
                    say("same words", conversation, cache=gen.CacheOptions(policy=gen.CACHE_POLICY_USE))
                )
        stub = conversations(client)
        listed = await stub.ListConversations(conversations_pb2.ListConversationsRequest(page_size=1), timeout=5)
        rest = await stub.ListConversations(
            conversations_pb2.ListConversationsRequest(page_size=1, page_token=listed.next_page_token), timeout=5
        )
        deleted = await stub.DeleteConversation(conversations_pb2.DeleteConversationRequest(conversation_id="a"))
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await stub.GetConversation(conversations_pb2.GetConversationRequest(conversation_id="a"), timeout=5)

    assert len(fake.requests) == 4  # never answered from the cache
    assert [c.conversation_id for c in (*listed.conversations, *rest.conversations)] == ["b", "a"]
    assert rest.next_page_token == ""
    assert deleted.deleted_turns == 4
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND


async def test_replicas_sharing_redis_continue_one_conversation(fake: FakeUpstream, tmp_path: Path) -> None:
    fake.enqueue(Behaviour(text="Answer one."), Behaviour(text="Answer two."))
    with redis_url() as url:
        config = routed_config(fake, shared_state={"redis_url": url, "key_prefix": f"test:{uuid.uuid4()}:"})
        config["server"] = {}
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        first, second = ServerProcess(config, tmp_path / "a"), ServerProcess(config, tmp_path / "b")
        try:
            async with OrchestratorClient(first.target) as a, OrchestratorClient(second.target) as b:
                await a.generate(say("one", "across"), timeout=30)
                await b.generate(say("two", "across"), timeout=30)
                await b.generate(say("three", "across"), timeout=30)
        finally:
            first.stop()
            second.stop()

    assert sent(fake) == [("user", "one"), ("assistant", "Answer one."), ("user", "two"), ("assistant", "Answer two."),
                          ("user", "three")]  # fmt: skip


async def test_a_malformed_conversation_id_names_the_field(fake: FakeUpstream) -> None:
    async with routed_server(fake) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.generate(say("hi", "has spaces and / slashes"))

    assert "conversation_id" in ErrorDetails(caught.value).field_violations
