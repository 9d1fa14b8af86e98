"""Notify triggers: spec, SQL, install and remove, the catalog, discovery, the console."""
