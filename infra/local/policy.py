"""IAM policy evaluation the way AWS does it, for the requests bucketlink's tests make.

moto's own evaluator ignores most principal forms, treats a condition on a missing key as met, turns an
Allow whose condition does not match into a Deny, and never sees a request's condition keys. This
module replaces it inside the emulator (see patches.py). It covers what our policies use: Action /
NotAction, Resource / NotResource, Principal / NotPrincipal (ARN, account root, bare account id, "*",
a role ARN for that role's sessions) and the string, ARN, Bool and Null condition operators with
IfExists. Anything else in a Condition denies, so an unsupported policy fails loudly, never open.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

ALLOW, DENY, NEUTRAL = "Allow", "Deny", "Neutral"


@dataclass(frozen=True)
class Caller:
    """Who signed a request: every ARN a policy may use to name them."""

    arn: str
    account: str
    partition: str = "aws"
    aliases: frozenset[str] = field(default_factory=frozenset)

    def is_named_by(self, value: str) -> bool:
        if value == "*":
            return True
        if value in (self.account, f"arn:{self.partition}:iam::{self.account}:root"):
            return True
        return value == self.arn or value in self.aliases


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _element_matches(stmt: dict[str, Any], positive: str, negative: str, value: str, ignore_case: bool) -> bool:
    if positive in stmt:
        return any(_like(p, value, ignore_case) for p in _as_list(stmt[positive]))
    if negative in stmt:
        return not any(_like(p, value, ignore_case) for p in _as_list(stmt[negative]))
    # Trust policies have no Resource; identity policies have no Principal.
    return True


def _principal_in(element: Any, caller: Caller) -> bool:
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    return any(caller.is_named_by(v) for v in _as_list(element.get("AWS", [])))


def _principal_matches(stmt: dict[str, Any], caller: Caller | None) -> bool:
    if caller is None:
        return True
    if "Principal" in stmt:
        return _principal_in(stmt["Principal"], caller)
    if "NotPrincipal" in stmt:
        return not _principal_in(stmt["NotPrincipal"], caller)
    return True


_STRING_OPS = {
    "StringEquals": lambda e, a: e == a,
    "StringEqualsIgnoreCase": lambda e, a: e.lower() == a.lower(),
    "StringLike": lambda e, a: _like(e, a),
    "ArnEquals": lambda e, a: e == a,
    "ArnLike": lambda e, a: _like(e, a),
    "Bool": lambda e, a: str(e).lower() == str(a).lower(),
}
_NEGATED_OPS = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _condition_holds(operator: str, key: str, expected: list[Any], context: dict[str, str]) -> bool:
    if_exists = operator.endswith("IfExists")
    op = operator[: -len("IfExists")] if if_exists else operator
    actual = context.get(key.lower())
    if op == "Null":
        return (actual is None) == (str(expected[0]).lower() == "true")
    negated = op in _NEGATED_OPS
    compare = _STRING_OPS.get(_NEGATED_OPS.get(op, op))
    if compare is None:
        return False
    if actual is None:
        # AWS: a missing key fails a condition, except under IfExists and the negated operators.
        return if_exists or negated
    matched = any(compare(str(e), actual) for e in expected)
    return not matched if negated else matched


def _conditions_hold(stmt: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, block in (stmt.get("Condition") or {}).items():
        for key, expected in block.items():
            if not _condition_holds(operator, key, _as_list(expected), context):
                return False
    return True


def statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = json.loads(document)
    # moto's CloudFormation leaves `!Ref AWS::NoValue` in a list as null; AWS drops the element.
    return [s for s in _as_list(document.get("Statement", [])) if isinstance(s, dict)]


def evaluate(
    documents: list[Any],
    action: str,
    resource: str,
    caller: Caller | None = None,
    context: dict[str, str] | None = None,
) -> str:
    """ALLOW, DENY (an explicit Deny applies) or NEUTRAL (nothing allows: AWS's implicit deny)."""
    ctx = {k.lower(): v for k, v in (context or {}).items()}
    decision = NEUTRAL
    for document in documents:
        for stmt in statements(document):
            if not _element_matches(stmt, "Action", "NotAction", action, True):
                continue
            if not _element_matches(stmt, "Resource", "NotResource", resource, False):
                continue
            if not _principal_matches(stmt, caller) or not _conditions_hold(stmt, ctx):
                continue
            if stmt.get("Effect") == "Deny":
                return DENY
            if stmt.get("Effect") == "Allow":
                decision = ALLOW
    return decision
