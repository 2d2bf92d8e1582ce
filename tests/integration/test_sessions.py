#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""TLS sessions resumed: within a run when a connection has to be made again, and by a later
run through the records batchkey keeps in the state directory (tls-authority, tls-arm,
tls-batch: mode 0600, replaced atomically). The emulator logs, for each connection, whether
its handshake resumed a session. A session is offered only to the host name and port it was
verified for, so a resumed handshake never skips the certificate check for another name; an
expired, damaged or foreign record costs one full handshake, never the command.

    python3 tests/integration/test_sessions.py --bin build/host/batchkey [--runner CMD] [TEST...]
"""
import os
import stat
import struct
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))
import azure_emulator as emu  # noqa: E402
import emulator_case  # noqa: E402
import emulator_env  # noqa: E402

ARGS = None
RECORDS = ("tls-authority", "tls-arm")


def parse_record(data):
    """(host, port, expires, session bytes) of a record, checking its framing and CRC the way
    core/bk_session.c documents them."""
    assert data[:4] == b"BKT1", data[:4]
    host_len = data[4]
    host = data[5:5 + host_len].decode()
    port, expires, length = struct.unpack(">HqH", data[5 + host_len:5 + host_len + 12])
    body = data[5 + host_len + 12:-4]
    assert len(body) == length
    assert struct.unpack(">I", data[-4:])[0] == zlib.crc32(data[:-4])
    return host, port, expires, body


def make_record(host, port, expires, body):
    head = b"BKT1" + bytes([len(host)]) + host.encode() + struct.pack(">HqH", port, expires,
                                                                      len(body))
    data = head + body
    return data + struct.pack(">I", zlib.crc32(data))


class SessionTest(emulator_case.EmulatorTestCase):
    TMP_PREFIX = "batchkey-sessions-"

    def setUp(self):
        super().setUp()
        self.state = os.path.join(self.tmp, "state-" + self.id().rsplit(".", 1)[1])
        os.makedirs(self.state, mode=0o700, exist_ok=True)
        for name in os.listdir(self.state):
            os.unlink(os.path.join(self.state, name))

    def env(self, host="localhost", **overrides):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             **emulator_env.settings(self.emulator.login_port, self.emulator.arm_port,
                                     os.path.join(self.pki, "ca.crt"),
                                     batch_port=self.emulator.batch_port),
             "BATCHKEY_STATE_DIR": self.state}
        for name in ("AZURE_AUTHORITY_HOST", "BATCHKEY_ARM_ENDPOINT", "BATCHKEY_BATCH_ENDPOINT"):
            e[name] = e[name].replace("localhost", host)
        e.update(overrides)
        return {k: v for k, v in e.items() if v is not None}

    def cli(self, *args, env):
        p = subprocess.run([*ARGS.runner, ARGS.bin, *args], env=env, capture_output=True,
                           text=True, timeout=120)
        return p

    def handshakes(self):
        """(listener, resumed) of each TLS connection logged since the last clear."""
        return [(c["listener"], c.get("resumed")) for c in self.emulator.connections()
                if c.get("tls") == "ok"]

    def record(self, name):
        with open(os.path.join(self.state, name), "rb") as f:
            return f.read()

    def test_a_later_run_resumes_every_session(self):
        first = self.cli("show", env=self.env())
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertEqual(self.handshakes(), [("login", False), ("arm", False)])
        self.assertEqual(sorted(os.listdir(self.state)), sorted(RECORDS))  # nothing half-written
        for name in RECORDS:
            mode = stat.S_IMODE(os.stat(os.path.join(self.state, name)).st_mode)
            self.assertEqual(mode, 0o600, name)
            host, port, expires, body = parse_record(self.record(name))
            self.assertEqual(host, "localhost")
            self.assertIn(port, (self.emulator.login_port, self.emulator.arm_port))
            self.assertGreater(expires, time.time())
            self.assertGreater(len(body), 0)
        self.emulator.clear_log()
        second = self.cli("-v", "regenerate", "--key-name", "secondary", env=self.env())
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertEqual(self.handshakes(), [("login", True), ("arm", True)])
        for text in (second.stdout, second.stderr):
            self.assertNotIn("BKT1", text)

    def test_a_session_is_reused_within_a_run(self):
        # The server ends the connection after the account's GET: the regenerateKeys that
        # follows needs a new connection, which resumes the session of the first.
        self.emulator.add_fault("close_delimited", op="get", clean=True)
        p = self.cli("rotate", "--batch-endpoint",
                     "https://localhost:%d" % self.emulator.batch_port, env=self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        arm = [resumed for listener, resumed in self.handshakes() if listener == "arm"]
        self.assertEqual(arm[:2], [False, True], self.handshakes())
        self.assertEqual(self.emulator.regenerate_count(), 1)
        self.assertIn("tls-batch", os.listdir(self.state))

    def test_a_session_is_only_offered_to_its_own_name(self):
        first = self.cli("show", env=self.env())
        self.assertEqual(first.returncode, 0, first.stderr)
        self.emulator.clear_log()
        # The same servers by address: their certificate names localhost alone. Resuming the
        # sessions made for localhost would skip that check; a full handshake fails it.
        p = self.cli("show", env=self.env(host="127.0.0.1"))
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertIn("TLS handshake with 127.0.0.1", p.stderr)
        self.assertNotIn(("login", True), self.handshakes())
        self.assertEqual(self.emulator.requests(), [])
        # The records are still localhost's, and still resume for it.
        self.emulator.clear_log()
        again = self.cli("show", env=self.env())
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(self.handshakes(), [("login", True), ("arm", True)])

    def test_expired_damaged_and_foreign_records_cost_a_full_handshake(self):
        first = self.cli("show", env=self.env())
        self.assertEqual(first.returncode, 0, first.stderr)
        host, port, _, body = parse_record(self.record("tls-arm"))
        login = bytearray(self.record("tls-authority"))
        login[len(login) // 2] ^= 0x01  # fails its CRC
        variants = {
            "expired": (make_record(host, port, int(time.time()) - 1, body), bytes(login)),
            "other port": (make_record(host, port + 1, int(time.time()) + 600, body),
                           b"BKT9 another format"),
            "garbage": (b"\x00" * 40, b""),
        }
        for label, (arm_record, login_record) in variants.items():
            with self.subTest(label):
                with open(os.path.join(self.state, "tls-arm"), "wb") as f:
                    f.write(arm_record)
                with open(os.path.join(self.state, "tls-authority"), "wb") as f:
                    f.write(login_record)
                self.emulator.clear_log()
                p = self.cli("-v", "show", env=self.env())
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(self.handshakes(), [("login", False), ("arm", False)])
                # Replaced by the new sessions, which the next run resumes.
                self.assertEqual(parse_record(self.record("tls-arm"))[0], "localhost")
                self.emulator.clear_log()
                p = self.cli("show", env=self.env())
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(self.handshakes(), [("login", True), ("arm", True)])

    def test_valgrind_saving_and_resuming(self):
        if ARGS.runner:
            # valgrind runs programs of this host's CPU only: under qemu-user it would check
            # the emulator, not batchkey.
            self.skipTest("valgrind cannot check a binary run through --runner")
        valgrind = ["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=all",
                    "--errors-for-leak-kinds=all", "--error-exitcode=99"]
        for resumed in (False, True):
            self.emulator.clear_log()
            p = subprocess.run([*valgrind, ARGS.bin, "show"], env=self.env(),
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(self.handshakes(), [("login", resumed), ("arm", resumed)])

    def test_without_a_state_directory_nothing_is_written(self):
        missing = os.path.join(self.tmp, "no-such-dir")
        p = self.cli("-v", "show", env=self.env(BATCHKEY_STATE_DIR=missing))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(os.path.exists(missing))
        self.assertIn("TLS sessions are kept for this run only", p.stderr)

    def test_an_unwritable_directory_does_not_fail_the_command(self):
        if os.geteuid() == 0:
            # root writes anywhere: a read-only bind is what stops it; a file in the way will do
            os.rmdir(self.state)
            with open(self.state, "w", encoding="utf-8") as f:
                f.write("not a directory")
        else:
            os.chmod(self.state, 0o500)
        try:
            p = self.cli("show", env=self.env())
        finally:
            if os.path.isfile(self.state):
                os.unlink(self.state)
                os.makedirs(self.state, mode=0o700)
            os.chmod(self.state, 0o700)
        self.assertEqual(p.returncode, 0, p.stderr)


def main():
    global ARGS
    ARGS = emulator_case.binary_arguments()
    return emulator_case.run_suite(SessionTest, "sessions", ARGS.names)


if __name__ == "__main__":
    sys.exit(main())
