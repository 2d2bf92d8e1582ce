# SPDX-License-Identifier: MIT
# Static checks and coverage (part of make test):
#   make static-checks   clang-format, cppcheck and clang-tidy on the C sources, any finding fails
#                        (tests/static/static_checks.sh; configurations beside it)
#   make coverage        the unit tests built with --coverage into $(BUILD)/coverage, run, then
#                        gcovr's line and branch coverage of core/ (tests/coverage/coverage.mk)
.PHONY: static-checks
static-checks:
	@sh tests/static/static_checks.sh $(BUILD)

include tests/coverage/coverage.mk
