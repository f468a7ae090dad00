"""`--engine dask` starts no server that another machine can reach.

Dask's local cluster starts a web dashboard by default, listening on every
interface without authentication (whenever bokeh is installed, as it is for these
tests). minemap's own cluster has no scheduler dashboard, and nothing it starts
listens on any address but the loopback.
"""

from __future__ import annotations

import contextlib
import ipaddress

import bokeh  # noqa: F401 - Dask starts its dashboard only with bokeh (a test dependency)
import psutil  # distributed depends on it

from minemap import engine


def _listening() -> list[tuple[str, int]]:
    """Addresses this process listens on (TCP)."""
    return [
        (c.laddr.ip, c.laddr.port)
        for c in psutil.Process().net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]


def test_local_dask_cluster_listens_on_loopback_only():
    before = set(_listening())
    with engine._client(None) as client:
        during = set(_listening()) - before
        assert client.cluster is not None  # a cluster of our own, started for the call
    assert during, "the cluster's web servers were expected (bound to the loopback)"
    outside = [(ip, port) for ip, port in during if not ipaddress.ip_address(ip).is_loopback]
    assert outside == [], f"listening beyond this machine: {outside}"


def test_dask_run_starts_no_dashboard(monkeypatch):
    """A whole `remaining` on Dask: the cluster it starts has no outside listener."""
    import minemap as mm
    from minemap import datasets

    seen = []
    original = engine._client

    def watching(scheduler):
        with original(scheduler) as client:
            seen.append([ip for ip, _ in _listening() if not ipaddress.ip_address(ip).is_loopback])
            yield client

    monkeypatch.setattr(engine, "_client", contextlib.contextmanager(watching))
    hazards = datasets.hazards().iloc[:40]
    rem = mm.remaining(hazards, datasets.releases().iloc[:0], engine="dask")
    assert len(rem) == len(hazards)
    assert seen == [[]]
