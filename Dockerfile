# The ivtfarm image: controller (`run --listen`), agents (`agent`), the reference platform (`ivc`).
# docker build -t ivtfarm . (see docs/distributed.md). node:20-slim, with its Debian release named
# so that a rebuild does not move to another one unnoticed.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Everything tsconfig.json includes, so that the build is exactly `npm run build`.
COPY tsconfig.json ./
COPY src src
COPY support support
COPY test test
COPY bench bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist/src dist/src
# The prebuilt rendition ladder: agents push and record these bytes without ffmpeg (another ladder
# is built with the ffmpeg.wasm in node_modules, cached in the user's ~/.cache).
COPY media media
COPY scenarios scenarios
# `run` writes to ./reports unless told --out: the one directory the user may write under /app.
RUN mkdir reports && chown node:node reports
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
ENTRYPOINT ["node", "/app/dist/src/cli.js"]
CMD ["--help"]
