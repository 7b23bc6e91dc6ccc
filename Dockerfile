# The USPA image: one image for every component, the command chooses the role.
#
#   docker build -t uspa:0.1.0 .
#   docker run --rm uspa:0.1.0 operator          # or: collector | api | pipeline | worker <kind>
#
# Roles (cli/main.ts): operator, collector, api, pipeline, worker segments|activations|models|enrichment;
# the data commands (import, dlq, identity) run from it too. Without a Docker daemon,
# `npm run image` (scripts/image.sh) builds this same file with buildah on a Debian base it makes.
#
# The code runs compiled to JavaScript (tsconfig.image.json), not through tsx: nothing is written
# at start, so the root filesystem can be read-only, with no writable temporary folder either.

# The runtime base: Node 20 and CA certificates. The stages that run npm use BUILD_BASE.
ARG BASE=docker.io/library/node:20-bookworm-slim
ARG BUILD_BASE=${BASE}

# Production dependencies only, without what never runs in the image: tsx and its esbuild (they
# run the TypeScript of a checkout; the image runs it compiled), the Temporal core bridge's binaries
# for the other four platforms, native packages built for the other C library (npm 9 installs both),
# source maps and type declarations. Behind a TLS-intercepting proxy, pass its CA for npm as a build
# secret: docker build --secret id=ca,src=<ca bundle> … (mounted for these steps, never stored).
FROM ${BUILD_BASE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/var/cache/npm --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi \
 && npm ci --cache /var/cache/npm --omit=dev --no-audit --no-fund --loglevel=warn \
 && rm -rf node_modules/tsx node_modules/esbuild node_modules/@esbuild node_modules/.bin/tsx node_modules/.bin/esbuild \
 && bridge="$(node -p '({ x64: "x86_64", arm64: "aarch64" })[process.arch]')-unknown-linux-gnu" \
 && test -d "node_modules/@temporalio/core-bridge/releases/$bridge" \
 && find node_modules/@temporalio/core-bridge/releases -mindepth 1 -maxdepth 1 ! -name "$bridge" -exec rm -rf {} + \
 && other="$(node -p 'process.report.getReport().header.glibcVersionRuntime ? "musl" : "gnu"')" \
 && find node_modules -mindepth 1 -maxdepth 2 -type d -name "*-linux-*-$other" -prune -exec rm -rf {} + \
 && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete

# TypeScript → JavaScript, with the dev dependencies (typescript) that never reach the image.
FROM ${BUILD_BASE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/var/cache/npm --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi \
 && npm ci --cache /var/cache/npm --no-audit --no-fund --loglevel=warn
COPY . .
# Module-relative URLs of .ts files (the workflow files Temporal's bundler reads at start) point
# at their compiled twins.
RUN node_modules/.bin/tsc -p tsconfig.image.json --outDir /out \
 && find /out -name '*.js' -exec sed -i -E "s#(new URL\('[^']+)\.ts'#\1.js'#g" {} + \
 && if grep -rn "new URL('[^']*\.ts'" /out; then echo 'a .ts URL is left in the compiled code' >&2; exit 1; fi \
 && node --import tsx scripts/build-dashboard.ts \
 && mkdir -p /out/bin /out/collector /out/dashboard \
 && cp bin/uspa.js /out/bin/ \
 && cp -r collector/snippet /out/collector/ \
 && cp -r dashboard/dist /out/dashboard/ \
 && cp package.json /out/

FROM ${BASE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="uspa" \
      org.opencontainers.image.description="USPA, a Kubernetes-native Customer Data Platform: operator, collector, API, pipeline and Temporal workers" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
ENV NODE_ENV=production
WORKDIR /app
# A fixed numeric user, so runAsNonRoot can verify it; the files stay root's, read-only to it.
USER 65532:65532
ENTRYPOINT ["node", "/app/bin/uspa.js"]
CMD ["--help"]
# The files last: the steps above stay cached while the code changes.
COPY --from=deps /app/node_modules node_modules
COPY --from=build /out ./
