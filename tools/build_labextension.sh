#!/usr/bin/env bash
# Build the course's JupyterLab extension (deploy/labextension: the student's "Submit for
# grading" button) with a Python environment's JupyterLab, and install the built extension into
# that environment's share/jupyter/labextensions/. Called by tools/install_hub.sh; runs alone too:
#   bash tools/build_labextension.sh ENV [PREFIX]
# ENV: a venv with jupyterlab (the course's); PREFIX: where share/jupyter/labextensions/ is
# (default ENV; another prefix for a scratch JupyterLab, put on JUPYTER_PATH as PREFIX/share/jupyter).
# Skipped when the sources, the lock file and the JupyterLab version are those of the installed
# build (a checksum beside it). The build happens in a temporary folder (npm ci, then
# `jupyter labextension build`), so nothing is written into this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

ENV="${1:?usage: build_labextension.sh ENV [PREFIX]}"
PREFIX="${2:-$ENV}"
SRC=deploy/labextension
NAME="$(node -p 'require(process.argv[1]).name' "$PWD/$SRC/package.json")"
DEST="$PREFIX/share/jupyter/labextensions/$NAME"

log() { echo "build_labextension: $*"; }
die() { echo "build_labextension: $*" >&2; exit 1; }

[ -x "$ENV/bin/jupyter-labextension" ] || die "$ENV has no jupyter-labextension (install jupyterlab there first)"
command -v npm >/dev/null 2>&1 || die "npm is missing (tools/install_hub.sh installs Node.js and npm)"

FILES=()
while IFS= read -r f; do FILES+=("$f"); done < <(find "$SRC" -type f \
    ! -path "$SRC/node_modules/*" ! -path "$SRC/build/*" | LC_ALL=C sort)
lab_version="$("$ENV/bin/python" -c 'import jupyterlab; print(jupyterlab.__version__)')"
SUM="$( { echo "jupyterlab $lab_version"; printf '%s\n' "${FILES[@]}"; cat "${FILES[@]}"; } | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$DEST/.source.sha256" 2>/dev/null)" = "$SUM" ] && [ -f "$DEST/package.json" ]; then
    exit 0
fi

log "building $NAME for JupyterLab $lab_version (npm ci, jupyter labextension build)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r --parents "${FILES[@]}" "$work/"
cd "$work/$SRC"
npm ci --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1 \
    || die "npm ci failed in $SRC (the registry unreachable, or package-lock.json out of date?):
$(tail -n 20 "$work/npm.log")"
PATH="$ENV/bin:$PATH" "$ENV/bin/jupyter-labextension" build . >"$work/build.log" 2>&1 \
    || die "jupyter labextension build failed:
$(tail -n 30 "$work/build.log")"
[ -f build/labextension/package.json ] || die "the build wrote no build/labextension/package.json"
rm -rf "$DEST.new"
mkdir -p "$(dirname "$DEST")"
cp -r build/labextension "$DEST.new"
echo "$SUM" > "$DEST.new/.source.sha256"
rm -rf "$DEST"
mv "$DEST.new" "$DEST"
log "installed $NAME into $DEST"
