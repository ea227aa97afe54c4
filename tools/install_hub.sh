#!/usr/bin/env bash
# Install what the course's JupyterHub needs (docs/hub.md), as root, idempotently: a second
# run that finds everything in place takes a few seconds.
#   - the course environment in $COURSE_HOME/env (default /opt/multiclass-digits/env, readable
#     by every account): a venv of Debian's /usr/bin/python3.11 with requirements.txt,
#     deploy/requirements-hub.txt and this project (utils, public_tests, grading) installed as
#     a copy, so no account needs to read this checkout;
#   - the Jupyter settings every account gets (deploy/jupyter -> env/etc/jupyter) and the two
#     role folders (deploy/roles -> $COURSE_HOME/roles), the hub's config;
#   - configurable-http-proxy from npm at the version deploy/proxy/package-lock.json pins;
#   - the students' Submit for grading button, a JupyterLab extension built from deploy/labextension
#     (tools/build_labextension.sh: npm ci as its package-lock.json pins, then jupyter labextension build);
#   - bubblewrap for the sandboxed grader (tools/install_sandbox.sh);
#   - nbgrader's exchange root $COURSE_EXCHANGE (default /srv/nbgrader/exchange).
# apt-get installs python3.11, its venv module and Node.js only where they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

COURSE_HOME="${COURSE_HOME:-/opt/multiclass-digits}"
COURSE_EXCHANGE="${COURSE_EXCHANGE:-/srv/nbgrader/exchange}"
PYTHON=/usr/bin/python3.11
ENV="$COURSE_HOME/env"
PROXY="$COURSE_HOME/proxy"
NODE_MAJOR_MIN=20  # configurable-http-proxy 5 needs Node.js 20 or later

log() { echo "install_hub: $*"; }
die() { echo "install_hub: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it creates $COURSE_HOME, $COURSE_EXCHANGE and, later, Unix accounts)"
root_home=$(getent passwd 0 | cut -d: -f6)  # root's home (mode 700 on Debian)
case "$COURSE_HOME/" in "${root_home:-/root}"/*) die "COURSE_HOME=$COURSE_HOME is under root's home ${root_home:-/root}, which other accounts cannot read";; esac
umask 022

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$@" || { apt-get update -q && apt-get install -y -q "$@"; }
}

# ---- Debian's Python 3.11 with its venv module
if [ ! -x "$PYTHON" ] || ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    log "installing python3.11 and python3.11-venv with apt-get"
    apt_install python3.11 python3.11-venv
fi

# ---- the course environment
sha() { cat "$@" | sha256sum | cut -d' ' -f1; }
REQ_SUM="$( { "$PYTHON" --version; cat requirements.txt deploy/requirements-hub.txt; } | sha256sum | cut -d' ' -f1)"
PROJECT_FILES=(pyproject.toml README.md)
while IFS= read -r f; do PROJECT_FILES+=("$f"); done < <(
    find utils public_tests grading jupyter-config -type f ! -path '*/__pycache__/*' ! -name '*.pyc' | LC_ALL=C sort)
PROJECT_SUM="$( { printf '%s\n' "${PROJECT_FILES[@]}"; cat "${PROJECT_FILES[@]}"; } | sha256sum | cut -d' ' -f1)"

mkdir -p "$COURSE_HOME"
CHANGED=0  # something was installed: make it readable by every account at the end
if [ ! -x "$ENV/bin/python" ]; then
    log "creating the course environment $ENV from $PYTHON"
    "$PYTHON" -m venv "$ENV"
    "$ENV/bin/python" -m pip install --quiet --upgrade pip
fi
if [ "$(cat "$ENV/.requirements.sha256" 2>/dev/null)" != "$REQ_SUM" ]; then
    log "installing requirements.txt and deploy/requirements-hub.txt into $ENV"
    reqs="$(mktemp)"
    grep -v '^-e ' requirements.txt > "$reqs"  # the project itself is installed below, as a copy
    "$ENV/bin/python" -m pip install --quiet -r "$reqs" -r deploy/requirements-hub.txt
    rm -f "$reqs"
    echo "$REQ_SUM" > "$ENV/.requirements.sha256"
    CHANGED=1
    rm -f "$ENV/.project.sha256"
fi
if [ "$(cat "$ENV/.project.sha256" 2>/dev/null)" != "$PROJECT_SUM" ]; then
    log "installing this project (utils, public_tests, grading) into $ENV"
    build="$(mktemp -d)"
    cp -r --parents "${PROJECT_FILES[@]}" "$build/"
    "$ENV/bin/python" -m pip install --quiet --no-deps --force-reinstall "$build"
    rm -rf "$build"
    echo "$PROJECT_SUM" > "$ENV/.project.sha256"
    CHANGED=1
fi

# ---- Jupyter settings (every account), role folders, hub config: copied on every run
install -d "$ENV/etc/jupyter/labconfig" "$ENV/etc/jupyter/jupyter_server_config.d"
install -m 0644 deploy/jupyter/labconfig/page_config.json "$ENV/etc/jupyter/labconfig/page_config.json"
install -m 0644 deploy/jupyter/jupyter_server_config.d/zz-multiclass-digits.json \
    "$ENV/etc/jupyter/jupyter_server_config.d/zz-multiclass-digits.json"
# (a jupyter_server_config.d file sets only which extensions load; the rest is read from here:
# terminals are an interactive bash, not a login shell whose /etc/profile resets PATH)
install -m 0644 deploy/jupyter/jupyter_server_config.json "$ENV/etc/jupyter/jupyter_server_config.json"
sed "s|@EXCHANGE_ROOT@|$COURSE_EXCHANGE|" deploy/jupyter/nbgrader_config.py.in > "$ENV/etc/jupyter/nbgrader_config.py"
chmod 0644 "$ENV/etc/jupyter/nbgrader_config.py"
install -d "$ENV/share/jupyter/lab/settings"  # JupyterLab defaults: no news or update toasts
install -m 0644 deploy/jupyter/overrides.json "$ENV/share/jupyter/lab/settings/overrides.json"
rm -rf "$COURSE_HOME/roles.new"
cp -r deploy/roles "$COURSE_HOME/roles.new"
rm -rf "$COURSE_HOME/roles"
mv "$COURSE_HOME/roles.new" "$COURSE_HOME/roles"
install -m 0644 deploy/jupyterhub_config.py "$COURSE_HOME/jupyterhub_config.py"
# the nbgrader config deploy/grade.py grades with (root's: the course folder's copy is the instructor's)
install -o root -g root -m 0644 nbgrader_config.py "$COURSE_HOME/nbgrader_config.py"

# ---- configurable-http-proxy, as the lock file pins it
node_major() { node -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    log "installing Node.js and npm with apt-get"
    apt_install nodejs npm
fi
[ "$(node_major)" -ge "$NODE_MAJOR_MIN" ] || die "configurable-http-proxy needs Node.js $NODE_MAJOR_MIN or later, found $(node --version) (Debian 12's nodejs is 18: install Node.js 20 or later first)"
LOCK_SUM="$(sha deploy/proxy/package.json deploy/proxy/package-lock.json)"
if [ "$(cat "$PROXY/.lock.sha256" 2>/dev/null)" != "$LOCK_SUM" ] || [ ! -x "$PROXY/node_modules/.bin/configurable-http-proxy" ]; then
    log "installing configurable-http-proxy into $PROXY (npm ci)"
    rm -rf "$PROXY"
    mkdir -p "$PROXY"
    cp deploy/proxy/package.json deploy/proxy/package-lock.json "$PROXY/"
    (cd "$PROXY" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
    echo "$LOCK_SUM" > "$PROXY/.lock.sha256"
    CHANGED=1
fi

# ---- the students' "Submit for grading" button (deploy/labextension), built with the course
# environment's JupyterLab into $ENV/share/jupyter/labextensions/; skipped (a checksum) when its
# sources, lock file and JupyterLab version are those of the installed build
built_before="$(cat "$ENV/share/jupyter/labextensions/@multiclass-digits/submit/.source.sha256" 2>/dev/null || true)"
bash "$REPO/tools/build_labextension.sh" "$ENV"
[ "$(cat "$ENV/share/jupyter/labextensions/@multiclass-digits/submit/.source.sha256")" = "$built_before" ] || CHANGED=1

# ---- the sandboxed grader's bubblewrap
bash "$REPO/tools/install_sandbox.sh" >/dev/null

# ---- nbgrader's exchange root: writable by every account (nbgrader's documented 0777), with
# the sticky bit, so that nobody renames or removes what another account made there
install -d -m 0755 "$(dirname "$COURSE_EXCHANGE")"
install -d -m 1777 "$COURSE_EXCHANGE"
chmod 1777 "$COURSE_EXCHANGE"

if [ "$CHANGED" = 1 ]; then chmod -R a+rX,go-w "$COURSE_HOME"; else chmod -R a+rX,go-w "$COURSE_HOME/roles" "$ENV/etc/jupyter" "$ENV/share/jupyter/lab/settings"; fi
chmod 0755 "$COURSE_HOME" "$ENV"
hub_version="$("$ENV/bin/python" -c 'import importlib.metadata as m; print(m.version("jupyterhub"))')"
log "ready: $ENV (jupyterhub $hub_version), $PROXY (configurable-http-proxy $(node -p 'require(process.argv[1]).version' "$PROXY/node_modules/configurable-http-proxy/package.json")), exchange $COURSE_EXCHANGE"
