"""Subcommands that `pct` and `qm` share word for word, parameterised by the guest kind.

Both CLIs sit on the same pve-guest-common code for power actions, snapshot listing and
deletion, and unlock; only the API path (`lxc` or `qemu`) and the usage text differ.
"""

from __future__ import annotations

from collections.abc import Callable

from . import formats
from .argv import Args
from .common import Handler, call, task, vmid_of
from .node import Node
from .result import Result

Locate = Callable[[Node, Args], tuple[int, str]]


def locator(kind: str) -> Locate:
    """`(vmid, API path)` of the guest named by the first positional, which must exist."""

    def locate(node: Node, args: Args) -> tuple[int, str]:
        vmid = vmid_of(args.positional[0])
        node.require(vmid, kind)
        return vmid, f"/nodes/{node.name}/{kind}/{vmid}"

    return locate


def power(locate: Locate, tool: str, action: str, usage: str) -> Handler:
    """`<tool> <action> <vmid>`: POST status/<action>, synchronous like the CLI."""

    async def run(node: Node, args: Args) -> Result:
        _, path = locate(node, args)
        upid = await call(node, "POST", f"{path}/status/{action}", args.params(), usage)
        return await task(node, upid)

    run.__doc__ = f"`{tool} {action} <vmid>`: POST status/{action}, synchronous like the CLI."
    return run


def listsnapshot(locate: Locate) -> Handler:
    async def run(node: Node, args: Args) -> Result:
        _, path = locate(node, args)
        return Result(0, formats.snapshot_tree(await call(node, "GET", f"{path}/snapshot")))

    return run


def delsnapshot(locate: Locate) -> Handler:
    async def run(node: Node, args: Args) -> Result:
        _, path = locate(node, args)
        upid = await call(node, "DELETE", f"{path}/snapshot/{args.positional[1]}", args.params())
        return await task(node, upid)

    return run


def unlock(locate: Locate) -> Handler:
    """No API can clear a lock (fakepve.md §0): the owner process does it directly."""

    async def run(node: Node, args: Args) -> Result:
        vmid, _ = locate(node, args)
        node.pve.unlock(vmid)
        return Result()

    return run
