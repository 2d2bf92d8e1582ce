#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A local stand-in for Microsoft Entra ID, Azure Resource Manager (Batch account keys), the
Azure Batch data plane (SharedKey-signed reads) and the managed-identity endpoints.

Three HTTPS listeners on loopback: "login" plays login.microsoftonline.com (client credentials
with a secret, a certificate-signed client assertion verified against the application's
registered certificates, or a federated token from the emulator's own OIDC issuer; device code
flow and refresh tokens), "arm" plays management.azure.com (Batch account get, listKeys,
regenerateKeys), "batch" plays <account>.<region>.batch.azure.com (list applications,
authenticated with an account key, which proves that a key works; a regenerated key is accepted
after a configurable propagation delay). Three plain-HTTP listeners play the managed-identity
endpoints: "appservice" (App Service, X-IDENTITY-HEADER), "arc" (Azure Arc's HIMDS with its
Basic realm=<file> challenge) and "imds" (the Azure Instance Metadata Service). Faults
(throttling, server errors and other statuses, dropped, stalled, trickled or truncated answers,
chunked or close-delimited framing, slowness, CAE challenges, policy denials, oversized request
ids, Arc challenges pointing at files a client must refuse) can be injected per request, and
every connection and request is logged without secrets. Python 3 standard library only, and the
`openssl` command for signatures. See README.md next to this file.
"""

import argparse
import base64
import calendar
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
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import warnings

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

# The managed identities (system-assigned, and one user-assigned) the emulated machine has.
DEFAULT_MI_CLIENT_ID = "8d3f1c62-5a9e-4f0b-b7d4-3e61a2c9f805"
DEFAULT_USER_ASSIGNED_CLIENT_ID = "e4b2a9c7-16d3-4e8f-a05b-9c7d1f3e2a64"
DEFAULT_IDENTITY_HEADER = "emulator-identity-header"  # App Service's IDENTITY_HEADER
APPSERVICE_PATH = "/msi/token"
APPSERVICE_API_VERSION = "2019-08-01"
MI_TOKEN_PATH = "/metadata/identity/oauth2/token"  # Arc's and IMDS's
ARC_API_VERSIONS = ("2019-11-01", "2020-06-01", "2021-02-01")
IMDS_API_VERSIONS = ("2018-02-01", "2019-08-01", "2021-02-01")
ARC_SECRET_LIFETIME = 60  # seconds a challenge's secret file is accepted (then removed)
ARC_MAX_SECRET = 4096  # what a client may read from the realm file (the variant "oversized")
ARC_REALM_VARIANTS = ("outside", "not_key", "symlink", "oversized", "traversal", "subdir",
                      "relative", "missing", "limit")

# Certificate credentials (client assertions signed with a registered certificate's key).
ASSERTION_ALGS = ("PS256", "RS256", "ES256")
ASSERTION_SKEW = 300  # seconds of clock skew allowed around nbf, iat and exp
ASSERTION_MAX_LIFETIME = 3600  # exp - nbf, at most
PSS_SALT_LENGTH = 32  # JWA (RFC 7518 3.5): the salt is as long as the hash
CLIENT_PKI_REGISTERED = ("client-rsa.pem", "client-ec.pem", "client-chain.pem",
                         "client-expired.pem")
CLIENT_CERTIFICATE_PASSWORD = "emulator-pass"  # client-rsa-enc*.pem's (make_client_pki.sh)

# Workload identity federation: the emulator is an OIDC issuer whose tokens the app trusts.
FEDERATED_ISSUER = "https://oidc.emulator.test"
DEFAULT_FEDERATED_SUBJECT = "system:serviceaccount:batch:gateway"
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"

# Device code flow and refresh tokens (a person onboarding a device, user_impersonation).
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_VERIFICATION_URI = "https://microsoft.com/devicelogin"
DEVICE_CODE_LENGTH = 300
USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
DEFAULT_USER = "onboarding@batchkey.example"
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
DEVICE_FLOW_STEPS = ("pending", "slow_down", "approve", "decline", "expire")
POLL_TOLERANCE = 0.25  # seconds a poll may come early before it is answered slow_down
REFRESH_TOKEN_LIFETIME = 90 * 86400  # Entra's inactivity limit

LISTENERS = ("login", "arm", "batch", "appservice", "arc", "imds")
TLS_LISTENERS = ("login", "arm", "batch")
MI_LISTENERS = ("appservice", "arc", "imds")  # plain HTTP
OPERATIONS = ("token", "devicecode", "get", "listKeys", "regenerateKeys", "applications",
              "appservice", "arc", "imds")
OPERATION_LISTENERS = {"token": "login", "devicecode": "login", "get": "arm", "listKeys": "arm",
                       "regenerateKeys": "arm", "applications": "batch",
                       "appservice": "appservice", "arc": "arc", "imds": "imds"}
FAULT_KINDS = ("status", "drop", "drop_before", "chunked", "slow", "truncate", "401_claims",
               "malformed", "long_ids", "policy_denial", "stall", "trickle", "close_delimited",
               "arc_realm", "oversized", "one_record", "handshake_close")
TRUNCATE_POINTS = ("status", "headers", "body", "chunk")
OVERSIZED_PARTS = ("status_line", "header", "headers", "body", "token")
ARM_ONLY_KINDS = ("401_claims", "policy_denial")  # never fired on another listener
RETRY_AFTER_STYLES = ("seconds", "http-date", "retry-after-ms", "x-ms-retry-after-ms")
LOGGED_HEADERS = ("Host", "User-Agent", "Content-Type", "Content-Length", "Accept",
                  "Accept-Encoding", "Connection", "Transfer-Encoding", "x-ms-client-request-id",
                  "client-request-id", "return-client-request-id", "ocp-date")
MAX_BODY = 1 << 20
STOP_POLL = 0.2  # how often a silent handler re-checks that the emulator is not stopping

ARM_PATH = re.compile(r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Batch"
                      r"/batchAccounts/([^/]+)(?:/(listKeys|regenerateKeys))?", re.IGNORECASE)
TOKEN_PATH = re.compile(r"/([^/]+)/oauth2/v2\.0/token")
DEVICECODE_PATH = re.compile(r"/([^/]+)/oauth2/v2\.0/devicecode")
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


# --- JWTs, certificates and signatures (the crypto is openssl's, run as a command) -----------
def make_client_pki(directory):
    """Runs make_client_pki.sh (idempotent): the client certificates of the tests."""
    subprocess.run(["sh", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                       "make_client_pki.sh"), directory], check=True)


def _remove_quietly(path):
    """Removes a file, a symbolic link or an empty directory, if it is there."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError:
        pass


class JwtError(ValueError):
    """A JWT that cannot be read: not three base64url parts of JSON objects."""


def _b64url_decode(text):
    """Unpadded base64url, strictly: no "=", no "+" or "/", no whitespace; else JwtError."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text) \
            or len(text) % 4 == 1:
        raise JwtError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_jwt(token):
    """(header, claims, signing input bytes, signature bytes) of a compact JWS, or JwtError."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise JwtError("not three dot-separated parts")
    try:
        header, claims = (json.loads(_b64url_decode(p).decode("utf-8")) for p in parts[:2])
    except JwtError:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise JwtError(f"a part is not base64url of JSON ({exc.__class__.__name__})") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwtError("the header or the claims are not a JSON object")
    signature = _b64url_decode(parts[2])
    if not signature:
        raise JwtError("no signature")
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _openssl(args, data=b""):
    """Runs `openssl args...` with data on stdin: (exit status, stdout bytes)."""
    try:
        done = subprocess.run(["openssl"] + list(args), input=data, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, check=False, timeout=30)
    except FileNotFoundError:
        raise RuntimeError("the emulator needs the openssl command") from None
    return done.returncode, done.stdout


def _der_length(length):
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def ecdsa_raw_to_der(raw):
    """A JWS ECDSA signature (r || s, each half of raw) as the DER SEQUENCE openssl verifies."""
    half = len(raw) // 2
    body = b""
    for part in (raw[:half], raw[half:]):
        value = part.lstrip(b"\0") or b"\0"
        if value[0] & 0x80:
            value = b"\0" + value
        body += b"\x02" + _der_length(len(value)) + value
    return b"\x30" + _der_length(len(body)) + body


PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)"
                             rb"-----END CERTIFICATE-----")
RSA_OID = bytes.fromhex("06092a864886f70d010101")  # rsaEncryption
EC_OID = bytes.fromhex("06072a8648ce3d0201")  # id-ecPublicKey
P256_OID = bytes.fromhex("06082a8648ce3d030107")  # prime256v1


def _pem(der, label="CERTIFICATE"):
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _openssl_date(text):
    """"notAfter=Jan  4 00:00:00 2024 GMT" -> seconds since the epoch."""
    return calendar.timegm(time.strptime(text.split("=", 1)[1].strip(), "%b %d %H:%M:%S %Y %Z"))


class ClientCertificate:
    """A certificate registered for the application (its public part only): the first
    certificate of a PEM (a file holding the key too, as AZURE_CLIENT_CERTIFICATE_PATH does, is
    fine; the key is never read). Verifies JWS signatures with its public key."""

    def __init__(self, pem, name):
        match = PEM_CERTIFICATE.search(pem if isinstance(pem, bytes) else pem.encode("ascii"))
        if not match:
            raise ValueError(f"{name}: no PEM certificate")
        self.der = base64.b64decode(b"".join(match.group(1).split()))
        self.name = name
        self.sha1 = hashlib.sha1(self.der).digest()
        self.sha256 = hashlib.sha256(self.der).digest()
        status, out = _openssl(["x509", "-inform", "DER", "-noout", "-subject", "-startdate",
                                "-enddate", "-nameopt", "RFC2253"], self.der)
        if status != 0:
            raise ValueError(f"{name}: openssl cannot read the certificate")
        fields = dict(line.split("=", 1) for line in out.decode().splitlines() if "=" in line)
        self.subject = fields.get("subject", "")
        self.not_before = _openssl_date("x=" + fields["notBefore"])
        self.not_after = _openssl_date("x=" + fields["notAfter"])
        status, public_key = _openssl(["x509", "-inform", "DER", "-noout", "-pubkey"], self.der)
        if status != 0:
            raise ValueError(f"{name}: openssl cannot read the public key")
        spki = base64.b64decode(b"".join(public_key.split(b"\n")[1:-2]))
        self.key_type = ("RSA" if RSA_OID in spki else
                         "EC-P256" if EC_OID in spki and P256_OID in spki else "other")
        self.public_key = public_key

    def info(self):
        """What tests and the admin path see (public facts only)."""
        return {"name": self.name, "subject": self.subject, "key_type": self.key_type,
                "thumbprint": self.sha1.hex().upper(), "thumbprint_sha256": self.sha256.hex(),
                "x5t": _b64url(self.sha1), "x5t#S256": _b64url(self.sha256),
                "not_before": self.not_before, "not_after": self.not_after}

    def validity(self):
        stamp = "%m/%d/%Y %H:%M:%S"
        return (f"Start={time.strftime(stamp, time.gmtime(self.not_before))}, "
                f"End={time.strftime(stamp, time.gmtime(self.not_after))}")

    def verify(self, alg, data, signature):
        """None when signature is alg's signature of data by this certificate's key; else what
        is wrong, for the log: alg_key_mismatch, es256_signature_length, pss_salt_length or
        bad_signature."""
        if alg == "ES256":
            if self.key_type != "EC-P256":
                return "alg_key_mismatch"
            if len(signature) != 64:  # a DER signature, say, where JWS wants r || s
                return "es256_signature_length"
            return None if _verify(self.public_key, [], data,
                                   ecdsa_raw_to_der(signature)) else "bad_signature"
        if self.key_type != "RSA":
            return "alg_key_mismatch"
        if alg == "RS256":
            return None if _verify(self.public_key, [], data, signature) else "bad_signature"
        pss = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_mgf1_md:sha256", "-sigopt"]
        if _verify(self.public_key, pss + [f"rsa_pss_saltlen:{PSS_SALT_LENGTH}"], data,
                   signature):
            return None
        if _verify(self.public_key, pss + ["rsa_pss_saltlen:auto"], data, signature):
            return "pss_salt_length"  # a PSS signature of the data, but with another salt length
        return "bad_signature"


def _verify(public_key, options, data, signature):
    """Whether signature is a SHA-256 signature of data by public_key (PEM bytes)."""
    with tempfile.TemporaryDirectory(prefix="emulator-verify-") as work:
        key_path, sig_path = os.path.join(work, "key.pem"), os.path.join(work, "sig")
        for path, content in ((key_path, public_key), (sig_path, signature)):
            with open(path, "wb") as out:
                out.write(content)
        status, _ = _openssl(["dgst", "-sha256", "-verify", key_path] + options +
                             ["-signature", sig_path], data)
    return status == 0


def _issued_by(subject_der, issuer_der):
    """Whether the certificate issuer_der signed subject_der (openssl verify, issuer as anchor)."""
    with tempfile.TemporaryDirectory(prefix="emulator-x5c-") as work:
        paths = []
        for name, der in (("subject.pem", subject_der), ("issuer.pem", issuer_der)):
            paths.append(os.path.join(work, name))
            with open(paths[-1], "w", encoding="ascii") as pem_file:
                pem_file.write(_pem(der))
        status, _ = _openssl(["verify", "-partial_chain", "-CAfile", paths[1], paths[0]])
    return status == 0


class _OidcIssuer:
    """The emulator's own OIDC issuer (a Kubernetes API server, say): an RSA key it signs
    federated tokens with (RS256), made with openssl on first use."""

    def __init__(self, workdir, issuer=FEDERATED_ISSUER):
        self.issuer = issuer
        self.key_path = os.path.join(workdir, "oidc-issuer.key")
        self.public_key_path = os.path.join(workdir, "oidc-issuer.pub.pem")
        for args in (["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                      "-out", self.key_path],
                     ["pkey", "-in", self.key_path, "-pubout", "-out", self.public_key_path]):
            if _openssl(args)[0] != 0:
                raise RuntimeError("openssl could not make the OIDC issuer's key")
        with open(self.public_key_path, "rb") as key_file:
            self.public_key = key_file.read()
        self.kid = _b64url(hashlib.sha256(self.public_key).digest())[:32]

    def sign(self, claims):
        header = {"alg": "RS256", "kid": self.kid, "typ": "JWT"}
        signing_input = f"{_b64url(_json_bytes(header))}.{_b64url(_json_bytes(claims))}"
        status, signature = _openssl(["dgst", "-sha256", "-sign", self.key_path],
                                     signing_input.encode("ascii"))
        if status != 0 or not signature:
            raise RuntimeError("openssl could not sign a federated token")
        return f"{signing_input}.{_b64url(signature)}"

    def verify(self, data, signature):
        return _verify(self.public_key, [], data, signature)


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
        self.reason = None  # None: the status's own phrase
        self.body = body if isinstance(body, bytes) else _json_bytes(body)
        self.headers = list(headers or [])


def normalize_fault(spec):
    """Validates a fault description and fills in its defaults; returns a new dict.

    {"kind": one of FAULT_KINDS, "op": one of OPERATIONS or "any",
     "listener": one of LISTENERS or "any" (default: the op's own, OPERATION_LISTENERS),
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
     truncate: acts, then the answer cut and the connection closed "at" (TRUNCATE_POINTS):
             right after the status line, in the middle of the headers, halfway through the
             body (default), or in the middle of a chunk's data (chunked framing);
     oversized: acts, then the answer with one "part" (OVERSIZED_PARTS) "size" bytes long
             (default 20000, 9000 for "token"): the reason phrase, one header, headers
             "x-ms-emulator-pad-N: v" adding up to it, the body (padded with trailing spaces,
             still valid JSON), or the access_token of a token answer;
     one_record: acts, the body padded with trailing spaces so that the whole answer is "size"
             (16384) bytes, sent in one write: one full-size TLS record;
     handshake_close: on a TLS listener (the op's, or "listener"), at the connection's start:
             reads the ClientHello, then closes the TCP connection;
     stall: acts, then silence until the client leaves, the emulator stops, or "seconds"
             (default None: for ever) pass, then an abrupt close;
     trickle: acts, the answer one byte at a time, "interval" (1.0) seconds apart;
     close_delimited: acts, the answer framed by the end of the connection, which is a TLS
             close_notify when "clean" (default false), else a bare TCP close;
     arc_realm: Arc only (op "arc"), fired by a request without Authorization only: the 401
             challenge's realm names a file a client must refuse, by "variant" (default
             "outside"; ARC_REALM_VARIANTS), the file holding a secret the emulator accepts}
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
    if kind == "arc_realm" and op == "any":
        fault["op"] = op = "arc"
    fault.setdefault("listener", "any" if op == "any" else OPERATION_LISTENERS[op])
    if fault["listener"] not in LISTENERS + ("any",):
        raise ValueError(f"fault listener must be one of {LISTENERS + ('any',)}")
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
    elif kind == "truncate":
        fault.setdefault("at", "body")
        if fault["at"] not in TRUNCATE_POINTS:
            raise ValueError(f"truncate at must be one of {TRUNCATE_POINTS}")
    elif kind == "oversized":
        fault.setdefault("part", "body")
        if fault["part"] not in OVERSIZED_PARTS:
            raise ValueError(f"oversized part must be one of {OVERSIZED_PARTS}")
        _option(fault, "size", 9000 if fault["part"] == "token" else 20000, int, 1, MAX_BODY)
    elif kind == "one_record":
        _option(fault, "size", 16384, int, 1024, MAX_BODY)
    elif kind == "handshake_close" and fault["listener"] not in TLS_LISTENERS + ("any",):
        raise ValueError("handshake_close needs a TLS listener")
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
    elif kind == "arc_realm":
        if fault["listener"] not in ("arc", "any") or op != "arc":
            raise ValueError("arc_realm is an Azure Arc answer (op arc)")
        fault.setdefault("variant", "outside")
        if fault["variant"] not in ARC_REALM_VARIANTS:
            raise ValueError(f"arc_realm variant must be one of {ARC_REALM_VARIANTS}")
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


def _oversize(response, part, size):
    """Makes one part of response `size` bytes long (the "oversized" fault)."""
    if part == "status_line":
        response.reason = "OK " + "x" * size
    elif part == "header":
        response.headers.append(("x-ms-emulator-padding", "x" * size))
    elif part == "headers":
        line = len("x-ms-emulator-pad-00000: v\r\n")
        response.headers += [(f"x-ms-emulator-pad-{i:05d}", "v") for i in range(size // line + 1)]
    elif part == "body":
        response.body += b" " * max(0, size - len(response.body))
    else:  # token: a JWT-shaped access_token of size characters, in a body still small
        try:
            answer = json.loads(response.body)
        except ValueError:
            return
        if isinstance(answer, dict) and "access_token" in answer:
            header = _b64url(b'{"alg":"RS256","typ":"JWT"}') + "."
            answer["access_token"] = (header + "A" * size)[:size - 4] + ".sig"
            response.body = _json_bytes(answer)


def _auth_scheme(authorization):
    """The scheme word of an Authorization header, never any part of the credential."""
    if authorization is None:
        return None
    scheme = authorization.split(" ", 1)[0]
    return scheme if scheme.lower() in ("bearer", "basic", "sharedkey", "pop") else "unrecognized"


def _fault_summary(fault):
    keys = ("kind", "op", "status", "act", "retry_after", "retry_after_style", "seconds", "length",
            "entries", "message_length", "interval", "clean", "variant", "at", "part", "size")
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


def _host_is_valid(req, relay_ports=()):
    """One Host header, naming the listener's port (which may be left out only when it is 443,
    or 80 on a plain-HTTP listener) or one of relay_ports."""
    hosts = req.headers.get_all("Host") or []
    match = HOST_HEADER.fullmatch(hosts[0]) if len(hosts) == 1 else None
    default = "80" if req.listener in MI_LISTENERS else "443"
    return bool(match) and (match.group(2) or default) in {str(p) for p in (req.port,
                                                                              *relay_ports)}


def _would_challenge(req):
    """An Arc token request the emulator answers with its 401 challenge (Basic realm=...)."""
    return req.op == "arc" and "Authorization" not in req.headers and \
        (req.headers.get("Metadata") or "").lower() == "true"


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
    """One TLS listener, the handshake in the connection's own thread; or, without ssl_context,
    one plain-HTTP listener (the managed-identity endpoints)."""

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
        if self.ssl_context is None:
            return sock, addr
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
        self.plain = self.server.ssl_context is None
        if self.plain:
            self.request.settimeout(self.emulator.idle_timeout)
            self.tls_ok = True  # nothing to negotiate: ready for requests
            event["tls"] = "none"
            self.emulator._record(event)
            super().setup()
            return
        fault = None if self.emulator._stopping.is_set() else \
            self.emulator._take_fault(self.server.name, "handshake")
        if fault:
            self._close_in_handshake(event, fault)
            super().setup()
            return
        try:
            self.request.settimeout(self.emulator.handshake_timeout)
            self.request.do_handshake()
            self.request.settimeout(self.emulator.idle_timeout)
            self.tls_ok = True
            event.update(tls="ok", tls_version=self.request.version(),
                         cipher=self.request.cipher()[0],
                         resumed=self.request.session_reused,
                         sni=self.emulator._sni.pop(id(self.request), None))
        except (OSError, ssl.SSLError) as exc:
            event.update(tls="failed", error=getattr(exc, "reason", None) or str(exc))
        self.emulator._record(event)
        super().setup()

    def _close_in_handshake(self, event, fault):
        """Reads what the client sent first (its ClientHello), then a bare TCP close."""
        try:
            self.request.settimeout(self.emulator.handshake_timeout)
            hello = socket.socket.recv(self.request, 65536)
            socket.socket.shutdown(self.request, socket.SHUT_RDWR)
        except OSError:
            hello = b""
        event.update(tls="closed", fault=_fault_summary(fault), client_hello_bytes=len(hello))
        self.emulator._record(event)

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
            elif self.tls_ok and not self.plain:
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

    def _head(self, response, chunked, body_length):
        status = response.status
        lines = [f"HTTP/1.1 {status} {response.reason or _reason(status)}",
                 f"Date: {email.utils.formatdate(usegmt=True)}"]
        lines += [f"{name}: {value}" for name, value in response.headers]
        if chunked:
            lines += ["Transfer-Encoding: chunked", "Trailer: x-ms-emulator-trailer"]
        elif self.close_connection and body_length is None:
            pass  # framed by the connection's end
        elif status not in (204, 304):  # these have no body, and 204 must not say a length
            lines.append(f"Content-Length: {body_length}")
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def write_response(self, response, framing="length", chunk_size=16, interval=1.0, at="body",
                       size=16384):
        """framing: "length" (Content-Length), "chunked", "truncate" (cut `at` one of
        TRUNCATE_POINTS, then close), "close" (no length: the end of the connection ends the
        body), "trickle" (like "length", one byte every `interval` seconds) or "one_record"
        (like "length", the body padded with spaces to make the whole answer `size` bytes, sent
        in one write)."""
        chunked = framing == "chunked" or (framing == "truncate" and at == "chunk")
        if framing == "close":
            self.close_connection = True
        payload = response.body
        if framing == "one_record":
            for _round in range(3):  # the Content-Length's own digits count too
                spare = size - len(self._head(response, False, len(payload)))
                payload = response.body + b" " * max(0, spare - len(response.body))
        head = self._head(response, chunked, None if framing == "close" else len(payload))
        body = b"" if self.command == "HEAD" else payload
        parts = [head]
        if chunked:
            for index, start in enumerate(range(0, len(body), chunk_size)):
                piece = body[start:start + chunk_size]
                extension = b';ext="emulator"' if index == 1 else b""
                parts.append(b"%X%s\r\n%s\r\n" % (len(piece), extension, piece))
            parts.append(b"0\r\nx-ms-emulator-trailer: done\r\n\r\n")
        else:
            parts.append(body)
        if framing == "truncate":
            self.close_connection = True
            if at == "status":
                parts = [head[:head.index(b"\r\n") + 2]]
            elif at == "headers":
                after_status = head.index(b"\r\n") + 2
                parts = [head[:after_status + (len(head) - after_status) // 2]]
            elif at == "body":
                parts = [head, body[:len(body) // 2]]
            else:  # halfway through the data of the second chunk (or the only one)
                index = min(2, len(parts) - 2) if len(parts) > 2 else len(parts) - 1
                piece = parts[index]
                data_start = piece.index(b"\r\n") + 2
                parts = parts[:index] + [piece[:data_start + max(1, (len(piece) - data_start
                                                                      - 2) // 2)]]
        if framing == "trickle":
            self._trickle(b"".join(parts), interval)
        elif framing == "one_record":
            self.wfile.write(b"".join(parts))
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
    """The six listeners and the state behind them. Use start()/stop() or `with Emulator(...)`.

    Attributes after start(): login_port, arm_port, batch_port, appservice_port, arc_port,
    imds_port; login_url, arm_url, batch_url (https://localhost:N), appservice_url, arc_url,
    imds_url (http://127.0.0.1:N) and appservice_endpoint, arc_endpoint (what IDENTITY_ENDPOINT
    holds); ca_file; arc_token_dir; log (a copy of all log entries), tenant_id, client_id,
    client_secret, accounts. propagation_delay: the seconds a regenerated key takes to be
    accepted on the data plane, for every account that does not set its own.

    Credentials: client_pki (a directory, made by make_client_pki.sh if need be, whose
    CLIENT_PKI_REGISTERED certificates are registered for the application) and
    client_certificates (more PEM paths to register); federated_identities (None: the one
    DEFAULT_FEDERATED_SUBJECT of FEDERATED_ISSUER for FEDERATED_AUDIENCE; a list of dicts with
    issuer, subject, audiences); reject_replayed_assertions (a certificate assertion's jti is
    accepted once). Managed identity: identity_header (App Service's secret),
    system_assigned_identity (its client id; None: the machine has none), user_assigned_identities
    (client ids), arc_token_dir (None: a temporary directory, removed by stop()). Device code:
    device_code_interval, device_code_lifetime, slow_down_increment (seconds);
    refresh_token_length, single_use_refresh_tokens. TLS: cert (a NAME.crt/NAME.key pair of
    pki_dir), tls_max_version ("1.2"; "1.1" or "1.0": a server clients must refuse),
    tls_security_level (OpenSSL's, e.g. 0 to serve a weak certificate or TLS 1.0/1.1).
    """

    def __init__(self, pki_dir, cert="server", host="127.0.0.1", ipv6=False, login_port=0,
                 arm_port=0, log_path=None, control_path=None, tenant_id=DEFAULT_TENANT_ID,
                 client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, accounts=None,
                 token_lifetime=3599, token_length=1600, tls_max_version=None,
                 tls_security_level=None,
                 idle_timeout=30.0, handshake_timeout=5.0, batch_port=0, propagation_delay=0,
                 client_pki=None, client_certificates=None, federated_identities=None,
                 reject_replayed_assertions=True, appservice_port=0, arc_port=0, imds_port=0,
                 identity_header=DEFAULT_IDENTITY_HEADER,
                 system_assigned_identity=DEFAULT_MI_CLIENT_ID,
                 user_assigned_identities=(DEFAULT_USER_ASSIGNED_CLIENT_ID,), arc_token_dir=None,
                 device_code_interval=5, device_code_lifetime=900, slow_down_increment=5,
                 refresh_token_length=1000, single_use_refresh_tokens=True):
        self.pki_dir = pki_dir
        self.ca_file = os.path.join(pki_dir, "ca.crt")
        self.cert = cert
        self.host, self.ipv6 = host, ipv6
        self.requested_ports = {"login": login_port, "arm": arm_port, "batch": batch_port,
                                "appservice": appservice_port, "arc": arc_port,
                                "imds": imds_port}
        self.log_path, self.control_path = log_path, control_path
        self.tenant_id, self.client_id, self.client_secret = tenant_id, client_id, client_secret
        self.token_lifetime, self.token_length = token_lifetime, token_length
        self.tls_max_version = tls_max_version
        self.tls_security_level = tls_security_level
        self.idle_timeout, self.handshake_timeout = idle_timeout, handshake_timeout
        if accounts is None:
            accounts = [BatchAccount(DEFAULT_ACCOUNT),
                        BatchAccount(DEFAULT_AAD_ONLY_ACCOUNT, auth_modes=["AAD"])]
        for account in accounts:
            if account.propagation_delay is None:
                account.propagation_delay = float(propagation_delay)
        self.accounts = {self._account_key(a.subscription_id, a.resource_group, a.name): a
                         for a in accounts}
        for name in LISTENERS:
            setattr(self, f"{name}_port", None)
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
        self._work = None  # a temporary directory (keys, Arc secrets), made on first use
        # Certificate and federated credentials.
        self._client_certs = []
        self.client_pki = client_pki
        if client_pki:
            make_client_pki(client_pki)
            for name in CLIENT_PKI_REGISTERED:
                self.register_client_certificate(os.path.join(client_pki, name))
        for path in client_certificates or ():
            self.register_client_certificate(path)
        self.reject_replayed_assertions = reject_replayed_assertions
        self._seen_jti = {}  # jti -> until when it is remembered
        self._federated_identities = []
        if federated_identities is None:
            federated_identities = [{"issuer": FEDERATED_ISSUER,
                                     "subject": DEFAULT_FEDERATED_SUBJECT,
                                     "audiences": [FEDERATED_AUDIENCE]}]
        for record in federated_identities:
            self.add_federated_identity(**record)
        self._oidc_issuer = None
        # Managed identity.
        self.identity_header = identity_header
        self.system_assigned_identity = system_assigned_identity
        self.user_assigned_identities = list(user_assigned_identities)
        # Host ports a relay in front of the listeners forwards from (make bench's byte meter).
        self.relay_ports = []
        self._arc_dir_given = arc_token_dir is not None
        self.arc_token_dir = os.path.abspath(arc_token_dir) if arc_token_dir else None
        self._arc_secrets = {}  # secret -> (accepted until, [files to remove])
        # Device code flow and refresh tokens.
        self.device_code_interval = device_code_interval
        self.device_code_lifetime = device_code_lifetime
        self.slow_down_increment = slow_down_increment
        self.refresh_token_length = refresh_token_length
        self.single_use_refresh_tokens = single_use_refresh_tokens
        self._device_flows, self._device_script = [], []
        self._refresh_tokens = {}  # refresh token -> its state (a dict)

    # --- lifecycle --------------------------------------------------------------------------
    def start(self):
        context = self._ssl_context()
        if self.arc_token_dir is None:
            self.arc_token_dir = os.path.join(self._workdir(), "arc-tokens")
        os.makedirs(self.arc_token_dir, exist_ok=True)
        for name in LISTENERS:
            servers = self._bind(name, self.requested_ports[name],
                                 context if name in TLS_LISTENERS else None)
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
        with self._lock:
            for _until, paths in self._arc_secrets.values():
                for path in paths:
                    _remove_quietly(path)
            self._arc_secrets.clear()
            if self._work:
                shutil.rmtree(self._work, ignore_errors=True)
                self._work = None
                if not self._arc_dir_given:
                    self.arc_token_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _workdir(self):
        with self._lock:
            if self._work is None:
                self._work = tempfile.mkdtemp(prefix="batchkey-emulator-")
            return self._work

    @property
    def login_url(self):
        return f"https://localhost:{self.login_port}"

    @property
    def arm_url(self):
        return f"https://localhost:{self.arm_port}"

    @property
    def batch_url(self):
        return f"https://localhost:{self.batch_port}"

    @property
    def appservice_url(self):
        return f"http://127.0.0.1:{self.appservice_port}"

    @property
    def arc_url(self):
        return f"http://127.0.0.1:{self.arc_port}"

    @property
    def imds_url(self):
        return f"http://127.0.0.1:{self.imds_port}"

    @property
    def appservice_endpoint(self):
        """App Service's IDENTITY_ENDPOINT."""
        return self.appservice_url + APPSERVICE_PATH

    @property
    def arc_endpoint(self):
        """Azure Arc's IDENTITY_ENDPOINT (its IMDS_ENDPOINT is arc_url)."""
        return self.arc_url + MI_TOKEN_PATH

    def credential_env(self, kind):
        """The environment that points a client at one credential of this emulator (to add to
        settings() of emulator_env.py, with AZURE_CLIENT_SECRET left out): kind is
        "certificate" (client-rsa.pem of client_pki), "appservice", "arc" or "imds". Workload
        identity needs a token file: write federated_token() to one, then set
        AZURE_FEDERATED_TOKEN_FILE."""
        if kind == "certificate":
            if not self.client_pki:
                raise ValueError("no client_pki: no certificate to point at")
            return {"AZURE_CLIENT_CERTIFICATE_PATH": os.path.join(self.client_pki,
                                                                  "client-rsa.pem")}
        if kind == "appservice":
            return {"IDENTITY_ENDPOINT": self.appservice_endpoint,
                    "IDENTITY_HEADER": self.identity_header}
        if kind == "arc":
            return {"IDENTITY_ENDPOINT": self.arc_endpoint, "IMDS_ENDPOINT": self.arc_url,
                    "BATCHKEY_ARC_TOKEN_DIR": self.arc_token_dir}
        if kind == "imds":
            return {"AZURE_POD_IDENTITY_AUTHORITY_HOST": self.imds_url}
        raise ValueError(f"no credential kind {kind!r}")

    def _ssl_context(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.tls_security_level is not None:
            # OpenSSL's level, lowered: weak certificates and old TLS versions are served.
            context.set_ciphers(f"DEFAULT:@SECLEVEL={int(self.tls_security_level)}")
        if self.tls_max_version == "1.2":
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        elif self.tls_max_version in ("1.0", "1.1"):  # a server too old for any client of ours
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = ssl.TLSVersion.TLSv1
                context.maximum_version = (ssl.TLSVersion.TLSv1 if self.tls_max_version == "1.0"
                                           else ssl.TLSVersion.TLSv1_1)
        context.load_cert_chain(os.path.join(self.pki_dir, f"{self.cert}.crt"),
                                os.path.join(self.pki_dir, f"{self.cert}.key"))

        def remember_sni(ssl_socket, server_name, _context):
            self._sni[id(ssl_socket)] = server_name
        context.sni_callback = remember_sni
        return context

    def _bind(self, name, port, context):
        """The listener on host (and on ::1 with the same port when ipv6 is set); plain HTTP
        when context is None."""
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

    def _take_fault(self, listener, op, req=None):
        with self._lock:
            self._reload_control_file()
            for faults in (self._faults, self._control_faults):
                for fault in list(faults):
                    if fault["listener"] not in ("any", listener) or (
                            fault["op"] not in ("any", op) and op != "handshake"):
                        continue
                    if listener != "arm" and fault["kind"] in ARM_ONLY_KINDS:
                        continue
                    if (fault["kind"] == "handshake_close") != (op == "handshake"):
                        continue
                    if fault["kind"] == "arc_realm" and (listener != "arc" or req is None or
                                                         not _would_challenge(req)):
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
    def issue_token(self, audience=ARM_AUDIENCE, claims_requested=False, app_id=None,
                    user=None):
        """Mints an access token ARM will accept (a fake JWT, unsigned in any useful sense): an
        application's (app_id: the emulator's application by default; a managed identity's
        client id), or, with user, a person's (delegated, scp user_impersonation)."""
        now = int(time.time())
        issuer = f"https://sts.windows.net/{self.tenant_id}/"
        header = {"typ": "JWT", "alg": "RS256", "x5t": _b64url(secrets.token_bytes(20))}
        header["kid"] = header["x5t"]
        payload = {"aud": audience, "iss": issuer, "iat": now, "nbf": now,
                   "exp": now + self.token_lifetime, "aio": "", "appid": app_id or self.client_id,
                   "appidacr": "1", "idp": issuer, "idtyp": "app", "oid": str(uuid.uuid4()),
                   "rh": _b64url(secrets.token_bytes(24)), "sub": str(uuid.uuid4()),
                   "tid": self.tenant_id, "uti": _b64url(secrets.token_bytes(16)), "ver": "1.0",
                   "xms_cc": ["cp1"] if claims_requested else [], "xms_tcdt": now - 86400}
        if user:
            payload.update(idtyp="user", upn=user, unique_name=user, name=user.split("@")[0],
                           scp="user_impersonation", appidacr="0")
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

    # --- certificates and federated identities -----------------------------------------------
    def register_client_certificate(self, path=None, pem=None, name=None):
        """Registers a certificate for the application, as uploading it to the app registration
        does: the first certificate of a PEM file (path) or PEM text (pem); any key beside it is
        ignored. Returns its public facts (thumbprints, dates...); registering twice is a no-op."""
        if (path is None) == (pem is None):
            raise ValueError("give either the path of a PEM file or PEM text")
        if path is not None:
            with open(path, "rb") as pem_file:
                pem = pem_file.read()
            name = name or os.path.basename(path)
        cert = ClientCertificate(pem, name or "certificate")
        with self._lock:
            if all(c.sha256 != cert.sha256 for c in self._client_certs):
                self._client_certs.append(cert)
        return cert.info()

    def client_certificates(self):
        """The registered certificates' public facts (ClientCertificate.info())."""
        with self._lock:
            return [c.info() for c in self._client_certs]

    def clear_client_certificates(self):
        with self._lock:
            self._client_certs.clear()

    def add_federated_identity(self, issuer, subject, audiences=(FEDERATED_AUDIENCE,), name=None):
        """Registers a federated identity credential for the application (Graph's
        federatedIdentityCredential: issuer, subject, audiences, matched case-sensitively)."""
        if isinstance(audiences, str):
            audiences = [audiences]
        if not all(isinstance(v, str) and v for v in [issuer, subject] + list(audiences)) \
                or not audiences:
            raise ValueError("issuer, subject and audiences must be non-empty strings")
        with self._lock:
            record = {"name": name or f"federated-{len(self._federated_identities) + 1}",
                      "issuer": issuer, "subject": subject, "audiences": list(audiences)}
            self._federated_identities.append(record)
            return dict(record)

    def federated_identities(self):
        with self._lock:
            return [dict(r, audiences=list(r["audiences"])) for r in self._federated_identities]

    def clear_federated_identities(self):
        with self._lock:
            self._federated_identities.clear()

    def federated_token(self, subject=DEFAULT_FEDERATED_SUBJECT, audience=FEDERATED_AUDIENCE,
                        lifetime=3600, not_before=None, issuer=FEDERATED_ISSUER, claims=None):
        """A token of the emulator's OIDC issuer, shaped like a Kubernetes projected service
        account token (what AZURE_FEDERATED_TOKEN_FILE holds): RS256 with a kid; claims iss,
        sub, aud (a list, as Kubernetes writes it, unless audience is given as a list already),
        iat = nbf = not_before (seconds since the epoch; default now), exp = nbf + lifetime,
        jti; `claims` adds or replaces claims. Always signed with the emulator's own key, even
        when `issuer` names another issuer."""
        with self._lock:
            if self._oidc_issuer is None:
                self._oidc_issuer = _OidcIssuer(self._workdir())
            oidc = self._oidc_issuer
        start = int(time.time() if not_before is None else not_before)
        payload = {"aud": list(audience) if isinstance(audience, (list, tuple)) else [audience],
                   "exp": start + int(lifetime), "iat": start, "iss": issuer, "nbf": start,
                   "sub": subject, "jti": str(uuid.uuid4()),
                   "kubernetes.io": {"namespace": subject.split(":")[2] if subject.count(":") >= 3
                                     else "default"}}
        payload.update(claims or {})
        return oidc.sign(payload)

    # --- settings --------------------------------------------------------------------------------
    SETTINGS = ("device_code_interval", "device_code_lifetime", "slow_down_increment",
                "refresh_token_length", "single_use_refresh_tokens", "reject_replayed_assertions",
                "identity_header", "system_assigned_identity", "user_assigned_identities",
                "relay_ports")

    def settings(self):
        with self._lock:
            return {name: getattr(self, name) for name in self.SETTINGS}

    def configure(self, **changes):
        """Changes any of SETTINGS (POST /_emulator/settings); ValueError on a bad value."""
        def seconds(value):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not 0 <= value < float("inf"):
                raise ValueError("not a number of seconds")
            return value

        def optional_id(value):
            if value is not None and not (isinstance(value, str) and value):
                raise ValueError("not a client id or null")
            return value

        def ids(value):
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ValueError("not a list of client ids")
            return list(value)

        def length(value):
            if isinstance(value, bool) or not isinstance(value, int) or not 16 <= value <= MAX_BODY:
                raise ValueError("not a length from 16")
            return value

        def ports(value):
            if not isinstance(value, list) or not all(
                    isinstance(v, int) and not isinstance(v, bool) and 0 < v < 65536
                    for v in value):
                raise ValueError("not a list of TCP ports")
            return list(value)

        def text(value):
            if not isinstance(value, str) or not value:
                raise ValueError("not a non-empty string")
            return value

        checks = {"device_code_interval": seconds, "device_code_lifetime": seconds,
                  "slow_down_increment": seconds, "refresh_token_length": length,
                  "single_use_refresh_tokens": _strict_bool,
                  "reject_replayed_assertions": _strict_bool, "identity_header": text,
                  "system_assigned_identity": optional_id, "user_assigned_identities": ids,
                  "relay_ports": ports}
        checked = {}
        for name, value in changes.items():
            if name not in checks:
                raise ValueError(f"no setting {name!r}; the settings are {self.SETTINGS}")
            try:
                checked[name] = checks[name](value)
            except ValueError as exc:
                raise ValueError(f"setting {name}: {exc}") from None
        with self._lock:
            for name, value in checked.items():
                setattr(self, name, value)
        return self.settings()

    # --- device code flow ------------------------------------------------------------------------
    def device_flows(self):
        """Every device code flow so far (never its device code): flow (its number), user_code,
        state (pending, approved, declined, expired, redeemed), interval (seconds, grown by
        each slow_down), polls, client_id, scope, user."""
        with self._lock:
            return [{k: f[k] for k in ("flow", "user_code", "state", "interval", "polls",
                                       "client_id", "scope", "user")}
                    for f in self._device_flows]

    def _find_flow(self, code):
        """The flow whose user code or device code is `code`, or, for None, the newest pending
        one; KeyError when there is none."""
        with self._lock:
            for flow in reversed(self._device_flows):
                if code is None and flow["state"] == "pending" or code is not None and (
                        code.upper() == flow["user_code"] or code == flow["device_code"]):
                    return flow
        raise KeyError("no such device code flow" if code else "no pending device code flow")

    def approve(self, user_code=None, user=DEFAULT_USER):
        """The user signs in and approves the flow of user_code (None: the newest pending one):
        its next poll gets the tokens. Returns the flow's number."""
        return self._settle_flow(user_code, "approved", user)

    def decline(self, user_code=None):
        """The user declines: the flow's polls get authorization_declined."""
        return self._settle_flow(user_code, "declined")

    def expire(self, code=None):
        """The flow (by user code or device code; None: the newest pending one) expires: its
        polls get expired_token."""
        with self._lock:
            flow = self._find_flow(code)
            if flow["state"] not in ("pending", "approved"):
                raise ValueError(f"the flow is {flow['state']}")
            flow["state"] = "expired"
            return flow["flow"]

    def _settle_flow(self, user_code, state, user=None):
        with self._lock:
            flow = self._find_flow(user_code)
            if flow["state"] != "pending":
                raise ValueError(f"the flow is {flow['state']}, not pending")
            if time.time() > flow["expires_at"]:
                flow["state"] = "expired"
                raise ValueError("the flow has expired")
            flow["state"] = state
            flow["user"] = user
            return flow["flow"]

    def script_device_flow(self, steps):
        """What the next polls of pending flows get, one step each, in order, instead of the
        usual pending or slow_down: "pending", "slow_down" (and the interval grows),
        "approve" (the tokens), "decline" or "expire". Replaces the previous script."""
        if isinstance(steps, str) or not all(step in DEVICE_FLOW_STEPS for step in steps):
            raise ValueError(f"each step must be one of {DEVICE_FLOW_STEPS}")
        with self._lock:
            self._device_script = list(steps)

    # --- refresh tokens --------------------------------------------------------------------------
    def _new_refresh_token(self, client_id, user, resource):
        with self._lock:
            token = "1.A" + secrets.token_urlsafe(self.refresh_token_length)
            token = token[:self.refresh_token_length]
            now = time.time()
            self._refresh_tokens[token] = {
                "number": len(self._refresh_tokens) + 1, "client_id": client_id, "user": user,
                "resource": resource, "issued": now, "expires_at": now + REFRESH_TOKEN_LIFETIME,
                "state": "active"}
            return token

    def issue_refresh_token(self, user=DEFAULT_USER, client_id=None, resource=ARM_AUDIENCE):
        """A refresh token as a completed device code flow would leave (to seed a client's
        state); client_id: the emulator's application by default."""
        return self._new_refresh_token(client_id or self.client_id, user, resource)

    def refresh_tokens(self):
        """Every refresh token's state (never the token): number, user, client_id, state
        (active, rotated, revoked), expired."""
        now = time.time()
        with self._lock:
            return [{"number": e["number"], "user": e["user"], "client_id": e["client_id"],
                     "state": e["state"], "expired": e["expires_at"] <= now}
                    for e in self._refresh_tokens.values()]

    def revoke_refresh_tokens(self):
        """Revokes every active refresh token (a password reset, an admin's revocation): they
        get invalid_grant AADSTS50173. Returns how many."""
        return self._change_refresh_tokens(state="revoked")

    def expire_refresh_tokens(self):
        """Every active refresh token has been inactive too long: invalid_grant AADSTS700082."""
        return self._change_refresh_tokens(expires_at=0)

    def _change_refresh_tokens(self, **change):
        with self._lock:
            active = [e for e in self._refresh_tokens.values() if e["state"] == "active"]
            for entry in active:
                entry.update(change)
            return len(active)

    # --- serving --------------------------------------------------------------------------------
    def _serve(self, handler, req):
        if req.listener == "arm" and req.path.startswith("/_emulator/"):
            response = self._admin(req)
            self._record(self._entry(handler, req, response.status, None))
            handler.write_response(response)
            return
        req.op = self._classify(req)
        if not _host_is_valid(req, self.relay_ports):
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
        fault = None if self._stopping.is_set() else self._take_fault(req.listener, req.op, req)
        kind = fault["kind"] if fault else None
        if kind == "long_ids":
            req.request_id = _long_id(fault["length"])
            req.correlation_id = _long_id(fault["length"])
        if kind == "drop_before":
            response = None
        elif kind in ARM_ONLY_KINDS or (kind == "status" and not fault["act"]):
            response = self._fault_response(req, fault)
        elif kind == "arc_realm":
            response = self._arc(req, fault["variant"])
        else:
            serve = {"login": self._login, "arm": self._arm, "batch": self._batch,
                     "appservice": self._appservice, "arc": self._arc,
                     "imds": self._imds}[req.listener]
            response = serve(req)
            if kind == "malformed":
                response = Response(200, fault["body"].encode("utf-8"), response.headers)
            elif kind == "oversized":
                _oversize(response, fault["part"], fault["size"])
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
                   "trickle": "trickle", "one_record": "one_record"}.get(kind, "length")
        fault = fault or {}
        handler.write_response(response, framing, fault.get("chunk_size", 16),
                               fault.get("interval", 1.0), fault.get("at", "body"),
                               fault.get("size", 16384))

    @staticmethod
    def _classify(req):
        if req.listener == "login":
            return ("token" if TOKEN_PATH.fullmatch(req.path) else
                    "devicecode" if DEVICECODE_PATH.fullmatch(req.path) else "other")
        if req.listener == "batch":
            return "applications" if req.path == "/applications" else "other"
        if req.listener == "appservice":
            return "appservice" if req.path == APPSERVICE_PATH else "other"
        if req.listener in ("arc", "imds"):
            return req.listener if req.path == MI_TOKEN_PATH else "other"
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
        if req.listener in MI_LISTENERS:
            error = fault.get("code") or {
                404: "not_found", 410: "gone", 429: "too_many_requests", 500: "unknown_error",
                503: "service_unavailable"}.get(status, _reason(status).lower().replace(" ", "_"))
            message = fault.get("message") or {
                404: "Identity not yet available. Retry later.",
                410: "The identity endpoint is being updated. Retry later.",
                429: "Too many requests. Retry later.",
                500: "An unexpected error occurred while fetching the AAD token.",
            }.get(status, f"Emulated failure ({status}).")
            return self._mi_error(req, status, error, message, extra)
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
                   "batch": self._batch_headers, "appservice": self._mi_headers,
                   "arc": self._mi_headers, "imds": self._mi_headers}[req.listener](req)
        headers = [h for h in headers if h[0] != "Content-Type"] + list(extra_headers)
        if req.listener in ("batch",) + MI_LISTENERS and (status == 202 or 300 <= status < 400):
            base = self.batch_url if req.listener == "batch" else \
                getattr(self, f"{req.listener}_url")
            headers.append(("Location", f"{base}{req.path}"
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

    def _login(self, req):
        if req.op == "devicecode":
            return self._devicecode_endpoint(req)
        return self._token_endpoint(req)

    def _login_request(self, req, match):
        """(the form, None) for a POST to a tenant of the emulator; else (None, its error)."""
        if req.method != "POST":
            return None, self._entra_error(req, 400, "invalid_request", 900561,
                                           "The endpoint only accepts POST, OPTIONS requests. "
                                           f"Received a {req.method} request.")
        tenant = urllib.parse.unquote(match.group(1))
        req.details["tenant"] = tenant
        if tenant.lower() != self.tenant_id.lower():
            return None, self._entra_error(req, 400, "invalid_request", 90002,
                                           f"Tenant '{tenant}' not found. Check to make sure you "
                                           "have the correct tenant ID and are signing into the "
                                           "correct cloud.")
        form = {}
        content_type = req.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            pairs = urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"),
                                           keep_blank_values=True)
            form = {name: value for name, value in reversed(pairs)}
        req.details.update(form_fields=sorted(form), grant_type=form.get("grant_type"),
                           client_id=form.get("client_id"), scope=form.get("scope"))
        return form, None

    def _missing(self, req, name):
        return self._entra_error(req, 400, "invalid_request", 900144,
                                 "The request body must contain the following parameter: "
                                 f"'{name}'.")

    def _unknown_client(self, req, client_id):
        return self._entra_error(req, 400, "unauthorized_client", 700016,
                                 f"Application with identifier '{client_id}' was not found in "
                                 f"the directory '{req.details['tenant']}'. This can happen if "
                                 "the application has not been installed by the administrator "
                                 "of the tenant or consented to by any user in the tenant. You "
                                 "may have sent your authentication request to the wrong "
                                 "tenant.")

    def _arm_resources(self):
        """The resources a token may be for: ARM, and the emulated ARM endpoint itself."""
        return (ARM_AUDIENCE, f"https://localhost:{self.arm_port}",
                f"https://127.0.0.1:{self.arm_port}")

    def _user_scopes(self, scope):
        """(resource, whether offline_access is asked) of a delegated scope list such as
        "https://management.azure.com/user_impersonation offline_access"; ValueError naming
        the first scope that is not an ARM one (or the whole list, without any)."""
        scopes = scope.split()
        resources = set()
        for item in scopes:
            if item in OIDC_SCOPES:
                continue
            resource, _, permission = item.rpartition("/")
            if permission not in ("user_impersonation", ".default") or \
                    resource.rstrip("/") not in self._arm_resources():
                raise ValueError(item)
            resources.add(resource.rstrip("/"))
        if len(resources) != 1:
            raise ValueError(scope)
        return resources.pop(), "offline_access" in scopes

    def _invalid_scope(self, req, scope):
        return self._entra_error(req, 400, "invalid_scope", 70011,
                                 "The provided value for the input parameter 'scope' is not "
                                 f"valid. The scope {scope} is not valid.")

    def _claims_failure(self, req, form):
        if "claims" in form:
            try:
                claims = json.loads(form["claims"])
            except ValueError:
                return self._entra_error(req, 400, "invalid_request", 9002313,
                                         "Invalid request. The 'claims' parameter is not JSON.")
            access = claims.get("access_token") if isinstance(claims, dict) else None
            access = access if isinstance(access, dict) else {}
            capabilities = access.get("xms_cc", {})
            values = capabilities.get("values") if isinstance(capabilities, dict) else None
            req.details["client_capabilities"] = values if isinstance(values, list) else None
            # A CAE challenge's claims (what the 401_claims fault asks for) besides xms_cc.
            req.details["claims_challenge_answered"] = any(k != "xms_cc" for k in access)
        return None

    def _token_endpoint(self, req):
        match = TOKEN_PATH.fullmatch(req.path)
        if not match:
            return Response(404, b"", self._entra_headers(req))
        form, failure = self._login_request(req, match)
        if failure:
            return failure
        for name in ("grant_type", "client_id"):
            if not form.get(name):
                return self._missing(req, name)
        grant = form["grant_type"]
        if grant == "client_credentials" and not form.get("scope"):
            return self._missing(req, "scope")
        if grant not in ("client_credentials", DEVICE_CODE_GRANT, "refresh_token"):
            return self._entra_error(req, 400, "unsupported_grant_type", 70003,
                                     f"The app requested an unsupported grant type '{grant}'.")
        if form["client_id"].lower() != self.client_id.lower():
            return self._unknown_client(req, form["client_id"])
        if grant == DEVICE_CODE_GRANT:
            return self._device_code_grant(req, form)
        if grant == "refresh_token":
            return self._refresh_token_grant(req, form)
        scope = form["scope"]
        resource = scope[:-len("/.default")] if scope.endswith("/.default") else None
        if resource is None:
            return self._entra_error(req, 400, "invalid_scope", 1002012,
                                     f"The provided value for scope {scope} is not valid. Client "
                                     "credential flows must have a scope value with /.default "
                                     "suffixed to the resource identifier (application ID URI).")
        if resource.rstrip("/") not in self._arm_resources():
            return self._entra_error(req, 400, "invalid_resource", 500011,
                                     f"The resource principal named {resource} was not found in "
                                     f"the tenant named {req.details['tenant']}.")
        failure = self._check_client_credential(req, form) or self._claims_failure(req, form)
        if failure:
            return failure
        token = self.issue_token(resource.rstrip("/"), claims_requested="claims" in form)
        body = {"token_type": "Bearer", "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime, "access_token": token}
        return Response(200, body, self._entra_headers(req))

    # --- client credentials: secret, certificate assertion, federated token ---------------------
    def _check_client_credential(self, req, form):
        """None when the secret or the client assertion (a certificate's, verified against the
        registered certificates, or a federated token) is acceptable; else Entra's error."""
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
        req.details["credential"] = "assertion"  # until it is known which kind
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            return self._entra_error(req, 400, "invalid_request", 900144,
                                     "The request body must contain the following parameter: "
                                     f"'client_assertion_type' ({CLIENT_ASSERTION_TYPE}).")
        try:
            header, claims, signing_input, signature = parse_jwt(assertion)
        except JwtError as exc:
            req.details["assertion_error"] = f"malformed: {exc}"
            return self._entra_error(req, 401, "invalid_client", 50027,
                                     "JWT token is invalid or malformed.")
        if "x5t" not in header and "x5t#S256" not in header and \
                claims.get("iss") != form["client_id"]:
            return self._check_federated_token(req, form, header, claims, signing_input,
                                               signature)
        return self._check_certificate_assertion(req, form, header, claims, signing_input,
                                                 signature)

    def _assertion_failure(self, req, code, error, message):
        req.details["assertion_error"] = error
        return self._entra_error(req, 401, "invalid_client", code, message)

    @staticmethod
    def _time_range(now, nbf, exp):
        stamp = "%Y-%m-%dT%H:%M:%S.0000000Z"
        return (f"Current time: {time.strftime(stamp, time.gmtime(now))}, assertion valid from "
                f"{time.strftime(stamp, time.gmtime(nbf))}, expiry time of assertion "
                f"{time.strftime(stamp, time.gmtime(exp))}.")

    def _check_certificate_assertion(self, req, form, header, claims, signing_input, signature):
        alg = header.get("alg")
        req.details.update(credential="certificate", assertion_alg=alg,
                           assertion_x5c="x5c" in header)
        malformed = "JWT token is invalid or malformed."
        if alg not in ASSERTION_ALGS:
            return self._assertion_failure(req, 50027, "unsupported_alg",
                                           f"{malformed} The signing algorithm '{alg}' is not "
                                           f"supported: use {', '.join(ASSERTION_ALGS)}.")
        typ = header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
            return self._assertion_failure(req, 50027, "bad_typ", malformed)
        thumbprints = {}
        for name, size in (("x5t#S256", 32), ("x5t", 20)):
            if name in header:
                try:
                    thumbprints[name] = _b64url_decode(header[name])
                except JwtError:
                    thumbprints[name] = b""
                if len(thumbprints[name]) != size:
                    return self._assertion_failure(req, 50027, f"bad_{name}",
                                                   f"{malformed} The header's {name} is not the "
                                                   f"unpadded base64url of a {size}-byte hash.")
        if not thumbprints:
            return self._assertion_failure(req, 50027, "no_thumbprint",
                                           f"{malformed} The header names no key: it needs "
                                           "x5t#S256 (or x5t).")
        req.details["assertion_thumbprint"] = next(iter(thumbprints))
        for name in ("aud", "iss", "sub", "jti", "nbf", "iat", "exp"):
            if name not in claims:
                return self._assertion_failure(req, 50027, f"missing_claim:{name}",
                                               f"{malformed} The claim '{name}' is missing.")
        for name in ("nbf", "iat", "exp"):
            if not isinstance(claims[name], int) or isinstance(claims[name], bool):
                return self._assertion_failure(req, 50027, f"claim_not_integer:{name}",
                                               f"{malformed} The claim '{name}' is not an "
                                               "integer number of seconds.")
        if not isinstance(claims["jti"], str) or not GUID.fullmatch(claims["jti"]):
            return self._assertion_failure(req, 50027, "jti_not_uuid",
                                           f"{malformed} The claim 'jti' is not a UUID.")
        shown = next(iter(thumbprints.values())).hex().upper()
        with self._lock:
            cert = next((c for c in self._client_certs
                         if thumbprints.get("x5t#S256", c.sha256) == c.sha256
                         and thumbprints.get("x5t", c.sha1) == c.sha1), None)
        if cert is None:
            return self._assertion_failure(
                req, 700027, "key_not_found",
                "Client assertion contains an invalid signature. [Reason - The key was not "
                f"found., Thumbprint of key used by client: '{shown}', Please visit the Azure "
                "Portal, Graph Explorer or directly use MS Graph to see configured keys for app "
                f"Id '{self.client_id}'.]")
        req.details["assertion_certificate"] = cert.name
        found = f"Thumbprint of key used by client: '{shown}', Found key '{cert.validity()}'"
        now = time.time()
        if cert.not_after < now:
            return self._assertion_failure(req, 700027, "certificate_expired",
                                           "Client assertion contains an invalid signature. "
                                           f"[Reason - The key used is expired., {found}]")
        if cert.not_before > now + ASSERTION_SKEW:
            return self._assertion_failure(req, 700027, "certificate_not_yet_valid",
                                           "Client assertion contains an invalid signature. "
                                           f"[Reason - The key used is not yet valid., {found}]")
        problem = cert.verify(alg, signing_input, signature)
        if problem:
            return self._assertion_failure(req, 700027, problem,
                                           "Client assertion contains an invalid signature. "
                                           "[Reason - The provided signature value did not "
                                           f"match the expected signature value., {found}]")
        if "x5c" in header:
            failure = self._check_x5c(req, header["x5c"], cert, found)
            if failure:
                return failure
        if claims["iss"] != form["client_id"] or claims["sub"] != form["client_id"]:
            return self._assertion_failure(req, 700021, "iss_sub_mismatch",
                                           "Client assertion application identifier doesn't "
                                           "match 'client_id' parameter. Review the "
                                           "documentation at https://learn.microsoft.com/entra/"
                                           "identity-platform/certificate-credentials .")
        tenant = req.details["tenant"]
        path = f"/{tenant}/oauth2/v2.0/token".lower()
        accepted = {f"https://{h}{path}" for h in (
            (req.headers.get("Host") or "").lower(), "login.microsoftonline.com",
            f"localhost:{self.login_port}", f"127.0.0.1:{self.login_port}")}
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if not any(isinstance(a, str) and a.lower() in accepted for a in audiences):
            return self._assertion_failure(req, 50012, "aud_mismatch",
                                           "Client assertion audience claim does not match "
                                           "Realm issuer.")
        nbf, iat, exp = claims["nbf"], claims["iat"], claims["exp"]
        if exp <= nbf or exp - nbf > ASSERTION_MAX_LIFETIME:
            return self._assertion_failure(req, 700024, "lifetime",
                                           "Client assertion is not within its valid time "
                                           f"range. {self._time_range(now, nbf, exp)} Its "
                                           f"lifetime (exp - nbf) is {exp - nbf} seconds: at "
                                           f"most {ASSERTION_MAX_LIFETIME} are accepted.")
        if now < nbf - ASSERTION_SKEW or now > exp + ASSERTION_SKEW or \
                iat > now + ASSERTION_SKEW:
            return self._assertion_failure(req, 700024, "time_window",
                                           "Client assertion is not within its valid time "
                                           f"range. {self._time_range(now, nbf, exp)} Review "
                                           "the documentation at https://learn.microsoft.com/"
                                           "entra/identity-platform/certificate-credentials .")
        with self._lock:
            self._seen_jti = {j: t for j, t in self._seen_jti.items() if t > now}
            reused = claims["jti"] in self._seen_jti
            self._seen_jti[claims["jti"]] = exp + ASSERTION_SKEW
        req.details["assertion_jti_reused"] = reused
        if reused and self.reject_replayed_assertions:
            return self._assertion_failure(req, 50013, "jti_replayed",
                                           "Assertion is invalid because its jti was already "
                                           "used: each client assertion is good for one "
                                           "request.")
        return None

    def _check_x5c(self, req, x5c, cert, found):
        """The x5c header: standard base64 DER certificates, the registered one first, each
        issued by the next."""
        try:
            if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
                raise ValueError("not a list of strings")
            chain = [base64.b64decode(c, validate=True) for c in x5c]
        except ValueError:
            return self._assertion_failure(req, 50027, "x5c_malformed",
                                           "JWT token is invalid or malformed. The header's "
                                           "x5c is not a list of base64 DER certificates.")
        req.details["assertion_x5c_length"] = len(chain)
        if chain[0] != cert.der:
            return self._assertion_failure(req, 700027, "x5c_leaf_mismatch",
                                           "Client assertion contains an invalid signature. "
                                           "[Reason - The first certificate of x5c is not the "
                                           f"key used., {found}]")
        for index in range(len(chain) - 1):
            if not _issued_by(chain[index], chain[index + 1]):
                return self._assertion_failure(req, 700027, "x5c_chain",
                                               "Client assertion contains an invalid "
                                               f"signature. [Reason - x5c[{index}] is not "
                                               f"issued by x5c[{index + 1}]., {found}]")
        return None

    def _check_federated_token(self, req, form, header, claims, signing_input, signature):
        """A client assertion that is a federated token (workload identity): an OIDC issuer's
        token matching a federated identity credential of the application."""
        req.details.update(credential="workload", assertion_alg=header.get("alg"),
                           assertion_x5c="x5c" in header)
        issuer, subject = claims.get("iss"), claims.get("sub")
        req.details.update(federated_issuer=issuer if isinstance(issuer, str) else None,
                           federated_subject=subject if isinstance(subject, str) else None)
        malformed = "JWT token is invalid or malformed."
        for name in ("exp", "nbf", "iat"):
            if (name == "exp" or name in claims) and (
                    not isinstance(claims.get(name), int) or isinstance(claims[name], bool)):
                return self._assertion_failure(req, 50027, f"claim_not_integer:{name}",
                                               f"{malformed} The claim '{name}' is missing or "
                                               "not an integer number of seconds.")
        documentation = ("Please note that the matching is done using a case-sensitive "
                         "comparison. Check your federated identity credential Subject, "
                         "Audience and Issuer against the presented assertion. "
                         "https://learn.microsoft.com/entra/workload-id/"
                         "workload-identity-federation")
        with self._lock:
            records = [r for r in self._federated_identities if r["issuer"] == issuer]
            oidc = self._oidc_issuer
        if not records:
            return self._assertion_failure(req, 700211, "issuer_not_registered",
                                           "No matching federated identity record found for "
                                           f"presented assertion issuer '{issuer}'. "
                                           f"{documentation}")
        if header.get("alg") != "RS256" or oidc is None or issuer != oidc.issuer or \
                not oidc.verify(signing_input, signature):
            return self._assertion_failure(req, 50027, "bad_signature",
                                           "Invalid JWT token. The token from issuer "
                                           f"'{issuer}' failed signature verification.")
        now = time.time()
        exp, nbf = claims["exp"], claims.get("nbf", claims.get("iat", claims["exp"] - 1))
        if now < nbf - ASSERTION_SKEW or now > exp + ASSERTION_SKEW:
            return self._assertion_failure(req, 700024, "time_window",
                                           "Client assertion is not within its valid time "
                                           f"range. {self._time_range(now, nbf, exp)} Review "
                                           "the documentation at https://learn.microsoft.com/"
                                           "entra/workload-id/workload-identity-federation .")
        records = [r for r in records if r["subject"] == subject]
        if not records:
            return self._assertion_failure(req, 700213, "subject_not_registered",
                                           "No matching federated identity record found for "
                                           f"presented assertion subject '{subject}'. "
                                           f"{documentation}")
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else \
            [claims.get("aud")]
        if not any(a in r["audiences"] for r in records for a in audiences):
            shown = ", ".join(str(a) for a in audiences)
            return self._assertion_failure(req, 700212, "audience_not_registered",
                                           "No matching federated identity record found for "
                                           f"presented assertion audience '{shown}'. "
                                           f"{documentation}")
        return None

    # --- device code flow and refresh tokens ---------------------------------------------------
    def _devicecode_endpoint(self, req):
        form, failure = self._login_request(req, DEVICECODE_PATH.fullmatch(req.path))
        if failure:
            return failure
        for name in ("client_id", "scope"):
            if not form.get(name):
                return self._missing(req, name)
        if form["client_id"].lower() != self.client_id.lower():
            return self._unknown_client(req, form["client_id"])
        try:
            resource, offline = self._user_scopes(form["scope"])
        except ValueError as exc:
            return self._invalid_scope(req, str(exc))
        now = time.time()
        with self._lock:
            user_code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(9))
            flow = {"flow": len(self._device_flows) + 1, "user_code": user_code,
                    "device_code": ("DAQABIQEAAAD" + secrets.token_urlsafe(
                        DEVICE_CODE_LENGTH))[:DEVICE_CODE_LENGTH],
                    "state": "pending", "interval": self.device_code_interval, "polls": 0,
                    "client_id": form["client_id"], "scope": form["scope"], "user": None,
                    "resource": resource, "offline": offline, "issued": now,
                    "last_poll": None, "expires_at": now + self.device_code_lifetime}
            self._device_flows.append(flow)
        req.details.update(device_flow=flow["flow"], offline_access=offline)
        interval = flow["interval"]
        body = {"user_code": user_code, "device_code": flow["device_code"],
                "verification_uri": DEVICE_VERIFICATION_URI,
                "expires_in": int(self.device_code_lifetime),
                "interval": int(interval) if float(interval).is_integer() else interval,
                "message": f"To sign in, use a web browser to open the page "
                           f"{DEVICE_VERIFICATION_URI} and enter the code {user_code} to "
                           "authenticate."}
        return Response(200, body, self._entra_headers(req))

    def _poll(self, flow, now):
        """One poll of a flow: what it gets (pending, slow_down, approved, declined, expired,
        redeemed) and the seconds since the previous poll (or since the flow began)."""
        with self._lock:
            gap = now - (flow["last_poll"] or flow["issued"])
            flow["polls"] += 1
            flow["last_poll"] = now
            if flow["state"] in ("pending", "approved") and now > flow["expires_at"]:
                flow["state"] = "expired"
            if flow["state"] == "pending":
                step = self._device_script.pop(0) if self._device_script else None
                if step == "approve":
                    flow.update(state="approved", user=DEFAULT_USER)
                elif step in ("decline", "expire"):
                    flow["state"] = {"decline": "declined", "expire": "expired"}[step]
                elif step == "slow_down" or (
                        step is None and gap < flow["interval"] - POLL_TOLERANCE):
                    flow["interval"] += self.slow_down_increment
                    return "slow_down", gap
                else:
                    return "pending", gap
            if flow["state"] == "approved":
                flow["state"] = "redeemed"
                return "approved", gap
            return flow["state"], gap

    def _device_code_grant(self, req, form):
        code = form.get("device_code")
        if not code:
            return self._missing(req, "device_code")
        with self._lock:
            flow = next((f for f in self._device_flows
                         if secrets.compare_digest(f["device_code"].encode(),
                                                   code.encode("utf-8", "replace"))), None)
        if flow is None:
            req.details["device_flow_state"] = "unknown"
            return self._entra_error(req, 400, "bad_verification_code", 70018,
                                     "The provided value for the input parameter 'device_code' "
                                     "is not valid.")
        req.details["device_flow"] = flow["flow"]
        req.details["credential"] = "device_code"
        if flow["client_id"].lower() != form["client_id"].lower():
            req.details["device_flow_state"] = "other_client"
            return self._entra_error(req, 400, "invalid_grant", 70000,
                                     "Provided grant is invalid or malformed: the device code "
                                     "was issued to another application.")
        if "client_secret" in form or "client_assertion" in form:
            failure = self._check_client_credential(req, form)
            if failure:
                return failure
        failure = self._claims_failure(req, form)
        if failure:
            return failure
        answer, gap = self._poll(flow, time.time())
        req.details.update(device_flow_state=answer, device_poll=flow["polls"],
                           device_poll_gap=round(gap, 3), device_interval=flow["interval"])
        if answer == "pending":
            return self._entra_error(req, 400, "authorization_pending", 70016,
                                     "OAuth 2.0 device flow error. Authorization is pending. "
                                     "Continue polling.")
        if answer == "slow_down":
            return self._entra_error(req, 400, "slow_down", 70016,
                                     "OAuth 2.0 device flow error. Authorization is pending, "
                                     "and polls come too often: wait at least "
                                     f"{flow['interval']} seconds between them.")
        if answer == "declined":
            return self._entra_error(req, 400, "authorization_declined", 65004,
                                     "User declined to consent to access the app.")
        if answer == "expired":
            return self._entra_error(req, 400, "expired_token", 70020,
                                     "The provided value for the input parameter 'device_code' "
                                     "is not valid. This device code has expired.")
        if answer == "redeemed":
            return self._entra_error(req, 400, "invalid_grant", 70000,
                                     "Provided grant is invalid or malformed: the device code "
                                     "was already redeemed.")
        return self._user_tokens(req, form, flow["client_id"], flow["user"], flow["resource"],
                                 flow["offline"])

    def _user_tokens(self, req, form, client_id, user, resource, offline):
        token = self.issue_token(resource, claims_requested="claims" in form, user=user)
        body = {"token_type": "Bearer", "scope": f"{resource}/user_impersonation",
                "expires_in": self.token_lifetime, "ext_expires_in": self.token_lifetime,
                "access_token": token}
        if offline:
            body["refresh_token"] = self._new_refresh_token(client_id, user, resource)
        req.details["refresh_token_issued"] = offline
        return Response(200, body, self._entra_headers(req))

    def _refresh_token_grant(self, req, form):
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            return self._missing(req, "refresh_token")
        req.details["credential"] = "refresh_token"
        if "client_secret" in form or "client_assertion" in form:
            failure = self._check_client_credential(req, form)
            if failure:
                return failure
        now = time.time()
        with self._lock:
            entry = self._refresh_tokens.get(refresh_token)
            state = entry["state"] if entry else "unknown"
            if entry and state == "active" and entry["expires_at"] <= now:
                state = "expired"
            if entry and state == "active" and entry["client_id"].lower() != \
                    form["client_id"].lower():
                state = "other_client"
        req.details["refresh_token_state"] = state
        if entry:
            req.details["refresh_token_number"] = entry["number"]
        if state == "revoked":
            issued = time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(entry["issued"]))
            return self._entra_error(req, 400, "invalid_grant", 50173,
                                     "The provided grant has expired due to it being revoked, "
                                     "a fresh auth token is needed. The user might have "
                                     "changed or reset their password. The grant was issued on "
                                     f"'{issued}'.")
        if state == "expired":
            issued = time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(entry["issued"]))
            return self._entra_error(req, 400, "invalid_grant", 700082,
                                     "The refresh token has expired due to inactivity. The "
                                     f"token was issued on {issued} and was inactive for "
                                     "90.00:00:00.")
        if state != "active":
            return self._entra_error(req, 400, "invalid_grant", 70000,
                                     "Provided grant is invalid or malformed.")
        resource = entry["resource"]
        if form.get("scope"):
            try:
                resource, _offline = self._user_scopes(form["scope"])
            except ValueError as exc:
                return self._invalid_scope(req, str(exc))
        failure = self._claims_failure(req, form)
        if failure:
            return failure
        with self._lock:
            if entry["state"] != "active":  # another request used it meanwhile
                return self._entra_error(req, 400, "invalid_grant", 70000,
                                         "Provided grant is invalid or malformed.")
            if self.single_use_refresh_tokens:
                entry["state"] = "rotated"
        return self._user_tokens(req, form, entry["client_id"], entry["user"], resource, True)

    # --- managed identity: App Service, Azure Arc, IMDS (plain HTTP) -----------------------------
    @staticmethod
    def _mi_headers(req):
        return [("Content-Type", "application/json; charset=utf-8"),
                ("Server", f"azure-emulator-{req.listener}")]

    def _mi_error(self, req, status, error, description, extra_headers=()):
        """An error in the endpoint's own shape: App Service's statusCode/message, or the
        error/error_description of IMDS and Arc."""
        if req.listener == "appservice":
            body = {"statusCode": status, "message": description,
                    "correlationId": str(uuid.uuid4())}
        else:
            body = {"error": error, "error_description": description}
        req.details["error_code"] = error
        return Response(status, body, self._mi_headers(req) + list(extra_headers))

    def _mi_common(self, req, versions):
        """The checks every token request of a managed-identity endpoint goes through first
        (path, method, api-version; the Metadata header but on App Service): an error, or
        None."""
        if req.op == "other":
            return self._mi_error(req, 404, "not_found", f"The path '{req.path}' is not found.")
        if req.method != "GET":
            return self._mi_error(req, 405, "method_not_allowed",
                                  f"The method '{req.method}' is not allowed.",
                                  [("Allow", "GET")])
        version = (req.params.get("api-version") or [None])[0]
        req.details["api_version"] = version
        if req.listener != "appservice":
            metadata = req.headers.get("Metadata")
            req.details["metadata_header"] = metadata is not None
            if (metadata or "").lower() != "true":
                return self._mi_error(req, 400, "invalid_request",
                                      "Required metadata header not specified")
        if version is None:
            return self._mi_error(req, 400, "invalid_request",
                                  "Required query variable 'api-version' is missing")
        if version not in versions:
            return self._mi_error(req, 400, "invalid_request",
                                  f"Bad request. api-version '{version}' is invalid. Supported: "
                                  f"{', '.join(versions)}.")
        return None

    def _mi_token(self, req, allow_user_assigned=True):
        """(resource, client id of the identity, None) for the request's resource and identity
        selector; else (None, None, the error)."""
        resource = (req.params.get("resource") or [None])[0]
        req.details["resource"] = resource
        if not resource:
            return None, None, self._mi_error(req, 400, "invalid_request",
                                              "Required query variable 'resource' is missing")
        if resource.rstrip("/") not in self._arm_resources():
            return None, None, self._mi_error(
                req, 400, "invalid_resource",
                f"AADSTS500011: The resource principal named {resource} was not found in the "
                f"tenant named {self.tenant_id}.")
        selectors = [n for n in ("client_id", "object_id", "principal_id", "msi_res_id",
                                 "mi_res_id") if n in req.params]
        req.details["identity_selector"] = selectors[0] if selectors else None
        with self._lock:
            system, user_assigned = self.system_assigned_identity, self.user_assigned_identities
        wanted = req.params["client_id"][0].lower() if selectors == ["client_id"] else None
        if len(selectors) > 1:
            found = None
        elif not selectors:
            found = system
        elif system and wanted == system.lower():
            found = system
        elif allow_user_assigned and wanted in [u.lower() for u in user_assigned]:
            found = next(u for u in user_assigned if u.lower() == wanted)
        else:
            found = None
        if found is None:
            req.details["identity"] = None
            if req.listener == "appservice":
                return None, None, self._mi_error(req, 400, "invalid_request",
                                                  "Unable to load the proper Managed Identity.")
            return None, None, self._mi_error(req, 400, "invalid_request", "Identity not found")
        req.details["identity"] = "system" if found == system else "user_assigned"
        req.details["mi_client_id"] = found
        return resource, found, None

    def _appservice(self, req):
        failure = self._mi_common(req, (APPSERVICE_API_VERSION,))
        if failure:
            return failure
        sent = req.headers.get("X-IDENTITY-HEADER")
        with self._lock:
            expected = self.identity_header
        state = ("missing" if sent is None else
                 "ok" if secrets.compare_digest(sent.encode("utf-8", "replace"),
                                                expected.encode()) else "wrong")
        req.details["identity_header"] = state
        if state == "missing":
            return self._mi_error(req, 400, "invalid_request",
                                  "The X-IDENTITY-HEADER header is required.")
        if state == "wrong":
            return self._mi_error(req, 401, "unauthorized",
                                  "The X-IDENTITY-HEADER header is not valid.")
        resource, client_id, failure = self._mi_token(req)
        if failure:
            return failure
        token = self.issue_token(resource, app_id=client_id)
        body = {"access_token": token, "expires_on": str(int(time.time()) + self.token_lifetime),
                "resource": resource, "token_type": "Bearer", "client_id": client_id}
        return Response(200, body, self._mi_headers(req))

    def _imds(self, req):
        failure = self._mi_common(req, IMDS_API_VERSIONS)
        if failure:
            return failure
        resource, client_id, failure = self._mi_token(req)
        if failure:
            return failure
        return Response(200, self._mi_body(resource, client_id), self._mi_headers(req))

    def _mi_body(self, resource, client_id):
        now = int(time.time())
        token = self.issue_token(resource, app_id=client_id)
        lifetime = str(self.token_lifetime)
        return {"access_token": token, "client_id": client_id, "expires_in": lifetime,
                "expires_on": str(now + self.token_lifetime), "ext_expires_in": lifetime,
                "not_before": str(now), "resource": resource, "token_type": "Bearer"}

    def _arc(self, req, variant=None):
        failure = self._mi_common(req, ARC_API_VERSIONS)
        if failure:
            return failure
        authorization = req.headers.get("Authorization")
        if authorization is None:
            realm = self._arc_challenge(variant)
            req.details["arc_challenge"] = variant or "valid"
            return self._mi_error(req, 401, "unauthorized",
                                  "Read the secret from the file named in the WWW-Authenticate "
                                  "header and send it as 'Authorization: Basic <secret>'.",
                                  [("WWW-Authenticate", f"Basic realm={realm}")])
        scheme, _, secret = authorization.partition(" ")
        now = time.time()
        with self._lock:
            self._prune_arc_secrets(now)
            ok = scheme.lower() == "basic" and any(
                secrets.compare_digest(secret.encode("utf-8", "replace"), known.encode())
                for known in self._arc_secrets)
        req.details["arc_secret"] = "ok" if ok else "wrong"
        if not ok:
            realm = self._arc_challenge(None)
            return self._mi_error(req, 401, "unauthorized",
                                  "The secret in the Authorization header is not valid.",
                                  [("WWW-Authenticate", f"Basic realm={realm}")])
        resource, client_id, failure = self._mi_token(req, allow_user_assigned=False)
        if failure:
            return failure
        body = self._mi_body(resource, client_id)
        for name in ("client_id", "ext_expires_in"):  # not in HIMDS's answer
            del body[name]
        return Response(200, body, self._mi_headers(req))

    def _prune_arc_secrets(self, now):
        for secret, (until, paths) in list(self._arc_secrets.items()):
            if until <= now:
                for path in paths:
                    _remove_quietly(path)
                del self._arc_secrets[secret]

    def _arc_challenge(self, variant):
        """Writes a fresh secret to a file and returns the realm that names it: a file directly
        in arc_token_dir, named <uuid>.key, of at most ARC_MAX_SECRET bytes; or, for a variant,
        one a client must refuse (or, for "limit", one of exactly ARC_MAX_SECRET bytes). The
        secret is accepted for ARC_SECRET_LIFETIME seconds whatever the variant, so a client
        that does not refuse gets a token (and the test sees the request)."""
        now = time.time()
        name = f"{uuid.uuid4()}.key"
        with self._lock:
            self._prune_arc_secrets(now)
            directory = self.arc_token_dir
            secret = secrets.token_hex(32)
            if variant == "oversized":
                secret = secrets.token_hex(ARC_MAX_SECRET // 2 + 1)[:ARC_MAX_SECRET + 1]
            elif variant == "limit":
                secret = secrets.token_hex(ARC_MAX_SECRET // 2)
            path = os.path.join(directory, name)
            realm, written = path, [path]
            if variant in ("outside", "symlink", "traversal"):
                outside = os.path.join(self._workdir(), "arc-outside")
                os.makedirs(outside, exist_ok=True)
                path = os.path.join(outside, name)
                written = [path]
                if variant == "outside":
                    realm = path
                elif variant == "symlink":
                    realm = os.path.join(directory, name)
                    written.append(realm)
                else:
                    realm = os.path.join(directory, os.path.relpath(path, directory))
            elif variant == "not_key":
                path = realm = os.path.join(directory, name + ".txt")
                written = [path]
            elif variant == "subdir":
                subdir = os.path.join(directory, f"sub-{secrets.token_hex(4)}")
                os.mkdir(subdir)
                path = realm = os.path.join(subdir, name)
                written = [path, subdir]
            elif variant == "relative":
                realm = name
            if variant != "missing":
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "w", encoding="ascii") as secret_file:
                    secret_file.write(secret)
                if variant == "symlink":
                    os.symlink(path, realm)
                self._arc_secrets[secret] = (now + ARC_SECRET_LIFETIME, written)
            return realm

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
                answer = self._admin_credentials(route, req.body)
                if answer is None:
                    return Response(404, {"error": f"no admin route {route}"}, headers)
                if answer is not True:
                    return Response(200, answer, headers)
        except KeyError as exc:
            return Response(404, {"error": str(exc.args[0] if exc.args else exc)}, headers)
        except (ValueError, TypeError) as exc:
            return Response(400, {"error": str(exc)}, headers)
        return Response(204, b"", headers)

    def _admin_credentials(self, route, body):
        """The admin routes of the credentials: a JSON-able answer (200), True (204), or None
        (no such route). Raises ValueError/TypeError (400) or KeyError (404)."""
        def options():
            value = json.loads(body or b"{}")
            if not isinstance(value, dict):
                raise ValueError("the body must be a JSON object")
            return value
        method, path = route
        if path == "/_emulator/client-certificates":
            if method == "GET":
                return self.client_certificates()
            if method == "POST":
                return self.register_client_certificate(**options())
            if method == "DELETE":
                self.clear_client_certificates()
                return True
        elif path == "/_emulator/federated-identities":
            if method == "GET":
                return self.federated_identities()
            if method == "POST":
                return self.add_federated_identity(**options())
            if method == "DELETE":
                self.clear_federated_identities()
                return True
        elif route == ("POST", "/_emulator/federated-token"):
            return {"token": self.federated_token(**options())}
        elif path == "/_emulator/settings":
            if method == "GET":
                return self.settings()
            if method == "POST":
                return self.configure(**options())
        elif route == ("GET", "/_emulator/device-flows"):
            return self.device_flows()
        elif method == "POST" and path in ("/_emulator/device-flows/approve",
                                           "/_emulator/device-flows/decline",
                                           "/_emulator/device-flows/expire"):
            action = path.rsplit("/", 1)[1]
            flow = getattr(self, action)(**options())
            return next(f for f in self.device_flows() if f["flow"] == flow)
        elif route == ("POST", "/_emulator/device-flows/script"):
            self.script_device_flow(json.loads(body or b"[]"))
            return True
        elif route == ("GET", "/_emulator/refresh-tokens"):
            return self.refresh_tokens()
        elif route == ("POST", "/_emulator/refresh-tokens"):
            return {"refresh_token": self.issue_refresh_token(**options())}
        elif route == ("POST", "/_emulator/refresh-tokens/revoke"):
            return {"revoked": self.revoke_refresh_tokens()}
        elif route == ("POST", "/_emulator/refresh-tokens/expire"):
            return {"expired": self.expire_refresh_tokens()}
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Local Entra ID + ARM (Batch keys) + Batch data plane + managed identity "
                    "emulator.")
    parser.add_argument("--pki", required=True, help="directory made by make_test_pki.sh")
    parser.add_argument("--port-file", required=True,
                        help='written as {"login": N, "arm": M, "batch": B, "appservice": S, '
                             '"arc": A, "imds": I}')
    for name in LISTENERS:
        parser.add_argument(f"--{name}-port", type=int, default=0)
    parser.add_argument("--propagation-delay", type=float, default=0, metavar="SECONDS",
                        help="a regenerated key is accepted on the data plane this much later")
    parser.add_argument("--log", help="append the log here as JSON lines")
    parser.add_argument("--control", help="JSON list of faults, re-read on each request")
    parser.add_argument("--cert", choices=("server", "wrongname"), default="server")
    parser.add_argument("--ipv6", action="store_true", help="also listen on ::1, same ports")
    parser.add_argument("--tls-max", choices=("1.2", "1.3"), default="1.3")
    parser.add_argument("--token-lifetime", type=int, default=3599)
    parser.add_argument("--token-length", type=int, default=1600)
    parser.add_argument("--client-pki", metavar="DIR",
                        help="register the client certificates of DIR (made by "
                             "make_client_pki.sh if need be)")
    parser.add_argument("--arc-token-dir", metavar="DIR",
                        help="where Azure Arc's challenge files go (default: a temporary "
                             "directory)")
    parser.add_argument("--identity-header", default=DEFAULT_IDENTITY_HEADER,
                        help="App Service's IDENTITY_HEADER secret")
    parser.add_argument("--device-code-interval", type=float, default=5, metavar="SECONDS")
    args = parser.parse_args(argv)
    if not 0 <= args.propagation_delay < float("inf"):
        parser.error("--propagation-delay must be 0 or more seconds")

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    ports = {f"{name}_port": getattr(args, f"{name}_port") for name in LISTENERS}
    emulator = Emulator(args.pki, cert=args.cert, ipv6=args.ipv6, log_path=args.log,
                        control_path=args.control, token_lifetime=args.token_lifetime,
                        token_length=args.token_length, tls_max_version=args.tls_max,
                        propagation_delay=args.propagation_delay, client_pki=args.client_pki,
                        arc_token_dir=args.arc_token_dir, identity_header=args.identity_header,
                        device_code_interval=args.device_code_interval, **ports)
    emulator.start()
    try:
        temporary = f"{args.port_file}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as port_file:
            json.dump({name: getattr(emulator, f"{name}_port") for name in LISTENERS}, port_file)
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
