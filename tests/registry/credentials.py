"""Credentials for the registry tests: the htpasswd user and Docker config files that name it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

USER, PASSWORD = "alice", "wonderland"


def docker_config(tmp_path: Path, monkeypatch, content: dict) -> Path:
    d = tmp_path / "docker-config"
    d.mkdir(exist_ok=True)
    (d / "config.json").write_text(json.dumps(content))
    monkeypatch.setenv("DOCKER_CONFIG", str(d))
    return d


def basic_auths(host: str, user: str = USER, password: str = PASSWORD) -> dict:
    return {"auths": {host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}}
