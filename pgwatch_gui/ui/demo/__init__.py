"""The demo's face: start the demo session and its rate toolbar."""
