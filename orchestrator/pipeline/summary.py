"""A short summary of conversation turns dropped for the budget, made by a (cheap) model through the router:
it is paid for like any attempt (the caller's budget, the request's ledger)."""

from __future__ import annotations

from orchestrator.domain import ChatMessage, SamplingParams
from orchestrator.routing.call import BuiltPrompt, Call, SpendGuard
from orchestrator.routing.catalog import ModelSpec
from orchestrator.routing.router import Router

INSTRUCTION = (
    "Summarise the conversation below in at most a few sentences: the facts, decisions and open questions a "
    "reader needs to continue it. Write only the summary."
)


class _Fixed:
    def __init__(self, messages: tuple[ChatMessage, ...]) -> None:
        self._built = BuiltPrompt(messages)

    async def for_model(self, model: ModelSpec) -> BuiltPrompt:
        return self._built


class Summaries:
    def __init__(self, router: Router, model: str, max_tokens: int) -> None:
        self._router = router
        self._model = router.catalog.get(model)
        self._max_tokens = max_tokens

    async def summarize(
        self, turns: tuple[ChatMessage, ...], deadline: float | None, spend: SpendGuard | None, ledger: list
    ) -> str:
        transcript = "\n".join(f"{m.role}: {m.content}" for m in turns)
        prompt = _Fixed((ChatMessage("system", INSTRUCTION), ChatMessage("user", transcript)))
        call = Call(prompt, SamplingParams(temperature=0.0, max_output_tokens=self._max_tokens), deadline, spend=spend)
        try:
            finished = await self._router.complete([self._model], call)
        finally:
            ledger.extend(call.attempts)  # its cost is the request's
        return finished.completion.text.strip()
