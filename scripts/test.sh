#!/usr/bin/env bash
# The project's one test command; CI runs it through .ci/run.
#
# 1. Makes sure a PostgreSQL server answers on 127.0.0.1:5432 (starting, creating or installing
#    the Debian cluster if needed), creates the database `madoguchi_test` and exports
#    MADOGUCHI_TEST_DATABASE_URL, so that every database test runs on Postgres as well as on
#    SQLite. A URL set by the caller is used as given. Without PostgreSQL the suite runs on
#    SQLite only, with a warning -- except under CI (CI set), where that is an error.
# 2. Installs Chromium, ChromeDriver and Japanese fonts for the browser tests
#    (crates/madoguchi/tests/browser; see ensure_chromium) and axe-core from the npm registry
#    into target/axe (see ensure_axe), and exports MADOGUCHI_BROWSER_TESTS=1 so that a missing
#    browser fails those tests instead of skipping them.
# 3. cargo fmt --check, cargo clippy -D warnings, cargo test, all over the workspace.
# 4. schemathesis (from PyPI, into target/schemathesis-venv) against the demo server's API with
#    a provider's token: no server errors, every response as documented (scripts/schemathesis.sh).
#    Runs even when cargo test failed; the script fails if either did.
#
# Idempotent, needs no standard input, and takes a few seconds on a machine that is already
# set up (plus cargo's own time). Meant to run as root on the project's Debian machines; as
# another user it uses `sudo -n` for apt-get and pg_ctlcluster when it can.
#
# Knobs: MADOGUCHI_TEST_DATABASE_URL (use this Postgres instead of the local one),
# MADOGUCHI_BROWSER_TESTS=0 (skip the Chromium and axe-core set-up; the browser tests then
# skip themselves), CI (make a missing database, browser or axe-core fatal).
# Sourcing this file defines the functions without running anything.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
PG_DATABASE=madoguchi_test
PG_READY_SECS=30

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}

# Runs a command as root: directly when we are root, else through non-interactive sudo.
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo -n "$@"
    else
        return 1
    fi
}

apt_install() {
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null &&
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "$@" </dev/null
}

pg_ready() {
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1
}

# psql as the postgres superuser over TCP; never prompts for a password.
pg_sql() {
    PGCONNECT_TIMEOUT=5 psql -X -w -q -At -v ON_ERROR_STOP=1 \
        -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -c "$1" </dev/null
}

# Prints "VERSION NAME" of the Debian cluster configured for $PG_PORT, if any.
pg_local_cluster() {
    command -v pg_lsclusters >/dev/null || return 0
    pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '$3 == port { print $1, $2; exit }'
}

# Lets a cluster this script set up accept passwordless TCP logins from loopback only,
# which is what the URL below (and the project's machines) expect.
pg_trust_loopback() {
    local version=$1 name=$2 hba
    hba=/etc/postgresql/$version/$name/pg_hba.conf
    [[ -f $hba ]] || return 0
    grep -q '^# madoguchi scripts/test.sh' "$hba" && return 0
    log "allowing passwordless loopback logins in $hba (cluster set up by this script)"
    as_root sed -i '1i # madoguchi scripts/test.sh: test cluster, trust loopback\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload || true
}

# Gets a local server answering on $PG_HOST:$PG_PORT and creates $PG_DATABASE.
# Returns non-zero (after saying why) when that is not possible.
ensure_local_postgres() {
    local cluster version name set_up_here=0
    if ! pg_ready; then
        if ! command -v pg_ctlcluster >/dev/null || ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
            log "PostgreSQL is not installed; installing Debian's package"
            apt_install postgresql || {
                warn "could not install PostgreSQL"
                return 1
            }
            set_up_here=1
        fi
        cluster=$(pg_local_cluster)
        if [[ -z $cluster ]]; then
            version=$(basename "$(dirname "$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -1)")")")
            name=main
            [[ -e /etc/postgresql/$version/main ]] && name=madoguchi # main is on another port
            log "creating PostgreSQL $version cluster '$name' on port $PG_PORT"
            as_root pg_createcluster --port "$PG_PORT" "$version" "$name" \
                -- --auth-local=peer --auth-host=trust >/dev/null || {
                warn "pg_createcluster failed"
                return 1
            }
            cluster="$version $name"
        fi
        if [[ $set_up_here -eq 1 ]]; then
            # shellcheck disable=SC2086 # "VERSION NAME" are two arguments
            pg_trust_loopback $cluster
        fi
        if ! pg_ready; then
            log "starting PostgreSQL cluster $cluster"
            # shellcheck disable=SC2086 # "VERSION NAME" are two arguments
            as_root pg_ctlcluster --skip-systemctl-redirect $cluster start ||
                warn "pg_ctlcluster $cluster start failed; waiting anyway"
        fi
        local waited=0
        until pg_ready; do
            if ((waited >= PG_READY_SECS)); then
                warn "PostgreSQL is not ready on $PG_HOST:$PG_PORT after ${PG_READY_SECS}s"
                return 1
            fi
            sleep 1
            waited=$((waited + 1))
        done
    fi
    local exists
    exists=$(pg_sql "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'") || {
        warn "cannot log in as postgres@$PG_HOST:$PG_PORT without a password"
        return 1
    }
    if [[ $exists != 1 ]]; then
        log "creating database $PG_DATABASE"
        pg_sql "CREATE DATABASE $PG_DATABASE" || return 1
    fi
}

# Exports MADOGUCHI_TEST_DATABASE_URL, or unsets it (SQLite only) when Postgres is unavailable.
ensure_postgres() {
    if [[ -n ${MADOGUCHI_TEST_DATABASE_URL:-} ]]; then
        # The caller chose a server: use it as given, and do not quietly fall back to SQLite.
        if command -v pg_isready >/dev/null && ! pg_isready -q -t 5 -d "$MADOGUCHI_TEST_DATABASE_URL"; then
            die "MADOGUCHI_TEST_DATABASE_URL is set but that server does not answer"
        fi
        log "PostgreSQL tests use the preset MADOGUCHI_TEST_DATABASE_URL"
        return 0
    fi
    if ensure_local_postgres; then
        export MADOGUCHI_TEST_DATABASE_URL="postgres://postgres@$PG_HOST:$PG_PORT/$PG_DATABASE"
        log "PostgreSQL tests use $MADOGUCHI_TEST_DATABASE_URL"
    elif [[ -n ${CI:-} ]]; then
        die "PostgreSQL is not available on $PG_HOST:$PG_PORT; CI must test both backends"
    else
        warn "PostgreSQL is not available: database tests run on SQLite only"
        unset MADOGUCHI_TEST_DATABASE_URL
    fi
}

# ---- Browser tests ------------------------------------------------------------------------
BROWSER_TESTS_DIR=crates/madoguchi/tests/browser

# ensure_chromium: Debian's Chromium, ChromeDriver, Japanese fonts and Chromium's Japanese
# user interface (chromium-l10n: date pickers and file choosers as Japanese users see them) for
# the headless browser tests ($BROWSER_TESTS_DIR). Called only when that directory exists and
# MADOGUCHI_BROWSER_TESTS is not 0.
ensure_chromium() {
    local packages=(chromium chromium-driver fonts-noto-cjk chromium-l10n) installed
    installed=$(dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | grep -c 'install ok installed' || true)
    if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver && $installed -eq ${#packages[@]} ]]; then
        return 0
    fi
    apt_install "${packages[@]}" || die "could not install ${packages[*]}"
}

# ensure_axe: axe-core 4 from the npm registry into target/axe, where the browser tests read
# it (node_modules/axe-core/axe.min.js). Needs npm (Debian's, installed when missing).
ensure_axe() {
    local dir="${CARGO_TARGET_DIR:-target}/axe"
    [[ -f $dir/node_modules/axe-core/axe.min.js ]] && return 0
    if ! command -v npm >/dev/null; then
        apt_install npm || die "could not install npm (for axe-core)"
    fi
    log "npm install --prefix $dir axe-core@4"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund axe-core@4 </dev/null >&2 ||
        die "could not install axe-core from the npm registry"
}
# -------------------------------------------------------------------------------------------

# ensure_python_venv: python3 with venv and pip, for the schemathesis step (scripts/
# schemathesis.sh installs schemathesis itself into target/schemathesis-venv).
ensure_python_venv() {
    if command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null; then
        return 0
    fi
    apt_install python3 python3-venv || die "could not install python3-venv"
}

# A real ClamAV daemon for the opt-in test in crates/madoguchi-core/tests/it/clamd.rs, which
# builds its own signature database (no signature download). Debian's clamav-daemon.
ensure_clamd() {
    if ! command -v clamd >/dev/null && [[ ! -x /usr/sbin/clamd ]]; then
        apt_install clamav-daemon || {
            [[ -n ${CI:-} ]] && die "could not install clamav-daemon; CI must run the ClamAV test"
            warn "clamav-daemon not available: the real-ClamAV test is skipped"
            return 0
        }
    fi
    export MADOGUCHI_TEST_CLAMD=1
}

main() {
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    if ! command -v cargo >/dev/null && [[ -x $HOME/.cargo/bin/cargo ]]; then
        PATH=$HOME/.cargo/bin:$PATH
    fi

    ensure_postgres
    ensure_clamd
    if [[ ${MADOGUCHI_BROWSER_TESTS:-1} != 0 && -d $BROWSER_TESTS_DIR ]]; then
        ensure_chromium
        ensure_axe
        # From here on a missing browser fails the browser tests instead of skipping them.
        export MADOGUCHI_BROWSER_TESTS=1
    fi

    log "cargo fmt --check"
    cargo fmt --all -- --check
    log "cargo clippy"
    cargo clippy --workspace --all-targets -- -D warnings
    log "cargo test (PostgreSQL: ${MADOGUCHI_TEST_DATABASE_URL:-not available, SQLite only})"
    local tests=ok contract=ok
    cargo test --workspace --no-fail-fast || tests=failed
    # The API contract: schemathesis against the demo server (needs the binary and Python).
    ensure_python_venv
    log "schemathesis against the demo server's /api/v1/openapi.json (scripts/schemathesis.sh)"
    if cargo build --quiet -p madoguchi; then
        scripts/schemathesis.sh "${CARGO_TARGET_DIR:-target}/debug/madoguchi" || contract=failed
    else
        contract=failed
    fi
    if [[ $tests != ok || $contract != ok ]]; then
        die "cargo test: $tests; schemathesis: $contract"
    fi
    log "cargo test: ok; schemathesis: ok"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
