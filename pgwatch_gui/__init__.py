"""pgwatch-gui: a desktop monitor for PostgreSQL LISTEN/NOTIFY change streams."""

__version__ = "0.1.0"
