"""The stream of events: the Event, the LISTEN loop, payload views and export."""
