"""The live event table: model, view, painter, filter bar, status, channels, send, recordings."""
