# SPDX-License-Identifier: MIT
# The Linux CLI for this machine's x86-64, linked statically with musl (Debian's musl-tools) and
# mbedTLS built from Debian's source with it: one file with no library to install, whose peak RSS
# is under a third of the glibc build's (make bench). Built like the ARM boards
# (boards/linux/cross.mk), and run natively: no qemu.
CROSS_BOARD := linux-musl
CROSS_TRIPLET := x86_64-linux-musl
CROSS_QEMU :=
include boards/linux/cross.mk
