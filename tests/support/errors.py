"""Checks shared by the tests of configuration files."""

from __future__ import annotations

from pathlib import Path

import pytest

from supv_cli.cluster.settings import ClusterOptions, resolve_settings
from supv_cli.errors import ConfigError, ExitCode


def assert_config_error(conf: Path, line: int | None, message: str) -> ConfigError:
    """Reading ``conf`` with ``-c`` fails with ``message`` located at ``conf:line`` and exit status 2."""
    with pytest.raises(ConfigError, match=message) as caught:
        resolve_settings(ClusterOptions(config=str(conf)))
    error = caught.value
    assert error.exit_code == ExitCode.USAGE
    assert error.location == (f"{conf}:{line}" if line else str(conf))
    assert str(error).startswith(f"{error.location}: ")
    return error
