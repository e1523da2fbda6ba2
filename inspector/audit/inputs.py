"""Where the audit's references come from: arguments, ``--from FILE``, or a registry's
catalog (``/v2/_catalog`` for repositories, ``/v2/<name>/tags/list`` for tags; both
paginated with ``Link: <…>; rel="next"``, registry.md §3.4), with the pull credentials."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from inspector.errors import InspectorError
from inspector.options import Options

#: entries asked for per catalog/tags page (the registry may return fewer)
PAGE_SIZE = 100
#: pages followed at most (a registry whose Link never ends must not loop for ever)
MAX_PAGES = 10_000


def read_list(path: str) -> list[str]:
    """References in ``path``, one per line; blank lines and ``#`` comments skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InspectorError(f"cannot read the image list {path}: "
                             f"{getattr(exc, 'strerror', None) or exc}") from exc
    refs = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            refs.append(line)
    return refs


@dataclass
class CatalogListing:
    references: list[str]
    repositories: int = 0
    without_tags: list[str] = field(default_factory=list)  # repositories, no matching tag


def _client(domain: str, path: str, options: Options, scope: str):
    from inspector.sources.registry.client import RegistryClient
    from inspector.sources.registry.reference import RegistryRef

    class _Ref(RegistryRef):
        @property
        def scope(self) -> str:  # the catalog needs registry:catalog:*, not a pull scope
            return scope

    return RegistryClient(_Ref(domain, path, "latest", None), options)


def _pages(client, first: str, key: str, what: str) -> list[str]:
    """Every item of ``key`` over the ``Link`` pages from ``first`` (a /v2/ path)."""
    url = client.base + first
    items: list[str] = []
    for _ in range(MAX_PAGES):
        resp = client.request("GET", url, what=what)
        try:
            if resp.status_code == 404:
                raise InspectorError(f"{client.ref.domain} does not serve {what} (HTTP 404)",
                                     hint="pass image references or --from FILE instead")
            if resp.status_code != 200:
                raise InspectorError(f"{client.ref.domain} answered HTTP {resp.status_code} "
                                     f"to {what}")
            try:
                doc = resp.json()
                page = doc.get(key) or []
                if not isinstance(page, list) or not all(isinstance(x, str) for x in page):
                    raise ValueError(key)
            except (ValueError, AttributeError) as exc:
                raise InspectorError(f"{client.ref.domain}: malformed answer to {what} "
                                     f"(no list of strings in {key!r})") from exc
            items.extend(page)
            nxt = resp.links.get("next", {}).get("url")
        finally:
            resp.close()
        if not nxt:
            return items
        url = urljoin(url, nxt)
    raise InspectorError(f"{client.ref.domain}: {what} did not end after {MAX_PAGES} pages")


def list_catalog(target: str, options: Options, tags: str = "latest") -> CatalogListing:
    """``REGISTRY[/PREFIX]`` → references ``REGISTRY/REPO:TAG`` for every repository under
    PREFIX and every tag matching ``tags`` (``latest``, ``all`` or a glob)."""
    from inspector.errors import AuthError
    from inspector.sources.registry.reference import parse as parse_reference

    domain, _, prefix = target.partition("/")
    if not domain:
        raise InspectorError(f"--catalog needs REGISTRY[/PREFIX], not {target!r}")
    parse_reference(f"{domain}/probe")  # the same validation as a pull reference
    catalog = _client(domain, "catalog", options, "registry:catalog:*")
    try:
        repos = _pages(catalog, f"/v2/_catalog?n={PAGE_SIZE}", "repositories",
                       "the repository catalog (/v2/_catalog)")
    except AuthError as exc:
        raise InspectorError(
            f"{domain} refuses to list its repositories (/v2/_catalog): {exc.message}",
            hint="log in with an account allowed to list the catalog, or pass image "
                 "references / --from FILE instead") from exc
    prefix = prefix.strip("/")
    if prefix:
        repos = [r for r in repos if r == prefix or r.startswith(prefix + "/")]
    listing = CatalogListing([], repositories=len(repos))
    for repo in repos:
        client = _client(domain, repo, options, f"repository:{repo}:pull")
        names = _pages(client, f"/v2/{repo}/tags/list?n={PAGE_SIZE}", "tags",
                       f"the tags of {repo}")
        chosen = [t for t in names if _matches(t, tags)]
        if not chosen:
            listing.without_tags.append(repo)
        listing.references += [f"{domain}/{repo}:{t}" for t in sorted(chosen)]
    return listing


def _matches(tag: str, pattern: str) -> bool:
    if pattern == "all":
        return True
    return fnmatch.fnmatchcase(tag, pattern)  # "latest" matches only itself
