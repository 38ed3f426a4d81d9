"""contact-sync: load contact CSV exports into calling/SMS platform contact APIs."""

__version__ = "0.1.0"
