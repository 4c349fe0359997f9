"""Reading rules files: hardened lxml parsing, XSD validation, readable errors, element extraction.

The rest of the rules core never sees lxml: each file becomes a ``RulesDocument`` of plain
``ElementSpec`` records carrying their ``file:line``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Pattern

from supv_cli.errors import RulesError

# Any below is an lxml object (a parsed element, the schema): lxml-stubs 0.5.1 types an element's
# ``sourceline`` as ``...`` and a schema's ``error_log`` as not iterable, so typing them as lxml's
# classes would take a cast per use; nothing of lxml leaves this module (``RulesDocument`` is plain).

#: rules files larger than this are refused (decisions.md)
MAX_RULES_SIZE = 16 * 1024 * 1024
_SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "rules.xsd")


@dataclass
class ElementSpec:
    """An ``<application>``, ``<program>`` or ``<model>`` element, reduced to what resolution needs."""

    kind: str
    name: str | None
    pattern: str | None
    file: str
    line: int
    #: child tag -> (text, line); ``findtext`` semantics: the first child's text, '' when empty
    fields: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: the ``<program>`` elements of an application, in document order
    programs: list[ElementSpec] = field(default_factory=list)
    regex: Pattern[str] | None = None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def label(self) -> str:
        return self.name if self.name is not None else f"pattern {self.pattern!r}"

    def text(self, tag: str) -> str:
        return self.fields.get(tag, ("", 0))[0]

    def line_of(self, tag: str) -> int:
        return self.fields.get(tag, ("", self.line))[1]

    # ElementSpec is used as a dict key (program patterns are scoped by application element)
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


@dataclass
class AliasSpec:
    name: str
    text: str | None
    file: str
    line: int


@dataclass
class RulesDocument:
    """One rules file, validated and reduced."""

    path: str
    aliases: list[AliasSpec] = field(default_factory=list)
    models: list[ElementSpec] = field(default_factory=list)
    applications: list[ElementSpec] = field(default_factory=list)


@lru_cache(maxsize=1)
def _schema() -> Any:
    from lxml import etree

    return etree.XMLSchema(etree.parse(_SCHEMA_FILE))


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_rules_bytes(path: str) -> bytes:
    """Read a rules file, refusing what is too big or unreadable."""
    try:
        size = os.stat(path).st_size
        if size > MAX_RULES_SIZE:
            raise RulesError(f"file is {size} bytes, over the {MAX_RULES_SIZE // (1024 * 1024)} MiB limit "
                             "for a rules file; split it into several files", path)
        with open(path, "rb") as handle:
            data = handle.read(MAX_RULES_SIZE + 1)
    except FileNotFoundError:
        raise RulesError("no such file; check the path", path) from None
    except IsADirectoryError:
        raise RulesError("is a directory, not a rules file; give a file or a glob such as DIR/*.xml",
                         path) from None
    except OSError as error:
        raise RulesError(f"cannot read: {error.strerror}; check its permissions", path) from None
    if len(data) > MAX_RULES_SIZE:
        raise RulesError(f"file is over the {MAX_RULES_SIZE // (1024 * 1024)} MiB limit for a rules file", path)
    return data


def parse_xml(path: str, data: bytes) -> Any:
    """Parse with a hardened parser: no DTD, no entities, no network, no XInclude, bounded size."""
    from lxml import etree

    doctype = data.find(b"<!DOCTYPE")
    if doctype >= 0:
        raise RulesError("a DOCTYPE is not allowed in a rules file (entities and DTDs are refused); "
                         "remove the <!DOCTYPE ...> declaration", f"{path}:{_line_of_offset(data, doctype)}")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        line = error.lineno or 1
        message = str(error.msg or error).split(f", line {line}")[0]
        raise RulesError(f"not well-formed XML: {message}", f"{path}:{line}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype:  # type: ignore[union-attr]
        raise RulesError("a DOCTYPE is not allowed in a rules file; remove it", f"{path}:1")
    return root


# ------------------------------------------------------------------ readable schema messages
_ELEMENT_RE = re.compile(r"^Element '([^']+)'(?:, attribute '([^']+)')?: (.*)$", re.S)
_TYPE_HINTS = {
    "xs:byte": "an integer (0 to 127 for a sequence)",
    "xs:boolean": "true, false, 1 or 0",
    "xs:int": "an integer",
    "loadingType": "an integer from 0 to 100",
}


_PROGRAM_FIELDS = ("reference", "identifiers", "start_sequence", "stop_sequence", "required", "wait_exit",
                   "expected_loading", "starting_failure_strategy", "running_failure_strategy")
ALLOWED_CHILDREN: dict[str, tuple[str, ...]] = {
    "root": ("alias", "model", "application"),
    "application": ("distribution", "identifiers", "start_sequence", "stop_sequence", "starting_strategy",
                    "starting_failure_strategy", "running_failure_strategy", "operational_status", "programs"),
    "programs": ("program",),
    "program": _PROGRAM_FIELDS,
    "model": _PROGRAM_FIELDS,
}
_HINTS = {
    ("application", "distributed"): "<distributed> was replaced by <distribution> (ALL_INSTANCES, "
                                    "SINGLE_INSTANCE or SINGLE_NODE)",
    ("application", "program"): "put <program> elements inside <programs>",
    ("application", "reference"): "<reference> is for programs and models, not applications",
}


def _parent_tag(path: str | None) -> str | None:
    """Parent element name from an error path such as ``/root/application[2]/distributed``."""
    if not path:
        return None
    parts = [re.sub(r"\[\d+\]$", "", part) for part in path.split("/") if part]
    return parts[-2] if len(parts) >= 2 else None


def _unexpected(element: str, parent: str | None) -> str:
    allowed = ALLOWED_CHILDREN.get(parent or "", ())
    hint = _HINTS.get((parent or "", element))
    if hint:
        return f"unexpected element <{element}> in <{parent}>: {hint}"
    if element in allowed:
        return f"<{element}> appears more than once in <{parent}>; keep only one"
    if allowed:
        return (f"unexpected element <{element}> in <{parent}>; allowed: "
                + ", ".join(f"<{x}>" for x in allowed))
    return f"unexpected element <{element}>"


def readable_schema_error(message: str, path: str | None = None) -> str:
    """Turn an XSD validator message into something a rules file author can act on."""
    match = _ELEMENT_RE.match(message.strip())
    if not match:
        return message.strip()
    element, attribute, text = match.group(1), match.group(2), match.group(3).strip()
    where = f"<{element}>"
    if attribute:
        if "is not allowed" in text:
            return f"{where}: attribute {attribute!r} is not allowed; only name and pattern are"
        return f"{where} attribute {attribute!r}: {text}"
    if "No matching global declaration" in text:
        return f"{where}: the top element of a rules file must be <root>"
    if "This element is not expected" in text:
        return _unexpected(element, _parent_tag(path))
    if "is required but missing" in text:
        missing = re.search(r"attribute '([^']+)'", text)
        return f"{where}: the attribute {missing.group(1) if missing else ''!r} is required"
    enum = re.search(r"\[facet 'enumeration'\] The value '(.*)' is not an element of the set \{(.*)\}", text, re.S)
    if enum:
        allowed = ", ".join(x.strip().strip("'") for x in enum.group(2).split(","))
        return f"{where}: {enum.group(1)!r} is not a valid value; use one of {allowed}"
    bound = re.search(r"\[facet '(min|max)Inclusive'\] The value '(.*)' is (?:less|greater) than the (?:minimum|"
                      r"maximum) value allowed \('(.*)'\)", text)
    if bound:
        side = "at least" if bound.group(1) == "min" else "at most"
        return f"{where}: {bound.group(2)!r} is out of range; use a value {side} {bound.group(3)}"
    atomic = re.search(r"'(.*)' is not a valid value of the (?:local )?atomic type '?([^'.]+)'?", text, re.S)
    if atomic:
        hint = _TYPE_HINTS.get(atomic.group(2), atomic.group(2))
        return f"{where}: {atomic.group(1)!r} is not valid; expected {hint}"
    if "Character content other than whitespace is not allowed" in text:
        return f"{where}: text is not allowed directly in this element"
    if "Missing child element" in text:
        return f"{where}: {text}"
    return f"{where}: {text}"


def validate(path: str, root: Any) -> None:
    """Validate against supv's rules.xsd; every problem becomes a ``file:line: message``."""
    schema = _schema()
    if schema.validate(root):
        return
    errors = [f"{path}:{entry.line}: {readable_schema_error(entry.message, entry.path)}" for entry in schema.error_log]
    raise RulesError.many(errors or [f"{path}: invalid rules file"])


# ------------------------------------------------------------------ extraction
def _elements(parent: Any) -> list[Any]:
    return [child for child in parent if isinstance(child.tag, str)]


def _spec(element: Any, kind: str, path: str) -> ElementSpec:
    spec = ElementSpec(kind=kind, name=element.get("name"), pattern=element.get("pattern"), file=path,
                       line=element.sourceline or 0)
    for child in _elements(element):
        if child.tag == "programs":
            spec.programs = [_spec(program, "program", path) for program in _elements(child)
                             if program.tag == "program"]
        elif child.tag not in spec.fields:
            spec.fields[child.tag] = (child.text or "", child.sourceline or spec.line)
    return spec


def compile_pattern(spec: ElementSpec) -> list[str]:
    """Compile the element's pattern as Supvisors uses it (``re.search('(' + pattern + ')')``)."""
    if spec.pattern is None:
        return []
    try:
        spec.regex = re.compile(f"({spec.pattern})")
    except re.error as error:
        return [f"{spec.location}: invalid regular expression in pattern {spec.pattern!r}: "
                f"{regex_problem(spec.pattern, error)}; "
                "fix the pattern (it is a Python regex searched anywhere in the name)"]
    return []


def regex_problem(pattern: str, wrapped_error: re.error) -> str:
    """What is wrong with ``pattern``, positions counted in the pattern as written, not in the
    ``(pattern)`` wrapper: Python's own message when the pattern alone is invalid, else the wrapper's
    error (``(a)\\1`` refers to the open wrapper group) shifted back by the added parenthesis."""
    try:
        re.compile(pattern)
    except re.error as own_error:
        error, position = own_error, own_error.pos
    else:
        error = wrapped_error
        position = None if wrapped_error.pos is None else max(0, wrapped_error.pos - 1)
    return error.msg if position is None else f"{error.msg} at position {position}"


def extract(path: str, root: Any) -> RulesDocument:
    """Reduce a validated tree to a RulesDocument; invalid regex patterns are errors."""
    document = RulesDocument(path=path)
    errors: list[str] = []
    for element in _elements(root):
        if element.tag == "alias":
            document.aliases.append(AliasSpec(name=element.get("name"), text=element.text, file=path,
                                              line=element.sourceline or 0))
        elif element.tag == "model":
            document.models.append(_spec(element, "model", path))
        elif element.tag == "application":
            spec = _spec(element, "application", path)
            errors += compile_pattern(spec)
            for program in spec.programs:
                errors += compile_pattern(program)
            document.applications.append(spec)
    if errors:
        raise RulesError.many(errors)
    return document


def load_document(path: str) -> RulesDocument:
    """Read, parse, validate and reduce one rules file."""
    root = parse_xml(path, read_rules_bytes(path))
    validate(path, root)
    return extract(path, root)
