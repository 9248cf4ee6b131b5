# infc — build, test, demo, install, bench.
SWIFT ?= swift
PREFIX ?= /usr/local
# SCRATCH=DIR builds in (and runs the binary from) another scratch directory, e.g. a worktree's.
SCRATCH ?= .build
INFC := $(SCRATCH)/release/infc

.PHONY: build test demo install install-files bench test-deps clean fuzz fuzz-smoke

# Release, with the Swift runtime linked statically (scripts/build-release.sh says why).
# Then the Lambda bootstrap, one static executable (scripts/build-lambda.sh), beside infc.
build:
	SWIFT=$(SWIFT) bash scripts/build-release.sh $(SCRATCH)
	SWIFT=$(SWIFT) bash scripts/build-lambda.sh $(SCRATCH)

# The static bootstrap first (LambdaStaticBuildTests checks it; incremental after the first build).
test: test-deps
	SWIFT=$(SWIFT) bash scripts/build-lambda.sh $(SCRATCH)
	$(SWIFT) build --build-tests
	$(SWIFT) test
	@$(MAKE) --no-print-directory fuzz-smoke

# libFuzzer targets of Tests/Fuzz (scripts/fuzz.sh): the front end and the language server.
# `make fuzz` runs each FUZZ_SECONDS (default 300); `make test` runs each for 60 s.
FUZZ_SECONDS ?= 300
fuzz:
	SWIFTC=$(SWIFT)c bash scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-smoke:
	SWIFTC=$(SWIFT)c bash scripts/fuzz.sh 60

test-deps:
	@bash scripts/install-test-deps.sh

demo: build
	$(INFC) check examples/shop.inf
	$(INFC) explain examples/shop.inf
	$(INFC) build examples/shop.inf -o build/shop
	$(INFC) graph examples/shop.inf -o build/shop.dot
	@if command -v dot >/dev/null 2>&1; then dot -Tsvg build/shop.dot -o build/shop.svg && echo "wrote build/shop.svg"; fi

install: build
	@$(MAKE) --no-print-directory install-files

# The copy step alone, of an existing build (the tests install their debug build this way).
install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/infc
	install -m 755 $(INFC) $(DESTDIR)$(PREFIX)/bin/infc
	install -m 755 $(INFC)-runtime $(DESTDIR)$(PREFIX)/bin/infc-runtime
	if [ -f $(INFC)-lambda ]; then install -m 755 $(INFC)-lambda $(DESTDIR)$(PREFIX)/bin/infc-lambda; fi
	cp -R templates $(DESTDIR)$(PREFIX)/share/infc/

# Benchmarks (not tests): release build, comparison tools, then bench/results/latest.{md,json}.
bench: build
	@bash bench/install-deps.sh
	python3 bench/run.py --infc $(INFC) --out bench/results

clean:
	rm -rf .build build
