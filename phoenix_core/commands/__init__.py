"""Bodies of the core verbs that print data, kept out of ``cli.py`` so it only parses."""
