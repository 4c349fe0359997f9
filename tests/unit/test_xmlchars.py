"""Control characters (coloured logs) in supervisord's answers survive the XML-RPC parse."""

from __future__ import annotations

import xmlrpc.client
from xml.parsers.expat import ExpatError

import pytest

from supv_cli.cluster.transport import parse_response
from supv_cli.cluster.xmlchars import has_forbidden, restore, shelter

COLOURED = "\x1b[31mred\x1b[0m plain\ttab\x07bell\x00nul\n"  # (a CR comes back as LF: XML line ends)


def answer(value: object) -> bytes:
    """What supervisord sends: xmlrpc.client's marshalling, which leaves control characters raw."""
    return xmlrpc.client.dumps((value,), methodresponse=True).encode("utf-8")


def test_a_raw_control_character_breaks_a_plain_parse():
    with pytest.raises(ExpatError):
        xmlrpc.client.loads(answer(COLOURED))


@pytest.mark.parametrize("value", [COLOURED, [COLOURED, 3, {"description": "\x1bx", "n": 1}], "\uf700 as is"])
def test_parse_response_gives_back_the_exact_text(value):
    assert parse_response(answer(value)) == (value,)


def test_shelter_and_restore_are_exact_inverses_over_every_control():
    text = "".join(chr(code) for code in range(32) if code != 13) + "é"
    data = answer(text)
    assert has_forbidden(data) and not has_forbidden(shelter(data))
    assert restore(xmlrpc.client.loads(shelter(data))[0][0]) == text
