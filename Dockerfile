# seedboxd container image. Build: docker build -t seedboxd .   (podman build --format docker too)
# Run:  docker run -d --name seedboxd -p 127.0.0.1:9180:9180 -p 51413:51413 -p 51413:51413/udp \
#         -v seedboxd-state:/var/lib/seedboxd -v /srv/torrents:/downloads seedboxd
# The RPC token is generated into the state volume on first start:
#         docker exec seedboxd seedboxctl list     (or: docker exec seedboxd cat /var/lib/seedboxd/rpc.token)
# Configuration: any key as an environment variable (seedboxd --help-config lists them), e.g.
#         -e SEEDBOXD_BT_UPLOAD_RATE_LIMIT=1000000 -e SEEDBOXD_BT_DHT=true

# ---- build: Debian 12 with the packages scripts/install-deps installs -------------------------
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config libtorrent-rasterbar-dev libboost-dev libboost-system-dev \
      libsqlite3-dev libspdlog-dev nlohmann-json3-dev libsecp256k1-dev libcrypto++-dev libssl-dev \
      libcli11-dev prometheus-cpp-dev liburiparser-dev zlib1g-dev ccache \
 && rm -rf /var/lib/apt/lists/*
# ccache: a build with a cache volume (podman build -v DIR:/ccache) recompiles only what changed.
ENV CCACHE_DIR=/ccache
WORKDIR /src
COPY CMakeLists.txt ./
COPY config config
COPY daemon daemon
COPY ledger ledger
COPY rpc rpc
COPY systemd systemd
# A plain Release build (the build type CI runs the whole test suite on), without debug info; no
# test targets, no crash-test fault points.
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DSEEDBOX_TESTS=OFF -DSEEDBOX_TEST_HOOKS=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
 && cmake --build build --target seedboxd seedboxctl \
 && strip build/seedboxd build/seedboxctl

# ---- run: bookworm-slim with the runtime libraries only, as a non-root user -----------------
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libtorrent-rasterbar2.0 libsqlite3-0 libspdlog1.10 libfmt9 libsecp256k1-1 libcrypto++8 \
      libprometheus-cpp-core1.0 liburiparser1 libssl3 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 9180 seedboxd \
 && useradd --system --uid 9180 --gid seedboxd --home-dir /var/lib/seedboxd \
      --shell /usr/sbin/nologin seedboxd \
 && mkdir -p /var/lib/seedboxd /downloads \
 && chown seedboxd:seedboxd /var/lib/seedboxd /downloads \
 && chmod 0700 /var/lib/seedboxd
COPY --from=build /src/build/seedboxd /src/build/seedboxctl /usr/bin/
COPY config/seedboxd.example.json /usr/share/doc/seedboxd/config.example.json
# Defaults for a container: listen on all interfaces inside it (publish the port on the host's
# loopback or behind a proxy), generate the token into the state volume, download to /downloads,
# finish saving state within the runtime's default stop timeout.
ENV SEEDBOXD_STATE_DIR=/var/lib/seedboxd \
    SEEDBOXD_RPC_BIND=0.0.0.0:9180 \
    SEEDBOXD_RPC_GENERATE_TOKEN=true \
    SEEDBOXD_BT_LISTEN_INTERFACES=0.0.0.0:51413 \
    SEEDBOXD_TORRENT_DEFAULT_SAVE_PATH=/downloads \
    SEEDBOXD_TORRENT_ALLOWED_ROOTS=/downloads \
    SEEDBOXD_STATE_SHUTDOWN_TIMEOUT=8 \
    SEEDBOX_STATE_DIR=/var/lib/seedboxd
VOLUME ["/var/lib/seedboxd", "/downloads"]
EXPOSE 9180/tcp 51413/tcp 51413/udp
USER seedboxd
WORKDIR /var/lib/seedboxd
# SIGTERM saves resume data and the ledger, bounded by state.shutdown_timeout: 8 s here, inside
# Docker's default 10 s grace period. With many torrents, raise both (e.g. --stop-timeout 90 and
# -e SEEDBOXD_STATE_SHUTDOWN_TIMEOUT=60); resume data is also saved every minute while running.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["seedboxctl", "--url", "http://127.0.0.1:9180", "--timeout", "4", "health"]
ENTRYPOINT ["seedboxd"]
