# SPDX-License-Identifier: MIT
"""The test fixture both the CLI's and the firmware's suites stand on: a throwaway PKI and one
emulator per test class, faults and log cleared before each test. Standard library only."""
import os
import shutil
import subprocess
import tempfile
import unittest

import azure_emulator as emu

HERE = os.path.dirname(os.path.abspath(__file__))


def make_pki(directory):
    subprocess.run(["sh", os.path.join(HERE, "make_test_pki.sh"), directory], check=True)


class EmulatorTestCase(unittest.TestCase):
    TMP_PREFIX = "batchkey-test-"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=cls.TMP_PREFIX)
        cls.pki = os.path.join(cls.tmp, "pki")
        make_pki(cls.pki)
        cls.emulator = emu.Emulator(cls.pki).start()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.emulator.clear_faults()
        self.emulator.clear_log()
