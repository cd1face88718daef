"""The case workflow as it is, with every state it takes kept for a test to read after a replay.
Kept in its own module because the workflow sandbox re-imports the module that defines a
workflow (replays that read `STATES` run unsandboxed)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.state import CaseState
    from workflows.contracts import WORKFLOW_NAME, CaseInput, CaseOutcome, CommandResult
    from workflows.readmission_case import ReadmissionCase

STATES: list[CaseState] = []


@workflow.defn(name=WORKFLOW_NAME)
class ObservedCase(ReadmissionCase):
    @workflow.run
    async def run(self, start: CaseInput) -> CaseOutcome:
        return await super().run(start)

    def _take(self, *args: object, **kwargs: object) -> CommandResult:
        result = super()._take(*args, **kwargs)  # type: ignore[arg-type]
        STATES.append(self.state)
        return result
