"""Process limits for a server that must survive connection floods: the open-file limit and the connection cap.

Every TCP connection, upstream connection, store connection and log file is a descriptor. Containers often start
with a soft limit of 1,024 under a much higher hard limit; raising the soft limit to the hard one is allowed
without privileges, and the connection cap keeps a reserve of descriptors for our own outgoing connections, so
a flood of callers can never take the ones the answers need.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)

# Descriptors kept for everything that is not a caller's connection: upstream pools, Redis, PostgreSQL, logs.
DESCRIPTOR_RESERVE = 512
MIN_CONNECTIONS = 64
# An unlimited hard limit cannot be the soft limit (the kernel's nr_open caps it); this is what we ask for then.
UNLIMITED_TARGET = 1 << 20


def raise_open_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit where allowed (logged); the soft limit in force after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("open-file limit stays at %d (raising it to %d failed: %s)", soft, target, exc)
            return soft
        log.info("open-file limit raised from %d to %d", soft, target)
        return target
    return soft if soft != resource.RLIM_INFINITY else UNLIMITED_TARGET


def connection_cap(configured: int | None) -> int:
    """The most caller connections to accept: the configured cap, else the open-file limit less the reserve."""
    if configured is not None:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = UNLIMITED_TARGET if soft == resource.RLIM_INFINITY else soft
    return max(limit - DESCRIPTOR_RESERVE, MIN_CONNECTIONS)
