"""``supv rules check`` and ``supv rules show``: validate and inspect Supvisors rules files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence, Union

import click

from supv_cli.cli.completion import complete_names
from supv_cli.cli.options import cluster_options, output_options
from supv_cli.cli.output import LOCATED_RE, Table, View, echo_err, print_json
from supv_cli.errors import CommandFailed, ExitCode, RulesError

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.model.instances import InstanceList
    from supv_cli.rules import Rules
    from supv_cli.rules.model import ApplicationRules, ProcessRules

#: what ``rules show`` shows: the resolved rules of an application or of a process
Resolved = Union["ApplicationRules", "ProcessRules"]


def as_warning(note: str) -> str:
    """``file:line: message`` -> ``file:line: warning: message`` (editors jump to it)."""
    match = LOCATED_RE.match(note)
    return f"{match.group(1)}: warning: {match.group(2)}" if match else f"warning: {note}"


@click.group("rules", context_settings={"help_option_names": ["-h", "--help"]})
def rules() -> None:
    """Validate and inspect Supvisors rules files.

    \b
    Examples:
      supv rules check etc/supvisors_rules.xml
      supv rules show -r etc/supvisors_rules.xml scen3_srv scen3_hci_02:scen3_chart_view
      supv rules show -r etc/supvisors_rules.xml -i '<console_1>127.0.0.21:61004' --json scen3_hci_01
    """


@rules.command("check")
@output_options
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--strict", is_flag=True, help="Treat warnings (values Supvisors would ignore) as errors.")
@click.pass_obj
def check(app: App, files: tuple[str, ...], strict: bool) -> None:
    """Validate rules files against the rules schema and Supvisors' checks.

    Each FILE is checked on its own: XML syntax, the rules schema (what Supvisors accepts), regular
    expressions of patterns, then every named application and program is resolved to report values that
    Supvisors would ignore (warnings). Problems are printed on stderr as FILE:LINE: message.

    \b
    --json (--format json): one JSON list on stdout, one object per FILE in argument order:
    {file, valid, errors, warnings, applications, models, aliases}. Table and plain: nothing on stdout.

    \b
    Exit status: 0 all files valid; 2 a file is invalid (or has warnings with --strict).
    \b
    Examples:
      supv rules check etc/supvisors_rules.xml
      supv rules check --strict etc/*.xml
    """
    from supv_cli.rules import Rules, load_documents

    reports: list[dict[str, Any]] = []  # Any: each report's JSON values (str, bool, list of lines, counts)
    failed = False
    for path in files:
        report: dict[str, Any] = {"file": path, "valid": True, "errors": [], "warnings": []}  # as reports
        try:
            documents = load_documents([path])
        except RulesError as error:
            report["valid"], report["errors"] = False, list(error.errors)
        else:
            rules_obj = Rules(documents)
            report["warnings"] = resolve_declared(rules_obj)
            document = documents[0]
            report.update(applications=len(document.applications), models=len(document.models),
                          aliases=len(document.aliases))
        if strict and report["warnings"]:  # errors now: the file is not valid, and says so everywhere
            report["valid"], report["errors"], report["warnings"] = False, report["warnings"], []
        failed |= not report["valid"]
        reports.append(report)
        for line in report["errors"]:
            echo_err(line)
        for line in report["warnings"]:
            echo_err(as_warning(line))
        if report["valid"]:
            counts = ", ".join(counted(report[key], key[:-1]) for key in ("applications", "models", "aliases"))
            echo_err(f"{path}: valid ({counts})")
    if app.fmt == "json":
        print_json(reports)
    if failed:
        raise CommandFailed(ExitCode.USAGE)


def resolve_declared(rules_obj: Rules) -> list[str]:
    """Resolve every named application and its named programs; return the notes (warnings)."""
    notes: list[str] = []
    for spec in rules_obj.declared_applications():
        if spec.name is None:
            continue
        try:
            rules_obj.application_rules(spec.name)
            for program in spec.programs:
                if program.name is not None:
                    rules_obj.process_rules(spec.name, program.name)
        except RulesError as error:
            notes.append(str(error))
    notes.extend(rules_obj.warnings)
    notes.extend(rules_obj.unknown_references())  # programs matched by pattern are never resolved above
    return list(dict.fromkeys(notes))


def counted(count: int, noun: str) -> str:
    """``1 application``, ``2 applications``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


@rules.command("show")
@cluster_options
@output_options
@click.argument("namespecs", nargs=-1, metavar="[NAMESPEC]...", shell_complete=complete_names)
@click.pass_obj
def show(app: App, namespecs: tuple[str, ...]) -> None:
    """Show the resolved rules of applications (APP) and processes (APP:PROCESS).

    With NAMESPECs it works offline: -i only names the instances (for '*', '#' and the identity of nicks
    and host:port) and nothing is contacted. Without NAMESPEC and with instances, every application and
    process found on the instances is shown; without either, the applications and programs declared by
    name in the rules files. JSON keys and values are those of Supvisors' get_application_rules and
    get_process_rules.

    \b
    Examples:
      supv rules show -r etc/supvisors_rules.xml scen3_srv scen3_srv:scen3_item_manager
      supv rules show -r etc/supvisors_rules.xml --json scen3_hci_01 scen3_hci_01:scen3_chart_view
      supv rules show -c etc/supv.conf        # everything running, per the instances
    """
    rules_obj = app.require_rules()
    if not namespecs:
        namespecs = tuple(all_namespecs(app))
    results: list[Resolved] = []
    for namespec in namespecs:
        group, sep, process = namespec.partition(":")
        if not group:
            raise click.UsageError(f"invalid NAMESPEC {namespec!r}: write APP or APP:PROCESS")
        if sep and process:
            results.append(rules_obj.process_rules(group, process))
        else:
            results.append(rules_obj.application_rules(group))
    for note in rules_obj.warnings:
        echo_err(as_warning(note))
    for line in stereotype_notes(results, app.instances):
        echo_err(line)
    app.emit(rules_view(results, app.instances))


def all_namespecs(app: App) -> list[str]:
    """Every application and process: from the instances when there are some, else those declared by
    name in the rules."""
    names: list[str] = []
    if app.instances:
        for namespec in app.snapshot(need_answer=False).namespecs():
            group = namespec.split(":", 1)[0]
            if group not in names:
                names.append(group)
            names.append(namespec)
        return names
    for spec in app.require_rules().declared_applications():
        if spec.name is None:
            continue
        names.append(spec.name)
        names.extend(f"{spec.name}:{program.name}" for program in spec.programs if program.name is not None)
    return list(dict.fromkeys(names))


def _identifier_lists(rules_obj: Resolved) -> list[str]:
    return list(rules_obj.identifiers) + list(rules_obj.hash_identifiers) + list(rules_obj.at_identifiers)


def stereotype_notes(results: Sequence[Resolved], instances: InstanceList) -> list[str]:
    """stderr lines for the stereotypes of the shown identifier lists: those no instance carries (they
    resolve to nothing), or one hint when there are no instances to expand them with."""
    from supv_cli.model.identifiers import is_stereotype

    users: dict[str, list[str]] = {}
    for rules_obj in results:
        name = getattr(rules_obj, "namespec", rules_obj.application_name)
        for identifier in _identifier_lists(rules_obj):
            if is_stereotype(identifier) and name not in users.setdefault(identifier, []):
                users[identifier].append(name)
    if not users:
        return []
    if not instances:
        return [f"supv: note: stereotypes ({', '.join(users)}) are shown as written; give -c INVENTORY "
                "to see the instances carrying them"]
    return [f"supv: warning: stereotype {stereotype}: no instance carries it, so it resolves to no instance "
            f"(in the identifiers of {', '.join(names)})"
            for stereotype, names in users.items() if not instances.with_stereotype(stereotype)]


def _text(values: Sequence[str]) -> str:
    return ",".join(values) if values else "-"


def rules_view(results: Sequence[Resolved], instances: InstanceList | None = None) -> View:
    """Resolved ApplicationRules / ProcessRules: JSON as Supvisors' get_*_rules, or two tables (the
    applications, then the processes); a stereotype is followed by the instances carrying it when
    they are known: ``@SERVER(server_1,server_2)``."""

    def tables() -> list[Table]:
        from supv_cli.rules import ApplicationRules

        apps = [r for r in results if isinstance(r, ApplicationRules)]
        procs = [r for r in results if not isinstance(r, ApplicationRules)]
        app_headers = ["Application", "Managed", "Distribution", "Identifiers", "Start", "Stop", "Strategy",
                       "StartingFailure", "RunningFailure", "Formula"]
        app_rows = [[a.application_name, a.managed, a.distribution.value, _identifiers(a, instances),
                     a.start_sequence, a.stop_sequence, a.starting_strategy.value,
                     a.starting_failure_strategy.value, a.running_failure_strategy.value,
                     a.status_formula or "-"] if a.managed else
                    [a.application_name, False] + ["n/a"] * 8 for a in apps]
        proc_headers = ["Application", "Process", "Identifiers", "Start", "Stop", "Required", "WaitExit",
                        "Loading", "StartingFailure", "RunningFailure", "Match"]
        proc_rows = [[p.application_name, p.process_name, _identifiers(p, instances), p.start_sequence,
                      p.stop_sequence, p.required, p.wait_exit, p.expected_loading,
                      p.starting_failure_strategy.value, p.running_failure_strategy.value,
                      p.matched_by or "-"] for p in procs]
        return [Table(headers, rows) for headers, rows in ((app_headers, app_rows), (proc_headers, proc_rows))
                if rows]

    return View(data=lambda: [r.to_dict() for r in results], tables=tables)


def _identifiers(rules_obj: Resolved, instances: InstanceList | None = None) -> str:
    """Identifiers for people: the list, or the pending '#'/'@' list of homogeneous groups."""
    if rules_obj.identifiers:
        return _expanded(rules_obj.identifiers, instances)
    if rules_obj.hash_identifiers:
        return "#," + _expanded(rules_obj.hash_identifiers, instances)
    if rules_obj.at_identifiers:
        return "@," + _expanded(rules_obj.at_identifiers, instances)
    return "(none)"


def _expanded(names: Sequence[str], instances: InstanceList | None) -> str:
    """``@SERVER`` -> ``@SERVER(server_1,server_2)`` (``@SERVER(none)``) when the instances are known."""
    from supv_cli.model.identifiers import is_stereotype

    if not instances:
        return _text(names)
    return ",".join(f"{name}({','.join(i.nick for i in instances.with_stereotype(name)) or 'none'})"
                    if is_stereotype(name) else name for name in names)
