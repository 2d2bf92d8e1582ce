#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the mps2-an386 firmware once per kind of certificate chain against the local emulator and
keeps what the board reports at exit (deepest stack, mbedTLS pool peak, lwIP's high-water marks):
`make BOARD=mps2-an386 size` puts those under its table.

    python3 tests/target/measure_firmware.py --image build/mps2-an386/batchkey.elf --out DIR

The command is `regenerate --key-name secondary -o none`: a token request and a regenerateKeys,
each on a TLS connection of its own. It writes DIR/ecdsa.err (the emulator's own test PKI: ECDSA
P-256) and DIR/azure-rsa.err (tests/emulator/make_rsa_pki.sh: an RSA chain shaped like Azure's),
and exits non-zero if a run fails.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
import azure_emulator as emu  # noqa: E402
import emulator_env  # noqa: E402

CHAINS = (("ecdsa", "make_test_pki.sh"), ("azure-rsa", "make_rsa_pki.sh"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--image", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    status = 0
    with tempfile.TemporaryDirectory(prefix="batchkey-size-") as tmp:
        for name, maker in CHAINS:
            pki = os.path.join(tmp, name)
            subprocess.run(["sh", os.path.join(ROOT, "tests", "emulator", maker), pki],
                           check=True)
            with emu.Emulator(pki) as emulator:
                env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                       **emulator_env.settings(emulator.login_port, emulator.arm_port,
                                               os.path.join(pki, "ca.crt"))}
                err_path = os.path.join(args.out, name + ".err")
                with open(err_path, "w", encoding="utf-8") as err:
                    p = subprocess.run(["sh", os.path.join(ROOT, "boards", "mps2-an386",
                                                           "run_batchkey.sh"), args.image,
                                        "regenerate", "--key-name", "secondary", "-o", "none"],
                                       env=env, stdout=subprocess.PIPE, stderr=err, text=True,
                                       timeout=180)
                if p.returncode != 0:
                    with open(err_path, encoding="utf-8") as err:
                        sys.stderr.write(err.read())
                    sys.stderr.write(f"measure_firmware: the {name} run exited {p.returncode}\n")
                    status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
