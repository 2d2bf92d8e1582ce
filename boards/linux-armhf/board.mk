# SPDX-License-Identifier: MIT
# The Linux CLI for 32-bit Arm with hardware floating point (Debian's armhf: ARMv7, Thumb-2,
# VFPv3-D16), cross-compiled and tested under qemu-user: boards/linux/cross.mk.
CROSS_BOARD := linux-armhf
CROSS_TRIPLET := arm-linux-gnueabihf
CROSS_QEMU := qemu-arm
include boards/linux/cross.mk
