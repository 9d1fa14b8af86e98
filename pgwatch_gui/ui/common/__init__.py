"""What every UI feature shares: the connection hub, the task runner and small widgets."""
