#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The mps2-an386 firmware against the local Azure emulator: batchkey's commands run on the
emulated Cortex-M4 over lwIP (the LAN9118 under QEMU's user network) and mbedTLS, started by
boards/mps2-an386/run_batchkey.sh exactly as a person would, with the emulator's variables.

    python3 tests/target/test_firmware.py --image build/mps2-an386/batchkey.elf [TEST-NAME...]

Each case checks the printed output against the emulator's own state and its log: what reached
it, over which TLS version, and what did not reach it at all.
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
import azure_emulator as emu  # noqa: E402
import emulator_case  # noqa: E402
import emulator_env  # noqa: E402

ARGS = None
RUN = os.path.join(ROOT, "boards", "mps2-an386", "run_batchkey.sh")
# What the board adds on stderr around the command's own output.
BOARD_LINE = re.compile(r"^(bk_board: TEST USE ONLY: |stack: |mbedTLS pool: |lwIP )")


class FirmwareTest(emulator_case.EmulatorTestCase):
    TMP_PREFIX = "batchkey-fw-"

    @classmethod
    def emulator_options(cls):
        return {"client_pki": os.path.join(cls.tmp, "client-pki")}

    # --- helpers ---

    def env(self, emulator=None, **overrides):
        emulator = emulator or self.emulator
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
             **emulator_env.settings(emulator.login_port, emulator.arm_port,
                                     os.path.join(self.pki, "ca.crt"))}
        for k, v in overrides.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def run_firmware(self, *args, env=None, network=True):
        p = subprocess.run(["sh", RUN, ARGS.image] + list(args), env=env or self.env(),
                           capture_output=True, text=True, timeout=180)
        self.assertNotIn(emu.DEFAULT_CLIENT_SECRET, p.stdout + p.stderr)
        self.assertIn("bk_board: TEST USE ONLY: clock and entropy come from the host", p.stderr)
        if network:
            # Whatever happened, the sockets are closed and no pbuf is left behind.
            self.assertRegex(p.stderr, r"lwIP at exit: 0 sockets open, 0 pbufs queued, "
                                       r"0 pool pbufs in use;", p.stderr)
        else:
            self.assertNotIn("lwIP", p.stderr)  # the network never came up
        return p

    def command_stderr(self, p):
        """stderr without the board's own lines: what the Linux CLI would have printed."""
        return [line for line in p.stderr.splitlines() if not BOARD_LINE.match(line)]

    def assert_one_line_error(self, p, *fragments):
        lines = self.command_stderr(p)
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("batchkey: "), lines[0])
        for f in fragments:
            self.assertIn(f, lines[0])

    def assert_tls13_verified(self, emulator=None):
        conns = (emulator or self.emulator).connections()
        self.assertGreaterEqual(len(conns), 1)
        for c in conns:
            self.assertEqual(c["tls"], "ok", c)
            self.assertEqual(c["tls_version"], "TLSv1.3", c)
            self.assertEqual(c["sni"], "localhost", c)

    def keys_of(self, name=emu.DEFAULT_ACCOUNT):
        acct = self.emulator.account(name=name)
        return {"accountName": name, "primary": acct.primary, "secondary": acct.secondary}

    # --- the commands ---

    def test_certificate_credential(self):
        """The board signs client assertions with a certificate's key, RSA (PS256) or EC."""
        for name, alg in (("client-rsa.pem", "PS256"), ("client-ec.pem", "ES256")):
            with self.subTest(name=name):
                self.emulator.clear_log()
                env = self.env(AZURE_CLIENT_SECRET=None,
                               AZURE_CLIENT_CERTIFICATE_PATH=os.path.join(
                                   self.emulator.client_pki, name))
                p = self.run_firmware("regenerate", "--key-name", "secondary", "-o", "none",
                                      env=env)
                self.assertEqual(p.returncode, 0, p.stderr)
                (token,) = self.emulator.requests(op="token")
                self.assertEqual(token["credential"], "certificate")
                self.assertEqual(token["assertion_alg"], alg)
                self.assertNotIn("PRIVATE KEY", p.stdout + p.stderr)
        self.emulator.clear_log()
        env = self.env(AZURE_CLIENT_SECRET=None, AZURE_CLIENT_CERTIFICATE_PATH=os.path.join(
            self.emulator.client_pki, "client-unregistered.pem"))
        p = self.run_firmware("token", env=env)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assert_one_line_error(p, "AADSTS700027")

    def test_show(self):
        p = self.run_firmware("show")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["name"], emu.DEFAULT_ACCOUNT)
        self.assertEqual(out["properties"]["accountEndpoint"],
                         f"{emu.DEFAULT_ACCOUNT}.{emu.DEFAULT_LOCATION}.batch.azure.com")
        self.assertEqual(out["properties"]["allowedAuthenticationModes"],
                         ["SharedKey", "AAD", "TaskAuthenticationToken"])
        self.assertEqual(self.command_stderr(p), [])
        self.assertEqual([r["op"] for r in self.emulator.requests()], ["token", "get"])
        self.assert_tls13_verified()

    def test_keys(self):
        p = self.run_firmware("keys")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), self.keys_of())
        self.assertEqual(len(self.emulator.requests(op="listKeys")), 1)
        self.assert_tls13_verified()

    def test_regenerate_primary(self):
        before = self.keys_of()
        # The options after the command, as in `make BOARD=mps2-an386 run ARGS=...`.
        p = self.run_firmware("regenerate", "--key", "primary")
        self.assertEqual(p.returncode, 0, p.stderr)
        after = self.keys_of()
        self.assertNotEqual(after["primary"], before["primary"])
        self.assertEqual(after["secondary"], before["secondary"])
        self.assertEqual(json.loads(p.stdout), after)
        regen = self.emulator.requests(op="regenerateKeys")
        self.assertEqual(len(regen), 1)
        self.assertEqual(regen[0]["method"], "POST")
        self.assertEqual(regen[0]["key_name"], "Primary")
        self.assertEqual(regen[0]["headers"]["Host"], f"localhost:{self.emulator.arm_port}")
        self.assert_tls13_verified()

    def test_output_formats_as_the_cli(self):
        keys = self.keys_of()
        p = self.run_firmware("keys", "-o", "tsv")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, f"{keys['accountName']}\t{keys['primary']}\t{keys['secondary']}\n")
        p = self.run_firmware("token", "--output", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        token = json.loads(p.stdout)
        self.assertEqual(token["access_token_length"], 1600)
        self.assertRegex(token["expires_on"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_usage_error_sends_nothing(self):
        p = self.run_firmware("regenerate", network=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assert_one_line_error(p, "regenerate needs --key-name")
        self.assertEqual(self.emulator.connections(), [])

    def test_azure_shaped_rsa_chain(self):
        # RSA-2048 leaf under an RSA-4096 issuing CA, SHA-384, RSA-PSS in TLS 1.3's
        # CertificateVerify: what Azure's front ends serve, and the pool's largest handshake.
        rsa_pki = os.path.join(self.tmp, "rsa-pki")
        subprocess.run(["sh", os.path.join(ROOT, "tests", "emulator", "make_rsa_pki.sh"),
                        rsa_pki], check=True)
        with emu.Emulator(rsa_pki) as rsa:
            env = self.env(emulator=rsa, BATCHKEY_CA_FILE=os.path.join(rsa_pki, "ca.crt"))
            p = self.run_firmware("keys", env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            acct = rsa.account()
            self.assertEqual(json.loads(p.stdout)["primary"], acct.primary)
            self.assert_tls13_verified(rsa)
            pool = re.search(r"^mbedTLS pool: peak (\d+) of (\d+) bytes$", p.stderr, re.M)
            self.assertLess(int(pool.group(1)), int(pool.group(2)))

    # --- TLS refusals: exit 5, no HTTP byte sent ---

    def test_untrusted_ca(self):
        p = self.run_firmware("keys", env=self.env(
            BATCHKEY_CA_FILE=os.path.join(self.pki, "untrusted-ca.crt")))
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assert_one_line_error(p, "TLS handshake with localhost:", "not trusted")
        self.assertEqual(self.emulator.requests(), [])
        conns = self.emulator.wait_connections(1)
        self.assertGreaterEqual(len(conns), 1)
        self.assertTrue(all(c["tls"] == "failed" for c in conns), conns)

    def test_wrong_host_name(self):
        with emu.Emulator(self.pki, cert="wrongname") as wrong:
            p = self.run_firmware("keys", env=self.env(emulator=wrong))
            self.assertEqual(p.returncode, 5, p.stderr)
            self.assert_one_line_error(p, "TLS handshake with localhost:", "host name")
            self.assertEqual(wrong.requests(), [])
            self.assertGreaterEqual(len(wrong.wait_connections(1)), 1)

    def test_arm_endpoint_from_the_command_line(self):
        # run_batchkey.sh forwards the port of --arm-endpoint, not only the variable's.
        p = self.run_firmware("keys", "--arm-endpoint", self.emulator.arm_url,
                              env=self.env(BATCHKEY_ARM_ENDPOINT=None))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), self.keys_of())

    def test_endpoint_off_the_loopback_is_unreachable(self):
        # The guest knows the names run_batchkey.sh maps to the host's loopback, and no other.
        p = self.run_firmware("show", "--deadline", "2", env=self.env(
            BATCHKEY_ARM_ENDPOINT="https://management.azure.com"))
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assert_one_line_error(p, "host name lookup failed for management.azure.com")
        self.assertEqual(self.emulator.requests(listener="arm"), [])

    # --- faults ---

    def test_regenerate_503_is_an_unknown_outcome(self):
        self.emulator.add_fault("status", op="regenerateKeys", status=503)
        p = self.run_firmware("regenerate", "--key", "secondary")
        self.assertEqual(p.returncode, 8, p.stderr)
        self.assertEqual(json.loads(p.stdout), self.keys_of())
        self.assertEqual(len(self.emulator.requests(op="regenerateKeys")), 1)
        self.assertEqual(len(self.emulator.requests(op="listKeys")), 1)
        self.assert_one_line_error(p, "outcome unknown")

    def test_read_survives_a_vanished_peer(self):
        # The server acts, then closes with neither an answer nor close_notify: lwIP sees a FIN,
        # TLS an unclean close, and the read goes again on a new connection.
        self.emulator.add_fault("drop", op="listKeys")
        p = self.run_firmware("keys")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), self.keys_of())
        self.assertEqual([r["status"] for r in self.emulator.requests(op="listKeys")], [None, 200])

    def test_slow_answer_to_regenerate_times_out(self):
        # Each wait is bounded by --timeout even though every wait here is a polling loop.
        self.emulator.add_fault("slow", op="regenerateKeys", seconds=3)
        p = self.run_firmware("regenerate", "--key", "primary", "--timeout", "1")
        self.assertEqual(p.returncode, 8, p.stderr)
        self.assertEqual(len(self.emulator.requests(op="regenerateKeys")), 1)
        self.assertEqual(json.loads(p.stdout)["primary"], self.keys_of()["primary"])

    # --- the board's own reports and rules ---

    def test_board_reports_its_memory(self):
        p = self.run_firmware("keys")
        self.assertEqual(p.returncode, 0, p.stderr)
        stack = re.search(r"^stack: deepest (\d+) of (\d+) bytes$", p.stderr, re.M)
        pool = re.search(r"^mbedTLS pool: peak (\d+) of (\d+) bytes$", p.stderr, re.M)
        heap = re.search(r"^lwIP heap: high-water (\d+) of (\d+) bytes$", p.stderr, re.M)
        pools = re.search(r"^lwIP pools: high-water (\d+) of (\d+) bytes \(.*PBUF_POOL \d+/\d+",
                          p.stderr, re.M)
        for found in (stack, pool, heap, pools):
            self.assertIsNotNone(found, p.stderr)
            used, size = int(found.group(1)), int(found.group(2))
            self.assertGreater(used, 0, found.group(0))
            self.assertLess(used, size, found.group(0))
        # A TLS handshake holds a 16 KiB input record buffer in the pool.
        self.assertGreater(int(pool.group(1)), 16384)

    def test_firmware_links_no_allocator(self):
        nm = subprocess.run(["arm-none-eabi-nm", ARGS.image], capture_output=True, text=True,
                            check=True).stdout
        defined = {line.split()[-1] for line in nm.splitlines() if len(line.split()) == 3}
        self.assertIn("bk_tcp_connect", defined)  # the right image, platform/lwip in it
        self.assertIn("tcp_write", defined)
        for name in ("malloc", "_malloc_r", "calloc", "realloc", "free", "_free_r", "_sbrk"):
            self.assertNotIn(name, defined)

    def test_settings_are_the_variables_the_cli_reads(self):
        """Every variable the board's command line reads; those of what the board builds
        without (the rotation commands, assertions, managed identities: BK_CLI_... 0 in its
        bk_config_board.h) left out."""
        with open(os.path.join(ROOT, "boards", "mps2-an386", "bk_config_board.h"),
                  encoding="utf-8") as f:
            left_out = set(re.findall(r"^#define (BK_CLI_[A-Z_]+) +0$", f.read(), re.M))
        self.assertIn("BK_CLI_STATE", left_out)
        source = ""
        for name in ("bk_cli.c", "bk_cli_credential.c", "bk_cli_state.c"):
            with open(os.path.join(ROOT, "boards", "common", name), encoding="utf-8") as f:
                source += firmware_part(f.read(), left_out)
        cli = set(re.findall(r'bk_cli_setting\([^,]+,\s*"([A-Z_]+)"\)', source))
        self.assertNotIn("BATCHKEY_MAX_AGE", cli)
        with open(RUN, encoding="utf-8") as f:
            script = f.read()
        listed = re.search(r'FIRMWARE_SETTINGS="([^"]*)"', script).group(1).split()
        self.assertGreaterEqual(len(cli), 10)
        self.assertEqual(set(listed), cli)


def firmware_part(source, left_out):
    """The C source without the branches of `#if MACRO` for each MACRO in left_out (kept: their
    #else): what a board that sets them to 0 compiles."""
    kept, dropping = [], []  # per open #if: True/False for those macros', None otherwise
    for line in source.splitlines():
        directive = line.strip()
        if directive.startswith("#if"):
            words = directive.split()
            dropping.append(True if len(words) == 2 and words[0] == "#if" and
                            words[1] in left_out else None)
        elif directive.startswith("#else") and dropping and dropping[-1] is not None:
            dropping[-1] = not dropping[-1]
        elif directive.startswith("#endif") and dropping:
            dropping.pop()
        elif not any(d for d in dropping if d):
            kept.append(line)
    return "\n".join(kept)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--image", required=True)
    ARGS, rest = parser.parse_known_args()
    ARGS.image = os.path.abspath(ARGS.image)
    return emulator_case.run_suite(FirmwareTest, "firmware", rest)


if __name__ == "__main__":
    sys.exit(main())
