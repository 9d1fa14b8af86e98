"""Qt-free heart of pgwatch-gui: asyncio + psycopg, tested without a display."""
