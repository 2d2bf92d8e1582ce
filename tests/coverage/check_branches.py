# SPDX-License-Identifier: MIT
"""Every branch of the given files taken, but for those the list names with a reason.

    python3 tests/coverage/check_branches.py COVERAGE.json EXPECTED.txt FILE...

COVERAGE.json is gcovr's --json report; EXPECTED.txt has one `path:line reason` a line (# starts
a comment). Prints each branch left and why; fails on one the list does not name, and on a listed
line whose branches are all taken now (the list stays exact).
"""
import json
import sys


def main(report, expected_path, files):
    expected = {}
    with open(expected_path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where, _, reason = line.partition(" ")
            expected[where] = reason.strip()
    with open(report, encoding="utf-8") as f:
        data = json.load(f)
    left = {}
    seen = set()
    for entry in data["files"]:
        path = entry["file"]
        if path not in files:
            continue
        seen.add(path)
        for line in entry["lines"]:
            missed = sum(1 for b in line["branches"] if b["count"] == 0)
            if missed:
                left[f"{path}:{line['line_number']}"] = missed
    failed = False
    for path in files:
        if path not in seen:
            print(f"coverage: no data for {path}")
            failed = True
    print(f"Branches not taken in {', '.join(files)}:")
    for where, missed in sorted(left.items(), key=lambda i: (i[0].split(":")[0], int(i[0].split(":")[1]))):
        reason = expected.get(where)
        source = source_line(where)
        if reason is None:
            print(f"  {where}: {missed} branch(es), not in the list: {source}")
            failed = True
        else:
            print(f"  {where}: {missed} branch(es): {reason}")
    for where in sorted(set(expected) - set(left)):
        if where.split(":")[0] in files:
            print(f"  {where}: listed, but every branch is taken now: remove it from the list")
            failed = True
    if not left:
        print("  none")
    return 1 if failed else 0


def source_line(where):
    path, _, number = where.partition(":")
    with open(path, encoding="utf-8") as f:
        for i, text in enumerate(f, 1):
            if i == int(number):
                return text.strip()
    return ""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
