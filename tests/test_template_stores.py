"""Every template store behaves like the memory store; SQLite and PostgreSQL also persist and share."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from orchestrator.config import TemplateStoreSettings
from orchestrator.errors import (
    AbortedError,
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
)
from orchestrator.templates.model import PromptTemplate, TemplateMetadata
from orchestrator.templates.store import TemplateStore
from orchestrator.templates.stores import open_store
from tests.pg import PgServer, pg_database, pg_dsn, pg_server  # noqa: F401  (fixtures)

Opener = Callable[[], Awaitable[TemplateStore]]


def template(template_id: str, body: str = "Hello {{ name }}!", version: str = "", **fields: Any) -> PromptTemplate:
    greeting = PromptTemplate(
        template_id=template_id,
        version=version,
        system_message="You greet people.",
        user_message_template=body,
        required_variables=("name",),
        optional_variables={"mood": "cheerful"},
        metadata=TemplateMetadata("greets", ("greeting",), ()),
    )
    return replace(greeting, **fields)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> TemplateStoreSettings:
    if request.param == "postgres":
        return TemplateStoreSettings(type="postgres", dsn=request.getfixturevalue("pg_dsn"))
    return TemplateStoreSettings(type=request.param, path=str(tmp_path / "templates.db"))


@pytest_asyncio.fixture
async def reopen(store_settings: TemplateStoreSettings) -> AsyncIterator[Opener]:
    """Opens another store on the same file or database (for memory: a new, empty one)."""
    opened: list[TemplateStore] = []

    async def opener() -> TemplateStore:
        opened.append(await open_store(store_settings))
        return opened[-1]

    yield opener
    for store in opened:
        await store.aclose()


@pytest_asyncio.fixture
async def store(reopen: Opener) -> TemplateStore:
    return await reopen()


async def test_create_numbers_versions_and_get_returns_latest_or_pinned(store: TemplateStore) -> None:
    first = await store.create(template("greet"))
    second = await store.create(template("greet", "Hi {{ name }}."))

    assert (first.version, second.version) == ("1", "2")
    assert first.etag == template("greet").content_key() != second.etag
    assert await store.get("greet") == second
    assert await store.get("greet", "1") == first


async def test_explicit_versions_and_the_next_number_follows_the_highest(store: TemplateStore) -> None:
    named = await store.create(template("named", version="2.5"))
    following = await store.create(template("named", "Next {{ name }}"))
    older_name = await store.create(template("named", "Older {{ name }}", version="1.0"))

    assert (named.version, following.version, older_name.version) == ("2.5", "3", "1.0")
    assert (await store.get("named")).version == "1.0"  # the latest is the most recently created


async def test_recreating_a_version_with_the_same_content_returns_it(store: TemplateStore) -> None:
    first = await store.create(template("same", version="1.0"))
    again = await store.create(template("same", version="1.0"))

    assert again == first
    assert (await store.create(template("same", "Next {{ name }}"))).version == "2"


async def test_an_existing_version_with_other_content_is_already_exists(store: TemplateStore) -> None:
    await store.create(template("conflict", version="1.0"))

    with pytest.raises(AlreadyExistsError) as caught:
        await store.create(template("conflict", "Changed {{ name }}", version="1.0"))

    assert caught.value.reason == "TEMPLATE_VERSION_EXISTS"
    assert caught.value.metadata == {"template_id": "conflict", "version": "1.0"}
    assert (await store.get("conflict")).user_message_template == "Hello {{ name }}!"


async def test_unknown_ids_and_versions_are_not_found(store: TemplateStore) -> None:
    await store.create(template("known"))

    for template_id, version in (("unknown", ""), ("known", "9"), ("nul\x00id", ""), ("known", "1\x00")):
        with pytest.raises(NotFoundError) as caught:
            await store.get(template_id, version)
        assert caught.value.reason == "TEMPLATE_NOT_FOUND"
        assert caught.value.metadata["template_id"] == template_id


async def test_list_pages_through_the_latest_versions_in_id_order(store: TemplateStore) -> None:
    for name in ("t3", "t1", "t5", "t2", "t4"):
        await store.create(template(name))
    await store.create(template("t2", "Second {{ name }}"))

    pages, token = [], ""
    while True:
        page = await store.list(2, token)
        pages.append([(t.template_id, t.version) for t in page.templates])
        token = page.next_page_token
        if not token:
            break

    assert pages == [[("t1", "1"), ("t2", "2")], [("t3", "1"), ("t4", "1")], [("t5", "1")]]
    assert (await store.list(5)).next_page_token == ""
    assert [t.template_id for t in (await store.list(0)).templates] == ["t1", "t2", "t3", "t4", "t5"]


async def test_list_orders_ids_by_code_point_whatever_the_database_locale(store: TemplateStore) -> None:
    ids = ["a_b", "b", "aB", "a-b", "Ab", "a0", "a.b"]
    for name in ids:
        await store.create(template(name))

    assert [t.template_id for t in (await store.list(100)).templates] == sorted(ids)
    after = await store.list(100, (await store.list(2)).next_page_token)
    assert [t.template_id for t in after.templates] == sorted(ids)[2:]


async def test_list_filters_on_the_latest_versions_use_cases(store: TemplateStore) -> None:
    coding = TemplateMetadata("codes", ("code_implementation", "review"), ())
    await store.create(template("coder", metadata=coding))
    await store.create(template("was_coder", metadata=coding))
    await store.create(template("was_coder", "Now greets {{ name }}"))
    await store.create(template("greeter"))
    await store.create(template("tricky", metadata=TemplateMetadata("", ('review"\n"code_implementation',), ())))

    listed = await store.list(10, use_case="code_implementation")
    everything = await store.list(10)

    assert [t.template_id for t in listed.templates] == ["coder"]
    assert [t.template_id for t in (await store.list(10, use_case="review")).templates] == ["coder"]
    assert [t.template_id for t in everything.templates] == ["coder", "greeter", "tricky", "was_coder"]


async def test_a_malformed_page_token_is_invalid_argument(store: TemplateStore) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        await store.list(10, "%%%not-base64")
    assert caught.value.reason == "INVALID_PAGE_TOKEN"


async def test_delete_one_version_then_all(store: TemplateStore) -> None:
    for body in ("One {{ name }}", "Two {{ name }}", "Three {{ name }}"):
        await store.create(template("doomed", body))

    one = await store.delete("doomed", "3")
    latest_after_one = await store.get("doomed")
    rest = await store.delete("doomed")

    assert one == ["3"]
    assert latest_after_one.version == "2"
    assert rest == ["1", "2"]
    with pytest.raises(NotFoundError):
        await store.get("doomed")
    with pytest.raises(NotFoundError):
        await store.delete("doomed")
    assert (await store.list(10)).templates == []


async def test_deleted_versions_are_never_reissued(store: TemplateStore) -> None:
    await store.create(template("tomb"))
    await store.create(template("tomb", "Two {{ name }}"))
    await store.delete("tomb", "2")

    third = await store.create(template("tomb", "Three {{ name }}"))
    await store.delete("tomb")
    fourth = await store.create(template("tomb", "Four {{ name }}"))
    with pytest.raises(AlreadyExistsError) as caught:
        await store.create(template("tomb", "Two {{ name }}", version="2"))  # even with the very same content

    assert (third.version, fourth.version) == ("3", "4")
    assert caught.value.reason == "TEMPLATE_VERSION_EXISTS"
    assert "never reused" in caught.value.message


async def test_delete_with_a_stale_etag_is_aborted_and_deletes_nothing(store: TemplateStore) -> None:
    first = await store.create(template("etagged"))
    second = await store.create(template("etagged", "Two {{ name }}"))

    for version in ("", "1"):
        with pytest.raises(AbortedError) as caught:
            await store.delete("etagged", version, etag="stale")
        assert caught.value.reason == "ETAG_MISMATCH"
        assert caught.value.metadata == {"template_id": "etagged", "version": version or "2"}
    with pytest.raises(AbortedError):
        await store.delete("etagged", etag=first.etag)  # deleting all checks the latest's etag

    assert await store.delete("etagged", "1", etag=first.etag) == ["1"]
    assert await store.delete("etagged", etag=second.etag) == ["2"]


async def test_every_field_round_trips_exactly(store: TemplateStore) -> None:
    rich = PromptTemplate(
        template_id="rich",
        version="7.1-beta",
        system_message="Système: «quotes» \"double\" 'single' \\ and emoji 🦜\nsecond line\x00nul",
        user_message_template="{{ a }} {{ b }}",
        required_variables=("a", "b"),
        optional_variables={
            "float": 0.1,
            "big": 1e300,
            "int": 3,
            "negative": -2.5,
            "flag": False,
            "nothing": None,
            "nested": {"list": [1, "two", {"three": [3.0]}], "empty": {}},
            "unicode": "日本語\u0000",
        },
        metadata=TemplateMetadata("described", ("x", "y 🙂"), ("gpt-4.1", "claude-sonnet-4-5")),
        variables_schema={"type": "object", "properties": {"a": {"type": "string", "maxLength": 10}}},
    )

    created = await store.create(rich)
    await store.create(PromptTemplate("plain", "", "", "{{ x }}", variables_schema={}))
    fetched = await store.get("rich", "7.1-beta")
    listed = (await store.list(10)).templates

    assert fetched == created
    assert fetched.create_time is not None and fetched.create_time.tzinfo is not None
    assert fetched.create_time.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - fetched.create_time) < timedelta(minutes=1)
    assert fetched.etag == rich.content_key()
    assert listed[1] == fetched
    assert (await store.get("plain")).variables_schema == {}  # not None: an empty schema is a schema
    assert (await store.get("rich")).optional_variables["big"] == 1e300


async def test_everything_persists_across_a_reopen(store_settings: TemplateStoreSettings, reopen: Opener) -> None:
    if store_settings.type == "memory":
        pytest.skip("the memory store keeps nothing across instances")
    first_store = await reopen()
    first = await first_store.create(template("kept"))
    second = await first_store.create(template("kept", "Two {{ name }}"))
    await first_store.delete("kept", "2")
    await first_store.aclose()

    store = await reopen()

    assert await store.get("kept") == first
    with pytest.raises(AlreadyExistsError):
        await store.create(template("kept", second.user_message_template, version="2"))
    assert (await store.create(template("kept", "Three {{ name }}"))).version == "3"


async def test_concurrent_creates_get_distinct_versions(store_settings: TemplateStoreSettings, reopen: Opener) -> None:
    store = await reopen()
    # The SQL stores: also two instances (two replicas) on one file or database.
    other = store if store_settings.type == "memory" else await reopen()

    created = await asyncio.gather(
        *((store if i % 2 else other).create(template("busy", f"Body {i} {{{{ name }}}}")) for i in range(20))
    )

    assert sorted(int(t.version) for t in created) == list(range(1, 21))
    bodies = {(await store.get("busy", t.version)).user_message_template for t in created}
    assert len(bodies) == 20
