"""The case workflow changed carelessly (a timer added at the start, without
`workflow.patched`): what `audit verify` must catch. Kept in its own module because the
workflow sandbox re-imports the module that defines a workflow."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import CaseInput, CaseOutcome
    from workflows.readmission_case import ReadmissionCase


@workflow.defn(name="ReadmissionCase")
class ChangedWithoutPatch(ReadmissionCase):
    @workflow.run
    async def run(self, start: CaseInput) -> CaseOutcome:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(start)
