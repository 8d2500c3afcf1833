#!/usr/bin/env bash
# Try `make run`'s Qt check as a fresh Debian/Ubuntu machine would meet it: in a private
# mount namespace, Qt's xcb libraries are hidden behind an overlay (whiteouts), then the
# check runs --dry-run (expect the one-line message), as root (expect apt-get to install
# them) and --dry-run again (expect nothing missing). Needs root; the host is untouched
# apart from apt's package database, which ends up as it was (the packages reinstalled).
#   sudo unshare -m bash packaging/try_missing_xcb.sh
set -u
LIBDIR=/usr/lib/x86_64-linux-gnu
WORK=$(mktemp -d)
mkdir -p "$WORK/upper" "$WORK/work"
for lib in libxcb-cursor.so.0 libxcb-icccm.so.4; do
  for f in "$LIBDIR"/$lib*; do mknod "$WORK/upper/$(basename "$f")" c 0 0; done
done
mount -t overlay overlay -o "lowerdir=$LIBDIR,upperdir=$WORK/upper,workdir=$WORK/work" "$LIBDIR"
cd "$(dirname "$0")/.."
echo "--- hidden: message only";  .venv/bin/python packaging/qt_system_deps.py --dry-run; echo "rc=$?"
echo "--- as root: install";      .venv/bin/python packaging/qt_system_deps.py; echo "rc=$?"
echo "--- afterwards";             .venv/bin/python packaging/qt_system_deps.py --dry-run; echo "rc=$?"
