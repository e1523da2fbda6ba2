"""Where the audit's references come from: arguments, ``--from FILE``, or a registry's
catalog (``/v2/_catalog`` for repositories, ``/v2/<name>/tags/list`` for tags; both
paginated with ``Link: <…>; rel="next"``, registry.md §3.4), with the pull credentials."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from inspector.errors import InputError, InspectorError
from inspector.options import Options

#: entries asked for per catalog/tags page (the registry may return fewer)
PAGE_SIZE = 100
#: pages followed at most per listing (a registry whose Link never ends must not loop)
MAX_PAGES = 10_000
#: pages in a row that add no new entry before the listing is called a loop (a filtering
#: registry may send a few empty pages; a Link that only changes the URL is a loop)
MAX_STALE_PAGES = 10
#: bytes of one page read at most (100 names of at most 255 characters fit many times)
MAX_PAGE_BYTES = 8 << 20
BROKEN_PAGING = ("the registry's pagination is broken; pass image references or "
                 "--from FILE instead")
#: the largest ``--from`` list read (bytes): ~300k references of 100 characters
MAX_LIST_BYTES = 32 << 20


def read_list(path: str) -> list[str]:
    """References in ``path``, one per line; blank lines and ``#`` comments skipped. The
    file is a regular file of at most ``MAX_LIST_BYTES``, UTF-8 (a leading byte-order mark
    is dropped); anything else is an ``InputError`` (exit 2) naming the file and line."""
    from inspector.userfile import read_text

    text = read_text(path, "the image list", limit=MAX_LIST_BYTES)
    refs = []
    # a line per "\n" ("\r" is stripped): str.splitlines() would also break at "\x0b",
    # "\x1c", "\x85", U+2028 … and make two references of one
    for line in text.split("\n"):
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
    """Every item of ``key`` over the ``Link`` pages from ``first`` (a /v2/ path). A Link
    back to a page already read, off the registry, past ``MAX_PAGES`` or through
    ``MAX_STALE_PAGES`` pages in a row that add nothing is an error, not a loop."""
    from inspector.sources.registry.pace import read_body

    url = client.base + first
    origin = _origin(url)
    domain = client.ref.domain
    items: list[str] = []
    seen_urls = {url}
    seen_items: set[str] = set()
    stale = 0  # pages in a row without a new item
    for _ in range(MAX_PAGES):
        resp = client.request("GET", url, what=what, stream=True)
        with resp:
            if resp.status_code == 404:
                raise InspectorError(f"{domain} does not serve {what} (HTTP 404)",
                                     hint="pass image references or --from FILE instead")
            if resp.status_code != 200:
                raise InspectorError(f"{domain} answered HTTP {resp.status_code} to {what}")
            body = read_body(resp, MAX_PAGE_BYTES, window=client.options.timeout,
                             what=f"{domain}: {what}")
            if len(body) > MAX_PAGE_BYTES:
                raise InspectorError(f"{domain}: a page of {what} is larger than "
                                     f"{MAX_PAGE_BYTES} bytes")
            page = _page_items(body, key, domain, what)
            nxt = resp.links.get("next", {}).get("url")
        new = [x for x in page if x not in seen_items]
        seen_items.update(new)
        items.extend(new)
        if not nxt:
            return items
        stale = 0 if new else stale + 1
        url = urljoin(url, nxt)
        if _origin(url) != origin:
            raise InspectorError(f"{domain}: the Link header of {what} points off the registry "
                                 f"({_redact(url)})", hint=BROKEN_PAGING)
        if url in seen_urls:
            raise InspectorError(f"{domain}: the Link header of {what} points back to a page "
                                 f"already read ({_redact(url)})", hint=BROKEN_PAGING)
        if stale >= MAX_STALE_PAGES:
            raise InspectorError(f"{domain}: {MAX_STALE_PAGES} pages of {what} in a row "
                                 "brought nothing new", hint=BROKEN_PAGING)
        seen_urls.add(url)
    raise InspectorError(f"{domain}: {what} did not end after {MAX_PAGES} pages",
                         hint=BROKEN_PAGING)


def _page_items(body: bytes, key: str, domain: str, what: str) -> list[str]:
    try:
        page = json.loads(body).get(key) or []
        if not isinstance(page, list) or not all(isinstance(x, str) for x in page):
            raise ValueError(key)
    except (ValueError, AttributeError, RecursionError) as exc:
        raise InspectorError(f"{domain}: malformed answer to {what} "
                             f"(no list of strings in {key!r})") from exc
    return page


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _redact(url: str) -> str:
    """The URL without its query (a page marker is noise in an error line)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def list_catalog(target: str, options: Options, tags: str = "latest") -> CatalogListing:
    """``REGISTRY[/PREFIX]`` → references ``REGISTRY/REPO:TAG`` for every repository under
    PREFIX and every tag matching ``tags`` (``latest``, ``all`` or a glob)."""
    from inspector.errors import AuthError
    from inspector.sources.registry.reference import parse as parse_reference

    domain, _, prefix = target.partition("/")
    if not domain:
        raise InspectorError(f"--catalog needs REGISTRY[/PREFIX], not {target!r}")
    parse_reference(f"{domain}/probe")  # the same validation as a pull reference
    match = tag_matcher(tags)  # a bad glob fails before any request
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
        chosen = [t for t in names if match(t)]
        if not chosen:
            listing.without_tags.append(repo)
        listing.references += [f"{domain}/{repo}:{t}" for t in sorted(chosen)]
    return listing


def tag_matcher(pattern: str) -> Callable[[str], bool]:
    """``--tags``: ``all``, or a glob (fnmatch's syntax, matched in linear time; ``latest``
    matches only itself). ``InputError`` (exit 2) for a glob that cannot be compiled."""
    from inspector.globmatch import GlobError, compile_glob

    if pattern == "all":
        return lambda tag: True
    try:
        return compile_glob(pattern).match
    except GlobError as exc:
        raise InputError(f"--tags {pattern!r}: {exc}") from None

