"""Tables: reference parsing (registry.md §10 items 1–7), challenges, token responses,
realm checks, the AuthBase host rule, docker config credentials and helpers."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
import requests

from inspector.errors import AuthError, InvalidReference
from inspector.sources.registry import credentials
from inspector.sources.registry.auth import (
    RegistryAuth,
    check_realm,
    parse_challenges,
    parse_token_response,
    pick_challenge,
)
from inspector.sources.registry.reference import parse

D64 = "sha256:" + "ab" * 32

REFERENCES = [
    # name, input, (domain, path, tag, digest, api host)
    ("bare name", "ubuntu", ("docker.io", "library/ubuntu", "latest", None, "registry-1.docker.io")),
    ("bare name with tag", "ubuntu:22.04", ("docker.io", "library/ubuntu", "22.04", None, "registry-1.docker.io")),
    ("explicit library", "library/ubuntu", ("docker.io", "library/ubuntu", "latest", None, "registry-1.docker.io")),
    ("docker.io without library", "docker.io/ubuntu", ("docker.io", "library/ubuntu", "latest", None, "registry-1.docker.io")),
    ("index.docker.io canonicalised", "index.docker.io/library/ubuntu", ("docker.io", "library/ubuntu", "latest", None, "registry-1.docker.io")),
    ("hub user repo", "myuser/app", ("docker.io", "myuser/app", "latest", None, "registry-1.docker.io")),
    ("ghcr no library", "ghcr.io/org/app", ("ghcr.io", "org/app", "latest", None, "ghcr.io")),
    ("ghcr single component", "ghcr.io/app", ("ghcr.io", "app", "latest", None, "ghcr.io")),
    ("quay three components", "quay.io/a/b/c:tag", ("quay.io", "a/b/c", "tag", None, "quay.io")),
    ("gcr distroless", "gcr.io/distroless/static-debian12", ("gcr.io", "distroless/static-debian12", "latest", None, "gcr.io")),
    ("localhost", "localhost/foo", ("localhost", "foo", "latest", None, "localhost")),
    ("localhost port", "localhost:5000/foo", ("localhost:5000", "foo", "latest", None, "localhost:5000")),
    ("ipv4 port", "127.0.0.1:5000/foo", ("127.0.0.1:5000", "foo", "latest", None, "127.0.0.1:5000")),
    ("ipv6 port", "[::1]:5000/foo", ("[::1]:5000", "foo", "latest", None, "[::1]:5000")),
    ("domain via port", "myhost:5000/foo", ("myhost:5000", "foo", "latest", None, "myhost:5000")),
    ("domain via dot", "foo.local/bar", ("foo.local", "bar", "latest", None, "foo.local")),
    ("uppercase domain ok", "Foo.com/bar", ("Foo.com", "bar", "latest", None, "Foo.com")),
    ("bare localhost:5000 is a tag", "localhost:5000", ("docker.io", "library/localhost", "5000", None, "registry-1.docker.io")),
    ("registry.localhost:5000 is a tag", "registry.localhost:5000", ("docker.io", "library/registry.localhost", "5000", None, "registry-1.docker.io")),
    ("digest", f"busybox@{D64}", ("docker.io", "library/busybox", None, D64, "registry-1.docker.io")),
    ("tag and digest", f"busybox:1.36@{D64}", ("docker.io", "library/busybox", "1.36", D64, "registry-1.docker.io")),
    ("sha512 digest", "busybox@sha512:" + "c" * 128, ("docker.io", "library/busybox", None, "sha512:" + "c" * 128, "registry-1.docker.io")),
    ("unknown algorithm parses", "busybox@blake3:" + "d" * 64, ("docker.io", "library/busybox", None, "blake3:" + "d" * 64, "registry-1.docker.io")),
    ("double underscore", "a__b", ("docker.io", "library/a__b", "latest", None, "registry-1.docker.io")),
    ("dashes", "a--b", ("docker.io", "library/a--b", "latest", None, "registry-1.docker.io")),
    ("max tag", "a:" + "t" * 128, ("docker.io", "library/a", "t" * 128, None, "registry-1.docker.io")),
]


@pytest.mark.parametrize("text, expected", [r[1:] for r in REFERENCES], ids=[r[0] for r in REFERENCES])
def test_reference_parsing(text, expected):
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest, ref.host) == expected


def test_digest_wins_over_tag_and_scope_is_normalised():
    ref = parse(f"ubuntu:22.04@{D64}")
    assert ref.pull_ref == D64
    assert parse("ubuntu").scope == "repository:library/ubuntu:pull"
    assert parse("localhost:5000/a/b").scope == "repository:a/b:pull"


BAD_REFERENCES = [
    ("empty", ""),
    ("uppercase repo", "Foo/Bar"),
    ("uppercase path", "ghcr.io/Org/app"),
    ("bare 64 hex", "a" * 64),
    ("triple underscore", "a___b"),
    ("trailing dash", "a-"),
    ("tag too long", "a:" + "t" * 129),
    ("tag starts with dot", "a:.x"),
    ("tag starts with dash", "a:-x"),
    ("path too long", "x/" + "a" * 260),
    ("uppercase digest hex", "a@sha256:" + "AB" * 32),
    ("short digest", "a@sha256:abcd"),
    ("sha256 of wrong length", "a@sha256:" + "a" * 40),
    ("space", "a b"),
]


@pytest.mark.parametrize("text", [r[1] for r in BAD_REFERENCES], ids=[r[0] for r in BAD_REFERENCES])
def test_bad_references_are_one_clear_error(text):
    with pytest.raises(InvalidReference) as info:
        parse(text)
    assert "invalid image reference" in str(info.value) and "\n" not in str(info.value)


CHALLENGES = [
    ("quoted bearer", 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                      'scope="repository:library/ubuntu:pull"',
     ("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                 "scope": "repository:library/ubuntu:pull"})),
    ("unquoted values", "Bearer realm=https://r.example/token,service=reg",
     ("bearer", {"realm": "https://r.example/token", "service": "reg"})),
    ("escaped quote", r'Bearer realm="https://r/t",error="say \"hi\""',
     ("bearer", {"realm": "https://r/t", "error": 'say "hi"'})),
    ("comma inside quotes", 'Bearer realm="https://r/t",scope="repository:a/b:pull,push"',
     ("bearer", {"realm": "https://r/t", "scope": "repository:a/b:pull,push"})),
    ("case-insensitive", 'BEARER Realm="https://r/t", Service="s"', ("bearer", {"realm": "https://r/t", "service": "s"})),
    ("negotiate then bearer", ['Negotiate', 'Bearer realm="https://r/t"'], ("bearer", {"realm": "https://r/t"})),
    ("joined by requests", 'Negotiate, Bearer realm="https://r/t"', ("bearer", {"realm": "https://r/t"})),
    ("no service", 'Bearer realm="https://nvcr.io/proxy_auth"', ("bearer", {"realm": "https://nvcr.io/proxy_auth"})),
    ("ecr basic", 'Basic realm="https://1.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
     ("basic", {"realm": "https://1.dkr.ecr.us-east-1.amazonaws.com/", "service": "ecr.amazonaws.com"})),
    ("realm with query", 'Bearer realm="https://r/t?x=1&y=2"', ("bearer", {"realm": "https://r/t?x=1&y=2"})),
]


@pytest.mark.parametrize("header, expected", [c[1:] for c in CHALLENGES], ids=[c[0] for c in CHALLENGES])
def test_challenge_parsing(header, expected):
    chosen = pick_challenge(parse_challenges(header))
    assert (chosen.scheme, chosen.params) == expected


def test_only_unknown_schemes_pick_nothing():
    assert pick_challenge(parse_challenges("Negotiate abc==")) is None


TOKENS = [
    # name, body, (value, lifetime seconds)
    ("token only", {"token": "t1", "expires_in": 300}, ("t1", 300)),
    ("access_token only", {"access_token": "a1", "expires_in": 300}, ("a1", 300)),
    ("both, token wins", {"token": "t1", "access_token": "a1", "expires_in": 300}, ("t1", 300)),
    ("expires_in absent → 60", {"token": "t"}, ("t", 60)),
    ("expires_in 10 clamped to 60", {"token": "t", "expires_in": 10}, ("t", 60)),
    ("issued 100s ago", {"token": "t", "expires_in": 300, "issued_at": "1970-01-01T00:00:00Z"}, ("t", 200)),
    ("issued in the future counts as now", {"token": "t", "expires_in": 300, "issued_at": "1970-01-01T00:10:00+00:00"}, ("t", 300)),
]


@pytest.mark.parametrize("body, expected", [t[1:] for t in TOKENS], ids=[t[0] for t in TOKENS])
def test_token_responses(body, expected):
    token = parse_token_response(body, where="test", now=1000.0, wall_now=100.0)
    assert (token.value, token.expires_at - 1000.0) == expected


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"access_token": None}, []], ids=["empty", "blank", "null", "list"])
def test_token_response_without_token(body):
    with pytest.raises(AuthError):
        parse_token_response(body, where="test")


REALMS = [
    ("public https", "https://auth.docker.io/token", "registry-1.docker.io", False, True),
    ("http refused", "http://auth.example/token", "reg.example", False, False),
    ("http allowed when insecure", "http://auth.example/token", "reg.example", True, True),
    ("metadata address refused", "https://169.254.169.254/latest", "reg.example", False, False),
    ("private ip refused for public registry", "https://10.0.0.1/token", "reg.example", False, False),
    ("loopback registry may use loopback realm", "http://127.0.0.1:9/token", "127.0.0.1", True, True),
    ("file scheme refused", "file:///etc/passwd", "reg.example", True, False),
]


@pytest.mark.parametrize("realm, host, allow_http, ok", [r[1:] for r in REALMS], ids=[r[0] for r in REALMS])
def test_realm_validation(realm, host, allow_http, ok):
    if ok:
        check_realm(realm, host, allow_http=allow_http)
    else:
        with pytest.raises(AuthError):
            check_realm(realm, host, allow_http=allow_http)


@pytest.mark.parametrize("url, attached", [
    ("https://reg.example/v2/x/blobs/sha256:1", True),
    ("https://reg.example:443/v2/", True),
    ("https://cdn.example/blob?X-Amz-Signature=1", False),
    ("https://reg.example:8443/v2/", False),
    ("https://reg.example.evil/v2/", False),
])
def test_auth_is_only_attached_to_the_registry_host(url, attached):
    req = requests.Request("GET", url).prepare()
    RegistryAuth("https://reg.example", "Bearer secret")(req)
    assert ("Authorization" in req.headers) == attached


def test_netrc_does_not_override_our_auth(tmp_path, monkeypatch):
    (tmp_path / ".netrc").write_text("machine reg.example login netrc password fromnetrc\n")
    os.chmod(tmp_path / ".netrc", 0o600)
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    session = requests.Session()
    prepared = session.prepare_request(requests.Request("GET", "https://reg.example/v2/",
                                                        auth=RegistryAuth("https://reg.example", "Bearer ours")))
    assert prepared.headers["Authorization"] == "Bearer ours"


# --- docker config -------------------------------------------------------------------------

def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CONFIGS = [
    # name, config, domain, (username, password, identity token, registry token) or None
    ("colon in password", {"auths": {"reg:5000": {"auth": _b64("u:p:a:ss")}}}, "reg:5000", ("u", "p:a:ss", "", "")),
    ("trailing NUL", {"auths": {"reg": {"auth": _b64("u:pw\x00\x00")}}}, "reg", ("u", "pw", "", "")),
    ("hub key", {"auths": {"https://index.docker.io/v1/": {"auth": _b64("hub:pw")}}}, "docker.io", ("hub", "pw", "", "")),
    ("hub legacy key docker.io", {"auths": {"docker.io": {"auth": _b64("hub:pw")}}}, "docker.io", ("hub", "pw", "", "")),
    ("legacy https key", {"auths": {"https://my.reg:5000/": {"auth": _b64("u:p")}}}, "my.reg:5000", ("u", "p", "", "")),
    ("identity token", {"auths": {"reg": {"auth": _b64("u:"), "identitytoken": "idt"}}}, "reg", ("u", "", "idt", "")),
    ("registry token", {"auths": {"reg": {"registrytoken": "rt"}}}, "reg", ("", "", "", "rt")),
    ("other registry only", {"auths": {"other": {"auth": _b64("u:p")}}}, "reg", None),
    ("empty entry", {"auths": {"reg": {}}}, "reg", None),
]


@pytest.mark.parametrize("config, domain, expected", [c[1:] for c in CONFIGS], ids=[c[0] for c in CONFIGS])
def test_docker_config_auths(tmp_path, monkeypatch, config, domain, expected):
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    creds = credentials.lookup(domain)
    got = None if creds is None else (creds.username, creds.password, creds.identity_token, creds.registry_token)
    assert got == expected
    if creds:
        assert str(tmp_path / "config.json") in creds.source and "p" not in repr(creds).split("source")[0].replace("username", "")


def test_empty_username_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"reg": {"auth": _b64(":pw")}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    with pytest.raises(AuthError, match="no username"):
        credentials.lookup("reg")


def write_helper(bindir, name: str, script: str) -> None:
    bindir.mkdir(exist_ok=True)
    path = bindir / f"docker-credential-{name}"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


HELPER_CASES = [
    ("credHelpers beats credsStore and auths",
     {"credHelpers": {"reg": "test"}, "credsStore": "other", "auths": {"reg": {"auth": _b64("plain:pw")}}},
     ("helper-user", "helper-secret", "")),
    ("credsStore beats auths", {"credsStore": "test", "auths": {"reg": {}}}, ("helper-user", "helper-secret", "")),
    ("not found in keychain → none", {"credsStore": "missing"}, None),
    ("token username → identity token", {"credsStore": "idtoken"}, ("", "", "refresh-me")),
]


@pytest.mark.parametrize("config, expected", [c[1:] for c in HELPER_CASES], ids=[c[0] for c in HELPER_CASES])
def test_credential_helpers(tmp_path, monkeypatch, config, expected):
    bindir = tmp_path / "bin"
    # the helper reads the server URL from stdin and must be asked for "reg"
    write_helper(bindir, "test", 'read url; [ "$url" = reg ] || exit 3\n'
                 'echo \'{"ServerURL":"reg","Username":"helper-user","Secret":"helper-secret"}\'\n')
    write_helper(bindir, "missing", "echo 'credentials not found in native keychain'; exit 1\n")
    write_helper(bindir, "idtoken", 'echo \'{"ServerURL":"reg","Username":"<token>","Secret":"refresh-me"}\'\n')
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    creds = credentials.lookup("reg")
    got = None if creds is None else (creds.username, creds.password, creds.identity_token)
    assert got == expected
    if creds:
        assert "docker-credential-" in creds.source


@pytest.mark.parametrize("name, message", [("nosuch", "not on PATH"), ("../evil", "invalid credential helper"),
                                           ("failing", "exited with status 2")])
def test_helper_errors(tmp_path, monkeypatch, name, message):
    write_helper(tmp_path / "bin", "failing", "echo boom >&2; exit 2\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {"reg": name}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    with pytest.raises(AuthError, match=message):
        credentials.lookup("reg")
