"""``python -m supv_cli`` and the ``supv`` console script.

The early signal handlers (``supv_cli/early.py``) are installed as soon as this module is imported,
before it imports anything else and before the console script's own wrapper goes on.
"""

from __future__ import annotations

from supv_cli.early import _exit_at_once  # noqa: F401  (installs the early handlers; the tests look at it)


def main() -> object:
    """Entry point of the ``supv`` console script."""
    from supv_cli.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":  # pragma: no cover - exercised through the CLI tests
    main()
