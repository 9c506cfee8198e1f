# The service image. Built and run by docker-compose.yml (PostgreSQL beside it).

# The dashboard is built with the dev dependencies (Vite, Preact, uPlot): `npm ci` runs
# `prepare`, which is `npm run build`. Optional dependencies stay: Vite's bundler and
# CSS minifier are native packages installed as optional dependencies.
FROM node:24-slim AS dashboard
WORKDIR /app
COPY package.json package-lock.json ./
# `npm ci` runs the preinstall script, bin/check-node.js (the Node.js check).
COPY bin ./bin
COPY dashboard ./dashboard
# The dashboard's labels are keyed by the domain's vocabularies (src/domain, pure modules).
COPY src ./src
RUN npm ci --no-audit --no-fund

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# The embedded PostgreSQL is not needed in a container: DATABASE_URL points to a server.
# No scripts: `prepare` would build the dashboard, which the stage above did.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
# No simulators/: the development tools (vitalink simulate, vitalink bench) are loaded only when
# asked for, and answer that they are available from a clone of the repository
# (test/e2e/product-without-tools.test.ts).
COPY --from=dashboard /app/dashboard/dist ./dashboard/dist
# Inside a container the service listens on every interface of the container, or the
# published ports would not reach it. Its plaintext listeners (MQTT 1883, HTTP 8080)
# are then on a non-loopback address, which `serve` refuses unless told: the statement
# below is that told (README, "Security", "Listening on a network"). docker-compose.yml
# publishes the ports on 127.0.0.1 of the host only; publish them elsewhere only behind
# a TLS-terminating proxy, or on a trusted network.
ENV HOST=0.0.0.0 VITALINK_ALLOW_PLAINTEXT_PUBLIC=1
# The image's user is `node` (uid 1000), not root.
USER node
EXPOSE 1883 8080
# Healthy when /readyz answers 200: the database answers and the broker listens. No curl
# in the slim image: Node's fetch, on the HTTP_PORT the service listens on.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.HTTP_PORT || 8080}/readyz`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "src/main.ts", "serve"]
