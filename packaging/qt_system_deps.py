"""Before the window starts on Linux: does Qt's xcb platform plugin find every shared library?

Qt only says "could not load the Qt platform plugin xcb" and names one library at best
(the real culprit shows only with QT_DEBUG_PLUGINS=1). This runs ``ldd`` on the plugin
inside the installed PySide6, maps each missing library to its Debian/Ubuntu package,
installs them with apt-get when run as root on such a system, and otherwise prints one
message naming the packages and the command. Exit status 0: nothing missing (or now
installed); 1: something is missing. ``--dry-run``: report only, install nothing.

    python packaging/qt_system_deps.py [--dry-run]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = {  # library soname -> Debian/Ubuntu package
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
}
PLUGIN = Path("Qt") / "plugins" / "platforms" / "libqxcb.so"


def plugin_path() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / PLUGIN
    return path if path.is_file() else None


def missing_libraries(plugin: Path) -> list[str]:
    """Sonames ``ldd`` reports as not found (the plugin's and Qt's own dependencies)."""
    out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, check=False).stdout
    names = [line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line]
    return sorted(set(names))


def packages_for(libraries: list[str]) -> list[str]:
    return sorted({PACKAGES.get(lib, lib) for lib in libraries})


def main(argv: list[str]) -> int:
    if not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        return 0
    if os.environ.get("QT_QPA_PLATFORM", "xcb").split(":")[0] not in ("xcb", ""):
        return 0  # offscreen, wayland...: the xcb plugin is not the one that will load
    plugin = plugin_path()
    if plugin is None:
        return 0  # no xcb plugin (a Wayland-only build): nothing to check
    missing = missing_libraries(plugin)
    if not missing:
        return 0
    packages = packages_for(missing)
    command = "apt-get install -y " + " ".join(packages)
    apt = shutil.which("apt-get") is not None
    if apt and os.geteuid() == 0 and "--dry-run" not in argv:
        print(f"Qt's window plugin needs {', '.join(missing)}: installing {' '.join(packages)}", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        # --reinstall: a package dpkg lists as installed whose library file is gone is restored too
        install = ["apt-get", "install", "-y", "--reinstall", "--no-install-recommends", *packages]
        if subprocess.run(install, env=env).returncode:
            subprocess.run(["apt-get", "update"], env=env, check=False)
            subprocess.run(install, env=env, check=False)
        if not missing_libraries(plugin):
            return 0
    how = f"sudo {command}" if apt else f"your package manager (Debian/Ubuntu names: {' '.join(packages)})"
    print(
        f"CRAGRU Studio cannot open a window: Qt's xcb plugin is missing {', '.join(missing)}. "
        f"Install them with: {how}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
