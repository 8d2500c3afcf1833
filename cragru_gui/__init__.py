"""CRAGRU Studio's desktop window: a thin PySide6 layer over ``core``."""

import os

# pyqtgraph must bind to PySide6 (never another Qt binding that happens to be installed).
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
