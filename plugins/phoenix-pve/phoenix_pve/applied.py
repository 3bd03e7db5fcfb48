"""What phoenix applied to each guest, also kept on the host: one root-only file per node.

The truth is the record inside the guest (``/var/lib/phoenix/state.json``, see
:mod:`phoenix_pve.scripts`): it travels with the guest's disk, through a backup and its
restore. Reading it costs a ``pct exec``/``qm guest exec`` per guest, so every record phoenix
reads or writes is also kept in ``/var/lib/phoenix/applied.json`` on the node (0600 in a 0700
directory: root only), with the time the guest last started. An in-sync run reads that one
file instead of every guest.

The copy speaks for a guest only while the guest has not restarted since the copy was made:
a restored backup, a recreated guest or a rollback all stop and start the guest, and then the
guest's own record is read again (and the copy refreshed). The start time is the node list's
``uptime`` as the run began, on the clock of the machine phoenix runs on, compared within
:data:`START_SLACK` seconds; for a guest the run itself started (a first build), its
``status/current`` is asked once when its record is first kept.
"""

from __future__ import annotations

import json
import posixpath
import threading
from typing import Any

from phoenix_core.errors import CommandFailed, HostError
from phoenix_core.hosts.base import node_path
from phoenix_core.hosts.dryrun import DryRunHost
from phoenix_core.logs import logger
from phoenix_pve.live import Live

#: The record's place on the node (the host decides where that is: ``/`` on a node, the
#: node directory for ``--host sim:DIR``).
RECORD = "/var/lib/phoenix/applied.json"
VERSION = 1
#: Seconds two readings of one start time may differ (uptime is whole seconds, the readings
#: are taken at different moments of different runs).
START_SLACK = 5.0

_lock = threading.Lock()


def _started(live: Live) -> float | None:
    """When the guest last started, by the snapshot's node list (None: it was not running
    then). Taken as the run began even if this run restarts the guest: a copy kept with that
    older time is not trusted by the next run, which reads the guest's record again."""
    return None if live.node is None else live.node.started(live.kind, live.vmid)


def _record(live: Live) -> dict[str, Any]:
    assert live.node is not None
    try:
        data = json.loads(live.node.file(RECORD) or "{}")
    except (OSError, HostError, ValueError):  # unreadable: only a copy, the guests say
        return {}
    return data if isinstance(data, dict) and data.get("version") == VERSION else {}


def trusted(live: Live) -> dict[str, Any] | None:
    """The kept copy of the guest's record, when it still speaks for the guest; else None."""
    if live.node is None:
        return None
    entry = _record(live).get("guests", {}).get(str(live.vmid))
    started = _started(live)
    if not isinstance(entry, dict) or started is None or entry.get("started") is None:
        return None
    if abs(float(entry["started"]) - started) > START_SLACK:
        return None
    state = entry.get("state")
    return state if isinstance(state, dict) else None


def remember(live: Live, state: dict[str, Any]) -> None:
    """Keep ``state`` (the guest's record as just read or written) in the node's copy.

    Nothing is written in a dry run, nor when the copy already says the same."""
    node = live.node
    if node is None or isinstance(live.host, DryRunHost):
        return
    started = _started(live)
    if started is None:  # started by this run: asked once, so the next run can trust the copy
        started = node.started_now(live.kind, live.vmid)
    entry = {"started": started, "state": state}
    with _lock:
        record = _record(live)
        guests = dict(record.get("guests", {}))
        if guests.get(str(live.vmid)) == entry:
            return
        guests[str(live.vmid)] = entry
        data = json.dumps({"version": VERSION, "guests": guests}, indent=1, sort_keys=True)
        target = RECORD
        try:
            _write(live, target, data)
        except (HostError, CommandFailed) as exc:
            # Only a copy: without it the next run reads each guest's own record again.
            logger.warning(
                "{}: the node's copy of what was applied is not kept: {}", live.name, exc
            )
            return
        node.put(target, data)


def _write(live: Live, target: str, data: str) -> None:
    try:
        live.host.write_file(target, data.encode(), mode=0o600)
    except HostError:  # the first record on this node: its directory is made root-only
        directory = node_path(live.host, posixpath.dirname(target))  # in DIR on sim:DIR
        live.host.change(["mkdir", "-p", "-m", "0700", "--", directory]).check()
        live.host.write_file(target, data.encode(), mode=0o600)
