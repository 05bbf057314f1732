# syntax=docker/dockerfile:1
# Live chat server. Expects DATABASE_URL (an external Postgres); JWT_SECRET is required
# because NODE_ENV=production. Several containers may share one database.

ARG NODE_IMAGE=node:20-bookworm-slim

# 1. Build: all dependencies, then whatever `npm run build` produces (if the project has one).
#    The runtime needs packages/ too: the widget is bundled at start from the client SDK's sources.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci's postinstall applies patches/ (a driver fix, see README) to node_modules
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build --if-present \
 && mkdir /out \
 && cp -r package.json package-lock.json tsconfig.json src drizzle packages /out/ \
 && if [ -d dist ]; then cp -r dist /out/; fi

# 2. Runtime: production dependencies only (tsx runs the TypeScript sources and is one of them).
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /out/ ./
# root owns the code; the server runs as the image's unprivileged `node` user
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node runs as PID 1 with no npm wrapper, so SIGTERM reaches the server's drain (it handles the signal)
# the same Node flags as `npm start` (package.json; test/scripts/node-flags.test.ts holds them equal)
CMD ["node", "--max-semi-space-size=64", "--import", "tsx", "src/server.ts"]
