#!/usr/bin/env bash
# Set-up for the VS Code integration + UI tests on a Debian machine without a desktop VS Code
# (e.g. CI with only the npm registry and Debian's mirrors reachable). Idempotent: a second run
# takes about a second. Installs:
#   - Debian packages the harness needs (only the missing ones; needs root or sudo):
#       chromium           the browser that shows code-server's workbench (headless)
#       libkrb5-dev        gssapi.h for code-server's native `kerberos` module
#       ripgrep            Debian's rg, fed to @vscode/ripgrep so its postinstall needs no download
#       pkg-config         used by native module builds
#       fonts-dejavu-core  so the screenshots have readable text
#       g++ make python3   node-gyp, for code-server's native modules
#   - test/harness/node_modules (code-server 4.100.3 + playwright-core) from its lock file, with
#     code-server's postinstall (it runs `npm install` in lib/vscode and builds native modules).
# Needs Node 20 (code-server 4.100.3 is the newest release whose install accepts Node 20), g++,
# make and python3 (node-gyp). Set SKIP_APT=1 to skip the Debian part.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
harness="$root/test/harness"
log() { printf '[setup-test-env] %s\n' "$*"; }
T0=$(date +%s)

# ---- 1. Debian packages -------------------------------------------------------------------
if [ "${SKIP_APT:-}" != 1 ] && ! command -v apt-get >/dev/null; then
  log "no apt-get here: install chromium (or set CHROMIUM), ripgrep, pkg-config and the Kerberos headers by hand"
elif [ "${SKIP_APT:-}" != 1 ]; then
  missing=()
  for p in chromium libkrb5-dev ripgrep pkg-config fonts-dejavu-core g++ make python3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    log "apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
if [ ! -x "${CHROMIUM:-/usr/lib/chromium/chromium}" ]; then
  log "no browser at ${CHROMIUM:-/usr/lib/chromium/chromium} (install Debian's chromium or set CHROMIUM)"; exit 1
fi

# ---- 2. test/harness/node_modules ---------------------------------------------------------
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" != 20 ]; then
  log "the VS Code test harness (code-server 4.100.3) installs on Node 20 only; this is Node $(node -v). Run npm test with Node 20 (npm run sample and npm run test:unit work on Node 22 and 24 too)"
  exit 1
fi
# Installed = the lock file we installed from is unchanged and code-server's native modules exist.
stamp="$harness/node_modules/.onnxqs-harness-installed"
want="$(cat "$harness/package-lock.json" | sha256sum | cut -c1-16) node-$(node -v)"
cs="$harness/node_modules/code-server"
native_ok() {
  [ -f "$harness/node_modules/argon2/lib/binding/napi-v3/argon2.node" ] &&
  [ -f "$cs/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node" ] &&
  [ -f "$cs/lib/vscode/node_modules/node-pty/build/Release/pty.node" ] &&
  [ -x "$cs/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ] &&
  [ -d "$harness/node_modules/playwright-core" ]
}
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && native_ok; then
  log "test/harness already installed ($want)"
else
  # @vscode/ripgrep (a dependency of code-server's VS Code) downloads rg from GitHub in its
  # postinstall unless the archive is already in its cache folder: put Debian's rg there under
  # the name it looks for. (Version of @vscode/ripgrep in code-server 4.100.3: 1.15.11.)
  RG_PKG=1.15.11; RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
  rg_cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-${RG_PKG}"
  if [ ! -f "$rg_cache/$RG_ASSET" ]; then
    command -v rg >/dev/null || { log "ripgrep (rg) is missing"; exit 1; }
    mkdir -p "$rg_cache"
    tar czf "$rg_cache/$RG_ASSET" -C "$(dirname "$(command -v rg)")" rg
  fi
  # code-server's postinstall (lib/vscode `npm install` + node-gyp builds):
  #   npm_config_nodedir=/usr       Node's installed headers, no header download
  #   npm_config_unsafe_perm=true   its postinstall.sh refuses to run as root otherwise (npm 11 warns
  #                                 "Unknown env config unsafe-perm" but passes it on: harmless)
  #   npm_config_yes=true           node-pty's post-install runs `npx node-gyp`
  # npm 11's allowScripts is advisory in this release (scripts of dependencies still run, with a
  # notice); package.json's "allowScripts" approves the ones we need so a future npm that
  # blocks unreviewed scripts still runs them. The check below proves they ran.
  log "npm ci in test/harness (code-server 4.100.3 + playwright-core; builds native modules, 1-3 min)"
  (cd "$harness" && npm_config_nodedir=/usr npm_config_unsafe_perm=true npm_config_yes=true \
     npm ci --no-audit --no-fund --loglevel=warn)
  if ! native_ok; then
    # (e.g. install scripts disabled by npm config, or a future npm that blocks unreviewed ones)
    log "the install scripts did not build code-server's native modules; running them with npm rebuild"
    (cd "$harness" && npm_config_nodedir=/usr npm_config_unsafe_perm=true npm_config_yes=true \
       npm_config_ignore_scripts=false npm_config_dangerously_allow_all_scripts=true npm rebuild --loglevel=warn)
  fi
  native_ok || { log "code-server's native modules are still missing"; exit 1; }
  echo "$want" > "$stamp"
fi
log "done in $(( $(date +%s) - T0 ))s"
