# syntax=docker/dockerfile:1
# Build: docker build -t backchannel .
# Run:   docker run -v backchannel-data:/data -v $PWD/config.toml:/etc/backchannel/config.toml:ro \
#          -e DISCORD_TOKEN=... -p 8080:8080 backchannel
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# modernc.org/sqlite is pure Go, so the binary is fully static. /out/data
# becomes the image's /data, owned by the non-root user below.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/backchannel . \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/backchannel /usr/local/bin/backchannel
# A fresh named volume is initialised from the image's /data, ownership
# included: without this directory the volume is root's and the non-root
# user cannot create the database in it. 65532 is distroless's nonroot.
COPY --from=build --chown=65532:65532 /out/data /data
# The database lives on a volume; the config is mounted read-only.
ENV BACKCHANNEL_DATABASE_PATH=/data/backchannel.db \
    BACKCHANNEL_HTTP_LISTEN=:8080
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
# Liveness only (the database answers): Discord's outage is not the
# container's fault, so it does not make the container unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/backchannel", "health", "-config", "/etc/backchannel/config.toml"]
ENTRYPOINT ["/usr/local/bin/backchannel"]
CMD ["run", "-config", "/etc/backchannel/config.toml"]
