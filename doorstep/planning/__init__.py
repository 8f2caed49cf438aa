"""Planning a campaign day before it comes: models of its queues, run in simulated time.

Not a Django app and imports none: it is arithmetic and a discrete-event clock (SimPy), so the
planner can run anywhere, and the tests hold it to queueing theory (``queues``) and to an
independent simulator (ciw). ``sites`` is the sampling site: residents arrive along the day's
curve and queue for its lanes; ``plan`` answers "how many lanes meet the target".

Sourced defaults (``../shared/field-guide.md``): about 85 people per lane per hour (Xi'an,
F3.2), one lane per 600-800 people (NHC, F1.4g), sampling within 6 h of the start (F1.3), a
queue target of 20 minutes (F3.7). What is assumed rather than sourced is named where it is
set.
"""
