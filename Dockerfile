# syntax=docker/dockerfile:1
# rescreen: one image for the worker, the producer commands and the vendor simulator.
#   docker build -t rescreen .
#   docker run --rm -e REDIS_URL=redis://host:6379 rescreen work

# ---- build: full dependencies, compile TypeScript to dist/ (and copy the Redis Lua scripts beside it) ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies first, for layer caching. The `prepare` script (a build) cannot run yet: the sources
# are copied after this layer, so it is skipped here and the build runs explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund
# Everything else the build needs (src/, jobs/, bench/, bin/, tsconfig*.json); .dockerignore keeps the rest out.
COPY . .
RUN npm run build

# ---- runtime: production dependencies only, compiled code, non-root ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` script would try to build (no TypeScript here, nothing to build).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The dashboard's static files (`rescreen serve`).
COPY --from=build /app/web ./web
COPY --from=build /app/migrations ./migrations
USER node
# The simulator's port (`rescreen simulator --port 4010`), `rescreen serve`'s (8080) and `work --metrics-port`'s (9464 in compose).
EXPOSE 4010 8080 9464
# SIGTERM reaches node directly (exec form), which drains the workers (graceful shutdown).
ENTRYPOINT ["node", "bin/rescreen.js"]
CMD ["work"]
