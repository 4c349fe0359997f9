"""``python -m supv_cli`` is the ``supv`` command."""

from supv_cli.cli import main

if __name__ == "__main__":  # pragma: no cover - exercised through the CLI tests
    main()
