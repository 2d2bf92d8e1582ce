#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The batchkey CLI against the local Azure emulator: commands, output formats, exit codes,
faults, keep-alive, TLS failures, secrets, valgrind, and the README's C example.

    python3 tests/integration/test_cli.py --bin build/host/batchkey --example PATH \\
        [--runner qemu-aarch64] [TEST-NAME...]
"""
import argparse
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))
import azure_emulator as emu  # noqa: E402
import emulator_case  # noqa: E402
import emulator_env  # noqa: E402

ARGS = None
# Process start and exit take this many times longer than natively (valgrind: make
# valgrind-tests sets it); upper bounds on a run's time grow by it, nothing else does.
TIME_SCALE = float(os.environ.get("BATCHKEY_TEST_TIME_SCALE", "1"))


def runner_argv(binary, *args):
    """The command line running binary with args, through --runner when one is given."""
    return [*ARGS.runner, binary, *args]


class CliTest(emulator_case.EmulatorTestCase):
    TMP_PREFIX = "batchkey-it-"

    # --- helpers ---

    def env(self, **overrides):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             **emulator_env.settings(self.emulator.login_port, self.emulator.arm_port,
                                     os.path.join(self.pki, "ca.crt"))}
        for k, v in overrides.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def run_cli(self, *args, env=None, prefix=(), timeout=120):
        p = subprocess.run(list(prefix) + runner_argv(ARGS.bin, *args), env=env or self.env(),
                           capture_output=True, text=True, timeout=timeout)
        self.assertNotIn(emu.DEFAULT_CLIENT_SECRET, p.stdout + p.stderr)
        return p

    def account(self, name=emu.DEFAULT_ACCOUNT):
        return self.emulator.account(name=name)

    def requests(self, op=None):
        return self.emulator.requests(op=op)

    def assert_nothing_sent(self):
        self.assertEqual(self.emulator.connections(), [], "a connection reached the emulator")
        self.assertEqual(self.requests(), [])

    def assert_one_line_error(self, p, *fragments):
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("batchkey: "), lines[0])
        for f in fragments:
            self.assertIn(f, lines[0])

    # --- commands and output formats ---

    def test_show_json(self):
        p = self.run_cli("show")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["name"], emu.DEFAULT_ACCOUNT)
        self.assertEqual(out["location"], emu.DEFAULT_LOCATION)
        self.assertEqual(out["properties"]["accountEndpoint"],
                         f"{emu.DEFAULT_ACCOUNT}.{emu.DEFAULT_LOCATION}.batch.azure.com")
        self.assertEqual(out["properties"]["provisioningState"], "Succeeded")
        self.assertEqual(out["properties"]["allowedAuthenticationModes"],
                         ["SharedKey", "AAD", "TaskAuthenticationToken"])
        get = self.requests(op="get")
        self.assertEqual(len(get), 1)
        self.assertEqual(get[0]["method"], "GET")
        self.assertEqual(get[0]["headers"]["User-Agent"], "batchkey/0.1.0")
        self.assertNotIn("Accept-Encoding", get[0]["header_names"])
        self.assertNotIn("Content-Type", get[0]["header_names"])

    def test_show_tsv_and_env(self):
        p = self.run_cli("--output", "tsv", "show")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.rstrip("\n").split("\t"),
                         [emu.DEFAULT_ACCOUNT, emu.DEFAULT_LOCATION,
                          f"{emu.DEFAULT_ACCOUNT}.{emu.DEFAULT_LOCATION}.batch.azure.com",
                          "Succeeded", "SharedKey,AAD,TaskAuthenticationToken"])
        p = self.run_cli("show", "--output", "env")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, f"export AZURE_BATCH_ACCOUNT={emu.DEFAULT_ACCOUNT}\n"
                         "export AZURE_BATCH_ENDPOINT=https://batchkeyacct.westeurope.batch.azure.com\n")

    def test_keys_every_format(self):
        acct = self.account()
        p = self.run_cli("keys")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {"accountName": emu.DEFAULT_ACCOUNT,
                                                "primary": acct.primary,
                                                "secondary": acct.secondary})
        p = self.run_cli("keys", "--output", "tsv")
        self.assertEqual(p.stdout, f"{emu.DEFAULT_ACCOUNT}\t{acct.primary}\t{acct.secondary}\n")
        endpoint = "https://batchkeyacct.westeurope.batch.azure.com"
        for extra, key in (([], acct.primary), (["--key-name", "SECONDARY"], acct.secondary)):
            p = self.run_cli("keys", "--output", "env", *extra)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout, f"export AZURE_BATCH_ACCOUNT={emu.DEFAULT_ACCOUNT}\n"
                                       f"export AZURE_BATCH_ENDPOINT={endpoint}\n"
                                       f"export AZURE_BATCH_ACCESS_KEY={key}\n")
        lk = self.requests(op="listKeys")
        self.assertEqual(lk[0]["headers"]["Content-Length"], "0")
        self.assertNotIn("Content-Type", lk[0]["header_names"])

    def test_regenerate_secondary(self):
        acct = self.account()
        before_primary, before_secondary = acct.primary, acct.secondary
        p = self.run_cli("regenerate", "--key", "secondary")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["primary"], before_primary)
        self.assertNotEqual(out["secondary"], before_secondary)
        self.assertEqual(out["secondary"], acct.secondary)
        self.assertEqual(len(out["secondary"]), 88)
        regen = self.requests(op="regenerateKeys")
        self.assertEqual(len(regen), 1)
        self.assertEqual(regen[0]["key_name"], "Secondary")
        self.assertEqual(regen[0]["headers"]["Content-Type"], "application/json")

    def test_regenerate_primary_tsv(self):
        acct = self.account()
        before = acct.primary
        p = self.run_cli("--key", "PRIMARY", "--output", "tsv", "regenerate")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotEqual(acct.primary, before)
        self.assertEqual(p.stdout, f"{emu.DEFAULT_ACCOUNT}\t{acct.primary}\t{acct.secondary}\n")

    def test_token_prints_no_token(self):
        p = self.run_cli("token")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["token_type"], "Bearer")
        self.assertEqual(out["expires_in"], 3599)
        self.assertEqual(out["access_token_length"], 1600)
        self.assertEqual(out["credential"], "client secret")
        self.assertRegex(out["expires_on"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertLess(len(p.stdout), 250)
        tok = self.requests(op="token")
        self.assertEqual(len(tok), 1)
        self.assertEqual(tok[0]["grant_type"], "client_credentials")
        self.assertEqual(tok[0]["scope"], "https://management.azure.com/.default")
        p = self.run_cli("token", "--output", "env")
        self.assertIn("export AZURE_TOKEN_LENGTH=1600\n", p.stdout)
        self.assertIn("export AZURE_TOKEN_CREDENTIAL='client secret'\n", p.stdout)

    def test_options_from_command_line_override_environment(self):
        env = self.env(BATCHKEY_ACCOUNT="nosuchaccount")
        p = self.run_cli("--account", emu.DEFAULT_ACCOUNT, "show", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_help_and_version(self):
        p = self.run_cli("--help")
        self.assertEqual(p.returncode, 0)
        for command in ("show", "keys", "regenerate", "token"):
            self.assertRegex(p.stdout, rf"\n  {command} +\S")
        p = self.run_cli("--version")
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("batchkey 0.1.0"))
        self.assert_nothing_sent()

    # --- exit 2: bad input, nothing sent ---

    def test_bad_input_sends_nothing(self):
        cases = [
            (["show", "--account", "ab"], "invalid account name"),
            (["show", "--account", "has-dash"], "invalid account name"),
            (["show", "--subscription", "not-a-guid"], "not a GUID"),
            (["show", "--resource-group", "ends.with.dot."], "invalid resource group"),
            (["show", "--resource-group", "x" * 91], "invalid resource group"),
            (["show", "--resource-group", "bad\r\nX-Injected: 1"], "invalid resource group"),
            (["regenerate"], "needs --key-name"),
            (["regenerate", "--key", "tertiary"], "primary or secondary"),
            (["show", "--key", "primary"], "keys, regenerate and rotate only"),
            (["token", "--key-name", "primary"], "keys, regenerate and rotate only"),
            (["frobnicate"], "unknown command"),
            (["--bogus", "show"], "unknown option"),
            (["show", "extra"], "unexpected argument"),
            (["show", "--output", "xml"], "json, tsv, env or none"),
            (["show", "-o"], "missing value"),
            (["show", "--cloud", "Mars"], "unknown --cloud"),
            (["show", "--arm-endpoint", "http://localhost:1"], "https://host[:port]"),
            (["show", "--ca-file", "/nonexistent/ca.pem"], "cannot read the CA file", "--ca-file"),
            (["show", "--timeout", "0"], "--timeout"),
            (["show", "--deadline", "0"], "--deadline"),
            (["show", "--deadline", "1.5"], "--deadline"),
            (["show", "--deadline", "86401"], "--deadline"),
            ([], "no command"),
        ]
        for args, *fragments in cases:
            with self.subTest(args=args):
                p = self.run_cli(*args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assert_one_line_error(p, *fragments)
                self.assertEqual(p.stdout, "")
        env_cases = [
            (self.env(AZURE_CLIENT_SECRET=None), "AZURE_CLIENT_SECRET is not set"),
            (self.env(AZURE_TENANT_ID=None), "AZURE_TENANT_ID is not set"),
            (self.env(AZURE_CLIENT_ID=None), "AZURE_CLIENT_ID is not set"),
            (self.env(AZURE_CLIENT_ID="nope"), "AZURE_CLIENT_ID"),
            (self.env(AZURE_CLIENT_SECRET="line\nbreak"), "control character"),
            (self.env(AZURE_TENANT_ID="bad tenant"), "AZURE_TENANT_ID"),
            (self.env(AZURE_AUTHORITY_HOST="https://login\r\n.example"), "AZURE_AUTHORITY_HOST"),
            (self.env(BATCHKEY_ACCOUNT=None), "no account"),
            (self.env(AZURE_SUBSCRIPTION_ID=None), "no subscription"),
            (self.env(BATCHKEY_DEADLINE="soon"), "--deadline"),
        ]
        for env, fragment in env_cases:
            with self.subTest(env=fragment):
                p = self.run_cli("keys", env=env)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assert_one_line_error(p, fragment)
        self.assert_nothing_sent()

    # --- exit 3, 4: the services refuse ---

    def test_wrong_client_secret(self):
        p = self.run_cli("keys", env=self.env(AZURE_CLIENT_SECRET="not-the-secret"))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assert_one_line_error(p, "invalid_client", "AADSTS7000215", "trace_id")
        self.assertNotIn("not-the-secret", p.stderr)
        self.assertEqual(self.requests(op="listKeys"), [])

    def test_shared_key_not_allowed(self):
        for command in (["keys"], ["regenerate", "--key", "primary"]):
            with self.subTest(command=command):
                self.emulator.clear_log()
                p = self.run_cli(*command, "--account", emu.DEFAULT_AAD_ONLY_ACCOUNT)
                self.assertEqual(p.returncode, 4, p.stderr)
                rid = self.requests()[-1]["request_id"]
                self.assert_one_line_error(p, "HTTP 400", emu.SHARED_KEY_DISALLOWED_CODE,
                                           f"x-ms-request-id: {rid}")

    def test_unknown_account(self):
        p = self.run_cli("show", "--account", "nosuchaccount")
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assert_one_line_error(p, "HTTP 404", "ResourceNotFound", "x-ms-request-id")

    # --- exit 5: TLS, before any HTTP byte ---

    def test_untrusted_ca(self):
        p = self.run_cli("keys", "--ca-file", os.path.join(self.pki, "untrusted-ca.crt"))
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assert_one_line_error(p, "not trusted", f"TLS handshake with localhost:", "--ca-file")
        self.assertEqual(self.requests(), [])
        conns = self.emulator.wait_connections(1)
        self.assertGreaterEqual(len(conns), 1)
        self.assertTrue(all(c["tls"] == "failed" for c in conns), conns)

    def test_wrong_host_name(self):
        with emu.Emulator(self.pki, cert="wrongname") as wrong:
            env = self.env(AZURE_AUTHORITY_HOST=wrong.login_url, BATCHKEY_ARM_ENDPOINT=wrong.arm_url)
            p = self.run_cli("keys", env=env)
            self.assertEqual(p.returncode, 5, p.stderr)
            self.assert_one_line_error(p, "host name")
            self.assertEqual(wrong.requests(), [])
            self.assertGreaterEqual(len(wrong.wait_connections(1)), 1)

    def test_connection_refused(self):
        port = unused_port()
        p = self.run_cli("keys", env=self.env(AZURE_AUTHORITY_HOST=f"https://localhost:{port}",
                                              BATCHKEY_ARM_ENDPOINT=f"https://localhost:{port}"))
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assert_one_line_error(p, f"TCP connect to localhost:{port} failed")

    # --- faults ---

    def test_429_with_retry_after_is_retried_on_one_connection(self):
        self.emulator.add_fault("status", op="get", status=429, retry_after=1)
        start = time.monotonic()
        p = self.run_cli("show", "-v")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertGreaterEqual(time.monotonic() - start, 1.0)
        self.assertEqual([r["status"] for r in self.requests(op="get")], [429, 200])
        self.assertEqual(len(self.emulator.connections("arm")), 1)
        self.assertIn("retrying in 1000 ms", p.stderr)

    def test_retry_after_styles(self):
        for style in emu.RETRY_AFTER_STYLES:
            with self.subTest(style=style):
                self.emulator.clear_log()
                self.emulator.add_fault("status", op="listKeys", status=429, retry_after=1,
                                        retry_after_style=style)
                p = self.run_cli("keys")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual([r["status"] for r in self.requests(op="listKeys")], [429, 200])

    def test_server_errors_retried_for_reads(self):
        for status in (500, 502, 503, 504):
            with self.subTest(status=status):
                self.emulator.clear_log()
                self.emulator.add_fault("status", op="listKeys", status=status)
                p = self.run_cli("keys")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual([r["status"] for r in self.requests(op="listKeys")],
                                 [status, 200])

    def test_busy_to_the_end_is_not_a_refusal(self):
        # Transient answers that outlast the retries: exit 5, try again later.
        for status in (408, 429, 500, 503):
            with self.subTest(status=status):
                self.emulator.clear_log()
                self.emulator.add_fault("status", op="get", status=status, count=-1,
                                        retry_after=0)
                p = self.run_cli("show")
                self.assertEqual(p.returncode, 5, p.stderr)
                rid = self.requests(op="get")[-1]["request_id"]
                self.assert_one_line_error(p, "try again later", f"HTTP {status}",
                                           f"x-ms-request-id: {rid}")
                self.assertEqual(len(self.requests(op="get")), 4)
                self.emulator.clear_faults()
        # A refusal: exit 4, fix the request, at once.
        self.emulator.clear_log()
        p = self.run_cli("show", "-n", "nosuchaccount")
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assert_one_line_error(p, "refused", "HTTP 404", "ResourceNotFound")
        self.assertEqual(len(self.requests(op="get")), 1)

    def test_request_id_only_of_the_request_that_failed(self):
        # A 503 first, then answers that never come: the 503's id is not the failure's.
        self.emulator.add_fault("status", op="listKeys", status=503, retry_after=0)
        self.emulator.add_fault("drop_before", op="listKeys", count=-1)
        p = self.run_cli("keys")
        self.assertEqual(p.returncode, 5, p.stderr)
        first = self.requests(op="listKeys")[0]
        self.assertEqual(first["status"], 503)
        self.assertNotIn(first["request_id"], p.stderr)
        self.assert_one_line_error(p, "POST listKeys to localhost:", "x-ms-client-request-id")

    def test_regenerate_not_resent_after_500(self):
        acct = self.account()
        before = acct.secondary
        self.emulator.add_fault("status", op="regenerateKeys", status=500)
        p = self.run_cli("regenerate", "--key", "secondary")
        self.assertEqual(p.returncode, 8, p.stderr)
        self.assertEqual(len(self.requests(op="regenerateKeys")), 1)
        self.assertEqual(len(self.requests(op="listKeys")), 1)
        self.assertEqual(json.loads(p.stdout)["secondary"], acct.secondary)
        self.assertEqual(acct.secondary, before)  # the emulator's 500 did not act
        self.assert_one_line_error(p, "outcome unknown")

    def test_regenerate_dropped_after_acting(self):
        acct = self.account()
        before = acct.secondary
        self.emulator.add_fault("drop", op="regenerateKeys")
        p = self.run_cli("regenerate", "--key", "secondary")
        self.assertEqual(p.returncode, 8, p.stderr)
        self.assertNotEqual(acct.secondary, before)
        # The keys printed are the ones the service now holds, read with listKeys.
        self.assertEqual(json.loads(p.stdout)["secondary"], acct.secondary)
        self.assertEqual(len(self.requests(op="regenerateKeys")), 1)
        self.assertEqual(len(self.requests(op="listKeys")), 1)

    def test_regenerate_truncated_or_slow_is_ambiguous(self):
        for kind, extra in (("truncate", {}), ("slow", {"seconds": 3})):
            with self.subTest(kind=kind):
                self.emulator.clear_log()
                self.emulator.add_fault(kind, op="regenerateKeys", **extra)
                p = self.run_cli("regenerate", "--key", "primary", "--timeout", "1")
                self.assertEqual(p.returncode, 8, p.stderr)
                self.assertEqual(len(self.requests(op="regenerateKeys")), 1)
                self.assertEqual(json.loads(p.stdout)["primary"], self.account().primary)

    def test_reads_survive_drops_truncation_and_slowness(self):
        for kind, extra in (("drop", {}), ("drop_before", {}), ("truncate", {}),
                            ("slow", {"seconds": 3})):
            with self.subTest(kind=kind):
                self.emulator.clear_log()
                self.emulator.add_fault(kind, op="listKeys", **extra)
                p = self.run_cli("keys", "--timeout", "1")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(len(self.requests(op="listKeys")), 2)

    def test_network_failure_every_time(self):
        self.emulator.add_fault("drop_before", op="get", count=-1)
        p = self.run_cli("show")
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertEqual(len(self.requests(op="get")), 4)

    def test_chunked_answers(self):
        for command, op in ((["show"], "get"), (["keys"], "listKeys"),
                            (["regenerate", "--key", "secondary"], "regenerateKeys"),
                            (["token"], "token")):
            with self.subTest(op=op):
                self.emulator.clear_log()
                self.emulator.add_fault("chunked", op=op, chunk_size=7)
                p = self.run_cli(*command)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIsNotNone(self.requests(op=op)[0]["fault"])
        self.assertEqual(json.loads(p.stdout)["access_token_length"], 1600)

    def test_malformed_or_oversized_answers(self):
        for body in ('{"accountName": tru}', '{"accountName": "a"}', "x" * 20000):
            with self.subTest(body=body[:24]):
                self.emulator.add_fault("malformed", op="listKeys", body=body)
                p = self.run_cli("keys")
                self.assertEqual(p.returncode, 6, p.stderr)
                self.assert_one_line_error(p, "keys failed: POST listKeys to localhost:")
                self.assertEqual(p.stdout, "")
        # A regenerate that answered 200 acted: unreadable is not the same as refused.
        self.emulator.add_fault("malformed", op="regenerateKeys")
        p = self.run_cli("regenerate", "--key", "secondary")
        self.assertEqual(p.returncode, 8, p.stderr)
        self.assertEqual(json.loads(p.stdout)["secondary"], self.account().secondary)

    def test_claims_challenge(self):
        self.emulator.add_fault("401_claims", op="listKeys")
        p = self.run_cli("keys")
        self.assertEqual(p.returncode, 0, p.stderr)
        tokens = self.requests(op="token")
        self.assertEqual(len(tokens), 2)
        # Both declare the client capability cp1; the second answers the challenge.
        self.assertIn("claims", tokens[0]["form_fields"])
        self.assertIn("claims", tokens[1]["form_fields"])
        self.assertEqual(tokens[0].get("client_capabilities"), ["cp1"])
        self.assertTrue(tokens[1].get("claims_challenge_answered"))

    def test_expired_token_is_exit_3(self):
        self.emulator.add_fault("status", op="listKeys", status=401, code="InvalidAuthenticationToken")
        p = self.run_cli("keys")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assert_one_line_error(p, "HTTP 401", "InvalidAuthenticationToken")

    # --- at most once, and a truthful report ---

    def assert_outcome_unknown(self, p, regen_entry):
        """Exit 8, the keys the emulator holds now on stdout, and one line naming the
        regenerate's own request id before the reconciling listKeys' id."""
        self.assertEqual(p.returncode, 8, p.stderr)
        acct = self.account()
        printed = json.loads(p.stdout)
        self.assertEqual((printed["primary"], printed["secondary"]),
                         (acct.primary, acct.secondary))
        lists = self.requests(op="listKeys")
        self.assertEqual(len(lists), 1)
        line = p.stderr.strip()
        self.assert_one_line_error(p, "outcome unknown")
        if regen_entry["status"] is not None:
            regen_id = f"x-ms-request-id: {regen_entry['request_id']}"
            self.assertIn(regen_id, line)
            self.assertLess(line.index(regen_id),
                            line.index(f"x-ms-request-id: {lists[0]['request_id']}"))
        self.assertIn(f"listKeys x-ms-request-id: {lists[0]['request_id']}", line)

    def test_regenerate_sent_once_whatever_the_answer(self):
        # Every answer but a 200, a 429 or a definite 4xx refusal may mean the key changed.
        cases = [(status, retry_after, act)
                 for status in (500, 502, 503, 504) for retry_after in (None, 1)
                 for act in (False, True)]
        cases += [(202, None, True), (202, 1, True), (202, 1, False), (408, None, False),
                  (408, 1, False)]
        for status, retry_after, act in cases:
            with self.subTest(status=status, retry_after=retry_after, act=act):
                self.emulator.clear_log()
                before = self.account().secondary
                self.emulator.add_fault("status", op="regenerateKeys", status=status,
                                        retry_after=retry_after, act=act)
                p = self.run_cli("regenerate", "--key", "secondary")
                regen = self.requests(op="regenerateKeys")
                self.assertEqual(len(regen), 1, p.stderr)
                self.assertEqual(regen[0]["status"], status)
                self.assert_outcome_unknown(p, regen[0])
                self.assertIn(f"HTTP {status}", p.stderr)
                self.assertEqual(self.account().secondary != before, act)

    def test_regenerate_resent_only_after_429(self):
        for retry_after in (None, 1):
            with self.subTest(retry_after=retry_after):
                self.emulator.clear_log()
                self.emulator.add_fault("status", op="regenerateKeys", status=429,
                                        retry_after=retry_after)
                p = self.run_cli("regenerate", "--key", "primary")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual([r["status"] for r in self.requests(op="regenerateKeys")],
                                 [429, 200])
                self.assertEqual(json.loads(p.stdout)["primary"], self.account().primary)

    def test_regenerate_refusals_are_final(self):
        for status, code in ((400, "InvalidParameter"), (403, "AuthorizationFailed"),
                             (409, "Conflict")):
            with self.subTest(status=status):
                self.emulator.clear_log()
                before = self.account().primary
                self.emulator.add_fault("status", op="regenerateKeys", status=status, code=code,
                                        retry_after=1)
                p = self.run_cli("regenerate", "--key", "primary")
                self.assertEqual(p.returncode, 4, p.stderr)
                rid = self.requests(op="regenerateKeys")[0]["request_id"]
                self.assert_one_line_error(p, f"HTTP {status}", code, f"x-ms-request-id: {rid}")
                self.assertEqual(len(self.requests(op="regenerateKeys")), 1)
                self.assertEqual(self.requests(op="listKeys"), [])
                self.assertEqual(self.account().primary, before)
                self.assertEqual(p.stdout, "")

    def test_regenerate_claims_challenge_is_not_answered_twice(self):
        self.emulator.add_fault("401_claims", op="regenerateKeys")
        p = self.run_cli("regenerate", "--key", "secondary")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(len(self.requests(op="regenerateKeys")), 1)
        self.assert_one_line_error(p, "HTTP 401", "InvalidAuthenticationToken")

    def test_long_diagnostic_ids_never_fail_an_answer(self):
        acct = self.account()
        for command, op in ((["show"], "get"), (["keys"], "listKeys"),
                            (["regenerate", "--key", "secondary"], "regenerateKeys"),
                            (["token"], "token")):
            with self.subTest(op=op):
                self.emulator.clear_log()
                self.emulator.add_fault("long_ids", op=op, length=300)
                p = self.run_cli(*command, "-v")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(len(self.requests(op=op)), 1)
                long_id = self.requests(op=op)[0]["request_id"]
                self.assertEqual(len(long_id), 300)
                if op in ("listKeys", "regenerateKeys"):
                    out = json.loads(p.stdout)
                    self.assertEqual((out["primary"], out["secondary"]),
                                     (acct.primary, acct.secondary))
                if op != "token":
                    # The id is cut where it stops fitting, and marked.
                    self.assertIn(long_id[:50], p.stderr)
                    self.assertNotIn(long_id, p.stderr)
                    self.assertIn("[...]", p.stderr)

    def test_long_ids_on_an_error_are_cut_on_the_error_line(self):
        self.emulator.add_fault("long_ids", op="get", length=300)
        p = self.run_cli("show", "--account", "nosuchaccount")
        self.assertEqual(p.returncode, 4, p.stderr)
        long_id = self.requests(op="get")[0]["request_id"]
        self.assert_one_line_error(p, "HTTP 404", "ResourceNotFound", long_id[:50], "[...]")

    def test_policy_denial_keeps_code_and_reason(self):
        for command, op in ((["regenerate", "--key", "primary"], "regenerateKeys"),
                            (["keys"], "listKeys")):
            with self.subTest(op=op):
                self.emulator.clear_log()
                self.emulator.add_fault("policy_denial", op="any", listener="arm")
                p = self.run_cli(*command)
                self.assertEqual(p.returncode, 4, p.stderr)
                rid = self.requests()[-1]["request_id"]
                self.assert_one_line_error(p, "HTTP 403", "RequestDisallowedByPolicy",
                                           "disallowed by policy", f"x-ms-request-id: {rid}")
                self.assertEqual(len(self.requests(op=op)), 1)

    def test_stalled_or_trickling_server_ends_by_the_deadline(self):
        for kind, extra in (("stall", {}), ("trickle", {"interval": 0.5})):
            with self.subTest(kind=kind):
                self.emulator.clear_log()
                self.emulator.add_fault(kind, op="get", count=-1, **extra)
                start = time.monotonic()
                p = self.run_cli("show", "--deadline", "3")
                elapsed = time.monotonic() - start
                self.assertEqual(p.returncode, 5, p.stderr)
                self.assert_one_line_error(p, "timed out")
                self.assertEqual(p.stdout, "")
                # A correctness bound: the command's own deadline plus process start and exit.
                self.assertGreaterEqual(elapsed, 2.5)
                self.assertLess(elapsed, 3.0 + 2.0 * TIME_SCALE)
        self.emulator.clear_faults()

    def test_stalled_regenerate_is_reconciled_within_the_deadline(self):
        before = self.account().secondary
        self.emulator.add_fault("stall", op="regenerateKeys")
        start = time.monotonic()
        p = self.run_cli("regenerate", "--key", "secondary", "--deadline", "6")
        self.assertLess(time.monotonic() - start, 6.0 + 2.0 * TIME_SCALE)
        regen = self.requests(op="regenerateKeys")
        self.assertEqual(len(regen), 1)
        self.assert_outcome_unknown(p, regen[0])
        self.assertNotEqual(self.account().secondary, before)  # the stall had acted
        self.assertIn("no answer: timed out", p.stderr)

    def test_close_delimited_answers(self):
        acct = self.account()
        # Ended by close_notify: a whole answer.
        self.emulator.add_fault("close_delimited", op="listKeys", clean=True)
        p = self.run_cli("keys")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["primary"], acct.primary)
        # Ended by a bare FIN: possibly cut short, never taken as whole.
        self.emulator.clear_log()
        self.emulator.add_fault("close_delimited", op="listKeys", count=-1)
        p = self.run_cli("keys")
        self.assertEqual(p.returncode, 6, p.stderr)
        self.assert_one_line_error(p, "connection closed before the response ended")
        self.assertEqual(p.stdout, "")
        self.assertEqual(len(self.requests(op="listKeys")), 4)
        self.emulator.clear_faults()
        # Under a regenerate: ambiguous, reconciled.
        self.emulator.clear_log()
        self.emulator.add_fault("close_delimited", op="regenerateKeys")
        p = self.run_cli("regenerate", "--key", "primary")
        regen = self.requests(op="regenerateKeys")
        self.assertEqual(len(regen), 1)
        self.assert_outcome_unknown(p, regen[0])

    # --- the az CLI's language ---

    def test_az_style_options_and_case(self):
        acct = self.account()
        env = self.env(BATCHKEY_RESOURCE_GROUP=None, BATCHKEY_ACCOUNT=None)
        p = self.run_cli("keys", "-g", emu.DEFAULT_RESOURCE_GROUP, "-n", emu.DEFAULT_ACCOUNT,
                         "-o", "TSV", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, f"{emu.DEFAULT_ACCOUNT}\t{acct.primary}\t{acct.secondary}\n")
        p = self.run_cli("regenerate", "--key-name", "Secondary", "--output", "Json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["secondary"], self.account().secondary)
        self.assertEqual(self.requests(op="regenerateKeys")[-1]["key_name"], "Secondary")

    def test_output_none_prints_nothing(self):
        for command in (["show"], ["keys"], ["regenerate", "--key", "primary"], ["token"]):
            with self.subTest(command=command[0]):
                p = self.run_cli(*command, "-o", "none")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stdout, "")
                self.assertEqual(p.stderr, "")

    def test_command_help(self):
        for command in ("show", "keys", "regenerate", "token"):
            with self.subTest(command=command):
                p = self.run_cli(command, "--help")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertTrue(p.stdout.startswith(f"usage: batchkey {command}"), p.stdout)
                example = p.stdout.split("example:\n  ", 1)[1].split("\n", 1)[0]
                self.assertIn(f"batchkey {command}", example)
                self.assertIn("--deadline", p.stdout)
        self.assert_nothing_sent()

    def test_env_output_reaches_the_next_program(self):
        # eval of -o env sets exported variables: a program started next sees them.
        batchkey = shlex.join(runner_argv(ARGS.bin))
        script = (f'eval "$({batchkey} keys -o env --key-name secondary)" && '
                  'sh -c \'printf "%s %s %s" "$AZURE_BATCH_ACCOUNT" "$AZURE_BATCH_ENDPOINT" '
                  '"$AZURE_BATCH_ACCESS_KEY"\'')
        p = subprocess.run(["sh", "-c", script], env=self.env(), capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, f"{emu.DEFAULT_ACCOUNT} "
                         "https://batchkeyacct.westeurope.batch.azure.com "
                         f"{self.account().secondary}")

    def test_failed_host_lookup_names_the_host(self):
        p = self.run_cli("keys", "--timeout", "10",
                         env=self.env(AZURE_AUTHORITY_HOST="https://login.batchkey-test.invalid"))
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assert_one_line_error(p, "login.batchkey-test.invalid")
        self.assertEqual(self.emulator.connections(), [])

    # --- connections, secrets, memory ---

    def test_connections_reads_share_regenerate_goes_alone(self):
        # One token connection; ARM reads share a kept-alive connection, and each regenerateKeys
        # POST goes out on a new one, so a connection the server closed meanwhile never makes
        # its answer unknown.
        self.emulator.add_fault("status", op="regenerateKeys", status=429, retry_after=0)
        p = self.run_cli("regenerate", "--key", "secondary")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.emulator.connections("login")), 1)
        regen = self.requests(op="regenerateKeys")
        self.assertEqual(len(regen), 2)
        self.assertEqual(len({r["conn"] for r in regen}), 2)
        self.assertEqual([r["conn_request"] for r in regen], [1, 1])
        self.emulator.clear_log()
        self.emulator.add_fault("status", op="get", status=503, retry_after=0)
        p = self.run_cli("show")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len({r["conn"] for r in self.requests(op="get")}), 1)

    def test_tls_version_is_the_newest_both_sides_have(self):
        # mbedTLS 2.28 stops at TLS 1.2; Debian's 3.6 adds 1.3, whose session tickets arrive
        # after the handshake and must not spoil the reuse of a kept-alive connection.
        version = self.run_cli("--version").stdout
        expected = "TLSv1.3" if re.search(r"TLS 3\.\d+\.\d+", version) else "TLSv1.2"
        p = self.run_cli("show")
        self.assertEqual(p.returncode, 0, p.stderr)
        conns = self.emulator.connections()
        self.assertEqual(len(conns), 2, conns)
        self.assertEqual({c["tls_version"] for c in conns}, {expected}, version)

    def test_verbose_redacts_secrets(self):
        acct = self.account()
        p = self.run_cli("-v", "keys")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("x-ms-request-id", p.stderr)
        for secret in (acct.primary, acct.secondary, "Bearer ey"):
            self.assertNotIn(secret, p.stderr)

    def test_valgrind_regenerate(self):
        if ARGS.runner:
            # valgrind runs programs of this host's CPU only: under qemu-user it would check
            # the emulator, not batchkey.
            self.skipTest("valgrind cannot check a binary run through --runner")
        p = self.run_cli("regenerate", "--key", "secondary",
                         prefix=["valgrind", "--quiet", "--leak-check=full",
                                 "--show-leak-kinds=all", "--errors-for-leak-kinds=all",
                                 "--error-exitcode=99"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("==", p.stderr)

    def test_readme_example_program(self):
        acct = self.account()
        before = acct.secondary
        p = subprocess.run(runner_argv(ARGS.example), env=self.env(), capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotEqual(acct.secondary, before)
        self.assertIn("88 characters", p.stdout)


def unused_port():
    """A loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--example", required=True)
    parser.add_argument("--runner", default="",
                        help="a command that runs the binaries, e.g. qemu-aarch64 for a cross "
                        "build (split as a shell would)")
    ARGS, rest = parser.parse_known_args()
    ARGS.bin = os.path.abspath(ARGS.bin)
    ARGS.example = os.path.abspath(ARGS.example)
    ARGS.runner = shlex.split(ARGS.runner)
    return emulator_case.run_suite(CliTest, "integration", rest)


if __name__ == "__main__":
    sys.exit(main())
