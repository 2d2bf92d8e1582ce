#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""batchkey through an HTTP proxy: Debian's tinyproxy, started and stopped here, with basic
authentication, against the emulator. TLS runs end to end inside the CONNECT tunnel (the
emulator's certificate is verified through it), NO_PROXY's rules pick what goes direct, a
refusing proxy (403, 407) ends with exit 5 and its status, and the proxy's password never
appears in what batchkey prints, even with -v. A small fake proxy written here answers what
tinyproxy never would (not HTTP, bytes after the answer).

    python3 tests/integration/test_proxy.py --bin build/host/batchkey [--runner CMD] [TEST...]
"""
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))
import azure_emulator as emu  # noqa: E402
import emulator_case  # noqa: E402
import emulator_env  # noqa: E402

ARGS = None
USER = "gateway"
PASSWORD = "pr0xy-Pass"
EXIT_USAGE = 2
EXIT_NETWORK = 5
PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "http_proxy",
                   "HTTP_PROXY", "all_proxy", "ALL_PROXY")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tinyproxy:
    """tinyproxy in the foreground on a free loopback port, logging every CONNECT; basic
    authentication when auth is set, CONNECT allowed only to connect_ports when given."""

    def __init__(self, workdir, auth=True, connect_ports=None):
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        os.chmod(workdir, 0o777)  # tinyproxy may drop to another user for its log
        self.log_path = os.path.join(workdir, "tinyproxy.log")
        lines = [f"Port {free_port()}", "Listen 127.0.0.1", "Timeout 30", "MaxClients 20",
                 "Allow 127.0.0.1", "LogLevel Connect", f'LogFile "{self.log_path}"',
                 f'PidFile "{os.path.join(workdir, "tinyproxy.pid")}"']
        if auth:
            lines.append(f"BasicAuth {USER} {PASSWORD}")
        for port in connect_ports or ():
            lines.append(f"ConnectPort {port}")
        self.port = int(lines[0].split()[1])
        config = os.path.join(workdir, "tinyproxy.conf")
        with open(config, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        self.process = subprocess.Popen(["tinyproxy", "-d", "-c", config],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("tinyproxy did not start: "
                                       + self.process.stderr.read().decode(errors="replace"))
                time.sleep(0.05)

    def url(self, user=USER, password=PASSWORD):
        auth = f"{user}:{password}@" if user else ""
        return f"http://{auth}127.0.0.1:{self.port}"

    def connects(self):
        """The host:port of every CONNECT tinyproxy logged so far."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            return []
        return [line.split("CONNECT ", 2)[2].split()[0] for line in text.splitlines()
                if "): CONNECT " in line]

    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def clear_log(self):
        open(self.log_path, "w", encoding="utf-8").close()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()


class FakeProxy:
    """A proxy that reads the CONNECT request and answers with the given bytes, then holds the
    connection until the client closes it."""

    def __init__(self, answer):
        self.answer = answer
        self.requests = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    self.requests.append(data)
                    conn.sendall(self.answer)
                    while conn.recv(4096):
                        pass
                except OSError:
                    pass

    def stop(self):
        self.sock.close()


class ProxyTest(emulator_case.EmulatorTestCase):
    TMP_PREFIX = "batchkey-proxy-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.proxy = Tinyproxy(os.path.join(cls.tmp, "tinyproxy"))

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.proxy.clear_log()

    def env(self, **overrides):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             **emulator_env.settings(self.emulator.login_port, self.emulator.arm_port,
                                     os.path.join(self.pki, "ca.crt"))}
        for name in PROXY_VARIABLES:
            e.pop(name, None)
        for k, v in overrides.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def cli(self, *args, env):
        p = subprocess.run([*ARGS.runner, ARGS.bin, *args], env=env, capture_output=True,
                           text=True, timeout=120)
        self.assert_no_proxy_secret(p.stdout + p.stderr)
        return p

    def assert_no_proxy_secret(self, text):
        self.assertNotIn(PASSWORD, text)
        self.assertNotIn(base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(), text)
        self.assertNotIn(emu.DEFAULT_CLIENT_SECRET, text)

    def emulator_targets(self):
        return {f"localhost:{self.emulator.login_port}", f"localhost:{self.emulator.arm_port}"}

    def dead_proxy(self):
        """A proxy URL nothing listens on: using it would fail the run."""
        return f"http://127.0.0.1:{free_port()}"

    # --- through the proxy ---

    def test_regenerate_through_the_proxy_with_basic_auth(self):
        before = self.emulator.regenerate_count()
        p = self.cli("-v", "regenerate", "--key-name", "secondary",
                     env=self.env(HTTPS_PROXY=self.proxy.url()))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.emulator.regenerate_count(), before + 1)
        self.assertEqual(set(self.proxy.connects()), self.emulator_targets())
        # The proxy saw the tunnels, never a request inside them.
        self.assertNotIn("regenerateKeys", self.proxy.log_text())
        self.assertNotIn("oauth2", self.proxy.log_text())

    def test_lowercase_variable_and_encoded_password(self):
        encoded = "".join("%%%02X" % ord(c) for c in PASSWORD)
        p = self.cli("show", env=self.env(https_proxy=self.proxy.url(password=encoded)))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(set(self.proxy.connects()), self.emulator_targets())

    def test_option_wins_over_the_environment(self):
        p = self.cli("show", "--proxy", self.proxy.url(),
                     env=self.env(HTTPS_PROXY=self.dead_proxy(), https_proxy=self.dead_proxy()))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(set(self.proxy.connects()), self.emulator_targets())

    def test_empty_option_turns_the_proxy_off(self):
        p = self.cli("show", "--proxy", "", env=self.env(HTTPS_PROXY=self.dead_proxy()))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.proxy.connects(), [])

    def test_tls_is_verified_through_the_tunnel(self):
        # Another CA than the emulator's: the certificate that comes through the tunnel is the
        # emulator's own, and it is checked end to end.
        other = os.path.join(self.tmp, "other-pki")
        if not os.path.isdir(other):
            emulator_case.make_pki(other)
        p = self.cli("show", env=self.env(HTTPS_PROXY=self.proxy.url(),
                                          BATCHKEY_CA_FILE=os.path.join(other, "ca.crt")))
        self.assertEqual(p.returncode, EXIT_NETWORK, p.stderr)
        self.assertIn(f"TLS handshake with localhost:{self.emulator.login_port} failed", p.stderr)
        self.assertIn(f"through the proxy 127.0.0.1:{self.proxy.port}", p.stderr)
        self.assertEqual(self.proxy.connects(), [f"localhost:{self.emulator.login_port}"])
        self.assertEqual(self.emulator.requests(), [])

    # --- NO_PROXY ---

    def test_no_proxy_names_the_hosts_reached_directly(self):
        arm = f"localhost:{self.emulator.arm_port}"
        login = f"localhost:{self.emulator.login_port}"
        cases = [
            ("localhost", set()),
            ("*", set()),
            (".localhost", set()),
            ("LOCALHOST.", set()),
            ("example.com, localhost", set()),
            (arm, {login}),                       # that port only
            ("localhost:1", {login, arm}),        # another port
            ("127.0.0.1", {login, arm}),          # names are not resolved
            ("calhost", {login, arm}),            # a suffix, but not a whole label
            ("", {login, arm}),
        ]
        for no_proxy, proxied in cases:
            with self.subTest(NO_PROXY=no_proxy):
                self.proxy.clear_log()
                p = self.cli("show", env=self.env(HTTPS_PROXY=self.proxy.url(),
                                                  NO_PROXY=no_proxy))
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(set(self.proxy.connects()), proxied)

    def test_lowercase_no_proxy_comes_first(self):
        p = self.cli("show", env=self.env(HTTPS_PROXY=self.dead_proxy(), no_proxy="localhost",
                                          NO_PROXY="example.com"))
        self.assertEqual(p.returncode, 0, p.stderr)

    # --- refusals ---

    def test_missing_credentials_is_407(self):
        p = self.cli("-v", "regenerate", "--key-name", "primary",
                     env=self.env(HTTPS_PROXY=self.proxy.url(user=None)))
        self.assertEqual(p.returncode, EXIT_NETWORK, p.stderr)
        line = p.stderr.strip().splitlines()[-1]
        self.assertIn(f"the proxy 127.0.0.1:{self.proxy.port}", line)
        self.assertIn("refused it: HTTP 407", line)
        self.assertIn("proxy authentication", line)
        self.assertEqual(self.emulator.requests(), [])
        self.assertEqual(self.emulator.connections(), [])

    def test_wrong_password_is_refused(self):
        p = self.cli("show", env=self.env(HTTPS_PROXY=self.proxy.url(password="not-it")))
        self.assertEqual(p.returncode, EXIT_NETWORK, p.stderr)
        self.assertRegex(p.stderr, r"refused it: HTTP 40[17]")
        self.assertNotIn("not-it", p.stderr)
        self.assertEqual(self.emulator.connections(), [])

    def test_forbidden_port_is_403(self):
        strict = Tinyproxy(os.path.join(self.tmp, "strict"), auth=False, connect_ports=[1])
        try:
            p = self.cli("regenerate", "--key-name", "primary",
                         env=self.env(HTTPS_PROXY=f"http://127.0.0.1:{strict.port}"))
        finally:
            strict.stop()
        self.assertEqual(p.returncode, EXIT_NETWORK, p.stderr)
        self.assertIn("refused it: HTTP 403", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(self.emulator.connections(), [])

    def test_unreachable_proxy(self):
        dead = self.dead_proxy()
        p = self.cli("show", env=self.env(HTTPS_PROXY=dead))
        self.assertEqual(p.returncode, EXIT_NETWORK, p.stderr)
        self.assertIn(f"TCP connect to the proxy {dead[len('http://'):]} failed", p.stderr)

    def test_answers_no_proxy_gives(self):
        cases = [(b"SSH-2.0-OpenSSH_9.2\r\n", "not HTTP"),
                 (b"HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03", "not HTTP"),
                 (b"HTTP/1.1 200 OK\n\n", "not HTTP"),
                 (b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", "HTTP 502")]
        for answer, expected in cases:
            with self.subTest(answer=answer):
                fake = FakeProxy(answer)
                try:
                    p = self.cli("show", env=self.env(HTTPS_PROXY=f"127.0.0.1:{fake.port}"))
                finally:
                    fake.stop()
                self.assertEqual(p.returncode, EXIT_NETWORK, p.stderr)
                self.assertIn(expected, p.stderr)
                self.assertEqual(p.stdout, "")
                self.assertEqual(self.emulator.connections(), [])
                self.assertTrue(fake.requests[0].startswith(
                    f"CONNECT localhost:{self.emulator.login_port} HTTP/1.1\r\n".encode()))

    def test_invalid_proxy_urls_send_nothing(self):
        for url in ("https://127.0.0.1:3128", "socks5://127.0.0.1:1080", "http://host:99999",
                    f"http://{USER}:{PASSWORD}@host:3128/path", "http://a%zz@host"):
            with self.subTest(url=url):
                p = self.cli("regenerate", "--key-name", "primary", env=self.env(HTTPS_PROXY=url))
                self.assertEqual(p.returncode, EXIT_USAGE, p.stderr)
                self.assertIn("HTTPS_PROXY", p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertEqual(self.emulator.connections(), [])

    def test_valgrind_through_the_proxy(self):
        if ARGS.runner:
            self.skipTest("valgrind runs the host's build; the cross build runs under qemu-user")
        p = subprocess.run(["valgrind", "--quiet", "--leak-check=full", "--error-exitcode=99",
                            "--errors-for-leak-kinds=all", ARGS.bin, "-v", "keys"],
                           env=self.env(HTTPS_PROXY=self.proxy.url()), capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_no_proxy_secret(p.stdout + p.stderr)
        self.assertEqual(set(self.proxy.connects()), self.emulator_targets())


def main():
    global ARGS
    ARGS = emulator_case.binary_arguments()
    if shutil.which("tinyproxy") is None:
        print("test_proxy: tinyproxy is not installed (make deps-test installs it)",
              file=sys.stderr)
        return 1
    return emulator_case.run_suite(ProxyTest, "proxy", ARGS.names)


if __name__ == "__main__":
    sys.exit(main())
