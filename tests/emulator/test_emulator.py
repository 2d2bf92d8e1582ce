# SPDX-License-Identifier: MIT
"""Tests of the Azure emulator itself: python3 -m unittest tests/emulator/test_emulator.py"""

import base64
import email.utils
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import azure_emulator as ae  # noqa: E402

PKI = CLIENT_PKI = None
BASE = (f"/subscriptions/{ae.DEFAULT_SUBSCRIPTION_ID}/resourceGroups/{ae.DEFAULT_RESOURCE_GROUP}"
        "/providers/Microsoft.Batch/batchAccounts/")
QUERY = "?api-version=" + ae.API_VERSION
APPLICATIONS_QUERY = "api-version=2024-07-01.20.0&maxresults=1"

# The known-answer vector the C client is tested against too: account batchkeyacct, key = base64
# of the bytes 0..63, one ocp-date header, GET /applications?api-version=...&maxresults=1.
KAT_KEY = base64.b64encode(bytes(range(64))).decode("ascii")
KAT_DATE = "Wed, 02 Dec 2026 14:18:04 GMT"
KAT_STRING_TO_SIGN = ("GET\n\n\n\n\n\n\n\n\n\n\n\n"
                      "ocp-date:Wed, 02 Dec 2026 14:18:04 GMT\n"
                      "/batchkeyacct/applications\n"
                      "api-version:2024-07-01.20.0\n"
                      "maxresults:1")
KAT_SIGNATURE = "am6e8x6whOhlWfbzPVHKM739lMQLXNjB1mxEafZ3V+A="


def setUpModule():
    global PKI, CLIENT_PKI, _pki_holder
    _pki_holder = tempfile.TemporaryDirectory()
    PKI = os.path.join(_pki_holder.name, "pki")
    CLIENT_PKI = os.path.join(_pki_holder.name, "client-pki")
    subprocess.run(["sh", os.path.join(HERE, "make_test_pki.sh"), PKI], check=True)
    subprocess.run(["sh", os.path.join(HERE, "make_client_pki.sh"), CLIENT_PKI], check=True)


def tearDownModule():
    _pki_holder.cleanup()


def temp_dir(test):
    holder = tempfile.TemporaryDirectory()
    test.addCleanup(holder.cleanup)
    return holder.name


def wait_for(condition, timeout=3.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def read_to_end(tls):
    """The pieces one recv() call each gave until the connection ended, and how it ended:
    "close_notify" (a TLS close) or "tcp" (a bare TCP close, which TLS calls an unexpected EOF).
    tls must come from eof_aware_context() with suppress_ragged_eofs=False."""
    pieces = []
    try:
        while piece := tls.recv(65536):
            pieces.append(piece)
    except ssl.SSLError as exc:
        # Before 3.11.3 the unexpected EOF is a plain SSLError, not SSLEOFError (cpython
        # gh-95494).
        if not isinstance(exc, ssl.SSLEOFError) and exc.reason != "UNEXPECTED_EOF_WHILE_READING":
            raise
        return pieces, "tcp"
    return pieces, "close_notify"


def eof_aware_context(cafile):
    """A client context that tells a close_notify from a bare TCP close on every Python 3.11:
    until 3.11.3, default contexts set OP_IGNORE_UNEXPECTED_EOF, which makes a bare close read
    as b"", exactly like a close_notify."""
    context = ssl.create_default_context(cafile=cafile)
    context.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    return context


def string_to_sign(method, headers, account, path, query):
    """The test's own SharedKey string to sign (written from the Batch documentation, not from
    the emulator's code): headers is a list of (name, value) pairs as sent."""
    def header(wanted):
        found = [v.strip() for n, v in headers if n.lower() == wanted.lower()]
        return ",".join(found)
    standard = [header(name) for name in (
        "content-encoding", "content-language", "content-length", "content-md5", "content-type",
        "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range")]
    if standard[2] == "0":
        standard[2] = ""
    ocp = sorted({n.lower() for n, _ in headers if n.lower().startswith("ocp-")})
    params = {}
    for pair in query.split("&") if query else []:
        name, _, value = pair.partition("=")
        params.setdefault(urllib.parse.unquote_plus(name).lower(), []).append(
            urllib.parse.unquote_plus(value))
    return (method + "\n" + "".join(value + "\n" for value in standard)
            + "".join(f"{name}:{header(name)}\n" for name in ocp)
            + f"/{account}{path}"
            + "".join(f"\n{name}:{','.join(sorted(params[name]))}" for name in sorted(params)))


def sign(key, text):
    digest = hmac.new(base64.b64decode(key), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def now_rfc1123(offset=0.0):
    return email.utils.formatdate(time.time() + offset, usegmt=True)


def account_path(op="get", account=ae.DEFAULT_ACCOUNT):
    suffix = {"get": "", "listKeys": "/listKeys", "regenerateKeys": "/regenerateKeys"}[op]
    return BASE + account + suffix + QUERY


class EmulatorTest(unittest.TestCase):
    emulator_options = {}

    def setUp(self):
        self.emu = ae.Emulator(PKI, **self.emulator_options).start()
        self.addCleanup(self.emu.stop)
        self.ctx = ssl.create_default_context(cafile=self.emu.ca_file)

    def connect(self, listener="arm", timeout=5):
        port = getattr(self.emu, f"{listener}_port")
        conn = http.client.HTTPSConnection("localhost", port, context=self.ctx, timeout=timeout)
        self.addCleanup(conn.close)
        return conn

    def call(self, method, path, body=None, headers=None, listener="arm", conn=None):
        conn = conn or self.connect(listener)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response, response.read()

    def token_request(self, **overrides):
        form = {"grant_type": "client_credentials", "client_id": self.emu.client_id,
                "client_secret": self.emu.client_secret,
                "scope": "https://management.azure.com/.default"}
        form.update(overrides)
        form = {k: v for k, v in form.items() if v is not None}
        tenant = form.pop("tenant", self.emu.tenant_id)
        status, response, body = self.call(
            "POST", f"/{tenant}/oauth2/v2.0/token", urllib.parse.urlencode(form),
            {"Content-Type": "application/x-www-form-urlencoded"}, listener="login")
        return status, response, json.loads(body)

    def arm(self, op="get", account=ae.DEFAULT_ACCOUNT, body=None, token=None, conn=None,
            headers=None):
        all_headers = {"Authorization": "Bearer " + (token or self.emu.issue_token())}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        method = "GET" if op == "get" else "POST"
        if method == "POST" and body is None:
            body = b""
        status, response, raw = self.call(method, account_path(op, account), body, all_headers,
                                          conn=conn)
        return status, response, json.loads(raw) if raw else None

    def regenerate(self, key_name="Primary", **kw):
        return self.arm("regenerateKeys", body=json.dumps({"keyName": key_name}), **kw)

    def signed_headers(self, key, account=ae.DEFAULT_ACCOUNT, query=APPLICATIONS_QUERY,
                       path="/applications", date=None, headers=None, method="GET"):
        """(headers for a SharedKey-signed request, its string to sign, its signature)."""
        pairs = [("ocp-date", date or now_rfc1123())] if date is not False else []
        pairs += list((headers or {}).items())
        text = string_to_sign(method, pairs, account, path, query)
        signature = sign(key, text)
        return dict(pairs, Authorization=f"SharedKey {account}:{signature}"), text, signature

    def data_plane(self, key=None, account=ae.DEFAULT_ACCOUNT, query=APPLICATIONS_QUERY,
                   path="/applications", conn=None, **kw):
        """A signed GET on the batch listener: (status, response, JSON body or None)."""
        key = key or self.emu.account().primary
        headers, _, _ = self.signed_headers(key, account, query, path, **kw)
        status, response, raw = self.call("GET", f"{path}?{query}" if query else path,
                                          headers=headers, listener="batch", conn=conn)
        return status, response, json.loads(raw) if raw else None


class EntraTest(EmulatorTest):
    def test_client_secret_token(self):
        status, response, body = self.token_request()
        self.assertEqual(status, 200)
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual((body["expires_in"], body["ext_expires_in"]), (3599, 3599))
        token = body["access_token"]
        self.assertGreaterEqual(len(token), 1500)
        header, payload, _signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        self.assertEqual(claims["aud"], "https://management.azure.com")
        self.assertEqual(claims["tid"], self.emu.tenant_id)
        self.assertIn("no-store", response.getheader("Cache-Control"))
        self.assertEqual(self.arm(token=token)[0], 200)

    def test_errors_are_aadsts_shaped(self):
        cases = [({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
                 ({"tenant": "00000000-1111-2222-3333-444444444444"}, 400, "invalid_request",
                  90002),
                 ({"client_id": "00000000-1111-2222-3333-444444444444"}, 400,
                  "unauthorized_client", 700016),
                 ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
                 ({"scope": "https://management.azure.com"}, 400, "invalid_scope", 1002012),
                 ({"scope": "https://vault.azure.net/.default"}, 400, "invalid_resource", 500011),
                 ({"client_secret": None}, 401, "invalid_client", 7000218),
                 ({"grant_type": None}, 400, "invalid_request", 900144)]
        for overrides, status, error, code in cases:
            with self.subTest(overrides=overrides):
                got_status, _, body = self.token_request(**overrides)
                self.assertEqual((got_status, body["error"], body["error_codes"]),
                                 (status, error, [code]))
                self.assertTrue(body["error_description"].startswith(f"AADSTS{code}: "))
                for field in ("timestamp", "trace_id", "correlation_id"):
                    self.assertIn(field, body)

    def test_scope_of_the_emulated_arm_endpoint(self):
        scope = f"https://localhost:{self.emu.arm_port}/.default"
        self.assertEqual(self.token_request(scope=scope)[0], 200)

    def test_assertion_without_registered_certificate_is_refused(self):
        # No client_pki: the application has no certificate, so no assertion can be verified
        # (the emulator once accepted any well-formed one; it now verifies as Entra does).
        def part(obj):
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
        now = int(time.time())
        claims = {"aud": "x", "iss": self.emu.client_id, "sub": self.emu.client_id,
                  "nbf": now, "iat": now, "exp": now + 600, "jti": "1"}
        thumbprint = base64.urlsafe_b64encode(bytes(32)).rstrip(b"=").decode()
        assertion = ".".join((part({"alg": "PS256", "x5t#S256": thumbprint}), part(claims),
                              "c2ln"))
        kind = ae.CLIENT_ASSERTION_TYPE
        self.assertEqual(self.emu.client_certificates(), [])
        status, _, body = self.token_request(client_secret=None, client_assertion=assertion,
                                             client_assertion_type=kind)
        self.assertEqual((status, body["error_codes"]), (401, [50027]))  # jti is not a UUID
        claims["jti"] = "9b2f6c1e-3d4a-4f5b-8c7d-0e1f2a3b4c5d"
        assertion = ".".join((part({"alg": "PS256", "x5t#S256": thumbprint}), part(claims),
                              "c2ln"))
        status, _, body = self.token_request(client_secret=None, client_assertion=assertion,
                                             client_assertion_type=kind)
        self.assertEqual((status, body["error"], body["error_codes"]),
                         (401, "invalid_client", [700027]))
        self.assertIn("The key was not found.", body["error_description"])
        bad = self.token_request(client_secret=None, client_assertion="not-a-jwt",
                                 client_assertion_type=kind)
        self.assertEqual((bad[0], bad[2]["error_codes"]), (401, [50027]))
        self.assertEqual([e["assertion_error"] for e in self.emu.requests(op="token")],
                         ["jti_not_uuid", "key_not_found",
                          "malformed: not three dot-separated parts"])


class ArmTest(EmulatorTest):
    def test_get_account(self):
        status, response, body = self.arm(headers={"x-ms-client-request-id": "req-1"})
        self.assertEqual(status, 200)
        self.assertEqual(body["name"], ae.DEFAULT_ACCOUNT)
        properties = body["properties"]
        self.assertEqual(properties["allowedAuthenticationModes"],
                         ["SharedKey", "AAD", "TaskAuthenticationToken"])
        self.assertEqual(properties["accountEndpoint"],
                         f"{ae.DEFAULT_ACCOUNT}.{ae.DEFAULT_LOCATION}.batch.azure.com")
        self.assertEqual(properties["provisioningState"], "Succeeded")
        self.assertEqual(response.getheader("Content-Type"), "application/json; charset=utf-8")
        self.assertEqual(response.getheader("x-ms-client-request-id"), "req-1")
        self.assertTrue(response.getheader("x-ms-request-id"))
        self.assertTrue(response.getheader("x-ms-correlation-request-id"))

    def test_list_keys(self):
        status, response, body = self.arm("listKeys")
        self.assertEqual(status, 200)
        account = self.emu.account()
        self.assertEqual(body, {"accountName": ae.DEFAULT_ACCOUNT, "primary": account.primary,
                                "secondary": account.secondary})
        self.assertEqual((len(body["primary"]), len(body["secondary"])), (88, 88))
        self.assertTrue(response.getheader("x-ms-ratelimit-remaining-subscription-writes"))
        self.assertEqual(self.emu.requests(op="listKeys")[0]["headers"]["Content-Length"], "0")

    def test_regenerate_changes_only_that_key(self):
        before = self.arm("listKeys")[2]
        for key_name, field, other in (("Secondary", "secondary", "primary"),
                                       ("Primary", "primary", "secondary")):
            status, _, after = self.regenerate(key_name)
            self.assertEqual(status, 200)
            self.assertNotEqual(after[field], before[field])
            self.assertEqual(len(after[field]), 88)
            self.assertEqual(after[other], before[other])
            self.assertEqual(after, self.arm("listKeys")[2])
            before = after

    def test_bearer_token_required(self):
        status, response, body = self.call("POST", account_path("listKeys"), b"")
        self.assertEqual((status, body and json.loads(body)["error"]["code"]),
                         (401, "AuthenticationFailed"))
        challenge = response.getheader("WWW-Authenticate")
        self.assertTrue(challenge.startswith(
            f'Bearer authorization_uri="https://login.microsoftonline.com/{self.emu.tenant_id}"'))
        self.assertIn('error="invalid_token"', challenge)
        self.assertEqual(self.arm(token="forged.token.value")[2]["error"]["code"],
                         "InvalidAuthenticationToken")
        token = self.emu.issue_token()
        self.emu.expire_tokens()
        self.assertEqual(self.arm(token=token)[2]["error"]["code"], "ExpiredAuthenticationToken")

    def test_account_without_shared_key(self):
        account = ae.DEFAULT_AAD_ONLY_ACCOUNT
        self.assertEqual(self.arm(account=account)[2]["properties"]["allowedAuthenticationModes"],
                         ["AAD"])
        for op, body in (("listKeys", None), ("regenerateKeys", '{"keyName":"Primary"}')):
            status, _, error = self.arm(op, account=account, body=body)
            self.assertEqual((status, error["error"]["code"]),
                             (400, ae.SHARED_KEY_DISALLOWED_CODE))

    def test_request_errors(self):
        token = self.emu.issue_token()
        auth = {"Authorization": "Bearer " + token}
        json_auth = dict(auth, **{"Content-Type": "application/json"})
        regenerate = account_path("regenerateKeys")
        cases = [
            ("GET", account_path().replace(QUERY, ""), None, auth, 400,
             "MissingApiVersionParameter"),
            ("GET", account_path().replace(QUERY, "?api-version=2018-12-01"), None, auth, 400,
             "NoRegisteredProviderFound"),
            ("GET", account_path().replace(QUERY, "?api-version=latest"), None, auth, 400,
             "InvalidApiVersionParameter"),
            ("GET", account_path(account="nosuchacct"), None, auth, 404, "ResourceNotFound"),
            ("GET", account_path().replace("batchkey-rg", "other-rg"), None, auth, 404,
             "ResourceGroupNotFound"),
            ("GET", account_path().replace(ae.DEFAULT_SUBSCRIPTION_ID,
                                           "00000000-0000-0000-0000-000000000001"), None, auth,
             404, "SubscriptionNotFound"),
            ("GET", account_path().replace(ae.DEFAULT_SUBSCRIPTION_ID, "not-a-guid"), None, auth,
             400, "InvalidSubscriptionId"),
            ("GET", account_path("listKeys"), None, auth, 405, "MethodNotAllowed"),
            ("POST", regenerate, b'{"keyName":', json_auth, 400, "InvalidRequestContent"),
            ("POST", regenerate, b'{"keyName":"Primary"}', auth, 415, "UnsupportedMediaType"),
            ("POST", regenerate, b'{"keyName":"Tertiary"}', json_auth, 400, "InvalidParameter"),
            ("POST", regenerate, b"{}", json_auth, 400, "InvalidParameter"),
        ]
        for method, path, body, headers, status, code in cases:
            with self.subTest(code=code, path=path):
                got, _, raw = self.call(method, path, body, headers)
                self.assertEqual((got, json.loads(raw)["error"]["code"]), (status, code))
        error = json.loads(self.call("POST", regenerate, b'{"keyName":"primary"}', json_auth)[2])
        self.assertEqual(error["error"]["target"], "keyName")
        self.assertEqual(error["error"]["details"][0]["target"], "keyName")
        self.assertEqual(self.emu.account().primary, self.arm("listKeys", token=token)[2]["primary"])

    def test_wire_framing_rules(self):
        conn = self.connect()
        conn.putrequest("POST", account_path("listKeys"))  # no Content-Length
        conn.putheader("Authorization", "Bearer " + self.emu.issue_token())
        conn.endheaders()
        self.assertEqual(conn.getresponse().status, 411)
        for host in ("localhost", f"localhost:{self.emu.arm_port + 1}"):
            status, response, body = self.call("GET", account_path(), headers={"Host": host})
            self.assertEqual((status, response.getheader("Content-Type")),
                             (400, "text/html; charset=us-ascii"))
            self.assertIn(b"Invalid Hostname", body)

    def test_relay_ports(self):
        # make bench's byte meter relays from ports of its own, which the Host header names.
        relay = f"localhost:{self.emu.arm_port + 1}"
        auth = {"Host": relay, "Authorization": "Bearer " + self.emu.issue_token()}
        self.assertEqual(self.call("GET", account_path(), headers=auth)[0], 400)
        self.assertEqual(self.emu.configure(relay_ports=[self.emu.arm_port + 1])["relay_ports"],
                         [self.emu.arm_port + 1])
        self.assertEqual(self.call("GET", account_path(), headers=auth)[0], 200)
        for bad in (["1"], [0], [True], 443):
            with self.subTest(relay_ports=bad):
                status, _, _ = self.call("POST", "/_emulator/settings",
                                         json.dumps({"relay_ports": bad}))
                self.assertEqual(status, 400)


class FaultTest(EmulatorTest):
    def fault_in_log(self, op):
        return [e["fault"] for e in self.emu.requests(op=op)]

    def test_throttling_and_retry_after_styles(self):
        for style, header in (("seconds", "Retry-After"), ("http-date", "Retry-After"),
                              ("retry-after-ms", "retry-after-ms"),
                              ("x-ms-retry-after-ms", "x-ms-retry-after-ms")):
            with self.subTest(style=style):
                self.emu.add_fault("status", "regenerateKeys", status=429, retry_after=2,
                                   retry_after_style=style)
                before = self.emu.account().primary
                status, response, body = self.regenerate()
                self.assertEqual((status, body["error"]["code"]),
                                 (429, "SubscriptionRequestsThrottled"))
                self.assertEqual(self.emu.account().primary, before)  # not acted upon
                value = response.getheader(header)
                if style == "seconds":
                    self.assertEqual(value, "2")
                elif style == "http-date":
                    self.assertGreater(email.utils.parsedate_to_datetime(value).timestamp(),
                                       time.time())
                else:
                    self.assertEqual(value, "2000")
                self.assertEqual(self.regenerate()[0], 200)  # count 1: fired once
        self.assertEqual([f and f["status"] for f in self.fault_in_log("regenerateKeys")],
                         [429, None] * 4)

    def test_server_errors_with_count(self):
        for status in (500, 502, 503, 504):
            self.emu.add_fault("status", "listKeys", status=status, count=2)
            for _ in range(2):
                got, _, body = self.arm("listKeys")
                self.assertEqual(got, status)
                self.assertIn("code", body["error"])
            self.assertEqual(self.arm("listKeys")[0], 200)

    def test_token_endpoint_fault_is_entra_shaped(self):
        self.emu.add_fault("status", "token", status=503)
        status, _, body = self.token_request()
        self.assertEqual((status, body["error"]), (503, "temporarily_unavailable"))
        self.assertEqual(self.token_request()[0], 200)

    def test_skip_lets_requests_through_first(self):
        self.emu.add_fault("status", "get", status=500, skip=1)
        self.assertEqual([self.arm()[0] for _ in range(3)], [200, 500, 200])

    def test_drop_after_acting(self):
        before = self.emu.account().primary
        self.emu.add_fault("drop", "regenerateKeys")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.regenerate()
        self.assertNotEqual(self.emu.account().primary, before)  # the ambiguous case
        entry = self.emu.requests(op="regenerateKeys")[0]
        self.assertEqual((entry["status"], entry["fault"]["kind"]), (None, "drop"))

    def test_drop_before_acting(self):
        before = self.emu.account().primary
        self.emu.add_fault("drop_before", "regenerateKeys")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.regenerate()
        self.assertEqual(self.emu.account().primary, before)

    def raw_request(self, op="listKeys", connection_close=True):
        """A TLS connection to ARM on which one request was written by hand (see read_to_end)."""
        raw_socket = socket.create_connection(("127.0.0.1", self.emu.arm_port), timeout=5)
        tls = eof_aware_context(self.emu.ca_file).wrap_socket(
            raw_socket, server_hostname="localhost", suppress_ragged_eofs=False)
        self.addCleanup(tls.close)
        body = b'{"keyName":"Primary"}' if op == "regenerateKeys" else b""
        tls.sendall((f"{'GET' if op == 'get' else 'POST'} {account_path(op)} HTTP/1.1\r\n"
                     f"Host: localhost:{self.emu.arm_port}\r\n"
                     f"Authorization: Bearer {self.emu.issue_token()}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                     + ("Connection: close\r\n" if connection_close else "")
                     + "\r\n").encode() + body)
        return tls

    def raw_list_keys(self):
        """A listKeys exchange read to the end of the connection, and how that end came."""
        pieces, end = read_to_end(self.raw_request("listKeys"))
        return b"".join(pieces), end

    def closes(self):
        return [e for e in self.emu.log if e["event"] == "close"]

    def test_close_notify_only_on_graceful_close(self):
        raw, end = self.raw_list_keys()
        self.assertIn(b"HTTP/1.1 200 OK", raw)
        self.assertEqual(end, "close_notify")
        for kind in ("truncate", "drop", "drop_before"):
            with self.subTest(kind=kind):
                self.emu.add_fault(kind, "listKeys")
                raw, end = self.raw_list_keys()
                self.assertEqual((bool(raw), end), (kind == "truncate", "tcp"))

    def test_chunked_answer(self):
        self.emu.add_fault("chunked", "listKeys", chunk_size=16)
        raw, end = self.raw_list_keys()
        self.assertEqual(end, "close_notify")
        head, _, chunked = raw.partition(b"\r\n\r\n")
        self.assertIn(b"Transfer-Encoding: chunked", head)
        self.assertNotIn(b"Content-Length", head)
        self.assertIn(b';ext="emulator"\r\n', chunked)
        self.assertTrue(chunked.endswith(b"0\r\nx-ms-emulator-trailer: done\r\n\r\n"))
        self.assertEqual(json.loads(self._dechunk(chunked))["primary"], self.emu.account().primary)

    @staticmethod
    def _dechunk(data):
        body = b""
        while True:
            size_line, _, data = data.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                return body
            body, data = body + data[:size], data[size + 2:]

    def test_slow_answer(self):
        self.emu.add_fault("slow", "get", seconds=1)
        conn = self.connect(timeout=0.3)
        started = time.monotonic()
        with self.assertRaises(TimeoutError):
            self.arm(conn=conn)
        self.assertLess(time.monotonic() - started, 0.9)
        self.assertEqual(self.fault_in_log("get")[0]["kind"], "slow")

    def test_truncated_answer(self):
        self.emu.add_fault("truncate", "listKeys")
        with self.assertRaises(http.client.IncompleteRead):
            self.arm("listKeys")

    def test_claims_challenge(self):
        self.emu.add_fault("401_claims", "get")
        status, response, body = self.arm()
        self.assertEqual((status, body["error"]["code"]), (401, "InvalidAuthenticationToken"))
        challenge = response.getheader("WWW-Authenticate")
        self.assertIn('error="insufficient_claims"', challenge)
        claims = base64.b64decode(challenge.split('claims="')[1].split('"')[0])
        self.assertIn("access_token", json.loads(claims))
        status, _, token = self.token_request(claims=claims.decode())
        self.assertEqual(status, 200)
        self.assertIn("claims", self.emu.requests(op="token")[-1]["form_fields"])
        self.assertEqual(self.arm(token=token["access_token"])[0], 200)

    def test_status_with_act_serves_the_request_first(self):
        before = self.emu.account().primary
        self.emu.add_fault("status", "regenerateKeys", status=503, act=True)
        status, response, body = self.regenerate()
        self.assertEqual((status, body["error"]["code"]), (503, "ServiceUnavailable"))
        self.assertNotEqual(self.emu.account().primary, before)  # regenerated all the same
        entry = self.emu.requests(op="regenerateKeys")[0]
        self.assertEqual((entry["status"], entry["error_code"]), (503, "ServiceUnavailable"))
        self.assertEqual(entry["fault"], {"kind": "status", "op": "regenerateKeys", "status": 503,
                                          "act": True, "retry_after_style": "seconds"})
        self.assertEqual(response.getheader("x-ms-request-id"), entry["request_id"])

    def test_success_and_redirect_statuses_have_no_body(self):
        location = (f"{self.emu.arm_url}/subscriptions/{ae.DEFAULT_SUBSCRIPTION_ID}/providers/"
                    f"Microsoft.Batch/locations/{ae.DEFAULT_LOCATION}/operationresults/")
        for status in (201, 202, 204, 301, 302, 307, 308):
            with self.subTest(status=status):
                before = self.emu.account().primary
                self.emu.add_fault("status", "regenerateKeys", status=status, retry_after=3)
                got, response, body = self.regenerate()
                self.assertEqual((got, body), (status, None))
                self.assertEqual(self.emu.account().primary, before)
                self.assertEqual(response.getheader("Content-Length"),
                                 None if status == 204 else "0")
                self.assertIsNone(response.getheader("Content-Type"))
                self.assertEqual(response.getheader("Retry-After"), "3")
                self.assertEqual(response.getheader("x-ms-request-id"),
                                 self.emu.requests(op="regenerateKeys")[-1]["request_id"])
                self.assertTrue(response.getheader("x-ms-ratelimit-remaining-subscription-writes"))
                if status in (201, 204):
                    self.assertIsNone(response.getheader("Location"))
                else:
                    value = response.getheader("Location")
                    self.assertTrue(value.startswith(location), value)
                    self.assertTrue(ae.GUID.fullmatch(value[len(location):].split("?")[0]))
                    self.assertTrue(value.endswith("?api-version=" + ae.API_VERSION))
        self.emu.add_fault("status", "token", status=202, act=True)
        status, response, raw = self.call("POST", f"/{self.emu.tenant_id}/oauth2/v2.0/token",
                                          "grant_type=client_credentials", {
                                              "Content-Type": "application/x-www-form-urlencoded"},
                                          listener="login")
        self.assertEqual((status, raw), (202, b""))
        self.assertTrue(response.getheader("Location").startswith(self.emu.arm_url))

    def test_other_error_statuses(self):
        for status, code in ((408, "RequestTimeout"), (409, "Conflict"), (599, "ServerError")):
            with self.subTest(status=status):
                self.emu.add_fault("status", "get", status=status)
                got, response, body = self.arm()
                self.assertEqual((got, body["error"]["code"]), (status, code))
                self.assertEqual(response.getheader("x-ms-request-id"),
                                 self.emu.requests(op="get")[-1]["request_id"])

    def test_fault_options_are_checked(self):
        bad = [("status", {"status": 200}), ("status", {"status": 199}),
               ("status", {"status": 600}), ("status", {"status": "abc"}),
               ("status", {"act": "yes"}), ("status", {"act": 1}),
               ("long_ids", {"length": 0}), ("long_ids", {"length": "x"}),
               ("policy_denial", {"entries": -1}), ("policy_denial", {"message_length": None}),
               ("policy_denial", {"op": "token"}), ("policy_denial", {"listener": "login"}),
               ("401_claims", {"op": "token"}), ("stall", {"seconds": -1}),
               ("trickle", {"interval": "slow"}), ("close_delimited", {"clean": "no"})]
        for kind, options in bad:
            with self.subTest(kind=kind, options=options):
                with self.assertRaises(ValueError):
                    ae.normalize_fault({"kind": kind, **options})
        defaults = {kind: ae.normalize_fault({"kind": kind}) for kind in ae.FAULT_KINDS}
        self.assertEqual((defaults["status"]["status"], defaults["status"]["act"]), (503, False))
        self.assertEqual(defaults["long_ids"]["length"], 300)
        self.assertEqual((defaults["policy_denial"]["entries"],
                          defaults["policy_denial"]["message_length"]), (12, 2048))
        self.assertIsNone(defaults["stall"]["seconds"])
        self.assertEqual(defaults["trickle"]["interval"], 1.0)
        self.assertIs(defaults["close_delimited"]["clean"], False)

    def test_long_request_ids(self):
        for op, length in (("get", 300), ("listKeys", 300), ("regenerateKeys", 5000)):
            with self.subTest(op=op):
                before = self.emu.account().primary
                self.emu.add_fault("long_ids", op, length=length)
                status, response, _ = self.regenerate() if op == "regenerateKeys" else \
                    self.arm(op)
                self.assertEqual(status, 200)
                request_id = response.getheader("x-ms-request-id")
                correlation_id = response.getheader("x-ms-correlation-request-id")
                self.assertEqual((len(request_id), len(correlation_id)), (length, length))
                self.assertTrue(ae.GUID.fullmatch(request_id[:36]))
                entry = self.emu.requests(op=op)[-1]
                self.assertEqual(entry["request_id"], request_id)
                self.assertEqual(entry["fault"]["length"], length)
                if op == "regenerateKeys":
                    self.assertNotEqual(self.emu.account().primary, before)  # acted upon
        self.emu.add_fault("long_ids", "token")
        status, response, body = self.token_request()
        self.assertEqual((status, body["token_type"]), (200, "Bearer"))
        self.assertEqual(len(response.getheader("x-ms-request-id")), 300)
        self.assertEqual(self.emu.requests(op="token")[-1]["request_id"],
                         response.getheader("x-ms-request-id"))

    def test_policy_denial(self):
        before = self.emu.account().primary
        self.emu.add_fault("policy_denial", "any", listener="any")
        self.assertEqual(self.token_request()[0], 200)  # not fired on the login listener
        status, response, body = self.regenerate()
        self.assertEqual(self.emu.account().primary, before)
        self.assertEqual(status, 403)
        error = body["error"]
        self.assertEqual((error["code"], error["target"]),
                         ("RequestDisallowedByPolicy", ae.DEFAULT_ACCOUNT))
        message = error["message"]
        head = f"Resource '{ae.DEFAULT_ACCOUNT}' was disallowed by policy. Policy identifiers: '"
        self.assertTrue(message.startswith(head) and message.endswith("'."), message)
        self.assertTrue(2048 <= len(message) < 2048 + 400, len(message))
        identifiers = json.loads(message[len(head):-2])
        self.assertEqual(len(error["additionalInfo"]), 12)
        for identifier, entry in zip(identifiers, error["additionalInfo"]):
            info = entry["info"]
            self.assertEqual(entry["type"], "PolicyViolation")
            self.assertEqual(identifier["policyAssignment"],
                             {"name": info["policyAssignmentName"],
                              "id": info["policyAssignmentId"]})
            self.assertEqual(identifier["policyDefinition"]["id"], info["policyDefinitionId"])
            self.assertEqual(info["policyDefinitionEffect"], "deny")
            self.assertEqual(info["policyAssignmentScope"],
                             f"/subscriptions/{ae.DEFAULT_SUBSCRIPTION_ID}")
            self.assertTrue(info["policyDefinitionId"].endswith("/" + info["policyDefinitionName"]))
            self.assertEqual(info["evaluationDetails"]["evaluatedExpressions"][0]["targetValue"],
                             "Microsoft.Batch/batchAccounts")
        entry = self.emu.requests(op="regenerateKeys")[0]
        self.assertEqual((entry["status"], entry["error_code"], entry["fault"]["entries"]),
                         (403, "RequestDisallowedByPolicy", 12))
        self.assertEqual(response.getheader("x-ms-request-id"), entry["request_id"])
        self.emu.add_fault("policy_denial", "get", entries=2, message_length=100)
        error = self.arm()[2]["error"]
        self.assertEqual(len(error["additionalInfo"]), 2)
        self.assertEqual(error["message"].count('"policyAssignment"'), 1)

    def test_stall_sends_nothing_until_the_client_leaves(self):
        before = self.emu.account().primary
        self.emu.add_fault("stall", "regenerateKeys")
        tls = self.raw_request("regenerateKeys", connection_close=False)
        wait_for(lambda: self.emu.requests(op="regenerateKeys"))
        self.assertNotEqual(self.emu.account().primary, before)  # acted upon
        entry = self.emu.requests(op="regenerateKeys")[0]
        self.assertEqual((entry["status"], entry["fault"]["kind"], entry["fault"]["seconds"]),
                         (None, "stall", None))
        tls.settimeout(0.3)
        with self.assertRaises(TimeoutError):
            tls.recv(1)
        tls.close()
        wait_for(self.closes)  # the handler noticed, and did not wait for an idle timeout

    def test_stall_notices_a_close_notify(self):
        self.emu.add_fault("stall", "get")
        tls = self.raw_request("get", connection_close=False)
        wait_for(lambda: self.emu.requests(op="get"))
        tls.setblocking(False)
        try:
            tls.unwrap()  # sends close_notify, and keeps the TCP connection open
        except ssl.SSLError:  # want-read, or the emulator's own close came first
            pass
        wait_for(self.closes)

    def test_stall_with_seconds_ends_in_an_abrupt_close(self):
        self.emu.add_fault("stall", "listKeys", seconds=0.3)
        started = time.monotonic()
        self.assertEqual(read_to_end(self.raw_request("listKeys")), ([], "tcp"))
        self.assertGreaterEqual(time.monotonic() - started, 0.3)

    def test_stop_ends_stalls_and_trickles_promptly(self):
        self.emu.add_fault("stall", "get")
        self.emu.add_fault("trickle", "listKeys", interval=60)
        stalled, trickled = self.raw_request("get"), self.raw_request("listKeys")
        wait_for(lambda: len(self.emu.requests()) == 2)
        self.assertEqual(trickled.recv(1), b"H")
        started = time.monotonic()
        self.emu.stop()
        self.assertLess(time.monotonic() - started, 1.5)
        wait_for(lambda: len(self.closes()) == 2)
        self.assertEqual(read_to_end(stalled), ([], "tcp"))
        self.assertEqual(read_to_end(trickled)[1], "tcp")

    def test_trickle_writes_one_byte_at_a_time(self):
        self.emu.add_fault("trickle", "listKeys", interval=0)
        pieces, end = read_to_end(self.raw_request("listKeys"))
        self.assertEqual({len(piece) for piece in pieces}, {1})
        self.assertEqual(end, "close_notify")
        head, _, body = b"".join(pieces).partition(b"\r\n\r\n")
        self.assertIn(f"Content-Length: {len(body)}".encode(), head)
        self.assertEqual(json.loads(body)["primary"], self.emu.account().primary)
        self.assertEqual(self.emu.requests(op="listKeys")[0]["fault"]["interval"], 0)

    def test_trickle_waits_between_bytes_and_stops_when_the_client_leaves(self):
        self.emu.add_fault("trickle", "get", interval=30)
        tls = self.raw_request("get")
        self.assertEqual(tls.recv(65536), b"H")
        tls.settimeout(0.3)
        with self.assertRaises(TimeoutError):
            tls.recv(65536)
        tls.close()
        wait_for(self.closes)  # long before the next byte was due

    def test_trickle_through_http_client(self):
        self.emu.add_fault("trickle", "get", interval=0)
        status, _, body = self.arm()
        self.assertEqual((status, body["name"]), (200, ae.DEFAULT_ACCOUNT))

    def test_close_delimited_answer(self):
        for clean, expected_end in ((False, "tcp"), (True, "close_notify")):
            with self.subTest(clean=clean):
                self.emu.add_fault("close_delimited", "listKeys", clean=clean)
                pieces, end = read_to_end(self.raw_request("listKeys", connection_close=False))
                head, _, body = b"".join(pieces).partition(b"\r\n\r\n")
                lowered = head.lower()
                self.assertNotIn(b"content-length", lowered)
                self.assertNotIn(b"transfer-encoding", lowered)
                self.assertIn(b"\r\nConnection: close", head)
                self.assertTrue(head.startswith(b"HTTP/1.1 200 OK\r\n"))
                self.assertEqual(json.loads(body)["primary"], self.emu.account().primary)
                self.assertEqual(end, expected_end)
                self.assertIs(self.emu.requests(op="listKeys")[-1]["fault"]["clean"], clean)

    def test_truncate_cut_points(self):
        for at in ae.TRUNCATE_POINTS:
            with self.subTest(at=at):
                self.emu.add_fault("truncate", "listKeys", at=at)
                raw, end = self.raw_list_keys()
                self.assertEqual(end, "tcp")
                head, blank, body = raw.partition(b"\r\n\r\n")
                if at == "status":
                    self.assertEqual(raw, b"HTTP/1.1 200 OK\r\n")
                elif at == "headers":
                    self.assertTrue(raw.startswith(b"HTTP/1.1 200 OK\r\nDate: "), raw)
                    self.assertEqual(blank, b"")
                elif at == "body":
                    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                    self.assertEqual(len(body), length // 2)
                else:  # cut inside a chunk's data: no end of that chunk, no last chunk
                    self.assertIn(b"Transfer-Encoding: chunked", head)
                    self.assertNotIn(b"\r\n0\r\n", body)
                    last = body.rsplit(b"\r\n", 1)[1]
                    self.assertTrue(0 < len(last) < 16, body)
        self.assertEqual(self.emu.requests(op="listKeys")[-1]["fault"]["at"], "chunk")
        with self.assertRaises(ValueError):
            self.emu.add_fault("truncate", "listKeys", at="trailer")

    def test_oversized_parts(self):
        for part in ("status_line", "header", "headers", "body"):
            with self.subTest(part=part):
                self.emu.add_fault("oversized", "listKeys", part=part)
                raw, end = self.raw_list_keys()
                self.assertEqual(end, "close_notify")
                head, _, body = raw.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                if part == "status_line":
                    self.assertGreater(len(lines[0]), 20000)
                elif part == "header":
                    self.assertEqual(max(len(line) for line in lines[1:]),
                                     len(b"x-ms-emulator-padding: ") + 20000)
                elif part == "headers":
                    pads = [line for line in lines if line.startswith(b"x-ms-emulator-pad-")]
                    self.assertGreater(len(pads), 700)
                    self.assertGreater(sum(len(line) + 2 for line in pads), 20000)
                else:
                    self.assertEqual(len(body), 20000)
                self.assertEqual(json.loads(body)["primary"], self.emu.account().primary)
        self.emu.add_fault("oversized", "token", part="token")
        token = self.token_request()[2]["access_token"]
        self.assertEqual((len(token), token.count(".")), (9000, 2))

    def test_one_record_is_one_full_size_tls_record(self):
        self.emu.add_fault("one_record", "listKeys")
        pieces, end = read_to_end(self.raw_request("listKeys"))
        # One recv() gives at most one TLS record's plaintext.
        self.assertEqual([len(piece) for piece in pieces], [16384])
        head, _, body = pieces[0].partition(b"\r\n\r\n")
        self.assertIn(f"Content-Length: {len(body)}".encode(), head)
        self.assertEqual(json.loads(body)["primary"], self.emu.account().primary)
        self.assertEqual(end, "close_notify")

    def test_handshake_close(self):
        self.emu.add_fault("handshake_close", "get")  # the op names its listener: arm
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.arm()
        conns = self.emu.wait_connections(1, listener="arm")
        self.assertEqual(conns[0]["tls"], "closed")
        self.assertGreater(conns[0]["client_hello_bytes"], 0)
        self.assertEqual(self.emu.requests(), [])
        self.assertEqual(self.arm()[0], 200)  # fired once
        with self.assertRaises(ValueError):
            self.emu.add_fault("handshake_close", "imds")  # plain HTTP: no handshake

    def test_admin_endpoints(self):
        fault = json.dumps([{"kind": "status", "op": "listKeys", "status": 502}])
        status, _, body = self.call("POST", "/_emulator/faults", fault,
                                    {"Content-Type": "application/json"})
        self.assertEqual((status, json.loads(body)[0]["status"]), (200, 502))
        self.assertEqual(self.arm("listKeys")[0], 502)
        self.call("POST", "/_emulator/faults", json.dumps({"kind": "drop"}))
        self.assertEqual(self.call("DELETE", "/_emulator/faults")[0], 204)
        self.assertEqual(json.loads(self.call("GET", "/_emulator/faults")[2]), [])
        log = json.loads(self.call("GET", "/_emulator/log")[2])
        self.assertEqual([e["status"] for e in log if e.get("op") == "listKeys"], [502])
        accounts = json.loads(self.call("GET", "/_emulator/accounts")[2])
        self.assertEqual(accounts[0]["primary"], self.emu.account().primary)
        self.assertEqual(self.call("POST", "/_emulator/faults", b'{"kind":"nope"}')[0], 400)


class BatchDataPlaneTest(EmulatorTest):
    def auth_detail(self, body):
        self.assertEqual(body["code"], "AuthenticationFailed")
        self.assertEqual([v["key"] for v in body["values"]], ["AuthenticationErrorDetail"])
        return body["values"][0]["value"]

    def test_known_answer_vector(self):
        pairs = [("ocp-date", KAT_DATE)]
        self.assertEqual(string_to_sign("GET", pairs, "batchkeyacct", "/applications",
                                        APPLICATIONS_QUERY), KAT_STRING_TO_SIGN)
        self.assertEqual(sign(KAT_KEY, KAT_STRING_TO_SIGN), KAT_SIGNATURE)
        # The emulator's own code agrees, whatever the order of the query and the case of the
        # header name.
        text = ae.shared_key_string_to_sign("GET", {"OCP-Date": KAT_DATE, "Host": "h"},
                                            "batchkeyacct", "/applications",
                                            "maxresults=1&api-version=2024-07-01.20.0")
        self.assertEqual(text, KAT_STRING_TO_SIGN)
        self.assertEqual(ae.shared_key_signature(KAT_KEY, text), KAT_SIGNATURE)

    def test_accepted_with_primary_and_with_secondary(self):
        account = self.emu.account()
        for slot in ("primary", "secondary"):
            with self.subTest(slot=slot):
                status, response, body = self.data_plane(
                    getattr(account, slot), headers={"client-request-id": "cr-1",
                                                     "ocp-extra": "  padded  "})
                self.assertEqual(status, 200)
                self.assertEqual(body, {"odata.metadata": f"https://localhost:"
                                        f"{self.emu.batch_port}/$metadata#applications",
                                        "value": []})
                self.assertEqual(response.getheader("Content-Type"),
                                 "application/json;odata=minimalmetadata")
                self.assertEqual(response.getheader("client-request-id"), "cr-1")
                entry = self.emu.requests(op="applications")[-1]
                self.assertEqual(response.getheader("request-id"), entry["request_id"])
                self.assertEqual((entry["listener"], entry["status"], entry["shared_key_account"],
                                  entry["shared_key_slot"], entry["shared_key_ok"],
                                  entry["api_version"], entry["authorization_scheme"]),
                                 ("batch", 200, ae.DEFAULT_ACCOUNT, slot, True,
                                  "2024-07-01.20.0", "SharedKey"))
        self.assertIsNone(self.data_plane(conn=self.connect("batch"))[1].getheader(
            "client-request-id"))

    def test_standard_headers_are_signed_when_sent(self):
        key = self.emu.account().primary
        extra = {"Content-Type": "application/json; odata=minimalmetadata",
                 "If-None-Match": '"etag"', "Content-Length": "0"}
        self.assertEqual(self.data_plane(key, headers=extra)[0], 200)
        # Signed as if the header were absent: the emulator does not find that signature.
        headers, _, _ = self.signed_headers(key)
        headers["Content-Type"] = "application/json"
        status = self.call("GET", "/applications?" + APPLICATIONS_QUERY, headers=headers,
                           listener="batch")[0]
        self.assertEqual(status, 403)

    def test_stale_key_after_regenerate(self):
        old = self.emu.account().primary
        self.assertEqual(self.regenerate("Primary")[0], 200)
        headers, text, signature = self.signed_headers(old, date=now_rfc1123())
        status, response, raw = self.call("GET", "/applications?" + APPLICATIONS_QUERY,
                                          headers=headers, listener="batch")
        body = json.loads(raw)
        self.assertEqual(status, 403)
        self.assertEqual(response.getheader("Content-Type"),
                         "application/json;odata=minimalmetadata")
        request_id = response.getheader("request-id")
        self.assertEqual(set(body), {"odata.metadata", "code", "message", "values"})
        self.assertEqual(body["odata.metadata"],
                         f"https://localhost:{self.emu.batch_port}/$metadata#Microsoft.Azure."
                         "Batch.Protocol.Entities.Container.errors/@Element")
        self.assertEqual(body["message"]["lang"], "en-US")
        first, request_line, time_line = body["message"]["value"].split("\n")
        self.assertEqual(first, "Server failed to authenticate the request. Make sure the value "
                         "of Authorization header is correctly formed including the signature.")
        self.assertEqual(request_line, "RequestId:" + request_id)
        self.assertRegex(time_line, r"^Time:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
        # The emulator's string to sign is the test's own, character for character.
        self.assertEqual(self.auth_detail(body),
                         f"The MAC signature found in the HTTP request '{signature}' is not the "
                         "same as any computed signature. Server used following string to "
                         f"sign: '{text}'.")
        entry = self.emu.requests(op="applications")[-1]
        self.assertEqual((entry["request_id"], entry["error_code"], entry["shared_key_ok"],
                          entry["shared_key_slot"]),
                         (request_id, "AuthenticationFailed", False, None))
        self.assertEqual(self.data_plane(self.emu.account().primary)[0], 200)  # no delay
        self.assertEqual(self.data_plane(self.emu.account().secondary)[0], 200)  # untouched

    def test_wrong_account_name(self):
        key = self.emu.account().primary
        status, _, body = self.data_plane(key, account="nosuchacct")
        self.assertEqual(status, 403)
        self.assertIn("'nosuchacct'", self.auth_detail(body))
        entry = self.emu.requests(op="applications")[-1]
        self.assertEqual((entry["shared_key_account"], entry["shared_key_ok"]),
                         ("nosuchacct", False))
        # A real account's name with another account's key.
        other = ae.BatchAccount("otheracct")
        self.assertEqual(self.data_plane(other.primary)[0], 403)

    def test_shared_key_disabled_account(self):
        account = self.emu.find_account(ae.DEFAULT_AAD_ONLY_ACCOUNT)
        status, _, body = self.data_plane(account.primary, account=account.name)
        self.assertEqual(status, 403)
        self.assertEqual(self.auth_detail(body),
                         "SharedKey authentication is disabled for the account")

    def test_missing_and_garbled_authorization(self):
        url = "/applications?" + APPLICATIONS_QUERY
        date = {"ocp-date": now_rfc1123()}
        cases = [({}, 401), ({"Authorization": "Bearer abc.def.ghi"}, 401),
                 ({"Authorization": "SharedKey batchkeyacct"}, 403),
                 ({"Authorization": "SharedKey :c2ln"}, 403),
                 ({"Authorization": "SharedKey batchkeyacct:"}, 403),
                 ({"Authorization": "SharedKey batchkeyacct:not base64!"}, 403)]
        for headers, expected in cases:
            with self.subTest(headers=headers):
                status, response, raw = self.call("GET", url, headers=dict(date, **headers),
                                                  listener="batch")
                self.assertEqual(status, expected)
                self.auth_detail(json.loads(raw))
                self.assertTrue(response.getheader("request-id"))

    def test_bad_or_missing_ocp_date(self):
        key = self.emu.account().primary
        cases = [(False, "The ocp-date header is missing"),
                 ("yesterday", "is not an RFC 1123 date"),
                 (now_rfc1123().replace("GMT", "+0000"), "is not an RFC 1123 date"),
                 (now_rfc1123(-16 * 60), "outside the allowed window"),
                 (now_rfc1123(16 * 60), "outside the allowed window")]
        for date, detail in cases:
            with self.subTest(date=date):
                status, _, body = self.data_plane(key, date=date)
                self.assertEqual(status, 403)
                self.assertIn(detail, self.auth_detail(body))
        for offset in (-14 * 60, 14 * 60):
            self.assertEqual(self.data_plane(key, date=now_rfc1123(offset))[0], 200)
        date = now_rfc1123()
        day = int(date[5:7])
        if day < 10:  # "Wed, 2 Dec ...": a date, but not in the form ocp-date takes
            status, _, body = self.data_plane(key, date=date[:5] + str(day) + date[7:])
            self.assertEqual(status, 403)

    def test_query_order_independence(self):
        key = self.emu.account().primary
        date = now_rfc1123()
        reordered = "maxresults=1&api-version=2024-07-01.20.0"
        self.assertEqual(string_to_sign("GET", [("ocp-date", date)], "a", "/applications",
                                        reordered),
                         string_to_sign("GET", [("ocp-date", date)], "a", "/applications",
                                        APPLICATIONS_QUERY))
        for query in (APPLICATIONS_QUERY, reordered, "API-Version=2024-07-01.20.0",
                      "api-version=2024-07-01.20.0&$filter=id%20eq%20%27a%2Cb%27&maxresults=1"):
            with self.subTest(query=query):
                status = self.data_plane(key, query=query, date=date)[0]
                self.assertEqual(status, 400 if query.startswith("API") else 200)
        # Several values of one name: sorted, comma-joined.
        self.assertTrue(string_to_sign("GET", [], "a", "/p", "b=2&B=1&a=x").endswith(
            "/a/p\na:x\nb:1,2"))
        self.assertEqual(self.data_plane(key, query=APPLICATIONS_QUERY + "&x=2&X=1")[0], 200)

    def test_api_version_and_paths(self):
        key = self.emu.account().primary
        status, _, body = self.data_plane(key, query="maxresults=1")
        self.assertEqual((status, body["code"]), (400, "MissingRequiredQueryParameter"))
        self.assertEqual(body["values"], [{"key": "QueryParameterName", "value": "api-version"}])
        self.assertTrue(body["odata.metadata"].endswith("Container.errors/@Element"))
        self.assertIsNone(self.emu.requests(op="applications")[-1]["api_version"])
        status, _, body = self.data_plane(key, query="api-version=latest")
        self.assertEqual((status, body["code"]), (400, "InvalidQueryParameterValue"))
        self.assertEqual(self.data_plane(key, query="api-version=2023-05-01.17.0")[0], 200)
        self.assertEqual(self.emu.requests(op="applications")[-1]["api_version"],
                         "2023-05-01.17.0")
        status, _, body = self.data_plane(key, path="/pools")
        self.assertEqual((status, body["code"]), (404, "ResourceNotFound"))
        self.assertEqual(self.emu.requests(listener="batch")[-1]["op"], "other")
        headers, _, _ = self.signed_headers(key, method="POST")
        status, _, raw = self.call("POST", "/applications?" + APPLICATIONS_QUERY, b"", headers,
                                   listener="batch")
        self.assertEqual((status, json.loads(raw)["code"]), (405, "UnsupportedHttpVerb"))

    def test_admin_route_sets_keys_and_delay(self):
        key = base64.b64encode(b"k" * 64).decode()
        status, _, raw = self.call("POST", f"/_emulator/accounts/{ae.DEFAULT_ACCOUNT}",
                                   json.dumps({"primary": key, "propagation_delay": 0.25}))
        view = json.loads(raw)
        self.assertEqual((status, view["primary"], view["propagationDelay"]), (200, key, 0.25))
        self.assertEqual(self.data_plane(key)[0], 200)  # a key set directly is accepted at once
        accounts = json.loads(self.call("GET", "/_emulator/accounts")[2])
        self.assertEqual([a["propagationDelay"] for a in accounts], [0.25, 0.0])
        for name, body, expected in (("nosuchacct", b"{}", 404),
                                     (ae.DEFAULT_ACCOUNT, b'{"secondary": "not base64!"}', 400),
                                     (ae.DEFAULT_ACCOUNT, b'{"propagation_delay": -1}', 400),
                                     (ae.DEFAULT_ACCOUNT, b'{"propagation_delay": "1"}', 400),
                                     (ae.DEFAULT_ACCOUNT, b'{"tertiary": "AAAA"}', 400),
                                     (ae.DEFAULT_ACCOUNT, b"[1]", 400)):
            with self.subTest(body=body):
                self.assertEqual(self.call("POST", f"/_emulator/accounts/{name}", body)[0],
                                 expected)
        self.assertEqual(self.emu.account().primary, key)
        self.emu.set_account(allowedAuthenticationModes=["AAD"])
        self.assertEqual(self.data_plane(key)[0], 403)

    def test_regenerate_count_and_the_log(self):
        self.regenerate("Secondary")
        self.emu.add_fault("stall", "regenerateKeys", seconds=0.2)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.regenerate("Primary")
        self.emu.add_fault("status", "regenerateKeys", status=500)  # not acted upon
        self.assertEqual(self.regenerate("Primary")[0], 500)
        self.arm("regenerateKeys", account=ae.DEFAULT_AAD_ONLY_ACCOUNT,
                 body='{"keyName":"Primary"}')
        self.assertEqual(self.emu.regenerate_count(), 2)
        self.assertEqual(self.emu.regenerate_count(ae.DEFAULT_AAD_ONLY_ACCOUNT), 0)
        entries = self.emu.requests(op="regenerateKeys")
        self.assertEqual([(e["status"], e["fault"] and e["fault"]["kind"], e["key_regenerated"])
                          for e in entries],
                         [(200, None, True), (None, "stall", True), (500, "status", False),
                          (400, None, False)])


class PropagationDelayTest(EmulatorTest):
    emulator_options = {"propagation_delay": 1.0}

    def test_new_key_waits_old_key_stops_at_once(self):
        account = self.emu.account()
        old = account.secondary
        self.assertEqual(account.propagation_delay, 1.0)
        regenerated = time.monotonic()
        new = self.regenerate("Secondary")[2]["secondary"]
        self.assertEqual(self.data_plane(old)[0], 403)
        self.assertEqual(self.data_plane(new)[0], 403)
        self.assertLess(time.monotonic() - regenerated, 1.0, "too slow to see the delay")
        entry = self.emu.requests(op="applications")[-1]
        self.assertEqual((entry["shared_key_ok"], entry["shared_key_pending_slot"]),
                         (False, "secondary"))
        self.assertEqual(self.data_plane(account.primary)[0], 200)  # the other slot works on
        time.sleep(max(0, regenerated + 1.05 - time.monotonic()))
        self.assertEqual(self.data_plane(new)[0], 200)
        self.assertEqual(self.emu.requests(op="applications")[-1]["shared_key_slot"], "secondary")
        self.assertEqual(self.data_plane(old)[0], 403)

    def test_per_account_delay(self):
        self.emu.set_account(propagation_delay=0)
        new = self.regenerate("Primary")[2]["primary"]
        self.assertEqual(self.data_plane(new)[0], 200)


class BatchFaultTest(EmulatorTest):
    def raw_batch_request(self):
        """A TLS connection to the data plane on which one signed request was written by hand."""
        headers, _, _ = self.signed_headers(self.emu.account().primary)
        raw_socket = socket.create_connection(("127.0.0.1", self.emu.batch_port), timeout=5)
        tls = eof_aware_context(self.emu.ca_file).wrap_socket(
            raw_socket, server_hostname="localhost", suppress_ragged_eofs=False)
        self.addCleanup(tls.close)
        tls.sendall((f"GET /applications?{APPLICATIONS_QUERY} HTTP/1.1\r\n"
                     f"Host: localhost:{self.emu.batch_port}\r\n"
                     + "".join(f"{n}: {v}\r\n" for n, v in headers.items())
                     + "\r\n").encode())
        return tls

    def test_fault_defaults_and_checks(self):
        fault = ae.normalize_fault({"kind": "status", "op": "applications"})
        self.assertEqual((fault["listener"], fault["op"]), ("batch", "applications"))
        self.assertEqual(ae.normalize_fault({"kind": "drop", "op": "Applications"})["op"],
                         "applications")
        for kind, options in (("policy_denial", {"op": "applications"}),
                              ("401_claims", {"listener": "batch"}),
                              ("status", {"listener": "nowhere"})):
            with self.subTest(kind=kind, options=options):
                with self.assertRaises(ValueError):
                    ae.normalize_fault({"kind": kind, **options})
        self.emu.add_fault("policy_denial", "any", listener="any")
        self.assertEqual(self.data_plane()[0], 200)  # not fired (nor used up) on batch
        self.assertEqual(len(self.emu.faults()), 1)

    def test_status_faults_are_batch_shaped(self):
        for status, code in ((503, "ServerBusy"), (500, "InternalError"), (429, "TooManyRequests")):
            with self.subTest(status=status):
                self.emu.add_fault("status", "applications", status=status, retry_after=2)
                got, response, body = self.data_plane()
                self.assertEqual((got, body["code"]), (status, code))
                self.assertEqual(body["message"]["lang"], "en-US")
                self.assertEqual(response.getheader("Retry-After"), "2")
                entry = self.emu.requests(op="applications")[-1]
                self.assertEqual(response.getheader("request-id"), entry["request_id"])
                self.assertEqual((entry["fault"]["status"], entry["shared_key_ok"]),
                                 (status, False))  # not acted upon: never verified
                self.assertEqual(self.data_plane()[0], 200)
        self.emu.add_fault("status", "applications", status=202)
        got, response, raw = self.call("GET", "/applications", listener="batch")
        self.assertEqual((got, raw), (202, b""))
        self.assertTrue(response.getheader("Location").startswith(self.emu.batch_url))

    def test_status_fault_on_any_listener_reaches_batch(self):
        self.emu.add_fault("status", "any", status=503, code="Custom", message="custom")
        status, _, body = self.data_plane()
        self.assertEqual((status, body["code"]), (503, "Custom"))
        self.assertTrue(body["message"]["value"].startswith("custom\nRequestId:"))

    def test_stall_after_verifying(self):
        self.emu.add_fault("stall", "applications")
        tls = self.raw_batch_request()
        wait_for(lambda: self.emu.requests(op="applications"))
        entry = self.emu.requests(op="applications")[0]
        self.assertEqual((entry["status"], entry["fault"]["kind"], entry["shared_key_ok"]),
                         (None, "stall", True))
        tls.settimeout(0.3)
        with self.assertRaises(TimeoutError):
            tls.recv(1)
        tls.close()
        wait_for(lambda: [e for e in self.emu.log
                          if e["event"] == "close" and e["listener"] == "batch"])

    def test_other_faults_on_the_data_plane(self):
        self.emu.add_fault("drop", "applications")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.data_plane()
        self.emu.add_fault("chunked", "applications")
        self.assertEqual(self.data_plane()[2]["value"], [])
        self.emu.add_fault("malformed", "applications", body="{")
        with self.assertRaises(ValueError):
            self.data_plane()
        self.emu.add_fault("long_ids", "applications", length=500)
        self.assertEqual(len(self.data_plane()[1].getheader("request-id")), 500)
        self.emu.add_fault("truncate", "applications")
        with self.assertRaises(http.client.IncompleteRead):
            self.data_plane()
        self.assertEqual([e["fault"]["kind"] for e in self.emu.requests(op="applications")],
                         ["drop", "chunked", "malformed", "long_ids", "truncate"])


class EmulatorEnvTest(unittest.TestCase):
    def test_settings(self):
        import emulator_env
        without = emulator_env.settings(1, 2, "/ca.crt")
        self.assertNotIn("BATCHKEY_BATCH_ENDPOINT", without)
        values = emulator_env.settings(1, 2, "/ca.crt", batch_port=3)
        self.assertEqual((values["AZURE_AUTHORITY_HOST"], values["BATCHKEY_ARM_ENDPOINT"],
                          values["BATCHKEY_BATCH_ENDPOINT"], values["BATCHKEY_CA_FILE"]),
                         ("https://localhost:1", "https://localhost:2", "https://localhost:3",
                          "/ca.crt"))
        ports = os.path.join(temp_dir(self), "ports.json")
        with open(ports, "w") as port_file:
            json.dump({"login": 1, "arm": 2, "batch": 3}, port_file)
        out = subprocess.run([sys.executable, "-B", os.path.join(HERE, "emulator_env.py"), ports,
                              "/ca.crt"], check=True, capture_output=True, text=True).stdout
        self.assertIn("export BATCHKEY_BATCH_ENDPOINT='https://localhost:3'\n", out)
        self.assertNotIn("IDENTITY_ENDPOINT", out)  # only the client secret, by default

    def test_credential_settings_and_hints(self):
        import emulator_env
        ports = {"login": 1, "arm": 2, "batch": 3, "appservice": 4, "arc": 5, "imds": 6}
        kinds = emulator_env.credential_settings(ports, arc_token_dir="/arc",
                                                 client_pki="/client")
        self.assertEqual(kinds["appservice"],
                         {"IDENTITY_ENDPOINT": "http://127.0.0.1:4/msi/token",
                          "IDENTITY_HEADER": ae.DEFAULT_IDENTITY_HEADER})
        self.assertEqual(kinds["arc"],
                         {"IDENTITY_ENDPOINT": "http://127.0.0.1:5/metadata/identity/oauth2/token",
                          "IMDS_ENDPOINT": "http://127.0.0.1:5", "BATCHKEY_ARC_TOKEN_DIR": "/arc"})
        self.assertEqual(kinds["imds"], {"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:6"})
        self.assertEqual(kinds["certificate"],
                         {"AZURE_CLIENT_CERTIFICATE_PATH": "/client/client-rsa.pem"})
        self.assertNotIn("certificate", emulator_env.credential_settings(ports))
        port_file = os.path.join(temp_dir(self), "ports.json")
        with open(port_file, "w") as out:
            json.dump(ports, out)
        script = [sys.executable, "-B", os.path.join(HERE, "emulator_env.py"), port_file,
                  "/ca.crt"]
        out = subprocess.run(script + ["--hints", "--arc-token-dir", "/arc"], check=True,
                             capture_output=True, text=True).stdout
        lines = out.splitlines()
        self.assertTrue(all(line.startswith("#") for line in lines))
        self.assertIn("App Service at http://127.0.0.1:4, Azure Arc at http://127.0.0.1:5, "
                      "IMDS at http://127.0.0.1:6", lines[0])
        self.assertIn("export IDENTITY_ENDPOINT='http://127.0.0.1:4/msi/token' "
                      "IDENTITY_HEADER='emulator-identity-header'", out)
        self.assertIn("BATCHKEY_ARC_TOKEN_DIR='/arc'", out)
        self.assertNotIn("AZURE_CLIENT_CERTIFICATE_PATH", out)
        bad = subprocess.run(script + ["--client-pki", "/x"], capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2)


class ControlFileTest(EmulatorTest):
    def setUp(self):
        self.control = os.path.join(temp_dir(self), "faults.json")
        self.emulator_options = {"control_path": self.control}
        super().setUp()

    def write_control(self, faults):
        with open(self.control + ".tmp", "w") as control:
            json.dump(faults, control)
        os.replace(self.control + ".tmp", self.control)

    def test_faults_from_control_file(self):
        self.assertEqual(self.arm()[0], 200)
        self.write_control([{"kind": "status", "op": "get", "status": 503, "count": 2}])
        self.assertEqual([self.arm()[0] for _ in range(3)], [503, 503, 200])
        self.write_control([{"kind": "status", "op": "get", "status": 500}])
        self.assertEqual([self.arm()[0] for _ in range(2)], [500, 200])


class ConnectionLogTest(EmulatorTest):
    def setUp(self):
        self.log_file = os.path.join(temp_dir(self), "emulator.jsonl")
        self.emulator_options = {"log_path": self.log_file}
        super().setUp()

    def test_wait_connections_gives_up_at_its_deadline(self):
        start = time.monotonic()
        self.assertEqual(self.emu.wait_connections(1, listener="arm", timeout=0.2), [])
        self.assertGreaterEqual(time.monotonic() - start, 0.2)

    def test_keep_alive_reuses_one_connection(self):
        conn = self.connect()
        self.assertEqual(self.arm(conn=conn)[0], 200)
        self.assertEqual(self.arm("listKeys", conn=conn)[0], 200)
        entries = self.emu.requests(listener="arm")
        self.assertEqual(len({e["conn"] for e in entries}), 1)
        self.assertEqual([e["conn_request"] for e in entries], [1, 2])
        self.assertEqual(len(self.emu.connections("arm")), 1)

    def test_rejected_certificate_is_logged_without_request(self):
        untrusted = ssl.create_default_context(cafile=os.path.join(PKI, "untrusted-ca.crt"))
        conn = http.client.HTTPSConnection("localhost", self.emu.arm_port, context=untrusted)
        with self.assertRaises(ssl.SSLCertVerificationError):
            conn.request("GET", account_path())
        conns = self.emu.wait_connections(1, listener="arm")
        self.assertEqual(len(conns), 1)
        self.assertEqual(conns[0]["tls"], "failed")
        self.assertEqual(self.emu.requests(), [])

    def test_log_holds_no_secret_token_or_key(self):
        token = self.token_request()[2]["access_token"]
        keys = list(self.arm("listKeys", token=token)[2].values())[1:]
        keys += list(self.regenerate("Secondary", token=token)[2].values())[1:]
        self.emu.add_fault("drop", "regenerateKeys")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.regenerate("Primary", token=token)
        keys.append(self.emu.account().primary)
        self.token_request(client_secret="wrong-" + self.emu.client_secret)
        signatures = []
        for key in (self.emu.account().primary, keys[0]):  # accepted, then stale
            headers, _, signature = self.signed_headers(key)
            signatures.append(signature)
            self.call("GET", "/applications?" + APPLICATIONS_QUERY, headers=headers,
                      listener="batch")
        self.assertEqual([e["status"] for e in self.emu.requests(op="applications")], [200, 403])
        with open(self.log_file) as log_file:
            written = log_file.read()
        self.assertEqual(len(written.splitlines()), len(self.emu.log))
        for text in (json.dumps(self.emu.log), written):
            for secret in [self.emu.client_secret, token, token.split(".")[1]] + keys + \
                    signatures:
                self.assertNotIn(secret, text)


class WrongNameCertificateTest(EmulatorTest):
    emulator_options = {"cert": "wrongname"}

    def test_hostname_mismatch(self):
        with self.assertRaises(ssl.SSLCertVerificationError) as caught:
            self.call("GET", account_path())
        self.assertIn("Hostname mismatch", str(caught.exception))


class OldTlsServerTest(EmulatorTest):
    emulator_options = {"tls_max_version": "1.1", "tls_security_level": 0}

    def test_only_tls_1_1_and_older(self):
        with self.assertRaises(ssl.SSLError):
            self.call("GET", account_path())  # a client of today's defaults: TLS 1.2 at least
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(self.emu.ca_file)
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        with socket.create_connection(("127.0.0.1", self.emu.arm_port), timeout=5) as raw, \
                old.wrap_socket(raw, server_hostname="localhost") as tls:
            self.assertEqual(tls.version(), "TLSv1.1")


class BadPkiTest(unittest.TestCase):
    """make_bad_pki.sh: each certificate fails for the one reason its name gives."""

    @classmethod
    def setUpClass(cls):
        cls.holder = tempfile.TemporaryDirectory()
        cls.dir = cls.holder.name
        for name in ("ca.crt", "ca.key", "untrusted-ca.crt", "untrusted-ca.key"):
            with open(os.path.join(PKI, name), "rb") as src, \
                    open(os.path.join(cls.dir, name), "wb") as dst:
                dst.write(src.read())
        subprocess.run(["sh", os.path.join(HERE, "make_bad_pki.sh"), cls.dir], check=True)

    @classmethod
    def tearDownClass(cls):
        cls.holder.cleanup()

    def verify(self, name, *more):
        return subprocess.run(["openssl", "verify", "-CAfile", os.path.join(self.dir, "trust.crt"),
                               *more, os.path.join(self.dir, f"{name}.crt")],
                              capture_output=True, text=True)

    def test_each_fails_for_its_reason(self):
        for name, reason in (("expired", "certificate has expired"),
                             ("notyet", "certificate is not yet valid"),
                             ("untrusted", "unable to get local issuer certificate"),
                             ("leafonly", "unable to get local issuer certificate")):
            with self.subTest(name=name):
                p = self.verify(name)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn(reason, p.stdout + p.stderr)
                self.assertIn("DNS:localhost", subprocess.run(
                    ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                     os.path.join(self.dir, f"{name}.crt")], capture_output=True,
                    text=True).stdout)

    def test_chain_and_weak_certificate_are_otherwise_valid(self):
        self.assertEqual(self.verify("leafonly", "-untrusted",
                                     os.path.join(self.dir, "intermediate.crt")).returncode, 0)
        with open(os.path.join(self.dir, "chained.crt")) as f:
            self.assertEqual(f.read().count("BEGIN CERTIFICATE"), 2)
        self.assertEqual(self.verify("weak").returncode, 0)
        text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in",
                               os.path.join(self.dir, "weak.crt")], capture_output=True,
                              text=True).stdout
        self.assertIn("Public-Key: (1024 bit)", text)
        self.assertIn("Signature Algorithm: ecdsa-with-SHA1", text)

    def test_served_by_the_emulator(self):
        with ae.Emulator(self.dir, cert="weak", tls_security_level=0) as weak:
            context = ssl.create_default_context(cafile=os.path.join(self.dir, "trust.crt"))
            with self.assertRaises(ssl.SSLError):  # OpenSSL's own level refuses it too
                with socket.create_connection(("127.0.0.1", weak.arm_port), timeout=5) as raw:
                    context.wrap_socket(raw, server_hostname="localhost")
            self.assertEqual(weak.wait_connections(1)[0]["tls"], "failed")


@unittest.skipUnless(socket.has_ipv6, "no IPv6")
class Ipv6Test(EmulatorTest):
    emulator_options = {"ipv6": True}

    def test_same_ports_on_ipv6_loopback(self):
        conn = http.client.HTTPSConnection("localhost", self.emu.arm_port, context=self.ctx)
        self.addCleanup(conn.close)
        # Reach ::1 itself, still verifying the certificate's name, localhost.
        conn.sock = self.ctx.wrap_socket(socket.create_connection(("::1", self.emu.arm_port)),
                                         server_hostname="localhost")
        self.assertEqual(self.arm(conn=conn)[0], 200)
        batch = http.client.HTTPSConnection("localhost", self.emu.batch_port, context=self.ctx)
        self.addCleanup(batch.close)
        batch.sock = self.ctx.wrap_socket(socket.create_connection(("::1", self.emu.batch_port)),
                                          server_hostname="localhost")
        self.assertEqual(self.data_plane(conn=batch)[0], 200)


# --- the tests' own client for the credentials (written from the JOSE RFCs and Microsoft's
# documentation, not from the emulator's code) ------------------------------------------------
def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pem_certificates(path):
    """The DER of each certificate in a PEM file, in order."""
    with open(path) as pem:
        text = pem.read()
    blocks = text.split("-----BEGIN CERTIFICATE-----")[1:]
    return [base64.b64decode("".join(b.split("-----END CERTIFICATE-----")[0].split()))
            for b in blocks]


def der_to_raw(der, size=32):
    """An ECDSA DER signature (SEQUENCE of two INTEGERs) as JWS's r || s."""
    assert der[0] == 0x30
    offset = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    values = []
    for _ in range(2):
        assert der[offset] == 0x02
        length = der[offset + 1]
        values.append(der[offset + 2:offset + 2 + length].lstrip(b"\0").rjust(size, b"\0"))
        offset += 2 + length
    return b"".join(values)


def openssl_sign(key_file, data, alg, password=None, salt="32", der=False):
    options = {"PS256": ["-sigopt", "rsa_padding_mode:pss", "-sigopt", f"rsa_pss_saltlen:{salt}",
                         "-sigopt", "rsa_mgf1_md:sha256"]}.get(alg, [])
    if password:
        options += ["-passin", f"pass:{password}"]
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_file] + options,
                               input=data, capture_output=True, check=True).stdout
    return der_to_raw(signature) if alg == "ES256" and not der else signature


class AssertionMaker:
    """Client assertions as batchkey makes them, from a PEM holding certificate and key."""

    def __init__(self, emu, pem_path, password=None):
        self.emu, self.pem_path, self.password = emu, pem_path, password
        self.chain = pem_certificates(pem_path)

    def make(self, alg="PS256", thumbprint=None, x5c=None, header=None, claims=None,
             sign_with=None, raw_header=None, salt="32", der_signature=False, lifetime=600,
             tamper=False):
        leaf = self.chain[0]
        if thumbprint is None:
            thumbprint = "x5t" if alg == "RS256" else "x5t#S256"
        head = {"alg": alg, "typ": "JWT"}
        if thumbprint == "x5t":
            head["x5t"] = b64url(hashlib.sha1(leaf).digest())
        elif thumbprint == "x5t#S256":
            head["x5t#S256"] = b64url(hashlib.sha256(leaf).digest())
        if x5c is True:
            x5c = [base64.b64encode(c).decode() for c in self.chain]
        if x5c is not None:
            head["x5c"] = x5c
        head.update(header or {})
        now = int(time.time())
        body = {"aud": f"{self.emu.login_url}/{self.emu.tenant_id}/oauth2/v2.0/token",
                "iss": self.emu.client_id, "sub": self.emu.client_id, "jti": str(uuid.uuid4()),
                "nbf": now, "iat": now, "exp": now + lifetime}
        body.update(claims or {})
        body = {k: v for k, v in body.items() if v is not None}
        signing_input = (raw_header or b64url(json.dumps(head).encode())) + "." + \
            b64url(json.dumps(body).encode())
        signature = openssl_sign(sign_with or self.pem_path, signing_input.encode(), alg,
                                 self.password, salt, der_signature)
        if tamper:  # the claims changed after signing
            body["jti"] = str(uuid.uuid4())
            signing_input = signing_input.split(".")[0] + "." + b64url(json.dumps(body).encode())
        return signing_input + "." + b64url(signature)


class CredentialTest(EmulatorTest):
    def assertion_request(self, assertion, **form):
        return self.token_request(**dict({"client_secret": None, "client_assertion": assertion,
                                          "client_assertion_type": ae.CLIENT_ASSERTION_TYPE},
                                         **form))

    def assert_refused(self, answer, code, error, entry_error=None, status=401):
        got_status, _, body = answer
        self.assertEqual((got_status, body["error"], body["error_codes"]), (status, error, [code]),
                         body.get("error_description"))
        self.assertTrue(body["error_description"].startswith(f"AADSTS{code}: "))
        if entry_error:
            self.assertEqual(self.emu.requests(op="token")[-1]["assertion_error"], entry_error)
        return body["error_description"]


class CertificateCredentialTest(CredentialTest):
    def setUp(self):
        self.emulator_options = {"client_pki": CLIENT_PKI}
        super().setUp()
        self.rsa = AssertionMaker(self.emu, os.path.join(CLIENT_PKI, "client-rsa.pem"))
        self.ec = AssertionMaker(self.emu, os.path.join(CLIENT_PKI, "client-ec.pem"))
        self.chain = AssertionMaker(self.emu, os.path.join(CLIENT_PKI, "client-chain.pem"))

    def test_registered_certificates(self):
        names = [c["name"] for c in self.emu.client_certificates()]
        self.assertEqual(names, list(ae.CLIENT_PKI_REGISTERED))
        rsa = self.emu.client_certificates()[0]
        self.assertEqual(rsa["thumbprint"], hashlib.sha1(self.rsa.chain[0]).hexdigest().upper())
        self.assertEqual((rsa["key_type"], self.emu.client_certificates()[1]["key_type"]),
                         ("RSA", "EC-P256"))
        self.assertEqual(len(self.chain.chain), 2)  # leaf, intermediate
        self.assertEqual(self.emu.credential_env("certificate"),
                         {"AZURE_CLIENT_CERTIFICATE_PATH":
                          os.path.join(CLIENT_PKI, "client-rsa.pem")})

    def test_each_algorithm_and_form(self):
        cases = [(self.rsa, "PS256", "x5t#S256"), (self.rsa, "RS256", "x5t"),
                 (self.rsa, "PS256", "x5t"), (self.rsa, "RS256", "x5t#S256"),
                 (self.ec, "ES256", "x5t#S256"), (self.chain, "PS256", "x5t#S256")]
        for maker, alg, thumbprint in cases:
            with self.subTest(pem=maker.pem_path, alg=alg, thumbprint=thumbprint):
                status, _, body = self.assertion_request(maker.make(alg, thumbprint))
                self.assertEqual(status, 200, body)
                self.assertEqual(self.arm(token=body["access_token"])[0], 200)
                entry = self.emu.requests(op="token")[-1]
                self.assertEqual((entry["credential"], entry["assertion_alg"],
                                  entry["assertion_x5c"], entry["assertion_thumbprint"],
                                  entry["assertion_certificate"], entry["assertion_jti_reused"]),
                                 ("certificate", alg, False, thumbprint,
                                  os.path.basename(maker.pem_path), False))

    def test_every_encoding_of_the_key(self):
        for name, password in (("client-rsa-enc.pem", "emulator-pass"),
                               ("client-rsa-enc-des3.pem", "emulator-pass"),
                               ("client-rsa-enc-legacy.pem", "emulator-pass"),
                               ("client-rsa-pkcs1.pem", None), ("client-ec-sec1.pem", None)):
            with self.subTest(name=name):
                maker = AssertionMaker(self.emu, os.path.join(CLIENT_PKI, name), password)
                alg = "ES256" if "ec" in name else "PS256"
                self.assertEqual(self.assertion_request(maker.make(alg))[0], 200)
                with open(os.path.join(CLIENT_PKI, name)) as pem:
                    text = pem.read()
                self.assertEqual("ENCRYPTED" in text, password is not None)

    def test_x5c(self):
        self.assertEqual(self.assertion_request(self.chain.make(x5c=True))[0], 200)
        entry = self.emu.requests(op="token")[-1]
        self.assertEqual((entry["assertion_x5c"], entry["assertion_x5c_length"]), (True, 2))
        self.assertEqual(self.assertion_request(self.rsa.make(x5c=True))[0], 200)  # leaf alone
        leaf, intermediate = (base64.b64encode(c).decode() for c in self.chain.chain)
        root = base64.b64encode(pem_certificates(
            os.path.join(CLIENT_PKI, "client-root.crt"))[0]).decode()
        self.assertEqual(self.assertion_request(self.chain.make(
            x5c=[leaf, intermediate, root]))[0], 200)
        self.assert_refused(self.assertion_request(self.chain.make(x5c=[intermediate, leaf])),
                            700027, "invalid_client", "x5c_leaf_mismatch")
        self.assert_refused(self.assertion_request(self.chain.make(x5c=[leaf, root])),
                            700027, "invalid_client", "x5c_chain")
        urlsafe = base64.urlsafe_b64encode(self.chain.chain[0]).rstrip(b"=").decode()
        self.assert_refused(self.assertion_request(self.chain.make(x5c=[urlsafe])),
                            50027, "invalid_client", "x5c_malformed")
        self.assert_refused(self.assertion_request(self.chain.make(x5c=leaf)),
                            50027, "invalid_client", "x5c_malformed")

    def test_unknown_and_expired_certificates(self):
        unregistered = AssertionMaker(self.emu, os.path.join(CLIENT_PKI,
                                                             "client-unregistered.pem"))
        message = self.assert_refused(self.assertion_request(unregistered.make()), 700027,
                                      "invalid_client", "key_not_found")
        thumbprint = hashlib.sha256(unregistered.chain[0]).hexdigest().upper()
        self.assertIn("[Reason - The key was not found., Thumbprint of key used by client: "
                      f"'{thumbprint}'", message)
        expired = AssertionMaker(self.emu, os.path.join(CLIENT_PKI, "client-expired.pem"))
        message = self.assert_refused(self.assertion_request(expired.make("RS256")), 700027,
                                      "invalid_client", "certificate_expired")
        self.assertIn("[Reason - The key used is expired.", message)
        self.assertIn("End=01/04/2024 00:00:00", message)
        entry = self.emu.register_client_certificate(
            os.path.join(CLIENT_PKI, "client-unregistered.pem"))
        self.assertEqual(entry["x5t#S256"], b64url(hashlib.sha256(unregistered.chain[0]).digest()))
        self.assertEqual(self.assertion_request(unregistered.make())[0], 200)

    def test_signature_failures(self):
        other_key = os.path.join(CLIENT_PKI, "client-unregistered.pem")
        for alg in ("PS256", "RS256"):
            self.assert_refused(self.assertion_request(self.rsa.make(alg, sign_with=other_key)),
                                700027, "invalid_client", "bad_signature")
        self.assert_refused(self.assertion_request(self.rsa.make(tamper=True)), 700027,
                            "invalid_client", "bad_signature")
        message = self.assert_refused(self.assertion_request(self.rsa.make(salt="max")), 700027,
                                      "invalid_client", "pss_salt_length")
        self.assertIn("The provided signature value did not match the expected signature value",
                      message)
        self.assert_refused(self.assertion_request(self.ec.make("ES256", der_signature=True)),
                            700027, "invalid_client", "es256_signature_length")
        self.assert_refused(self.assertion_request(self.ec.make(
            "ES256", sign_with=os.path.join(CLIENT_PKI, "client-rsa.pem"), der_signature=True)),
            700027, "invalid_client", "es256_signature_length")
        # The algorithm must suit the registered key.
        forged = self.rsa.make("PS256").split(".")
        header = {"alg": "ES256", "typ": "JWT",
                  "x5t#S256": b64url(hashlib.sha256(self.rsa.chain[0]).digest())}
        ec_input = b64url(json.dumps(header).encode()) + "." + forged[1]
        ec_signature = openssl_sign(os.path.join(CLIENT_PKI, "client-ec.pem"),
                                    ec_input.encode(), "ES256")
        self.assert_refused(self.assertion_request(ec_input + "." + b64url(ec_signature)),
                            700027, "invalid_client", "alg_key_mismatch")

    def test_header_errors(self):
        x5t = b64url(hashlib.sha256(self.rsa.chain[0]).digest())
        for header, error in (({"alg": "HS256"}, "unsupported_alg"),
                              ({"alg": "none"}, "unsupported_alg"),
                              ({"alg": "RS384"}, "unsupported_alg"),
                              ({"typ": "at+jwt"}, "bad_typ"),
                              ({"x5t#S256": x5t + "="}, "bad_x5t#S256"),
                              ({"x5t#S256": x5t[:-2]}, "bad_x5t#S256"),
                              ({"x5t": b64url(bytes(32))}, "bad_x5t")):
            with self.subTest(header=header):
                raw = b64url(json.dumps(dict({"alg": "PS256", "typ": "JWT", "x5t#S256": x5t},
                                             **header)).encode())
                self.assert_refused(self.assertion_request(self.rsa.make(raw_header=raw)), 50027,
                                    "invalid_client", error)
        self.assert_refused(self.assertion_request(self.rsa.make(thumbprint="")), 50027,
                            "invalid_client", "no_thumbprint")
        padded = self.rsa.make().split(".")
        padded[0] += "=" * (-len(padded[0]) % 4 or 4)
        self.assert_refused(self.assertion_request(".".join(padded)), 50027, "invalid_client",
                            "malformed: not unpadded base64url")
        status, _, body = self.assertion_request(self.rsa.make(), client_assertion_type="jwt")
        self.assertEqual((status, body["error_codes"]), (400, [900144]))
        status, _, body = self.assertion_request(self.rsa.make(), client_secret="x")
        self.assertEqual((status, body["error_codes"]), (400, [9002313]))

    def test_claim_errors(self):
        now = int(time.time())
        tenant = self.emu.tenant_id
        cases = [({"iss": "someone-else"}, 700021, "iss_sub_mismatch"),
                 ({"sub": "someone-else"}, 700021, "iss_sub_mismatch"),
                 ({"aud": f"{self.emu.login_url}/{tenant}/oauth2/token"}, 50012, "aud_mismatch"),
                 ({"aud": f"{self.emu.login_url}/common/oauth2/v2.0/token"}, 50012,
                  "aud_mismatch"),
                 ({"aud": f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token/"},
                  50012, "aud_mismatch"),
                 ({"jti": None}, 50027, "missing_claim:jti"),
                 ({"iat": None}, 50027, "missing_claim:iat"),
                 ({"jti": "not-a-uuid"}, 50027, "jti_not_uuid"),
                 ({"nbf": str(now)}, 50027, "claim_not_integer:nbf"),
                 ({"exp": now + 600.5}, 50027, "claim_not_integer:exp"),
                 ({"exp": True}, 50027, "claim_not_integer:exp")]
        for claims, code, error in cases:
            with self.subTest(claims=claims):
                self.assert_refused(self.assertion_request(self.rsa.make(claims=claims)), code,
                                    "invalid_client", error)
        for aud in (f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
                    f"https://127.0.0.1:{self.emu.login_port}/{tenant.upper()}/oauth2/v2.0/token",
                    [f"{self.emu.login_url}/{tenant}/oauth2/v2.0/token"]):
            with self.subTest(aud=aud):
                self.assertEqual(self.assertion_request(self.rsa.make(claims={"aud": aud}))[0],
                                 200)

    def test_time_window(self):
        now = int(time.time())
        refused = [({"nbf": now + 400, "iat": now, "exp": now + 900}, "time_window"),
                   ({"nbf": now - 1000, "iat": now - 1000, "exp": now - 301}, "time_window"),
                   ({"iat": now + 400}, "time_window"),
                   ({"nbf": now, "exp": now + 3601}, "lifetime"),
                   ({"nbf": now, "exp": now}, "lifetime")]
        for claims, error in refused:
            with self.subTest(claims=claims):
                message = self.assert_refused(self.assertion_request(self.rsa.make(
                    claims=claims)), 700024, "invalid_client", error)
                self.assertIn("Client assertion is not within its valid time range. Current "
                              "time: ", message)
        for claims in ({"nbf": now + 200, "iat": now + 200, "exp": now + 800},
                       {"nbf": now - 900, "iat": now - 900, "exp": now - 200},
                       {"nbf": now, "exp": now + 3600}):
            with self.subTest(claims=claims):
                self.assertEqual(self.assertion_request(self.rsa.make(claims=claims))[0], 200)

    def test_replayed_assertion(self):
        assertion = self.rsa.make()
        self.assertEqual(self.assertion_request(assertion)[0], 200)
        self.assert_refused(self.assertion_request(assertion), 50013, "invalid_client",
                            "jti_replayed")
        self.assertTrue(self.emu.requests(op="token")[-1]["assertion_jti_reused"])
        self.emu.configure(reject_replayed_assertions=False)
        self.assertEqual(self.assertion_request(assertion)[0], 200)
        self.assertTrue(self.emu.requests(op="token")[-1]["assertion_jti_reused"])

    def test_admin_client_certificates(self):
        def admin(method, path, body=None):
            status, _, raw = self.call(method, path, json.dumps(body) if body else None)
            return status, json.loads(raw) if raw else None
        status, listed = admin("GET", "/_emulator/client-certificates")
        self.assertEqual((status, len(listed)), (200, 4))
        self.assertEqual(admin("DELETE", "/_emulator/client-certificates")[0], 204)
        self.assert_refused(self.assertion_request(self.rsa.make()), 700027, "invalid_client",
                            "key_not_found")
        with open(os.path.join(CLIENT_PKI, "client-rsa.crt")) as crt:
            status, info = admin("POST", "/_emulator/client-certificates", {"pem": crt.read()})
        self.assertEqual((status, info["key_type"]), (200, "RSA"))
        self.assertEqual(self.assertion_request(self.rsa.make())[0], 200)
        self.assertEqual(admin("POST", "/_emulator/client-certificates", {"pem": "x"})[0], 400)

    def test_log_holds_no_assertion(self):
        log_file = os.path.join(temp_dir(self), "log.jsonl")
        emu = ae.Emulator(PKI, log_path=log_file, client_pki=CLIENT_PKI).start()
        self.addCleanup(emu.stop)
        self.emu = emu
        maker = AssertionMaker(emu, os.path.join(CLIENT_PKI, "client-chain.pem"))
        assertions = [maker.make(x5c=True), maker.make(tamper=True)]
        tokens = [self.assertion_request(a)[2].get("access_token") for a in assertions]
        self.assertIsNotNone(tokens[0])
        with open(log_file) as written:
            text = written.read() + json.dumps(emu.log)
        for assertion in assertions:
            for part in assertion.split("."):
                self.assertNotIn(part, text)
        self.assertNotIn(tokens[0], text)


class WorkloadIdentityTest(CredentialTest):
    def test_federated_token(self):
        token = self.emu.federated_token()
        header, claims = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
                          for p in token.split(".")[:2])
        self.assertEqual((header["alg"], header["typ"], claims["iss"], claims["sub"],
                          claims["aud"], claims["exp"] - claims["nbf"]),
                         ("RS256", "JWT", ae.FEDERATED_ISSUER, ae.DEFAULT_FEDERATED_SUBJECT,
                          [ae.FEDERATED_AUDIENCE], 3600))
        self.assertTrue(header["kid"])
        status, _, body = self.assertion_request(token)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.arm(token=body["access_token"])[0], 200)
        self.assertEqual(self.assertion_request(token)[0], 200)  # the same file, read again
        entry = self.emu.requests(op="token")[-1]
        self.assertEqual((entry["credential"], entry["assertion_alg"], entry["federated_issuer"],
                          entry["federated_subject"]),
                         ("workload", "RS256", ae.FEDERATED_ISSUER, ae.DEFAULT_FEDERATED_SUBJECT))
        self.assertEqual(self.assertion_request(self.emu.federated_token(
            audience=ae.FEDERATED_AUDIENCE.lower() + "x", lifetime=60))[0], 401)

    def test_refusals(self):
        now = int(time.time())
        cases = [({"issuer": "https://other.example"}, 700211, "issuer_not_registered"),
                 ({"issuer": ae.FEDERATED_ISSUER + "/"}, 700211, "issuer_not_registered"),
                 ({"subject": "system:serviceaccount:batch:other"}, 700213,
                  "subject_not_registered"),
                 ({"audience": "api://AzureADTokenExchange2"}, 700212,
                  "audience_not_registered"),
                 ({"not_before": now - 7200, "lifetime": 3600}, 700024, "time_window"),
                 ({"not_before": now + 3600}, 700024, "time_window"),
                 ({"claims": {"exp": str(now + 600)}}, 50027, "claim_not_integer:exp")]
        for options, code, error in cases:
            with self.subTest(options=options):
                message = self.assert_refused(self.assertion_request(
                    self.emu.federated_token(**options)), code, "invalid_client", error)
                self.assertEqual(self.emu.requests(op="token")[-1]["credential"], "workload")
                if code in (700211, 700212, 700213):
                    self.assertIn("No matching federated identity record found for presented "
                                  "assertion", message)
        header, payload, signature = self.emu.federated_token().split(".")
        forged = b64url(json.dumps(dict(json.loads(base64.urlsafe_b64decode(
            payload + "=" * (-len(payload) % 4))), sub="x")).encode())
        self.assert_refused(self.assertion_request(f"{header}.{forged}.{signature}"), 50027,
                            "invalid_client", "bad_signature")  # the signature comes first
        self.emu.add_federated_identity("https://other.example", ae.DEFAULT_FEDERATED_SUBJECT)
        forged = self.emu.federated_token(claims={"sub": "x"}).split(".")
        self.assert_refused(self.assertion_request(f"{forged[0]}.{payload}.{forged[2]}"), 50027,
                            "invalid_client", "bad_signature")
        self.assert_refused(self.assertion_request(self.emu.federated_token(
            issuer="https://other.example")), 50027, "invalid_client", "bad_signature")

    def test_admin_routes(self):
        def admin(method, path, body=None):
            status, _, raw = self.call(method, path, json.dumps(body) if body else None)
            return status, json.loads(raw) if raw else None
        status, answer = admin("POST", "/_emulator/federated-token",
                               {"subject": "system:serviceaccount:batch:gateway"})
        self.assertEqual(status, 200)
        self.assertEqual(self.assertion_request(answer["token"])[0], 200)
        self.assertEqual(admin("GET", "/_emulator/federated-identities")[1],
                         [{"name": "federated-1", "issuer": ae.FEDERATED_ISSUER,
                           "subject": ae.DEFAULT_FEDERATED_SUBJECT,
                           "audiences": [ae.FEDERATED_AUDIENCE]}])
        self.assertEqual(admin("DELETE", "/_emulator/federated-identities")[0], 204)
        self.assert_refused(self.assertion_request(answer["token"]), 700211, "invalid_client")
        self.assertEqual(admin("POST", "/_emulator/federated-identities",
                               {"issuer": ae.FEDERATED_ISSUER,
                                "subject": ae.DEFAULT_FEDERATED_SUBJECT,
                                "audiences": [ae.FEDERATED_AUDIENCE]})[0], 200)
        self.assertEqual(self.assertion_request(answer["token"])[0], 200)
        self.assertEqual(admin("POST", "/_emulator/federated-identities", {"issuer": ""})[0], 400)


class ManagedIdentityTest(EmulatorTest):
    def mi(self, listener, query="", headers=None, method="GET", path=None):
        """A plain-HTTP request to a managed-identity listener: (status, response, JSON)."""
        port = getattr(self.emu, f"{listener}_port")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        self.addCleanup(conn.close)
        path = path or (ae.APPSERVICE_PATH if listener == "appservice" else ae.MI_TOKEN_PATH)
        conn.request(method, f"{path}?{query}" if query else path, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        return response.status, response, json.loads(raw) if raw else None

    def appservice(self, extra="", header=ae.DEFAULT_IDENTITY_HEADER, version="2019-08-01"):
        query = f"api-version={version}&resource=https://management.azure.com/" + extra
        return self.mi("appservice", query, {"X-IDENTITY-HEADER": header} if header else {})

    def imds(self, extra="", metadata="true", version="2018-02-01",
             resource="https://management.azure.com/"):
        query = f"api-version={version}&resource={urllib.parse.quote(resource, safe='')}" + extra
        return self.mi("imds", query, {"Metadata": metadata} if metadata else {})

    def arc(self, authorization=None, extra="", metadata="true"):
        headers = {"Metadata": metadata} if metadata else {}
        if authorization is not None:
            headers["Authorization"] = f"Basic {authorization}"
        return self.mi("arc", "api-version=2020-06-01&resource=https%3A%2F%2Fmanagement.azure.com"
                       "%2F" + extra, headers)

    def realm(self, response):
        challenge = response.getheader("WWW-Authenticate")
        self.assertTrue(challenge.startswith("Basic realm="), challenge)
        return challenge[len("Basic realm="):]

    def test_endpoints_for_the_client(self):
        self.assertEqual(self.emu.credential_env("appservice"),
                         {"IDENTITY_ENDPOINT": f"http://127.0.0.1:{self.emu.appservice_port}"
                                               "/msi/token",
                          "IDENTITY_HEADER": ae.DEFAULT_IDENTITY_HEADER})
        arc = self.emu.credential_env("arc")
        self.assertEqual((arc["IDENTITY_ENDPOINT"], arc["IMDS_ENDPOINT"]),
                         (f"http://127.0.0.1:{self.emu.arc_port}/metadata/identity/oauth2/token",
                          f"http://127.0.0.1:{self.emu.arc_port}"))
        self.assertTrue(os.path.isdir(arc["BATCHKEY_ARC_TOKEN_DIR"]))
        self.assertEqual(self.emu.credential_env("imds"),
                         {"AZURE_POD_IDENTITY_AUTHORITY_HOST":
                          f"http://127.0.0.1:{self.emu.imds_port}"})

    def test_app_service(self):
        status, response, body = self.appservice()
        self.assertEqual(status, 200)
        self.assertEqual(sorted(body), ["access_token", "client_id", "expires_on", "resource",
                                        "token_type"])
        self.assertEqual((body["resource"], body["token_type"], body["client_id"]),
                         ("https://management.azure.com/", "Bearer", ae.DEFAULT_MI_CLIENT_ID))
        self.assertIsInstance(body["expires_on"], str)
        self.assertAlmostEqual(int(body["expires_on"]), time.time() + 3599, delta=5)
        self.assertEqual(self.arm(token=body["access_token"])[0], 200)
        self.assertEqual(self.appservice("&client_id=" + ae.DEFAULT_USER_ASSIGNED_CLIENT_ID)[2]
                         ["client_id"], ae.DEFAULT_USER_ASSIGNED_CLIENT_ID)
        for kwargs, status, message in (
                ({"header": None}, 400, "X-IDENTITY-HEADER header is required"),
                ({"header": "wrong"}, 401, "X-IDENTITY-HEADER header is not valid"),
                ({"version": "2017-09-01"}, 400, "api-version"),
                ({"extra": "&client_id=00000000-0000-0000-0000-000000000000"}, 400,
                 "Unable to load the proper Managed Identity.")):
            with self.subTest(kwargs=kwargs):
                got, _, body = self.appservice(**kwargs)
                self.assertEqual((got, body["statusCode"]), (status, status))
                self.assertIn(message, body["message"])
        self.assertEqual([e.get("identity_header") for e in
                          self.emu.requests(listener="appservice")],
                         ["ok", "ok", "missing", "wrong", None, "ok"])
        self.assertEqual(self.mi("appservice", path="/other")[0], 404)

    def test_imds(self):
        status, _, body = self.imds()
        self.assertEqual(status, 200)
        self.assertEqual(sorted(body), ["access_token", "client_id", "expires_in", "expires_on",
                                        "ext_expires_in", "not_before", "resource", "token_type"])
        for name in ("expires_in", "expires_on", "ext_expires_in", "not_before"):
            self.assertIsInstance(body[name], str)
            self.assertTrue(body[name].isdigit())
        self.assertEqual((body["expires_in"], body["client_id"]), ("3599", ae.DEFAULT_MI_CLIENT_ID))
        self.assertEqual(self.arm(token=body["access_token"])[0], 200)
        body = self.imds("&client_id=" + ae.DEFAULT_USER_ASSIGNED_CLIENT_ID.upper())[2]
        self.assertEqual(body["client_id"], ae.DEFAULT_USER_ASSIGNED_CLIENT_ID)
        self.assertEqual(self.imds(metadata=None)[1:][1],
                         {"error": "invalid_request",
                          "error_description": "Required metadata header not specified"})
        self.assertEqual(self.imds(metadata="false")[0], 400)
        self.assertEqual(self.imds("&client_id=00000000-0000-0000-0000-000000000000")[2],
                         {"error": "invalid_request", "error_description": "Identity not found"})
        self.assertEqual(self.imds("&object_id=" + ae.DEFAULT_MI_CLIENT_ID)[0], 400)
        self.assertEqual(self.imds(resource="https://vault.azure.net")[2]["error"],
                         "invalid_resource")
        self.assertEqual(self.imds(version="1999-01-01")[0], 400)
        self.emu.configure(system_assigned_identity=None)
        self.assertEqual(self.imds()[2]["error_description"], "Identity not found")
        entry = self.emu.requests(listener="imds")[0]
        self.assertEqual((entry["op"], entry["identity"], entry["mi_client_id"],
                          entry["metadata_header"], entry["api_version"]),
                         ("imds", "system", ae.DEFAULT_MI_CLIENT_ID, True, "2018-02-01"))
        self.assertEqual(self.emu.connections("imds")[0]["tls"], "none")

    def test_arc_challenge(self):
        status, response, body = self.arc()
        self.assertEqual(status, 401)
        realm = self.realm(response)
        self.assertTrue(os.path.isabs(realm) and realm.endswith(".key"))
        self.assertEqual(os.path.dirname(realm), self.emu.arc_token_dir)
        with open(realm) as secret_file:
            secret = secret_file.read()
        self.assertLessEqual(len(secret), 4096)
        status, _, body = self.arc(secret)
        self.assertEqual(status, 200)
        self.assertEqual(sorted(body), ["access_token", "expires_in", "expires_on", "not_before",
                                        "resource", "token_type"])
        self.assertEqual(body["expires_in"], "3599")
        self.assertEqual(self.arm(token=body["access_token"])[0], 200)
        self.assertEqual(self.arc(secret)[0], 200)  # good for a while, not just once
        status, response, _ = self.arc("not-the-secret")
        self.assertEqual(status, 401)
        self.assertNotEqual(self.realm(response), realm)
        self.assertEqual(self.arc(metadata=None)[0], 400)
        self.assertEqual(self.arc(secret, "&client_id=" + ae.DEFAULT_USER_ASSIGNED_CLIENT_ID)[2],
                         {"error": "invalid_request", "error_description": "Identity not found"})
        self.assertEqual([(e["status"], e.get("arc_challenge"), e.get("arc_secret"))
                          for e in self.emu.requests(listener="arc")],
                         [(401, "valid", None), (200, None, "ok"), (200, None, "ok"),
                          (401, None, "wrong"), (400, None, None), (400, None, "ok")])
        directory = self.emu.arc_token_dir
        self.emu.stop()
        self.assertFalse(os.path.exists(directory))

    def test_arc_realm_faults(self):
        directory = self.emu.arc_token_dir
        for variant in ae.ARC_REALM_VARIANTS:
            with self.subTest(variant=variant):
                self.emu.add_fault("arc_realm", variant=variant)
                self.assertEqual(self.arc("x")[0], 401)  # a request with Authorization: not fired
                status, response, _ = self.arc()
                self.assertEqual(status, 401)
                realm = self.realm(response)
                self.assertEqual(self.emu.requests(listener="arc")[-1]["fault"]["variant"],
                                 variant)
                in_dir = os.path.dirname(realm) == directory
                check = {"outside": lambda: not in_dir and realm.endswith(".key"),
                         "not_key": lambda: in_dir and not realm.endswith(".key"),
                         "symlink": lambda: in_dir and os.path.islink(realm) and
                         os.path.dirname(os.path.realpath(realm)) != directory,
                         "oversized": lambda: in_dir and os.path.getsize(realm) == 4097,
                         "traversal": lambda: "/../" in realm and os.path.dirname(
                             os.path.realpath(realm)) != directory,
                         "subdir": lambda: os.path.dirname(os.path.dirname(realm)) == directory,
                         "relative": lambda: not os.path.isabs(realm) and os.path.exists(
                             os.path.join(directory, realm)),
                         "missing": lambda: in_dir and not os.path.exists(realm),
                         "limit": lambda: in_dir and os.path.getsize(realm) == 4096}[variant]
                self.assertTrue(check(), realm)
                if variant != "missing":
                    path = realm if os.path.isabs(realm) else os.path.join(directory, realm)
                    with open(path) as secret_file:  # a client that does not refuse gets in
                        self.assertEqual(self.arc(secret_file.read())[0], 200)
        self.assertEqual(self.emu.faults(), [])
        with self.assertRaises(ValueError):
            ae.normalize_fault({"kind": "arc_realm", "variant": "elsewhere"})
        with self.assertRaises(ValueError):
            ae.normalize_fault({"kind": "arc_realm", "op": "imds"})

    def test_faults_on_each_endpoint(self):
        requests = {"appservice": self.appservice, "arc": lambda: self.arc(), "imds": self.imds}
        for listener, request in requests.items():
            for status in (404, 410, 429, 500, 503):
                with self.subTest(listener=listener, status=status):
                    self.emu.add_fault("status", listener, status=status)
                    got, response, body = request()
                    self.assertEqual(got, status)
                    if listener == "appservice":
                        self.assertEqual(body["statusCode"], status)
                    else:
                        self.assertTrue(body["error"] and body["error_description"])
                    self.assertEqual(response.getheader("Retry-After"),
                                     "1" if status == 429 else None)
            self.emu.add_fault("drop", listener)
            with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
                request()
            self.emu.add_fault("stall", listener, seconds=0.3)
            with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
                request()
            self.emu.add_fault("slow", listener, seconds=0.2)
            started = time.monotonic()
            self.assertIn(request()[0], (200, 401))
            self.assertGreaterEqual(time.monotonic() - started, 0.2)
            self.emu.add_fault("status", listener, status=202)
            got, response, _ = request()
            self.assertEqual(got, 202)
            self.assertTrue(response.getheader("Location").startswith(
                getattr(self.emu, f"{listener}_url")))
            kinds = [e["fault"] and e["fault"]["kind"] for e in self.emu.requests(listener)]
            self.assertEqual(kinds, ["status"] * 5 + ["drop", "stall", "slow", "status"])
        with self.assertRaises(ValueError):
            ae.normalize_fault({"kind": "policy_denial", "op": "imds"})

    def test_log_holds_no_secret_or_token(self):
        log_file = os.path.join(temp_dir(self), "log.jsonl")
        emu = ae.Emulator(PKI, log_path=log_file, identity_header="a-header-secret").start()
        self.addCleanup(emu.stop)
        self.emu = emu
        tokens = [self.appservice(header="a-header-secret")[2]["access_token"],
                  self.imds()[2]["access_token"]]
        response = self.arc()[1]
        with open(self.realm(response)) as secret_file:
            secret = secret_file.read()
        tokens.append(self.arc(secret)[2]["access_token"])
        self.appservice(header="a-wrong-header-secret")
        with open(log_file) as written:
            text = written.read() + json.dumps(emu.log)
        for value in tokens + [secret, "a-header-secret", "a-wrong-header-secret"]:
            self.assertNotIn(value, text)
        self.assertIn("X-IDENTITY-HEADER", text)  # the header's name only


class DeviceCodeTest(EmulatorTest):
    emulator_options = {"device_code_interval": 1, "slow_down_increment": 1}
    SCOPE = "https://management.azure.com/user_impersonation offline_access"

    def login(self, path, form):
        form = {k: v for k, v in form.items() if v is not None}
        status, response, raw = self.call(
            "POST", f"/{self.emu.tenant_id}/oauth2/v2.0/{path}", urllib.parse.urlencode(form),
            {"Content-Type": "application/x-www-form-urlencoded"}, listener="login")
        return status, json.loads(raw)

    def start_flow(self, scope=SCOPE):
        status, body = self.login("devicecode", {"client_id": self.emu.client_id,
                                                 "scope": scope})
        self.assertEqual(status, 200, body)
        return body

    def poll(self, device_code, **extra):
        return self.login("token", dict({"grant_type": ae.DEVICE_CODE_GRANT,
                                         "client_id": self.emu.client_id,
                                         "device_code": device_code}, **extra))

    def refresh(self, refresh_token, scope=SCOPE, **extra):
        return self.login("token", dict({"grant_type": "refresh_token",
                                         "client_id": self.emu.client_id,
                                         "refresh_token": refresh_token, "scope": scope},
                                        **extra))

    def assert_error(self, answer, error, code, status=400):
        got, body = answer
        self.assertEqual((got, body["error"], body["error_codes"]), (status, error, [code]),
                         body.get("error_description"))
        self.assertTrue(body["error_description"].startswith(f"AADSTS{code}: "))

    def test_device_code_answer(self):
        body = self.start_flow()
        self.assertEqual(sorted(body), ["device_code", "expires_in", "interval", "message",
                                        "user_code", "verification_uri"])
        self.assertEqual((body["verification_uri"], body["expires_in"], body["interval"]),
                         ("https://microsoft.com/devicelogin", 900, 1))
        self.assertEqual(body["message"],
                         "To sign in, use a web browser to open the page "
                         "https://microsoft.com/devicelogin and enter the code "
                         f"{body['user_code']} to authenticate.")
        self.assertRegex(body["user_code"], r"^[A-Z0-9]{9}$")
        self.assertGreaterEqual(len(body["device_code"]), 200)
        self.assertEqual(self.emu.device_flows()[0]["state"], "pending")
        for scope in ("https://vault.azure.net/user_impersonation offline_access",
                      "offline_access openid", "https://management.azure.com/read"):
            with self.subTest(scope=scope):
                got, error = self.login("devicecode", {"client_id": self.emu.client_id,
                                                       "scope": scope})
                self.assertEqual((got, error["error"], error["error_codes"]),
                                 (400, "invalid_scope", [70011]))
        self.assert_error(self.login("devicecode", {"client_id": str(uuid.uuid4()),
                                                    "scope": self.SCOPE}),
                          "unauthorized_client", 700016)
        self.assert_error(self.login("devicecode", {"client_id": self.emu.client_id}),
                          "invalid_request", 900144)
        self.assertEqual(self.start_flow("https://management.azure.com//user_impersonation "
                                         "openid profile offline_access")["interval"], 1)

    def test_pending_then_approved(self):
        flow = self.start_flow()
        time.sleep(0.8)
        self.assert_error(self.poll(flow["device_code"]), "authorization_pending", 70016)
        self.assertEqual(self.emu.approve(flow["user_code"].lower()), 1)
        time.sleep(0.8)
        status, body = self.poll(flow["device_code"])
        self.assertEqual(status, 200, body)
        self.assertEqual(sorted(body), ["access_token", "expires_in", "ext_expires_in",
                                        "refresh_token", "scope", "token_type"])
        self.assertEqual((body["token_type"], body["scope"], body["expires_in"]),
                         ("Bearer", "https://management.azure.com/user_impersonation", 3599))
        self.assertEqual(self.arm(token=body["access_token"])[0], 200)
        claims = body["access_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        self.assertEqual((claims["idtyp"], claims["upn"], claims["scp"]),
                         ("user", ae.DEFAULT_USER, "user_impersonation"))
        self.assert_error(self.poll(flow["device_code"]), "invalid_grant", 70000)
        entries = self.emu.requests(op="token")
        self.assertEqual([(e["device_flow_state"], e["device_poll"]) for e in entries],
                         [("pending", 1), ("approved", 2), ("redeemed", 3)])
        self.assertGreaterEqual(entries[0]["device_poll_gap"], 0.75)
        self.assertEqual(self.emu.device_flows()[0]["state"], "redeemed")
        with self.assertRaises(ValueError):
            self.emu.approve(flow["user_code"])

    def test_slow_down(self):
        flow = self.start_flow()
        self.assert_error(self.poll(flow["device_code"]), "slow_down", 70016)
        self.assertEqual(self.emu.device_flows()[0]["interval"], 2)
        time.sleep(1.2)  # still too soon for the new interval
        self.assert_error(self.poll(flow["device_code"]), "slow_down", 70016)
        self.assertEqual(self.emu.requests(op="token")[-1]["device_interval"], 3)

    def test_declined_expired_and_unknown(self):
        declined, expired, by_device_code = (self.start_flow() for _ in range(3))
        self.emu.decline(declined["user_code"])
        self.emu.expire(expired["user_code"])
        self.emu.expire(by_device_code["device_code"])
        self.assert_error(self.poll(declined["device_code"]), "authorization_declined", 65004)
        self.assert_error(self.poll(expired["device_code"]), "expired_token", 70020)
        self.assert_error(self.poll(by_device_code["device_code"]), "expired_token", 70020)
        self.assert_error(self.poll("DAQABIQEAAAD-unknown"), "bad_verification_code", 70018)
        self.assert_error(self.poll(None), "invalid_request", 900144)
        with self.assertRaises(KeyError):
            self.emu.approve()  # no pending flow left
        self.emu.configure(device_code_lifetime=0.2)
        late = self.start_flow()
        time.sleep(0.3)
        with self.assertRaises(ValueError):
            self.emu.approve(late["user_code"])
        self.assert_error(self.poll(late["device_code"]), "expired_token", 70020)

    def test_script(self):
        self.emu.script_device_flow(["pending", "slow_down", "approve"])
        flow = self.start_flow()
        self.assert_error(self.poll(flow["device_code"]), "authorization_pending", 70016)
        self.assert_error(self.poll(flow["device_code"]), "slow_down", 70016)
        self.assertEqual(self.poll(flow["device_code"])[0], 200)
        self.emu.script_device_flow(["decline"])
        self.assert_error(self.poll(self.start_flow()["device_code"]), "authorization_declined",
                          65004)
        self.emu.script_device_flow(["expire"])
        self.assert_error(self.poll(self.start_flow()["device_code"]), "expired_token", 70020)
        with self.assertRaises(ValueError):
            self.emu.script_device_flow(["approved"])

    def test_without_offline_access_no_refresh_token(self):
        self.emu.script_device_flow(["approve"])
        flow = self.start_flow("https://management.azure.com/.default")
        status, body = self.poll(flow["device_code"])
        self.assertEqual(status, 200)
        self.assertNotIn("refresh_token", body)

    def test_refresh_token_rotation(self):
        self.emu.script_device_flow(["approve"])
        first = self.poll(self.start_flow()["device_code"])[1]["refresh_token"]
        self.assertEqual(len(first), 1000)
        status, body = self.refresh(first)
        self.assertEqual(status, 200, body)
        second = body["refresh_token"]
        self.assertNotEqual(second, first)
        self.assertEqual(self.arm(token=body["access_token"])[0], 200)
        self.assert_error(self.refresh(first), "invalid_grant", 70000)
        status, body = self.refresh(second, scope=None)  # the scope may be left out
        self.assertEqual(status, 200)
        third = body["refresh_token"]
        self.assert_error(self.refresh(third, scope="https://vault.azure.net/.default"),
                          "invalid_scope", 70011)
        self.assert_error(self.refresh(third, client_secret="wrong"), "invalid_client", 7000215,
                          401)
        self.assertEqual(self.emu.revoke_refresh_tokens(), 1)
        self.assert_error(self.refresh(third), "invalid_grant", 50173)
        seeded = self.emu.issue_refresh_token()
        self.assertEqual(self.emu.expire_refresh_tokens(), 1)
        self.assert_error(self.refresh(seeded), "invalid_grant", 700082)
        self.assert_error(self.refresh("1.Aforged"), "invalid_grant", 70000)
        self.assertEqual([e.get("refresh_token_state") for e in self.emu.requests(op="token")
                          if e["grant_type"] == "refresh_token"],
                         ["active", "rotated", "active", "active", None, "revoked", "expired",
                          "unknown"])
        self.assertEqual([(t["state"], t["expired"]) for t in self.emu.refresh_tokens()],
                         [("rotated", False), ("rotated", False), ("revoked", False),
                          ("active", True)])
        self.emu.configure(single_use_refresh_tokens=False)
        reusable = self.emu.issue_refresh_token()
        self.assertEqual([self.refresh(reusable)[0] for _ in range(2)], [200, 200])

    def test_admin_routes(self):
        def admin(method, path, body=None):
            status, _, raw = self.call(method, path,
                                       json.dumps(body) if body is not None else None)
            return status, json.loads(raw) if raw else None
        self.assertEqual(admin("POST", "/_emulator/settings", {"device_code_interval": 3})[1]
                         ["device_code_interval"], 3)
        self.assertEqual(admin("POST", "/_emulator/settings", {"nothing": 1})[0], 400)
        self.assertEqual(admin("POST", "/_emulator/settings",
                               {"device_code_interval": "3"})[0], 400)
        flow = self.start_flow()
        self.assertEqual(flow["interval"], 3)
        status, flows = admin("GET", "/_emulator/device-flows")
        self.assertEqual((status, flows[0]["user_code"]), (200, flow["user_code"]))
        self.assertNotIn("device_code", flows[0])
        status, approved = admin("POST", "/_emulator/device-flows/approve",
                                 {"user_code": flow["user_code"], "user": "person@example.com"})
        self.assertEqual((status, approved["state"], approved["user"]),
                         (200, "approved", "person@example.com"))
        self.assertEqual(admin("POST", "/_emulator/device-flows/decline", {})[0], 404)
        self.assertEqual(self.poll(flow["device_code"])[0], 200)
        self.assertEqual(admin("POST", "/_emulator/device-flows/script", ["decline"])[0], 204)
        self.assertEqual(admin("POST", "/_emulator/device-flows/script", ["x"])[0], 400)
        status, seeded = admin("POST", "/_emulator/refresh-tokens", {"user": "a@example.com"})
        self.assertEqual(self.refresh(seeded["refresh_token"])[0], 200)
        self.assertEqual(admin("POST", "/_emulator/refresh-tokens/revoke")[1], {"revoked": 2})
        self.assertEqual(admin("POST", "/_emulator/refresh-tokens/expire")[1], {"expired": 0})
        self.assertEqual(len(admin("GET", "/_emulator/refresh-tokens")[1]), 3)

    def test_log_holds_no_code_or_token(self):
        log_file = os.path.join(temp_dir(self), "log.jsonl")
        emu = ae.Emulator(PKI, log_path=log_file, device_code_interval=1).start()
        self.addCleanup(emu.stop)
        self.emu = emu
        flow = self.start_flow()
        self.poll(flow["device_code"])
        emu.approve()
        tokens = self.poll(flow["device_code"])[1]
        refreshed = self.refresh(tokens["refresh_token"])[1]
        with open(log_file) as written:
            text = written.read() + json.dumps(emu.log)
        for value in (flow["device_code"], flow["user_code"], tokens["refresh_token"],
                      tokens["access_token"], refreshed["refresh_token"],
                      refreshed["access_token"]):
            self.assertNotIn(value, text)


class ScriptModeTest(unittest.TestCase):
    def test_script_lifecycle(self):
        work = temp_dir(self)
        port_file, log_file, control = (os.path.join(work, n) for n in ("ports", "log", "ctl"))
        process = subprocess.Popen([sys.executable, os.path.join(HERE, "azure_emulator.py"),
                                    "--pki", PKI, "--port-file", port_file, "--log", log_file,
                                    "--control", control, "--propagation-delay", "2.5"])
        self.addCleanup(process.kill)
        wait_for(lambda: os.path.exists(port_file) or process.poll() is not None, timeout=10)
        with open(port_file) as ports_json:
            ports = json.load(ports_json)
        self.assertEqual(sorted(ports), sorted(ae.LISTENERS))
        with open(control, "w") as control_file:
            json.dump([{"kind": "status", "op": "token", "status": 500}], control_file)
        ctx = ssl.create_default_context(cafile=os.path.join(PKI, "ca.crt"))
        conn = http.client.HTTPSConnection("localhost", ports["login"], context=ctx, timeout=5)
        conn.request("POST", f"/{ae.DEFAULT_TENANT_ID}/oauth2/v2.0/token", b"",
                     {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(conn.getresponse().status, 500)
        conn.close()
        conn = http.client.HTTPSConnection("localhost", ports["arm"], context=ctx, timeout=5)
        conn.request("GET", "/_emulator/accounts")
        accounts = json.loads(conn.getresponse().read())
        conn.close()
        self.assertEqual({a["propagationDelay"] for a in accounts}, {2.5})
        conn = http.client.HTTPSConnection("localhost", ports["batch"], context=ctx, timeout=5)
        conn.request("GET", "/applications?" + APPLICATIONS_QUERY)
        self.assertEqual(conn.getresponse().status, 401)
        conn.close()
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=5), 0)
        with open(log_file) as log:
            entries = [json.loads(line) for line in log]
        self.assertEqual([e["fault"] and e["fault"]["status"] for e in entries
                          if e["event"] == "request" and e["op"] != "admin"], [500, None])
        self.assertFalse(os.path.exists(port_file))

    def test_script_credentials(self):
        work = temp_dir(self)
        port_file, arc_dir = os.path.join(work, "ports"), os.path.join(work, "arc")
        process = subprocess.Popen([sys.executable, os.path.join(HERE, "azure_emulator.py"),
                                    "--pki", PKI, "--port-file", port_file, "--client-pki",
                                    CLIENT_PKI, "--arc-token-dir", arc_dir,
                                    "--identity-header", "h", "--device-code-interval", "2"])
        self.addCleanup(process.kill)
        wait_for(lambda: os.path.exists(port_file) or process.poll() is not None, timeout=10)
        with open(port_file) as ports_json:
            ports = json.load(ports_json)
        conn = http.client.HTTPConnection("127.0.0.1", ports["arc"], timeout=5)
        conn.request("GET", ae.MI_TOKEN_PATH + "?api-version=2020-06-01&resource="
                     "https://management.azure.com/", headers={"Metadata": "true"})
        response = conn.getresponse()
        response.read()
        conn.close()
        self.assertEqual(response.status, 401)
        self.assertEqual(os.path.dirname(response.getheader("WWW-Authenticate")[12:]), arc_dir)
        conn = http.client.HTTPConnection("127.0.0.1", ports["appservice"], timeout=5)
        conn.request("GET", "/msi/token?api-version=2019-08-01&resource=https://management.azure"
                     ".com/", headers={"X-IDENTITY-HEADER": "h"})
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()
        ctx = ssl.create_default_context(cafile=os.path.join(PKI, "ca.crt"))
        conn = http.client.HTTPSConnection("localhost", ports["arm"], context=ctx, timeout=5)
        conn.request("GET", "/_emulator/client-certificates")
        self.assertEqual(len(json.loads(conn.getresponse().read())), 4)
        conn.request("GET", "/_emulator/settings")
        self.assertEqual(json.loads(conn.getresponse().read())["device_code_interval"], 2)
        conn.close()
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=5), 0)
        self.assertEqual(os.listdir(arc_dir), [])  # its challenge files are gone, the dir stays


if __name__ == "__main__":
    unittest.main()
