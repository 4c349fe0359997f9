"""Template duplication for Supervisor configuration files: the core of ``supv breed``.

Supervisor has no homogeneous groups, so an application that must run N times (one per console, say)
is written once as a template ``[group:NAME]`` section and duplicated into ``[group:NAME_01]`` ..
``[group:NAME_NN]``, all listing the same programs. This module reproduces ``supvisors_breed``
(Supvisors 0.18 / 0.19 ``supvisors/tools/breed.py``): the files it writes are the same byte for byte
and its verbose lines are the same, with the improvements listed in ``decisions.md``: sorted (hence
deterministic) order, repeated ``-b`` options add up, clear errors for a bad ``app=N``, an unknown
group, a group without ``programs`` or an unreadable template, atomic writes and a dry run.

The work is split in two: :func:`plan_breed` reads the templates and returns a :class:`BreedPlan`
(every file to write, with its content, and the verbose lines) without touching the destination;
:func:`write_plan` writes it, one file at a time, atomically.
"""

from __future__ import annotations

import configparser
import contextlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from supv_cli.errors import SupvError, TemplateError

#: the glob pattern of the template files, relative to the template folder (pathlib semantics)
DEFAULT_PATTERN = "**/*.ini"

GROUP_PREFIX = "group:"

# ASCII digits only: str.isdigit() also accepts '²', which int() then refuses
_COUNT = re.compile(r"[+-]?[0-9]+")


def parse_breed_items(items: Iterable[str], into: dict[str, int] | None = None) -> dict[str, int]:
    """Parse ``app=N`` words into ``{app: N}``, in command-line order.

    Every word is one ``app=N`` item; several ``-b`` options add up (pass their words together, or
    pass the previous result as ``into``). A key given twice keeps its first position and its last
    count, as Supvisors does within one ``-b``. Raise :class:`TemplateError` for a word without ``=``,
    with two ``=``, with an empty name, or whose count is not a strictly positive integer.
    """
    breeds: dict[str, int] = dict(into or {})
    for item in items:
        if "=" not in item:
            raise TemplateError(f"invalid -b value {item!r}: the format is APP=N, e.g. -b {item or 'app'}=2")
        if item.count("=") > 1:
            raise TemplateError(f"invalid -b value {item!r}: exactly one '=' expected, the format is APP=N")
        key, count = item.split("=")
        if not key:
            raise TemplateError(f"invalid -b value {item!r}: the group name before '=' is empty")
        if not _COUNT.fullmatch(count):
            raise TemplateError(f"invalid -b value {item!r}: the number of copies must be an integer")
        if int(count) < 1:
            raise TemplateError(f"invalid -b value {item!r}: the number of copies must be strictly positive")
        breeds[key] = int(count)
    return breeds


def bred_section_name(key: str, index: int) -> str:
    """Name of copy ``index`` (1-based) of group ``key``: ``group:key_01`` .. ``group:key_99``,
    ``group:key_100``: two digits at least, whatever the number of copies (as Supvisors)."""
    return f"{GROUP_PREFIX}{key}_{index:02d}"


def extra_file_path(template_file: str, section: str) -> str:
    """Path of the file created with ``-x`` for ``section``, beside ``template_file``
    (``console/group_console.ini`` + ``group:x_01`` -> ``console/group_x_01.ini``)."""
    name = "_".join(section.split(":")) + ".ini"
    return str(Path(os.path.join(os.path.dirname(template_file), name)))


def arguments_line(template: str, pattern: str, destination: str, breeds: Mapping[str, int], extra: bool,
                   verbose: bool, dry_run: bool = False) -> str:
    """The first verbose line, shaped as supvisors_breed's ``ArgumentParser: Namespace(...)``."""
    fields = [f"template={template!r}", f"pattern={pattern!r}", f"destination={destination!r}",
              f"breed={dict(breeds)!r}", f"extra={extra!r}", f"verbose={verbose!r}"]
    if dry_run:
        fields.append("dry_run=True")
    return f"ArgumentParser: Namespace({', '.join(fields)})"


@dataclass(frozen=True)
class BreedOutput:
    """One file of the plan, in writing order.

    ``path`` is relative to the template folder and to the destination alike; ``content`` is
    ``None`` for a file left without any section, which is reported and not written.
    """

    path: str
    content: str | None

    def target(self, destination: str) -> str:
        """Where the file goes (``os.path.join(destination, path)``, as supvisors_breed)."""
        return os.path.join(destination, self.path)

    def verbose_line(self, destination: str) -> str:
        if self.content is None:
            return f"Empty sections for file: {self.path}"
        return f"Writing file: {self.target(destination)}"


@dataclass(frozen=True)
class BreedPlan:
    """Everything a breed run would do, computed without writing anything."""

    template: str
    destination: str
    #: template files matched by the pattern, sorted, relative to the template folder
    files_found: tuple[str, ...]
    #: every ``group:`` section found in them, sorted
    groups_found: tuple[str, ...]
    #: the ``New File:`` / ``New [...]`` lines, in breeding order
    breed_lines: tuple[str, ...]
    #: found files first (sorted), then the files created with ``-x`` in creation order
    outputs: tuple[BreedOutput, ...]

    @property
    def files(self) -> tuple[BreedOutput, ...]:
        """The files to write (outputs with a content)."""
        return tuple(output for output in self.outputs if output.content is not None)

    def head_lines(self) -> list[str]:
        """The verbose lines printed before any file is written."""
        lines = ["Configuration files found:"]
        lines += [f"\t{path}" for path in self.files_found] or ["\t"]
        lines.append("Template group elements found:")
        lines += [f"\t{group}" for group in self.groups_found] or ["\t"]
        return lines + list(self.breed_lines)

    def verbose_lines(self) -> list[str]:
        """Every verbose line of the run (the ``ArgumentParser:`` line excepted)."""
        if not self.files_found:
            return self.head_lines()
        return self.head_lines() + [output.verbose_line(self.destination) for output in self.outputs]


def find_template_files(template: str, pattern: str = DEFAULT_PATTERN) -> list[str]:
    """Regular files under ``template`` matching ``pattern`` (pathlib glob: ``**`` also matches the
    top level, ``*`` also matches dot files), relative to ``template``, sorted by path components."""
    if not os.path.isdir(template):
        what = "is not a folder" if os.path.exists(template) else "does not exist"
        raise TemplateError(f"template folder {template!r} {what}; "
                            "give an existing folder with -t/--template")
    if ".." in Path(pattern).parts:
        raise TemplateError(f"invalid pattern {pattern!r} (-p/--pattern): '..' would leave the template "
                            "folder and write outside the destination; keep the glob inside it")
    root = Path(template)
    try:
        matches = list(root.glob(pattern))
    except (ValueError, NotImplementedError) as error:
        raise TemplateError(f"invalid pattern {pattern!r} (-p/--pattern): {error}; give a glob relative to "
                            f"the template folder, e.g. {DEFAULT_PATTERN!r}") from None
    relative = {match.relative_to(root) for match in matches if match.is_file()}
    return [str(path) for path in sorted(relative, key=lambda path: path.parts)]


def _new_parser() -> configparser.ConfigParser:
    return configparser.ConfigParser(interpolation=None)


def _parse_error(error: configparser.Error, display: str) -> TemplateError:
    """One clear line for a configparser exception, located as ``file:line``."""
    if isinstance(error, configparser.MissingSectionHeaderError):
        return TemplateError(f"line outside any section: {error.line.strip()!r}; "
                             "add a [section] header above it", f"{display}:{error.lineno}")
    if isinstance(error, configparser.DuplicateSectionError):
        return TemplateError(f"section [{error.section}] appears twice in this file; merge or rename it",
                             f"{display}:{error.lineno}" if error.lineno else display)
    if isinstance(error, configparser.DuplicateOptionError):
        return TemplateError(f"option {error.option!r} appears twice in section [{error.section}] "
                             "(option names ignore case); keep one", f"{display}:{error.lineno}"
                             if error.lineno else display)
    if isinstance(error, configparser.ParsingError) and error.errors:
        lineno, line = error.errors[0]
        more = f" (and {len(error.errors) - 1} more)" if len(error.errors) > 1 else ""
        return TemplateError(f"cannot parse line {line}: expected 'key = value', '[section]' "
                             f"or a comment{more}", f"{display}:{lineno}")
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return TemplateError(f"invalid template file: {first}", display)


def read_template_file(template: str, relative: str) -> tuple[configparser.ConfigParser, str]:
    """Parse one template file as supvisors_breed does (``ConfigParser(interpolation=None)``).

    Return the parser and the file text (to locate sections in error messages).
    """
    display = os.path.join(template, relative)
    try:
        with open(display, encoding="utf-8") as stream:
            text = stream.read()
    except UnicodeDecodeError as error:
        raise TemplateError(f"not UTF-8 text (byte offset {error.start}); convert the file to UTF-8",
                            display) from None
    except OSError as error:
        raise TemplateError(f"cannot read the template file: {error.strerror or error}", display) from None
    parser = _new_parser()
    try:
        parser.read_string(text, source=display)
    except configparser.Error as error:
        raise _parse_error(error, display) from None
    return parser, text


_SECTION_HEADER = re.compile(r"\[(?P<header>.+)\]")


def section_line(text: str, section: str) -> int | None:
    """Line number (1-based) of the ``[section]`` header in ``text``, or None."""
    for lineno, line in enumerate(text.splitlines(), start=1):
        match = _SECTION_HEADER.match(line.strip())
        if match and match.group("header") == section:
            return lineno
    return None


def render(parser: configparser.ConfigParser) -> str:
    """The text configparser writes for ``parser``: the format of every file supvisors_breed writes."""
    stream = io.StringIO()
    parser.write(stream)
    return stream.getvalue()


@dataclass
class _Source:
    """A file of the run being built: a template file, or a file created with ``-x``."""

    path: str
    parser: configparser.ConfigParser
    text: str = ""


def plan_breed(template: str, breeds: Mapping[str, int], destination: str, pattern: str = DEFAULT_PATTERN,
               extra: bool = False) -> BreedPlan:
    """Read the template files and compute what breeding ``breeds`` writes to ``destination``.

    Every matched file is re-written (reformatted by configparser). For each ``app=N`` in order, the
    ``[group:app]`` section is replaced by ``[group:app_01]`` .. ``[group:app_NN]``, each holding only
    ``programs`` (the raw template value): appended to the template's file, or with ``extra`` each in
    a new file ``<folder of the template>/group_app_NN.ini``. Program sections are left as they are.
    A file left with no section is reported, not written. Nothing is written here.

    Raise :class:`TemplateError` for a missing template folder, an invalid pattern or template file,
    a group not found in any template, or a template group without ``programs``.
    """
    sources: dict[str, _Source] = {}
    for relative in find_template_files(template, pattern):
        parser, text = read_template_file(template, relative)
        sources[relative] = _Source(relative, parser, text)
    # group section -> the file holding it; the same group in two files: the last file (sorted) wins
    groups: dict[str, _Source] = {}
    for source in sources.values():
        for section in source.parser.sections():
            if section.startswith(GROUP_PREFIX):
                groups[section] = source
    files_found = tuple(sources)
    groups_found = tuple(sorted(groups))
    lines: list[str] = []
    if sources:
        for key, count in breeds.items():
            _breed_group(template, key, count, extra, sources, groups, groups_found, pattern, lines)
    outputs = tuple(BreedOutput(source.path, render(source.parser) if source.parser.sections() else None)
                    for source in sources.values())
    return BreedPlan(template=template, destination=destination, files_found=files_found,
                     groups_found=groups_found, breed_lines=tuple(lines), outputs=outputs)


def _breed_group(template: str, key: str, count: int, extra: bool, sources: dict[str, _Source],
                 groups: dict[str, _Source], groups_found: tuple[str, ...], pattern: str,
                 lines: list[str]) -> None:
    """Replace ``[group:key]`` by ``count`` copies (see :func:`plan_breed`)."""
    section = GROUP_PREFIX + key
    source = groups.get(section)
    if source is None:
        found = ", ".join(group[len(GROUP_PREFIX):] for group in groups_found) or "none"
        raise TemplateError(f"unknown group {key!r} (-b {key}={count}): no [{section}] section in the files "
                            f"matching {pattern!r} under {template!r}; groups found: {found}")
    if not source.parser.has_option(section, "programs"):
        lineno = section_line(source.text, section)
        display = os.path.join(template, source.path)
        raise TemplateError(f"template group [{section}] has no 'programs' option; add "
                            "'programs = prog1,prog2'", f"{display}:{lineno}" if lineno else display)
    programs = source.parser[section]["programs"]
    for index in range(1, count + 1):
        new_section = bred_section_name(key, index)
        target = source
        if extra:
            path = extra_file_path(source.path, new_section)
            if path in sources:
                raise TemplateError(f"-x would create {path!r} for [{new_section}], but that file already "
                                    "exists in the template; rename it or breed without -x",
                                    os.path.join(template, path))
            target = _Source(path, _new_parser())
            sources[path] = target
            # as supvisors_breed: a group created with -x can itself be bred by a later app=N
            groups[new_section] = target
            lines.append(f"New File: {path}")
        target.parser[new_section] = {"programs": programs}
        lines.append(f"New [{new_section}]")
    source.parser.remove_section(section)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_file_atomically(path: str, content: str, mode: int | None = None) -> None:
    """Write ``content`` (UTF-8, ``\\n`` line ends) to ``path`` through a temporary file in the same
    folder renamed over it, so a reader never sees a half-written file; create missing folders.

    The file keeps the mode of the file it replaces, else gets ``mode`` (default 0o666 minus umask).
    """
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    try:
        final_mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        final_mode = mode if mode is not None else 0o666 & ~_current_umask()
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, final_mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_plan(plan: BreedPlan, report: Callable[[str], None] | None = None) -> list[str]:
    """Write the files of ``plan`` under its destination, in order, each atomically.

    ``report`` receives the verbose line of every output (``Writing file: ...`` just before the file
    is written, ``Empty sections for file: ...`` for a file not written). Return the paths written.
    Raise :class:`SupvError` (exit code 1) when a file cannot be written; files written before stay.
    """
    written: list[str] = []
    mode = 0o666 & ~_current_umask()
    for output in plan.outputs:
        if report is not None:
            report(output.verbose_line(plan.destination))
        if output.content is None:
            continue
        target = output.target(plan.destination)
        try:
            write_file_atomically(target, output.content, mode)
        except OSError as error:
            raise SupvError(f"cannot write the file: {error.strerror or error}; check the destination "
                            "folder (-d/--destination)", target) from None
        written.append(target)
    return written
