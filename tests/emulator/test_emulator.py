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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import azure_emulator as ae  # noqa: E402

PKI = None
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
    global PKI, _pki_holder
    _pki_holder = tempfile.TemporaryDirectory()
    PKI = _pki_holder.name
    subprocess.run(["sh", os.path.join(HERE, "make_test_pki.sh"), PKI], check=True)


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

    def test_client_assertion_is_checked_structurally(self):
        def part(obj):
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
        claims = {"aud": "x", "iss": self.emu.client_id, "sub": self.emu.client_id,
                  "exp": time.time() + 600, "jti": "1"}
        assertion = ".".join((part({"alg": "RS256", "x5t#S256": "abc"}), part(claims), "sig"))
        kind = ae.CLIENT_ASSERTION_TYPE
        good = self.token_request(client_secret=None, client_assertion=assertion,
                                  client_assertion_type=kind)
        self.assertEqual(good[0], 200)
        bad = self.token_request(client_secret=None, client_assertion="not-a-jwt",
                                 client_assertion_type=kind)
        self.assertEqual((bad[0], bad[2]["error_codes"]), (401, [50027]))


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
        self.assertEqual(sorted(ports), ["arm", "batch", "login"])
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


if __name__ == "__main__":
    unittest.main()
