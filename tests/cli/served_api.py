"""The API the CLI tests talk to: its URL, and tokens signed with its secret."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.testing import WorkflowEnvironment

from api.auth import Role, issue_dev_token

SECRET = "test-secret-for-the-cli-tests-only-0123456789"


@dataclass
class ServedApi:
    url: str
    env: WorkflowEnvironment

    def token(self, user: str, role: Role, state: str | None, states: tuple[str, ...] = ()) -> str:
        return issue_dev_token(SECRET, user=user, role=role, state=state, states=states)
