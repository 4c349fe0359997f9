"""``supv breed``: duplicate template groups of Supervisor configuration files (supvisors_breed)."""

from __future__ import annotations

import click

from supv_cli.cli.options import dry_run_option
from supv_cli.cli.output import echo_err

BREED_OPTIONS = ("-b", "--breed")


def attach_breed_words(args: list[str]) -> list[str]:
    """Give ``-b`` argparse's ``nargs='+'``: the words following a ``-b`` value that are not options
    become ``-b`` values too, in order (``-b a=1 b=2 -x`` -> ``-b a=1 -b b=2 -x``). ``--`` ends it."""
    result: list[str] = []
    pending_value = attaching = False
    for index, word in enumerate(args):
        if pending_value:
            result.append(word)
            pending_value, attaching = False, True
            continue
        if word == "--":
            result.extend(args[index:])
            break
        if attaching and not word.startswith("-"):
            result.extend(("-b", word))
            continue
        attaching = False
        result.append(word)
        if word in BREED_OPTIONS:
            pending_value = True
        elif word.startswith("--breed=") or (word.startswith("-b") and not word.startswith("--")):
            attaching = True
    return result


class BreedCommand(click.Command):
    """A click command whose ``-b`` takes one or more ``app=N`` words, as supvisors_breed's."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, attach_breed_words(list(args)))


EPILOG = """\b
Examples:
  # scenario 3: three copies of [group:scen3_hci], one file each
  supv breed -t template_etc -d etc -b scen3_hci=3 -x -v
\b
  # two groups at once, appended to their template files
  supv breed -t template_etc -d etc -b scen3_hci=3 other=2
\b
  # show what would be written, write nothing
  supv breed -t template_etc -d etc -b scen3_hci=3 -x --dry-run
\b
Every file matched by the pattern is re-written to the destination (reformatted by
configparser); [group:APP] becomes [group:APP_01] .. [group:APP_NN] holding only
'programs'. Program sections are left as they are. Repeated -b options add up.
\b
Exit codes: 0 success (also when no file matches), 1 a file could not be written,
2 bad option, bad APP=N, unknown group or invalid template.
"""


@click.command(cls=BreedCommand, epilog=EPILOG, short_help="Duplicate template groups of Supervisor files.")
@click.option("-t", "--template", required=True, type=click.Path(), metavar="TEMPLATE",
              help="The template folder (must exist).")
@click.option("-p", "--pattern", default="**/*.ini", show_default=True, metavar="PATTERN",
              help="Glob of the template files, relative to the template folder.")
@click.option("-d", "--destination", required=True, type=click.Path(), metavar="DESTINATION",
              help="The destination folder (created if needed).")
@click.option("-b", "--breed", "breeds", multiple=True, metavar="APP=N [APP=N ...]",
              help="Duplicate [group:APP] N times; several APP=N may follow one -b; repeatable, "
                   "repeated options add up.")
@click.option("-x", "--extra", is_flag=True, help="Write each copy in a new file group_APP_NN.ini.")
@click.option("-v", "--verbose", is_flag=True, help="Print what is found, created and written.")
@dry_run_option("Show what would be written; write nothing.")
@click.argument("more_breeds", nargs=-1, metavar="[APP=N]...")
def breed(template: str, pattern: str, destination: str, breeds: tuple[str, ...], extra: bool, verbose: bool,
          dry_run: bool, more_breeds: tuple[str, ...]) -> None:
    """Duplicate template groups of Supervisor configuration files.

    A clone of supvisors_breed: read the files of TEMPLATE matching PATTERN, replace each
    [group:APP] named by -b APP=N with N copies [group:APP_01] .. [group:APP_NN] listing the same
    programs, and write every file to DESTINATION, each atomically.
    """
    from supv_cli.breed import arguments_line, parse_breed_items, plan_breed, write_plan

    if not breeds and not more_breeds:
        raise click.UsageError("Missing option '-b' / '--breed'.")
    counts = parse_breed_items([*breeds, *more_breeds])
    if verbose:
        click.echo(arguments_line(template, pattern, destination, counts, extra, verbose, dry_run))
    plan = plan_breed(template, counts, destination, pattern=pattern, extra=extra)
    if verbose:
        for line in plan.head_lines():
            click.echo(line)
    if not plan.files_found:
        click.echo("No configuration files found")
        return
    if dry_run:
        for output in plan.outputs:
            if verbose:
                click.echo(output.verbose_line(destination))
            elif output.content is not None:
                click.echo(output.target(destination))
        echo_err(f"dry run: {len(plan.files)} file(s) would be written under {destination}; nothing written")
        return
    write_plan(plan, report=click.echo if verbose else None)
