"""The campaign day played in simulated time: ``doorstep simulate`` and ``doorstep plan``.

``day`` is the day itself (SimPy): staff muster, teams go door to door floor by floor, residents
queue at the lanes, tubes fill and seal, boxes ride to the lab, the lab runs its plates, a
positive pool is retested at home. It records what happened in memory (``day.Record``) and tells
a recorder each step. ``system`` is the recorder that makes each step happen in Doorstep itself,
through the same actions the pages call and the same device API the scanners post to, under a
simulated clock; ``forecast`` reads the day's figures back from the database it wrote (or from
the record, for the planner's quick runs); ``plan`` searches staffings.

This package sits above every app (it drives them all, like the demo) and nothing imports it.
"""
