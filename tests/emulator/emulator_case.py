# SPDX-License-Identifier: MIT
"""The test fixture both the CLI's and the firmware's suites stand on: a throwaway PKI and one
emulator per test class, faults and log cleared before each test. Standard library only."""
import argparse
import os
import shlex
import shutil
import subprocess
import tempfile
import unittest

import azure_emulator as emu

HERE = os.path.dirname(os.path.abspath(__file__))


def make_pki(directory):
    subprocess.run(["sh", os.path.join(HERE, "make_test_pki.sh"), directory], check=True)


def binary_arguments():
    """--bin (the CLI, made absolute), --runner (a command it runs under, e.g. qemu-user for a
    cross build; split as a shell would) and the names of the tests to run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--runner", default="", type=shlex.split,
                        help="a command the binary runs under (qemu-user for a cross build)")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    return args


def run_suite(case, label, names):
    """Runs case's tests (those whose id holds one of names, or all), prints "label: N passed,
    ..." and returns the exit status: 1 on a failure, and when nothing ran."""
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    if names:
        suite = unittest.TestSuite(t for t in suite if any(n in t.id() for n in names))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{label}: {passed} passed, {failed} failed, {len(result.skipped)} skipped")
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


class EmulatorTestCase(unittest.TestCase):
    TMP_PREFIX = "batchkey-test-"

    @classmethod
    def emulator_options(cls):
        """Keyword arguments for the class's Emulator (cls.tmp exists by then)."""
        return {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=cls.TMP_PREFIX)
        cls.pki = os.path.join(cls.tmp, "pki")
        make_pki(cls.pki)
        cls.emulator = emu.Emulator(cls.pki, **cls.emulator_options()).start()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.emulator.clear_faults()
        self.emulator.clear_log()
