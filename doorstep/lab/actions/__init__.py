"""The lab's writes, by aggregate (as Zulip splits its actions):

- ``results``: a result row recorded, corrected or refused. Each row is its own transaction;
  the tube is locked (``SELECT … FOR UPDATE``) before it is read, so two receivers sending the
  same tube's result one after the other see each other's.
- ``retests``: the retest loop (orders made, taken by the next single tube, resulted, the
  loop closed). These run inside the transaction of the result or the scan that causes them,
  under the lock that writer holds; they take none of their own.
"""
