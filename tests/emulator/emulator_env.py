#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The variables that point batchkey at a running emulator, as `export NAME='value'` lines.

    python3 tests/emulator/emulator_env.py PORT-FILE CA-FILE

PORT-FILE is the emulator's --port-file ({"login": N, "arm": M, "batch": B}), CA-FILE the test CA
that signed its certificate. with_emulator.sh and serve.sh (`make emulator`) both print this list,
so that the two cannot drift apart. Standard library only.
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


def shell_quote(value):
    return "'" + value.replace("'", "'\\''") + "'"


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: emulator_env.py PORT-FILE CA-FILE\n")
        return 2
    with open(argv[1], encoding="utf-8") as port_file:
        ports = json.load(port_file)
    values = settings(ports["login"], ports["arm"], os.path.abspath(argv[2]), ports.get("batch"))
    for name, value in values.items():
        print("export %s=%s" % (name, shell_quote(value)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
