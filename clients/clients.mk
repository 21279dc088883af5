# The TypeScript, Go and Java clients: their toolchains (installed once per machine, then a ~0.1 s check), and
# builds of each client's helper, README example and conformance program (tests/test_clients.py runs them).
# Included by the Makefile; paths are relative to the repository root.

# Debian's toolchains: Go with grpc-go 1.33 (GOPATH mode), Java 17 with grpc-java 1.41, protoc and the plugins.
# Node.js 20 and npm come with the machine image.
CLIENT_APT := golang-go protobuf-compiler protoc-gen-go protoc-gen-go-grpc golang-google-grpc-dev \
	golang-github-golang-protobuf-1-5-dev golang-google-protobuf-dev golang-google-genproto-dev \
	openjdk-17-jdk-headless libgrpc-java protobuf-compiler-grpc-java-plugin libprotobuf-java libnetty-java \
	libperfmark-java

TS_DIR      := clients/typescript
TS_STAMP    := $(TS_DIR)/node_modules/.installed
TS_SOURCES  := $(shell find $(TS_DIR)/src $(TS_DIR)/examples $(TS_DIR)/conformance -name '*.ts' 2>/dev/null)

GO_MODULE   := github.com/llm-orchestrator/orchestrator/clients/go
GO_SOURCES  := $(shell find clients/go -name '*.go' 2>/dev/null)
GO_PACKAGES := $(patsubst clients/go/%/,$(GO_MODULE)/%,$(sort $(dir $(GO_SOURCES))))
GOPATH_DIR  := build/gopath
GO_ENV      := GO111MODULE=off GOFLAGS= GOPATH=$(abspath $(GOPATH_DIR)):/usr/share/gocode

JAVA_SOURCES := $(shell find clients/java/src -name '*.java' 2>/dev/null)
JAVA_JARS := grpc-api grpc-core grpc-netty grpc-protobuf grpc-protobuf-lite grpc-stub grpc-context protobuf guava \
	perfmark-api jsr305 error_prone_annotations geronimo-annotation-1.3-spec netty-buffer netty-codec \
	netty-codec-http netty-codec-http2 netty-common netty-handler netty-resolver netty-transport \
	netty-transport-native-unix-common
empty :=
JAVA_CP := $(subst $(empty) $(empty),:,$(patsubst %,/usr/share/java/%.jar,$(JAVA_JARS)))

clients: client-typescript client-go client-java

client-tools:
	@dpkg -s $(CLIENT_APT) >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$(CLIENT_APT) >/dev/null; }

$(TS_STAMP): $(TS_DIR)/package.json $(TS_DIR)/package-lock.json
	cd $(TS_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

client-typescript: $(TS_DIR)/dist/.built
$(TS_DIR)/dist/.built: $(TS_STAMP) $(TS_SOURCES) $(TS_DIR)/tsconfig.json
	cd $(TS_DIR) && node_modules/.bin/tsc -p tsconfig.json
	touch $@

# GOPATH mode finds the module's packages through a symlink at their import path.
client-go: build/go/.built
build/go/.built: $(GO_SOURCES) | client-tools
	mkdir -p $(GOPATH_DIR)/src/$(dir $(GO_MODULE))
	ln -sfn $(abspath clients/go) $(GOPATH_DIR)/src/$(GO_MODULE)
	@test -z "$$(gofmt -l clients/go)" || { echo "gofmt wants to change: $$(gofmt -l clients/go)"; exit 1; }
	$(GO_ENV) go vet $(GO_PACKAGES)
	$(GO_ENV) go build -o build/go/ $(GO_MODULE)/internal/conformance $(GO_MODULE)/examples/generate
	touch $@

client-java: build/java/.built
build/java/.built: $(JAVA_SOURCES) | client-tools
	rm -rf build/java && mkdir -p build/java/classes
	@echo "javac: $(words $(JAVA_SOURCES)) files -> build/java/classes"
	@printf '%s\n' $(JAVA_SOURCES) > build/java/sources.txt
	@javac -d build/java/classes -cp $(JAVA_CP) --release 17 -nowarn @build/java/sources.txt
	@echo "$(abspath build/java/classes):$(JAVA_CP)" > build/java/classpath
	touch $@
