#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The variables that point batchkey at a running emulator, as `export NAME='value'` lines.

    python3 tests/emulator/emulator_env.py PORT-FILE CA-FILE
    python3 tests/emulator/emulator_env.py PORT-FILE CA-FILE --hints [--arc-token-dir DIR]
        [--client-pki DIR]

PORT-FILE is the emulator's --port-file ({"login": N, "arm": M, "batch": B, "appservice": S,
"arc": A, "imds": I}), CA-FILE the test CA that signed its certificate. with_emulator.sh and
serve.sh (`make emulator`) both print this list, so that the two cannot drift apart: the
tenant, the service principal with its client secret, the subscription, the account and the
endpoints. With --hints it prints instead, as comment lines, where the managed-identity
endpoints listen and the variables that would pick each other credential (certificate, App
Service, Azure Arc, IMDS, workload identity): none of them is exported by default. Standard
library only.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import azure_emulator as emu  # noqa: E402


def settings(login_port, arm_port, ca_file, batch_port=None):
    """The emulator's own tenant, application, subscription and account, and where it listens
    (BATCHKEY_BATCH_ENDPOINT, the Batch data plane, only when batch_port is given)."""
    values = {
        "AZURE_TENANT_ID": emu.DEFAULT_TENANT_ID,
        "AZURE_CLIENT_ID": emu.DEFAULT_CLIENT_ID,
        "AZURE_CLIENT_SECRET": emu.DEFAULT_CLIENT_SECRET,
        "AZURE_SUBSCRIPTION_ID": emu.DEFAULT_SUBSCRIPTION_ID,
        "BATCHKEY_RESOURCE_GROUP": emu.DEFAULT_RESOURCE_GROUP,
        "BATCHKEY_ACCOUNT": emu.DEFAULT_ACCOUNT,
        "AZURE_AUTHORITY_HOST": "https://localhost:%d" % login_port,
        "BATCHKEY_ARM_ENDPOINT": "https://localhost:%d" % arm_port,
    }
    if batch_port is not None:
        values["BATCHKEY_BATCH_ENDPOINT"] = "https://localhost:%d" % batch_port
    values["BATCHKEY_CA_FILE"] = ca_file
    return values


def credential_settings(ports, identity_header=emu.DEFAULT_IDENTITY_HEADER, arc_token_dir=None,
                        client_pki=None):
    """{credential kind: the variables that select it} for an emulator listening on ports (the
    port file's dict), to use instead of AZURE_CLIENT_SECRET: "certificate" (only with
    client_pki), "appservice", "arc" (BATCHKEY_ARC_TOKEN_DIR only with arc_token_dir) and
    "imds". The same as Emulator.credential_env() gives from Python."""
    values = {
        "appservice": {"IDENTITY_ENDPOINT": "http://127.0.0.1:%d%s" % (ports["appservice"],
                                                                       emu.APPSERVICE_PATH),
                       "IDENTITY_HEADER": identity_header},
        "arc": {"IDENTITY_ENDPOINT": "http://127.0.0.1:%d%s" % (ports["arc"], emu.MI_TOKEN_PATH),
                "IMDS_ENDPOINT": "http://127.0.0.1:%d" % ports["arc"]},
        "imds": {"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:%d" % ports["imds"]},
    }
    if arc_token_dir:
        values["arc"]["BATCHKEY_ARC_TOKEN_DIR"] = arc_token_dir
    if client_pki:
        values["certificate"] = {"AZURE_CLIENT_CERTIFICATE_PATH":
                                 os.path.join(client_pki, "client-rsa.pem")}
    return values


def shell_quote(value):
    return "'" + value.replace("'", "'\\''") + "'"


def hints(ports, ca_file, arc_token_dir=None, client_pki=None):
    """The comment lines --hints prints."""
    kinds = credential_settings(ports, arc_token_dir=arc_token_dir, client_pki=client_pki)
    lines = ["# Managed identity (plain HTTP on loopback): App Service at http://127.0.0.1:%d, "
             "Azure Arc at http://127.0.0.1:%d, IMDS at http://127.0.0.1:%d"
             % (ports["appservice"], ports["arc"], ports["imds"]),
             "# Other credentials, not exported: `unset AZURE_CLIENT_SECRET`, then one of"]
    labels = (("certificate", "certificate"), ("appservice", "App Service"),
              ("arc", "Azure Arc"), ("imds", "IMDS"))
    for kind, label in labels:
        if kind in kinds:
            lines.append("#   %-12s export %s" % (label + ":", " ".join(
                "%s=%s" % (name, shell_quote(value)) for name, value in kinds[kind].items())))
    lines.append("#   %-12s POST https://localhost:%d/_emulator/federated-token (curl --cacert %s) "
                 "answers {\"token\": ...}: write the token to a file, export "
                 "AZURE_FEDERATED_TOKEN_FILE=<that file>" % ("workload:", ports["arm"], ca_file))
    return lines


def main(argv):
    args, options = [], {}
    rest = list(argv[1:])
    while rest:
        word = rest.pop(0)
        if word == "--hints":
            options["hints"] = True
        elif word in ("--arc-token-dir", "--client-pki") and rest:
            options[word[2:].replace("-", "_")] = os.path.abspath(rest.pop(0))
        elif word.startswith("--"):
            args = None
            break
        else:
            args.append(word)
    if args is None or len(args) != 2 or (not options.get("hints") and len(options) > 0):
        sys.stderr.write("usage: emulator_env.py PORT-FILE CA-FILE "
                         "[--hints [--arc-token-dir DIR] [--client-pki DIR]]\n")
        return 2
    with open(args[0], encoding="utf-8") as port_file:
        ports = json.load(port_file)
    ca_file = os.path.abspath(args[1])
    if options.pop("hints", False):
        for line in hints(ports, ca_file, **options):
            print(line)
        return 0
    values = settings(ports["login"], ports["arm"], ca_file, ports.get("batch"))
    for name, value in values.items():
        print("export %s=%s" % (name, shell_quote(value)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
