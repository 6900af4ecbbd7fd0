#!/usr/bin/env python3
"""Scan time of texts built to make the scanner work hard, at growing sizes.

Each shape is one piece of text repeated (or generated) to 256 KB, 1 MB and 4 MB (the
gateway's default body limit) and scanned with `customs scan FILE`. A scanner that
reads one run of text once per anchor in it takes time quadratic in the length: its
4 MB time is then about 16 times its 1 MB time instead of 4. The table flags a shape
whose 4 MB time exceeds 6 times its 1 MB time, or whose 1 MB scan takes over 0.3 s.

    cargo build --release
    python3 bench/worst_case.py --customs target/release/customs

Peak memory (KB) comes from /usr/bin/time when it is installed.
"""

import argparse
import os
import random
import shutil
import subprocess
import tempfile
import time

SIZES = [("256K", 256 * 1024), ("1M", 1 << 20), ("4M", 4 << 20)]


def repeated(unit, before=""):
    def make(size):
        return before + unit * (size // len(unit))

    return make


def distinct_emails(size):
    out, i = [], 0
    while sum(map(len, out)) < size:
        out.append(f"user{i}@example{i % 1000}.com\n")
        i += 1
    return "".join(out)


def name_pairs(size):
    rng = random.Random(1)
    given = ["John", "Mary", "Ahmed", "Priya", "Wei", "Olga"]
    family = ["Smith", "Garcia", "Khan", "Chen", "Patel", "Silva"]
    out, n = [], 0
    while n < size:
        piece = f"{rng.choice(given)} {rng.choice(family)} "
        out.append(piece)
        n += len(piece)
    return "".join(out)


def pem_labels(size):
    # BEGIN lines without END, each with a label of its own.
    out, n, k = [], 0, 0
    while n < size:
        label = "".join(chr(65 + (k // 26**i) % 26) for i in range(4))
        piece = f"-----BEGIN {label} PRIVATE KEY-----\n"
        out.append(piece)
        n += len(piece)
        k += 1
    return "".join(out)


def growing_passwords(size):
    # Found values sharing their first bytes, each longer than the last, then filler
    # that starts like them.
    out, n, k = [], 0, 0
    while n < size // 2:
        piece = "password=abc" + "x" * (k % 400) + "1! "
        out.append(piece)
        n += len(piece)
        k += 1
    out.append("abc " * ((size - n) // 4))
    return "".join(out)


SHAPES = {
    "colons": repeated(":"),
    "hex and colons": repeated("ab:"),
    "sk- repeated": repeated("sk-"),
    "shp repeated": repeated("shp"),
    "password= repeated": repeated("password="),
    # Keys along one long line: each key's line head is read back a bounded stretch.
    "password= keys along one line": repeated("x password=ab "),
    "_pass = keys along one line": repeated("a db_pass =ab "),
    "xoxb- repeated": repeated("xoxb-"),
    "eyJ- repeated": repeated("eyJ-"),
    "sig= repeated": repeated("sig="),
    "AccountKey= repeated": repeated("AccountKey="),
    "service account types in one object": repeated('"type": "service_account", ', "{"),
    "PEM BEGIN without END": repeated("-----BEGIN RSA PRIVATE KEY-----\n"),
    "PEM BEGIN, a label each, without END": pem_labels,
    "webhook prefixes glued": repeated("hooks.slack.com/services/"),
    "titles glued": repeated("Mr."),
    "name words glued": repeated("name:Name:"),
    "hyphenated names": repeated("John-"),
    "mysql -p repeated": repeated("mysql -pS3cret "),
    "lowercase letters": repeated("qwertyuiopasdfghjklzxcvbnm"),
    "name pairs": name_pairs,
    "distinct e-mails": distinct_emails,
    "found values sharing a prefix": growing_passwords,
    "one-digit groups": repeated("1 "),
    "wrapped lines": repeated(
        "Please deposit the refund for the quarterly review into account\nnumber "
    ),
    "wrapped quoted lines": repeated(
        "> Please deposit the refund for the quarterly review into account\n> number "
    ),
    "spaces, then a wrapped line": repeated(" " * 61 + "x y\nzz "),
    "wrapped records: open quotes": repeated('k="' + "v" * 64 + "\n"),
    "wrapped records: CSV rows": repeated("p,q,r\n" + "w" * 60 + ",s\nt,u\n"),
    "wrapped records: table rows": repeated("| h | h | h |\n| " + "c" * 60 + " |\nd | e |\n"),
    "wrapped records: XML text": repeated("<a>" + "t" * 60 + "\nu</a>\n"),
    "HL7 patient segments": repeated("PID|1||A1234^^^H^MR~B5678^^^H^PI||JONES^MARY||19800312|F\n"),
    "HL7 repetitions in one field": repeated("A1234^^^H^MR~", "MSH|^~\\&|A\nPID|1||"),
    "FHIR identifier lists left open": repeated(
        '"identifier": [{"value": "A1234", ', '{"resourceType": "Patient", '
    ),
    "FHIR patients left open": repeated('{"resourceType": "Patient", "identifier": [{"value": "A1", '),
    "FHIR XML patients left open": repeated("<Patient><family value=\"A\"/>", '<Bundle xmlns="http://hl7.org/fhir">'),
    "FHIR XML namespaces": repeated('<Patient xmlns="http://hl7.org/fhir"><identifier>'),
    "name keys glued": repeated("first_name:last_name="),
    "name objects left open": repeated('{"name": {"first": "Ann", '),
    "name labels written as words": repeated("First Last Name: Ann  "),
    "backslashes": repeated("\\", '{\\"a\\":'),
    "escaped quotes, nested": repeated('\\\\\\"k\\\\\\":'),
    "unicode escapes": repeated("\\u00fc"),
    "unicode escapes, high surrogates": repeated("\\ud83d"),
    "escaped line breaks in JSON": repeated("First Name: Ann\\n", '{"k": "'),
    "numbers one a line": repeated("219099998\n"),
    "a column under its name": repeated("219099998\n", "ssn\n"),
    "rules between rows": repeated(" 1 | 219099998\n----+----\n", " id | ssn\n"),
}


def scan(customs, path):
    timer = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    if timer:
        cmd = [timer, "-f", "%M", customs, "scan", path]
    else:
        cmd = [customs, "scan", path]
    started = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    memory = done.stderr.strip().splitlines()[-1] if timer and done.stderr.strip() else "?"
    return elapsed, memory


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customs", default="target/release/customs")
    parser.add_argument("--only", help="shapes whose name contains this")
    args = parser.parse_args()
    print("| shape | 256K | 1M | 4M | 4M / 1M | |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in SHAPES.items():
            if args.only and args.only not in name:
                continue
            cells, times = [], []
            for label, size in SIZES:
                path = os.path.join(tmp, f"{label}.txt")
                with open(path, "w") as f:
                    f.write(make(size))
                elapsed, memory = scan(args.customs, path)
                times.append(elapsed)
                cells.append(f"{elapsed:.2f} s, {memory} KB")
            ratio = times[2] / max(times[1], 1e-3)
            flag = "**check**" if ratio > 6 or times[1] > 0.3 else ""
            print(f"| {name} | {' | '.join(cells)} | {ratio:.1f} | {flag} |", flush=True)


if __name__ == "__main__":
    main()
