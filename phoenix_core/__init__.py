"""phoenix-core: the verb-first dispatcher that manager plugins plug into."""

__version__ = "0.2.0"
