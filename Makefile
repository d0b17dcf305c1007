# Top-level driver: CMake does the real work in build directories.
#   make demo   install missing packages, build, show real traces (and keep them for otelc view)
#   make check  the whole test suite (plain gcc, a 2-minute soak, ASan+UBSan, TSan, fuzzers)
#   make bench  benchmarks (see docs/performance.md)
#   make soak   the chaos soak, SOAK_MINUTES=30 (see docs/reliability.md)

JOBS  ?= $(shell nproc)
MAKEFLAGS += --no-print-directory
CMAKE ?= cmake
CTEST ?= ctest

.PHONY: all deps build demo check check-format check-plain check-soak check-release check-asan check-tsan check-fuzz bench soak install format clean

all: build

deps:
	@sh scripts/deps.sh

build: deps
	@$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@$(CMAKE) --build build -j $(JOBS)

demo: build
	@sh scripts/demo.sh build

check: deps check-format check-plain check-soak check-release check-asan check-tsan check-fuzz
	@echo "make check: all suites passed"

# Every tracked C file as the project's .clang-format writes it.
check-format:
	@git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

CHECK_GCC = -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug -DOTELC_WERROR=ON

check-plain:
	@$(CMAKE) -S . -B build/check-gcc $(CHECK_GCC) >/dev/null
	@$(CMAKE) --build build/check-gcc -j $(JOBS)
	@cd build/check-gcc && $(CTEST) --output-on-failure -j $(JOBS)

# The chaos soak's short form (about 2.25 minutes) on check-plain's build: fails
# when a span is unaccounted for, a service or child crashes, or an exported
# span never reached the server; timing figures are shown, not judged.
check-soak:
	@$(CMAKE) -S . -B build/check-gcc $(CHECK_GCC) >/dev/null
	@SOAK_BUILD=build/check-gcc SOAK_MINUTES=2 SOAK_DOCS=0 JOBS=$(JOBS) sh tests/soak/soak.sh

# The build users make most (gcc -O3, tests and examples included): the
# optimiser's warnings differ from -O0's. Its unit tests run too.
check-release:
	@$(CMAKE) -S . -B build/check-release -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release \
		-DOTELC_WERROR=ON >/dev/null
	@$(CMAKE) --build build/check-release -j $(JOBS)
	@cd build/check-release && $(CTEST) --output-on-failure -j $(JOBS) -R '^test_'

check-asan:
	@$(CMAKE) -S . -B build/check-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DOTELC_SANITIZE=address -DOTELC_WERROR=ON >/dev/null
	@$(CMAKE) --build build/check-asan -j $(JOBS)
	@cd build/check-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST) --output-on-failure -j $(JOBS)

check-tsan:
	@$(CMAKE) -S . -B build/check-tsan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DOTELC_SANITIZE=thread -DOTELC_BUILD_EXAMPLES=OFF -DOTELC_WERROR=ON >/dev/null
	@$(CMAKE) --build build/check-tsan -j $(JOBS)
	@cd build/check-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		$(CTEST) --output-on-failure -j $(JOBS)

check-fuzz:
	@if command -v clang >/dev/null 2>&1; then \
		$(CMAKE) -S . -B build/check-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
			-DOTELC_BUILD_FUZZ=ON -DOTELC_BUILD_TESTS=OFF -DOTELC_BUILD_EXAMPLES=OFF \
			-DOTELC_WERROR=ON >/dev/null && \
		$(CMAKE) --build build/check-fuzz -j $(JOBS) && \
		cd build/check-fuzz && $(CTEST) --output-on-failure -L fuzz; \
	else echo "check-fuzz: clang not found, fuzzers skipped"; fi

bench: deps
	@$(CMAKE) -S . -B build/bench -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release \
		-DOTELC_BUILD_BENCH=ON -DOTELC_BUILD_TESTS=OFF >/dev/null
	@$(CMAKE) --build build/bench -j $(JOBS)
	@sh bench/run.sh build/bench 2>&1 | tee build/bench/bench.log
	@sh bench/report.sh build/bench/bench.log docs/performance.md

# Half an hour against a misbehaving backend (check runs a 2-minute form,
# check-soak). SOAK_MINUTES, SOAK_SANITIZE=address|thread (a shorter soak
# under the sanitizer).
soak: deps
	@sh tests/soak/soak.sh

install: build
	@$(CMAKE) --install build

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
