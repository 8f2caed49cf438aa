"""The demo: a synthetic town on its third round of testing, with one user per role.

The top floor beside ``simulate``: it builds rows through every app's actions, and no app
imports it (the simulator borrows its town builder).
"""
