"""The queue's rules: statuses and legal moves, money, ticket codes, wait estimates.

Nothing here does I/O or imports Flask, SQLAlchemy or Socket.IO, so every rule is
table-tested on its own (tests/unit/).
"""
