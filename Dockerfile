# syntax=docker/dockerfile:1
# segment-koala-adapter: docker build -t segment-koala-adapter .
# README "Deploy" says how to run it; test/deploy/dockerfile.test.ts runs these steps outside a container.

# Build stage: the dev dependencies (TypeScript) compile src/ into dist/.
FROM node:24-slim AS build
WORKDIR /opt/koala-adapter
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and dist/ only; no compiler, no sources.
FROM node:24-slim
WORKDIR /opt/koala-adapter
COPY package.json package-lock.json ./
# The npm cache stays in the build's cache mount, out of the image.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
COPY --from=build /opt/koala-adapter/dist ./dist
COPY mappings ./mappings
COPY bin/koala-adapter.js ./bin/koala-adapter.js
COPY README.md ./
# The image's own user (uid 1000), not root. Its home is the working folder: mount your
# mapping folder at /home/node/mappings (found as ./mappings, as in a checkout; without
# it the built-in default serves), and replay writes its dead-letter file here by default.
USER node
WORKDIR /home/node
ENV PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself; `serve` drains and exits on it.
ENTRYPOINT ["node", "/opt/koala-adapter/bin/koala-adapter.js"]
CMD ["serve"]
