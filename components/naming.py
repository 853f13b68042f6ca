"""Physical names, built the same way on every cloud; each cloud's own limits live in its package.

`Namer(prefix="mlops", environment="dev").name("fraud", "endpoint")` -> `mlops-dev-fraud-endpoint`.
A stack that is not the bare environment (`prod-usw2`, a disaster-recovery copy of `prod`) has a
`qualifier` (`stack_qualifier`: `usw2`), so its names (`mlops-prod-usw2-...`) never collide with the
original's in one account, also where a name is account-wide (IAM roles, Azure resource groups).
Names that would exceed a limit are shortened deterministically (a hash of the full name keeps them
unique); `versioned` names end in a hash of their content. `NameRule` is the shape of one cloud's limit
on one kind of name: AWS's rules (botocore patterns) are in `components/aws/naming.py`; GCP's label and
resource-name rules and Azure's short alphanumeric names belong in `components/gcp/naming.py` and
`components/azure/naming.py`, as `NameRule`s with a `check_<cloud>_name` of their own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    """Length bounds and pattern of one kind of physical name on one cloud."""

    min: int
    max: int
    pattern: str
    source: str
    """Where the rule comes from (an SDK's service model or the service's documentation)."""

    def problem(self, kind: str, value: str) -> str | None:
        """None when `value` satisfies the rule, else what is wrong with it (naming the rule's source)."""
        if not self.min <= len(value) <= self.max:
            return f"{kind} name {value!r} is {len(value)} characters; {self.min}-{self.max} allowed ({self.source})"
        if not re.fullmatch(self.pattern.strip("^$"), value):
            return f"{kind} name {value!r} does not match {self.pattern} ({self.source})"
        return None


def shorten(name: str, limit: int) -> str:
    """`name` if it fits, else a prefix of it plus a 6-character hash of the whole (still unique)."""
    if len(name) <= limit:
        return name
    tag = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[: limit - 7].rstrip('-')}-{tag}"


def content_hash(*parts: str, length: int = 8) -> str:
    """Short stable hash of content, for names that must change when what they name changes."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


def stack_qualifier(stack: str, environment: str, cloud: str = "") -> str:
    """What a stack's name adds to its environment and cloud (`prod-usw2` -> `usw2`; `prod`, `azure-prod` -> ``).

    The bare environment (and `<cloud>-<environment>`) keeps the short names, so existing stacks keep theirs.
    """
    tokens = [t for t in re.split(r"[^a-z0-9]+", stack.lower()) if t and t not in (environment, cloud)]
    qualifier = "-".join(tokens)
    return qualifier if len(qualifier) <= 12 else f"{qualifier[:5]}-{content_hash(qualifier, length=6)}"


@dataclass(frozen=True)
class Namer:
    """Builds `<prefix>-<environment>[-<qualifier>]-<parts...>` names, lowercase and hyphenated, within a limit."""

    prefix: str
    environment: str
    qualifier: str = ""
    """Set for a stack that is not the bare environment (`stack_qualifier`): keeps its names apart."""

    @property
    def stack(self) -> str:
        """The environment and qualifier: the part of every name that tells stacks apart (`prod-usw2`)."""
        return f"{self.environment}-{self.qualifier}" if self.qualifier else self.environment

    def name(self, *parts: str, limit: int = 63) -> str:
        raw = "-".join([self.prefix, self.stack, *parts])
        return shorten(re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-"), limit)

    def versioned(self, *parts: str, content: str, limit: int = 63) -> str:
        """A name ending in a hash of `content`: a new name whenever the content changes."""
        tag = content_hash(content)
        return f"{self.name(*parts, limit=limit - len(tag) - 1)}-{tag}"
