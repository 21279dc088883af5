"""The Response Evaluator: what an answer must satisfy beyond its format and schema (validators per task type),
and the code/JSON extraction the acceptance check and the validators share."""

from orchestrator.evaluation.validators import (
    BUILDERS,
    ENTRY_POINT_GROUP,
    AnswerView,
    Check,
    Validator,
    ValidatorError,
    build_validator,
)

__all__ = [
    "BUILDERS",
    "ENTRY_POINT_GROUP",
    "AnswerView",
    "Check",
    "Validator",
    "ValidatorError",
    "build_validator",
]
