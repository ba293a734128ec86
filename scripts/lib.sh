# shellcheck shell=bash
# Shared set-up for scripts/demo and scripts/test: installs what a fresh Debian 12 machine lacks.
# Every step is skipped when already done, so warm runs cost seconds.

PG_MAJOR=15                       # the only major Debian 12's apt offers here
PGRX_VERSION=0.18.1               # pgrx 0.19 needs rustc 1.96; must equal the pgrx crate version
PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
export PGRX_HOME="${PGRX_HOME:-$HOME/.pgrx}"
export DEBIAN_FRONTEND=noninteractive

# say MESSAGE: a progress line on stderr, so stdout stays the runners' own output.
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# ensure_packages: PostgreSQL 15 server + headers, clang for bindgen, sudo for --runas, pg_cron
# for the scheduled-retraining test.
ensure_packages() {
    local missing=()
    for p in postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-cron libclang-dev clang pkg-config sudo; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# ensure_pgrx: cargo-pgrx at the pinned version, initialised against the system pg_config once.
ensure_pgrx() {
    if [ "$(cargo pgrx --version 2>/dev/null)" != "cargo-pgrx $PGRX_VERSION" ]; then
        say "installing cargo-pgrx $PGRX_VERSION (about 6 minutes, once)"
        cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
    fi
    # init rewrites config.toml, which pgrx-pg-sys watches: re-running it costs a 75 s rebuild
    [ -f "$PGRX_HOME/config.toml" ] || cargo pgrx init --pg$PG_MAJOR "$PG_CONFIG"
}

# ensure_toolchain: everything a build needs.
ensure_toolchain() {
    ensure_packages
    ensure_pgrx
}

# ensure_cargo_fuzz: cargo-fuzz at a pinned version (fuzz smoke tier; about 2 minutes, once).
CARGO_FUZZ_VERSION=0.13.1
ensure_cargo_fuzz() {
    if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
        say "installing cargo-fuzz $CARGO_FUZZ_VERSION (about 2 minutes, once)"
        cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
    fi
}
