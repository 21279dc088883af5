"""What a caller may do: task types, models, templates, and whose usage it may read."""

from __future__ import annotations

from orchestrator.domain import Caller
from orchestrator.errors import PermissionDeniedError, Reason


def check_task(caller: Caller, task_type: str) -> None:
    if not caller.may_use_task(task_type):
        raise PermissionDeniedError(
            f"service {caller.service!r} may not use task type {task_type[:128]!r}",
            reason=Reason.TASK_NOT_ALLOWED,
            metadata={"service": caller.service, "task_type": task_type[:128]},
        )


def check_model(caller: Caller, model: str) -> None:
    """For models a request names explicitly (routing silently skips the others)."""
    if not caller.may_use_model(model):
        raise PermissionDeniedError(
            f"service {caller.service!r} may not use model {model!r}",
            reason=Reason.MODEL_NOT_ALLOWED,
            metadata={"service": caller.service, "model": model},
        )


def check_template_write(caller: Caller, template_id: str, owner: str | None) -> None:
    """Only the owner (the service that created the template) or an admin may add versions or delete.

    `owner` is None for a template id that does not exist yet; "" for templates shipped with the server,
    which only admins change.
    """
    if owner is None or caller.admin or owner == caller.service:
        return
    whose = f"service {owner!r}" if owner else "the operator (shipped with the server)"
    raise PermissionDeniedError(
        f"template {template_id!r} belongs to {whose}; only it or an admin may change it",
        reason=Reason.TEMPLATE_NOT_OWNED,
        metadata={"service": caller.service, "template_id": template_id, "owner": owner},
    )


def check_usage_read(caller: Caller, service: str) -> None:
    if service != caller.service and not caller.admin:
        raise PermissionDeniedError(
            f"service {caller.service!r} may read only its own usage",
            reason=Reason.USAGE_NOT_ALLOWED,
            metadata={"service": caller.service},
        )
