#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""batchkey rotate, status and keys --active against the emulator's ARM and Batch data plane.

A crash at every step (the crash-test build's BATCHKEY_CRASH_AT, or SIGKILL while the emulator
holds an answer back), then a second run: the published key is always one the service accepts,
the second run converges, and one regenerateKeys served the rotation. The state's failures
(corrupt, foreign, unwritable, full disk), --max-age, --dry-run, --retire, the deploy hook.

    python3 tests/integration/test_rotate.py --bin build/host/batchkey \\
        --crash-bin build/host/batchkey-crashtest [--runner qemu-aarch64] [--crash-runner CMD]
        [TEST-NAME...]

--crash-runner (default: --runner) runs the crash-test build, which kills itself: under valgrind
it is given without the leak check, since a killed process leaves everything allocated.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))
import azure_emulator as emu  # noqa: E402
import emulator_case  # noqa: E402
import emulator_env  # noqa: E402

ARGS = None
CRASH_POINTS = ("before-regenerate", "after-regenerate", "pending-saved", "proving", "switched",
                "published")


def runner_argv(binary, *args):
    """The command line running binary with args, through --runner when one is given."""
    return [*ARGS.runner, binary, *args]


class RotateTest(emulator_case.EmulatorTestCase):
    TMP_PREFIX = "batchkey-rotate-"

    def setUp(self):
        super().setUp()
        self.acct = self.emulator.account()
        self.acct.propagation_delay = 0
        self.state = tempfile.mkdtemp(prefix="state-", dir=self.tmp)
        os.rmdir(self.state)  # batchkey creates it

    def tearDown(self):
        for path in getattr(self, "mounts", []):
            subprocess.run(["umount", path], check=False)
        if os.path.isdir(self.state):
            os.chmod(self.state, 0o700)

    # --- helpers ---

    def env(self, **overrides):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             **emulator_env.settings(self.emulator.login_port, self.emulator.arm_port,
                                     os.path.join(self.pki, "ca.crt"),
                                     batch_port=self.emulator.batch_port),
             "BATCHKEY_STATE_DIR": self.state}
        for k, v in overrides.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def rotate(self, *args, env=None, binary=None, check=None):
        argv = ([*ARGS.crash_runner, binary, "rotate", *args] if binary == ARGS.crash_bin
                else runner_argv(binary or ARGS.bin, "rotate", *args))
        p = subprocess.run(argv, env=env or self.env(),
                           capture_output=True, text=True, timeout=120)
        self.assert_no_secret(p.stdout + p.stderr)
        if check is not None:
            self.assertEqual(p.returncode, check, p.stdout + p.stderr)
        return p

    def cli(self, *args, env=None):
        return subprocess.run(runner_argv(ARGS.bin, *args), env=env or self.env(),
                              capture_output=True, text=True, timeout=60)

    def assert_no_secret(self, text):
        self.assertNotIn(emu.DEFAULT_CLIENT_SECRET, text)
        for key in (self.acct.primary, self.acct.secondary):
            self.assertNotIn(key, text)

    def report(self, p):
        return json.loads(p.stdout)

    def key_file(self):
        with open(os.path.join(self.state, "active.key"), encoding="ascii") as f:
            return f.read()

    def state_bytes(self):
        with open(os.path.join(self.state, "rotation"), "rb") as f:
            return f.read()

    def regenerates(self):
        return self.emulator.requests(op="regenerateKeys")

    def posts(self):
        """POSTs to ARM (listKeys, regenerateKeys); the token request is Entra's."""
        return [r for r in self.emulator.requests(listener="arm") if r["method"] == "POST"]

    def sign(self, key, date):
        to_sign = ("GET\n" + "\n" * 11 + f"ocp-date:{date}\n/{self.acct.name}/applications"
                   "\napi-version:2024-07-01.20.0\nmaxresults:1")
        mac = hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256).digest()
        return base64.b64encode(mac).decode()

    def assert_key_accepted(self, key):
        """The data plane accepts key now (a signed request of the test's own)."""
        import http.client
        import ssl
        import email.utils
        context = ssl.create_default_context(cafile=os.path.join(self.pki, "ca.crt"))
        conn = http.client.HTTPSConnection("localhost", self.emulator.batch_port, context=context,
                                           timeout=10)
        date = email.utils.formatdate(usegmt=True)
        conn.request("GET", "/applications?api-version=2024-07-01.20.0&maxresults=1", headers={
            "ocp-date": date,
            "Authorization": f"SharedKey {self.acct.name}:{self.sign(key, date)}"})
        status = conn.getresponse().status
        conn.close()
        self.assertEqual(status, 200, "the published key is not accepted by the data plane")

    def assert_converged(self):
        """Idle, the key file holds the active key, which the service holds and accepts."""
        p = self.cli("status")
        self.assertEqual(p.returncode, 0, p.stderr)
        status = json.loads(p.stdout)
        self.assertEqual(status["step"], "idle")
        self.assertIsNone(status["pendingStep"])
        key = self.key_file().strip()
        slot = status["activeSlot"]
        self.assertEqual(key, getattr(self.acct, slot))
        self.assert_key_accepted(key)
        return status

    def first_rotation(self):
        p = self.rotate(check=0)
        self.emulator.clear_log()
        return self.report(p)

    def wait_for_request(self, op, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.emulator.requests(op=op):
                return
            time.sleep(0.05)
        self.fail(f"no {op} request reached the emulator")

    # --- the procedure ---

    def test_first_run_adopts_then_rotates_the_standby_key(self):
        primary, secondary = self.acct.primary, self.acct.secondary
        p = self.rotate(check=0)
        r = self.report(p)
        self.assertEqual(r["action"], "rotated")
        self.assertTrue(r["adopted"])
        self.assertEqual(r["previousSlot"], "primary")
        self.assertEqual(r["activeSlot"], "secondary")
        self.assertEqual(r["dataPlaneProof"]["status"], 200)
        self.assertTrue(r["regenerateRequestId"])
        self.assertEqual(self.acct.primary, primary)  # the key in use was never touched
        self.assertNotEqual(self.acct.secondary, secondary)
        regen = self.regenerates()
        self.assertEqual(len(regen), 1)
        self.assertEqual(regen[0]["key_name"], "Secondary")
        # GET, then listKeys (adoption), regenerateKeys, then the proof.
        ops = [e["op"] for e in self.emulator.requests() if e["listener"] != "login"]
        self.assertEqual(ops, ["get", "listKeys", "regenerateKeys", "applications"])
        self.assertEqual(self.key_file(), self.acct.secondary + "\n")
        self.assertEqual(stat.S_IMODE(os.stat(self.state).st_mode), 0o700)
        # With the TLS sessions of the three servers for the next run, and nothing half-written.
        files = [".lock", "active.key", "rotation", "tls-arm", "tls-authority", "tls-batch"]
        self.assertEqual(sorted(os.listdir(self.state)), files)
        for name in files[1:]:
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.state, name)).st_mode), 0o600)
        self.assert_converged()

    def test_active_key_file_decides_the_slot_on_a_first_run(self):
        os.mkdir(self.state, 0o700)
        with open(os.path.join(self.state, "active.key"), "w", encoding="ascii") as f:
            f.write(self.acct.secondary + "\n")
        r = self.report(self.rotate(check=0))
        self.assertEqual(r["previousSlot"], "secondary")
        self.assertEqual(r["activeSlot"], "primary")
        self.assertEqual(self.regenerates()[0]["key_name"], "Primary")

    def test_key_name_picks_the_slot_in_use_on_a_first_run(self):
        r = self.report(self.rotate("--key-name", "secondary", check=0))
        self.assertEqual(r["previousSlot"], "secondary")
        self.assertEqual(self.regenerates()[0]["key_name"], "Primary")

    def test_young_key_costs_no_request_at_all(self):
        self.first_rotation()
        before = self.state_bytes()
        p = self.rotate("--max-age", "30", check=0)
        r = self.report(p)
        self.assertEqual(r["action"], "skipped")
        self.assertEqual(r["activeKeyAgeDays"], 0)
        self.assertEqual(self.emulator.connections(), [])
        self.assertEqual(self.state_bytes(), before)
        p = self.rotate(check=0, env=self.env(BATCHKEY_MAX_AGE="1"))
        self.assertEqual(self.report(p)["action"], "skipped")
        self.assertEqual(self.emulator.connections(), [])

    def test_due_key_rotates_each_slot_in_turn(self):
        self.first_rotation()
        for expected in ("primary", "secondary", "primary"):
            self.emulator.clear_log()
            r = self.report(self.rotate("--max-age", "0", check=0))
            self.assertEqual(r["activeSlot"], expected)
            self.assertEqual(len(self.regenerates()), 1)
            self.assertEqual(self.regenerates()[0]["key_name"], expected.capitalize())
        status = self.assert_converged()
        self.assertEqual(status["rotations"], 4)

    def test_force_rotates_a_young_key(self):
        self.first_rotation()
        r = self.report(self.rotate("--force", check=0))
        self.assertEqual(r["action"], "rotated")
        self.assertEqual(r["activeSlot"], "primary")

    def test_retire_renews_both_keys(self):
        self.first_rotation()
        old = self.acct.secondary
        primary_before = self.acct.primary
        r = self.report(self.rotate("--force", "--retire", check=0))
        self.assertTrue(r["retired"])
        self.assertTrue(r["retireRequestId"])
        self.assertEqual(r["activeSlot"], "primary")
        self.assertNotEqual(self.acct.primary, primary_before)
        self.assertNotEqual(self.acct.secondary, old)
        self.assertEqual([e["key_name"] for e in self.regenerates()], ["Primary", "Secondary"])
        self.assert_converged()

    def test_new_key_waits_for_propagation(self):
        self.first_rotation()
        self.acct.propagation_delay = 3
        r = self.report(self.rotate("--force", check=0))
        self.assertGreater(r["dataPlaneProof"]["attempts"], 1)
        refused = [e for e in self.emulator.requests(op="applications") if e["status"] == 403]
        self.assertTrue(refused)
        self.assert_converged()

    def test_key_never_accepted_keeps_the_old_one(self):
        self.first_rotation()
        old = self.key_file()
        self.acct.propagation_delay = 3600
        p = self.rotate("--force", "--deadline", "8")
        self.assertEqual(p.returncode, 7, p.stderr)
        self.assertIn("did not accept the new key", p.stderr)
        self.assertEqual(self.key_file(), old)
        self.assert_key_accepted(old.strip())
        self.assertEqual(json.loads(self.cli("status").stdout)["step"], "pending")
        # Once it propagates, the next run proves it without regenerating again.
        self.acct.propagation_delay = 0
        self.acct.set_key("primary", self.acct.primary, 0)  # accepted from now on
        self.emulator.clear_log()
        r = self.report(self.rotate(check=0))
        self.assertTrue(r["resumed"])
        self.assertEqual(self.regenerates(), [])
        self.assert_converged()

    def test_dry_run_sends_no_post_and_writes_nothing(self):
        self.first_rotation()
        before = self.state_bytes(), self.key_file()
        r = self.report(self.rotate("--dry-run", "--max-age", "0", check=0))
        self.assertEqual(r["action"], "checked")
        self.assertEqual(r["dataPlaneProof"]["status"], 200)
        self.assertTrue(r["keyFileCurrent"])
        self.assertEqual(self.posts(), [])
        self.assertEqual(len(self.emulator.requests(op="applications")), 1)
        self.assertEqual((self.state_bytes(), self.key_file()), before)

    def test_dry_run_without_state_sends_nothing(self):
        p = self.rotate("--dry-run")
        self.assertEqual(p.returncode, 7)
        self.assertIn("no rotation state", p.stderr)
        self.assertEqual(self.posts(), [])

    def test_shared_key_disabled_is_refused_before_anything_changes(self):
        p = self.rotate(env=self.env(BATCHKEY_ACCOUNT=emu.DEFAULT_AAD_ONLY_ACCOUNT))
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn("does not allow SharedKey", p.stderr)
        self.assertEqual(self.posts(), [])

    def test_deploy_hook_gets_the_file_never_the_key(self):
        self.first_rotation()
        out = os.path.join(self.tmp, "hook.out")
        hook = f"env > {out}; test -r \"$BATCHKEY_KEY_FILE\""
        self.report(self.rotate("--force", "--deploy-hook", hook, check=0))
        with open(out, encoding="utf-8") as f:
            seen = f.read()
        self.assertIn(f"BATCHKEY_ACCOUNT={emu.DEFAULT_ACCOUNT}\n", seen)
        self.assertIn("BATCHKEY_ACTIVE_SLOT=primary\n", seen)
        self.assertIn(f"BATCHKEY_KEY_FILE={os.path.join(self.state, 'active.key')}\n", seen)
        self.assert_no_secret(seen)
        self.assertNotIn("AZURE_CLIENT_SECRET", seen)

    def test_failing_hook_is_exit_7_but_the_rotation_is_done(self):
        self.first_rotation()
        p = self.rotate("--force", "--retire", "--deploy-hook", "exit 3")
        self.assertEqual(p.returncode, 7)
        self.assertIn("deploy hook failed (status 3)", p.stderr)
        self.assertEqual(self.report(p)["activeSlot"], "primary")
        self.assertEqual(len(self.regenerates()), 1)  # no retire: the software may hold the old key
        self.assert_converged()

    def test_status_and_active_key_need_no_credential(self):
        for command in (["status"], ["keys", "--active"]):
            p = self.cli(*command)
            self.assertEqual(p.returncode, 7)
            self.assertIn("no rotation state in", p.stderr)
            self.assertFalse(os.path.exists(self.state))  # looking creates nothing
        self.first_rotation()
        bare = {"PATH": "/usr/bin:/bin", "BATCHKEY_STATE_DIR": self.state}
        p = self.cli("status", env=bare)
        self.assertEqual(p.returncode, 0, p.stderr)
        status = json.loads(p.stdout)
        self.assertEqual(status["activeSlot"], "secondary")
        self.assertEqual(status["account"], emu.DEFAULT_ACCOUNT)
        self.assertEqual(status["rotations"], 1)
        self.assert_no_secret(p.stdout)
        p = self.cli("status", "-o", "tsv", env=bare)
        self.assertEqual(p.stdout.split("\t")[:3], [emu.DEFAULT_ACCOUNT, "secondary", "0"])
        p = self.cli("keys", "--active", "-o", "env", env=bare)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"export AZURE_BATCH_ACCESS_KEY={self.acct.secondary}\n", p.stdout)
        self.assertIn(f"export AZURE_BATCH_ACCOUNT={emu.DEFAULT_ACCOUNT}\n", p.stdout)
        self.assertIn("export AZURE_BATCH_ENDPOINT=https://batchkeyacct.westeurope.batch.azure.com",
                      p.stdout)
        self.assertEqual(self.emulator.connections(), [])

    def test_verbose_and_valgrind_rotation(self):
        """-v tells the steps but no key, old or new; the whole rotation runs valgrind-clean."""
        if ARGS.runner:
            # valgrind runs programs of this host's CPU only: under qemu-user it would check
            # the emulator, not batchkey.
            self.skipTest("valgrind cannot check a binary run through --runner")
        self.first_rotation()
        seen_keys = {self.acct.primary, self.acct.secondary}
        p = subprocess.run(["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=all",
                            "--errors-for-leak-kinds=all", "--error-exitcode=99", ARGS.bin,
                            "-v", "rotate", "--force", "--retire"],
                           env=self.env(), capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("==", p.stderr)
        self.assertIn("switched to the new key: primary", p.stderr)
        self.assertIn("client-request-id", p.stderr)
        seen_keys |= {self.acct.primary, self.acct.secondary}
        for key in seen_keys:
            self.assertNotIn(key, p.stdout + p.stderr)
        self.assertNotIn(emu.DEFAULT_CLIENT_SECRET, p.stdout + p.stderr)
        self.assertNotIn("SharedKey ", p.stderr)  # nor a signature

    # --- crashes ---

    def crash_and_recover(self, point):
        self.first_rotation()
        keys_before = (self.acct.primary, self.acct.secondary)
        p = self.rotate("--max-age", "0", binary=ARGS.crash_bin,
                        env=self.env(BATCHKEY_CRASH_AT=point))
        self.assertEqual(p.returncode, -9, f"{point}: {p.stdout}{p.stderr}")
        # Under valgrind the kill ends it too, before its exit code: what it found until then
        # is only in stderr, as its "==PID==" lines.
        self.assertNotRegex(p.stderr, r"(?m)^==\d+==", point)
        self.assert_key_accepted(self.key_file().strip())
        self.rotate("--max-age", "0", check=0)  # the timer's next run, the same command
        status = self.assert_converged()
        acted = [e for e in self.regenerates() if e["status"] == 200]
        self.assertEqual(len(acted), 1, f"{point}: {self.regenerates()}")
        self.assertEqual(status["rotations"], 2)
        self.assertNotIn(self.key_file().strip(), keys_before[1:])  # the new key is in use
        return status

    def test_crash_at_every_step(self):
        for point in CRASH_POINTS:
            with self.subTest(point=point):
                shutil.rmtree(self.state, ignore_errors=True)
                self.emulator.clear_log()
                self.crash_and_recover(point)

    def kill_while_held(self, op):
        """Kills rotate while the emulator holds the answer to op back (it acted first)."""
        self.emulator.add_fault("stall", op=op, seconds=30)
        proc = subprocess.Popen(runner_argv(ARGS.bin, "rotate", "--max-age", "0"), env=self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.wait_for_request(op)
        finally:
            proc.kill()
            out, err = proc.communicate(timeout=30)
        self.assert_no_secret(out + err)
        self.emulator.clear_faults()

    def test_killed_after_regenerate_was_sent(self):
        self.first_rotation()
        self.kill_while_held("regenerateKeys")
        self.assertEqual(json.loads(self.cli("status").stdout)["step"], "regenerating")
        self.assert_key_accepted(self.key_file().strip())
        r = self.report(self.rotate("--max-age", "30", check=0))
        self.assertTrue(r["resumed"])
        self.assertEqual(len(self.regenerates()), 1)  # reconciled with listKeys, never resent
        self.assertEqual(self.assert_converged()["rotations"], 2)

    def test_killed_during_verification(self):
        self.first_rotation()
        self.kill_while_held("applications")
        self.assertEqual(json.loads(self.cli("status").stdout)["step"], "pending")
        self.assert_key_accepted(self.key_file().strip())
        self.rotate("--max-age", "30", check=0)
        self.assertEqual(len(self.regenerates()), 1)
        self.assert_converged()

    def test_regenerate_ambiguous_is_reconciled(self):
        self.first_rotation()
        self.emulator.add_fault("status", op="regenerateKeys", status=500, act=True)
        r = self.report(self.rotate("--max-age", "0", check=0))
        self.assertEqual(r["action"], "rotated")
        self.assertEqual(len(self.regenerates()), 1)
        self.assert_converged()

    def test_regenerate_ambiguous_without_action_is_incomplete(self):
        self.first_rotation()
        before = self.key_file()
        self.emulator.add_fault("status", op="regenerateKeys", status=500, act=False)
        p = self.rotate("--max-age", "0")
        self.assertEqual(p.returncode, 7, p.stderr)
        self.assertIn("regenerateKeys did not act", p.stderr)
        self.assertEqual(len(self.regenerates()), 1)
        self.assertEqual(self.key_file(), before)
        self.assertEqual(json.loads(self.cli("status").stdout)["step"], "idle")

    def test_active_key_changed_outside_is_adopted(self):
        self.first_rotation()
        self.acct.set_key("secondary", emu.new_account_key(), 0)
        self.acct.propagation_delay = 0
        p = self.rotate("--max-age", "0", check=0)
        self.assertIn("changed outside batchkey", p.stderr)
        self.assertTrue(self.report(p)["changedOutside"])
        self.assert_converged()

    # --- the state's failures: a clear line, nothing sent or changed ---

    def assert_untouched(self, before, p, *fragments):
        self.assertEqual(p.returncode, 7, p.stdout + p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])
        self.assertEqual((self.state_bytes(), self.key_file()), before)
        self.assertEqual(self.posts(), [])

    def test_corrupt_state_is_never_trusted_nor_overwritten(self):
        self.first_rotation()
        path = os.path.join(self.state, "rotation")
        data = bytearray(self.state_bytes())
        data[40] ^= 0x04
        with open(path, "wb") as f:
            f.write(data)
        before = self.state_bytes(), self.key_file()
        p = self.rotate("--force")
        self.assert_untouched(before, p, "corrupt", "Move it aside")
        self.assertEqual(self.emulator.connections(), [])
        p = self.cli("status")
        self.assertEqual(p.returncode, 7)
        # Moved aside as told: the next run adopts, keeping the slot active.key holds.
        os.rename(path, path + ".bad")
        r = self.report(self.rotate("--max-age", "30", check=0))
        self.assertTrue(r["adopted"])
        self.assertEqual(r["previousSlot"], "secondary")

    def test_state_of_another_account_is_refused(self):
        self.first_rotation()
        before = self.state_bytes(), self.key_file()
        p = self.rotate("--force", "--subscription", "0b9e4f17-83c6-4d0a-b5e1-7a4c9d2f6e83")
        self.assert_untouched(before, p, "belongs to account batchkeyacct", "another --state-dir")
        p = self.rotate("--force", "-n", emu.DEFAULT_AAD_ONLY_ACCOUNT)
        self.assert_untouched(before, p, "belongs to account batchkeyacct")
        self.assertEqual(self.emulator.connections(), [])

    def test_second_rotator_on_one_state_is_refused(self):
        import fcntl
        self.first_rotation()
        before = self.state_bytes(), self.key_file()
        with open(os.path.join(self.state, ".lock"), "rb") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            p = self.rotate("--force")
        self.assert_untouched(before, p, "another batchkey process holds it")
        self.assertEqual(self.emulator.connections(), [])

    def mount_tmpfs(self, options):
        os.makedirs(self.state, exist_ok=True)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", self.state],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, "mounting a tmpfs for this test failed (it needs root "
                         f"and the mount command): {p.stderr}")
        self.mounts = getattr(self, "mounts", []) + [self.state]

    def test_unwritable_state_dir(self):
        if os.geteuid() == 0:
            self.mount_tmpfs("size=1m,mode=0700")
        self.first_rotation()
        before = self.state_bytes(), self.key_file()
        if os.geteuid() == 0:  # root writes through any mode: make the file system read-only
            subprocess.run(["mount", "-o", "remount,ro", self.state], check=True)
        else:
            os.chmod(self.state, 0o500)
        p = self.rotate("--max-age", "0")
        self.assert_untouched(before, p, "could not be read or written", self.state)

    def test_full_disk(self):
        self.assertEqual(os.geteuid(), 0, "the full-disk case mounts a small tmpfs: run as root")
        self.mount_tmpfs("size=64k,mode=0700")
        self.first_rotation()
        before = self.state_bytes(), self.key_file()
        filler = os.path.join(self.state, "filler")
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
        p = self.rotate("--max-age", "0")
        self.assert_untouched(before, p, "no space left", self.state)
        self.assertFalse(os.path.exists(os.path.join(self.state, ".rotation.tmp")))
        os.remove(filler)
        self.emulator.clear_log()
        self.rotate("--max-age", "0", check=0)
        self.assert_converged()


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--crash-bin", required=True)
    parser.add_argument("--crash-runner", default=None,
                        help="the command the crash-test build runs under (default: --runner)")
    parser.add_argument("--runner", default="",
                        help="a command that runs the binaries, e.g. qemu-aarch64 for a cross "
                        "build (split as a shell would)")
    ARGS, rest = parser.parse_known_args()
    ARGS.bin = os.path.abspath(ARGS.bin)
    ARGS.crash_bin = os.path.abspath(ARGS.crash_bin)
    ARGS.runner = shlex.split(ARGS.runner)
    ARGS.crash_runner = ARGS.runner if ARGS.crash_runner is None else shlex.split(ARGS.crash_runner)
    return emulator_case.run_suite(RotateTest, "rotation", rest)


if __name__ == "__main__":
    sys.exit(main())
