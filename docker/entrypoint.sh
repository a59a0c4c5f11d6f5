#!/bin/sh
# Picks the service this container runs. tini (PID 1) forwards SIGTERM; `exec` replaces this
# shell with node so no shell sits between the signal and the app's graceful shutdown.
#   APP=api|scheduler|composer|mailer|inbound   one service (or pass the name as the first argument)
#   APP=migrate                                 migrations, then idempotent seed data; exits
#   APP=migrate-only                            migrations only (e.g. before a rollback test)
#   mz <command> [options]                      the operator CLI (docs/operations.md, "Operator CLI"),
#                                               e.g. `docker run --env-file … mentor-zero mz schedule-now`;
#                                               its exit code is the container's (0 ok, 1 failed, 2 usage)
# Workers never migrate on start: migrations run once, in their own container (docker/compose.yaml
# service `migrate`, k8s Job `mentor-zero-migrate`).
set -eu

# the image keeps this script in /app/docker; dist/ is beside it
cd "$(dirname "$0")/.."

# `mz` as the first argument: the rest are the CLI's. APP=mz: every argument is the CLI's.
# APP=mz tells the configuration this is not the inbound service (whose certificate checks would
# otherwise apply to the CLI in production).
if [ "${1:-}" = mz ]; then
  shift
  export APP=mz
  exec node dist/apps/ops/src/main.js "$@"
fi
if [ "${APP:-}" = mz ]; then
  exec node dist/apps/ops/src/main.js "$@"
fi

app="${1:-${APP:-}}"
# the services' configuration checks what concerns one service only by this name
export APP="$app"

case "$app" in
  api | scheduler | composer | mailer | inbound)
    exec node "dist/apps/$app/src/main.js"
    ;;
  migrate)
    node dist/libs/db/src/cli.js migrate
    exec node dist/libs/db/src/cli.js seed
    ;;
  migrate-only)
    exec node dist/libs/db/src/cli.js migrate
    ;;
  *)
    echo "entrypoint: set APP to one of api, scheduler, composer, mailer, inbound, migrate, migrate-only, mz (got '${app}')" >&2
    exit 64
    ;;
esac
