#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: what one `batchkey regenerate` costs, beside the same job done with curl and jq.

    tests/emulator/with_emulator.sh python3 tests/bench/bench.py --out DIR [--runs N]
        [--static BATCHKEY-STATIC] [--musl BATCHKEY-MUSL] [--replay BK_REPLAY] BATCHKEY

Against the local emulator (the variables with_emulator.sh exports):
- time: RUNS alternating runs of each column (batchkey; batchkey with a state directory warmed
  by one earlier run, whose TLS sessions it may resume; the static build; the musl build, plain
  and with a state directory; the curl job), each
  under /usr/bin/time -v: median wall, user+sys CPU and peak RSS, and their ratios to curl's;
- wire: a few more runs of each through a byte-counting relay (wire_meter.py), kept out of the
  timed ones: TLS handshakes and how many resumed (the emulator's log), bytes each way;
- instructions (valgrind's callgrind): the core's own work per regenerate over scripted streams
  (bk_replay, at two iteration counts so that start-up cancels out), and per TLS handshake of
  the CLI (everything under mbedtls_ssl_handshake, over the handshakes of that run).
Prints a table and writes it to DIR/results.txt, with every figure in DIR/results.json. A
figure never fails the bench; a command that fails does. Standard library only.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wire_meter import WireMeter  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CURL_JOB = os.path.join(HERE, "curl_regenerate.sh")
API_VERSION = "2024-07-01"
ARM_SCOPE = "https://management.azure.com/.default"
# The figures to report against.
TARGET_RSS, TARGET_CPU, TARGET_CORE = 1 / 8, 1 / 10, 0.01
JOB_OPS = ("token", "regenerateKeys")


class BenchError(Exception):
    pass


def median(values):
    return statistics.median(values) if values else None


# --- the emulator --------------------------------------------------------------------------------
class Emulator:
    def __init__(self, env):
        self.env = env
        self.ctx = ssl.create_default_context(cafile=env["BATCHKEY_CA_FILE"])
        self.login = urllib.parse.urlsplit(env["AZURE_AUTHORITY_HOST"])
        self.arm = urllib.parse.urlsplit(env["BATCHKEY_ARM_ENDPOINT"])

    def admin(self, method, path, body=None):
        conn = http.client.HTTPSConnection(self.arm.hostname, self.arm.port, context=self.ctx,
                                           timeout=30)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None)
            response = conn.getresponse()
            raw = response.read()
            if response.status >= 300:
                raise BenchError(f"emulator {method} {path}: HTTP {response.status}")
            return json.loads(raw) if raw else None
        finally:
            conn.close()

    def clear_log(self):
        self.admin("DELETE", "/_emulator/log")

    def handshakes(self):
        """The TLS connections of the jobs run since clear_log(): those that carried a token
        request or regenerateKeys (not the bench's own admin calls)."""
        log = self.admin("GET", "/_emulator/log")
        job_conns = {e["conn"] for e in log if e["event"] == "request" and e["op"] in JOB_OPS}
        return [e for e in log if e["event"] == "connect" and e["conn"] in job_conns]

    def exchange(self, url, body, headers):
        """One POST over a fresh TLS connection; the raw answer (status line, headers, body)."""
        with socket.create_connection((url.hostname, url.port), timeout=30) as sock, \
                self.ctx.wrap_socket(sock, server_hostname=url.hostname) as tls:
            head = [f"POST {url.path}{'?' + url.query if url.query else ''} HTTP/1.1",
                    f"Host: {url.netloc}", f"Content-Length: {len(body)}"]
            head += [f"{name}: {value}" for name, value in headers.items()]
            tls.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            raw = b""
            while b"\r\n\r\n" not in raw:
                raw += self._recv(tls)
            header_block = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            match = re.search(r"\r\ncontent-length: *(\d+)", header_block, re.I)
            if not match:
                raise BenchError(f"no Content-Length in the answer of {url.path}")
            total = len(header_block) + 4 + int(match.group(1))
            while len(raw) < total:
                raw += self._recv(tls)
            return raw[:total]

    @staticmethod
    def _recv(tls):
        data = tls.recv(65536)
        if not data:
            raise BenchError("the emulator closed before its whole answer")
        return data

    def capture_answers(self):
        """A token answer and a regenerateKeys answer as the emulator sends them, for
        bk_replay."""
        env = self.env
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": env["AZURE_CLIENT_ID"],
            "client_secret": env["AZURE_CLIENT_SECRET"], "scope": ARM_SCOPE}).encode()
        token_url = urllib.parse.urlsplit(
            f"{env['AZURE_AUTHORITY_HOST']}/{env['AZURE_TENANT_ID']}/oauth2/v2.0/token")
        token_answer = self.exchange(token_url, form, {
            "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
        if not token_answer.startswith(b"HTTP/1.1 200"):
            raise BenchError("the emulator refused the bench's token request")
        token = json.loads(token_answer.split(b"\r\n\r\n", 1)[1])["access_token"]
        regenerate_url = urllib.parse.urlsplit(
            f"{env['BATCHKEY_ARM_ENDPOINT']}/subscriptions/{env['AZURE_SUBSCRIPTION_ID']}"
            f"/resourceGroups/{env['BATCHKEY_RESOURCE_GROUP']}/providers/Microsoft.Batch"
            f"/batchAccounts/{env['BATCHKEY_ACCOUNT']}/regenerateKeys?api-version={API_VERSION}")
        regenerate_answer = self.exchange(regenerate_url, b'{"keyName":"Secondary"}', {
            "Content-Type": "application/json", "Accept": "application/json",
            "Authorization": "Bearer " + token})
        if not regenerate_answer.startswith(b"HTTP/1.1 200"):
            raise BenchError("the emulator refused the bench's regenerateKeys")
        return token_answer, regenerate_answer


# --- running the jobs ----------------------------------------------------------------------------
class Column:
    def __init__(self, key, label, argv, env, state_dir=None):
        self.key, self.label, self.argv, self.env, self.state_dir = key, label, argv, env, state_dir
        self.runs = []  # {"wall_ms", "cpu_ms", "rss_kib", "time_user_s", "time_sys_s"}
        self.wire = []  # {"handshakes", "resumed", "tls", "connections", "up", "down"}

    def command(self, overrides=None, state_dir=None):
        """argv and environment, --state-dir given when the column keeps one (state_dir, else
        its own)."""
        argv = list(self.argv)
        if self.state_dir:
            argv[1:1] = ["--state-dir", state_dir or self.state_dir]
        return argv, dict(self.env, **(overrides or {}))


def run(argv, env, what):
    """Runs argv to the end; BenchError, with its stderr, when it fails."""
    result = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            check=False)
    if result.returncode != 0:
        raise BenchError(f"{what} failed (exit {result.returncode}): "
                         f"{result.stderr.decode(errors='replace').strip()}")
    return result


def timed(argv, env, what, scratch):
    """One run under /usr/bin/time -v. GNU time's own figures have 10 ms steps, too coarse for
    a run of about that: CPU and wall come from wait4() on the time process instead (its
    figures and the command's), and the harness's share is taken off afterwards. Peak RSS is
    time's: the largest of the command's processes, any it waited for included."""
    report = os.path.join(scratch, "time.txt")
    errors = os.path.join(scratch, "stderr.txt")
    with open(errors, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", report, *argv], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    fields = {}
    with open(report, encoding="utf-8", errors="replace") as f:
        for line in f:
            name, _, value = line.strip().rpartition(": ")
            fields[name] = value
    if proc.returncode != 0:
        with open(errors, encoding="utf-8", errors="replace") as f:
            raise BenchError(f"{what} failed (exit {proc.returncode}): {f.read().strip()}")
    return {"wall_ms": wall * 1000, "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000,
            "rss_kib": int(fields["Maximum resident set size (kbytes)"]),
            "time_user_s": float(fields["User time (seconds)"]),
            "time_sys_s": float(fields["System time (seconds)"])}


def time_columns(columns, runs, scratch):
    """Alternating runs: column after column, RUNS rounds, after one unmeasured round. The
    harness (/usr/bin/time -v true) takes its turn too, and its medians come off every run."""
    harness = []
    true = shutil.which("true") or "/bin/true"
    for round_number in range(runs + 1):
        for column in columns:
            argv, env = column.command()
            sample = timed(argv, env, column.label, scratch)
            if round_number:
                column.runs.append(sample)
        sample = timed([true], dict(os.environ), "true", scratch)
        if round_number:
            harness.append(sample)
    base_wall = median([h["wall_ms"] for h in harness])
    base_cpu = median([h["cpu_ms"] for h in harness])
    for column in columns:
        for sample in column.runs:
            sample["wall_ms"] = max(0.0, sample["wall_ms"] - base_wall)
            sample["cpu_ms"] = max(0.0, sample["cpu_ms"] - base_cpu)
    return {"wall_ms": base_wall, "cpu_ms": base_cpu}


def wire_columns(columns, emulator, runs, relay_state_dir):
    """Runs through the relay: the emulator's log for the handshakes, the relay for the bytes.
    A state directory of their own is warmed through the relay first: a session belongs to the
    port the client dialled."""
    login_port, arm_port = emulator.login.port, emulator.arm.port
    meter = WireMeter({"login": login_port, "arm": arm_port})
    try:
        emulator.admin("POST", "/_emulator/settings",
                       {"relay_ports": [meter.ports["login"], meter.ports["arm"]]})
        relayed = {"AZURE_AUTHORITY_HOST": f"https://localhost:{meter.ports['login']}",
                   "BATCHKEY_ARM_ENDPOINT": f"https://localhost:{meter.ports['arm']}"}
        for column in columns:
            if column.state_dir:
                argv, env = column.command(relayed, relay_state_dir)
                run(argv, env, column.label + " (warming through the relay)")
        for _ in range(runs):
            for column in columns:
                argv, env = column.command(relayed, relay_state_dir)
                emulator.clear_log()
                meter.reset()
                run(argv, env, column.label + " (through the relay)")
                counts = meter.wait_idle()
                shakes = emulator.handshakes()
                column.wire.append({
                    "handshakes": len(shakes),
                    "resumed": sum(1 for e in shakes if e.get("resumed") is True),
                    "tls": sorted({e.get("tls_version") or "?" for e in shakes}),
                    **counts})
    finally:
        meter.close()


def callgrind_total(out_file):
    with open(out_file, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise BenchError(f"no total in {out_file}")


def callgrind(argv, env, out_file, what, toggle=None):
    options = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}"]
    if toggle:
        options.append(f"--toggle-collect={toggle}")
    run(options + argv, env, what + " under callgrind")
    return callgrind_total(out_file)


def hottest(out_file, count=3):
    """The functions with the largest own share of a callgrind profile."""
    result = subprocess.run(["callgrind_annotate", out_file], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, check=False)
    found = []
    for line in result.stdout.decode(errors="replace").splitlines():
        match = re.match(r"\s*[\d,]+ \(\s*([\d.]+)%\)\s+(\S+)", line)
        if match and "PROGRAM TOTALS" not in line:
            name = match.group(2).rsplit(":", 1)[-1]
            found.append((re.sub(r"^__(mem[a-z]+)_.*", r"\1", name), float(match.group(1))))
    return found[:count]


def core_instructions(replay, answers, iterations, out):
    """Instructions of one regenerate through the core over scripted streams."""
    paths = []
    for name, data in zip(("token-answer.http", "regenerate-answer.http"), answers):
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
    totals = {}
    for n in (iterations, 2 * iterations):
        totals[n] = callgrind([replay, str(n), *paths], dict(os.environ),
                              os.path.join(out, f"callgrind.replay.{n}"), "bk_replay")
    per = (totals[2 * iterations] - totals[iterations]) / iterations
    return {"iterations": [iterations, 2 * iterations], "totals": list(totals.values()),
            "per_regenerate": per,
            "hottest": hottest(os.path.join(out, f"callgrind.replay.{2 * iterations}"))}


def handshake_instructions(column, emulator, out):
    """Instructions under mbedtls_ssl_handshake in one CLI run, per handshake of that run."""
    argv, env = column.command()
    emulator.clear_log()
    total = callgrind(argv, env, os.path.join(out, f"callgrind.{column.key}"), column.label,
                      toggle="mbedtls_ssl_handshake")
    shakes = emulator.handshakes()
    if not shakes:
        raise BenchError(f"{column.label} under callgrind made no TLS handshake")
    return {"total": total, "handshakes": len(shakes),
            "resumed": sum(1 for e in shakes if e.get("resumed") is True),
            "per_handshake": total / len(shakes)}


def stripped_size(path):
    with tempfile.NamedTemporaryFile() as tmp:
        run(["strip", "-o", tmp.name, path], dict(os.environ), "strip")
        return os.path.getsize(tmp.name)


# --- the report ----------------------------------------------------------------------------------
def fmt(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def ratio(value, reference):
    return value / reference if value is not None and reference else None


def report(columns, results, args):
    curl = next(c for c in columns if c.key == "curl")
    plain = next(c for c in columns if c.key == "batchkey")
    bk = [c for c in columns if c is not curl]
    lines = []

    def row(label, values, unit=""):
        lines.append((f"  {label:<32}{unit:>4}" + "".join(f"{v:>12}" for v in values)).rstrip())

    def heading(text, values=()):
        row("", values)
        lines[-1] = text + lines[-1][len(text):]

    def stat(column, key):
        return median([r[key] for r in column.runs])

    def versus_curl(column, key):
        return ratio(stat(column, key), stat(curl, key))

    def wire(column, key):
        return fmt(median([w[key] for w in column.wire]), 0)

    lines.append("make bench: one `batchkey regenerate` against the local emulator, beside the "
                 "same job in curl + jq")
    heading(f"{args.runs} alternating runs each, medians", [c.label for c in columns])
    row("wall", [fmt(stat(c, "wall_ms")) for c in columns], "ms")
    row("user+sys CPU", [fmt(stat(c, "cpu_ms")) for c in columns], "ms")
    row("peak RSS", [fmt(stat(c, "rss_kib"), 0) for c in columns], "KiB")
    for key, label in (("wall_ms", "wall / curl job"), ("cpu_ms", "CPU / curl job"),
                       ("rss_kib", "peak RSS / curl job")):
        row(label, [fmt(versus_curl(c, key), 3) for c in bk])
    sizes = results["binary_stripped_bytes"]
    row("binary, stripped", [fmt(sizes[c.key] / 1024, 0) if c.key in sizes else "-"
                             for c in columns], "KiB")

    heading(f"through a byte-counting relay, {args.wire_runs} runs each, medians")
    for c in columns:
        for w in c.wire:
            w["both"] = w["up"] + w["down"]
    row("TLS handshakes per run", [wire(c, "handshakes") for c in columns])
    row("  resumed", [wire(c, "resumed") for c in columns])
    row("  TLS version", [",".join(v.replace("TLSv", "") for v in c.wire[-1]["tls"])
                          for c in columns])
    row("bytes client -> server", [wire(c, "up") for c in columns])
    row("bytes server -> client", [wire(c, "down") for c in columns])
    row("bytes, both ways", [wire(c, "both") for c in columns])

    core, shakes = results["core"], results["handshake"]
    heading("instructions (callgrind)")
    row("core, one regenerate, no TLS", [fmt(core["per_regenerate"], 0)])
    if core["hottest"]:
        lines[-1] += "   most in " + ", ".join(f"{name} {share:.0f}%"
                                               for name, share in core["hottest"])
    for key, label in (("full", "one TLS handshake"), ("resumed", "one handshake, state dir")):
        if key in shakes:
            row(label, [fmt(shakes[key]["per_handshake"], 0)])
            lines[-1] += (f"   {shakes[key]['handshakes']} handshakes, "
                          f"{shakes[key]['resumed']} resumed")
    core_share = ratio(core["per_regenerate"], shakes["full"]["per_handshake"])
    row("core / one full handshake", [fmt(core_share * 100, 2) + "%"])

    heading("against the issue's targets", ["", "target"])

    results["targets"] = {}

    def target(label, value, goal, met, key=None):
        results["targets"][label] = {"value": value, "target": goal, "met": met}
        row(label, [value, goal])
        lines[-1] += "   " + ("met" if met else "not met")
        if key:
            lines[-1] += " (" + ", ".join(f"{c.label} {fmt(versus_curl(c, key), 3)}"
                                          for c in bk if c is not plain) + ")"

    rss, cpu = versus_curl(plain, "rss_kib"), versus_curl(plain, "cpu_ms")
    target("peak RSS / curl job", fmt(rss, 3), "<= 0.125", rss <= TARGET_RSS, "rss_kib")
    target("CPU / curl job", fmt(cpu, 3), "<= 0.10", cpu <= TARGET_CPU, "cpu_ms")
    target("core / one full handshake", fmt(core_share * 100, 2) + "%", "< 1%",
           core_share < TARGET_CORE)
    warm = next((c for c in columns if c.key == "resumed"), None)
    if warm:
        done = sum(w["resumed"] for w in warm.wire)
        total = sum(w["handshakes"] for w in warm.wire)
        target("later run: handshakes resumed", f"{done} of {total}", "all",
               total > 0 and done == total)
    harness = results["harness"]
    lines += [
        "how: wall and CPU without the harness's own (/usr/bin/time -v true: "
        f"{harness['wall_ms']:.1f} ms wall, {harness['cpu_ms']:.1f} ms CPU).",
        "  Peak RSS: GNU time's, the largest process of the job (curl + jq: sh, curl or jq).",
        "  state dir: --state-dir DIR, warmed by one earlier run." +
        (" static: the CLI linked -static." if "static" in sizes else "") +
        (" musl: linked -static with musl." if "musl" in sizes else ""),
        "  Bytes: TCP payload (TLS records) of both connections. Handshakes: the emulator's log.",
        "  core: bk_replay, the client over scripted streams with the emulator's answers "
        f"({core['iterations'][1]} runs",
        f"  minus {core['iterations'][0]}); a handshake: all under mbedtls_ssl_handshake in "
        "one CLI run, over its handshakes."]
    return "\n".join(lines) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batchkey")
    parser.add_argument("--out", required=True)
    parser.add_argument("--runs", type=int, default=51)
    parser.add_argument("--wire-runs", type=int, default=3)
    parser.add_argument("--static")
    parser.add_argument("--musl", help="the CLI linked statically with musl (BOARD=linux-musl)")
    parser.add_argument("--replay", required=True)
    parser.add_argument("--replay-iterations", type=int, default=100)
    args = parser.parse_args(argv[1:])
    if args.runs < 1 or args.wire_runs < 1 or args.replay_iterations < 1:
        parser.error("--runs, --wire-runs and --replay-iterations take a positive count")
    for tool in ("/usr/bin/time", "valgrind", "callgrind_annotate", "curl", "jq", "strip"):
        if not shutil.which(tool):
            raise BenchError(f"{tool} is missing: make deps installs it")
    os.makedirs(args.out, exist_ok=True)
    emulator = Emulator(os.environ)

    # No state directory for the plain columns, whatever the caller's environment says.
    plain_env = {k: v for k, v in os.environ.items()
                 if k not in ("BATCHKEY_STATE_DIR", "STATE_DIRECTORY")}
    regenerate = ["regenerate", "--key", "secondary"]
    state_dirs = [os.path.join(os.path.abspath(args.out), name)
                  for name in ("state", "state-relay", "state-musl")]
    for path in state_dirs:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, mode=0o700)
    columns = [Column("batchkey", "batchkey", [args.batchkey, *regenerate], plain_env),
               Column("resumed", "state dir", [args.batchkey, *regenerate], plain_env,
                      state_dirs[0])]
    if args.static:
        columns.append(Column("static", "static", [args.static, *regenerate], plain_env))
    if args.musl:
        columns.append(Column("musl", "musl", [args.musl, *regenerate], plain_env))
        columns.append(Column("musl-resumed", "musl, state", [args.musl, *regenerate], plain_env,
                              state_dirs[2]))
    columns.append(Column("curl", "curl + jq", ["sh", CURL_JOB], plain_env))

    started = time.monotonic()
    results = {"runs": args.runs, "wire_runs": args.wire_runs}
    with tempfile.TemporaryDirectory() as scratch:
        results["harness"] = time_columns(columns, args.runs, scratch)
    timed_s = time.monotonic() - started
    wire_columns(columns, emulator, args.wire_runs, state_dirs[1])
    wire_s = time.monotonic() - started - timed_s
    results["core"] = core_instructions(args.replay, emulator.capture_answers(),
                                        args.replay_iterations, args.out)
    # The timed runs warmed the state directory for the direct ports.
    results["handshake"] = {c.key if c.key != "batchkey" else "full":
                            handshake_instructions(c, emulator, args.out)
                            for c in columns if c.key in ("batchkey", "resumed")}
    callgrind_s = time.monotonic() - started - timed_s - wire_s
    results["binary_stripped_bytes"] = {c.key: stripped_size(c.argv[0]) for c in columns
                                        if c.key != "curl"}
    results["columns"] = {c.key: {"label": c.label, "command": c.command()[0], "runs": c.runs,
                                  "wire": c.wire} for c in columns}
    results["seconds"] = {"timed": round(timed_s, 1), "wire": round(wire_s, 1),
                          "callgrind": round(callgrind_s, 1)}

    table = report(columns, results, args)
    table += (f"bench time: {timed_s:.1f} s timed runs, {wire_s:.1f} s relayed runs, "
              f"{callgrind_s:.1f} s callgrind\n")
    sys.stdout.write(table)
    with open(os.path.join(args.out, "results.txt"), "w", encoding="utf-8") as f:
        f.write(table)
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print(f"written to {os.path.join(args.out, 'results.txt')} and results.json")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BenchError as exc:
        sys.stderr.write(f"bench: {exc}\n")
        sys.exit(1)
