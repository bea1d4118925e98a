# tend as the supervisor of an environment's container, with a real init as PID 1: tini reaps
# orphans and forwards SIGTERM to tend, which stops everything by the stop rules and exits 0.
#
# The base image is a build argument so that it can be made without a registry: it needs Node.js
# (>= 20.19) on PATH and tini at /usr/bin/tini. scripts/build-image.sh makes one with
# `debootstrap --variant=minbase --include=tini` plus this machine's node, imported with
# `docker import`, and stages the build context (dist/ and production node_modules).
ARG BASE=node:20-bookworm-slim
FROM ${BASE}

COPY image/ /opt/tend/
ENV NODE_ENV=production \
    TEND_STATE_DIR=/var/lib/tend
WORKDIR /workspace

ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/tend/dist/cli/main.js"]
# The environment's supervisor: the workspace's automations file, its start triggers fired.
CMD ["daemon", "--workspace", "/workspace", "--trigger", "postEnvironmentStart", "postDevcontainerStart"]
