# syntax=docker/dockerfile:1
#
# bgppeer-webhook container image: `make image` (needs a docker engine with BuildKit).
#
# Stage 1 builds a static, release-mode binary against musl; stage 2 copies it alone onto
# distroless/static (no shell, no package manager, no libc), running as the non-root UID/GID 65532
# that the Helm chart also sets. Multi-arch builds (`docker buildx build --platform
# linux/amd64,linux/arm64`) work unchanged: each platform compiles natively for its own musl target.

ARG RUST_VERSION=1.89

FROM docker.io/library/rust:${RUST_VERSION}-alpine AS build
# ring compiles C and assembly: the musl C toolchain is all it needs.
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
# crt-static: link musl statically, so the binary needs nothing from the runtime image.
ENV RUSTFLAGS="-C target-feature=+crt-static"
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin bgppeer-webhook \
    && cp target/release/bgppeer-webhook /bgppeer-webhook \
    && /bgppeer-webhook --version

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="bgppeer-webhook" \
      org.opencontainers.image.description="Admission webhook that validates and defaults Calico BGPPeer resources" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /bgppeer-webhook /bgppeer-webhook
# The same UID/GID as the chart's securityContext (distroless "nonroot").
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/bgppeer-webhook"]
CMD ["serve"]
