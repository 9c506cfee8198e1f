# The service image. Built and run by docker-compose.yml (PostgreSQL beside it).
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# The embedded PostgreSQL is not needed in a container: DATABASE_URL points to a server.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
USER node
EXPOSE 1883 8080
CMD ["node", "src/main.ts", "serve"]
