"""Fixtures shared by the pipeline's tests (test_pipeline.py, test_probe_echo.py)."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.unit.test_pipeline import Scripted


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A scripted HTTP server (``test_pipeline.Scripted``) playing ``request.param``'s steps."""
    scripted = Scripted(request.param)
    yield scripted
    scripted.close()
