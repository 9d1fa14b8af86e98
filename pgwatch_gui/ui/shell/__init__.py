"""The application shell: start-up, the main window, the event screen, About, the smoke test."""
