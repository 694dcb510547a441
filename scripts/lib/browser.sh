# Debian's Chromium (never a downloaded browser) and web/'s Node packages
# (playwright-core drives the browser): used by the web app's end-to-end run
# and by the Bluesky OAuth test, which signs in at the genuine PDS's pages.
# Sourced by scripts/test and scripts/web-e2e.

ensure_chromium() {
    command -v chromium >/dev/null 2>&1 && return
    if [ "$(id -u)" != 0 ]; then
        echo "Chromium is missing: install Debian's 'chromium' package" >&2
        exit 1
    fi
    printf '==> %s\n' "installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
}

ensure_web_packages() {
    # Not `npm ci`: this npm leaves other platforms' optional packages (tailwind's
    # and rollup's native builds) out of the lockfile and `npm ci` then refuses;
    # `npm install` installs the locked versions all the same. `--no-save` keeps
    # it from writing those packages back into the committed lockfile.
    (cd web && npm install --no-save --no-audit --no-fund --loglevel=error)
}
