"""The command centre keeps no tables of its own: it reads the counters the actions keep.

(Its public look-up's rate limit moved to ``core.limits``, shared with the other limits.)
"""
