# The ivtfarm image: controller (`run --listen`), agents (`agent`), the reference platform (`ivc`).
# docker build -t ivtfarm . (see docs/distributed.md)
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src src
COPY test test
COPY bench bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist/src dist/src
# The prebuilt rendition ladder: agents push and record these bytes without ffmpeg.
COPY media media
COPY scenarios scenarios
USER node
ENTRYPOINT ["node", "/app/dist/src/cli.js"]
CMD ["--help"]
