#!/usr/bin/env bash
# Installs the Debian 12 packages chaosplus needs to build, test and run. Idempotent: installs only
# what is missing, and says nothing when everything is there. Needs root (or sudo).
# libssl-dev gives the load engine TLS (https://); openssl (the tool) and nginx-light serve the
# load engine's TLS test, which makes a self-signed certificate and serves it from a private nginx.
# nftables and iproute2 serve the kernel-level network faults; nodejs and npm run the test that
# drives the fault proxy with the published Toxiproxy client. Node.js is only checked for being
# there: a newer one installed some other way is kept.
# postgresql-15, patroni, python3-etcd (Patroni's etcd and etcd3 DCS both import it), etcd-server and
# etcd-client serve the PostgreSQL HA lab (scripts/services/pg-ha-lab.sh); postgresql-contrib gives
# pg_amcheck; libpq-dev the SQL probe and the write workload.
# The host faults: stress-ng burns CPU and stresses I/O; fuse3 and libfuse3-dev give the I/O faults'
# pass-through file system; libfaketime skews the clock a started target sees (faketime the tool,
# for trying it by hand); acl, attr and libacl1-dev/libattr1-dev read and restore ACLs and extended
# attributes byte for byte; e2fsprogs (chattr, lsattr) the immutable flag; passwd (usermod) locks
# accounts.
# Record and show: chromium (headless) drives the dashboard and the HTML reports in the tests, with
# fonts-dejavu-core so pages draw text; Chart.js comes from npm (web/package.json, `npm ci` below) and
# is compiled into the binary, so reports open offline.
set -euo pipefail
cd "$(dirname "$0")/.."

# The chart code the build embeds (src/report/CMakeLists.txt), at the version web/package-lock.json pins.
install_web_assets() {
  [ -f web/node_modules/chart.js/dist/chart.umd.js ] && return 0
  echo "setup: npm ci in web/"
  (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

packages=(
  g++ cmake ninja-build ccache pkg-config
  libgtest-dev libgmock-dev clang-format clang-tidy
  libyaml-cpp-dev nlohmann-json3-dev libvalijson-dev libcli11-dev
  libsqlite3-dev sqlite3 libssl-dev
  curl procps iproute2 nftables openssl nginx-light redis-server util-linux
  nodejs npm
  postgresql-15 postgresql-contrib libpq-dev patroni python3-etcd python3-psycopg2 etcd-server etcd-client
  libcurl4-openssl-dev
  stress-ng fuse3 libfuse3-dev libfaketime faketime acl attr libacl1-dev libattr1-dev e2fsprogs passwd
  chromium fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  case $p in nodejs|npm) command -v "$p" >/dev/null 2>&1 && continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  install_web_assets
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_web_assets
