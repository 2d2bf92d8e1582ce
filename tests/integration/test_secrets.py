#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""No secret in anything batchkey writes: every command, every credential, at -v, through
tinyproxy with basic authentication, with a state directory; then stdout, stderr, every file in
the state directory and in the run's working directory are searched for every secret of the
run. Zero hits.

The secrets: the client secret; the certificate's private key (each line of its PEM body, its
whole base64 and its DER bytes); every access token the emulator issued; every client assertion
batchkey sent (certificate JWTs, federated tokens); every refresh token the emulator issued; the
proxy's password and the base64 of user:password it goes out as; App Service's identity header;
and every key the account held at any time of the run. The emulator runs in this process: what
it issued and received is read from it directly.

Exemptions, each only for the secret that place exists to hold, every other secret is searched
for there too:
  - the stdout of `keys` and `regenerate` (json, tsv, env) and of `keys --active`: printing the
    keys is those commands' job; with -o none they print nothing, and are searched for keys too;
  - the state directory's active.key (the active key, for the device's software) and rotation
    (the rotation record: both keys): they hold keys by design;
  - the state directory's refresh-token: it holds the refresh token by design.
The tls-* records hold TLS sessions, secrets of their own but none of the above: searched in full.

    python3 tests/integration/test_secrets.py --bin build/host/batchkey [--runner CMD] [TEST...]
"""
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))
import azure_emulator as emu  # noqa: E402
import emulator_case  # noqa: E402
import emulator_env  # noqa: E402
import test_proxy  # noqa: E402  (its Tinyproxy and the proxy's user and password)

ARGS = None
# Files that hold one kind of secret by design: that kind is not searched for in them.
FILE_HOLDS = {"active.key": "key", "rotation": "key", "refresh-token": "refresh token"}
CREDENTIAL_VARIABLES = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
                        "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
                        "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST")


def timeout(seconds):
    """A subprocess timeout, stretched by BATCHKEY_TEST_TIME_SCALE (valgrind's slowdown)."""
    return seconds * float(os.environ.get("BATCHKEY_TEST_TIME_SCALE", "1"))


def private_key_forms(pem_path):
    """The private key of a PEM file as it could leak: its body lines, the whole base64 and the
    DER bytes (bytes, to search binary files too)."""
    with open(pem_path, encoding="ascii") as f:
        text = f.read()
    match = re.search(r"-----BEGIN ([A-Z ]*PRIVATE KEY)-----\n(.*?)\n-----END \1-----", text,
                      re.S)
    assert match, f"no private key in {pem_path}"
    lines = [line for line in match.group(2).splitlines() if ":" not in line and line]
    body = "".join(lines)
    forms = [line.encode() for line in lines if len(line) >= 16]
    return forms + [body.encode(), base64.b64decode(body)]


class SecretsTest(emulator_case.EmulatorTestCase):
    TMP_PREFIX = "batchkey-secrets-"

    @classmethod
    def emulator_options(cls):
        return {"client_pki": os.path.join(cls.tmp, "client-pki"), "device_code_interval": 1}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.proxy = test_proxy.Tinyproxy(os.path.join(cls.tmp, "tinyproxy"))
        # Every client assertion that reached the token endpoint, read where the emulator checks
        # it (its log keeps only what kind it was).
        cls.assertions = set()
        check = cls.emulator._check_client_credential

        def recording(req, form):
            if form.get("client_assertion"):
                cls.assertions.add(form["client_assertion"])
            return check(req, form)
        cls.emulator._check_client_credential = recording
        # Every key the emulator makes, those a single run makes and replaces too (--retire).
        cls.made_keys = set()
        cls.new_account_key = emu.new_account_key

        def making_key():
            key = cls.new_account_key()
            cls.made_keys.add(key)
            return key
        emu.new_account_key = making_key

    @classmethod
    def tearDownClass(cls):
        emu.new_account_key = cls.new_account_key
        cls.proxy.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.acct = self.emulator.account()
        self.keys = set()
        self.note_keys()
        self.state = os.path.join(self.tmp, "state-" + self.id().rsplit(".", 1)[1])
        self.cwd = tempfile.mkdtemp(prefix="cwd-", dir=self.tmp)
        self.outputs = []  # (what, text, the secret kind it may hold)

    def tearDown(self):
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.rmtree(self.cwd, ignore_errors=True)

    # --- helpers ---

    def note_keys(self):
        self.keys |= {self.acct.primary, self.acct.secondary}

    def env(self, *layers):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             **emulator_env.settings(self.emulator.login_port, self.emulator.arm_port,
                                     os.path.join(self.pki, "ca.crt"),
                                     batch_port=self.emulator.batch_port),
             "BATCHKEY_STATE_DIR": self.state,
             "https_proxy": self.proxy.url()}
        for name in CREDENTIAL_VARIABLES:
            e.pop(name, None)
        for layer in layers:
            for k, v in layer.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
        return e

    def secret_env(self):
        return self.env({"AZURE_CLIENT_SECRET": emu.DEFAULT_CLIENT_SECRET})

    def cli(self, env, *args, check=0, prints_keys=False, offline=False):
        """Runs batchkey -v with args; keeps its stdout and stderr for the search. prints_keys:
        the command's job is to print keys on stdout (and it is not -o none); offline: it reads
        the state alone, and -v has nothing to tell."""
        p = subprocess.run([*ARGS.runner, ARGS.bin, "-v", *args], env=env, cwd=self.cwd,
                           capture_output=True, timeout=timeout(120))
        self.note_keys()
        what = " ".join(args)
        self.outputs.append((f"stdout of {what}", p.stdout, "key" if prints_keys else None))
        self.outputs.append((f"stderr of {what}", p.stderr, None))
        if check is not None:
            self.assertEqual(p.returncode, check, p.stderr.decode(errors="replace"))
        if not offline:
            self.assertTrue(p.stderr, f"{what}: -v said nothing")
        return p

    def secrets(self):
        """(kind, value as bytes) of every secret of the run so far."""
        found = [("client secret", emu.DEFAULT_CLIENT_SECRET.encode()),
                 ("proxy password", test_proxy.PASSWORD.encode()),
                 ("proxy credentials", base64.b64encode(
                     f"{test_proxy.USER}:{test_proxy.PASSWORD}".encode())),
                 ("identity header", self.emulator.identity_header.encode())]
        for pem in ("client-rsa.pem", "client-ec.pem"):
            path = os.path.join(self.emulator.client_pki, pem)
            found += [("private key", form) for form in private_key_forms(path)]
        with self.emulator._lock:
            found += [("access token", t.encode()) for t in self.emulator._tokens]
            found += [("refresh token", t.encode()) for t in self.emulator._refresh_tokens]
        found += [("client assertion", a.encode()) for a in self.assertions]
        found += [("key", k.encode()) for k in self.keys | self.made_keys]
        return found

    def written_files(self):
        """(what, bytes, the kind it holds by design) of every file in the state directory and
        in the working directory."""
        files = []
        for root, holds in ((self.state, True), (self.cwd, False)):
            for directory, _, names in os.walk(root):
                for name in names:
                    path = os.path.join(directory, name)
                    with open(path, "rb") as f:
                        files.append((path, f.read(), FILE_HOLDS.get(name) if holds else None))
        return files

    def assert_no_secret_anywhere(self):
        places = self.outputs + self.written_files()
        secrets = self.secrets()
        self.assertTrue(any(kind == "access token" for kind, _ in secrets))
        hits = [f"{kind} in {what}" for what, data, held in places for kind, value in secrets
                if kind != held and value in data]
        self.assertEqual(hits, [])
        for what, data, _ in self.outputs:  # nor any JWT: a token or assertion not known here
            self.assertNotIn(b"eyJ", data, what)

    # --- every command, every credential ---

    def test_client_secret_every_command(self):
        env = self.secret_env()
        self.cli(env, "show")
        for fmt in ("json", "tsv", "env"):
            self.cli(env, "keys", "-o", fmt, prints_keys=True)
        self.cli(env, "keys", "-o", "none")
        self.cli(env, "regenerate", "--key", "secondary", prints_keys=True)
        self.cli(env, "regenerate", "--key", "primary", "-o", "none")
        self.cli(env, "token")
        self.cli(env, "rotate")
        self.cli(env, "rotate", "--force", "--retire")
        self.cli(env, "rotate", "--dry-run", "--max-age", "0")
        self.cli(env, "status", offline=True)
        self.cli(env, "keys", "--active", prints_keys=True, offline=True)
        self.cli(env, "keys", "--active", "-o", "env", prints_keys=True, offline=True)
        self.assertTrue(os.path.exists(os.path.join(self.state, "active.key")))
        # A refusal and an ambiguous answer have their own lines to print.
        self.emulator.add_fault("status", op="regenerateKeys", status=500, act=True)
        self.cli(env, "regenerate", "--key", "secondary", check=8, prints_keys=True)
        self.cli(self.env({"AZURE_CLIENT_SECRET": "wrong-" + emu.DEFAULT_CLIENT_SECRET}), "show",
                 check=3)
        self.assertTrue(self.proxy.connects(), "nothing went through the proxy")
        self.assert_no_secret_anywhere()

    def test_certificate(self):
        env = self.env({"AZURE_CLIENT_CERTIFICATE_PATH":
                        os.path.join(self.emulator.client_pki, "client-rsa.pem")})
        self.cli(env, "--auth", "certificate", "token")
        self.cli(env, "--auth", "certificate", "regenerate", "--key", "secondary", "-o", "none")
        self.cli(env, "--auth", "certificate", "rotate")
        self.assertTrue(self.assertions)
        self.assert_no_secret_anywhere()

    def test_workload_identity(self):
        path = os.path.join(self.tmp, "federated-token")
        with open(path, "w", encoding="ascii") as f:
            f.write(self.emulator.federated_token() + "\n")
        env = self.env({"AZURE_FEDERATED_TOKEN_FILE": path})
        self.cli(env, "--auth", "workload", "token")
        self.cli(env, "--auth", "workload", "keys", "-o", "none")
        self.assert_no_secret_anywhere()

    def test_managed_identities(self):
        for kind in ("appservice", "arc", "imds"):
            env = self.env({"AZURE_TENANT_ID": None, "AZURE_CLIENT_ID": None},
                           self.emulator.credential_env(kind))
            self.cli(env, "--auth", "managed-identity", "token")
            self.cli(env, "--auth", "managed-identity", "regenerate", "--key", "primary",
                     "-o", "none")
        self.assert_no_secret_anywhere()

    def test_device_code_login_and_refresh_token(self):
        self.emulator.script_device_flow(["pending", "approve"])
        self.cli(self.env(), "login")
        self.assertTrue(os.path.exists(os.path.join(self.state, "refresh-token")))
        env = self.env({"BATCHKEY_AUTH": "device-code"})
        self.cli(env, "token")
        self.cli(env, "regenerate", "--key", "secondary", "-o", "none")
        self.cli(env, "keys", "-o", "tsv", prints_keys=True)
        self.assertGreaterEqual(len(self.emulator._refresh_tokens), 2)
        self.assert_no_secret_anywhere()

    def test_search_finds_what_it_looks_for(self):
        """The search itself: a planted secret of each kind is found, in output and in a file."""
        self.cli(self.secret_env(), "keys", "-o", "json", prints_keys=True)
        for kind, value in self.secrets():
            self.outputs = [("planted", b"x" + value + b"x", None)]
            with self.assertRaises(AssertionError, msg=kind):
                self.assert_no_secret_anywhere()
        self.outputs = []
        os.makedirs(self.state, exist_ok=True)
        with open(os.path.join(self.state, "refresh-token"), "wb") as f:
            f.write(self.acct.primary.encode())  # a key where only a refresh token belongs
        with self.assertRaises(AssertionError):
            self.assert_no_secret_anywhere()


def main():
    global ARGS
    ARGS = emulator_case.binary_arguments()
    ARGS.runner = ARGS.runner or []
    test_proxy.ARGS = ARGS
    return emulator_case.run_suite(SecretsTest, "secrets", ARGS.names)


if __name__ == "__main__":
    sys.exit(main())
