"""The trigger audit in the window: the Tables dock asks, a non-modal window runs it."""
