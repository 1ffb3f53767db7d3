# shadowgate's CLI in a container image, for runs on Kubernetes and other schedulers
# (deploy/kubernetes/, docs/kubernetes.md).
#
#   docker build -t shadowgate .
#   docker run --rm -v "$PWD:/work" shadowgate run suites/refund-triage.yaml
#
# Two stages: `build` compiles (TypeScript, and better-sqlite3's native addon when no prebuilt
# binary fits), `runtime` holds only what the published package holds (package.json "files":
# bin, dist, templates, schema) and the production dependencies. Suites, traces and fixtures
# are not in it: mount them at /work, or build an image of your own FROM this one that copies
# them there (docs/kubernetes.md shows one).

FROM node:22-bookworm-slim AS build
# better-sqlite3 compiles its addon with node-gyp when no prebuilt binary fits the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# Every dependency, for the build (TypeScript is a dev dependency). No scripts: `prepare` would
# build before the sources are here, and this node_modules is thrown away below.
RUN npm ci --ignore-scripts
COPY bin ./bin
COPY src ./src
COPY templates ./templates
COPY schema ./schema
RUN npm run build
# Then the production dependencies alone, in a fresh node_modules: dev dependencies (TypeScript,
# Vitest, the frameworks of the examples) stay out of the image. --ignore-scripts skips `prepare`
# (the build, done above, whose compiler is now gone); better-sqlite3's install script then runs
# on its own, fetching its prebuilt binary or compiling one with the toolchain above.
RUN npm ci --omit=dev --ignore-scripts \
 && npm rebuild better-sqlite3 \
 && node -e "new (require('better-sqlite3'))(':memory:').close()"

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# package.json too: its "type": "module" makes dist/ ES modules.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/templates ./templates
COPY --from=build /app/schema ./schema
# `shadowgate` on PATH for shell scripts (the Kubernetes shards run one through sh -c), and a
# working folder the non-root user may write to (the default SQLite store, reports).
RUN ln -s /app/bin/shadowgate.js /usr/local/bin/shadowgate \
 && mkdir /work \
 && chown node:node /work
WORKDIR /work
# The official Node images' unprivileged user (uid 1000).
USER node
ENTRYPOINT ["node", "/app/bin/shadowgate.js"]
CMD ["--help"]
