# The service image. Built and run by docker-compose.yml (PostgreSQL beside it).

# The dashboard is built with the dev dependencies (Vite, Preact, uPlot): `npm ci` runs
# `prepare`, which is `npm run build`. Optional dependencies stay: Vite's bundler and
# CSS minifier are native packages installed as optional dependencies.
FROM node:24-slim AS dashboard
WORKDIR /app
COPY package.json package-lock.json ./
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
USER node
EXPOSE 1883 8080
CMD ["node", "src/main.ts", "serve"]
