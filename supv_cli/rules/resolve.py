"""Resolution of rules: which element applies to an application or a process, and its values.

Semantics are Supvisors 0.19.1's (see docs/rules.md): exact name before pattern, pattern score = length
of the leftmost regex match (ties: first declared), models applied through ``reference`` at most two
levels deep, defaults and inheritance of the failure strategies, post-load checks, application ``#``.
Results are immutable and cached: patterns are compiled once at load, each name resolved once.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from enum import Enum
from sys import intern
from typing import Any, Iterable

from supv_cli.errors import RulesError
from supv_cli.model.identifiers import IdentifierRule, hash_index, is_stereotype, parse_identifiers, split_list
from supv_cli.model.instances import InstanceList
from supv_cli.rules.model import (
    WILDCARD,
    ApplicationRules,
    Distribution,
    ProcessRules,
    RunningFailureStrategy,
    StartingFailureStrategy,
    StartingStrategy,
)
from supv_cli.rules.xmlload import ElementSpec, RulesDocument

#: a program element, then at most two levels of models (Supvisors' LOOP_CHECK)
REFERENCE_DEPTH = 3
#: the identifiers of a process without any: one tuple for all (a tuple per process is 48 bytes x 12,000)
_ANYWHERE = (WILDCARD,)
#: an application none of whose processes was resolved yet
_NONE: dict[str, ProcessRules] = {}
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0"})
_PROGRAM_TAGS = frozenset({"identifiers", "start_sequence", "stop_sequence", "required", "wait_exit",
                           "expected_loading", "starting_failure_strategy", "running_failure_strategy"})
_APPLICATION_TAGS = frozenset({"distribution", "identifiers", "start_sequence", "stop_sequence", "starting_strategy",
                               "starting_failure_strategy", "running_failure_strategy", "operational_status"})
_ENUMS: dict[str, type[Enum]] = {
    "distribution": Distribution,
    "starting_strategy": StartingStrategy,
    "starting_failure_strategy": StartingFailureStrategy,
    "running_failure_strategy": RunningFailureStrategy,
}


@dataclass
class _Values:
    """Mutable accumulator while layers (models, element) are applied; frozen into a dataclass after."""

    values: dict[str, Any]  # Any: the keyword arguments of a rules dataclass, each field of its own type
    notes: list[str] = field(default_factory=list)

    def note(self, spec: ElementSpec, tag: str, message: str) -> None:
        self.notes.append(f"{spec.file}:{spec.line_of(tag)}: {message}")


def best_pattern(name: str, patterns: Iterable[ElementSpec]) -> ElementSpec | None:
    """The element whose pattern's leftmost match in ``name`` is the longest; ties: declared first."""
    best: ElementSpec | None = None
    best_score = -1
    for spec in patterns:
        assert spec.regex is not None
        match = spec.regex.search(name)
        if match is not None and len(match.group(0)) > best_score:
            best, best_score = spec, len(match.group(0))
    return best


class Rules:
    """The merged rules of one or several files, bound to an (optional) instance list.

    ``instances`` gives ``*`` its meaning and lets ``#`` on applications filter its list (nicks and
    ``host:port`` are the same instance); without it, names are kept as written.
    """

    def __init__(self, documents: Iterable[RulesDocument], instances: InstanceList | None = None,
                 default_starting_strategy: StartingStrategy = StartingStrategy.CONFIG) -> None:
        self.documents = list(documents)
        self.instances = instances
        self.default_starting_strategy = default_starting_strategy
        self.aliases: dict[str, list[str]] = {}
        self.models: dict[str, ElementSpec] = {}
        self._applications: dict[str, ElementSpec] = {}
        self._application_patterns: dict[str, ElementSpec] = {}
        self._programs: dict[ElementSpec, dict[str, ElementSpec]] = {}
        self._program_patterns: dict[ElementSpec, dict[str, ElementSpec]] = {}
        for document in self.documents:
            self._merge(document)
        self._app_cache: dict[str, ApplicationRules] = {}
        #: application -> process -> its rules (no (application, process) key per process: 12,000 at 300 x 40)
        self._process_cache: dict[str, dict[str, ProcessRules]] = {}
        #: the process rules with notes, in the order they were resolved (:attr:`warnings`)
        self._process_notes: list[ProcessRules] = []
        self._identifier_cache: dict[str, IdentifierRule] = {}

    @property
    def files(self) -> list[str]:
        return [document.path for document in self.documents]

    # ------------------------------------------------------------------ merging (Supvisors' order)
    def _merge(self, document: RulesDocument) -> None:
        for alias in document.aliases:
            if alias.text:  # an empty alias is not an alias; a later value replaces, keeping the rank
                self.aliases[alias.name] = split_list(alias.text)
        for model in document.models:
            if model.name is not None:
                self.models[model.name] = model
        for application in document.applications:
            if application.name is not None:
                self._applications.setdefault(application.name, application)
            if application.pattern is not None:
                self._application_patterns[application.pattern] = application
            by_name: dict[str, ElementSpec] = {}
            by_pattern: dict[str, ElementSpec] = {}
            for program in application.programs:
                if program.name is not None:
                    by_name.setdefault(program.name, program)
                if program.pattern is not None:
                    by_pattern[program.pattern] = program
            self._programs[application] = by_name
            if by_pattern:
                self._program_patterns[application] = by_pattern

    # ------------------------------------------------------------------ element lookup
    def application_element(self, application_name: str) -> ElementSpec | None:
        """The ``<application>`` element that applies: by name (first file first), else best pattern."""
        spec = self._applications.get(application_name)
        if spec is None:
            spec = best_pattern(application_name, self._application_patterns.values())
        return spec

    def program_element(self, application_name: str, process_name: str) -> tuple[ElementSpec | None, bool]:
        """The ``<program>`` element that applies and whether it was matched by pattern."""
        application = self.application_element(application_name)
        if application is None:
            return None, False
        spec = self._programs.get(application, {}).get(process_name)
        if spec is not None:
            return spec, False
        spec = best_pattern(process_name, self._program_patterns.get(application, {}).values())
        return spec, spec is not None

    # ------------------------------------------------------------------ field readers
    def _read_fields(self, spec: ElementSpec, acc: _Values, tags: frozenset[str]) -> None:
        # only the fields present in the element matter, and each is independent of the others
        for tag, (text, _line) in spec.fields.items():
            if not text or tag not in tags:  # absent or empty: no override
                continue
            if tag in _ENUMS:
                acc.values[tag] = _ENUMS[tag](text)  # the schema already checked the name
            elif tag in ("start_sequence", "stop_sequence"):
                value = int(text)
                if value >= 0:
                    acc.values[tag] = value
                else:
                    acc.note(spec, tag, f"{tag} {value} ignored (a sequence is an integer >= 0)")
            elif tag == "expected_loading":
                acc.values[tag] = int(text)
            elif tag in ("required", "wait_exit"):
                self._read_boolean(spec, tag, text, acc)
            elif tag == "identifiers":
                rule = self._identifier_rule(text)
                if rule.has_at:
                    acc.values["at_identifiers"], acc.values["identifiers"] = rule.identifiers, ()
                if rule.has_hash:
                    acc.values["hash_identifiers"], acc.values["identifiers"] = rule.identifiers, ()
                if not rule.has_at and not rule.has_hash:
                    acc.values["identifiers"] = rule.identifiers
            elif tag == "operational_status":
                acc.values["status_formula"] = self._read_formula(spec, text, acc)

    def _identifier_rule(self, text: str) -> IdentifierRule:
        rule = self._identifier_cache.get(text)
        if rule is None:
            rule = self._identifier_cache[text] = parse_identifiers(text, self.aliases)
        return rule

    @staticmethod
    def _read_boolean(spec: ElementSpec, tag: str, text: str, acc: _Values) -> None:
        # Supvisors converts without stripping: ' true ' passes the schema but is ignored
        lowered = text.lower()
        if lowered in _TRUE:
            acc.values[tag] = True
        elif lowered in _FALSE:
            acc.values[tag] = False
        else:
            acc.note(spec, tag, f"{tag} {text!r} ignored (write true or false without spaces)")

    @staticmethod
    def _read_formula(spec: ElementSpec, text: str, acc: _Values) -> str:
        try:
            tree = ast.parse(text)
        except SyntaxError as error:
            acc.note(spec, "operational_status", f"operational_status ignored: not a Python expression ({error.msg})")
            return ""
        if len(tree.body) != 1:
            acc.note(spec, "operational_status", "operational_status ignored: it must be exactly one expression")
            return ""
        return text

    def _apply_program_layers(self, spec: ElementSpec, acc: _Values, depth: int) -> None:
        if depth == 0:
            acc.notes.append(f"{spec.location}: model {spec.label} not applied: at most "
                             f"{REFERENCE_DEPTH - 1} levels of <reference> are followed")
            return
        reference = spec.text("reference")
        if reference and reference in self.models:
            self._apply_program_layers(self.models[reference], acc, depth - 1)
        elif reference:
            acc.notes.append(self._unknown_reference(spec, reference))
        self._read_fields(spec, acc, _PROGRAM_TAGS)

    def _unknown_reference(self, spec: ElementSpec, reference: str) -> str:
        close = difflib.get_close_matches(reference, list(self.models), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f'declare <model name="{reference}">'
        return (f"{spec.file}:{spec.line_of('reference')}: <reference> {reference!r} of {spec.kind} "
                f"{spec.label} names no model: ignored, as Supvisors does; {hint}")

    def unknown_references(self) -> list[str]:
        """A warning per ``<reference>`` (of any program or model, matched or not) that names no model."""
        specs = [spec for document in self.documents for spec in document.models]
        specs += [program for spec in self.declared_applications() for program in spec.programs]
        return [self._unknown_reference(spec, spec.text("reference")) for spec in specs
                if spec.text("reference") and spec.text("reference") not in self.models]

    # ------------------------------------------------------------------ public API
    def application_rules(self, application_name: str) -> ApplicationRules:
        """Resolved rules of an application (a Supervisor group); cached."""
        cached = self._app_cache.get(application_name)
        if cached is not None:
            return cached
        spec = self.application_element(application_name)
        acc = _Values({"identifiers": (WILDCARD,), "at_identifiers": (), "hash_identifiers": (),
                       "start_sequence": 0, "stop_sequence": -1, "status_formula": "",
                       "starting_strategy": self.default_starting_strategy})
        if spec is not None:
            acc.values["managed"] = True
            self._read_fields(spec, acc, _APPLICATION_TAGS)
        if acc.values["stop_sequence"] < 0:
            acc.values["stop_sequence"] = acc.values["start_sequence"]
        if acc.values["hash_identifiers"]:
            assert spec is not None
            self._resolve_application_hash(application_name, spec, acc)
        elif acc.values["at_identifiers"]:
            acc.notes.append(f"{spec.location if spec else application_name}: '@' on an application is never "
                             "resolved (Supvisors ignores it): the application can only be placed per process")
        rules = ApplicationRules(application_name=application_name, source=spec.location if spec else None,
                                 notes=tuple(acc.notes), **acc.values)
        self._app_cache[application_name] = rules
        return rules

    def _resolve_application_hash(self, application_name: str, spec: ElementSpec, acc: _Values) -> None:
        index = hash_index(application_name)
        if not index:
            acc.values["identifiers"], acc.values["start_sequence"] = (), 0
            acc.notes.append(f"{spec.location}: '#' needs an application name ending with _N or -N (N >= 1): "
                             f"{application_name} gets no instance and start_sequence 0")
            return
        hash_list = acc.values["hash_identifiers"]
        stereotypes = [name for name in hash_list if is_stereotype(name)]
        if self.instances is None:
            if WILDCARD in hash_list:
                raise RulesError(f"application {application_name}: '#' over '*' needs the instance list; "
                                 "give -i (or -c)", spec.location)
            if stereotypes:
                raise RulesError(f"application {application_name}: '#' over stereotype {stereotypes[0]} "
                                 "needs the instances and their stereotypes; give -c INVENTORY",
                                 spec.location)
            # no instance list: the name picked is kept as written, placement resolves it
            names = list(hash_list)
            acc.values["identifiers"] = (names[(index - 1) % len(names)],)
            return
        reference = self.instances.resolve(hash_list)
        if not reference and stereotypes:
            # nobody carries the stereotype (yet): not a rules error, the application just has no instance
            acc.values["identifiers"] = ()
            uncarried = ", ".join(f"stereotype {name}: no instance carries it" for name in stereotypes)
            acc.notes.append(f"{spec.location}: application {application_name}: '#' over "
                             f"{','.join(hash_list)} gives no instance ({uncarried})")
            return
        if not reference:
            raise RulesError(f"application {application_name}: none of the '#' identifiers "
                             f"{', '.join(hash_list)} is a known instance; fix the rules or the instance list",
                             spec.location)
        picked = reference[(index - 1) % len(reference)]
        acc.values["identifiers"], acc.values["hash_instance"] = (picked.nick,), picked

    def process_rules(self, application_name: str, process_name: str) -> ProcessRules:
        """Resolved rules of a process ``application_name:process_name``; cached."""
        cached = self._process_cache.get(application_name, _NONE).get(process_name)
        if cached is not None:
            return cached
        application = self.application_rules(application_name)
        acc = _Values({"identifiers": _ANYWHERE, "at_identifiers": (), "hash_identifiers": (),
                       "start_sequence": 0, "stop_sequence": -1, "required": False, "wait_exit": False,
                       "expected_loading": 0,
                       "starting_failure_strategy": application.starting_failure_strategy,
                       "running_failure_strategy": application.running_failure_strategy})
        spec, by_pattern = self.program_element(application_name, process_name)
        if spec is not None:
            self._apply_program_layers(spec, acc, REFERENCE_DEPTH)
        self._check_process(spec, by_pattern, acc)
        rules = ProcessRules(application_name=application_name, process_name=process_name,
                             matched_by=None if spec is None else ("pattern" if by_pattern else "name"),
                             source=intern(spec.location) if spec else None, notes=tuple(acc.notes), **acc.values)
        self._process_cache.setdefault(application_name, {})[process_name] = rules
        if rules.notes:
            self._process_notes.append(rules)
        return rules

    @staticmethod
    def _check_process(spec: ElementSpec | None, by_pattern: bool, acc: _Values) -> None:
        """Supvisors' post-load checks, in its order."""
        where = spec.location if spec else ""
        values = acc.values
        if values["at_identifiers"] and not by_pattern:
            acc.notes.append(f"{where}: '@' is only valid in a program matched by pattern: identifiers reset to *")
            values["identifiers"], values["at_identifiers"] = _ANYWHERE, ()
        if values["hash_identifiers"] and not by_pattern:
            acc.notes.append(f"{where}: '#' is only valid in a program matched by pattern: identifiers reset to *")
            values["identifiers"], values["hash_identifiers"] = _ANYWHERE, ()
        if values["at_identifiers"] and values["hash_identifiers"]:
            acc.notes.append(f"{where}: '@' and '#' together: '#' dropped")
            values["hash_identifiers"] = ()
        if values["required"] and values["start_sequence"] == 0:
            acc.notes.append(f"{where}: required forced to false because start_sequence is 0")
            values["required"] = False
        if values["stop_sequence"] < 0:
            values["stop_sequence"] = values["start_sequence"]

    @property
    def warnings(self) -> list[str]:
        """Every note produced by the resolutions made so far (deduplicated, in order)."""
        seen: dict[str, None] = {}
        notes = [rules.notes for rules in self._app_cache.values()] + [rules.notes for rules in self._process_notes]
        for note in (note for noted in notes for note in noted):
            seen.setdefault(note, None)
        return list(seen)

    def declared_applications(self) -> list[ElementSpec]:
        """Every ``<application>`` element, in file then document order."""
        return [spec for document in self.documents for spec in document.applications]
