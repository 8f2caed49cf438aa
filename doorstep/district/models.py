"""The district keeps no tables of its own: its board and report add up the towns' counters."""
