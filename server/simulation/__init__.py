"""A simulated spa day through the real protocol (`python -m server simulate`): a seeded model of
the day (`model`), the clients that play it (`driver`), the invariants checked afterwards
(`checks`) and the figures (`summary`)."""
