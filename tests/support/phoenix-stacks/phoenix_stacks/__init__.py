"""phoenix-stacks: Docker Compose stacks as phoenix targets, named (``web``, ``db``)."""
