#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every credential of batchkey against the emulator, which verifies them as Entra ID and the
managed identity endpoints do: certificates (PS256, RS256, ES256, x5c, encrypted keys),
workload identity, App Service, Azure Arc (with the checks on its challenge file) and IMDS;
DefaultAzureCredential's order; what is refused before anything is sent; and no secret, no
assertion and no token in anything batchkey prints, even with -v.

    python3 tests/integration/test_credentials.py --bin build/host/batchkey \\
        [--runner qemu-aarch64] [TEST-NAME...]
"""
import argparse
import json
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))
import azure_emulator as emu  # noqa: E402
import emulator_case  # noqa: E402
import emulator_env  # noqa: E402

ARGS = None
SECRET_VARIABLES = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
                    "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
                    "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST")


def runner_argv(binary, *args):
    """The command line running binary with args, through --runner when one is given."""
    return [*ARGS.runner, binary, *args]


class CredentialTest(emulator_case.EmulatorTestCase):
    TMP_PREFIX = "batchkey-credentials-"

    @classmethod
    def emulator_options(cls):
        return {"client_pki": os.path.join(cls.tmp, "client-pki"), "device_code_interval": 1}

    # --- helpers ---

    def env(self, *layers, **overrides):
        """The emulator's settings without any credential, then layers (dicts) and overrides in
        turn; a value None removes the variable."""
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             **emulator_env.settings(self.emulator.login_port, self.emulator.arm_port,
                                     os.path.join(self.pki, "ca.crt"),
                                     batch_port=self.emulator.batch_port)}
        for name in SECRET_VARIABLES:
            e.pop(name, None)
        for layer in layers + (overrides,):
            for k, v in layer.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
        return e

    def pem(self, name):
        return os.path.join(self.emulator.client_pki, name)

    def cli(self, *args, env):
        p = subprocess.run(runner_argv(ARGS.bin, *args), env=env, capture_output=True, text=True,
                           timeout=120)
        self.assert_nothing_secret(p.stdout + p.stderr)
        return p

    def assert_nothing_secret(self, text):
        self.assertNotIn(emu.DEFAULT_CLIENT_SECRET, text)
        self.assertNotIn(emu.CLIENT_CERTIFICATE_PASSWORD, text)
        self.assertNotIn(self.emulator.identity_header, text)
        self.assertNotIn("PRIVATE KEY", text)
        self.assertNotIn("eyJ", text)  # no JWT: token, assertion, federated token
        acct = self.emulator.account()
        self.assertNotIn(acct.primary, text)
        self.assertNotIn(acct.secondary, text)

    def token(self, env, *args):
        p = self.cli("-v", "token", *args, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def token_requests(self, listener="login"):
        return self.emulator.requests(listener=listener)

    def assert_refused_before_sending(self, p, code, *fragments):
        self.assertEqual(p.returncode, code, p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        for f in fragments:
            self.assertIn(f, lines[0])
        self.assertEqual(self.emulator.connections(), [], "something was sent")

    def assert_one_line(self, p, code, *fragments):
        self.assertEqual(p.returncode, code, p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        for f in fragments:
            self.assertIn(f, lines[0])

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="ascii") as f:
            f.write(text)
        return path

    def mbedtls3(self):
        p = subprocess.run(runner_argv(ARGS.bin, "--version"), capture_output=True, text=True,
                           check=True)
        return "TLS 3." in p.stdout

    # --- certificate ---

    def test_certificate_ps256_end_to_end(self):
        env = self.env(AZURE_CLIENT_CERTIFICATE_PATH=self.pem("client-rsa.pem"))
        out = self.token(env)
        self.assertEqual(out["credential"], "certificate")
        (req,) = self.token_requests()
        self.assertEqual(req["credential"], "certificate")
        self.assertEqual(req["assertion_alg"], "PS256")
        self.assertFalse(req["assertion_x5c"])
        self.assertNotIn("client_secret", req["form_fields"])
        acct = self.emulator.account()
        before = acct.secondary
        p = self.cli("regenerate", "--key-name", "secondary", "-o", "none", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotEqual(acct.secondary, before)

    def test_certificate_rs256_on_request(self):
        env = self.env(AZURE_CLIENT_CERTIFICATE_PATH=self.pem("client-rsa.pem"),
                       BATCHKEY_ASSERTION_ALG="RS256")
        self.token(env)
        self.assertEqual(self.token_requests()[0]["assertion_alg"], "RS256")
        self.emulator.clear_log()
        p = self.cli("token", "--assertion-alg", "HS256", env=env)
        self.assert_refused_before_sending(p, 2, "--assertion-alg must be PS256 or RS256")

    def test_ec_certificate_signs_es256(self):
        for name in ("client-ec.pem", "client-ec-sec1.pem"):
            self.emulator.clear_log()
            env = self.env(AZURE_CLIENT_CERTIFICATE_PATH=self.pem(name))
            self.token(env)
            self.assertEqual(self.token_requests()[0]["assertion_alg"], "ES256", name)

    def test_certificate_chain_sent_as_x5c(self):
        for value in ("1", "true", "TRUE"):
            self.emulator.clear_log()
            env = self.env(AZURE_CLIENT_CERTIFICATE_PATH=self.pem("client-chain.pem"),
                           AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=value)
            self.token(env)
            self.assertTrue(self.token_requests()[0]["assertion_x5c"], value)
        self.emulator.clear_log()
        env = self.env(AZURE_CLIENT_CERTIFICATE_PATH=self.pem("client-chain.pem"),
                       AZURE_CLIENT_SEND_CERTIFICATE_CHAIN="0")
        self.token(env)
        self.assertFalse(self.token_requests()[0]["assertion_x5c"])

    def test_other_key_formats(self):
        for name in ("client-rsa-pkcs1.pem", "client-rsa-enc-des3.pem",
                     "client-rsa-enc-legacy.pem"):
            self.emulator.clear_log()
            env = self.env(AZURE_CLIENT_CERTIFICATE_PATH=self.pem(name),
                           AZURE_CLIENT_CERTIFICATE_PASSWORD=emu.CLIENT_CERTIFICATE_PASSWORD)
            p = self.cli("token", env=env)
            if name.endswith("legacy.pem") and p.returncode != 0:
                # OpenSSL's traditional encrypted PEM with AES: mbedTLS reads it only when built
                # with the ciphers it names; the refusal must then be the clear one.
                self.assert_refused_before_sending(p, 2, "encrypted")
                continue
            self.assertEqual(p.returncode, 0, f"{name}: {p.stderr}")

    def test_aes_encrypted_key(self):
        env = self.env(AZURE_CLIENT_CERTIFICATE_PATH=self.pem("client-rsa-enc.pem"),
                       AZURE_CLIENT_CERTIFICATE_PASSWORD=emu.CLIENT_CERTIFICATE_PASSWORD)
        p = self.cli("token", env=env)
        if self.mbedtls3():
            self.assertEqual(p.returncode, 0, p.stderr)
        else:
            self.assert_refused_before_sending(p, 2, "cipher this build cannot decrypt", "des3")

    def test_encrypted_key_needs_the_right_password(self):
        path = self.pem("client-rsa-enc-des3.pem")
        for password in (None, "wrong-password"):
            self.emulator.clear_log()
            env = self.env(AZURE_CLIENT_CERTIFICATE_PATH=path,
                           AZURE_CLIENT_CERTIFICATE_PASSWORD=password)
            p = self.cli("token", env=env)
            self.assert_refused_before_sending(p, 2, path, "wrong or missing password")

    def test_unusable_certificate_files(self):
        no_key = self.write("cert-only.pem", open(self.pem("client-rsa.crt")).read())
        other_key = self.write("mismatch.pem", open(self.pem("client-rsa.crt")).read()
                               + open(self.pem("client-ec.pem")).read().split(
                                   "-----END CERTIFICATE-----\n", 1)[1])
        for path in (no_key, other_key, os.path.join(self.tmp, "missing.pem"),
                     self.write("garbage.pem", "not a PEM\n")):
            self.emulator.clear_log()
            p = self.cli("token", env=self.env(AZURE_CLIENT_CERTIFICATE_PATH=path))
            self.assert_refused_before_sending(p, 2, "cannot use AZURE_CLIENT_CERTIFICATE_PATH",
                                               path)

    def test_certificates_entra_refuses(self):
        cases = (("client-unregistered.pem", "AADSTS700027"),
                 ("client-expired.pem", "AADSTS"))
        for name, code in cases:
            p = self.cli("show", env=self.env(AZURE_CLIENT_CERTIFICATE_PATH=self.pem(name)))
            self.assert_one_line(p, 3, code, "trace_id")
            self.assertEqual(self.emulator.requests(listener="arm"), [])

    # --- workload identity ---

    def test_workload_identity(self):
        path = self.write("federated-token", self.emulator.federated_token() + "\n")
        env = self.env(AZURE_FEDERATED_TOKEN_FILE=path)
        out = self.token(env)
        self.assertEqual(out["credential"], "workload identity")
        self.assertEqual(self.token_requests()[0]["credential"], "workload")
        p = self.cli("regenerate", "--key-name", "secondary", "-o", "none", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        # The file is read anew: a token the platform replaced with a bad one is what goes.
        self.write("federated-token", self.emulator.federated_token(subject="system:other:x"))
        p = self.cli("token", env=env)
        self.assert_one_line(p, 3, "AADSTS700213")

    def test_workload_identity_refusals(self):
        expired = self.write("expired-token", self.emulator.federated_token(
            lifetime=60, not_before=1))
        p = self.cli("token", env=self.env(AZURE_FEDERATED_TOKEN_FILE=expired))
        self.assert_one_line(p, 3, "AADSTS700024")
        missing = os.path.join(self.tmp, "no-such-token")
        self.emulator.clear_log()
        p = self.cli("token", env=self.env(AZURE_FEDERATED_TOKEN_FILE=missing))
        self.assert_refused_before_sending(p, 2, "cannot read AZURE_FEDERATED_TOKEN_FILE")

    # --- managed identities ---

    def mi_env(self, kind, **more):
        return self.env({"AZURE_TENANT_ID": None, "AZURE_CLIENT_ID": None},
                        self.emulator.credential_env(kind), more)

    def test_managed_identities_end_to_end(self):
        names = {"appservice": "managed identity (App Service)",
                 "arc": "managed identity (Azure Arc)", "imds": "managed identity (IMDS)"}
        for kind, name in names.items():
            with self.subTest(kind=kind):
                self.emulator.clear_log()
                env = self.mi_env(kind)
                out = self.token(env)
                self.assertEqual(out["credential"], name)
                acct = self.emulator.account()
                before = acct.secondary
                p = self.cli("regenerate", "--key-name", "secondary", "-o", "none", env=env)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertNotEqual(acct.secondary, before)
                self.assertTrue(self.emulator.requests(listener=kind))
                self.assertEqual(self.emulator.requests(listener="login"), [])

    def test_user_assigned_identity(self):
        env = self.mi_env("imds", AZURE_CLIENT_ID=emu.DEFAULT_USER_ASSIGNED_CLIENT_ID)
        self.token(env)
        self.emulator.clear_log()
        env = self.mi_env("imds", AZURE_CLIENT_ID="0b7e6d7a-0000-4000-8000-000000000001")
        p = self.cli("token", env=env)
        self.assert_one_line(p, 3, "Identity not found")

    def test_imds_retries_not_found_and_gone(self):
        for status in (404, 410, 503):
            with self.subTest(status=status):
                self.emulator.clear_log()
                self.emulator.add_fault("status", op="imds", status=status)
                self.token(self.mi_env("imds"))
                self.assertEqual(len(self.emulator.requests(listener="imds")), 2)

    def test_app_service_wrong_header(self):
        p = self.cli("token", env=self.mi_env("appservice", IDENTITY_HEADER="not-the-header"))
        self.assert_one_line(p, 3, "HTTP 401", "managed_identity_error")

    def test_arc_challenge_files_refused(self):
        for variant in ("outside", "not_key", "symlink", "oversized", "traversal", "subdir",
                        "relative"):
            with self.subTest(variant=variant):
                self.emulator.clear_log()
                self.emulator.add_fault("arc_realm", variant=variant)
                p = self.cli("token", env=self.mi_env("arc"))
                self.assert_one_line(p, 3, "Azure Arc challenge")
                arc = self.emulator.requests(listener="arc")
                self.assertEqual(len(arc), 1, "the secret went out")  # the challenge alone
                self.assertFalse(arc[0]["authorization_present"])

    def test_arc_challenge_file_at_the_limit(self):
        self.emulator.add_fault("arc_realm", variant="limit")
        self.token(self.mi_env("arc"))

    # --- a person's sign-in: device code, then the refresh token ---

    def state_env(self, **more):
        state = os.path.join(self.tmp, "state-" + self.id().rsplit(".", 1)[1])
        return self.env({"AZURE_CLIENT_SECRET": None, "BATCHKEY_STATE_DIR": state}, more)

    def refresh_token_kept(self, env):
        with open(os.path.join(env["BATCHKEY_STATE_DIR"], "refresh-token"),
                  encoding="ascii") as f:
            record = f.read()
        return record.split("\ntoken ", 1)[1].split("\n", 1)[0]

    def test_login_then_device_code_runs(self):
        env = self.state_env()
        self.emulator.script_device_flow(["pending", "slow_down", "approve"])
        p = self.cli("-v", "login", "-o", "json", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("https://microsoft.com/devicelogin", p.stderr)
        self.assertEqual(json.loads(p.stdout)["credential"], "device code")
        record = os.path.join(env["BATCHKEY_STATE_DIR"], "refresh-token")
        self.assertEqual(os.stat(record).st_mode & 0o777, 0o600)
        polls = [r for r in self.token_requests() if r.get("device_poll")]
        self.assertEqual(len(polls), 3)
        self.assertGreaterEqual(polls[2]["device_poll_gap"], 1 + 5 - 0.5)  # slow_down: +5 s
        scopes = [r for r in self.token_requests() if r["op"] == "devicecode"]
        self.assertTrue(scopes[0]["offline_access"])
        # Later runs trade the kept refresh token, and keep the new one (each is single-use).
        for _ in range(2):
            before = self.refresh_token_kept(env)
            p = self.cli("-v", "regenerate", "--key-name", "secondary", "--auth", "device-code",
                         "-o", "none", env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            after = self.refresh_token_kept(env)
            self.assertNotEqual(before, after)
            self.assertNotIn(after, p.stdout + p.stderr)
            self.assertNotIn(before, p.stdout + p.stderr)
        # The state directory holds the sign-in and the TLS sessions, nothing else.
        self.assertEqual(sorted(os.listdir(env["BATCHKEY_STATE_DIR"])),
                         [".lock", "refresh-token", "tls-arm", "tls-authority"])

    def test_revoked_sign_in_asks_for_login(self):
        env = self.state_env()
        self.emulator.script_device_flow(["approve"])
        self.assertEqual(self.cli("login", env=env).returncode, 0)
        self.emulator.revoke_refresh_tokens()
        p = self.cli("token", "--auth", "device-code", env=env)
        self.assert_one_line(p, 3, "invalid_grant", "batchkey login again")

    def test_login_declined_or_expired(self):
        for step, code in (("decline", "authorization_declined"), ("expire", "expired_token")):
            with self.subTest(step=step):
                env = self.state_env()
                self.emulator.script_device_flow([step])
                p = self.cli("login", env=env)
                self.assertEqual(p.returncode, 3, p.stderr)
                self.assertIn(code, p.stderr.strip().splitlines()[-1])
                self.assertFalse(os.path.exists(os.path.join(env["BATCHKEY_STATE_DIR"],
                                                             "refresh-token")))

    def test_device_code_without_a_sign_in(self):
        env = self.state_env()
        os.makedirs(env["BATCHKEY_STATE_DIR"], mode=0o700)
        p = self.cli("token", "--auth", "device-code", env=env)
        self.assert_refused_before_sending(p, 3, "run batchkey login first")

    def test_valgrind_clean(self):
        if ARGS.runner:
            # valgrind runs programs of this host's CPU only: under qemu-user it would check
            # the emulator, not batchkey.
            self.skipTest("valgrind cannot check a binary run through --runner")
        valgrind = ["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=all",
                    "--errors-for-leak-kinds=all", "--error-exitcode=99"]
        cases = {
            "certificate": self.env(AZURE_CLIENT_CERTIFICATE_PATH=self.pem("client-chain.pem"),
                                    AZURE_CLIENT_SEND_CERTIFICATE_CHAIN="1"),
            "refused key": self.env(AZURE_CLIENT_CERTIFICATE_PATH=self.pem(
                "client-rsa-enc-des3.pem"), AZURE_CLIENT_CERTIFICATE_PASSWORD="wrong-password"),
            "arc": self.mi_env("arc"),
        }
        for name, env in cases.items():
            with self.subTest(name=name):
                p = subprocess.run(valgrind + [ARGS.bin, "keys", "-o", "none"], env=env,
                                   capture_output=True, text=True, timeout=300)
                self.assertIn(p.returncode, (0, 2), p.stderr)
                self.assertNotIn("==", p.stderr)

    # --- the chain, and what is refused before anything is sent ---

    def test_default_azure_credential_order(self):
        token_file = self.write("federated-token", self.emulator.federated_token())
        cert = self.pem("client-rsa.pem")
        everything = dict(AZURE_CLIENT_SECRET=emu.DEFAULT_CLIENT_SECRET,
                          AZURE_CLIENT_CERTIFICATE_PATH=cert,
                          AZURE_FEDERATED_TOKEN_FILE=token_file,
                          **self.emulator.credential_env("appservice"))
        order = ("client secret", "certificate", "workload identity",
                 "managed identity (App Service)")
        drop = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
                "AZURE_FEDERATED_TOKEN_FILE")
        for i, name in enumerate(order):
            env = self.env(everything, {d: None for d in drop[:i]})
            if i == 3:  # AZURE_CLIENT_ID names a user-assigned identity for a managed one
                env.pop("AZURE_CLIENT_ID")
            self.assertEqual(self.token(env)["credential"], name)
        # --auth picks one whatever else is set.
        env = self.env(everything)
        self.assertEqual(self.token(env, "--auth", "workload")["credential"], "workload identity")
        env = self.env(everything, AZURE_CLIENT_ID=None, BATCHKEY_AUTH="managed-identity")
        self.assertEqual(self.token(env)["credential"], "managed identity (App Service)")

    def test_refused_before_sending(self):
        cases = (
            (self.env(AZURE_CLIENT_SECRET=None), ["token"], "AZURE_CLIENT_SECRET is not set"),
            (self.env(), ["token", "--auth", "kerberos"], "--auth must be"),
            (self.env(AZURE_CLIENT_ID=None, AZURE_CLIENT_CERTIFICATE_PATH=self.pem(
                "client-rsa.pem")), ["token", "--auth", "certificate"],
             "AZURE_CLIENT_ID is not set"),
            (self.mi_env("appservice", IDENTITY_HEADER=None), ["token"],
             "IDENTITY_ENDPOINT is set without"),
            (self.mi_env("imds", AZURE_POD_IDENTITY_AUTHORITY_HOST="ftp://127.0.0.1"),
             ["token"], "managed identity endpoint is not"),
            (self.env(BATCHKEY_ARM_ENDPOINT=f"http://localhost:{self.emulator.arm_port}"),
             ["show"], "ARM endpoint is not https"),
            (self.env(AZURE_AUTHORITY_HOST=f"http://localhost:{self.emulator.login_port}"),
             ["token"], "AZURE_AUTHORITY_HOST is not https"),
            (self.env(AZURE_AUTHORITY_HOST=None), ["show"],
             "BATCHKEY_ARM_ENDPOINT is not the cloud's ARM"),
            (self.mi_env("imds", AZURE_AUTHORITY_HOST=None), ["show"],
             "BATCHKEY_ARM_ENDPOINT is not the cloud's ARM"),
        )
        for env, args, fragment in cases:
            with self.subTest(args=args, fragment=fragment):
                self.emulator.clear_log()
                p = self.cli(*args, env=env)
                self.assert_refused_before_sending(p, 2, fragment)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--runner", default="",
                        help="a command that runs the binaries, e.g. qemu-aarch64 for a cross "
                        "build (split as a shell would)")
    ARGS, rest = parser.parse_known_args()
    ARGS.bin = os.path.abspath(ARGS.bin)
    ARGS.runner = shlex.split(ARGS.runner)
    return emulator_case.run_suite(CredentialTest, "credentials", rest)


if __name__ == "__main__":
    sys.exit(main())
