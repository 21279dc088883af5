"""Template storage: one interface, versions immutable, a deleted version never silently replaced."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Protocol

from orchestrator.errors import (
    AbortedError,
    AlreadyExistsError,
    FieldViolation,
    NotFoundError,
    Reason,
    clip,
    invalid_fields,
)
from orchestrator.templates.model import PromptTemplate


@dataclass(frozen=True, slots=True)
class TemplatePage:
    templates: list[PromptTemplate]
    next_page_token: str


class TemplateStore(Protocol):
    # True when the store lives elsewhere and can be down or slow (renders then use their cached copies).
    may_be_unreachable: bool

    async def create(self, template: PromptTemplate) -> PromptTemplate:
        """Store a new version (named, or the next number) and return it as stored."""
        ...

    async def get(self, template_id: str, version: str = "") -> PromptTemplate:
        """One version; the latest when `version` is empty. NotFoundError otherwise."""
        ...

    async def list(self, page_size: int, page_token: str = "", use_case: str = "") -> TemplatePage:
        """Latest version of each template ordered by id, one page."""
        ...

    async def delete(self, template_id: str, version: str = "", etag: str = "") -> list[str]:
        """Remove one version or all; returns the versions removed."""
        ...

    async def aclose(self) -> None: ...


def encode_page_token(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode()


def decode_page_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise invalid_fields(
            "page_token is not a token this server issued",
            [FieldViolation("page_token", "malformed")],
            reason=Reason.INVALID_PAGE_TOKEN,
        ) from None


def next_version(used: list[str]) -> str:
    """One more than the highest leading number among every version ever used (deleted ones too)."""
    highest = 0
    for version in used:
        head = version.split(".", 1)[0]
        if head.isdigit():
            highest = max(highest, int(head))
    return str(highest + 1)


def _naming(template_id: str, version: str) -> tuple[str, dict[str, str]]:
    """How an error names a template version: ids and versions are caller input, so both are clipped."""
    metadata = {"template_id": clip(template_id), **({"version": clip(version)} if version else {})}
    what = f"template {metadata['template_id']!r}" + (f" version {metadata['version']!r}" if version else "")
    return what, metadata


def template_not_found(template_id: str, version: str = "") -> NotFoundError:
    what, metadata = _naming(template_id, version)
    return NotFoundError(f"{what} does not exist", reason=Reason.TEMPLATE_NOT_FOUND, metadata=metadata)


def version_exists(template_id: str, version: str, deleted: bool) -> AlreadyExistsError:
    what, metadata = _naming(template_id, version)
    return AlreadyExistsError(
        f"{what} already exists" + (" (deleted; versions are never reused)" if deleted else ""),
        reason=Reason.TEMPLATE_VERSION_EXISTS,
        metadata=metadata,
    )


def etag_mismatch(template_id: str, version: str) -> AbortedError:
    what, metadata = _naming(template_id, version)
    return AbortedError(f"{what} has changed (etag mismatch)", reason=Reason.ETAG_MISMATCH, metadata=metadata)


class MemoryTemplateStore:
    """Templates in this process only (tests, single replica without persistence)."""

    may_be_unreachable = False

    def __init__(self) -> None:
        self._versions: dict[str, list[PromptTemplate]] = {}
        # Every version ever used per id, deleted ones too: a deleted version is never reissued.
        self._used: dict[str, list[str]] = {}
        self._lock = asyncio.Lock()

    async def create(self, template: PromptTemplate) -> PromptTemplate:
        async with self._lock:
            versions = self._versions.setdefault(template.template_id, [])
            used = self._used.setdefault(template.template_id, [])
            version = template.version or next_version(used)
            if version in used:
                existing = next((t for t in versions if t.version == version), None)
                if existing is not None and existing.etag == template.content_key():
                    return existing
                raise version_exists(template.template_id, version, deleted=existing is None)
            stored = template.stamped(version)
            versions.append(stored)
            used.append(version)
            return stored

    async def get(self, template_id: str, version: str = "") -> PromptTemplate:
        versions = self._versions.get(template_id) or []
        if not version:
            if versions:
                return versions[-1]
            raise template_not_found(template_id)
        for template in versions:
            if template.version == version:
                return template
        raise template_not_found(template_id, version)

    async def list(self, page_size: int, page_token: str = "", use_case: str = "") -> TemplatePage:
        after = decode_page_token(page_token) if page_token else ""
        ids = sorted(i for i, v in self._versions.items() if v and i > after)
        page: list[PromptTemplate] = []
        for template_id in ids:
            latest = self._versions[template_id][-1]
            if use_case and use_case not in latest.metadata.use_cases:
                continue
            page.append(latest)
            if len(page) == page_size:
                more = any(i > template_id for i in ids)
                return TemplatePage(page, encode_page_token(template_id) if more else "")
        return TemplatePage(page, "")

    async def delete(self, template_id: str, version: str = "", etag: str = "") -> list[str]:
        async with self._lock:
            target = await self.get(template_id, version)
            if etag and etag != target.etag:
                raise etag_mismatch(template_id, target.version)
            versions = self._versions[template_id]
            if version:
                versions.remove(target)
                return [version]
            removed = [t.version for t in versions]
            versions.clear()
            return removed

    async def aclose(self) -> None:
        return None
