"""A highly available PostgreSQL for Doorstep, on one machine: three data nodes managed by
Patroni with etcd, for a demo, a drill, the failover test and the failover benchmark.

This package is a tool around the database, not part of the application: it imports nothing
of Doorstep's apps, and the application knows nothing of it (it is given a DATABASE_URL that
lists the nodes, and libpq finds the primary). ``cluster.Cluster`` builds, starts, kills and
removes a cluster; ``doorstep ha`` drives it from the command line.

Why Patroni (measured on this machine, 2026-12-04, docs/operators-guide.md): with three nodes
on loopback and the primary's node killed (its manager and its postmaster, SIGKILL), Patroni
with ttl 10 s, loop_wait 1 s and retry_timeout 3 s took writes again after 9.7 s;
pg_auto_failover took 54 s on its defaults and 9.8 s with its health checks, unhealthy and
demote timeouts tuned down. The times are alike; the difference is what happens after a
failover: pg_auto_failover's new primary passes through ``wait_primary``, with synchronous
replication off until a standby has caught up (1.5 s in that run), while Patroni in
``synchronous_mode_strict`` never commits without a synchronous standby's acknowledgement.
"""
