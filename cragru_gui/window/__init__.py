"""The main window and what it owns: its widgets and menus, the run bar, presentation mode, screen fit, the run's state
said by every view, and the files it writes (report, receipt)."""
