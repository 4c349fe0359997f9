"""``python -m supv_cli.cli.manpage``: check, write or start the man pages.

  --check (default)          exit 1 and name the pages that differ from what the generator makes
  --write                    rewrite man/supv*.1 from the click commands and man/src/*.roff, and
                             docs/cli.md (the command reference) from the same commands
  --import-prose PAGE.1...   turn hand-written pages into prose files (man/src/PAGE.roff), for a
                             command that has none yet; then review the commented-out parts and --write
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from supv_cli.cli.manpage import DOCS_DIR, MAN_DIR, ProseError, prose_path, render_all
from supv_cli.cli.manpage.prose import import_page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m supv_cli.cli.manpage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the pages")
    mode.add_argument("--check", action="store_true", help="only say which pages differ (the default)")
    mode.add_argument("--import-prose", nargs="+", metavar="PAGE", type=Path,
                      help="hand-written pages to turn into prose files")
    parser.add_argument("--force", action="store_true", help="with --import-prose: overwrite a prose file")
    parser.add_argument("--man-dir", type=Path, default=MAN_DIR, help=f"default {MAN_DIR}")
    parser.add_argument("--docs-dir", type=Path, default=DOCS_DIR, help=f"where cli.md goes; default {DOCS_DIR}")
    args = parser.parse_args(argv)
    if args.import_prose:
        return import_pages(args.import_prose, args.man_dir, args.force)
    try:
        pages = render_all(args.man_dir, args.docs_dir)
    except ProseError as error:
        print(f"supv-manpage: error: {error}", file=sys.stderr)
        return 2
    stale = [path for path, text in pages.items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text]
    if args.write:
        for path in stale:
            temporary = path.with_suffix(".tmp")
            temporary.write_text(pages[path], encoding="utf-8")
            temporary.replace(path)  # atomic: a reader never sees half a page
            print(f"wrote {path}")
        return 0
    for path in stale:
        print(f"{path}: differs from the generator; run python -m supv_cli.cli.manpage --write", file=sys.stderr)
    return 1 if stale else 0


def import_pages(pages: list[Path], man_dir: Path, force: bool) -> int:
    for page in pages:
        target = prose_path(page.stem, man_dir)
        if target.exists() and not force:
            print(f"supv-manpage: error: {target} exists; edit it, or give --force to replace it", file=sys.stderr)
            return 2
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(import_page(page.read_text(encoding="utf-8"), page.stem), encoding="utf-8")
        print(f"wrote {target}: port or delete its commented-out SYNOPSIS/OPTIONS/EXIT STATUS lines, then --write")
    return 0


if __name__ == "__main__":
    sys.exit(main())
