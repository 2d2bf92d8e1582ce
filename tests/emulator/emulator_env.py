#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The variables that point batchkey at a running emulator, as `export NAME='value'` lines.

    python3 tests/emulator/emulator_env.py PORT-FILE CA-FILE

PORT-FILE is the emulator's --port-file ({"login": N, "arm": M}), CA-FILE the test CA that
signed its certificate. with_emulator.sh and serve.sh (`make emulator`) both print this list,
so that the two cannot drift apart. Standard library only.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import azure_emulator as emu  # noqa: E402


def settings(login_port, arm_port, ca_file):
    """The emulator's own tenant, application, subscription and account, and where it listens."""
    return {
        "AZURE_TENANT_ID": emu.DEFAULT_TENANT_ID,
        "AZURE_CLIENT_ID": emu.DEFAULT_CLIENT_ID,
        "AZURE_CLIENT_SECRET": emu.DEFAULT_CLIENT_SECRET,
        "AZURE_SUBSCRIPTION_ID": emu.DEFAULT_SUBSCRIPTION_ID,
        "BATCHKEY_RESOURCE_GROUP": emu.DEFAULT_RESOURCE_GROUP,
        "BATCHKEY_ACCOUNT": emu.DEFAULT_ACCOUNT,
        "AZURE_AUTHORITY_HOST": "https://localhost:%d" % login_port,
        "BATCHKEY_ARM_ENDPOINT": "https://localhost:%d" % arm_port,
        "BATCHKEY_CA_FILE": ca_file,
    }


def shell_quote(value):
    return "'" + value.replace("'", "'\\''") + "'"


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: emulator_env.py PORT-FILE CA-FILE\n")
        return 2
    with open(argv[1], encoding="utf-8") as port_file:
        ports = json.load(port_file)
    for name, value in settings(ports["login"], ports["arm"], os.path.abspath(argv[2])).items():
        print("export %s=%s" % (name, shell_quote(value)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
