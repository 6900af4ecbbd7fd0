#!/usr/bin/env python3
"""Findings of `customs scan` on real text that holds next to no regulated data.

Source code, documentation and logs are what engineers paste into prompts, and a
finding there is a request blocked or redacted for nothing. This samples files from
the corpora below (whatever of them this machine has: sources, documentation,
configuration, logs), scans each with `customs scan`,
and prints the findings per type and per megabyte. Most findings here are false; some
are real (authors' names and addresses in copyright notices, example keys in docs):
`--show TYPE` prints the findings of one type with their surroundings for reading.

    cargo build --release
    python3 bench/false_positives.py --customs target/release/customs
    python3 bench/false_positives.py --corpus logs --show CARD_NUMBER

The sample is seeded: the same files on the same machine give the same sample.
"""

import argparse
import collections
import glob
import json
import os
import random
import subprocess
import sys

HOME = os.path.expanduser("~")

CORPORA = {
    # Rust crates' sources and READMEs (the cargo registry of this machine).
    "rust": [f"{HOME}/.cargo/registry/src/*/**/*.rs", f"{HOME}/.cargo/registry/src/*/**/*.md"],
    # The Python standard library.
    "python": ["/usr/lib/python3*/**/*.py"],
    # npm's own JavaScript, JSON and Markdown.
    "node": [
        "/usr/lib/node_modules/npm/**/*.js",
        "/usr/lib/node_modules/npm/**/*.json",
        "/usr/lib/node_modules/npm/**/*.md",
    ],
    # Debian package documentation: changelogs, READMEs, copyright files.
    "docs": [
        "/usr/share/doc/**/copyright",
        "/usr/share/doc/**/README*",
        "/usr/share/doc/**/NEWS*",
        "/usr/share/doc/**/*.txt",
    ],
    # System configuration.
    "config": ["/etc/**/*"],
    # Package manager logs.
    "logs": ["/var/log/dpkg.log", "/var/log/apt/history.log", "/var/log/alternatives.log"],
}


def files_of(corpus, sample, seed):
    found = set()
    for pattern in CORPORA[corpus]:
        for path in glob.glob(pattern, recursive=True):
            if os.path.isfile(path) and 0 < os.path.getsize(path) <= 2_000_000:
                found.add(path)
    found = sorted(found)
    random.Random(seed).shuffle(found)
    return found[:sample]


def scan(customs, data):
    result = subprocess.run(
        [customs, "scan", "--format", "json"], input=data, capture_output=True, check=False
    )
    # 0: nothing found, 1: findings, anything else: an error.
    if result.returncode not in (0, 1):
        raise RuntimeError(result.stderr.decode(errors="replace")[:200])
    return json.loads(result.stdout)["findings"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customs", default="target/release/customs")
    parser.add_argument("--corpus", action="append", choices=sorted(CORPORA))
    parser.add_argument("--sample", type=int, default=500, help="files per corpus")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", metavar="TYPE", help="print this type's findings in context")
    args = parser.parse_args()

    print("| corpus | files | MB | findings | per MB | by type |")
    print("|---|---|---|---|---|---|")
    for corpus in args.corpus or sorted(CORPORA):
        paths = files_of(corpus, args.sample, args.seed)
        size = 0
        by_type = collections.Counter()
        for path in paths:
            with open(path, "rb") as f:
                data = f.read()
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            size += len(data)
            for finding in scan(args.customs, data):
                by_type[finding["type"]] += 1
                if finding["type"] == args.show:
                    s, e = finding["start"], finding["end"]
                    around = (
                        data[max(0, s - 50) : s].decode(errors="replace")
                        + "[["
                        + data[s:e].decode(errors="replace")
                        + "]]"
                        + data[e : e + 30].decode(errors="replace")
                    )
                    print(f"  {finding['confidence']:.2f} {path}: {around!r}", file=sys.stderr)
        total = sum(by_type.values())
        mb = size / 1e6
        types = ", ".join(f"{t} {n}" for t, n in by_type.most_common())
        per_mb = f"{total / mb:.1f}" if mb else "-"
        print(f"| {corpus} | {len(paths)} | {mb:.1f} | {total} | {per_mb} | {types} |")


if __name__ == "__main__":
    main()
