#!/usr/bin/env bash
# Start the course's JupyterHub in the foreground, as root (docs/hub.md; `make hub` runs
# tools/install_hub.sh first). Ctrl-C or SIGTERM stops it, its proxy and every user's server.
# Settings (environment): COURSE_HUB_IP (127.0.0.1), COURSE_HUB_PORT (8000),
# COURSE_HUB_API_PORT (8081), COURSE_PROXY_API_PORT (8001), COURSE_HOME
# (/opt/multiclass-digits), COURSE_HUB_STATE (/srv/jupyterhub).
set -euo pipefail

COURSE_HOME="${COURSE_HOME:-/opt/multiclass-digits}"
COURSE_HUB_STATE="${COURSE_HUB_STATE:-/srv/jupyterhub}"
export COURSE_HOME COURSE_HUB_STATE

[ "$(id -u)" -eq 0 ] || { echo "start_hub: run as root (PAM logins, one process per account)" >&2; exit 1; }
[ -x "$COURSE_HOME/env/bin/jupyterhub" ] || { echo "start_hub: no $COURSE_HOME/env: run tools/install_hub.sh first" >&2; exit 1; }

# The hub's state (database, cookie secret, proxy token, pid files): root only.
umask 077
install -d -m 0700 "$COURSE_HUB_STATE"
chmod 0700 "$COURSE_HUB_STATE"
if [ ! -s "$COURSE_HUB_STATE/proxy_token" ]; then
    "$COURSE_HOME/env/bin/python" -c 'import secrets; print(secrets.token_hex(32))' > "$COURSE_HUB_STATE/proxy_token"
fi
chmod 0600 "$COURSE_HUB_STATE/proxy_token"

cd "$COURSE_HUB_STATE"
echo "start_hub: http://${COURSE_HUB_IP:-127.0.0.1}:${COURSE_HUB_PORT:-8000}/ (state in $COURSE_HUB_STATE)" >&2
exec "$COURSE_HOME/env/bin/jupyterhub" -f "$COURSE_HOME/jupyterhub_config.py"
