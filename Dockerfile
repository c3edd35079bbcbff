# syntax=docker/dockerfile:1
# The orders sample app (apps/orders) with the library it imports.
#   docker build -t orders-app .      (docker compose up builds it too)
# Configuration by environment: see APP_ENV in apps/orders/src/config/app-config.ts.

ARG NODE_VERSION=20

# Compilers for better-sqlite3, in case no prebuilt binary can be downloaded.
FROM node:${NODE_VERSION}-bookworm-slim AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./

# 1. Build: every dependency, then compile the app and the library source it imports.
FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY libs/kafka-consumer/src ./libs/kafka-consumer/src
COPY apps/orders/tsconfig.app.json ./apps/orders/
COPY apps/orders/src ./apps/orders/src
RUN npm run build:sample

# 2. Production dependencies only.
FROM toolchain AS deps
RUN npm ci --omit=dev --no-audit --no-fund

# 3. Runtime: no compilers, no dev dependencies, not root.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist/apps/orders/libs ./dist/apps/orders/libs
COPY --from=build /src/dist/apps/orders/apps/orders/src ./dist/apps/orders/apps/orders/src
# The code stays root-owned and read-only for the app; only the SQLite directory is writable.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
ENV DATABASE_URL=sqlite:/app/data/orders.db \
    HEALTH_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.HEALTH_PORT + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node as PID 1 gets SIGTERM from `docker stop`: the consumers drain, commit and leave the group.
CMD ["node", "dist/apps/orders/apps/orders/src/main.js"]
