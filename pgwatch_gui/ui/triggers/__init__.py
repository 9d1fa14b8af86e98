"""The trigger manager in the window: the tables dock, the install dialog, the SQL console."""
