"""The payload inspector: JSON, tree, diff and raw views of the selected event."""
