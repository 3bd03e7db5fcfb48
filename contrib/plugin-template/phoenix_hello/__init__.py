"""phoenix-hello: copy this directory to start a phoenix plugin (see docs/plugins/tutorial.md)."""
