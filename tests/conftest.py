"""Shared pytest fixtures (keep generic; command-specific fixtures belong next to their tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests.support.supervisord import Supervisord

SupervisordFactory = Callable[..., Supervisord]


@pytest.fixture(autouse=True)
def _no_user_inventory(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's ~/.config/supv/supv.conf must not leak into the tests (supv reads it by default)."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture(autouse=True)
def _no_supv_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``SUPV_*`` variable a developer exported reaches a test (by prefix: a new variable is covered)."""
    import os

    for name in [name for name in os.environ if name.startswith("SUPV_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def supervisord(tmp_path: Path) -> Iterator[SupervisordFactory]:
    """A factory of started, real supervisord processes, all stopped at the end of the test (also when
    it fails). ``supervisord(nick="s1", programs={...}, groups={...}, unix=False, username=None,
    password=None, host="127.0.0.1", start=True)``; see tests/support/supervisord.py."""
    started: list[Supervisord] = []

    def make(nick: str | None = None, start: bool = True, **options: Any) -> Supervisord:
        nick = nick or f"server_{len(started) + 1}"
        server = Supervisord(tmp_path / f"supervisord-{len(started) + 1}-{nick}", nick=nick, **options)
        started.append(server)
        if start:
            server.start()
        return server

    yield make
    errors = []
    for server in started:
        try:
            server.terminate()
        except Exception as error:
            errors.append(error)
    for server in reversed(started):
        try:
            server.stop()
        except Exception as error:  # stop every server even when one fails
            errors.append(error)
    if errors:
        raise errors[0]
