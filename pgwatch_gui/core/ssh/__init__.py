"""SSH tunnels for profiles whose database sits behind a bastion (asyncssh, no Qt).

settings: what a profile says about its tunnel (host, port, user, how to log in).
known_hosts: the user's ~/.ssh/known_hosts, read and (after the user accepts) added to.
tunnel: one SSH connection with a local port forward to the database.
route: a profile's libpq string rewritten to go through its tunnel.
"""
