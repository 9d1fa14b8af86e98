"""PySide6 widgets and models. No SQL text here: every database call goes through core."""
