"""phoenix-hello: a complete third-party phoenix plugin to copy (see docs/plugins/tutorial.md).

It adds a kind of target, ``hello``, configured in ``phoenix_hello_configs.json``: each greeting
is a file on the node holding a message, written by ``phoenix converge`` when it differs.
"""
