# SPDX-License-Identifier: MIT
# The Linux CLI for 64-bit Arm (Debian's arm64), cross-compiled and tested under qemu-user:
# boards/linux/cross.mk.
CROSS_BOARD := linux-aarch64
CROSS_TRIPLET := aarch64-linux-gnu
CROSS_QEMU := qemu-aarch64
include boards/linux/cross.mk
