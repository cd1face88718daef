"""Which states require a supervisor's approval before a reply leaves, under which agreements.

An installation setting (`READMIT_REPLY_APPROVAL`), one rule per replying state and agreement:
`PL:EU-UA,UA:*` reads "Poland's replies under EU-UA, and all of Ukraine's, need a supervisor's
approval". A state's own rule for its officers, not a term of the agreement between the two
states: each node of a federation sets its own. Empty: no reply needs approval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RULE = re.compile(r"^(?P<state>[A-Z]{2}):(?P<agreement>\*|[A-Z0-9-]{2,40})$")


@dataclass(frozen=True)
class ApprovalPolicy:
    """The (state, agreement) pairs whose replies await a supervisor's approval; an agreement
    `*` stands for all of them."""

    rules: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def parse(cls, text: str) -> ApprovalPolicy:
        """The policy a setting names (`STATE:AGREEMENT` or `STATE:*`, comma-separated);
        `ValueError` naming the first rule that is not one."""
        rules: set[tuple[str, str]] = set()
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            found = _RULE.match(part.upper())
            if found is None:
                raise ValueError(
                    f"reply approval rule {part!r}: give STATE:AGREEMENT (e.g. PL:EU-UA) "
                    "or STATE:* (every agreement)"
                )
            rules.add((found["state"], found["agreement"]))
        return cls(frozenset(rules))

    def requires(self, state: str, agreement_id: str) -> bool:
        """Whether `state`'s replies under `agreement_id` need a supervisor's approval."""
        return (state, agreement_id) in self.rules or (state, "*") in self.rules

    def unknown_agreements(self, known: set[str]) -> list[str]:
        """The rules that name an agreement not among `known` (a typo would never apply)."""
        return sorted(f"{s}:{a}" for s, a in self.rules if a != "*" and a not in known)
