#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs a README's marked shell snippets, as written, against the local Azure emulator.

    python3 tests/readme/run_snippets.py [--bin-dir DIR] [--timeout S] [README]

README defaults to the repository's README.md, DIR to build/host (the batchkey CLI). A snippet
is a code block whose line right before it is exactly (indentation aside)

    <!-- test: emulator -->

A fenced block (``` or ~~~, no info string or sh, shell, bash) or an indented block (four
columns more than the marker; the common indentation is removed) both count. Any other line
that starts with `<!-- test:`, and a marker not followed by a code block, are errors, and so is
a README with no marked block at all: a run that tests nothing fails.

The emulator is started with tests/emulator/serve.sh, the script behind `make emulator`, in
the background: the runner waits for its env file, and at the end stops it with SIGINT as a
person's Ctrl-C would, and checks that it exited 0, removed the env file and its PKI, and no
longer listens.

Each snippet runs with `sh -eu` in a fresh temporary directory laid out like the repository's
root (its top-level entries are symbolic links to the repository's, but build/ holds only
build/emulator.env, the running emulator's env file, and build/host, the --bin-dir), so that the
README's own paths (`. build/emulator.env`, `build/host/batchkey`) are right and a snippet's
files land in the temporary directory. DIR comes first on PATH, so `batchkey ...` works as
written. The environment holds no AZURE_* or BATCHKEY_* variable from the caller (nothing can
reach a real Azure), HOME is a fresh directory, and before each snippet the runner sources the
env file the way the README tells a person to (`. build/emulator.env`). Like a terminal session,
the exported environment a snippet leaves behind is the next snippet's environment. Commands
are echoed as the shell reads them (sh -v), with their output, as they run.

A snippet passes when it exits 0, and, for every line of it of the form
`eval "$(CMD)"` where CMD holds `-o env` or `--output env`, the variables CMD prints are
exported: child processes of the snippet see them. To learn the names, the runner runs CMD
once before the snippet, after `. build/emulator.env` (with `regenerate` read as `keys`, which
prints the same variables, so nothing is regenerated twice); the snippet then starts without those variables, as in a fresh terminal, so
that only its eval line can have exported them. On failure the runner names the failing
snippet by its README line, repeats it with its output, and exits 1 (2 for a usage error).
"""
import argparse
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SERVE = os.path.join(ROOT, "tests", "emulator", "serve.sh")
MARKER = "<!-- test: emulator -->"
MARKER_LIKE = re.compile(r"^\s*<!--\s*test\s*:")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^\s`]*)[^`]*$")
SHELL_INFO = ("", "sh", "shell", "bash")
EVAL_ENV = re.compile(r"\beval\s+\"?\$\(([^()]*(?:--output[ =]|-o\s*)env\b[^()]*)\)")
START_TIMEOUT = 60
STOP_TIMEOUT = 20
# Variables the shell sets for itself: not carried from one snippet to the next.
SHELL_OWN = ("PWD", "OLDPWD", "SHLVL", "_")


class Block:
    def __init__(self, line, text):
        self.line = line  # 1-based README line right after the marker
        self.text = text


class ReadmeError(Exception):
    pass


def indent_of(line):
    prefix = line[:len(line) - len(line.lstrip(" \t"))]
    return len(prefix.expandtabs(4))


def dedent(line, columns):
    """line without its first `columns` columns of indentation (tabs count to the next 4)."""
    body = line.lstrip(" \t")
    prefix = line[:len(line) - len(body)].expandtabs(4)
    return prefix[min(columns, len(prefix)):] + body


def extract_blocks(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, errors = [], []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence and line.strip() != MARKER:
            # An unmarked fenced block: skip it whole, so that text inside it is never a marker.
            end = closing_fence(lines, i + 1, fence.group(2))
            i = (end if end is not None else len(lines)) + 1
            continue
        if MARKER_LIKE.match(line) and line.strip() != MARKER:
            errors.append("%s:%d: not the marker %s: %s" % (path, i + 1, MARKER, line.strip()))
        if line.strip() != MARKER:
            i += 1
            continue
        where = "%s:%d" % (path, i + 1)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        fence = FENCE.match(nxt)
        if fence:
            info = fence.group(3).lower()
            if info not in SHELL_INFO:
                errors.append("%s: the marked block is ```%s, not a shell snippet" % (where, info))
            end = closing_fence(lines, i + 2, fence.group(2))
            if end is None:
                errors.append("%s: the marked block's fence is never closed" % where)
                break
            columns = indent_of(nxt)
            text = "\n".join(dedent(x, columns) for x in lines[i + 2:end])
            blocks.append(Block(i + 2, text))
            i = end + 1
            continue
        if nxt.strip() and indent_of(nxt) >= indent_of(line) + 4:
            need = indent_of(line) + 4
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or indent_of(lines[j]) >= need):
                j += 1
            body = lines[i + 1:j]
            while body and not body[-1].strip():
                body.pop()
            columns = min(indent_of(x) for x in body if x.strip())
            blocks.append(Block(i + 2, "\n".join(dedent(x, columns) for x in body)))
            i = j
            continue
        errors.append("%s: the marker is not followed, on the next line, by a code block "
                      "(``` fence, or indented 4 more than the marker)" % where)
        i += 1
    if errors:
        raise ReadmeError("\n".join(errors))
    return blocks


def closing_fence(lines, start, opening):
    pattern = re.compile(r"^\s*%s{%d,}\s*$" % (re.escape(opening[0]), len(opening)))
    for j in range(start, len(lines)):
        if pattern.match(lines[j]):
            return j
    return None


def say(text=""):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def default_sigint():
    # A shell cannot trap a signal that was ignored when it started (as SIGINT is in the
    # background jobs of a non-interactive shell): give the emulator script a normal SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def parse_env_file(path):
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = shlex.split(line, comments=True)
            if len(words) == 2 and words[0] == "export" and "=" in words[1]:
                name, value = words[1].split("=", 1)
                values[name] = value
    return values


def listening(url):
    port = int(url.rsplit(":", 1)[1])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


class Emulator:
    """serve.sh (`make emulator`) in the background, its output in a file."""

    def __init__(self, work):
        self.env_file = os.path.join(work, "emulator.env")
        self.out_path = os.path.join(work, "serve.out")
        self.out = open(self.out_path, "w+", encoding="utf-8")
        self.shown = 0
        self.proc = None
        self.values = {}

    def start(self, env):
        say("=== make emulator: sh tests/emulator/serve.sh %s" % self.env_file)
        self.proc = subprocess.Popen(["sh", SERVE, self.env_file], cwd=ROOT, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=default_sigint)
        deadline = time.monotonic() + START_TIMEOUT
        while not os.path.exists(self.env_file):
            if self.proc.poll() is not None:
                self.show()
                raise RuntimeError("serve.sh exited with %d before writing %s"
                                   % (self.proc.returncode, self.env_file))
            if time.monotonic() > deadline:
                self.show()
                raise RuntimeError("serve.sh wrote no %s in %d s" % (self.env_file, START_TIMEOUT))
            time.sleep(0.05)
        time.sleep(0.1)  # its banner follows the env file by a few lines
        self.show()
        self.values = parse_env_file(self.env_file)
        missing = [n for n in ("AZURE_AUTHORITY_HOST", "BATCHKEY_ARM_ENDPOINT", "BATCHKEY_CA_FILE")
                   if n not in self.values]
        if missing:
            raise RuntimeError("%s lacks %s" % (self.env_file, ", ".join(missing)))

    def show(self):
        self.out.flush()
        with open(self.out_path, encoding="utf-8", errors="replace") as f:
            f.seek(self.shown)
            text = f.read()
            self.shown = f.tell()
        if text:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()

    def stop(self):
        """SIGINT, as Ctrl-C; returns the problems seen (an empty list when it stopped cleanly)."""
        if self.proc is None:
            return []
        say("=== stopping the emulator: SIGINT to serve.sh (pid %d)" % self.proc.pid)
        problems = []
        if self.proc.poll() is not None:
            problems.append("serve.sh had already exited with %d" % self.proc.returncode)
        else:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append("serve.sh did not stop within %d s of SIGINT" % STOP_TIMEOUT)
            if self.proc.returncode is not None and self.proc.returncode != 0:
                problems.append("serve.sh exited with %d after SIGINT" % self.proc.returncode)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever is left of it
        except OSError:
            pass
        self.proc.wait()
        self.show()
        with open(self.out_path, encoding="utf-8", errors="replace") as f:
            if "emulator stopped" not in f.read():
                problems.append("serve.sh did not say that the emulator stopped")
        if os.path.exists(self.env_file):
            problems.append("serve.sh left %s behind" % self.env_file)
        ca_file = self.values.get("BATCHKEY_CA_FILE")
        if ca_file and os.path.exists(os.path.dirname(ca_file)):
            problems.append("serve.sh left its PKI behind: %s" % os.path.dirname(ca_file))
        for name in ("AZURE_AUTHORITY_HOST", "BATCHKEY_ARM_ENDPOINT"):
            if name in self.values and listening(self.values[name]):
                problems.append("something still listens at %s" % self.values[name])
        self.out.close()
        return problems


def make_layout(directory, bin_dir, env_file):
    """A fresh directory that looks like the repository's root to the README's paths."""
    os.makedirs(os.path.join(directory, "build"))
    for name in sorted(os.listdir(ROOT)):
        if name != "build" and not name.startswith("."):
            os.symlink(os.path.join(ROOT, name), os.path.join(directory, name))
    os.symlink(env_file, os.path.join(directory, "build", "emulator.env"))
    os.symlink(bin_dir, os.path.join(directory, "build", "host"))


def read_env0(path):
    env = {}
    with open(path, "rb") as f:
        for item in f.read().split(b"\0"):
            if b"=" in item:
                name, value = item.split(b"=", 1)
                env[os.fsdecode(name)] = os.fsdecode(value)
    return env


class Runner:
    def __init__(self, args):
        self.args = args
        self.readme_name = os.path.relpath(args.readme)
        if self.readme_name.startswith(".."):
            self.readme_name = args.readme
        self.current = None

    def run_block(self, number, total, block, env, work):
        where = "%s:%d" % (self.readme_name, block.line)
        say()
        say("=== %s, snippet %d of %d (sh -eu, in a fresh directory, after . build/emulator.env)"
            % (where, number, total))
        directory = os.path.join(work, "snippet%d" % number)
        make_layout(directory, self.args.bin_dir, os.path.join(work, "emulator.env"))
        env_out = os.path.join(work, "snippet%d.env" % number)
        script = os.path.join(work, "snippet%d.sh" % number)
        with open(script, "w", encoding="utf-8") as f:
            f.write("__readme_env_out=%s\n" % shlex.quote(env_out))
            f.write("trap '__readme_rc=$?; set +v; if [ $__readme_rc -eq 0 ]; then "
                    "env -0 >\"$__readme_env_out\"; fi; exit $__readme_rc' EXIT\n")
            f.write(". build/emulator.env\n")
            f.write("set -v\n")
            f.write(block.text + "\n")
        started = time.monotonic()
        try:
            evals = self.eval_names(block, env, directory)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            say("--- FAILED: %s" % e)
            return str(e), "", None
        # Those names start unset, as in a fresh terminal: only the eval line can export them.
        start_env = {k: v for k, v in env.items() if not any(k in names for _, names in evals)}
        proc = subprocess.Popen(["sh", "-eu", script], cwd=directory, env=start_env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.current = proc
        output = []

        def pump():
            for raw in iter(proc.stdout.readline, b""):
                text = raw.decode("utf-8", errors="replace")
                output.append(text)
                sys.stdout.write(text)
                sys.stdout.flush()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        problem = None
        try:
            proc.wait(self.args.timeout)
        except subprocess.TimeoutExpired:
            problem = "did not finish within %d s (--timeout)" % self.args.timeout
        kill_group(proc)
        reader.join(5)
        proc.stdout.close()
        self.current = None
        if problem is None and proc.returncode != 0:
            problem = "exited with %d" % proc.returncode
        new_env = None
        if os.path.exists(env_out):
            new_env = read_env0(env_out)
            for name in SHELL_OWN:
                new_env.pop(name, None)
        if problem is None:
            problem = self.check_exports(evals, new_env)
        seconds = time.monotonic() - started
        if problem is None:
            say("--- ok (%.1f s)" % seconds)
        else:
            say("--- FAILED: %s (%.1f s)" % (problem, seconds))
        return problem, "".join(output), new_env

    def eval_names(self, block, env, directory):
        """The variables each `eval "$(CMD --output env ...)"` line of the block sets, by line."""
        found = []
        for line in block.text.split("\n"):
            match = EVAL_ENV.search(line)
            if not match:
                continue
            again = re.sub(r"\bregenerate\b", "keys", match.group(1).strip())
            p = subprocess.run(["sh", "-eu", "-c", ". build/emulator.env\n" + again],
                               cwd=directory, env=env,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=self.args.timeout)
            if p.returncode != 0:
                raise RuntimeError("`%s`, run to learn the names `%s` sets, exited with %d: %s"
                                   % (again, line.strip(), p.returncode, p.stderr.strip()))
            names = []
            for out in p.stdout.split("\n"):
                m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", out)
                if m:
                    names.append(m.group(1))
            if not names:
                raise RuntimeError("`%s` printed no NAME=value line" % again)
            found.append(('eval "$(%s)"' % match.group(1).strip(), names))
        return found

    @staticmethod
    def check_exports(evals, env):
        for line, names in evals:
            if env is None:
                return ("cannot check that `%s` exports: the snippet's environment was not "
                        "captured (did it replace the EXIT trap?)" % line)
            missing = [n for n in names if n not in env]
            if missing:
                return ("`%s` does not export %s: child processes do not see %s (the lines "
                        "need `export`)" % (line, ", ".join(missing),
                                            "it" if len(missing) == 1 else "them"))
            say("--- `%s` exported %s to child processes" % (line, ", ".join(names)))
        return None

    def run(self):
        try:
            blocks = extract_blocks(self.args.readme)
        except ReadmeError as e:
            say(str(e))
            say("FAILED: %s's markers are wrong" % self.readme_name)
            return 1
        if not blocks:
            say("FAILED: %s has no code block marked %s: nothing would be tested"
                % (self.readme_name, MARKER))
            return 1
        say("%s: %d snippet(s) marked %s, run against the emulator with %s first on PATH"
            % (self.readme_name, len(blocks), MARKER, self.args.bin_dir))
        started = time.monotonic()
        work = tempfile.mkdtemp(prefix="batchkey-readme-")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "BATCHKEY_"))}
        env["PATH"] = self.args.bin_dir + os.pathsep + env.get("PATH", "/usr/bin:/bin")
        env["HOME"] = os.path.join(work, "home")
        os.mkdir(env["HOME"])
        emulator = Emulator(work)
        failures = []
        try:
            emulator.start(env)
            for number, block in enumerate(blocks, 1):
                problem, output, new_env = self.run_block(number, len(blocks), block, env, work)
                if problem is not None:
                    failures.append((block, problem, output))
                elif new_env is not None:
                    env = new_env
        except RuntimeError as e:
            failures.append((None, str(e), ""))
        finally:
            if self.current is not None:
                kill_group(self.current)
            stop_problems = emulator.stop()
            shutil.rmtree(work, ignore_errors=True)
        for problem in stop_problems:
            failures.append((None, "make emulator: " + problem, ""))
        seconds = time.monotonic() - started
        say()
        if not failures:
            say("%s: all %d snippet(s) passed against the emulator, which stopped cleanly "
                "(%.1f s)" % (self.readme_name, len(blocks), seconds))
            return 0
        for block, problem, output in failures:
            if block is None:
                say("FAILED: %s" % problem)
                continue
            say("FAILED: the snippet at %s:%d: %s" % (self.readme_name, block.line, problem))
            say("  snippet:")
            for line in block.text.split("\n"):
                say("    " + line)
            say("  output:")
            for line in output.rstrip("\n").split("\n") if output else ["(none)"]:
                say("    " + line)
        failed_blocks = sum(1 for b, _, _ in failures if b is not None)
        say("%s: %d of %d snippet(s) failed (%.1f s)"
            % (self.readme_name, failed_blocks, len(blocks), seconds))
        return 1


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("readme", nargs="?", default=os.path.join(ROOT, "README.md"))
    parser.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "host"),
                        help="put first on PATH and linked as build/host (default build/host)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per snippet")
    args = parser.parse_args(argv)
    args.readme = os.path.abspath(args.readme)
    args.bin_dir = os.path.abspath(args.bin_dir)
    if not os.path.isfile(args.readme):
        parser.error("no such file: %s" % args.readme)
    if not os.path.isdir(args.bin_dir):
        parser.error("no such directory: %s (build the CLI first: make)" % args.bin_dir)
    # SIGTERM (and SIGINT, through KeyboardInterrupt) still stop the emulator on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return Runner(args).run()
    except KeyboardInterrupt:
        say("run_snippets.py: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
