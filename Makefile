# Thin wrapper over CMake/CTest; see README.md. Every target installs its own Debian packages.
BUILD      ?= build
TEST_BUILD ?= build-test
FUZZ_BUILD ?= build-test
FUZZ_SECONDS ?= 300
JOBS       ?= $(shell nproc)

.PHONY: all deps build demo test test-tsan fuzz bench soak image test-image clean

all: build

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	bash scripts/run-demo.sh $(BUILD)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer, fuzzers included: one
# clang build instruments everything for libFuzzer coverage and the sanitizers, so the same
# compile serves the tests and the fuzz targets (ctest label `fuzz` runs each fuzzer briefly).
# Then the slow label `image`: the kiosk and pc-installer images built from this checkout and
# booted under QEMU TCG (boot, crash restart, A/B update and fallback, install onto a blank disk):
# about half an hour more on 2 cores, so it runs last, alone, and only when the rest passed.
test:
	bash scripts/install-deps.sh image
	CC=clang CXX=clang++ cmake -S . -B $(TEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSAFFRON_FUZZ=ON
	cmake --build $(TEST_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	ctest --test-dir $(TEST_BUILD) --output-on-failure -j 2 -LE image
	ctest --test-dir $(TEST_BUILD) --output-on-failure -L image -LE extra
	bash tests/image/print_figures.sh $(TEST_BUILD)

# ThreadSanitizer build of the session engine and the suites that drive its threads: the session
# thread against QEMU and libspice-server, and video decoding on GStreamer's threads. (The
# hostile-server harness is left out: it hands its server thread work through blocking queued
# calls, and Debian's Qt is not built with TSan, so every one of them reads as a race.)
# halt_on_error=0: a test process with any report still exits 66 and fails; the test server
# child (libspice-server's worker against GStreamer's encoder threads, neither ours) only logs.
TSAN_BUILD ?= build-tsan
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSAFFRON_TSAN=ON
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target test_qemu_session test_testserver_session test_video_streams saffron-test-server
	TSAN_OPTIONS=halt_on_error=0:die_after_fork=0:second_deadlock_stack=1 \
	ctest --test-dir $(TSAN_BUILD) --output-on-failure -R '^(qemu_session|testserver_session|video_streams)$$'

# Longer fuzzing runs: FUZZ_SECONDS per target.
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSAFFRON_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	bash scripts/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The appliance image (root, Debian mirror reachable): RECIPE=kiosk|thin-client|pc-installer.
RECIPE    ?= kiosk
IMAGE_OUT ?= $(CURDIR)/image-out
image:
	bash scripts/install-deps.sh image
	bash image-build/build-image.sh $(RECIPE) $(IMAGE_OUT)/$(RECIPE)

# Every image test, `extra` included (the thin-client image's own build and boot): ctest -L image
# on the test build's tree (tests/image; configured only, the images build from this checkout).
test-image:
	bash scripts/install-deps.sh image
	CC=clang CXX=clang++ cmake -S . -B $(TEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSAFFRON_FUZZ=ON
	ctest --test-dir $(TEST_BUILD) --output-on-failure -L image
	bash tests/image/print_figures.sh $(TEST_BUILD)

bench: build
	cmake --build $(BUILD) --target bench

# The robustness issue's soak at full length (100 connect cycles, a 10-minute stream: RSS and
# descriptors), then a heaptrack profile of a 10-minute streaming saffron-cli. About 25 minutes.
SOAK_SECONDS ?= 600
soak: build
	SAFFRON_SOAK_CYCLES=100 SAFFRON_STREAM_SOAK_SECONDS=$(SOAK_SECONDS) \
	ctest --test-dir $(BUILD) --output-on-failure -R '^robustness_soak$$' --timeout 1500
	bash tests/robustness/heaptrack_stream.sh $(SOAK_SECONDS) $(BUILD)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(TSAN_BUILD)
