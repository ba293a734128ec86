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

# The test tiers install debug builds of gnsm into the system PostgreSQL directories (pgrx installs
# nowhere else), where a running user cluster may have loaded the release build. keep_installed_gnsm
# renames the installed files aside in their own directories (a rename keeps the inode that running
# backends mapped, and a dot name is invisible to PostgreSQL); restore_installed_gnsm removes what
# the tests installed and renames the kept files back, leaving the installation as it was
# (including "no gnsm at all"). A run killed in between is healed by the next one's keep step.
GNSM_KEPT_PREFIX=".kept-by-gnsm-tests."
installed_gnsm_files() {
    local lib ext
    lib="$("$PG_CONFIG" --pkglibdir)"; ext="$("$PG_CONFIG" --sharedir)/extension"
    ls -d "$lib"/gnsm.so "$ext"/gnsm.control "$ext"/gnsm--*.sql 2>/dev/null || true
}
kept_gnsm_files() {
    local lib ext
    lib="$("$PG_CONFIG" --pkglibdir)"; ext="$("$PG_CONFIG" --sharedir)/extension"
    ls -d "$lib/$GNSM_KEPT_PREFIX"* "$ext/$GNSM_KEPT_PREFIX"* 2>/dev/null || true
}
# installed_gnsm_fingerprint: one checksum over the installed gnsm files and their names.
installed_gnsm_fingerprint() {
    local f out=""
    for f in $(installed_gnsm_files); do out+="$(basename "$f") $(sha256sum <"$f" | cut -c1-16)\n"; done
    printf '%b' "${out:-none}" | sha256sum | cut -c1-16
}
GNSM_KEEPING=0
keep_installed_gnsm() {
    local f
    # an earlier run was killed between the two steps: put its kept files back first
    if [ -n "$(kept_gnsm_files)" ]; then GNSM_KEEPING=1; restore_installed_gnsm; fi
    for f in $(installed_gnsm_files); do mv "$f" "$(dirname "$f")/$GNSM_KEPT_PREFIX$(basename "$f")"; done
    GNSM_KEEPING=1
}
restore_installed_gnsm() {
    local f
    [ "$GNSM_KEEPING" = 1 ] || return 0   # once only: a second call must not delete the restored files
    GNSM_KEEPING=0
    for f in $(installed_gnsm_files); do rm -f "$f"; done
    for f in $(kept_gnsm_files); do mv "$f" "$(dirname "$f")/$(basename "$f" | sed "s/^$GNSM_KEPT_PREFIX//")"; done
}
