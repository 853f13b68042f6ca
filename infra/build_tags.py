"""A build tag names one content: a change under services/<image> with an unchanged `buildTag` fails the plan.

The stacks' registries keep tags immutable: ECR repositories are IMMUTABLE (components/aws/
container_registry.py; a second push is refused with `ImageTagAlreadyExistsException`,
docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html) and Artifact Registry
repositories have `immutable_tags` (components/gcp/container_registry.py; "tag ... is immutable",
cloud.google.com/artifact-registry/docs/docker/manage-images#immutable-tags), so the push fails
half-way through `pulumi up`. So `services/build-tags.json` records, per build context
(the model server's and each job image's, `infra.composition.JOB_IMAGES`, built with the stack's build tag)
and tag, the digest of what `docker build` sends (the Dockerfile and every context file its
`.dockerignore` keeps). The AWS and GCP preflights compare it with the checkout and exits 2 naming
`services.<svc>.buildTag` when the content moved on under the same tag. After a change, bump the tag, then

    python3 tasks.py build-tags        # records the digest of every stack's buildTag

Re-recording a tag's digest is right only when that tag was never pushed (e.g. when merging branches
that all changed the server before a release).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

from infra.composition import JOB_IMAGES, stack_build_tag
from infra.config import NAMESPACE, PlatformConfig
from infra.config_errors import Problem
from infra.stackfile import PROJECT_ROOT

CONTEXT = "services/model_server"
"""The build context every service's image is built from (ServiceImageArgs.context)."""
DOCKERFILE = "services/model_server/Dockerfile"
LOCK = "services/build-tags.json"
CONTEXTS = {CONTEXT: DOCKERFILE, **{job.context: job.dockerfile for job in JOB_IMAGES}}
"""Every build context a stack builds from (context -> Dockerfile): the model server's and the job images'."""


def _pattern(line: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regex on slash-separated relative paths."""
    out, i = "", 0
    while i < len(line):
        if line.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif line.startswith("**", i):
            out, i = out + ".*", i + 2
        elif line[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif line[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(line[i]), i + 1
    return re.compile(out)


def _ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path (or one of its parent directories) decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for negated, pattern in rules:
        if any(pattern.fullmatch(p) for p in prefixes):
            ignored = not negated
    return ignored


def context_files(root: Path, context: str = CONTEXT) -> list[str]:
    """Paths (relative to the context) that `docker build` sends, sorted."""
    base = root / context
    ignore = base / ".dockerignore"
    rules = []
    for raw in (ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []):
        line = raw.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            rules.append((negated, _pattern(line.lstrip("!").strip().lstrip("/").removeprefix("./"))))
    files = (p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
    return sorted(f for f in files if not _ignored(f, rules))


def content_digest(root: Path = PROJECT_ROOT, context: str = CONTEXT, dockerfile: str = DOCKERFILE) -> str:
    """`sha256:` of the Dockerfile and every file the build context sends (path and content of each)."""
    digest = hashlib.sha256()
    entries = [("Dockerfile", root / dockerfile)] + [(f, root / context / f) for f in context_files(root, context)]
    for name, path in entries:
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).hexdigest().encode() + b"\n")
    return f"sha256:{digest.hexdigest()}"


def recorded(root: Path = PROJECT_ROOT) -> dict[str, dict[str, str]]:
    path = root / LOCK
    if not path.exists():
        return {}
    return {k: v for k, v in json.loads(path.read_text(encoding="utf-8")).items() if isinstance(v, dict)}


def built_contexts(cfg: PlatformConfig) -> list[tuple[str, str, str]]:
    """(buildTag key, tag, context) of every image the stack builds: each service's, then the job images'
    (tagged with the stack's build tag, reported on the first service whose buildTag it is)."""
    built = [(f"{NAMESPACE}:services.{name}.buildTag", svc.build_tag, CONTEXT)
             for name, svc in cfg.services.items() if svc.build_tag and not svc.external_image]
    tag = stack_build_tag(cfg)
    key = next((k for k, t, _ in built if t == tag), None)
    return built + ([(key, tag, job.context) for job in JOB_IMAGES] if tag and key else [])


def build_tag_problems(cfg: PlatformConfig, root: Path = PROJECT_ROOT) -> list[Problem]:
    """A `buildTag` whose recorded content digest (of any image built with it) is missing or differs."""
    lock = recorded(root)
    problems = []
    for key, tag, context in built_contexts(cfg):
        tags, current = lock.get(context, {}), content_digest(root, context, CONTEXTS[context])
        if tag not in tags:
            problems.append(Problem(key, f"no content digest is recorded for tag {tag!r} of {context}: run "
                                    f"`python3 tasks.py build-tags` and commit {LOCK}", tag))
        elif tags[tag] != current:
            problems.append(Problem(key, f"{context} changed since tag {tag!r} was built ({tags[tag][:19]}... -> "
                                    f"{current[:19]}...): the stack's registry keeps tags immutable and refuses a "
                                    "second push of a tag. Bump buildTag (and the slot imageTag that pins it) to a new "
                                    f"version, then run `python3 tasks.py build-tags` and commit {LOCK}", tag))
    return problems


def write_lock(build_tags: set[str], root: Path = PROJECT_ROOT) -> list[str]:
    """Record the checkout's digest of every build context for `build_tags` (other recorded tags are kept);
    return what changed."""
    data = recorded(root)
    changed = []
    for context, dockerfile in CONTEXTS.items():
        tags = data.setdefault(context, {})
        current = content_digest(root, context, dockerfile)
        changed += [f"{context} {tag}: {tags.get(tag, 'new')} -> {current}"
                    for tag in sorted(build_tags) if tags.get(tag) != current]
        tags.update({tag: current for tag in build_tags})
        data[context] = dict(sorted(tags.items()))
    (root / LOCK).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return changed


def stack_build_tags(root: Path = PROJECT_ROOT) -> set[str]:
    """Every `buildTag` of every stack file (read raw: a stack whose tag is stale must still be refreshable)."""
    from infra.stackfile import read_stack_config, stack_names

    tags = set()
    for stack in stack_names(root):
        services = read_stack_config(stack, root=root).values.get(f"{NAMESPACE}:services") or "{}"
        for svc in (json.loads(services) if isinstance(services, str) else services).values():
            if isinstance(svc, dict) and svc.get("buildTag") and "/" not in str(svc.get("imageRepository", "")):
                tags.add(str(svc["buildTag"]))
    return tags


def main() -> int:
    for line in write_lock(stack_build_tags()) or ["every build tag is current"]:
        print(f"{LOCK}: {line}")
    print("A re-recorded tag is right only if it was never pushed; otherwise bump buildTag instead.", file=sys.stderr)
    return 0
