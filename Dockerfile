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
# modernc.org/sqlite is pure Go, so the binary is fully static.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/backchannel .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/backchannel /usr/local/bin/backchannel
# The database lives on a volume; the config is mounted read-only.
ENV BACKCHANNEL_DATABASE_PATH=/data/backchannel.db \
    BACKCHANNEL_HTTP_LISTEN=:8080
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/backchannel"]
CMD ["run", "-config", "/etc/backchannel/config.toml"]
