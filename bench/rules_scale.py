"""Benchmark of the rules core at scale (issue: foundation).

A generated rules file with 5,000 applications and 20,000 program elements (plus patterns, models and
aliases). Prints the parse+validate time against a baseline (lxml parsing the same bytes with no schema
and no extraction, same process), and namespec resolutions per second, cold (first resolution of each
namespec) and warm (cached). Aims: load under 1 s, over 100,000 resolutions/s.

Run: python bench/rules_scale.py [--apps 5000] [--programs-per-app 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from supv_cli.rules import Rules, load_documents  # noqa: E402


def generate(apps: int, per_app: int) -> str:
    parts = ['<?xml version="1.0"?>\n<root>',
             '<alias name="servers">s1,s2,s3</alias><alias name="consoles">c1,c2,c3</alias>',
             '<model name="svc"><identifiers>servers</identifiers><start_sequence>2</start_sequence>'
             '<required>true</required><expected_loading>2</expected_loading></model>',
             '<model name="chk"><reference>svc</reference><wait_exit>true</wait_exit></model>']
    for a in range(apps):
        programs = "".join(
            f'<program name="prog_{p}"><reference>{"chk" if p % 2 else "svc"}</reference>'
            f"<start_sequence>{p + 1}</start_sequence></program>" for p in range(per_app - 1))
        programs += '<program pattern="worker_"><identifiers>#,consoles</identifiers></program>'
        parts.append(f'<application name="app_{a:05d}"><start_sequence>{a % 50 + 1}</start_sequence>'
                     f"<starting_strategy>LESS_LOADED</starting_strategy><programs>{programs}</programs>"
                     "</application>")
    parts.append('<application pattern="^dyn_\\d+$"><identifiers>#,consoles</identifiers></application>')
    parts.append("</root>\n")
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=5000)
    parser.add_argument("--programs-per-app", type=int, default=4)
    args = parser.parse_args()
    from lxml import etree

    text = generate(args.apps, args.programs_per_app)
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as handle:
        handle.write(text)
        path = handle.name
    try:
        data = open(path, "rb").read()
        started = time.perf_counter()
        etree.fromstring(data)
        baseline = time.perf_counter() - started

        started = time.perf_counter()
        documents = load_documents([path])
        rules = Rules(documents)
        load_time = time.perf_counter() - started

        namespecs = [(f"app_{a:05d}", f"prog_{p}") for a in range(args.apps)
                     for p in range(args.programs_per_app - 1)]
        namespecs += [(f"app_{a:05d}", f"worker_{a % 7}") for a in range(args.apps)]
        started = time.perf_counter()
        for app, proc in namespecs:
            rules.process_rules(app, proc)
        cold = len(namespecs) / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(3):
            for app, proc in namespecs:
                rules.process_rules(app, proc)
        warm = 3 * len(namespecs) / (time.perf_counter() - started)
    finally:
        os.unlink(path)
    elements = args.apps * args.programs_per_app
    print(f"rules file: {args.apps} applications, {elements} program elements, {len(data) / 1e6:.1f} MB")
    print(f"baseline lxml parse only      : {baseline:.3f} s")
    print(f"supv load (parse+validate+extract): {load_time:.3f} s  ratio to baseline {load_time / baseline:.1f}x"
          f"  (aim < 1 s: {'OK' if load_time < 1 else 'MISSED'})")
    print(f"resolutions/s cold            : {cold:,.0f}  (aim > 100,000: {'OK' if cold > 100_000 else 'MISSED'})")
    print(f"resolutions/s warm (cached)   : {warm:,.0f}  ratio warm/cold {warm / cold:.1f}x")


if __name__ == "__main__":
    main()
