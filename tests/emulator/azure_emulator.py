#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A local stand-in for Microsoft Entra ID, Azure Resource Manager (Batch account keys) and the
Azure Batch data plane (SharedKey-signed reads).

Three HTTPS listeners on loopback: "login" plays login.microsoftonline.com (client-credentials
token endpoint), "arm" plays management.azure.com (Batch account get, listKeys, regenerateKeys),
"batch" plays <account>.<region>.batch.azure.com (list applications, authenticated with an
account key, which proves that a key works; a regenerated key is accepted after a configurable
propagation delay). Faults (throttling, server errors and other statuses, dropped, stalled,
trickled or truncated answers, chunked or close-delimited framing, slowness, CAE challenges,
policy denials, oversized request ids) can be injected per request, and every connection and
request is logged without secrets. Python 3 standard library only. See README.md next to this
file.
"""

import argparse
import base64
import email.utils
import hashlib
import hmac
import http
import http.server
import ipaddress
import json
import os
import re
import secrets
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

API_VERSION = "2024-07-01"
ARM_AUDIENCE = "https://management.azure.com"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

DEFAULT_TENANT_ID = "5f3c8a21-7d4e-4b9a-a6c2-91e0d4b7f3a8"
DEFAULT_CLIENT_ID = "c1a7e9d2-4b3f-4e58-9a06-2d8b5f1c7e40"
DEFAULT_CLIENT_SECRET = "emulator-secret"
DEFAULT_SUBSCRIPTION_ID = "2b9e4f17-83c6-4d0a-b5e1-7a4c9d2f6e83"
DEFAULT_RESOURCE_GROUP = "batchkey-rg"
DEFAULT_ACCOUNT = "batchkeyacct"  # allows SharedKey, AAD and TaskAuthenticationToken
DEFAULT_AAD_ONLY_ACCOUNT = "batchkeyaadonly"  # allows AAD only: no key operations
DEFAULT_LOCATION = "westeurope"
# The code real ARM uses for key operations on an account without SharedKey could not be
# confirmed from public sources; this one is the emulator's choice.
SHARED_KEY_DISALLOWED_CODE = "AccountKeysNotAllowed"

# The Batch data plane (service) API. The emulator accepts any version of this shape.
BATCH_API_VERSION = "2024-07-01.20.0"
BATCH_API_VERSION_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}\.\d+\.\d+")
BATCH_CONTENT_TYPE = "application/json;odata=minimalmetadata"
BATCH_ERROR_METADATA = "$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
SHARED_KEY_WINDOW = 15 * 60  # seconds ocp-date may be off the emulator's clock, either way
# The standard headers of a SharedKey string to sign, in their order (after the method).
SHARED_KEY_HEADERS = ("Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
                      "Content-Type", "Date", "If-Modified-Since", "If-Match", "If-None-Match",
                      "If-Unmodified-Since", "Range")
KEY_SLOTS = ("primary", "secondary")

LISTENERS = ("login", "arm", "batch")
OPERATIONS = ("token", "get", "listKeys", "regenerateKeys", "applications")
OPERATION_LISTENERS = {"token": "login", "get": "arm", "listKeys": "arm", "regenerateKeys": "arm",
                       "applications": "batch"}
FAULT_KINDS = ("status", "drop", "drop_before", "chunked", "slow", "truncate", "401_claims",
               "malformed", "long_ids", "policy_denial", "stall", "trickle", "close_delimited")
ARM_ONLY_KINDS = ("401_claims", "policy_denial")  # never fired on the login or batch listener
RETRY_AFTER_STYLES = ("seconds", "http-date", "retry-after-ms", "x-ms-retry-after-ms")
LOGGED_HEADERS = ("Host", "User-Agent", "Content-Type", "Content-Length", "Accept",
                  "Accept-Encoding", "Connection", "Transfer-Encoding", "x-ms-client-request-id",
                  "client-request-id", "return-client-request-id", "ocp-date")
MAX_BODY = 1 << 20
STOP_POLL = 0.2  # how often a silent handler re-checks that the emulator is not stopping

ARM_PATH = re.compile(r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Batch"
                      r"/batchAccounts/([^/]+)(?:/(listKeys|regenerateKeys))?", re.IGNORECASE)
TOKEN_PATH = re.compile(r"/([^/]+)/oauth2/v2\.0/token")
GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def new_account_key():
    """A Batch account key: 64 random bytes, base64 (88 characters)."""
    return base64.b64encode(secrets.token_bytes(64)).decode("ascii")


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def _utc_now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"


def _as_sent(text):
    """http.server decodes the request line and headers as ISO-8859-1: the text of the bytes
    the client sent, read as UTF-8 (which is what a SharedKey string to sign is made of)."""
    return text.encode("latin-1", "replace").decode("utf-8", "replace")


def shared_key_string_to_sign(method, headers, account_name, path, query):
    """The SharedKey string to sign of a Batch data-plane request ("Authenticate requests to
    Azure Batch"): the method, the eleven standard headers' values (a Content-Length of 0 is
    empty), then every ocp-* header as "name:value" (lowercased name, sorted, value trimmed),
    then "/" + account + path as sent + each query parameter as "\nname:value" (lowercased
    name, sorted; the value URL-decoded; several values of one name sorted and comma-joined).
    headers: a case-insensitive mapping with get_all() (an http.client.HTTPMessage) or a dict."""
    def values(name):
        if hasattr(headers, "get_all"):
            return headers.get_all(name) or []
        return [v for k, v in headers.items() if k.lower() == name.lower()]

    lines = [method]
    for name in SHARED_KEY_HEADERS:
        value = ",".join(_as_sent(v).strip() for v in values(name))
        lines.append("" if name == "Content-Length" and value == "0" else value)
    canonical_headers = ""
    names = sorted({name.lower() for name in headers.keys() if name.lower().startswith("ocp-")})
    for name in names:
        canonical_headers += f"{name}:{','.join(_as_sent(v).strip() for v in values(name))}\n"
    resource = f"/{account_name}{_as_sent(path)}"
    params = {}
    for name, value in urllib.parse.parse_qsl(_as_sent(query), keep_blank_values=True):
        params.setdefault(name.lower(), []).append(value)
    for name in sorted(params):
        resource += f"\n{name}:{','.join(sorted(params[name]))}"
    return "\n".join(lines) + "\n" + canonical_headers + resource


def shared_key_signature(key, string_to_sign):
    """base64(HMAC-SHA256(base64-decoded account key, the string to sign as UTF-8))."""
    mac = hmac.new(base64.b64decode(key), string_to_sign.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def _check_key(key):
    """An account key as the emulator holds it: base64 of at least one byte; else ValueError."""
    try:
        if isinstance(key, str) and base64.b64decode(key, validate=True):
            return key
    except ValueError:
        pass
    raise ValueError("an account key must be base64 of at least one byte")


class BatchAccount:
    """One Batch account: its identity, allowed authentication modes and its two keys.

    Each key slot remembers since when (time.monotonic()) its key is accepted on the data plane:
    a key set by regenerate() only propagation_delay seconds later (None: 0, or the emulator's
    default once the account is given to an Emulator), one assigned to `primary` or `secondary`
    at once. The key a slot held before is never accepted again."""

    def __init__(self, name, subscription_id=DEFAULT_SUBSCRIPTION_ID,
                 resource_group=DEFAULT_RESOURCE_GROUP, location=DEFAULT_LOCATION,
                 auth_modes=("SharedKey", "AAD", "TaskAuthenticationToken"),
                 propagation_delay=None):
        self.name = name
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.location = location
        self.auth_modes = list(auth_modes)
        self.propagation_delay = propagation_delay
        self._keys, self._accepted_since = {}, {}
        self.primary = new_account_key()
        self.secondary = new_account_key()

    @property
    def primary(self):
        return self._keys["primary"]

    @primary.setter
    def primary(self, key):
        self.set_key("primary", key)

    @property
    def secondary(self):
        return self._keys["secondary"]

    @secondary.setter
    def secondary(self, key):
        self.set_key("secondary", key)

    def set_key(self, slot, key, accepted_in=0.0):
        """Puts `key` in `slot` ("primary" or "secondary"), accepted `accepted_in` seconds from
        now; the slot's previous key is no longer accepted."""
        if slot not in KEY_SLOTS:
            raise ValueError(f"key slot must be one of {KEY_SLOTS}, not {slot!r}")
        self._keys[slot] = _check_key(key)
        self._accepted_since[slot] = time.monotonic() + accepted_in

    def regenerate(self, slot):
        """What regenerateKeys does: a new key in `slot`, accepted after the propagation delay."""
        self.set_key(slot, new_account_key(), self.propagation_delay or 0.0)
        return self._keys[slot]

    def key_states(self):
        """[(slot, key, accepted now?)] for both slots."""
        now = time.monotonic()
        return [(slot, self._keys[slot], self._accepted_since[slot] <= now) for slot in KEY_SLOTS]

    @property
    def allows_shared_key(self):
        return "SharedKey" in self.auth_modes

    def keys_body(self):
        return {"accountName": self.name, "primary": self.primary, "secondary": self.secondary}

    def resource_body(self):
        rid = (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
               f"/providers/Microsoft.Batch/batchAccounts/{self.name}")
        return {
            "id": rid, "name": self.name, "type": "Microsoft.Batch/batchAccounts",
            "location": self.location, "identity": {"type": "None"}, "tags": {},
            "properties": {
                "accountEndpoint": f"{self.name}.{self.location}.batch.azure.com",
                "nodeManagementEndpoint": f"{uuid.uuid5(uuid.NAMESPACE_URL, rid)}"
                                          f".{self.location}.service.batch.azure.com",
                "provisioningState": "Succeeded",
                "poolAllocationMode": "BatchService",
                "dedicatedCoreQuota": 20, "lowPriorityCoreQuota": 20,
                "dedicatedCoreQuotaPerVMFamilyEnforced": False,
                "poolQuota": 20, "activeJobAndJobScheduleQuota": 20,
                "publicNetworkAccess": "Enabled",
                "allowedAuthenticationModes": list(self.auth_modes),
            },
        }


POLICY_DEFINITION_NAMES = (
    "Batch accounts must not use shared key authentication",
    "Batch account keys may only be listed or regenerated in a change window",
    "Batch accounts must disable public network access",
    "Batch accounts must be reached through private endpoints",
    "Batch accounts must encrypt data with customer-managed keys",
    "Resources must carry a cost-center tag",
    "Resources must be deployed in approved regions",
    "Key operations need an approved change request",
)


def _policy(subscription, index):
    """The made-up policy number `index` (definition and assignment), stable across calls."""
    definition = str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:batchkey-emulator:policy:{index}"))
    assignment = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:batchkey-emulator:assignment:{index}")
    display = POLICY_DEFINITION_NAMES[index % len(POLICY_DEFINITION_NAMES)]
    if index >= len(POLICY_DEFINITION_NAMES):
        display += f" ({index // len(POLICY_DEFINITION_NAMES) + 1})"
    return {"definition_name": definition,
            "definition_id": f"/providers/Microsoft.Authorization/policyDefinitions/{definition}",
            "definition_display_name": display,
            "assignment_name": assignment.hex[:24],
            "assignment_id": f"/subscriptions/{subscription}/providers/Microsoft.Authorization/"
                             f"policyAssignments/{assignment.hex[:24]}",
            "assignment_display_name": f"Corporate baseline: {display}"}


class Response:
    def __init__(self, status, body=b"", headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else _json_bytes(body)
        self.headers = list(headers or [])


def normalize_fault(spec):
    """Validates a fault description and fills in its defaults; returns a new dict.

    {"kind": one of FAULT_KINDS, "op": one of OPERATIONS or "any",
     "listener": "login"|"arm"|"batch"|"any" (default: the op's own, OPERATION_LISTENERS),
     "count": times it fires (default 1, -1 = always), "skip": matching requests let through
     first (default 0), and per kind:
     status: "status" (default 503; 201-599), "act" (default false: serve the request for real
             first, then send the fault's answer instead), "retry_after" seconds (default 1 for
             429, else none), "retry_after_style" (RETRY_AFTER_STYLES), optional "code"/"message";
     slow: "seconds" (default 2); chunked: "chunk_size" (default 16);
     401_claims: optional "claims" (JSON object);
     malformed: acts, then answers 200 with "body" (default: JSON that is not JSON) instead;
     long_ids: acts; x-ms-request-id (and ARM's correlation id) "length" characters (300);
     policy_denial: 403 RequestDisallowedByPolicy, "entries" (12) additionalInfo entries, a
             message of about "message_length" (2048) characters;
     stall: acts, then silence until the client leaves, the emulator stops, or "seconds"
             (default None: for ever) pass, then an abrupt close;
     trickle: acts, the answer one byte at a time, "interval" (1.0) seconds apart;
     close_delimited: acts, the answer framed by the end of the connection, which is a TLS
             close_notify when "clean" (default false), else a bare TCP close}
    """
    fault = dict(spec)
    kind = fault.get("kind")
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault kind must be one of {FAULT_KINDS}, not {kind!r}")
    op = fault.get("op", "any")
    canonical = {o.lower(): o for o in OPERATIONS + ("any",)}
    if not isinstance(op, str) or op.lower() not in canonical:
        raise ValueError(f"fault op must be one of {OPERATIONS + ('any',)}, not {op!r}")
    fault["op"] = op = canonical[op.lower()]
    fault.setdefault("listener", "any" if op == "any" else OPERATION_LISTENERS[op])
    if fault["listener"] not in LISTENERS + ("any",):
        raise ValueError("fault listener must be login, arm, batch or any")
    fault["count"] = int(fault.get("count", 1))
    fault["skip"] = int(fault.get("skip", 0))
    if fault["count"] == 0 or fault["count"] < -1 or fault["skip"] < 0:
        raise ValueError("fault count must be positive or -1 (always), skip not negative")
    if kind == "status":
        _option(fault, "status", 503, int, 201, 599)  # 200 would be no fault at all
        _option(fault, "act", False, _strict_bool)
        if fault["status"] == 429:
            fault.setdefault("retry_after", 1)
        if fault.get("retry_after") is not None:
            fault["retry_after"] = float(fault["retry_after"])
        fault.setdefault("retry_after_style", "seconds")
        if fault["retry_after_style"] not in RETRY_AFTER_STYLES:
            raise ValueError(f"retry_after_style must be one of {RETRY_AFTER_STYLES}")
    elif kind == "slow":
        fault["seconds"] = float(fault.get("seconds", 2))
    elif kind == "chunked":
        fault["chunk_size"] = max(1, int(fault.get("chunk_size", 16)))
    elif kind in ARM_ONLY_KINDS and fault["listener"] not in ("arm", "any"):
        raise ValueError(f"{kind} is an ARM answer")
    elif kind == "malformed":
        fault["body"] = str(fault.get("body", '{"accountName": tru}'))
    if kind == "long_ids":
        _option(fault, "length", 300, int, 1, MAX_BODY)
    elif kind == "policy_denial":
        _option(fault, "entries", 12, int, 0, 1000)
        _option(fault, "message_length", 2048, int, 0, MAX_BODY)
    elif kind == "stall":
        _option(fault, "seconds", None, float, 0)
    elif kind == "trickle":
        _option(fault, "interval", 1.0, float, 0)
    elif kind == "close_delimited":
        _option(fault, "clean", False, _strict_bool)
    return fault


def _strict_bool(value):
    if not isinstance(value, bool):
        raise ValueError("not true or false")
    return value


def _option(fault, name, default, convert, low=None, high=None):
    """Sets fault[name] to its converted value (or default) within [low, high], or raises
    ValueError; a default of None stays None (option unset)."""
    value = fault.get(name, default)
    if value is None and default is None:
        fault[name] = None
        return
    try:
        value = convert(value)
    except (TypeError, ValueError):
        raise ValueError(f"fault {name} cannot be {value!r}") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"fault {name} must be within [{low}, {high}], not {value}")
    fault[name] = value


def _auth_scheme(authorization):
    """The scheme word of an Authorization header, never any part of the credential."""
    if authorization is None:
        return None
    scheme = authorization.split(" ", 1)[0]
    return scheme if scheme.lower() in ("bearer", "basic", "sharedkey", "pop") else "unrecognized"


def _fault_summary(fault):
    keys = ("kind", "op", "status", "act", "retry_after", "retry_after_style", "seconds", "length",
            "entries", "message_length", "interval", "clean")
    return {k: fault[k] for k in keys if k in fault}


def _reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name: the reason phrase is free text anyway
        return ("Success", "Redirection", "Client Error", "Server Error")[status // 100 - 2]


def _long_id(length):
    """A request id `length` characters long: a GUID, then hex to fill (or a cut GUID)."""
    value = str(uuid.uuid4())
    return (value + secrets.token_hex(max(0, length - len(value)) // 2 + 1))[:length]


INVALID_HOSTNAME_PAGE = (b"<!DOCTYPE HTML>\r\n<HTML><HEAD><TITLE>Bad Request</TITLE></HEAD>\r\n"
                         b"<BODY><h2>Bad Request - Invalid Hostname</h2>\r\n<hr><p>HTTP Error "
                         b"400. The request hostname is invalid.</p>\r\n</BODY></HTML>\r\n")
HOST_HEADER = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]+))?")


def _host_is_valid(req):
    """One Host header, naming the listener's port (which may be left out only when it is 443)."""
    hosts = req.headers.get_all("Host") or []
    match = HOST_HEADER.fullmatch(hosts[0]) if len(hosts) == 1 else None
    return bool(match) and (match.group(2) or "443") == str(req.port)


class _Request:
    """What a handler read from the wire, plus the emulator's bookkeeping for the log."""

    def __init__(self, handler, body):
        url = urllib.parse.urlsplit(handler.path)
        self.listener = handler.server.name
        self.port = handler.server.server_address[1]
        self.method = handler.command
        self.path = url.path
        self.query = url.query
        self.params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        self.headers = handler.headers
        self.body = body
        self.client_ip = handler.client_address[0]
        self.request_id = str(uuid.uuid4())
        self.correlation_id = None  # ARM echoes the client's, or uses request_id
        self.op = "other"
        self.details = {}  # extra, non-secret facts for the log (grant_type, keyName, ...)


class _Listener(socketserver.ThreadingTCPServer):
    """One TLS listener; the handshake happens in the connection's own thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, emulator, name, host, port, ssl_context):
        self.emulator = emulator
        self.name = name
        self.ssl_context = ssl_context
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), _Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.ssl_context.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (OSError, ssl.SSLError)):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    # --- connection lifecycle -------------------------------------------------------------
    def setup(self):
        self.emulator = self.server.emulator
        self.conn_id = self.emulator._connection_opened(self.request)
        self.served = 0
        self.tls_ok = False
        self.abrupt_close = False  # set by drop/truncate/stall... faults: no TLS close_notify
        event = {"event": "connect", "listener": self.server.name, "conn": self.conn_id,
                 "peer": self.client_address[0]}
        try:
            self.request.settimeout(self.emulator.handshake_timeout)
            self.request.do_handshake()
            self.request.settimeout(self.emulator.idle_timeout)
            self.tls_ok = True
            event.update(tls="ok", tls_version=self.request.version(),
                         cipher=self.request.cipher()[0],
                         sni=self.emulator._sni.pop(id(self.request), None))
        except (OSError, ssl.SSLError) as exc:
            event.update(tls="failed", error=getattr(exc, "reason", None) or str(exc))
        self.emulator._record(event)
        super().setup()

    def handle(self):
        if self.tls_ok:
            try:
                super().handle()
            except (OSError, ssl.SSLError):
                self.close_connection = True

    def finish(self):
        try:
            super().finish()
            if self.tls_ok and self.abrupt_close:
                # A bare TCP FIN, decided here rather than left to what closing an SSLSocket
                # does in this Python version: the TLS layer never sees this close.
                socket.socket.shutdown(self.request, socket.SHUT_RDWR)
            elif self.tls_ok:
                self.request.settimeout(0)
                self.request.unwrap()  # sends close_notify; the peer's is not awaited
        except (OSError, ssl.SSLError):
            pass
        self.emulator._connection_closed(self.request)
        self.emulator._record({"event": "close", "listener": self.server.name,
                               "conn": self.conn_id, "requests": self.served})

    def log_message(self, *args):
        pass

    def send_error(self, code, message=None, explain=None):
        # Requests http.server itself rejects (bad request line, oversized headers...).
        self.served += 1
        self.emulator._record({"event": "request", "listener": self.server.name,
                               "conn": self.conn_id, "method": self.command,
                               "path": urllib.parse.urlsplit(getattr(self, "path", "")).path,
                               "status": int(code), "error": message, "fault": None})
        super().send_error(code, message, explain)

    # --- one request -------------------------------------------------------------------
    def _dispatch(self):
        self.served += 1
        body = self._read_body()
        if body is not None:
            self.emulator._serve(self, _Request(self, body))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def _read_body(self):
        """The request body, or None after answering a body this emulator will not read."""
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or (length is None and self.command == "POST"):
            self._refuse(411, "a POST must carry Content-Length (no chunked request bodies)")
            return None
        if length is None:
            return b""
        if not length.isdigit() or int(length) > MAX_BODY:
            self._refuse(400, "invalid Content-Length")
            return None
        return self.rfile.read(int(length))

    def _refuse(self, status, reason):
        self.close_connection = True
        self.emulator._record({"event": "request", "listener": self.server.name,
                               "conn": self.conn_id, "method": self.command,
                               "path": urllib.parse.urlsplit(self.path).path,
                               "header_names": list(self.headers.keys()),
                               "status": status, "error": reason, "fault": None})
        self.write_response(Response(status, {"error": {"code": "BadRequest", "message": reason}},
                                     [("Content-Type", "application/json; charset=utf-8")]))

    def write_response(self, response, framing="length", chunk_size=16, interval=1.0):
        """framing: "length" (Content-Length), "chunked", "truncate" (half the body, close),
        "close" (no length: the end of the connection ends the body) or "trickle" (like
        "length", one byte every `interval` seconds)."""
        status = response.status
        lines = [f"HTTP/1.1 {status} {_reason(status)}",
                 f"Date: {email.utils.formatdate(usegmt=True)}"]
        lines += [f"{name}: {value}" for name, value in response.headers]
        if framing == "chunked":
            lines += ["Transfer-Encoding: chunked", "Trailer: x-ms-emulator-trailer"]
        elif framing == "close":
            self.close_connection = True
        elif status not in (204, 304):  # these have no body, and 204 must not say a length
            lines.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        parts = [("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")]
        body = b"" if self.command == "HEAD" else response.body
        if framing == "chunked":
            for index, start in enumerate(range(0, len(body), chunk_size)):
                piece = body[start:start + chunk_size]
                extension = b';ext="emulator"' if index == 1 else b""
                parts.append(b"%X%s\r\n%s\r\n" % (len(piece), extension, piece))
            parts.append(b"0\r\nx-ms-emulator-trailer: done\r\n\r\n")
        elif framing == "truncate":
            parts.append(body[:len(body) // 2])
            self.close_connection = True
        else:
            parts.append(body)
        if framing == "trickle":
            self._trickle(b"".join(parts), interval)
        else:
            for part in parts:
                self.wfile.write(part)
        self.wfile.flush()

    def _trickle(self, data, interval):
        for index in range(len(data)):
            if index and self.wait_silently(interval):
                self.close_connection = self.abrupt_close = True
                return
            self.wfile.write(data[index:index + 1])  # one TLS record per byte

    def stall(self, seconds):
        """No answer at all, then an abrupt close once the peer left or `seconds` passed."""
        self.wait_silently(seconds)
        self.close_connection = self.abrupt_close = True

    def wait_silently(self, seconds):
        """Sends nothing for `seconds` (None: for ever). True, early, when the peer has closed
        the connection or the emulator is stopping; False when the time is up."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self.emulator._stopping.is_set():
            left = STOP_POLL if deadline is None else max(0, min(STOP_POLL,
                                                                  deadline - time.monotonic()))
            # stop() shuts the TCP socket down, which makes it readable: no waiting it out.
            readable = select.select([self.request], [], [], left)[0]
            if readable and self._peer_closed():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
        return True

    def _peer_closed(self):
        """The socket is readable: has the peer closed it (FIN, reset, or TLS close_notify)?
        Anything else it sent is read and dropped."""
        try:
            if not socket.socket.recv(self.request, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                return True  # FIN, with nothing before it
            self.request.settimeout(0)
            return not self.request.recv(65536)  # b"" once a close_notify is read
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except (OSError, ssl.SSLError):  # reset, or a FIN in the middle of a TLS record
            return True
        finally:
            self.request.settimeout(self.emulator.idle_timeout)


class Emulator:
    """The three listeners and the state behind them. Use start()/stop() or `with Emulator(...)`.

    Attributes after start(): login_port, arm_port, batch_port, login_url, arm_url, batch_url
    (https://localhost:N), ca_file; log (a copy of all log entries), tenant_id, client_id,
    client_secret, accounts. propagation_delay: the seconds a regenerated key takes to be
    accepted on the data plane, for every account that does not set its own.
    """

    def __init__(self, pki_dir, cert="server", host="127.0.0.1", ipv6=False, login_port=0,
                 arm_port=0, log_path=None, control_path=None, tenant_id=DEFAULT_TENANT_ID,
                 client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, accounts=None,
                 token_lifetime=3599, token_length=1600, tls_max_version=None,
                 idle_timeout=30.0, handshake_timeout=5.0, batch_port=0, propagation_delay=0):
        self.pki_dir = pki_dir
        self.ca_file = os.path.join(pki_dir, "ca.crt")
        self.cert = cert
        self.host, self.ipv6 = host, ipv6
        self.requested_ports = {"login": login_port, "arm": arm_port, "batch": batch_port}
        self.log_path, self.control_path = log_path, control_path
        self.tenant_id, self.client_id, self.client_secret = tenant_id, client_id, client_secret
        self.token_lifetime, self.token_length = token_lifetime, token_length
        self.tls_max_version = tls_max_version
        self.idle_timeout, self.handshake_timeout = idle_timeout, handshake_timeout
        if accounts is None:
            accounts = [BatchAccount(DEFAULT_ACCOUNT),
                        BatchAccount(DEFAULT_AAD_ONLY_ACCOUNT, auth_modes=["AAD"])]
        for account in accounts:
            if account.propagation_delay is None:
                account.propagation_delay = float(propagation_delay)
        self.accounts = {self._account_key(a.subscription_id, a.resource_group, a.name): a
                         for a in accounts}
        self.login_port = self.arm_port = self.batch_port = None
        self._lock = threading.RLock()
        self._logged = threading.Condition(self._lock)
        self._log, self._faults, self._control_faults = [], [], []
        self._control_stamp = None
        self._tokens = {}  # access token -> expiry (time.time())
        self._sni = {}
        self._open = set()
        self._next_conn = 0
        self._servers, self._threads = [], []
        self._stopping = threading.Event()

    # --- lifecycle --------------------------------------------------------------------------
    def start(self):
        context = self._ssl_context()
        for name in LISTENERS:
            servers = self._bind(name, self.requested_ports[name], context)
            self._servers += servers
            setattr(self, f"{name}_port", servers[0].server_address[1])
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                      name=f"emulator-{server.name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        with self._lock:
            open_connections = list(self._open)
        for conn in open_connections:
            try:
                socket.socket.shutdown(conn, socket.SHUT_RDWR)  # plain TCP: no TLS state touched
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=2)
        self._servers, self._threads = [], []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def login_url(self):
        return f"https://localhost:{self.login_port}"

    @property
    def arm_url(self):
        return f"https://localhost:{self.arm_port}"

    @property
    def batch_url(self):
        return f"https://localhost:{self.batch_port}"

    def _ssl_context(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.tls_max_version == "1.2":
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(os.path.join(self.pki_dir, f"{self.cert}.crt"),
                                os.path.join(self.pki_dir, f"{self.cert}.key"))

        def remember_sni(ssl_socket, server_name, _context):
            self._sni[id(ssl_socket)] = server_name
        context.sni_callback = remember_sni
        return context

    def _bind(self, name, port, context):
        """The listener on host (and on ::1 with the same port when ipv6 is set)."""
        for _attempt in range(20):
            first = _Listener(self, name, self.host, port, context)
            if not self.ipv6:
                return [first]
            try:
                return [first, _Listener(self, name, "::1", first.server_address[1], context)]
            except OSError:
                first.server_close()
                if port:
                    raise
        raise OSError(f"no port free on both {self.host} and ::1")

    def _connection_opened(self, conn):
        with self._lock:
            self._open.add(conn)
            self._next_conn += 1
            return self._next_conn

    def _connection_closed(self, conn):
        with self._lock:
            self._open.discard(conn)
            self._sni.pop(id(conn), None)

    # --- log ----------------------------------------------------------------------------------
    def _record(self, entry):
        entry = {"time": _utc_now_iso(), **entry}
        with self._lock:
            entry["seq"] = len(self._log) + 1
            self._log.append(entry)
            self._logged.notify_all()
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as log_file:
                    log_file.write(json.dumps(entry) + "\n")

    @property
    def log(self):
        with self._lock:
            return [dict(e) for e in self._log]

    def requests(self, listener=None, op=None):
        return [e for e in self.log if e["event"] == "request" and e.get("op") != "admin"
                and listener in (None, e["listener"]) and op in (None, e.get("op"))]

    def connections(self, listener=None):
        return [e for e in self.log
                if e["event"] == "connect" and listener in (None, e["listener"])]

    def wait_connections(self, count, listener=None, timeout=5.0):
        """The first `count` connections, waiting for them to be logged: a handshake the
        client aborts is logged by the server's thread after the client has already exited."""
        deadline = time.monotonic() + timeout
        with self._logged:
            while len(self.connections(listener)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._logged.wait(left)
            return self.connections(listener)

    def clear_log(self):
        with self._lock:
            self._log.clear()

    # --- faults -------------------------------------------------------------------------------
    def add_fault(self, kind, op="any", count=1, **options):
        """Arms a fault (see normalize_fault for the fields); returns its normalized form."""
        fault = normalize_fault({"kind": kind, "op": op, "count": count, **options})
        with self._lock:
            self._faults.append(fault)
        return dict(fault)

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def faults(self):
        """The armed faults (Python/admin-added, then control-file ones) with remaining counts."""
        with self._lock:
            return [dict(f) for f in self._faults + self._control_faults]

    def _reload_control_file(self):
        if not self.control_path:
            return
        try:
            with open(self.control_path, "rb") as control:
                stamp = (os.fstat(control.fileno()).st_mtime_ns, control.read())
        except FileNotFoundError:
            stamp = None
        if stamp == self._control_stamp:
            return
        try:
            specs = json.loads(stamp[1]) if stamp and stamp[1].strip() else []
            faults = [normalize_fault(s) for s in (specs if isinstance(specs, list) else [specs])]
        except ValueError as exc:
            print(f"azure_emulator: ignoring control file: {exc}", file=sys.stderr)
            faults = self._control_faults
        self._control_stamp, self._control_faults = stamp, faults

    def _take_fault(self, listener, op):
        with self._lock:
            self._reload_control_file()
            for faults in (self._faults, self._control_faults):
                for fault in list(faults):
                    if fault["listener"] not in ("any", listener) or fault["op"] not in ("any", op):
                        continue
                    if listener != "arm" and fault["kind"] in ARM_ONLY_KINDS:
                        continue
                    if fault["skip"] > 0:
                        fault["skip"] -= 1
                        continue
                    if fault["count"] > 0:
                        fault["count"] -= 1
                        if fault["count"] == 0:
                            faults.remove(fault)
                    return dict(fault)
        return None

    # --- tokens and accounts ------------------------------------------------------------------
    def issue_token(self, audience=ARM_AUDIENCE, claims_requested=False):
        """Mints an access token ARM will accept (a fake JWT, unsigned in any useful sense)."""
        now = int(time.time())
        issuer = f"https://sts.windows.net/{self.tenant_id}/"
        header = {"typ": "JWT", "alg": "RS256", "x5t": _b64url(secrets.token_bytes(20))}
        header["kid"] = header["x5t"]
        payload = {"aud": audience, "iss": issuer, "iat": now, "nbf": now,
                   "exp": now + self.token_lifetime, "aio": "", "appid": self.client_id,
                   "appidacr": "1", "idp": issuer, "idtyp": "app", "oid": str(uuid.uuid4()),
                   "rh": _b64url(secrets.token_bytes(24)), "sub": str(uuid.uuid4()),
                   "tid": self.tenant_id, "uti": _b64url(secrets.token_bytes(16)), "ver": "1.0",
                   "xms_cc": ["cp1"] if claims_requested else [], "xms_tcdt": now - 86400}
        signature = _b64url(secrets.token_bytes(256))

        def assemble():
            return ".".join((_b64url(_json_bytes(header)), _b64url(_json_bytes(payload)),
                             signature))
        token = assemble()
        shortfall = self.token_length - len(token)
        if shortfall > 0:  # pad the opaque "aio" claim to reach the configured size
            payload["aio"] = secrets.token_urlsafe(shortfall)[:shortfall * 3 // 4 + 1]
            token = assemble()
        with self._lock:
            self._tokens[token] = now + self.token_lifetime
        return token

    def expire_tokens(self):
        """Every token issued so far is now expired (ARM answers 401 ExpiredAuthenticationToken)."""
        with self._lock:
            for token in self._tokens:
                self._tokens[token] = 0

    @staticmethod
    def _account_key(subscription_id, resource_group, name):
        return (subscription_id.lower(), resource_group.lower(), name.lower())

    def account(self, name=DEFAULT_ACCOUNT, subscription_id=DEFAULT_SUBSCRIPTION_ID,
                resource_group=DEFAULT_RESOURCE_GROUP):
        return self.accounts[self._account_key(subscription_id, resource_group, name)]

    def find_account(self, name):
        """The account called `name` in any subscription and resource group, or None (what the
        data plane does with the name in a SharedKey Authorization header)."""
        with self._lock:
            return next((a for a in self.accounts.values() if a.name.lower() == name.lower()),
                        None)

    def set_account(self, name=DEFAULT_ACCOUNT, propagation_delay=None, primary=None,
                    secondary=None, allowedAuthenticationModes=None):  # noqa: N803 (JSON's name)
        """Changes an account (found as find_account does; KeyError when there is none): its
        propagation delay (seconds, for the next regenerations), its keys (accepted at once) or
        its allowed authentication modes. Returns its admin view (GET /_emulator/accounts)."""
        account = self.find_account(name)
        if account is None:
            raise KeyError(f"no account {name!r}")
        if propagation_delay is not None and (
                isinstance(propagation_delay, bool)
                or not isinstance(propagation_delay, (int, float))
                or not 0 <= propagation_delay < float("inf")):
            raise ValueError("propagation_delay must be a number of seconds, 0 or more")
        modes = allowedAuthenticationModes
        if modes is not None and (not isinstance(modes, list) or
                                  not all(isinstance(m, str) for m in modes)):
            raise ValueError("allowedAuthenticationModes must be a list of strings")
        for key in (primary, secondary):
            if key is not None:
                _check_key(key)
        with self._lock:
            if propagation_delay is not None:
                account.propagation_delay = float(propagation_delay)
            for slot, key in (("primary", primary), ("secondary", secondary)):
                if key is not None:
                    account.set_key(slot, key)
            if modes is not None:
                account.auth_modes = list(modes)
            return self._admin_view(account)

    @staticmethod
    def _admin_view(account):
        return dict(account.keys_body(), subscriptionId=account.subscription_id,
                    resourceGroup=account.resource_group,
                    allowedAuthenticationModes=list(account.auth_modes),
                    propagationDelay=account.propagation_delay)

    def regenerate_count(self, name=DEFAULT_ACCOUNT):
        """How many regenerateKeys requests in the log (since it was last cleared) regenerated a
        key of account `name`, whatever their answer (a fault may have acted, then dropped,
        stalled or replaced it)."""
        count = 0
        for entry in self.requests(listener="arm", op="regenerateKeys"):
            match = ARM_PATH.fullmatch(entry["path"])
            if entry.get("key_regenerated") and match and \
                    urllib.parse.unquote(match.group(3)).lower() == name.lower():
                count += 1
        return count

    # --- serving --------------------------------------------------------------------------------
    def _serve(self, handler, req):
        if req.listener == "arm" and req.path.startswith("/_emulator/"):
            response = self._admin(req)
            self._record(self._entry(handler, req, response.status, None))
            handler.write_response(response)
            return
        req.op = self._classify(req)
        if not _host_is_valid(req):
            # What HTTP.sys answers, before any application sees the request.
            self._record(self._entry(handler, req, 400, None))
            handler.write_response(Response(400, INVALID_HOSTNAME_PAGE, [
                ("Content-Type", "text/html; charset=us-ascii")]))
            return
        if req.listener == "batch":
            versions = req.params.get("api-version")
            req.details.update(api_version=versions[0] if versions else None,
                               shared_key_account=None, shared_key_slot=None,
                               shared_key_ok=False)
        elif req.op == "regenerateKeys":
            req.details["key_regenerated"] = False
        fault = None if self._stopping.is_set() else self._take_fault(req.listener, req.op)
        kind = fault["kind"] if fault else None
        if kind == "long_ids":
            req.request_id = _long_id(fault["length"])
            req.correlation_id = _long_id(fault["length"])
        if kind == "drop_before":
            response = None
        elif kind in ARM_ONLY_KINDS or (kind == "status" and not fault["act"]):
            response = self._fault_response(req, fault)
        else:
            serve = {"login": self._token_endpoint, "arm": self._arm,
                     "batch": self._batch}[req.listener]
            response = serve(req)
            if kind == "malformed":
                response = Response(200, fault["body"].encode("utf-8"), response.headers)
            elif kind == "status":  # acted upon; the real answer is never sent
                response = self._fault_response(req, fault)
        handler.abrupt_close = kind in ("drop", "drop_before", "truncate") or (
            kind == "close_delimited" and not fault["clean"])
        if kind in ("drop", "drop_before", "stall"):
            handler.close_connection = True
            self._record(self._entry(handler, req, None, fault))
            if kind == "stall":
                handler.stall(fault["seconds"])
            return
        self._record(self._entry(handler, req, response.status, fault))
        if kind == "slow":
            self._stopping.wait(fault["seconds"])
        framing = {"chunked": "chunked", "truncate": "truncate", "close_delimited": "close",
                   "trickle": "trickle"}.get(kind, "length")
        fault = fault or {}
        handler.write_response(response, framing, fault.get("chunk_size", 16),
                               fault.get("interval", 1.0))

    @staticmethod
    def _classify(req):
        if req.listener == "login":
            return "token" if TOKEN_PATH.fullmatch(req.path) else "other"
        if req.listener == "batch":
            return "applications" if req.path == "/applications" else "other"
        match = ARM_PATH.fullmatch(req.path)
        if not match:
            return "other"
        return {None: "get", "listkeys": "listKeys",
                "regeneratekeys": "regenerateKeys"}[(match.group(4) or "").lower() or None]

    def _entry(self, handler, req, status, fault):
        headers = req.headers
        entry = {"event": "request", "listener": req.listener, "conn": handler.conn_id,
                 "conn_request": handler.served, "method": req.method, "path": req.path,
                 "query": req.query, "op": req.op, "http_version": handler.request_version,
                 "header_names": list(headers.keys()),
                 "headers": {h: headers[h] for h in LOGGED_HEADERS if h in headers},
                 "authorization_present": "Authorization" in headers,
                 "authorization_scheme": _auth_scheme(headers.get("Authorization")),
                 "body_length": len(req.body), "status": status, "request_id": req.request_id,
                 "fault": _fault_summary(fault) if fault else None}
        entry.update(req.details)
        return entry

    def _fault_response(self, req, fault):
        status = fault.get("status", 401)
        if fault["kind"] == "policy_denial":
            return self._policy_denial(req, fault["entries"], fault["message_length"])
        if fault["kind"] == "401_claims":
            claims = fault.get("claims") or {"access_token": {"nbf": {
                "essential": True, "value": str(int(time.time()))}}}
            encoded = base64.b64encode(_json_bytes(claims)).decode("ascii")
            challenge = (f'Bearer authorization_uri="https://login.microsoftonline.com/'
                         f'{self.tenant_id}/oauth2/authorize", error="insufficient_claims", '
                         f'claims="{encoded}"')
            return self._arm_error(req, 401, "InvalidAuthenticationToken",
                                   "Continuous access evaluation resulted in challenge with "
                                   "result: InteractionRequired.",
                                   [("WWW-Authenticate", challenge)])
        extra = []
        seconds = fault.get("retry_after")
        if seconds is not None:
            style = fault["retry_after_style"]
            value = {"seconds": str(int(seconds + 0.999)),
                     "http-date": email.utils.formatdate(time.time() + seconds, usegmt=True),
                     }.get(style, str(int(seconds * 1000)))
            extra.append(("Retry-After" if style in ("seconds", "http-date") else style, value))
        if status < 400:
            return self._bodiless_answer(req, status, extra)
        if req.listener == "login":
            return self._entra_error(req, status, "temporarily_unavailable", 90033,
                                     "A transient error has occurred. Please try again.", extra)
        if req.listener == "batch":
            code = fault.get("code") or {
                500: "InternalError", 503: "ServerBusy",
            }.get(status, _reason(status).replace(" ", ""))
            message = fault.get("message") or {
                500: "The server encountered an internal error. Please retry the request.",
                503: "The server is currently unable to receive requests. Please retry your "
                     "request.",
            }.get(status, f"Emulated failure ({status}).")
            return self._batch_error(req, status, code, message, extra_headers=extra)
        code = fault.get("code") or {
            429: "SubscriptionRequestsThrottled", 500: "InternalServerError", 502: "BadGateway",
            503: "ServiceUnavailable", 504: "GatewayTimeout", 408: "RequestTimeout",
        }.get(status, _reason(status).replace(" ", ""))
        message = fault.get("message") or {
            429: "Number of requests for subscription exceeded the limit. Please try again later.",
            504: "The gateway did not receive a response from 'Microsoft.Batch' within the "
                 "specified time period.",
        }.get(status, f"Emulated failure ({status}).")
        return self._arm_error(req, status, code, message, extra)

    def _bodiless_answer(self, req, status, extra_headers):
        """A 2xx or 3xx fault answer: no body, and for 202 and redirects a Location to poll."""
        req.details.pop("error_code", None)  # set when the request, acted upon, failed
        headers = {"login": self._entra_headers, "arm": self._arm_headers,
                   "batch": self._batch_headers}[req.listener](req)
        headers = [h for h in headers if h[0] != "Content-Type"] + list(extra_headers)
        if req.listener == "batch" and (status == 202 or 300 <= status < 400):
            headers.append(("Location", f"{self.batch_url}{req.path}"
                            + (f"?{req.query}" if req.query else "")))
        elif status == 202 or 300 <= status < 400:
            match = ARM_PATH.fullmatch(req.path)
            subscription = urllib.parse.unquote(match.group(1)) if match else \
                DEFAULT_SUBSCRIPTION_ID
            headers.append(("Location", f"{self.arm_url}/subscriptions/{subscription}/providers/"
                            f"Microsoft.Batch/locations/{DEFAULT_LOCATION}/operationresults/"
                            f"{uuid.uuid4()}?api-version={API_VERSION}"))
        return Response(status, b"", headers)

    def _policy_denial(self, req, entries, message_length):
        """403 RequestDisallowedByPolicy, shaped like Azure Policy's deny effect at the ARM
        gateway; the policies are made up, the same on every call."""
        match = ARM_PATH.fullmatch(req.path)
        subscription, _, name = ((urllib.parse.unquote(g) for g in match.groups()[:3]) if match
                                 else (DEFAULT_SUBSCRIPTION_ID, "", req.path.rsplit("/", 1)[-1]))
        policies = [_policy(subscription, index) for index in range(entries)]
        info = [{"type": "PolicyViolation", "info": {
            "evaluationDetails": {"evaluatedExpressions": [{
                "result": "True", "expressionKind": "Field", "expression": "type",
                "path": "type", "expressionValue": "Microsoft.Batch/batchAccounts",
                "targetValue": "Microsoft.Batch/batchAccounts", "operator": "Equals"}]},
            "policyDefinitionDisplayName": p["definition_display_name"],
            "policyDefinitionId": p["definition_id"],
            "policyDefinitionName": p["definition_name"],
            "policyDefinitionEffect": "deny",
            "policyAssignmentId": p["assignment_id"],
            "policyAssignmentName": p["assignment_name"],
            "policyAssignmentDisplayName": p["assignment_display_name"],
            "policyAssignmentScope": f"/subscriptions/{subscription}",
            "policyAssignmentParameters": {}, "policyExemptionIds": [],
            "policyEnrollmentIds": []}} for p in policies]
        # The message names whole policies (the first ones of additionalInfo, then more) until
        # it is at least message_length characters long.
        head = f"Resource '{name}' was disallowed by policy. Policy identifiers: '"
        identifiers, message = [], ""
        while not identifiers or len(message) < message_length:
            p = policies[len(identifiers)] if len(identifiers) < entries else \
                _policy(subscription, len(identifiers))
            identifiers.append({
                "policyAssignment": {"name": p["assignment_name"], "id": p["assignment_id"]},
                "policyDefinition": {"name": p["definition_name"], "id": p["definition_id"]}})
            message = head + json.dumps(identifiers, separators=(",", ":")) + "'."
        req.details["error_code"] = "RequestDisallowedByPolicy"
        error = {"code": "RequestDisallowedByPolicy", "target": name, "message": message,
                 "additionalInfo": info}
        # ARM marks answers its gateway made itself, the policy engine's among them.
        return Response(403, {"error": error},
                        self._arm_headers(req) + [("x-ms-failure-cause", "gateway")])

    # --- Entra ID token endpoint ---------------------------------------------------------------
    def _entra_error(self, req, status, error, code, message, extra_headers=()):
        trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
        timestamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        body = {"error": error,
                "error_description": f"AADSTS{code}: {message} Trace ID: {trace_id} "
                                     f"Correlation ID: {correlation_id} Timestamp: {timestamp}",
                "error_codes": [code], "timestamp": timestamp, "trace_id": trace_id,
                "correlation_id": correlation_id,
                "error_uri": f"https://login.microsoftonline.com/error?code={code}"}
        req.details["error_code"] = f"AADSTS{code}"
        return Response(status, body, self._entra_headers(req) + list(extra_headers))

    @staticmethod
    def _entra_headers(req):
        headers = [("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache"),
                   ("Content-Type", "application/json; charset=utf-8"), ("Expires", "-1"),
                   ("X-Content-Type-Options", "nosniff"), ("x-ms-request-id", req.request_id),
                   ("x-ms-ests-server", "azure-emulator")]
        for name in ("client-request-id", "x-ms-client-request-id"):
            if req.headers.get(name):
                headers.append((name, req.headers[name][:200]))
        return headers

    def _token_endpoint(self, req):
        match = TOKEN_PATH.fullmatch(req.path)
        if not match:
            return Response(404, b"", self._entra_headers(req))
        if req.method != "POST":
            return self._entra_error(req, 400, "invalid_request", 900561,
                                     "The endpoint only accepts POST, OPTIONS requests. "
                                     f"Received a {req.method} request.")
        tenant = urllib.parse.unquote(match.group(1))
        req.details["tenant"] = tenant
        if tenant.lower() != self.tenant_id.lower():
            return self._entra_error(req, 400, "invalid_request", 90002,
                                     f"Tenant '{tenant}' not found. Check to make sure you have "
                                     "the correct tenant ID and are signing into the correct "
                                     "cloud.")
        form = {}
        content_type = req.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            pairs = urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"),
                                           keep_blank_values=True)
            form = {name: value for name, value in reversed(pairs)}
        req.details.update(form_fields=sorted(form), grant_type=form.get("grant_type"),
                           client_id=form.get("client_id"), scope=form.get("scope"))

        def missing(name):
            return self._entra_error(req, 400, "invalid_request", 900144,
                                     f"The request body must contain the following parameter: "
                                     f"'{name}'.")
        for name in ("grant_type", "client_id", "scope"):
            if not form.get(name):
                return missing(name)
        if form["grant_type"] != "client_credentials":
            return self._entra_error(req, 400, "unsupported_grant_type", 70003,
                                     "The app requested an unsupported grant type "
                                     f"'{form['grant_type']}'.")
        if form["client_id"].lower() != self.client_id.lower():
            return self._entra_error(req, 400, "unauthorized_client", 700016,
                                     f"Application with identifier '{form['client_id']}' was not "
                                     f"found in the directory '{tenant}'. This can happen if the "
                                     "application has not been installed by the administrator "
                                     "of the tenant or consented to by any user in the tenant. "
                                     "You may have sent your authentication request to the "
                                     "wrong tenant.")
        scope = form["scope"]
        resource = scope[:-len("/.default")] if scope.endswith("/.default") else None
        own = (f"https://localhost:{self.arm_port}", f"https://127.0.0.1:{self.arm_port}")
        if resource is None:
            return self._entra_error(req, 400, "invalid_scope", 1002012,
                                     f"The provided value for scope {scope} is not valid. Client "
                                     "credential flows must have a scope value with /.default "
                                     "suffixed to the resource identifier (application ID URI).")
        if resource.rstrip("/") not in (ARM_AUDIENCE,) + own:
            return self._entra_error(req, 400, "invalid_resource", 500011,
                                     f"The resource principal named {resource} was not found in "
                                     f"the tenant named {tenant}.")
        failure = self._check_client_credential(req, form)
        if failure:
            return failure
        if "claims" in form:
            try:
                json.loads(form["claims"])
            except ValueError:
                return self._entra_error(req, 400, "invalid_request", 9002313,
                                         "Invalid request. The 'claims' parameter is not JSON.")
        token = self.issue_token(resource.rstrip("/"), claims_requested="claims" in form)
        body = {"token_type": "Bearer", "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime, "access_token": token}
        return Response(200, body, self._entra_headers(req))

    def _check_client_credential(self, req, form):
        """None when the secret or the (structurally checked) client assertion is acceptable."""
        secret, assertion = form.get("client_secret"), form.get("client_assertion")
        if secret is not None and assertion is not None:
            return self._entra_error(req, 400, "invalid_request", 9002313,
                                     "Invalid request. Request is malformed or invalid: send "
                                     "client_secret or client_assertion, not both.")
        if secret is not None:
            req.details["credential"] = "secret"
            if secrets.compare_digest(secret.encode(), self.client_secret.encode()):
                return None
            return self._entra_error(req, 401, "invalid_client", 7000215,
                                     "Invalid client secret provided. Ensure the secret being "
                                     "sent in the request is the client secret value, not the "
                                     "client secret ID, for a secret added to app "
                                     f"'{self.client_id}'.")
        if assertion is None:
            return self._entra_error(req, 401, "invalid_client", 7000218,
                                     "The request body must contain the following parameter: "
                                     "'client_assertion' or 'client_secret'.")
        # The signature is not verified: the emulator knows no certificate of the client.
        req.details["credential"] = "assertion"
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            return self._entra_error(req, 400, "invalid_request", 900144,
                                     "The request body must contain the following parameter: "
                                     f"'client_assertion_type' ({CLIENT_ASSERTION_TYPE}).")
        try:
            parts = assertion.split(".")
            header, claims = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
                              for p in parts[:2])
            if len(parts) != 3 or not parts[2] or not isinstance(claims, dict):
                raise ValueError("not a signed JWT")
            if header.get("alg") not in ("RS256", "PS256") or not (
                    header.get("x5t") or header.get("x5t#S256")):
                raise ValueError("header needs alg RS256/PS256 and x5t or x5t#S256")
        except (ValueError, TypeError, AttributeError):
            return self._entra_error(req, 401, "invalid_client", 50027,
                                     "JWT token is invalid or malformed.")
        if claims.get("iss") != form["client_id"] or claims.get("sub") != form["client_id"]:
            return self._entra_error(req, 401, "invalid_client", 700021,
                                     "Client assertion application identifier doesn't match "
                                     "'client_id' parameter.")
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < time.time():
            return self._entra_error(req, 401, "invalid_client", 700024,
                                     "Client assertion is not within its valid time range.")
        return None

    # --- Azure Resource Manager ----------------------------------------------------------------
    def _arm_headers(self, req):
        headers = [("Cache-Control", "no-cache"), ("Pragma", "no-cache"), ("Expires", "-1"),
                   ("Content-Type", "application/json; charset=utf-8"),
                   ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
                   ("X-Content-Type-Options", "nosniff"),
                   ("x-ms-request-id", req.request_id),
                   ("x-ms-correlation-request-id", req.correlation_id or (
                       req.headers.get("x-ms-correlation-request-id") or req.request_id)[:200]),
                   ("x-ms-routing-request-id", f"{DEFAULT_LOCATION.upper()}:"
                    f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}:{req.request_id}")]
        if req.method == "POST":
            headers.append(("x-ms-ratelimit-remaining-subscription-writes", "1199"))
        else:
            headers.append(("x-ms-ratelimit-remaining-subscription-reads", "11999"))
        if req.headers.get("x-ms-client-request-id"):
            headers.append(("x-ms-client-request-id", req.headers["x-ms-client-request-id"][:200]))
        return headers

    def _arm_error(self, req, status, code, message, extra_headers=(), target=None,
                   details=None):
        error = {"code": code, "message": message}
        if target:
            error["target"] = target
        if details is not None:
            error["details"] = details
        req.details["error_code"] = code
        return Response(status, {"error": error}, self._arm_headers(req) + list(extra_headers))

    def _arm_unauthorized(self, req, code, message, description):
        challenge = (f'Bearer authorization_uri="https://login.microsoftonline.com/'
                     f'{self.tenant_id}", error="invalid_token", '
                     f'error_description="{description}"')
        return self._arm_error(req, 401, code, message, [("WWW-Authenticate", challenge)])

    def _check_bearer(self, req):
        authorization = req.headers.get("Authorization")
        if not authorization:
            return self._arm_unauthorized(req, "AuthenticationFailed",
                                          "Authentication failed. The 'Authorization' header is "
                                          "missing.", "The authentication failed because of "
                                          "missing 'Authorization' header.")
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None:
            return self._arm_unauthorized(req, "InvalidAuthenticationToken",
                                          "The access token is invalid.",
                                          "The access token is invalid.")
        if expiry <= time.time():
            now = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime())
            return self._arm_unauthorized(req, "ExpiredAuthenticationToken",
                                          "The access token expiry UTC time is earlier than "
                                          f"current UTC time '{now}'.",
                                          "The access token has expired.")
        return None

    def _arm(self, req):
        failure = self._check_bearer(req)
        if failure:
            return failure
        versions = req.params.get("api-version")
        if not versions:
            return self._arm_error(req, 400, "MissingApiVersionParameter",
                                   "The api-version query parameter (?api-version=) is required "
                                   "for all requests.")
        if versions[0] != API_VERSION:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", versions[0]):
                return self._arm_error(req, 400, "NoRegisteredProviderFound",
                                       "No registered resource provider found for location "
                                       f"'{DEFAULT_LOCATION}' and API version '{versions[0]}' "
                                       "for type 'batchAccounts'. The supported api-versions "
                                       f"are '{API_VERSION}'.")
            return self._arm_error(req, 400, "InvalidApiVersionParameter",
                                   f"The api-version '{versions[0]}' is invalid. The supported "
                                   f"versions are '{API_VERSION}'.")
        match = ARM_PATH.fullmatch(req.path)
        if not match:
            return self._arm_error(req, 404, "NotFound",
                                   f"The requested path '{req.path}' was not found.")
        subscription, group, name = (urllib.parse.unquote(g) for g in match.groups()[:3])
        if not GUID.fullmatch(subscription):
            return self._arm_error(req, 400, "InvalidSubscriptionId",
                                   f"The provided subscription identifier '{subscription}' is "
                                   "malformed or invalid.")
        with self._lock:
            known = list(self.accounts)
        if not any(s == subscription.lower() for s, _, _ in known):
            return self._arm_error(req, 404, "SubscriptionNotFound",
                                   f"The subscription '{subscription}' could not be found.")
        if not any((s, g) == (subscription.lower(), group.lower()) for s, g, _ in known):
            return self._arm_error(req, 404, "ResourceGroupNotFound",
                                   f"Resource group '{group}' could not be found.")
        account = self.accounts.get(self._account_key(subscription, group, name))
        if account is None:
            return self._arm_error(req, 404, "ResourceNotFound",
                                   f"The Resource 'Microsoft.Batch/batchAccounts/{name}' under "
                                   f"resource group '{group}' was not found. For more details "
                                   "please go to https://aka.ms/ARMResourceNotFoundFix")
        expected_method = "GET" if req.op == "get" else "POST"
        if req.method != expected_method:
            return self._arm_error(req, 405, "MethodNotAllowed",
                                   "The requested resource does not support http method "
                                   f"'{req.method}'.", [("Allow", expected_method)])
        if req.op == "get":
            with self._lock:
                return Response(200, account.resource_body(), self._arm_headers(req))
        if req.op == "regenerateKeys":
            key_name, failure = self._parse_key_name(req)
            if failure:
                return failure
        if not account.allows_shared_key:
            return self._arm_error(req, 400, SHARED_KEY_DISALLOWED_CODE,
                                   f"The Batch account '{account.name}' does not allow "
                                   "'SharedKey' in allowedAuthenticationModes, so its account "
                                   "keys cannot be listed or regenerated.")
        with self._lock:
            if req.op == "regenerateKeys":
                account.regenerate(key_name.lower())
                req.details["key_regenerated"] = True
            return Response(200, account.keys_body(), self._arm_headers(req))

    def _parse_key_name(self, req):
        """("Primary"|"Secondary", None) or (None, an error response)."""
        content_type = req.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return None, self._arm_error(req, 415, "UnsupportedMediaType",
                                         f"The content media type '{content_type}' is not "
                                         "supported. Only 'application/json' is supported.")
        try:
            body = json.loads(req.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return None, self._arm_error(req, 400, "InvalidRequestContent",
                                         "The request content was invalid and could not be "
                                         f"deserialized: '{exc}'.")
        key_name = body.get("keyName") if isinstance(body, dict) else None
        req.details["key_name"] = key_name if isinstance(key_name, str) else None
        if key_name in ("Primary", "Secondary"):
            return key_name, None
        problem = ("The required property 'keyName' is missing." if key_name is None else
                   f"The value '{key_name}' is not one of the allowed values 'Primary', "
                   "'Secondary'.")
        return None, self._arm_error(req, 400, "InvalidParameter",
                                     "The request body is invalid: see details.", target="keyName",
                                     details=[{"code": "InvalidKeyName", "target": "keyName",
                                               "message": problem}])

    # --- Azure Batch data plane ------------------------------------------------------------------
    @staticmethod
    def _batch_headers(req):
        headers = [("Content-Type", BATCH_CONTENT_TYPE), ("DataServiceVersion", "3.0"),
                   ("X-Content-Type-Options", "nosniff"),
                   ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
                   ("request-id", req.request_id)]
        if req.headers.get("client-request-id"):
            headers.append(("client-request-id", req.headers["client-request-id"][:200]))
        return headers

    @staticmethod
    def _batch_base(req):
        return f"https://{req.headers.get('Host') or f'localhost:{req.port}'}/"

    def _batch_error(self, req, status, code, message, values=(), extra_headers=()):
        """An error in the Batch data plane's own shape (not ARM's CloudError): code, a
        localized message that ends with the request id and time, and key/value details."""
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + \
            f".{int(now % 1 * 10_000_000):07d}Z"
        body = {"odata.metadata": self._batch_base(req) + BATCH_ERROR_METADATA, "code": code,
                "message": {"lang": "en-US",
                            "value": f"{message}\nRequestId:{req.request_id}\nTime:{stamp}"}}
        if values:
            body["values"] = [{"key": key, "value": value} for key, value in values]
        req.details["error_code"] = code
        return Response(status, body, self._batch_headers(req) + list(extra_headers))

    def _authentication_failed(self, req, detail, status=403):
        return self._batch_error(req, status, "AuthenticationFailed",
                                 "Server failed to authenticate the request. Make sure the value "
                                 "of Authorization header is correctly formed including the "
                                 "signature.", [("AuthenticationErrorDetail", detail)])

    def _batch(self, req):
        if req.op != "applications":
            return self._batch_error(req, 404, "ResourceNotFound",
                                     "The specified resource does not exist.")
        if req.method != "GET":
            return self._batch_error(req, 405, "UnsupportedHttpVerb",
                                     "The resource doesn't support the specified HTTP verb.",
                                     [("HttpVerb", req.method)], [("Allow", "GET")])
        versions = req.params.get("api-version")
        if not versions:
            return self._batch_error(req, 400, "MissingRequiredQueryParameter",
                                     "A query parameter that's mandatory for this request is "
                                     "not specified.", [("QueryParameterName", "api-version")])
        if not BATCH_API_VERSION_SHAPE.fullmatch(versions[0]):
            return self._batch_error(req, 400, "InvalidQueryParameterValue",
                                     "Value for one of the query parameters specified in the "
                                     "request URI is invalid.",
                                     [("QueryParameterName", "api-version"),
                                      ("QueryParameterValue", versions[0]),
                                      ("Reason", "The specified api version string is "
                                                 "invalid")])
        failure = self._check_shared_key(req)
        if failure:
            return failure
        return Response(200, {"odata.metadata": self._batch_base(req) + "$metadata#applications",
                              "value": []}, self._batch_headers(req))

    def _check_shared_key(self, req):
        """None when the request is signed with a key of the account it names that the data
        plane accepts now; else the 401 or 403 AuthenticationFailed answer."""
        authorization = req.headers.get("Authorization")
        if not authorization:
            return self._authentication_failed(req, "The Authorization header is missing.", 401)
        scheme, _, credential = authorization.strip().partition(" ")
        if scheme.lower() != "sharedkey":
            return self._authentication_failed(
                req, f"The authentication scheme '{scheme[:40]}' is not supported here: the "
                "emulator's data plane knows SharedKey only.", 401)
        name, colon, signature = credential.strip().partition(":")
        if not colon or not name or not signature or " " in name:
            return self._authentication_failed(req, "The Authorization header is not of the form "
                                               "'SharedKey <accountName>:<signature>'.")
        req.details["shared_key_account"] = name
        account = self.find_account(name)
        if account is None:
            return self._authentication_failed(req, f"The account '{name}' named in the "
                                               "Authorization header does not exist.")
        if not account.allows_shared_key:
            return self._authentication_failed(req, "SharedKey authentication is disabled for "
                                               "the account")
        failure = self._check_ocp_date(req)
        if failure:
            return failure
        string_to_sign = shared_key_string_to_sign(req.method, req.headers, name, req.path,
                                                   req.query)
        with self._lock:
            states = account.key_states()
        for slot, key, accepted in states:
            if hmac.compare_digest(shared_key_signature(key, string_to_sign).encode(),
                                   signature.encode("utf-8", "replace")):
                if accepted:
                    req.details.update(shared_key_slot=slot, shared_key_ok=True)
                    return None
                req.details["shared_key_pending_slot"] = slot  # regenerated, not yet propagated
        return self._authentication_failed(
            req, f"The MAC signature found in the HTTP request '{signature[:200]}' is not the "
            "same as any computed signature. Server used following string to sign: "
            f"'{string_to_sign}'.")

    def _check_ocp_date(self, req):
        value = req.headers.get("ocp-date")
        if value is None:
            return self._authentication_failed(req, "The ocp-date header is missing: a SharedKey "
                                               "request must carry its time in ocp-date.")
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
            if email.utils.formatdate(when, usegmt=True) != value:
                raise ValueError("not in the RFC 1123 form")
        except (TypeError, ValueError, IndexError, OverflowError):
            return self._authentication_failed(req, f"The ocp-date header '{value[:100]}' is not "
                                               "an RFC 1123 date such as "
                                               "'Wed, 02 Dec 2026 14:18:04 GMT'.")
        if abs(time.time() - when) > SHARED_KEY_WINDOW:
            return self._authentication_failed(
                req, f"The request time '{value}' is outside the allowed window of "
                f"{SHARED_KEY_WINDOW // 60} minutes around the server time "
                f"'{email.utils.formatdate(usegmt=True)}'.")
        return None

    # --- admin endpoints (loopback only, no bearer) ---------------------------------------------
    def _admin(self, req):
        req.op = "admin"
        headers = [("Content-Type", "application/json; charset=utf-8")]
        if not ipaddress.ip_address(req.client_ip.split("%")[0]).is_loopback:
            return Response(403, {"error": "admin endpoints are loopback only"}, headers)
        route = (req.method, req.path.rstrip("/"))
        try:
            if route == ("GET", "/_emulator/log"):
                return Response(200, self.log, headers)
            if route == ("DELETE", "/_emulator/log"):
                self.clear_log()
            elif route == ("GET", "/_emulator/faults"):
                return Response(200, self.faults(), headers)
            elif route == ("POST", "/_emulator/faults"):
                specs = json.loads(req.body or b"[]")
                for spec in specs if isinstance(specs, list) else [specs]:
                    self.add_fault(**spec)
                return Response(200, self.faults(), headers)
            elif route == ("DELETE", "/_emulator/faults"):
                self.clear_faults()
            elif route == ("GET", "/_emulator/accounts"):
                with self._lock:
                    accounts = [self._admin_view(a) for a in self.accounts.values()]
                return Response(200, accounts, headers)
            elif route[0] == "POST" and route[1].startswith("/_emulator/accounts/"):
                name = urllib.parse.unquote(route[1][len("/_emulator/accounts/"):])
                changes = json.loads(req.body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("the body must be a JSON object")
                try:
                    return Response(200, self.set_account(name, **changes), headers)
                except KeyError:
                    return Response(404, {"error": f"no account {name!r}"}, headers)
            elif route == ("POST", "/_emulator/expire-tokens"):
                self.expire_tokens()
            else:
                return Response(404, {"error": f"no admin route {route}"}, headers)
        except (ValueError, TypeError) as exc:
            return Response(400, {"error": str(exc)}, headers)
        return Response(204, b"", headers)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Local Entra ID + ARM (Batch keys) + Batch data plane emulator.")
    parser.add_argument("--pki", required=True, help="directory made by make_test_pki.sh")
    parser.add_argument("--port-file", required=True,
                        help='written as {"login": N, "arm": M, "batch": B}')
    parser.add_argument("--login-port", type=int, default=0)
    parser.add_argument("--arm-port", type=int, default=0)
    parser.add_argument("--batch-port", type=int, default=0)
    parser.add_argument("--propagation-delay", type=float, default=0, metavar="SECONDS",
                        help="a regenerated key is accepted on the data plane this much later")
    parser.add_argument("--log", help="append the log here as JSON lines")
    parser.add_argument("--control", help="JSON list of faults, re-read on each request")
    parser.add_argument("--cert", choices=("server", "wrongname"), default="server")
    parser.add_argument("--ipv6", action="store_true", help="also listen on ::1, same ports")
    parser.add_argument("--tls-max", choices=("1.2", "1.3"), default="1.3")
    parser.add_argument("--token-lifetime", type=int, default=3599)
    parser.add_argument("--token-length", type=int, default=1600)
    args = parser.parse_args(argv)
    if not 0 <= args.propagation_delay < float("inf"):
        parser.error("--propagation-delay must be 0 or more seconds")

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    emulator = Emulator(args.pki, cert=args.cert, ipv6=args.ipv6, login_port=args.login_port,
                        arm_port=args.arm_port, batch_port=args.batch_port, log_path=args.log,
                        control_path=args.control, token_lifetime=args.token_lifetime,
                        token_length=args.token_length, tls_max_version=args.tls_max,
                        propagation_delay=args.propagation_delay)
    emulator.start()
    try:
        temporary = f"{args.port_file}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as port_file:
            json.dump({"login": emulator.login_port, "arm": emulator.arm_port,
                       "batch": emulator.batch_port}, port_file)
        os.replace(temporary, args.port_file)
        while not stop.wait(1):
            pass
    finally:
        emulator.stop()
        if os.path.exists(args.port_file):
            os.remove(args.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
