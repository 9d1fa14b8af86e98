"""Connection profiles in the window: the dock, the profile dialog and the connection test."""
