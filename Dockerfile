# syntax=docker/dockerfile:1
# One image for every vreg process, chosen by command:
#   docker run vreg gateway | fetcher | catalog | embedded (the default)
#
# build:   npm ci (better-sqlite3 brings Node-API prebuilds: no compiler), then `npm run build` bundles
#          each process with esbuild into /src/dist (deploy/build.mjs).
# runtime: node slim + dist/ only: the bundles and the one native module
#          (better-sqlite3, for embedded mode). No npm, no node_modules tree,
#          no compiler. Runs as uid 10001, writes nothing outside /tmp and
#          VREG_DATA_DIR, so it runs with a read-only root filesystem.
#          /data (embedded mode) and /spool (the gateway's VREG_SPOOL_DIR in
#          compose and Helm) belong to uid 10001, so a volume mounted there
#          starts writable.
#
#   docker build -t vreg .
ARG NODE_IMAGE=node:24-trixie-slim

FROM ${NODE_IMAGE} AS base
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# Only the package manifests, so the `npm ci` layer below is reused until a
# dependency changes, however often the sources do.
FROM base AS manifests
WORKDIR /ctx
COPY packages ./packages
COPY services ./services
RUN mkdir /out && find packages services -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /out/ \;

FROM base AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY tsconfig.base.json tsconfig.json ./
COPY packages ./packages
COPY services ./services
COPY src ./src
COPY deploy/build.mjs ./deploy/build.mjs
COPY scripts/precompress.mjs ./scripts/precompress.mjs
COPY deploy/docker ./deploy/docker
RUN npm run build \
 && node dist/vreg.mjs 2>&1 | grep -q '^usage: vreg'

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="vreg" \
      org.opencontainers.image.description="Container virtual registry: an OCI pull-through cache" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="UNLICENSED"
# The package managers are not needed to run, and are most of the image's CVEs.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && groupadd --system --gid 10001 vreg \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vreg \
 && mkdir -p /data /spool \
 && chown 10001:10001 /data /spool
# Code owned by root and not writable by the service user.
COPY --from=build /src/dist/ /app/
WORKDIR /app
# --max-semi-space-size=8 (MiB): V8's young generation otherwise grows to
# ~40 MiB more under a server's allocation rate; with 8 a gateway streaming
# 50 hits peaked at 160 MB RSS instead of 202, for ~6 % more CPU per
# manifest hit (measured with wrk at 50 connections). The bench runs the
# bundle with these options.
# No --enable-source-maps: Node then parses every bundle's map when it loads
# it and keeps it, ~35 MB more RSS per process (an idle embedded vreg: 180 MB
# instead of 145). Stack traces name the bundle's functions (esbuild keeps
# names); to map them to the TypeScript, add --enable-source-maps to
# NODE_OPTIONS (the maps ship beside the bundles).
# --expose-gc: a fill asks V8 for a scavenge per 16 MiB of upstream bytes,
# so the socket buffers it leaves behind are freed at once instead of piling
# up to a full collection (packages/fill/src/young-garbage.ts): on a cold
# 200 MiB blob read by 50 clients, 36-41 MB of array buffers at the peak
# instead of 63-75.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=8 --expose-gc" \
    VREG_DATA_DIR=/data
USER 10001:10001
# gateway and embedded 5000, catalog 5002, fetcher 5003 (VREG_LISTEN overrides).
EXPOSE 5000 5002 5003
# Node, not curl (slim images have none); the port follows VREG_LISTEN.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# Node is PID 1 and every process handles SIGTERM itself (drain, then exit 0);
# the only children are embedded mode's and the gateway's worker processes
# (VREG_WORKERS), which the primary stops and waits for: no init needed.
# --no-allocation-site-pretenuring (a V8 flag NODE_OPTIONS refuses): with
# V8's pretenuring, the short-lived objects of 50 clients reading a cold
# fill back landed in the old generation and piled up until a full
# collection (old space 29 -> 71 MB in 15 s, sampled in the process during
# the bench's cold RSS scenario); without it, old space stayed at 29 MB.
ENTRYPOINT ["node", "--no-allocation-site-pretenuring", "/app/vreg.mjs"]
CMD ["embedded"]
