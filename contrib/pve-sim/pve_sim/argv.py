"""Parse the argument list of a tool without a schema here (pveam, pveversion).

pct, qm, pvesm, pveum and pvesh are parsed against Proxmox's API schema instead (getopts.py).
Positional ids come first; options are `--opt value`, `-opt value` or `--opt=value`; boolean
options may omit their value and accept 1|0|yes|no|true|false|on|off in any case; everything
after `--` is passed through untouched (`pct exec <id> -- cmd ...`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TRUE = {"1", "yes", "true", "on"}
FALSE = {"0", "no", "false", "off"}

# The boolean options of the tools still parsed here; pct, qm, pvesm, pveum and pvesh take
# theirs from the API schema (getopts.py).
BOOLEAN = {"verbose", "v"}


class UsageError(ValueError):
    """The argument list does not parse; the message is what the real tool prints."""


@dataclass
class Args:
    """A parsed command line: positionals, options in order (repeatable), and the `--` tail."""

    positional: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    rest: list[str] = field(default_factory=list)
    cwd: str = "/"
    #: What the caller wrote on stdin, when the tool reads it (shim.STDIN_TOOLS, and
    #: `qm guest exec --pass-stdin`); None otherwise.
    stdin: str | None = None
    #: The executable's name (the NVIDIA runfile's name carries its version).
    tool: str = ""

    def get(self, key: str, default: str | None = None) -> str | None:
        """The last value given for an option."""
        for name, value in reversed(self.options):
            if name == key:
                return value
        return default

    def flag(self, key: str) -> bool:
        """True when a boolean option was given as true."""
        value = self.get(key)
        return value is not None and value.lower() in TRUE | {"1"}

    def pop(self, key: str) -> str | None:
        """Remove an option (all occurrences) and return its last value."""
        value = self.get(key)
        self.options = [(k, v) for k, v in self.options if k != key]
        return value

    def params(self) -> list[tuple[str, str]]:
        """The options as API parameters, booleans normalised to 1/0."""
        out = []
        for key, value in self.options:
            if key in BOOLEAN and value.lower() in TRUE:
                value = "1"
            elif key in BOOLEAN and value.lower() in FALSE:
                value = "0"
            out.append((key, value))
        return out


def parse(argv: list[str]) -> Args:
    """Split argv (without the tool and subcommand) into positionals, options and the tail."""
    args = Args()
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            args.rest = argv[i + 1 :]
            break
        if token.startswith("-") and len(token) > 1 and not _is_number(token):
            name = token.lstrip("-")
            value: str | None = None
            if "=" in name:
                name, value = name.split("=", 1)
            elif name in BOOLEAN:
                nxt = argv[i + 1] if i + 1 < len(argv) else None
                if nxt is not None and nxt.lower() in TRUE | FALSE:
                    value = nxt
                    i += 1
                else:
                    value = "1"
            else:
                if i + 1 >= len(argv):
                    raise UsageError(f"400 not enough arguments\n{token}: missing value\n")
                value = argv[i + 1]
                i += 1
            args.options.append((name, value))
        else:
            args.positional.append(token)
        i += 1
    return args


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
