#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the fuzz targets' seed corpora, tests/fuzz/corpus/<target>/, from the spec's examples
(../shared/spec: the JSON bodies and the recorded regenerateKeys answer) and from answers shaped
like the local Azure emulator's (tests/emulator/azure_emulator.py: its headers, CloudError,
Entra, managed identity, device code and Batch error bodies). Deterministic: the same files,
named after what they hold, on every run; files of a corpus directory it does not write are
removed, except regression inputs (regress-*), which are kept as found.

    python3 tests/fuzz/make_corpus.py [--spec DIR] [--out DIR]

Standard library only (Debian's /usr/bin/python3). The PEM seeds (certificates and keys) are
made here from fixed numbers, with no openssl, so that they too come out the same every time;
they are test material only."""

import argparse
import base64
import hashlib
import json
import os
import random
import re
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SUB = "12345678-1234-1234-1234-123456789012"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
REQ_ID = "c5b4b9f8-2f7a-4d1e-9d3a-0b1c2d3e4f50"
DATE = "Wed, 02 Dec 2026 14:18:04 GMT"
KEY_A = base64.b64encode(bytes(range(64))).decode()
KEY_B = base64.b64encode(bytes(range(64, 128))).decode()


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- JSON bodies --------------------------------------------------------------------------------

def spec_bodies(spec):
    """The response bodies of the spec's examples and the recorded answer."""
    out = {}
    examples = os.path.join(spec, "examples")
    for name in sorted(os.listdir(examples)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(examples, name), encoding="utf-8") as f:
            doc = json.load(f)
        for status, response in sorted(doc.get("responses", {}).items()):
            if "body" in response:
                stem = name[:-5]
                out[f"spec-{stem}-{status}"] = compact(response["body"])
                out[f"spec-{stem}-{status}-pretty"] = json.dumps(response["body"],
                                                                 indent=2).encode()
    with open(os.path.join(spec, "recorded-regenerateKeys-azure-cli.yaml"), encoding="utf-8") as f:
        recorded = f.read()
    m = re.search(r"string: '(\{.*\})'", recorded)
    if m is None:
        sys.exit("make_corpus.py: no response body in the recorded regenerateKeys answer")
    out["spec-recorded-regenerateKeys"] = m.group(1).encode()
    return out


def account_body(modes=("SharedKey", "AAD")):
    rid = (f"/subscriptions/{SUB}/resourceGroups/my-rg/providers/Microsoft.Batch/"
           "batchAccounts/myacct")
    return compact({
        "id": rid, "name": "myacct", "type": "Microsoft.Batch/batchAccounts",
        "location": "westeurope", "identity": {"type": "None"}, "tags": {},
        "properties": {
            "accountEndpoint": "myacct.westeurope.batch.azure.com",
            "provisioningState": "Succeeded", "poolAllocationMode": "BatchService",
            "dedicatedCoreQuota": 20, "lowPriorityCoreQuota": 20,
            "dedicatedCoreQuotaPerVMFamilyEnforced": False, "publicNetworkAccess": "Enabled",
            "allowedAuthenticationModes": list(modes)}})


def emulator_bodies():
    """Bodies in the shapes the emulator answers with."""
    return {
        "keys": compact({"accountName": "myacct", "primary": KEY_A, "secondary": KEY_B}),
        "account": account_body(),
        "account-no-sharedkey": account_body(("AAD", "TaskAuthenticationToken")),
        "account-modes-null": account_body(()).replace(b"[]", b"null"),
        "cloud-error": compact({"error": {"code": "ResourceNotFound",
                                          "message": "The Resource 'Microsoft.Batch/"
                                                     "batchAccounts/myacct' was not found."}}),
        "cloud-error-details": compact({"error": {
            "code": "InvalidRequestBody", "message": "The key name is not valid.",
            "target": "keyName", "details": [
                {"code": "InvalidKeyName", "target": "keyName", "message": "Use Primary.",
                 "details": [{"code": "Nested", "message": "deeper"}]}]}}),
        "cloud-error-policy": compact({"error": {
            "code": "RequestDisallowedByPolicy", "target": "myacct",
            "message": "Resource 'myacct' was disallowed by policy. Policy identifiers: "
                       "'[{\"policyAssignment\":{\"name\":\"deny-shared-key\"}}]'.",
            "additionalInfo": [{"type": "PolicyViolation", "info": {
                "policyDefinitionDisplayName": "Batch accounts must not use shared key "
                                               "authentication",
                "evaluationDetails": {"evaluatedExpressions": []}}}]}}),
        "cloud-error-escapes": b'{"error":{"code":"Bad\\u0041","message":"line\\nnext \\"q\\" '
                               b'\\ud83d\\ude00 \\/ end","target":"t"}}',
        "batch-error": compact({
            "odata.metadata": "https://myacct.westeurope.batch.azure.com/$metadata"
                              "#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
            "code": "AuthenticationFailed",
            "message": {"lang": "en-US", "value": "Server failed to authenticate the request.\n"
                                                  f"RequestId:{REQ_ID}\nTime:2026-12-02T14:18:04"
                                                  ".0000000Z"},
            "values": [{"key": "AuthenticationErrorDetail",
                        "value": "The MAC signature found in the HTTP request is not the same "
                                 "as any computed signature."}]}),
        "entra-token": compact({"token_type": "Bearer", "expires_in": 3599,
                                "ext_expires_in": 3599, "access_token": "eyJ0eXAiOiJKV1QifQ."
                                "eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.c2ln"}),
        "entra-token-refresh": compact({"token_type": "Bearer", "scope": "https://management."
                                        "azure.com/user_impersonation", "expires_in": "3599",
                                        "access_token": "at", "refresh_token": "0.ARoA-rt",
                                        "id_token": "x.y.z"}),
        "entra-error": compact({
            "error": "invalid_client",
            "error_description": f"AADSTS7000215: Invalid client secret provided. Trace ID: "
                                 f"{REQ_ID} Correlation ID: {REQ_ID} Timestamp: 2026-12-02 "
                                 "14:18:04Z",
            "error_codes": [7000215], "timestamp": "2026-12-02 14:18:04Z", "trace_id": REQ_ID,
            "correlation_id": REQ_ID,
            "error_uri": "https://login.microsoftonline.com/error?code=7000215"}),
        "entra-error-pending": compact({"error": "authorization_pending",
                                        "error_description": "AADSTS70016: pending",
                                        "error_codes": [70016, 50000, 1, 2, 3, 4, 5, 6, 7]}),
        "mi-appservice-token": compact({"access_token": "eyJ0.eyJ1.c2ln",
                                        "expires_on": "1796220000",
                                        "resource": "https://management.azure.com/",
                                        "token_type": "Bearer",
                                        "client_id": "00000000-0000-0000-0000-00000000000a"}),
        "mi-imds-token": compact({"access_token": "eyJ0.eyJ1.c2ln",
                                  "client_id": "00000000-0000-0000-0000-00000000000a",
                                  "expires_in": "86399", "expires_on": "1796220000",
                                  "ext_expires_in": "86399", "not_before": "1796133600",
                                  "resource": "https://management.azure.com/",
                                  "token_type": "Bearer"}),
        "mi-arc-token": compact({"access_token": "eyJ0.eyJ1.c2ln", "expires_in": "3599",
                                 "expires_on": "1796220000", "not_before": "1796133600",
                                 "resource": "https://management.azure.com/",
                                 "token_type": "Bearer"}),
        "mi-error-imds": compact({"error": "invalid_request",
                                  "error_description": "Identity not found"}),
        "mi-error-appservice": compact({"statusCode": 400, "message": "The X-IDENTITY-HEADER "
                                        "header is required.", "correlationId": REQ_ID}),
        "device-code": compact({
            "user_code": "F7K2MRQXP", "device_code": "DAQABIQEAAADxx-device-code",
            "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900,
            "interval": 5, "message": "To sign in, use a web browser to open the page "
                                      "https://microsoft.com/devicelogin and enter the code "
                                      "F7K2MRQXP to authenticate."}),
    }


# --- HTTP answers -------------------------------------------------------------------------------

def answer(status, body=b"", headers=(), framing="length", reason=None):
    """An answer as the emulator writes one (write_response)."""
    reasons = {100: "Continue", 200: "OK", 204: "No Content", 401: "Unauthorized",
               403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
               429: "Too Many Requests", 500: "Internal Server Error",
               503: "Service Unavailable"}
    lines = [f"HTTP/1.1 {status} {reason or reasons.get(status, 'Status')}", f"Date: {DATE}"]
    lines += [f"{name}: {value}" for name, value in headers]
    parts = []
    if framing == "chunked":
        lines += ["Transfer-Encoding: chunked", "Trailer: x-ms-emulator-trailer"]
        for index, start in enumerate(range(0, len(body), 16)):
            piece = body[start:start + 16]
            ext = b';ext="emulator"' if index == 1 else b""
            parts.append(b"%X%s\r\n%s\r\n" % (len(piece), ext, piece))
        parts.append(b"0\r\nx-ms-emulator-trailer: done\r\n\r\n")
    elif framing == "close":
        lines.append("Connection: close")
        parts.append(body)
    else:
        if status not in (204, 304):
            lines.append(f"Content-Length: {len(body)}")
        parts.append(body)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + b"".join(parts)


ARM_HEADERS = [("Cache-Control", "no-cache"), ("Pragma", "no-cache"), ("Expires", "-1"),
               ("Content-Type", "application/json; charset=utf-8"),
               ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
               ("X-Content-Type-Options", "nosniff"), ("x-ms-request-id", REQ_ID),
               ("x-ms-correlation-request-id", REQ_ID),
               ("x-ms-routing-request-id", f"WESTEUROPE:20261202T141804Z:{REQ_ID}"),
               ("x-ms-ratelimit-remaining-subscription-writes", "1199")]


def cae_challenge():
    claims = compact({"access_token": {"nbf": {"essential": True, "value": "1796133600"}}})
    encoded = base64.b64encode(claims).decode()
    return (f'Bearer authorization_uri="https://login.microsoftonline.com/{TENANT}/oauth2/'
            f'authorize", error="insufficient_claims", claims="{encoded}"')


def http_answers(bodies):
    keys, account = bodies["spec-recorded-regenerateKeys"], bodies["account"]
    error = bodies["cloud-error"]
    throttled = compact({"error": {"code": "SubscriptionRequestsThrottled", "message":
                                   "Number of requests for subscription exceeded the limit."}})
    return {
        "keys-length": answer(200, keys, ARM_HEADERS),
        "keys-chunked": answer(200, keys, ARM_HEADERS, "chunked"),
        "keys-close": answer(200, keys, ARM_HEADERS, "close"),
        "account-length": answer(200, account, ARM_HEADERS),
        "continue-then-keys": b"HTTP/1.1 100 Continue\r\n\r\n" + answer(200, keys),
        "no-content": answer(204, b"", [("x-ms-request-id", REQ_ID)]),
        "not-found": answer(404, error, ARM_HEADERS),
        "throttled-seconds": answer(429, throttled, ARM_HEADERS + [("Retry-After", "17")]),
        "throttled-date": answer(429, throttled, ARM_HEADERS +
                                 [("Retry-After", "Wed, 02 Dec 2026 14:19:04 GMT")]),
        "throttled-ms": answer(503, error, [("retry-after-ms", "1500"),
                                            ("x-ms-retry-after-ms", "2500")]),
        "timeout-retry-after": answer(408, error, ARM_HEADERS + [("Retry-After", "3")]),
        "cae-challenge": answer(401, compact({"error": {
            "code": "InvalidAuthenticationToken", "message": "Continuous access evaluation "
            "resulted in challenge with result: InteractionRequired."}}),
            ARM_HEADERS + [("WWW-Authenticate", cae_challenge())]),
        "invalid-token": answer(401, error, ARM_HEADERS + [(
            "WWW-Authenticate", f'Bearer authorization_uri="https://login.microsoftonline.com/'
            f'{TENANT}", error="invalid_token", error_description="The token has expired"')]),
        "batch-refused": answer(403, bodies["batch-error"], [("request-id", REQ_ID),
                                                             ("DataServiceVersion", "3.0")]),
        "server-error": answer(500, error, ARM_HEADERS),
        "http10-close": b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + keys,
    }


def fuzz_response(bodies, answers):
    out = {}
    # Flags: low 4 bits the number of piece sizes that follow; 0x10 "no progress" returns,
    # 0x20 an unclean end, 0x40 the small buffer.
    prefixes = [("bytewise", b"\x00"), ("pieces-7-1-64", b"\x03\x07\x01\x40"),
                ("zero-every", b"\x11\x05"), ("small-buffer", b"\x41\x0d"),
                ("unclean", b"\x22\x03\x20")]
    for i, (name, data) in enumerate(sorted(answers.items())):
        pname, prefix = prefixes[i % len(prefixes)]
        out[f"{name}-{pname}"] = prefix + data
    out["big-body-small-buffer"] = b"\x41\x10" + answer(200, bodies["spec-PrivateBatchAccountGet"
                                                                    "-200"] * 2)
    return out


def fuzz_models(bodies):
    return dict(bodies)


# --- the store's records ------------------------------------------------------------------------

def rotation_fields(step="idle", active="primary", endpoint="myacct.westeurope.batch.azure.com",
                    rg="my-rg"):
    fields = [("batchkey-rotation", "1"), ("sequence", "7"), ("updated", "1796133600"),
              ("subscription", SUB), ("resource-group", rg), ("account", "myacct"),
              ("endpoint", endpoint), ("active", active), ("step", step), ("rotations", "3"),
              ("last-rotation", "1793541600"), ("primary-since", "1793541600"),
              ("secondary-since", "0"), ("primary-key", KEY_A), ("secondary-key", KEY_B)]
    return "".join(f"{k} {v}\n" for k, v in fields).encode()


def with_crc_line(body):
    return body + b"crc32 %08x\n" % zlib.crc32(body)


def store_slot(record, seq, slot_size):
    head = b"BKS1" + struct.pack("<II", seq, len(record))
    crc = zlib.crc32(head[4:] + record)
    slot = head + struct.pack("<I", crc) + record
    return slot + b"\xff" * (slot_size - len(slot))


def session_record(host=b"management.azure.com", port=443, expires=1796137200,
                   data=bytes(range(48))):
    body = b"BKT1" + bytes([len(host)]) + host + struct.pack(">HQH", port, expires, len(data)) \
        + data
    return body


def fuzz_records():
    out = {}
    steps = ["idle", "regenerating", "pending", "publishing", "retiring"]
    for i, step in enumerate(steps):
        record = rotation_fields(step, "secondary" if i % 2 else "primary")
        out[f"rotation-{step}"] = b"\x00" + with_crc_line(record)
        out[f"rotation-{step}-crc-by-harness"] = b"\x80" + record
    out["rotation-unicode-rg"] = b"\x80" + rotation_fields(rg="r\u00e9sum\u00e9-(1).x_y")
    out["rotation-no-endpoint"] = b"\x80" + rotation_fields(endpoint="")
    out["rotation-bad-crc"] = b"\x00" + rotation_fields() + b"crc32 00000000\n"
    out["rotation-version-2"] = b"\x80" + rotation_fields().replace(b"rotation 1", b"rotation 2")
    # Store images: byte 1 = slot size / 8, then slot 0 and slot 1.
    rec = with_crc_line(rotation_fields())
    size = 512
    out["store-one-slot"] = b"\x01" + bytes([size // 8]) + store_slot(rec, 1, size)
    out["store-two-slots"] = (b"\x01" + bytes([size // 8]) + store_slot(rec, 4, size)
                              + store_slot(with_crc_line(rotation_fields("pending")), 5, size))
    out["store-seq-wrap"] = (b"\x01" + bytes([size // 8]) + store_slot(rec, 0xFFFFFFFF, size)
                             + store_slot(b"newer\n", 0, size))
    out["store-torn-header"] = (b"\x01" + bytes([size // 8]) + store_slot(rec, 2, size)
                                + store_slot(b"torn", 3, size)[:12])
    out["store-crc-by-harness"] = b"\x81" + bytes([128 // 8]) + b"BKS1" + struct.pack(
        "<III", 9, 20, 0) + b"twenty bytes record\n"
    out["store-tiny-slots"] = b"\x01\x02" + b"BKS1" + b"\x00" * 12
    # TLS sessions: "BKT1", host, port, expiry, data, CRC-32 (big-endian).
    s = session_record()
    out["session"] = b"\x02" + s + struct.pack(">I", zlib.crc32(s))
    out["session-crc-by-harness"] = b"\x82" + session_record(b"[::1]", 8443, 0, b"\x01")
    out["session-version-2"] = b"\x02BKT2" + s[4:]
    return out


# --- validators, credentials, proxy, client -----------------------------------------------------

def fuzz_validators(spec):
    out = {}
    urls = ["https://management.azure.com", "https://management.azure.com/",
            "https://127.0.0.1:8443", "https://[::1]:443/", "https://login.microsoftonline.com",
            "http://169.254.169.254", "https://management.chinacloudapi.cn:443"]
    paths = ["http://localhost:40342/metadata/identity/oauth2/token",
             "http://127.0.0.1:41741/msi/token", "https://example.com/a/b%20c",
             "http://[fe80::1]:80/x?query", "https://host:99999/"]
    for i, u in enumerate(urls + paths):
        out[f"url-{i:02d}"] = bytes([i % 2]) + u.encode()
    for i, u in enumerate(urls):
        out[f"endpoint-{i:02d}"] = b"\x02" + u.encode()
    with open(os.path.join(spec, "examples", "BatchAccountGet.json"), encoding="utf-8") as f:
        params = json.load(f)["parameters"]
    values = [SUB, SUB.upper(), params["resourceGroupName"], params["accountName"],
              "my-rg", "r\u00e9sum\u00e9-(1)._", "rg.", "contoso.onmicrosoft.com", TENANT,
              "Primary", "SECONDARY", "ab", "a" * 24, "bad\r\nheader"]
    for i, v in enumerate(values):
        out[f"parameter-{i:02d}"] = b"\x03" + v.encode()
    proxies = ["http://proxy.example:3128", "http://user:p%40ss@10.0.0.1:8080/",
               "proxy.example", "[::1]:3128", "socks5://proxy:1080", "http://u@h:0"]
    for i, p in enumerate(proxies):
        out[f"proxy-{i:02d}"] = b"\x04" + p.encode()
    no_proxy = [(443, "localhost,.azure.com\nmanagement.azure.com"), (80, "*\nexample.com"),
                (443, " 10.0.0.0/8 , [::1]:443\n10.1.2.3"), (8443, "example.com:8443\nexample.com.")]
    for i, (port, v) in enumerate(no_proxy):
        out[f"no-proxy-{i:02d}"] = b"\x05" + struct.pack(">H", port) + v.encode()
    dates = [DATE, "Wednesday, 02-Dec-26 14:18:04 GMT", "Wed Dec  2 14:18:04 2026",
             "Thu, 01 Jan 1970 00:00:00 GMT"]
    for i, d in enumerate(dates):
        out[f"date-{i:02d}"] = b"\x06" + d.encode()
    return out


def jwt(header, claims):
    return f"{b64url(compact(header))}.{b64url(compact(claims))}.{b64url(b'signature')}"


def fuzz_credentials():
    out = {}
    d = "/var/opt/azcmagent/tokens"
    challenges = [f"Basic realm={d}/0a1b2c3d.key", f'Basic realm="{d}/abc.key"',
                  f"basic realm={d}/../etc/shadow.key", f"Basic realm={d}/.hidden.key",
                  f"Basic realm={d}/x.key\n0123456789abcdef0123456789abcdef",
                  f"Basic realm={d}/y.key\nsecret with\ttab"]
    for i, c in enumerate(challenges):
        out[f"arc-{i:02d}"] = b"\x00" + c.encode()
    claims = [compact({"access_token": {"nbf": {"essential": True, "value": "1796133600"}}}),
              compact({"access_token": {}}),
              compact({"access_token": {"xms_cc": {"values": ["cp1"]}}}),
              compact({"id_token": {"auth_time": {"essential": True}}}), b""]
    for i, c in enumerate(claims):
        out[f"claims-{i:02d}"] = b"\x01" + c
    out["claims-base64"] = b"\x01" + base64.b64encode(claims[0])
    out["claims-base64url"] = b"\x01" + base64.urlsafe_b64encode(claims[0]).rstrip(b"=")
    tokens = [jwt({"alg": "RS256", "kid": "k1", "typ": "JWT"},
                  {"aud": "api://AzureADTokenExchange", "iss": "https://oidc.prod-aks.azure.com/"
                   f"{TENANT}/", "sub": "system:serviceaccount:default:batchkey",
                   "exp": 1796137200, "iat": 1796133600, "nbf": 1796133600}),
              jwt({"alg": "none"}, {}) + "\n", "not a jwt & with=form chars+%"]
    for i, t in enumerate(tokens):
        out[f"federated-{i:02d}"] = b"\x02" + t.encode()
    return out


def fuzz_proxy():
    answers = {
        "established": b"HTTP/1.1 200 Connection established\r\n\r\n",
        "established-headers": b"HTTP/1.1 200 OK\r\nProxy-Agent: tinyproxy/1.11.1\r\n\r\n",
        "http10": b"HTTP/1.0 200 Connection established\r\nProxy-agent: Apache\r\n\r\n",
        "auth-required": b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: "
                         b"Basic realm=\"proxy\"\r\nContent-Length: 0\r\n\r\n",
        "forbidden": b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: 9\r\n"
                     b"\r\nForbidden",
        "early-bytes": b"HTTP/1.1 200 OK\r\n\r\n\x16\x03\x01",
        "bare-lf": b"HTTP/1.1 200 OK\n\n",
    }
    out = {}
    flags = [0x00, 0x01, 0x13, 0x40, 0x25, 0x07, 0x50]
    for i, (name, data) in enumerate(sorted(answers.items())):
        out[name] = bytes([flags[i % len(flags)]]) + data
    return out


def fuzz_client(bodies, answers):
    sep = b"\x00\x00\x00\x00"
    keys = answers["keys-length"]
    out = {
        "get-account": b"\x00" + answers["account-length"],
        "get-account-cae": b"\x00" + answers["cae-challenge"] + sep + answers["account-length"],
        "get-account-throttled": b"\x04" + answers["throttled-seconds"] + sep
        + answers["account-length"],
        "list-keys": b"\x01" + keys,
        "list-keys-chunked": b"\x05" + answers["keys-chunked"],
        "list-keys-server-error": b"\x01" + answers["server-error"] + sep + keys,
        "regenerate": b"\x02" + keys,
        "regenerate-throttled": b"\x02" + answers["throttled-ms"].replace(b" 503 ", b" 429 ")
        + sep + keys,
        "regenerate-ambiguous": b"\x02" + answers["server-error"] + sep + keys,
        "regenerate-timeout": b"\x0a" + answers["timeout-retry-after"] + sep + keys,
        "regenerate-refused": b"\x02" + answers["not-found"],
        "prove-ok": b"\x03" + answer(200, bodies["spec-dataplane-Applications_ListApplications"
                                                  "-200"], [("request-id", REQ_ID)]),
        "prove-refused": b"\x03" + answers["batch-refused"],
    }
    return out


# --- PEM: certificates and keys made from fixed numbers -----------------------------------------

def der(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + content


def der_int(v):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return der(0x02, b)


def der_oid(text):
    parts = [int(x) for x in text.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        body += bytes(reversed(chunk))
    return der(0x06, body)


def seq(*items):
    return der(0x30, b"".join(items))


def bits(data):
    return der(0x03, b"\x00" + data)


def pem(label, data):
    text = base64.encodebytes(data).decode().replace("\n", "")
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


# P-256
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
A = P - 3
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
     0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def ec_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    if p1[0] == p2[0] and (p1[1] + p2[1]) % P == 0:
        return None
    if p1 == p2:
        lam = (3 * p1[0] * p1[0] + A) * pow(2 * p1[1], -1, P) % P
    else:
        lam = (p2[1] - p1[1]) * pow(p2[0] - p1[0], -1, P) % P
    x = (lam * lam - p1[0] - p2[0]) % P
    return (x, (lam * (p1[0] - x) - p1[1]) % P)


def ec_mul(k, point=G):
    result = None
    while k:
        if k & 1:
            result = ec_add(result, point)
        point = ec_add(point, point)
        k >>= 1
    return result


EC_ALG = seq(der_oid("1.2.840.10045.2.1"), der_oid("1.2.840.10045.3.1.7"))
RSA_ALG = seq(der_oid("1.2.840.113549.1.1.1"), der(0x05, b""))


class EcKey:
    def __init__(self, seed):
        self.d = int.from_bytes(hashlib.sha256(seed).digest(), "big") % (N - 1) + 1
        x, y = ec_mul(self.d)
        self.point = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
        self.spki = seq(EC_ALG, bits(self.point))
        self.sig_alg = seq(der_oid("1.2.840.10045.4.3.2"))

    def sign(self, data):
        h = int.from_bytes(hashlib.sha256(data).digest(), "big")
        k = int.from_bytes(hashlib.sha256(b"k" + data).digest(), "big") % (N - 1) + 1
        r = ec_mul(k)[0] % N
        s = pow(k, -1, N) * (h + r * self.d) % N
        return seq(der_int(r), der_int(s))

    def sec1(self):
        return pem("EC PRIVATE KEY", seq(der_int(1), der(0x04, self.d.to_bytes(32, "big")),
                                         der(0xA0, der_oid("1.2.840.10045.3.1.7")),
                                         der(0xA1, bits(self.point))))

    def pkcs8(self):
        inner = seq(der_int(1), der(0x04, self.d.to_bytes(32, "big")), der(0xA1, bits(self.point)))
        return pem("PRIVATE KEY", seq(der_int(0), EC_ALG, der(0x04, inner)))


def is_prime(n):
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


class RsaKey:
    def __init__(self, seed, bits_=1024):
        rng = random.Random(seed)
        self.e = 65537
        while True:
            primes = []
            while len(primes) < 2:
                c = rng.getrandbits(bits_ // 2) | (3 << (bits_ // 2 - 2)) | 1
                if is_prime(c) and (c - 1) % self.e != 0:
                    primes.append(c)
            self.p, self.q = max(primes), min(primes)
            if self.p != self.q:
                break
        self.n = self.p * self.q
        self.d = pow(self.e, -1, (self.p - 1) * (self.q - 1))
        self.spki = seq(RSA_ALG, bits(seq(der_int(self.n), der_int(self.e))))
        self.sig_alg = seq(der_oid("1.2.840.113549.1.1.11"), der(0x05, b""))

    def sign(self, data):
        info = seq(seq(der_oid("2.16.840.1.101.3.4.2.1"), der(0x05, b"")),
                   der(0x04, hashlib.sha256(data).digest()))
        k = (self.n.bit_length() + 7) // 8
        em = b"\x00\x01" + b"\xff" * (k - 3 - len(info)) + b"\x00" + info
        return pow(int.from_bytes(em, "big"), self.d, self.n).to_bytes(k, "big")

    def pkcs1(self):
        p, q, d = self.p, self.q, self.d
        return pem("RSA PRIVATE KEY", seq(der_int(0), der_int(self.n), der_int(self.e),
                                          der_int(d), der_int(p), der_int(q),
                                          der_int(d % (p - 1)), der_int(d % (q - 1)),
                                          der_int(pow(q, -1, p))))


def name(cn):
    return seq(der(0x31, seq(der_oid("2.5.4.3"), der(0x0C, cn.encode()))))


def certificate(key, subject, issuer_key=None, issuer="batchkey fuzz CA", serial=1):
    signer = issuer_key or key
    tbs = seq(der(0xA0, der_int(2)), der_int(serial), signer.sig_alg, name(issuer),
              seq(der(0x17, b"260101000000Z"), der(0x17, b"360101000000Z")), name(subject),
              key.spki)
    return pem("CERTIFICATE", seq(tbs, signer.sig_alg, bits(signer.sign(tbs))))


def fuzz_pem():
    ec, ca, rsa = EcKey(b"batchkey fuzz leaf"), EcKey(b"batchkey fuzz ca"), RsaKey(1)
    ec_cert = certificate(ec, "ec leaf", ca)
    ca_cert = certificate(ca, "batchkey fuzz CA")
    rsa_cert = certificate(rsa, "rsa leaf", ca, serial=2)
    encrypted = ("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                 "DEK-Info: DES-EDE3-CBC,0123456789ABCDEF\n\n" +
                 rsa.pkcs1().split("\n", 1)[1].split("-----END")[0] +
                 "-----END RSA PRIVATE KEY-----\n")
    files = {
        "ec-sec1": (0, ec_cert + ec.sec1()),
        "ec-pkcs8-key-first": (0, ec.pkcs8() + ec_cert),
        "ec-chain": (0, ec_cert + ca_cert + ec.sec1()),
        "ec-chain-leaf-last": (0, ca_cert + ec.sec1() + ec_cert),
        "rsa-pkcs1-ps256": (0, rsa_cert + rsa.pkcs1()),
        "rsa-pkcs1-rs256": (2, rsa_cert + ca_cert + rsa.pkcs1()),
        "rsa-password-given": (1, rsa_cert + rsa.pkcs1()),
        "rsa-encrypted": (1, rsa_cert + encrypted),
        "rsa-encrypted-no-password": (0, rsa_cert + encrypted),
        "no-matching-cert": (0, ca_cert + ec.sec1()),
        "too-many-certs": (0, ec_cert + ca_cert * 4 + ec.sec1()),
        "cert-only": (0, ec_cert),
        "key-only": (0, ec.sec1()),
    }
    return {k: bytes([flags]) + text.encode() for k, (flags, text) in files.items()}


# --- writing ------------------------------------------------------------------------------------

def write_corpus(out_dir, target, files):
    directory = os.path.join(out_dir, target)
    os.makedirs(directory, exist_ok=True)
    for stale in sorted(set(os.listdir(directory)) - set(files)):
        if not stale.startswith("regress-"):
            os.remove(os.path.join(directory, stale))
    for name, data in sorted(files.items()):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
    return len(files), sum(len(d) for d in files.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", default=os.path.join(REPO, "..", "shared", "spec"),
                        help="the spec directory (default: ../shared/spec beside the repo)")
    parser.add_argument("--out", default=os.path.join(HERE, "corpus"))
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(args.spec, "examples")):
        sys.exit(f"make_corpus.py: no spec examples in {args.spec} (--spec DIR)")
    bodies = spec_bodies(args.spec)
    bodies.update(emulator_bodies())
    answers = http_answers(bodies)
    corpora = {
        "fuzz_response": fuzz_response(bodies, answers),
        "fuzz_models": fuzz_models(bodies),
        "fuzz_records": fuzz_records(),
        "fuzz_validators": fuzz_validators(args.spec),
        "fuzz_credentials": fuzz_credentials(),
        "fuzz_proxy": fuzz_proxy(),
        "fuzz_client": fuzz_client(bodies, answers),
        "fuzz_pem": fuzz_pem(),
    }
    total = 0
    for target, files in corpora.items():
        count, size = write_corpus(args.out, target, files)
        total += size
        print(f"{target:18s} {count:3d} files {size:7d} bytes")
    print(f"{'total':18s}     {total:13d} bytes")


if __name__ == "__main__":
    main()
