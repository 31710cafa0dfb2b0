# syntax=docker/dockerfile:1
#
# hookflow: a static binary on a distroless base, running as a non-root user.
#
#   docker build -t hookflow --build-arg VERSION=$(git describe --tags --always) .
#   docker run -p 8080:8080 -p 127.0.0.1:8081:8081 \
#     -v ./workflows:/etc/hookflow/workflows:ro -v ./secrets:/etc/hookflow/secrets:ro \
#     -v hookflow-data:/var/lib/hookflow -e HOOKFLOW_API_TOKEN hookflow
#
# See docs/operations.md ("Container").

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" \
      -o /out/hookflow ./cmd/hookflow
# The data directory, owned by the runtime user (distroless nonroot: 65532).
RUN mkdir -p /out/var/lib/hookflow /out/etc/hookflow/workflows /out/etc/hookflow/secrets

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookflow /usr/local/bin/hookflow
COPY --from=build --chown=65532:65532 /out/var/lib/hookflow /var/lib/hookflow
COPY --from=build /out/etc/hookflow /etc/hookflow
USER 65532:65532
# Settings as HOOKFLOW_* variables, so that `docker run -e` can change any of
# them. The admin listener binds all interfaces inside the container so that
# it can be published: publish it on the host's loopback only, and set
# HOOKFLOW_API_TOKEN.
ENV HOOKFLOW_WORKFLOWS=/etc/hookflow/workflows \
    HOOKFLOW_SECRETS=/etc/hookflow/secrets \
    HOOKFLOW_DATA=/var/lib/hookflow \
    HOOKFLOW_ADDR=:8080 \
    HOOKFLOW_ADMIN_ADDR=0.0.0.0:8081 \
    HOOKFLOW_LOG_FORMAT=json
VOLUME ["/var/lib/hookflow"]
EXPOSE 8080 8081
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/hookflow"]
CMD ["serve"]
