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
	$(INFC) explain examples/shop.inf
	$(INFC) build examples/shop.inf -o build/shop

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/infc
	install -m 755 $(INFC) $(DESTDIR)$(PREFIX)/bin/infc
	cp -R templates $(DESTDIR)$(PREFIX)/share/infc/

clean:
	rm -rf .build build
