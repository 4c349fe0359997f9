"""Unmarshalling of supervisord's XML-RPC answers, faster than ``xmlrpc.client`` and exactly as it.

Polling is what the controller spends its CPU on, and most of a poll is reading supervisord's largest
answers (``getAllProcessInfo``, ``getAllConfigInfo``): arrays of flat structs, one per process. Those
are read by one regular expression per struct (measured 5x faster than building an ElementTree of
~60 elements per process); anything else is read from an ElementTree, and anything unusual is handed
to ``xmlrpc.client`` itself (imported only then), so errors and rare types behave exactly as there; a
fault is raised as ``rpc.Fault`` either way.

An answer no supervisord sends is refused before it costs much (:class:`AnswerRefused`): a DOCTYPE
(entity expansion: a few KB of "billion laughs" cost 70-160 MB and a core per parse), or values nested
deeper than :data:`MAX_DEPTH` (supervisord nests 3 levels). The size of an answer is capped by the
transport (``transport.MAX_ANSWER``).
"""

from __future__ import annotations

import re
from sys import intern
from typing import Any, Callable
from xml.etree import ElementTree

from supv_cli.cluster.rpc import Fault
from supv_cli.cluster.xmlchars import has_forbidden, restore, shelter

__all__ = ["MAX_DEPTH", "AnswerRefused", "parse_response"]

#: arrays and structs nested deeper than this are not a supervisord's answer (it nests 3 levels:
#: multicall results, a struct per process, its exitcodes)
MAX_DEPTH = 32


class AnswerRefused(ValueError):
    """An answer refused before or while parsing it, with the reason (a DOCTYPE, too deep, too large)."""


class _Unsupported(Exception):
    """A response the fast parsers leave to the next one."""


def _value(element: ElementTree.Element, depth: int = 0) -> Any:
    """Convert one ``<value>`` element (the types supervisord sends)."""
    if depth > MAX_DEPTH:
        raise AnswerRefused(f"the answer nests values deeper than {MAX_DEPTH} levels")
    if len(element) == 0:
        return intern(element.text or "")  # a value without type is a string
    typed = element[0]
    tag, text = typed.tag, typed.text or ""
    if tag in _CONVERT:  # the scalars, read as in the flat structs below
        return _CONVERT[tag](text)
    if tag == "array":
        data = typed.find("data")
        return [] if data is None else [_value(item, depth + 1) for item in data]
    if tag == "struct":
        members = {}
        for member in typed:
            name, value = member.find("name"), member.find("value")
            if name is None or value is None:
                raise _Unsupported("member")
            members[intern(name.text or "")] = _value(value, depth + 1)
        return members
    if tag == "nil":
        return None
    raise _Unsupported(tag)  # base64, dateTime.iso8601...


# ------------------------------------------------------------------------------ arrays of flat structs

#: the start and the end of an answer that is one array (xmlrpc.client's and supervisord's layout)
_ARRAY_HEAD = re.compile(r"\s*(?:<\?xml[^>]*\?>)?\s*<methodResponse>\s*<params>\s*<param>\s*<value>\s*<array>\s*"
                         r"<data>\s*")
_ARRAY_TAIL = re.compile(r"</data>\s*</array>\s*</value>\s*</param>\s*</params>\s*</methodResponse>\s*\Z")
_STRUCT_HEAD = re.compile(r"<value>\s*<struct>")
_STRUCT_END = re.compile(r"</struct>\s*</value>\s*")
#: one member of a flat struct: name, then a typed scalar (tag, text) or an untyped string
_MEMBER = re.compile(r"<member>\s*<name>([^<]*)</name>\s*<value>(?:<(string|int|i4|i8|double|boolean)>([^<]*)</\2>"
                     r"|([^<]*))</value>\s*</member>")
#: the number of tags of a member, typed or not, and of the head of a struct
_TAGS_TYPED, _TAGS_UNTYPED, _TAGS_HEAD = 8, 6, 2


def _boolean(text: str) -> bool:
    if text.strip() not in ("0", "1"):
        raise _Unsupported("boolean")
    return text.strip() == "1"


#: strings are interned: the names of the members, and the values a controller keeps for long (group and
#: process names, in its configuration cache and in every answer) are one object each, not one per answer
#: (2.6 MB less at 300 instances x 40 processes; ``sys.intern`` keeps none alive, and costs 2 % of a parse)
_CONVERT: dict[str, Callable[[str], Any]] = {"string": intern, "int": int, "i4": int, "i8": int, "double": float,
                                              "boolean": _boolean}


def _flat_structs(data: bytes) -> list[dict[str, Any]]:
    """The answer when it is one array of structs of scalars; else raise _Unsupported."""
    text = data.decode("utf-8")
    if "\r" in text or "&" in text:  # an XML parser turns CRs into LFs and reads entities: let one do it
        raise _Unsupported("text")
    head = _ARRAY_HEAD.match(text)
    tail = _ARRAY_TAIL.search(text, head.end()) if head is not None else None
    if head is None or tail is None:
        raise _Unsupported("layout")
    *chunks, rest = _STRUCT_END.split(text[head.end():tail.start()])
    if rest:
        raise _Unsupported("layout")
    structs = []
    for chunk in chunks:
        struct: dict[str, Any] = {}
        tags = _TAGS_HEAD
        for name, tag, typed, bare in _MEMBER.findall(chunk):
            if tag:
                struct[intern(name)] = _CONVERT[tag](typed)
                tags += _TAGS_TYPED
            else:
                struct[intern(name)] = intern(bare)
                tags += _TAGS_UNTYPED
        # anything the members do not account for (a nested array or struct, a comment, another type)
        if chunk.count("<") != tags or not _STRUCT_HEAD.match(chunk):
            raise _Unsupported("member")
        structs.append(struct)
    return structs


def parse_response(data: bytes) -> tuple[Any, ...]:
    """Unmarshal an XML-RPC response like ``xmlrpc.client`` does (the params tuple, or Fault raised).

    Arrays of flat structs (what supervisord answers to getAllProcessInfo) by regular expressions, other
    answers from an ElementTree (twice as fast as xmlrpc.client's callbacks per tag), anything unusual
    by xmlrpc.client itself. :class:`AnswerRefused` for a DOCTYPE (before any parsing) or values nested
    deeper than :data:`MAX_DEPTH`.
    """
    if b"<!DOCTYPE" in data:  # entities live in a DTD: none is parsed (XML is case sensitive)
        raise AnswerRefused("a DOCTYPE in the answer: entities and DTDs are refused")
    try:
        return (_flat_structs(data),)
    except (_Unsupported, ValueError):  # ValueError: a bad number or encoding, the full parsers say it
        pass
    _check_nesting(data)  # before a parser spends seconds on 100 000 levels
    try:
        root = ElementTree.fromstring(data)
        if root.tag != "methodResponse" or len(root) != 1:
            raise _Unsupported(root.tag)
        body = root[0]
        if body.tag == "fault" and len(body) == 1:
            fault = _value(body[0])
            if isinstance(fault, dict) and {"faultCode", "faultString"} <= fault.keys():
                raise Fault(fault["faultCode"], fault["faultString"])
            raise _Unsupported("fault")
        if body.tag != "params" or any(len(param) != 1 or param[0].tag != "value" for param in body):
            raise _Unsupported(body.tag)
        return tuple(_value(param[0]) for param in body)
    except (Fault, AnswerRefused):
        raise
    except Exception:
        if has_forbidden(data):  # control characters of a coloured log: see cluster/xmlchars.py
            return restore(_shallow(_unmarshal(shelter(data))))
        return _shallow(_unmarshal(data))


def _unmarshal(data: bytes) -> tuple[Any, ...]:
    """xmlrpc.client's own parse: its errors and rare types as they are there (its Fault as ``rpc.Fault``)."""
    import xmlrpc.client

    parser, unmarshaller = xmlrpc.client.getparser()
    try:
        parser.feed(data)
        parser.close()
        return tuple(unmarshaller.close())
    except xmlrpc.client.Fault as fault:
        raise Fault(fault.faultCode, fault.faultString) from None


#: an array or struct tag opening or closing (a parser accepts spaces or attributes before its ">")
_NESTING_TAG = re.compile(rb"<(/?)(?:array|struct)[\s>/]")


def _check_nesting(data: bytes) -> None:
    """:class:`AnswerRefused` as soon as arrays and structs open deeper than :data:`MAX_DEPTH` (a scan
    of the tags, stopped at the first level too deep: a hostile nesting is refused in microseconds)."""
    depth = 0
    for match in _NESTING_TAG.finditer(data):
        depth += -1 if match.group(1) else 1
        if depth > MAX_DEPTH:
            raise AnswerRefused(f"the answer nests values deeper than {MAX_DEPTH} levels")


def _shallow(params: tuple[Any, ...]) -> tuple[Any, ...]:
    """``params`` when no value nests deeper than :data:`MAX_DEPTH`, else :class:`AnswerRefused`
    (walked with a stack: a hostile nesting must not end in RecursionError)."""
    stack: list[tuple[Any, int]] = [(value, 0) for value in params]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            if depth >= MAX_DEPTH:
                raise AnswerRefused(f"the answer nests values deeper than {MAX_DEPTH} levels")
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return params
