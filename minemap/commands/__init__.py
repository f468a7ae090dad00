"""The ``minemap`` commands, one module each; each module's click command is ``command``."""
