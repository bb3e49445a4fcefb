# syntax=docker/dockerfile:1
# `monitor` as a container image: compiled with Deno, run on a minimal base as a non-root user.
#
#   docker build -t website-monitor .
#   docker run --rm website-monitor --version
#
# The compile stage runs on the builder's own platform and cross-compiles for the target one
# (deno compile --target), so an arm64 image builds on amd64 without emulation, and the other way.

FROM --platform=$BUILDPLATFORM denoland/deno:2.9.6 AS compile
ARG TARGETARCH
WORKDIR /src
# mod.ts's module graph and nothing else: the program reads nothing from beside its source. And the
# project's one compile command, which CI runs on every change.
COPY deno.json deno.lock mod.ts ./
COPY scripts/compile.sh scripts/
COPY src/ src/
COPY sql/ sql/
RUN --mount=type=cache,target=/deno-dir \
  case "$TARGETARCH" in \
    amd64) target=x86_64-unknown-linux-gnu ;; \
    arm64) target=aarch64-unknown-linux-gnu ;; \
    *) echo "No Deno build for linux/$TARGETARCH" >&2; exit 1 ;; \
  esac \
  && deno task compile --target "$target" --output /out/monitor

# glibc and libgcc, which the Deno runtime links against, and nothing else: no shell, no package
# manager. The :nonroot variant runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=compile /out/monitor /usr/local/bin/monitor
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/monitor"]
CMD ["--help"]
