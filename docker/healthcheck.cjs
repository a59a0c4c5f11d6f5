'use strict';
// Container HEALTHCHECK: GET /health/live on the service's own HTTP port. The slim image has no
// curl, so node's built-in fetch does it. The port is $PORT, else the service's default port
// (docs/architecture.md §6); the table below must match the apps' defaults.
const DEFAULT_PORTS = Object.freeze({ api: 3000, inbound: 3001, scheduler: 3002, composer: 3003, mailer: 3004 });

function healthUrl(env) {
  const port = env.PORT || DEFAULT_PORTS[env.APP];
  if (!port) return undefined;
  return `http://127.0.0.1:${port}/health/live`;
}

async function main() {
  const url = healthUrl(process.env);
  if (!url) {
    // migrate containers serve nothing; compose disables the check for them.
    console.error(`healthcheck: no HTTP port for APP=${process.env.APP ?? ''}`);
    process.exit(1);
  }
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
    process.exit(res.ok ? 0 : 1);
  } catch (err) {
    console.error(`healthcheck: ${url} unreachable: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

if (require.main === module) void main();

module.exports = { DEFAULT_PORTS, healthUrl };
