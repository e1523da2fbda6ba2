"""Short, unique labels for image references: ``sample:debian-12-slim`` → ``debian-12-slim``,
``docker.io/library/debian:12-slim`` → ``debian:12-slim``, ``oci:/tmp/build/app:v1`` →
``app:v1``, ``docker-archive:/tmp/img.tar`` → ``img.tar``."""

from __future__ import annotations

TRANSPORTS = ("docker://", "docker-daemon:", "docker-archive:", "oci-archive:", "oci:")
#: characters of a digest's hex kept in a label
DIGEST_CHARS = 12


def _components(reference: str) -> list[str]:
    """Path components of ``reference``, most significant (the last) last."""
    ref = reference
    if ref.startswith("sample:"):
        return [ref[len("sample:"):]]
    for prefix in TRANSPORTS:
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
            break
    ref, at, digest = ref.partition("@")
    parts = [p for p in ref.rstrip("/").split("/") if p] or [reference]
    if at:
        algorithm, _, hexpart = digest.partition(":")
        parts[-1] += "@" + (hexpart or algorithm)[:DIGEST_CHARS]
    return parts


def short_label(reference: str, depth: int = 1) -> str:
    parts = _components(reference)
    return "/".join(parts[-depth:])


def labels_for(references: list[str]) -> list[str]:
    """One label per reference, unique: more path components where two collide, then
    ``#N`` (1-based position) for references that are the same."""
    depth = [1] * len(references)
    labels = [short_label(r) for r in references]
    while True:
        seen: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            seen.setdefault(label, []).append(i)
        grew = False
        for group in seen.values():
            if len({references[i] for i in group}) < 2:
                continue  # one reference given twice: numbered below, not lengthened
            for i in group:
                if depth[i] < len(_components(references[i])):
                    depth[i] += 1
                    labels[i] = short_label(references[i], depth[i])
                    grew = True
        if not grew:
            break
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return [f"{label}#{i + 1}" if counts[label] > 1 else label for i, label in enumerate(labels)]
