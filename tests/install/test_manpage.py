# SPDX-License-Identifier: MIT
"""batchkey(1) against the CLI's own help: the commands, options, environment variables and exit
codes of `batchkey --help` and of every `batchkey COMMAND --help` must be those of the man page,
and the other way round; every variable the CLI's sources read by name must have an entry in
the man page's ENVIRONMENT section. Then man's and lexgrog's own checks (lintian runs the same).

    python3 tests/install/test_manpage.py --bin build/host/batchkey --man boards/linux/batchkey.1 \
        [--sources boards/common boards/linux]

Conventions the parser relies on: commands are the .TP tags of COMMANDS, exit codes those of
EXIT STATUS, variables those of ENVIRONMENT; options and variable names are read from the whole
page except .EX blocks (where other programs' options may appear)."""

import argparse
import os
import re
import shutil
import subprocess
import sys

LONG_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
SHORT_OPTION = re.compile(r"(?<![\w-])-[a-zA-Z](?![\w-])")
VARIABLE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b(?:https?|no|all)_proxy\b")
# Names the CLI reads by a literal name: bk_cli_setting(option, "NAME") and getenv("NAME").
READ = re.compile(r'\b(?:bk_cli_setting\s*\([^,()]*,|getenv\s*\()\s*"([A-Za-z_][A-Za-z0-9_]*)"')

# In the man page and not in --help, on purpose; anything else there must be in --help.
MAN_ONLY = {
    "BATCHKEY_BATCH_API_VERSION": "a newer Batch data-plane api-version for rotate's proof: "
    "rarely needed, too long a story for --help",
}
# Read by the sources but not a user's setting.
NOT_SETTINGS = {
    "BATCHKEY_CRASH_AT": "the crash-test build's crash points (tests only)",
}


def run_help(binary, *args):
    proc = subprocess.run([binary, *args, "--help"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"test_manpage.py: {binary} {' '.join(args)} --help exited {proc.returncode}: "
                 f"{proc.stderr.strip()}")
    return proc.stdout


def help_texts(binary):
    main = run_help(binary)
    commands = []
    block = re.search(r"^commands:\n(.*?)\n\n", main, re.S | re.M)
    if block is None:
        sys.exit("test_manpage.py: no 'commands:' block in batchkey --help")
    for line in block.group(1).splitlines():
        m = re.match(r"  ([a-z][a-z-]*)\s{2,}\S", line)
        if m:
            commands.append(m.group(1))
    texts = [main] + [run_help(binary, c) for c in commands]
    exits = set()
    m = re.search(r"^exit codes:(.*)", main, re.S | re.M)
    if m is None:
        sys.exit("test_manpage.py: no 'exit codes:' paragraph in batchkey --help")
    for code in re.findall(r"(?:^|[;:])\s*(\d+)\s", ":" + m.group(1)):
        exits.add(code)
    return commands, texts, exits


def deroff(text):
    """One roff text line as plain text (the escapes this page uses)."""
    text = re.sub(r"\\f(?:\[[A-Z]*\]|[BIRP])", "", text)
    for escape, plain in (("\\-", "-"), ("\\&", ""), ("\\(aq", "'"), ("\\(dq", '"'),
                          ("\\ ", " "), ("\\e", "\\")):
        text = text.replace(escape, plain)
    return text


def macro_text(args):
    """The words of a macro's arguments, quotes removed."""
    return " ".join(a if not a.startswith('"') else a.strip('"')
                    for a in re.findall(r'"[^"]*"|\S+', args))


def parse_man(path):
    with open(path, encoding="utf-8") as f:
        raw = f.read().replace("\\\n", "")  # escaped newlines join lines
    sections = {}
    section = None
    commands, exits, environment = [], set(), set()
    text = []  # the page outside .EX blocks, as plain text
    in_example = False
    want_tag = False
    depth = 0  # .RS nesting: the tags of a nested list are not the section's own
    for line in raw.splitlines():
        if line.startswith('.\\"'):
            continue
        if line.startswith("."):
            name, _, args = line[1:].partition(" ")
            if name == "EX":
                in_example = True
            elif name == "EE":
                in_example = False
            elif name == "SH":
                section = macro_text(args)
                sections[section] = True
                depth = 0
            elif name == "RS":
                depth += 1
            elif name == "RE":
                depth -= 1
            elif name == "TP":
                want_tag = depth == 0
                continue
            plain = deroff(macro_text(args)) if name in (
                "B", "I", "BR", "RB", "BI", "IB", "IR", "RI", "SH", "SS") else ""
            # Alternating macros glue their words: .BR \-\-x , -> "--x,".
            if name in ("BR", "RB", "BI", "IB", "IR", "RI"):
                plain = "".join(deroff(a.strip('"')) for a in re.findall(r'"[^"]*"|\S+', args))
        else:
            plain = deroff(line)
        if want_tag and plain:
            want_tag = False
            words = plain.split()
            if section == "COMMANDS":
                commands.append(words[0])
            elif section == "EXIT STATUS":
                exits.add(words[0])
            elif section == "ENVIRONMENT":
                environment.update(w.strip(",") for w in words)
        if not in_example:
            text.append(plain)
    return sections, commands, exits, environment, "\n".join(text)


def options_in(text):
    return set(LONG_OPTION.findall(text)) | set(SHORT_OPTION.findall(text))


def variables_in(text):
    return set(VARIABLE.findall(text))


def read_by_sources(dirs):
    names = set()
    for top in dirs:
        for root, _, files in os.walk(top):
            for name in files:
                if name.endswith(".c"):
                    with open(os.path.join(root, name), encoding="utf-8") as f:
                        names.update(READ.findall(f.read()))
    return names


def lint(path, failures):
    """What lintian asks of a man page: groff quiet, and a whatis entry lexgrog can read."""
    for tool, package in (("man", "man-db"), ("lexgrog", "man-db")):
        if shutil.which(tool) is None:
            failures.append(f"{tool} not found: install Debian's {package}")
            return
    env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
    proc = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", path],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0 or proc.stderr.strip():
        failures.append(f"man --warnings: status {proc.returncode}: {proc.stderr.strip()}")
    proc = subprocess.run(["lexgrog", path], capture_output=True, text=True, check=False)
    if proc.returncode != 0 or "batchkey - " not in proc.stdout:
        failures.append(f"lexgrog finds no whatis entry: {proc.stdout.strip()} "
                        f"{proc.stderr.strip()}")


def compare(what, in_help, in_man, failures, man_only=()):
    missing = sorted(in_help - in_man)
    extra = sorted(in_man - in_help - set(man_only))
    if missing:
        failures.append(f"{what} in --help, not in the man page: {', '.join(missing)}")
    if extra:
        failures.append(f"{what} in the man page, not in --help: {', '.join(extra)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--man", required=True)
    parser.add_argument("--sources", nargs="*", default=[])
    args = parser.parse_args()

    failures = []
    help_commands, texts, help_exits = help_texts(args.bin)
    help_text = "\n".join(texts)
    sections, man_commands, man_exits, environment, man_text = parse_man(args.man)
    for needed in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "ENVIRONMENT",
                   "FILES", "EXIT STATUS"):
        if needed not in sections:
            failures.append(f"the man page has no {needed} section")

    compare("commands", set(help_commands), set(man_commands), failures)
    if len(set(man_commands)) != len(man_commands):
        failures.append(f"a command is described twice in COMMANDS: {man_commands}")
    compare("options", options_in(help_text), options_in(man_text), failures)
    compare("environment variables", variables_in(help_text), variables_in(man_text), failures,
            MAN_ONLY)
    compare("exit codes", help_exits, man_exits, failures)

    # Every variable the CLI reads by a literal name needs an ENVIRONMENT entry.
    read = read_by_sources(args.sources) - set(NOT_SETTINGS)
    unlisted = sorted(read - environment)
    if unlisted:
        failures.append("read by the sources, no entry in ENVIRONMENT: " + ", ".join(unlisted))
    stale = sorted(n for n in MAN_ONLY if n in variables_in(help_text))
    if stale:
        print(f"test_manpage.py: note: now in --help too, drop from MAN_ONLY: {', '.join(stale)}")

    # The page's version (.TH's fourth field) is the program's.
    with open(args.man, encoding="utf-8") as f:
        th = re.search(r'^\.TH \S+ \S+ \S+ "([^"]*)"', f.read(), re.M)
    version = subprocess.run([args.bin, "--version"], capture_output=True, text=True,
                             check=False).stdout.split("(")[0].strip()
    if th is None or th.group(1) != version:
        failures.append(f".TH names {th.group(1) if th else 'no version'}, --version says "
                        f"{version}")

    lint(args.man, failures)
    for failure in failures:
        print(f"test_manpage.py: FAIL: {failure}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"test_manpage.py: ok ({len(help_commands)} commands, "
          f"{len(options_in(help_text))} options, {len(variables_in(help_text))} variables, "
          f"{len(help_exits)} exit codes, {len(environment)} ENVIRONMENT entries)")


if __name__ == "__main__":
    main()
