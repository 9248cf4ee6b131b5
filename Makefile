# infc — build, test, demo, install, bench.
SWIFT ?= swift
PREFIX ?= /usr/local
INFC := .build/release/infc

.PHONY: build test demo install bench test-deps clean

build:
	$(SWIFT) build -c release --product infc

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

test-deps:
	@bash scripts/install-test-deps.sh

demo: build
	$(INFC) check examples/shop.inf
	$(INFC) graph examples/shop.inf -o build/shop.dot
	@if command -v dot >/dev/null 2>&1; then dot -Tsvg build/shop.dot -o build/shop.svg && echo "wrote build/shop.svg"; fi

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(INFC) $(DESTDIR)$(PREFIX)/bin/infc

clean:
	rm -rf .build build
