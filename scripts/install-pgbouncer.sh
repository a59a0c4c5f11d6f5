#!/bin/sh
# PgBouncer >= 1.21 for the Cluster + PgBouncer tests (transaction mode with named prepared
# statements needs max_prepared_statements, which Debian bookworm's 1.18 lacks). Builds Debian
# trixie's 1.24.1 source, checked against its sha256, into /opt/pgbouncer-1.24 — about 25 s on
# two cores. Does nothing when that binary is already there. Needs root (apt-get, /opt).
set -eu

PREFIX=${PGBOUNCER_PREFIX:-/opt/pgbouncer-1.24}
VERSION=1.24.1
SHA256=da72a3aba13072876d055a3e58dd4aba4a5de4ed6148e73033185245598fd3e0
URL=http://deb.debian.org/debian/pool/main/p/pgbouncer/pgbouncer_${VERSION}.orig.tar.gz

if [ -x "$PREFIX/bin/pgbouncer" ]; then
  exit 0
fi

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends build-essential libevent-dev libssl-dev pkg-config libc-ares-dev curl ca-certificates >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsSL "$URL" -o "$work/pgbouncer.tar.gz"
echo "$SHA256  $work/pgbouncer.tar.gz" | sha256sum -c - >/dev/null
tar -xzf "$work/pgbouncer.tar.gz" -C "$work"
cd "$work/pgbouncer-$VERSION"
./configure --prefix="$PREFIX" --without-systemd >/dev/null
make -j2 >/dev/null
$SUDO make install >/dev/null
"$PREFIX/bin/pgbouncer" --version
