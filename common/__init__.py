"""What the server, the appliance and the screens share, with no dependency on any of them.

``wire`` is the contract on the wire (error codes and their retry class, limits, payment
methods, device states); ``logs`` the one JSON log format; ``sdnotify`` systemd's readiness and
watchdog protocol. Nothing here imports Flask, SQLAlchemy, Socket.IO, a hardware library, or
any other package of this project.
"""
