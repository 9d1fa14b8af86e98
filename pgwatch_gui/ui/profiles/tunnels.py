"""What the profiles dock does for SSH profiles.

Connecting a profile with a tunnel: its secret is read from the keyring off the GUI
thread, the tunnel opens first (so an unknown host key is asked about before any
listener runs: the fingerprint, non-modal, recorded only on Yes, then connect again),
and the listener gets the tunnel as its route. The listener's string then points at
the tunnel, and the console, queue monitor and trigger browser of the profile, which
take the hub's string, share it; the tunnel reopens with the listener and closes
with it; its failures show in the profile's status.

The tunnel's code (asyncssh and cryptography: about 22 MB resident and 100 ms to import)
is loaded when the first profile with a tunnel connects, on the thread that reads its
secret, not by every window.
"""

from __future__ import annotations

import asyncio

from pgwatch_gui.core.profiles.model import Profile
from pgwatch_gui.core.ssh.errors import HostKeyUnknown, TunnelError
from pgwatch_gui.ui.profiles.ssh_tab import ask_trust_host_key


def _secret_and_route_class(panel, name: str):
    """Off the GUI thread: the profile's SSH secret (the keyring) and TunnelRoute (its
    import loads asyncssh)."""
    from pgwatch_gui.core.ssh.route import TunnelRoute

    return panel.store.ssh_secrets.get(name), TunnelRoute


async def open_through_tunnel(panel, name: str, profile: Profile, channels: list[str],
                              conninfo: str) -> None:
    """Open `profile`'s listener in the hub through its tunnel."""
    secret, TunnelRoute = await asyncio.to_thread(_secret_and_route_class, panel, name)
    try:
        route = TunnelRoute(conninfo, profile.ssh_settings(), secret=secret)
    except TunnelError as exc:
        panel.show_notes([f"{name}: {exc}"])
        return
    through = conninfo
    try:
        through = await route.conninfo()
    except HostKeyUnknown as err:
        await route.close()
        panel.host_key_box = ask_trust_host_key(
            panel, err, lambda: panel.connect_profile(name, channels=channels))
        return
    except TunnelError:
        pass  # the listener tries again and its status says why it fails
    if name in panel.hub.names():  # opened meanwhile (a double click while waiting)
        await route.close()
        return
    panel.hub.open(name, through, channels, route=route)
