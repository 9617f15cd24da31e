# syntax=docker/dockerfile:1
# The cooperator image: one static binary that runs the operator (cooperator manager) and
# the co-ops' platform service (cooperator platform).
#
#   docker build -t ghcr.io/cooperator-dev/cooperator:dev --build-arg VERSION=dev .

FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /workspace

# Dependencies first, so that a change of source does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY main.go ./
COPY api/ api/
COPY controllers/ controllers/
COPY platform/ platform/
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /cooperator .

# distroless static, nonroot: no shell, no package manager, uid 65532.
FROM gcr.io/distroless/static:nonroot
COPY --from=builder /cooperator /cooperator
USER 65532:65532
ENTRYPOINT ["/cooperator"]
